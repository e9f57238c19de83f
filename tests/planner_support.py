"""Builders shared by the planner tests and the planner benchmark (synthetic data only)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import CourseRec, InfusionRec
from kdash.domain.vocab import CourseStatus, Indication, InfusionStatus, TrialOutcome
from kdash.planner.calendar import Booking

MONDAY = date(2025, 3, 3)


def random_bookings(
    n: int,
    seed: int,
    *,
    first_day: date = MONDAY,
    days: int | None = None,
    settings: ClinicPolicy | None = None,
) -> list[Booking]:
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
    out: list[Booking] = []
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
            Booking(
                start=datetime.combine(day, datetime.min.time()) + timedelta(minutes=begin),
                chair=chair,
                patient_id=patient,
                course_id=patient * 10,
            )
        )
    return out


def course(
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
