"""The clinic's booking service (``kdash.services.clinical.book_infusion``) under simultaneous writers.

The same guarantees as tests/services/test_concurrency.py, through the service the pages call: it picks the
chair itself and applies the course rules (cleared screening, trial outcome, spacing between a
patient's infusions). On SQLite and PostgreSQL, 24 writer threads with their own sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from kdash.domain.access import Actor
from kdash.domain.errors import Refused
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, Role
from kdash.storage.database import Database
from tests.seeded import seed_cleared_patient
from tests.services.test_concurrency import _assert_no_chair_overlap, _live, _race

clinical = pytest.importorskip("kdash.services.clinical")

SCHEDULER = Actor("sched.kim", Role.SCHEDULER)
NOW = datetime(2026, 11, 30, 7, 0)  # a Monday morning, before every booking below
WRITERS = 24


def _mon_wed_fri(count: int, start: datetime) -> list[datetime]:
    """``count`` start times on Mondays, Wednesdays and Fridays from ``start`` (two days apart or more)."""
    out: list[datetime] = []
    day = start
    while len(out) < count:
        if day.weekday() in (0, 2, 4):
            out.append(day)
        day += timedelta(days=1)
    return out


def test_twenty_four_writers_fill_one_course_to_exactly_ten(db: Database) -> None:
    with db.write() as s:
        course = seed_cleared_patient(s, "MRN-CRACE-1", trial_given_on=datetime(2026, 11, 27, 9, 0))
    times = _mon_wed_fri(WRITERS, datetime(2026, 12, 2, 9, 0))
    jobs: list[Callable[[], Any]] = [
        (lambda when=when: clinical.book_infusion(db, SCHEDULER, course, when, now=NOW)) for when in times
    ]
    booked, errors = _race(jobs)

    assert len(booked) == MAX_INFUSIONS_PER_COURSE - 1  # the trial was already given
    assert len(errors) == WRITERS - len(booked)
    assert all(isinstance(e, Refused) and str(e) for e in errors), errors
    live = [r for r in _live(db) if r.course_id == course]
    numbers = sorted(r.number for r in live)
    assert numbers == list(range(1, MAX_INFUSIONS_PER_COURSE + 1))
    assert sorted(b.infusion_id for b in booked) == sorted(r.id for r in live if r.number > 1)


def test_twenty_patients_at_one_time_get_distinct_chairs_or_a_reason(db: Database) -> None:
    with db.write() as s:
        courses = [seed_cleared_patient(s, f"MRN-CCHAIR-{i:02d}") for i in range(20)]
    when = datetime(2026, 12, 7, 9, 0)
    jobs: list[Callable[[], Any]] = [
        (lambda c=c: clinical.book_infusion(db, SCHEDULER, c, when, now=NOW)) for c in courses
    ]
    booked, errors = _race(jobs)

    chairs = 4  # DEFAULT_SETTINGS.chairs: every chair taken once, nobody double-booked
    assert len(booked) == chairs
    assert sorted(b.chair for b in booked) == list(range(1, chairs + 1))
    assert all(isinstance(e, Refused) and "chairs are taken" in str(e) for e in errors), errors
    live = _live(db)
    _assert_no_chair_overlap(live)
    assert sorted(b.infusion_id for b in booked) == sorted(r.id for r in live)
