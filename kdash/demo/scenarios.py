"""The demo clinic's scenarios: what each synthetic patient is there to show.

A scenario says which screening state the patient is in, how many infusions of each course are done,
which one (if any) is pinned to the schedule day, how many are booked ahead, and how the scores and blood
pressure behave. :mod:`kdash.demo.clinic` assigns scenarios to patients, books them on the chair calendar and
writes the rows. Days are proleptic ordinals (``date.toordinal``) so the arithmetic stays plain integers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    CourseStatus,
    PatientStatus,
    ScreeningStatus,
    TrialOutcome,
)


@dataclass
class CourseSpec:
    """One course of a scenario: how far it got and where its infusions should fall (before booking)."""

    done: int  # completed infusions before the pinned / booked ones
    anchor_kind: str  # "last": last done at anchor_day; "next": first booked at anchor_day; "pin"
    anchor_day: int | None  # ordinal; None for an earlier course, set from the next course
    status: CourseStatus
    outcome: TrialOutcome  # recorded once the trial is done; PENDING otherwise
    response: str = "responder"  # responder | partial | none
    pinned: int | None = None  # ordinal the infusion after the done ones is pinned to
    ahead: int = 0  # infusions booked after the pinned one (or after the done ones)
    dropout_cancel: bool = False

    @property
    def total(self) -> int:
        return self.done + (self.pinned is not None) + self.ahead


@dataclass
class PatientSpec:
    """What a demo patient is there to show: screening state, courses, and how scores and vitals behave."""

    screening: ScreeningStatus
    courses: list[CourseSpec] = field(default_factory=list)
    patient_status: PatientStatus = PatientStatus.ACTIVE
    screened_ago: int | None = None  # screening-only patients: days before today
    screening_old: bool = False  # cleared longer ago than the re-screening interval
    rescreened: bool = False  # screened again before the last course
    relapse: bool = False
    worsening: bool = False
    item9: int = 0
    item9_reviewed: bool = False
    no_baseline: bool = False
    recent_score: bool = False  # a score the day before the schedule day
    bp: str = "normal"  # normal | high | crisis (at the latest infusion with vitals)
    escort_today: bool | None = True
    escort_on_file: bool = True


@dataclass(frozen=True)
class ScenarioContext:
    """The fixed facts every scenario builder needs (days as ordinals) and the one shared random source."""

    rng: random.Random
    today: int
    sday: int  # the schedule day (today, or the next open weekday)
    window: int  # days of clinic history for purely historical patients
    settings: ClinicPolicy
    extra_day: int | None


def _pin(ctx: ScenarioContext, done: int, *, ahead: int = 0, **kw: Any) -> CourseSpec:
    """A course whose next infusion is on the schedule day (a line of today's huddle)."""
    kw.setdefault("status", CourseStatus.ACTIVE if done else CourseStatus.PLANNED)
    kw.setdefault("outcome", TrialOutcome.BENEFIT if done else TrialOutcome.PENDING)
    ahead = min(ahead, MAX_INFUSIONS_PER_COURSE - done - 1)
    return CourseSpec(done=done, anchor_kind="pin", anchor_day=ctx.sday, pinned=ctx.sday, ahead=ahead, **kw)


def _responder_today(ctx: ScenarioContext, **kw: Any) -> PatientSpec:
    rng = ctx.rng
    course = _pin(ctx, rng.randint(2, 5), ahead=rng.randint(0, 2))
    return PatientSpec(ScreeningStatus.CLEARED, [course], recent_score=True, **kw)


def _completed_course(ctx: ScenarioContext, anchor_day: int | None, **kw: Any) -> CourseSpec:
    return CourseSpec(
        done=MAX_INFUSIONS_PER_COURSE,
        anchor_kind="last",
        anchor_day=anchor_day,
        status=CourseStatus.COMPLETED,
        outcome=TrialOutcome.BENEFIT,
        **kw,
    )


def _booked(ctx: ScenarioContext, done: int, ahead: int, **kw: Any) -> CourseSpec:
    """A course with its next infusions booked in the coming two weeks."""
    kw.setdefault("status", CourseStatus.ACTIVE if done else CourseStatus.PLANNED)
    kw.setdefault("outcome", TrialOutcome.BENEFIT if done else TrialOutcome.PENDING)
    ahead = max(1, min(ahead, MAX_INFUSIONS_PER_COURSE - done))
    return CourseSpec(
        done=done, anchor_kind="next", anchor_day=ctx.sday + ctx.rng.randint(1, 9), ahead=ahead, **kw
    )


def _ago(ctx: ScenarioContext, lo: int, hi: int | None = None) -> int:
    """A day between ``lo`` and ``hi`` (default: the history window) days before today."""
    return ctx.today - ctx.rng.randint(lo, max(lo, hi if hi is not None else ctx.window))


Builder = Callable[[ScenarioContext], PatientSpec]

# Situations pinned to the schedule day: together they make today's huddle show every flag.
ROSTER: dict[str, Builder] = {
    "trial_today": lambda c: PatientSpec(ScreeningStatus.CLEARED, [_pin(c, 0)], recent_score=True),
    "responder_today": lambda c: _responder_today(c),
    "trial_outcome_pending_today": lambda c: PatientSpec(
        ScreeningStatus.CLEARED,
        [_pin(c, 1, ahead=c.rng.randint(0, 2), outcome=TrialOutcome.PENDING)],
        recent_score=True,
    ),
    "item9_unreviewed_today": lambda c: _responder_today(c, item9=2),
    "item9_reviewed_today": lambda c: _responder_today(c, item9=1, item9_reviewed=True),
    "bp_high_today": lambda c: _responder_today(c, bp="high"),
    "bp_crisis_today": lambda c: _responder_today(c, bp="crisis"),
    "no_escort_today": lambda c: _responder_today(c, escort_today=None, escort_on_file=False),
    "final_session_today": lambda c: PatientSpec(ScreeningStatus.CLEARED, [_pin(c, 9)], recent_score=True),
    "nearly_complete_today": lambda c: PatientSpec(
        ScreeningStatus.CLEARED, [_pin(c, 7, ahead=c.rng.randint(0, 1))], recent_score=True
    ),
    "worsening_today": lambda c: _responder_today(c, worsening=True),
    "rescreen_due_today": lambda c: PatientSpec(
        ScreeningStatus.CLEARED,
        [_completed_course(c, None), _pin(c, c.rng.randint(2, 4), ahead=c.rng.randint(0, 2))],
        screening_old=True,
        recent_score=True,
    ),
    "benefit_window_ending_today": lambda c: PatientSpec(
        ScreeningStatus.CLEARED,
        [
            CourseSpec(
                done=6,
                anchor_kind="last",
                anchor_day=c.sday - c.rng.randint(72, 79),  # 10–12 weeks: the window's last weeks
                pinned=c.sday,
                status=CourseStatus.ACTIVE,
                outcome=TrialOutcome.BENEFIT,
            )
        ],
    ),
    "missing_baseline_today": lambda c: PatientSpec(ScreeningStatus.CLEARED, [_pin(c, 0)], no_baseline=True),
    "not_cleared_today": lambda c: PatientSpec(ScreeningStatus.NEEDS_REVIEW, [_pin(c, 0)], recent_score=True),
    "escort_unconfirmed_today": lambda c: _responder_today(c, escort_today=False),
}

ACTIVE: dict[str, Builder] = {
    "awaiting_trial": lambda c: PatientSpec(ScreeningStatus.CLEARED, [_booked(c, 0, 1)]),
    "trial_outcome_pending": lambda c: PatientSpec(
        ScreeningStatus.CLEARED,
        [
            CourseSpec(
                done=1,
                anchor_kind="last",
                anchor_day=c.today - c.rng.randint(1, 3),
                ahead=c.rng.randint(1, 4),
                status=CourseStatus.ACTIVE,
                outcome=TrialOutcome.PENDING,
            )
        ],
    ),
    "responder_mid_course": lambda c: PatientSpec(
        ScreeningStatus.CLEARED, [_booked(c, c.rng.randint(1, 8), c.rng.randint(1, 2))]
    ),
    "nine_of_ten": lambda c: PatientSpec(ScreeningStatus.CLEARED, [_booked(c, 9, 1)]),
    "second_course_active": lambda c: PatientSpec(
        ScreeningStatus.CLEARED,
        [_completed_course(c, None), _booked(c, c.rng.randint(1, 5), c.rng.randint(1, 2))],
        rescreened=True,
    ),
}


def _non_responder(c: ScenarioContext) -> PatientSpec:
    day = _ago(c, 7)
    course = CourseSpec(
        done=1,
        anchor_kind="last",
        anchor_day=day,
        status=CourseStatus.STOPPED,
        outcome=TrialOutcome.NO_BENEFIT,
        response="none",
    )
    status = PatientStatus.DISCHARGED if c.today - day > 60 else PatientStatus.ACTIVE
    return PatientSpec(ScreeningStatus.CLEARED, [course], patient_status=status)


def _completed(c: ScenarioContext) -> PatientSpec:
    day = _ago(c, 14)
    status = PatientStatus.DISCHARGED if c.today - day > 365 else PatientStatus.ACTIVE
    return PatientSpec(
        ScreeningStatus.CLEARED,
        [_completed_course(c, day)],
        patient_status=status,
        relapse=c.rng.random() < 0.4,
    )


def _dropout(c: ScenarioContext) -> PatientSpec:
    day = _ago(c, 10)
    course = CourseSpec(
        done=c.rng.randint(2, 5),
        anchor_kind="last",
        anchor_day=day,
        status=CourseStatus.STOPPED,
        outcome=TrialOutcome.BENEFIT,
        response=c.rng.choice(("responder", "partial")),
        dropout_cancel=True,
    )
    status = PatientStatus.DISCHARGED if c.today - day > 180 else PatientStatus.PAUSED
    return PatientSpec(ScreeningStatus.CLEARED, [course], patient_status=status)


def _between_courses(c: ScenarioContext) -> PatientSpec:
    done = c.rng.choice((6, MAX_INFUSIONS_PER_COURSE))
    course = CourseSpec(
        done=done,
        anchor_kind="last",
        anchor_day=c.today - c.rng.randint(71, 80),  # last infusion 10–12 weeks ago
        status=CourseStatus.COMPLETED if done == MAX_INFUSIONS_PER_COURSE else CourseStatus.ACTIVE,
        outcome=TrialOutcome.BENEFIT,
    )
    return PatientSpec(ScreeningStatus.CLEARED, [course])


def _screening_only(status: ScreeningStatus, lo: int, hi: int | None) -> Builder:
    def build(c: ScenarioContext) -> PatientSpec:
        ago = c.rng.randint(lo, max(lo, hi if hi is not None else c.window))
        out = PatientStatus.DISCHARGED if status is ScreeningStatus.NOT_ELIGIBLE else PatientStatus.ACTIVE
        return PatientSpec(status, [], screened_ago=ago, patient_status=out)

    return build


HISTORY: dict[str, Builder] = {
    "screening_not_started": _screening_only(ScreeningStatus.NOT_STARTED, 0, 0),
    "screening_incomplete": _screening_only(ScreeningStatus.INCOMPLETE, 1, 45),
    "screening_needs_review": _screening_only(ScreeningStatus.NEEDS_REVIEW, 1, 30),
    "screening_not_eligible": _screening_only(ScreeningStatus.NOT_ELIGIBLE, 5, None),
    "non_responder": _non_responder,
    "completed": _completed,
    "dropout": _dropout,
    "between_courses": _between_courses,
    "relapse": lambda c: PatientSpec(
        ScreeningStatus.CLEARED, [_completed_course(c, c.today - c.rng.randint(120, 160))], relapse=True
    ),
    "two_courses_completed": lambda c: PatientSpec(
        ScreeningStatus.CLEARED,
        [_completed_course(c, None), _completed_course(c, _ago(c, 30))],
        rescreened=True,
        patient_status=PatientStatus.ACTIVE,
    ),
    "cleared_over_a_year_ago": lambda c: PatientSpec(
        ScreeningStatus.CLEARED, [_completed_course(c, c.today - c.rng.randint(200, 300))], screening_old=True
    ),
}

BENCH = "extra_day_course"


def _extra_day_course(c: ScenarioContext) -> PatientSpec:
    """A responder whose next infusion is on the benchmark's extra day."""
    assert c.extra_day is not None
    course = CourseSpec(
        done=c.rng.randint(1, 8),
        anchor_kind="pin",
        anchor_day=c.extra_day,
        pinned=c.extra_day,
        status=CourseStatus.ACTIVE,
        outcome=TrialOutcome.BENEFIT,
    )
    return PatientSpec(ScreeningStatus.CLEARED, [course])


#: Scenarios the first patients take, one each, so that a demo of this many patients or more shows
#: every screening state, course stage and huddle flag. Roster and other situations alternate so that
#: a small demo still has a mix.
REQUIRED_SCENARIOS: tuple[str, ...] = (
    "trial_today",
    "screening_not_started",
    "responder_today",
    "screening_incomplete",
    "trial_outcome_pending_today",
    "screening_needs_review",
    "item9_unreviewed_today",
    "screening_not_eligible",
    "item9_reviewed_today",
    "awaiting_trial",
    "bp_high_today",
    "trial_outcome_pending",
    "bp_crisis_today",
    "responder_mid_course",
    "no_escort_today",
    "non_responder",
    "final_session_today",
    "completed",
    "nearly_complete_today",
    "dropout",
    "worsening_today",
    "second_course_active",
    "rescreen_due_today",
    "between_courses",
    "benefit_window_ending_today",
    "relapse",
    "missing_baseline_today",
    "cleared_over_a_year_ago",
    "not_cleared_today",
    "nine_of_ten",
    "escort_unconfirmed_today",
    "between_courses",
    "two_courses_completed",
    "relapse",
)

ACTIVE_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("responder_mid_course", 14),
    ("awaiting_trial", 4),
    ("trial_outcome_pending", 3),
    ("nine_of_ten", 2),
    ("second_course_active", 3),
)
HISTORY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("completed", 14),
    ("dropout", 9),
    ("non_responder", 9),
    ("between_courses", 3),
    ("relapse", 4),
    ("two_courses_completed", 3),
    ("screening_not_started", 2),
    ("screening_incomplete", 3),
    ("screening_needs_review", 2),
    ("screening_not_eligible", 3),
    ("cleared_over_a_year_ago", 2),
)
#: Scenarios whose point is a PHQ-9 score (item 9, a rise of 5): they need a mood indication.
MOOD_ONLY = frozenset({"item9_unreviewed_today", "item9_reviewed_today", "worsening_today"})
BUILDERS: dict[str, Builder] = {**ROSTER, **ACTIVE, **HISTORY, BENCH: _extra_day_course}


def weighted(rng: random.Random, choices: tuple[tuple[Any, int], ...]) -> Any:
    total = sum(w for _, w in choices)
    pick = rng.randrange(total)
    for value, weight in choices:
        pick -= weight
        if pick < 0:
            return value
    raise AssertionError("unreachable")
