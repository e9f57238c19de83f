"""Synthetic plain records (no database, no real patient data): the one place tests build them.

Patients, infusions, courses, scores, screening answers and decisions, whole patient contexts for the
huddle rules, and bookings for the planner. For rows in a database, see :mod:`tests.seeded`.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import (
    AssessmentRec,
    CourseRec,
    InfusionRec,
    LiveBooking,
    PatientContext,
    PatientRec,
    ScreeningDecisionRec,
    ScreeningItemRec,
    SuicideReviewRec,
)
from kdash.domain.vocab import (
    SCREENING_ITEMS,
    CourseStatus,
    Indication,
    InfusionStatus,
    ItemClass,
    PatientStatus,
    ScreeningDecision,
    ScreeningResult,
    Sex,
    SuicideReviewAction,
    TrialOutcome,
)

DAY = date(2025, 3, 3)  # a Monday: the huddle day of most tests
MONDAY = DAY  # the planner tests' first calendar day


def patient(pid: int = 1, mrn: str = "T0001", indication: Indication = Indication.DEPRESSION) -> PatientRec:
    return PatientRec(
        id=pid,
        mrn=mrn,
        first_name="Test",
        last_name=f"Patient{pid}",
        date_of_birth=date(1980, 1, 1),
        sex=Sex.UNKNOWN,
        indication=indication,
        provider="Dr Demo",
        status=PatientStatus.ACTIVE,
    )


_ids = iter(range(1, 10**9))


def infusion(
    number: int,
    day: date,
    status: InfusionStatus = InfusionStatus.COMPLETED,
    hour: int = 9,
    minute: int = 0,
    course_id: int = 1,
    escort: bool | None = True,
    **vitals: int | None,
) -> InfusionRec:
    return InfusionRec(
        id=next(_ids),
        course_id=course_id,
        number=number,
        scheduled_at=datetime.combine(day, time(hour, minute)),
        status=status,
        escort_confirmed=escort,
        **vitals,  # type: ignore[arg-type]
    )


def course(
    infusions: tuple[InfusionRec, ...] | list[InfusionRec] = (),
    number: int = 1,
    outcome: TrialOutcome = TrialOutcome.BENEFIT,
    status: CourseStatus = CourseStatus.ACTIVE,
    indication: Indication = Indication.DEPRESSION,
    cid: int = 1,
) -> CourseRec:
    return CourseRec(
        id=cid,
        patient_id=1,
        number=number,
        indication=indication,
        trial_outcome=outcome,
        status=status,
        infusions=tuple(infusions),
    )


def series(
    start: date, count: int, every_days: int = 2, first_number: int = 1, **kw: object
) -> list[InfusionRec]:
    """``count`` completed infusions from ``start``, ``every_days`` apart, numbered from ``first_number``."""
    return [
        infusion(first_number + n, start + timedelta(days=every_days * n), **kw)  # type: ignore[arg-type]
        for n in range(count)
    ]


def score(instrument: str, value: int, day: date, item9: int | None = None) -> AssessmentRec:
    return AssessmentRec(instrument=instrument, score=value, taken_on=day, item9=item9, id=next(_ids))


def items(day: date, **overrides: ScreeningResult) -> list[ScreeningItemRec]:
    """Every screening item answered the 'good' way (required yes, contraindications no) on ``day``."""
    out = []
    for code, (_, cls, _) in SCREENING_ITEMS.items():
        result = ScreeningResult.YES if cls is ItemClass.REQUIRED else ScreeningResult.NO
        out.append(ScreeningItemRec(item=code, result=overrides.get(code, result), recorded_on=day))
    return out


def decision(day: date, what: ScreeningDecision = ScreeningDecision.CLEARED) -> ScreeningDecisionRec:
    return ScreeningDecisionRec(decision=what, decided_on=day, decided_by="Dr Demo")


def review(day: date) -> SuicideReviewRec:
    return SuicideReviewRec(reviewed_on=day, reviewed_by="Dr Demo", action=SuicideReviewAction.SAFETY_PLAN)


def calm_context(
    pid: int = 1,
    mrn: str = "T0001",
    hour: int = 9,
    indication: Indication = Indication.DEPRESSION,
    **changes: object,
) -> PatientContext:
    """A patient with nothing to flag: cleared, trial benefit, infusion 3 today, recent scores, escort.

    Trial on DAY-14 (PHQ-9 20, NRS 7 that day), PHQ-9 10 two days later, infusion 2 on DAY-7,
    PHQ-9 9 and NRS 6 the day before today.
    """
    start = DAY - timedelta(days=14)
    infs = [
        infusion(1, start, course_id=pid),
        infusion(2, start + timedelta(days=7), course_id=pid),
        infusion(3, DAY, InfusionStatus.SCHEDULED, hour=hour, course_id=pid),
    ]
    ctx = PatientContext(
        patient=patient(pid, mrn, indication),
        screening_items=tuple(items(DAY - timedelta(days=30))),
        screening_decisions=(decision(DAY - timedelta(days=30)),),
        courses=(course(infs, indication=indication, cid=pid),),
        assessments=(
            score("PHQ-9", 20, start, item9=0),
            score("NRS", 7, start),
            score("PHQ-9", 10, start + timedelta(days=2), item9=0),
            score("PHQ-9", 9, DAY - timedelta(days=1), item9=0),
            score("NRS", 6, DAY - timedelta(days=1)),
        ),
    )
    return replace_ctx(ctx, **changes)


def replace_ctx(ctx: PatientContext, **changes: object) -> PatientContext:
    import dataclasses

    return dataclasses.replace(ctx, **changes)  # type: ignore[arg-type]


# --- planner: bookings and courses given as dates -------------------------------------------------


def random_bookings(
    n: int,
    seed: int,
    *,
    first_day: date = MONDAY,
    days: int | None = None,
    settings: ClinicPolicy | None = None,
) -> list[LiveBooking]:
    """``n`` bookings on open days, each inside opening hours on a chair free at that time.

    Without ``days`` the bookings spread over enough weeks to fill about three chair times per chair
    per open day (about 60% of chair-hours). Attempts that would overlap are skipped, so a very full
    calendar can return fewer than ``n``.
    """
    settings = settings or ClinicPolicy()
    if days is None:
        per_week = 3 * settings.chairs * len(settings.open_weekdays)
        days = max(7, -(-n // per_week) * 7)
    rng = random.Random(seed)
    taken: dict[tuple[date, int], list[tuple[int, int]]] = {}
    out: list[LiveBooking] = []
    open_days = [
        first_day + timedelta(days=i)
        for i in range(days)
        if (first_day + timedelta(days=i)).weekday() in settings.open_weekdays
    ]
    last_start = settings.close_hour * 60 - settings.chair_minutes
    attempts = 0
    while len(out) < n and attempts < n * 20:
        attempts += 1
        day = rng.choice(open_days)
        chair = rng.randint(1, settings.chairs)
        begin = rng.randrange(settings.open_hour * 60, last_start + 1, 30)
        end = begin + settings.chair_minutes
        spans = taken.setdefault((day, chair), [])
        if any(begin < e and b < end for b, e in spans):
            continue
        spans.append((begin, end))
        patient = rng.randint(1000, 1000 + n // 5 + 1)
        out.append(
            LiveBooking(
                start=datetime.combine(day, datetime.min.time()) + timedelta(minutes=begin),
                chair=chair,
                patient_id=patient,
                course_id=patient * 10,
            )
        )
    return out


def course_with(
    *dates_status: tuple[datetime, InfusionStatus],
    outcome: TrialOutcome = TrialOutcome.BENEFIT,
    status: CourseStatus = CourseStatus.ACTIVE,
    patient_id: int = 1,
    course_id: int = 1,
) -> CourseRec:
    """A course whose infusions are numbered 1.. in the order given."""
    infusions = tuple(
        InfusionRec(id=i + 1, course_id=course_id, number=i + 1, scheduled_at=when, status=st, chair=1)
        for i, (when, st) in enumerate(dates_status)
    )
    return CourseRec(
        id=course_id,
        patient_id=patient_id,
        number=1,
        indication=Indication.DEPRESSION,
        trial_outcome=outcome,
        status=status,
        infusions=infusions,
    )
