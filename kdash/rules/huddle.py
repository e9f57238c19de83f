"""The morning huddle: per patient booked today, the flags, readiness and scores; a clinic summary.

Pure: it takes plain records (one :class:`PatientContext` per patient with an infusion that day) and the
settings, and reads nothing else. Records dated after the huddle's day are ignored, so a huddle can be
rebuilt for any past day and gives the same answer. Flag codes and severities come from
:mod:`kdash.domain.vocab`; every threshold from :class:`ClinicPolicy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import (
    AssessmentRec,
    CourseRec,
    InfusionRec,
    PatientContext,
    PatientRec,
    ScreeningAssessment,
)
from kdash.domain.vocab import (
    FlagCode,
)
from kdash.rules.course import (
    Readiness,
    ready_to_infuse,
)
from kdash.rules.flags import Flag, severity_counts, sort_flags
from kdash.rules.huddle_flags import bp_flags, course_flags, score_flags, suicide_flag
from kdash.rules.instruments import (
    SYMPTOM_INSTRUMENTS,
    change_from_baseline,
    course_baseline,
    is_remission,
    is_response,
    severity_band,
)
from kdash.rules.screening import rescreen_due, screening_status


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """One instrument's baseline and latest score with change, band, response and remission."""

    instrument: str
    baseline: int
    latest: int
    latest_on: date
    change_points: int
    change_pct: float | None
    band: str
    response: bool | None
    remission: bool | None


@dataclass(frozen=True, slots=True)
class HuddleEntry:
    patient: PatientRec
    course: CourseRec
    infusion: InfusionRec
    scheduled_at: datetime
    position: int
    screening: ScreeningAssessment
    flags: tuple[Flag, ...]
    readiness: Readiness
    scores: dict[str, ScoreSummary] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.readiness.ready

    def has(self, code: FlagCode) -> bool:
        return any(f.code is code for f in self.flags)


@dataclass(frozen=True, slots=True)
class HourLoad:
    hour: int
    chairs_used: int


@dataclass(frozen=True, slots=True)
class HuddleSummary:
    infusions: int
    ready: int
    not_ready: int
    chairs: int
    chairs_per_hour: tuple[HourLoad, ...]
    flag_counts: dict[FlagCode, int]


@dataclass(frozen=True, slots=True)
class Huddle:
    day: date
    summary: HuddleSummary
    entries: tuple[HuddleEntry, ...]


# --- helpers -----------------------------------------------------------------------------------------


def _zone(settings: ClinicPolicy) -> ZoneInfo | None:
    return ZoneInfo(settings.timezone) if settings.timezone else None


def local_time(moment: datetime, zone: ZoneInfo | None) -> datetime:
    """A naive clinic-local datetime: naive values are already local.

    docs/clinical-reference.md, Decisions: datetimes without a zone are in the clinic's time zone.
    """
    if moment.tzinfo is None:
        return moment
    return (moment.astimezone(zone) if zone else moment.astimezone()).replace(tzinfo=None)


def _todays_infusion(
    ctx: PatientContext, day: date, zone: ZoneInfo | None
) -> tuple[CourseRec, InfusionRec] | None:
    found: tuple[CourseRec, InfusionRec] | None = None
    for course in ctx.courses:
        for inf in course.infusions:
            if (
                inf.is_live
                and local_time(inf.scheduled_at, zone).date() == day
                and (found is None or inf.scheduled_at < found[1].scheduled_at)
            ):
                found = (course, inf)
    return found


def _by_instrument(assessments: Iterable[AssessmentRec], day: date) -> dict[str, list[AssessmentRec]]:
    """Scores up to ``day`` per instrument, oldest first (ties: id, then given order)."""
    groups: dict[str, list[AssessmentRec]] = {}
    for a in sorted(assessments, key=lambda a: (a.taken_on, a.id or 0)):
        if a.taken_on <= day:
            groups.setdefault(a.instrument, []).append(a)
    return groups


def _scores(
    groups: dict[str, list[AssessmentRec]], course: CourseRec, settings: ClinicPolicy
) -> dict[str, ScoreSummary]:
    live = [i.scheduled_at for i in course.infusions if i.is_live]
    first_day = min(live).date() if live else None
    out: dict[str, ScoreSummary] = {}
    for inst in SYMPTOM_INSTRUMENTS:
        scores = groups.get(inst)
        if not scores:
            continue
        baseline = course_baseline([(a.taken_on, a.score) for a in scores], first_day)
        assert baseline is not None  # scores is not empty
        last = scores[-1]
        change = change_from_baseline(baseline, last.score)
        out[inst.value] = ScoreSummary(
            instrument=inst.value,
            baseline=baseline,
            latest=last.score,
            latest_on=last.taken_on,
            change_points=change.points,
            change_pct=change.pct,
            band=severity_band(inst, last.score, settings),
            response=is_response(inst, baseline, last.score, settings),
            remission=is_remission(inst, last.score, settings),
        )
    return out


# --- building -----------------------------------------------------------------------------------------


def build_entry(
    ctx: PatientContext, day: date, settings: ClinicPolicy, zone: ZoneInfo | None = None
) -> HuddleEntry | None:
    """The huddle line of one patient, or None when the patient has no live infusion on ``day``."""
    found = _todays_infusion(ctx, day, zone)
    if found is None:
        return None
    course, today = found
    groups = _by_instrument(ctx.assessments, day)
    screening = ctx.screening or screening_status(
        [r for r in ctx.screening_items if r.recorded_on <= day],
        [r for r in ctx.screening_decisions if r.decided_on <= day],
        settings,
    )
    position = sum(
        1 for i in course.infusions if i.is_live and (i.scheduled_at, i.id) <= (today.scheduled_at, today.id)
    )

    flags: list[Flag] = []
    suicide = suicide_flag(groups, ctx.suicide_reviews, day)
    if suicide is not None:
        flags.append(suicide)
    flags.extend(bp_flags(ctx, today, settings))
    if not screening.cleared:
        status = screening.status.value.replace("_", " ")
        flags.append(Flag(FlagCode.NOT_CLEARED, f"Screening {status}: {'; '.join(screening.reasons)}"))
    rescreen = rescreen_due(screening.screened_on, ctx.courses, day, settings, current_course=course)
    if rescreen.due:
        flags.append(Flag(FlagCode.RESCREEN_DUE, "; ".join(rescreen.reasons)))
    if today.escort_confirmed is not True:
        flags.append(
            Flag(
                FlagCode.NO_ESCORT,
                "Escort not confirmed for today: someone must drive the patient home — confirm before dosing",
            )
        )
    flags.extend(course_flags(course, today, position, ctx.assessments, settings))
    flags.extend(score_flags(groups, ctx, course, today, day, settings))
    ordered = tuple(sort_flags(flags))
    return HuddleEntry(
        patient=ctx.patient,
        course=course,
        infusion=today,
        scheduled_at=local_time(today.scheduled_at, zone),
        position=position,
        screening=screening,
        flags=ordered,
        readiness=ready_to_infuse(ordered),
        scores=_scores(groups, course, settings),
    )


def _urgency_key(entry: HuddleEntry) -> tuple[int, datetime, str]:
    urgent, warning, info = severity_counts(entry.flags)
    band = 0 if urgent else 1 if warning else 2 if info else 3
    return (band, entry.scheduled_at, entry.patient.mrn)


def sort_entries(entries: Iterable[HuddleEntry]) -> list[HuddleEntry]:
    """Most severe flag first (urgent, warning, info, none); within a severity by chair time, then MRN.

    A team walks the chairs in time order: two urgent patients at 09:00 and 08:00 are met in the order
    they sit down, not by how many flags each has (docs/clinical-decisions.md, "Urgency order").
    """
    return sorted(entries, key=_urgency_key)


def chairs_per_hour(entries: Sequence[HuddleEntry], settings: ClinicPolicy) -> tuple[HourLoad, ...]:
    """Chairs in use during each opening hour; a booking holds one chair for ``settings.chair_minutes``."""
    spans = []
    for e in entries:
        start = e.scheduled_at.hour * 60 + e.scheduled_at.minute
        spans.append((start, start + settings.chair_minutes))
    loads = []
    for hour in range(settings.open_hour, settings.close_hour):
        lo, hi = hour * 60, hour * 60 + 60
        loads.append(HourLoad(hour, sum(1 for s, e in spans if s < hi and e > lo)))
    return tuple(loads)


def build_huddle(day: date, contexts: Iterable[PatientContext], settings: ClinicPolicy) -> Huddle:
    """The huddle of ``day``: one entry per patient with a live infusion that day, most urgent first."""
    zone = _zone(settings)
    entries = [e for ctx in contexts if (e := build_entry(ctx, day, settings, zone)) is not None]
    ordered = tuple(sort_entries(entries))
    counts = dict.fromkeys(FlagCode, 0)
    for e in ordered:
        for code in {f.code for f in e.flags}:
            counts[code] += 1
    ready = sum(1 for e in ordered if e.ready)
    summary = HuddleSummary(
        infusions=len(ordered),
        ready=ready,
        not_ready=len(ordered) - ready,
        chairs=settings.chairs,
        chairs_per_hour=chairs_per_hour(ordered, settings),
        flag_counts=counts,
    )
    return Huddle(day=day, summary=summary, entries=ordered)
