"""Course rules: the trial, the cap of ten, numbering, the suggested trial outcome and "ready to infuse".

The clinic's rule (patient information page): infusion 1 is a trial; only if it helps may up to nine
further infusions follow, ten per course at most. Cancelled and no-show infusions count for nothing and
free their number (clinical-reference.md "Planning decisions", what counts toward ten).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import AssessmentRec, CourseRec, InfusionRec, ScreeningAssessment
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    SCREENING_STATE_WORDS,
    CourseStatus,
    FlagCode,
    Indication,
    InfusionStatus,
    Instrument,
    Severity,
    TrialOutcome,
)
from kdash.rules.flags import Flag
from kdash.rules.instruments import main_instrument
from kdash.rules.screening import RescreenDecision

TRIAL_NUMBER = 1


@dataclass(frozen=True, slots=True)
class CourseDecision:
    """Whether an action is allowed, the infusion number it would take, and why, in words."""

    allowed: bool
    reasons: tuple[str, ...]
    number: int | None = None


def live_count(course: CourseRec) -> int:
    """Scheduled plus completed infusions: what counts toward the ten."""
    return sum(1 for i in course.infusions if i.is_live)


def next_free_number(course: CourseRec) -> int | None:
    """The lowest number 1–10 no live infusion holds (a cancelled or no-show one frees its number).

    None when the course holds its ten.
    """
    taken = {i.number for i in course.infusions if i.is_live}
    for n in range(1, MAX_INFUSIONS_PER_COURSE + 1):
        if n not in taken:
            return n
    return None


def trial_infusion(course: CourseRec) -> InfusionRec | None:
    """The live infusion numbered 1: the trial."""
    for i in course.infusions:
        if i.is_live and i.number == TRIAL_NUMBER:
            return i
    return None


def can_add_infusion(course: CourseRec, screening: ScreeningAssessment | None = None) -> CourseDecision:
    """Whether one more infusion may be booked on ``course``; never an 11th (clinic rule: ten per course).

    Infusion 1 (the trial) needs only a cleared screening and an open course; any further infusion needs
    the provider's trial outcome ``benefit``.
    """
    refusals: list[str] = []
    count = live_count(course)
    if count >= MAX_INFUSIONS_PER_COURSE:
        refusals.append(
            f"Course {course.number} already holds {count} infusions, the maximum per course "
            f"(the trial plus up to {MAX_INFUSIONS_PER_COURSE - 1} further): start a new course after "
            "re-screening"
        )
    if course.status in (CourseStatus.COMPLETED, CourseStatus.STOPPED):
        refusals.append(f"Course {course.number} is {course.status.value}: no infusion can be added")
    if screening is not None and not screening.cleared:
        refusals.append(f"{SCREENING_STATE_WORDS[screening.status]}: not cleared")
    number = next_free_number(course)
    if number is not None and number != TRIAL_NUMBER:
        trial = trial_infusion(course)
        if course.trial_outcome is TrialOutcome.NO_BENEFIT:
            refusals.append("The trial infusion brought no benefit (provider's outcome): no further infusion")
        elif course.trial_outcome is TrialOutcome.PENDING:
            if trial is not None and trial.status is InfusionStatus.SCHEDULED:
                refusals.append("The trial infusion has not been given yet: further infusions wait for it")
            else:
                refusals.append(
                    "The trial outcome is pending: further infusions need the provider to record benefit"
                )
    if refusals:
        return CourseDecision(False, tuple(refusals), None)
    assert number is not None  # the cap check above refused a full course
    if number == TRIAL_NUMBER:
        why = f"Infusion 1 of course {course.number} is the trial"
    else:
        why = (
            f"Infusion {number} of at most {MAX_INFUSIONS_PER_COURSE} on course {course.number}; "
            "trial outcome: benefit"
        )
    return CourseDecision(True, (why,), number)


def can_start_course(
    courses: Sequence[CourseRec], screening: ScreeningAssessment, rescreen: RescreenDecision
) -> CourseDecision:
    """A new course needs a current screening (cleared, not due for re-screening) and no open course."""
    refusals: list[str] = []
    if not screening.cleared:
        refusals.append(f"{SCREENING_STATE_WORDS[screening.status]}: not cleared")
    refusals.extend(rescreen.reasons)
    open_courses = [c for c in courses if c.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE)]
    refusals.extend(
        f"Course {c.number} is still {c.status.value}: complete or stop it first" for c in open_courses
    )
    number = max((c.number for c in courses), default=0) + 1
    if refusals:
        return CourseDecision(False, tuple(refusals), None)
    return CourseDecision(True, (f"Course {number} may start with its trial infusion",), number)


# --- Suggested trial outcome -------------------------------------------------------------------------


def trial_instruments(indication: Indication) -> tuple[Instrument, ...]:
    """The instruments that judge the trial (clinical-reference.md "Judging the trial infusion"): the
    indication's main instrument (:func:`main_instrument`), and for PTSD the PHQ-9 as well.

    Pain → NRS; PTSD → PCL-5, else PHQ-9; depression and bipolar depression → PHQ-9.
    """
    main = main_instrument(indication)
    return (main, Instrument.PHQ9) if indication is Indication.PTSD else (main,)


@dataclass(frozen=True, slots=True)
class TrialSuggestion:
    """The rule's suggestion, shown beside the provider's outcome and never applied silently."""

    outcome: TrialOutcome
    reasons: tuple[str, ...]


def _judge(inst: Instrument, baseline: int, after: int, settings: ClinicPolicy) -> tuple[TrialOutcome, str]:
    text = f"{inst.value} {baseline} before the trial, {after} after"
    if inst is Instrument.PHQ9:
        # Keith et al.: benefit when PHQ-9 drops ≥50% from baseline or ends below 10.
        dropped = baseline > 0 and (baseline - after) * 100 >= settings.trial_phq9_benefit_pct * baseline
        if dropped:
            return TrialOutcome.BENEFIT, f"{text}: drop of at least {settings.trial_phq9_benefit_pct:g}%"
        if after < settings.trial_phq9_benefit_below:
            return TrialOutcome.BENEFIT, f"{text}: ends below {settings.trial_phq9_benefit_below}"
        return TrialOutcome.NO_BENEFIT, (
            f"{text}: less than {settings.trial_phq9_benefit_pct:g}% drop and not below "
            f"{settings.trial_phq9_benefit_below}"
        )
    if inst is Instrument.PCL5:
        # PCL-5: a drop of ≥10 points is clinically meaningful (secondary).
        if baseline - after >= settings.trial_pcl5_benefit_points:
            return (
                TrialOutcome.BENEFIT,
                f"{text}: drop of at least {settings.trial_pcl5_benefit_points} points",
            )
        return TrialOutcome.NO_BENEFIT, f"{text}: drop under {settings.trial_pcl5_benefit_points} points"
    # Pain NRS (IMMPACT moderate): drop ≥30%.
    if baseline == 0:
        return TrialOutcome.PENDING, f"{text}: no pain at baseline, a percentage drop cannot be judged"
    if (baseline - after) * 100 >= settings.trial_nrs_benefit_pct * baseline:
        return TrialOutcome.BENEFIT, f"{text}: drop of at least {settings.trial_nrs_benefit_pct:g}%"
    return TrialOutcome.NO_BENEFIT, f"{text}: drop under {settings.trial_nrs_benefit_pct:g}%"


def trial_window(course: CourseRec) -> tuple[date, date | None] | None:
    """(trial date, date of the next live infusion or None) for a completed trial, else None."""
    trial = trial_infusion(course)
    if trial is None or trial.status is not InfusionStatus.COMPLETED:
        return None
    trial_day = trial.scheduled_at.date()
    later = [i.scheduled_at for i in course.infusions if i.is_live and i.scheduled_at > trial.scheduled_at]
    return trial_day, (min(later).date() if later else None)


def suggest_trial_outcome(
    course: CourseRec, assessments: Sequence[AssessmentRec], settings: ClinicPolicy
) -> TrialSuggestion:
    """Suggest ``benefit``/``no_benefit``/``pending`` for the trial (clinical-reference.md "Decisions",
    suggested trial outcome).

    Baseline: the last score on or before the trial date (a score taken the same day counts as baseline).
    Judged on: the first score taken after the trial date and on or before the next infusion's date.
    For PTSD either PCL-5 or PHQ-9 showing benefit suffices. With no such pair: ``pending``.
    """
    window = trial_window(course)
    if window is None:
        return TrialSuggestion(TrialOutcome.PENDING, ("The trial infusion has not been given yet",))
    trial_day, next_day = window
    outcomes: list[TrialOutcome] = []
    reasons: list[str] = []
    for inst in trial_instruments(course.indication):
        scores = sorted(
            (a for a in assessments if a.instrument == inst.value), key=lambda a: (a.taken_on, a.id or 0)
        )
        before = [a for a in scores if a.taken_on <= trial_day]
        after = [a for a in scores if a.taken_on > trial_day and (next_day is None or a.taken_on <= next_day)]
        if not before:
            reasons.append(f"No {inst.value} score on or before the trial ({trial_day}): no baseline")
            continue
        if not after:
            reasons.append(f"No {inst.value} score yet after the trial ({trial_day})")
            continue
        outcome, why = _judge(inst, before[-1].score, after[0].score, settings)
        outcomes.append(outcome)
        reasons.append(why)
    if TrialOutcome.BENEFIT in outcomes:
        return TrialSuggestion(TrialOutcome.BENEFIT, tuple(reasons))
    if TrialOutcome.NO_BENEFIT in outcomes:
        return TrialSuggestion(TrialOutcome.NO_BENEFIT, tuple(reasons))
    return TrialSuggestion(TrialOutcome.PENDING, tuple(reasons))


# --- Ready to infuse ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reasons: tuple[str, ...]


_CHECKS: tuple[tuple[tuple[FlagCode, ...], str], ...] = (
    ((FlagCode.NOT_CLEARED,), "Screening cleared"),
    ((FlagCode.COURSE_LIMIT_REACHED,), f"Within the {MAX_INFUSIONS_PER_COURSE} infusions of the course"),
    ((FlagCode.TRIAL_OUTCOME_MISSING, FlagCode.TRIAL_NO_BENEFIT), "Trial outcome allows this infusion"),
    ((FlagCode.NO_ESCORT,), "Escort confirmed"),
    ((FlagCode.BP_CRISIS, FlagCode.BP_HIGH), "Last blood pressure within limits"),
    ((FlagCode.SUICIDE_RISK,), "No positive PHQ-9 item 9 or high-risk C-SSRS"),
)


def ready_to_infuse(flags: Sequence[Flag]) -> Readiness:
    """Ready only with no urgent flag still blocking and the escort confirmed (clinical-reference.md
    "Decisions", ready to infuse).

    Warnings do not block (a pre-dose BP above 140/90 last time means re-check before dosing) but are given
    as reasons; a SUICIDE_RISK with a review recorded after the score is shown and no longer blocks.
    """
    by_code: dict[FlagCode, list[Flag]] = {}
    for f in flags:
        by_code.setdefault(f.code, []).append(f)
    reasons: list[str] = []
    covered: set[FlagCode] = set()
    for codes, ok_text in _CHECKS:
        covered.update(codes)
        raised = [f for c in codes for f in by_code.get(c, ())]
        if not raised:
            reasons.append(f"OK: {ok_text}")
        for f in raised:
            if f.blocks or f.code is FlagCode.NO_ESCORT:
                reasons.append(f"Not ready: {f.message}")
            elif f.severity is Severity.URGENT:
                reasons.append(f"Shown, not blocking: {f.message}")
            else:
                reasons.append(f"Re-check: {f.message}")
    reasons.extend(f"Not ready: {f.message}" for f in flags if f.code not in covered and f.blocks)
    ready = not any(f.blocks for f in flags) and FlagCode.NO_ESCORT not in by_code
    return Readiness(ready, tuple(reasons))


def progress_words(done: int, booked: int) -> str:
    """A course's progress, worded the same on every page: ``4 done · 2 booked · of 10``.

    ``done`` counts completed infusions, ``booked`` the scheduled ones not yet given; both count toward
    the course's maximum of ten (docs/clinical-decisions.md, "What counts toward ten"); cancelled and
    missed infusions count for nothing.
    """
    return f"{done} done · {booked} booked · of {MAX_INFUSIONS_PER_COURSE}"


def course_progress(course: CourseRec) -> str:
    """:func:`progress_words` of one course's infusions."""
    done = sum(1 for i in course.infusions if i.status is InfusionStatus.COMPLETED)
    booked = sum(1 for i in course.infusions if i.status is InfusionStatus.SCHEDULED)
    return progress_words(done, booked)
