"""Many people booking at once: the ten-per-course cap and chair bookings hold on both databases.

Every writer books through the clinic's booking service (``kdash.services.clinical.book_infusion``),
asking for the chair it wants (``chair=``). Each writer is a thread with its own session (as each
browser session of the app is). They start together behind a barrier; afterwards the database must
hold no eleventh live infusion, no chair booked twice for overlapping chair time, every accepted
booking (no write lost), and every refused writer must have been told why in words.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from kdash.domain.access import Actor
from kdash.domain.errors import Refused
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import LIVE_INFUSION_STATUSES, MAX_INFUSIONS_PER_COURSE, Role
from kdash.services.booking import Booking, book_infusion
from kdash.services.locks import retry_lost_race
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, Infusion
from tests.seeded import seed_cleared_patient

SCHEDULER = Actor("sched.kim", Role.SCHEDULER)
NOW = datetime(2026, 11, 30, 7, 0)  # "now" when booking: a Monday morning before every slot below
TRIAL_GIVEN = datetime(2026, 11, 27, 9, 0)  # the trial (benefit) was given the Friday before
MONDAY = datetime(2026, 12, 7, 8, 0)
WRITERS = 24


def _race(jobs: list[Callable[[], Booking]]) -> tuple[list[Booking], list[Exception]]:
    """Run every job in its own thread, all released at once; returns (bookings, exceptions)."""
    barrier = threading.Barrier(len(jobs))
    booked: list[Booking] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def worker(job: Callable[[], Booking]) -> None:
        barrier.wait()
        try:
            result = job()
        except Exception as exc:  # every failure is collected and judged by the test
            with lock:
                errors.append(exc)
        else:
            with lock:
                booked.append(result)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return booked, errors


def _live(db: Database) -> list[Infusion]:
    with db.read() as s:
        return list(
            s.scalars(
                select(Infusion).where(Infusion.status.in_([st.value for st in LIVE_INFUSION_STATUSES]))
            )
        )


def _assert_no_chair_overlap(rows: list[Infusion]) -> None:
    span = timedelta(minutes=DEFAULT_SETTINGS.chair_minutes)
    by_chair: dict[int | None, list[datetime]] = {}
    for r in rows:
        by_chair.setdefault(r.chair, []).append(r.scheduled_at)
    for chair, starts in by_chair.items():
        starts.sort()
        for a, b in itertools.pairwise(starts):
            assert b - a >= span, f"chair {chair} double-booked at {a} and {b}"


def _slot(i: int) -> tuple[datetime, int]:
    """Distinct slots two days apart or more (the spacing rule), on open weekdays, chairs 1-4 in turn."""
    day = MONDAY
    for _ in range(i):
        day += timedelta(days=3 if day.weekday() == 4 else 2)  # Mon, Wed, Fri, Mon, ...
    return day + timedelta(hours=2 * (i % 4)), 1 + i % 4


def test_twenty_four_writers_on_one_course_book_exactly_ten(db: Database) -> None:
    with db.write() as s:
        course_id = seed_cleared_patient(s, "MRN-RACE-1", trial_given_on=TRIAL_GIVEN)
    jobs = [
        (lambda when=when, chair=chair: book_infusion(db, SCHEDULER, course_id, when, now=NOW, chair=chair))
        for when, chair in (_slot(i) for i in range(WRITERS))
    ]
    booked, errors = _race(jobs)

    # The trial counts toward ten: nine writers win, and the course holds exactly ten live infusions.
    assert len(booked) == MAX_INFUSIONS_PER_COURSE - 1
    assert len(errors) == WRITERS - len(booked)
    assert all(isinstance(e, Refused) and "already holds 10 infusions" in str(e) for e in errors), errors
    live = _live(db)
    assert sorted(r.number for r in live) == list(range(1, MAX_INFUSIONS_PER_COURSE + 1))
    # No write lost: every booking a writer was told about is in the database, and nothing else.
    assert sorted(b.infusion_id for b in booked) == sorted(r.id for r in live if r.number > 1)
    with db.read() as s:
        audited = sorted(
            s.scalars(
                select(AuditEvent.entity_id).where(
                    AuditEvent.action == "book_infusion", AuditEvent.outcome == "ok"
                )
            )
        )
    assert audited == sorted(b.infusion_id for b in booked)


def test_twenty_writers_on_one_chair_never_double_book(db: Database) -> None:
    """Twenty patients want chair 1 on one morning at half-hour steps: only non-overlapping ones win."""
    with db.write() as s:
        courses = [seed_cleared_patient(s, f"MRN-CHAIR-{i:02d}") for i in range(20)]
    starts = [MONDAY + timedelta(minutes=30 * (i % 10)) for i in range(20)]  # 08:00-12:30, twice each
    jobs = [
        (lambda c=c, when=when: book_infusion(db, SCHEDULER, c, when, now=NOW, chair=1))
        for c, when in zip(courses, starts, strict=True)
    ]
    booked, errors = _race(jobs)

    assert len(booked) + len(errors) == 20
    # Starts spread over 08:00-12:30 with two-hour chair time: whoever wins first, two or three fit.
    assert 2 <= len(booked) <= 3
    assert all(isinstance(e, Refused) and "Chair 1 is taken" in str(e) for e in errors), errors
    live = _live(db)
    _assert_no_chair_overlap(live)
    assert sorted(b.infusion_id for b in booked) == sorted(r.id for r in live)


def test_mixed_writers_keep_every_invariant(db: Database) -> None:
    """Two courses, two chairs, overlapping times: cap, numbers and chairs all hold together."""
    with db.write() as s:
        c1 = seed_cleared_patient(s, "MRN-MIX-1", trial_given_on=TRIAL_GIVEN)
        c2 = seed_cleared_patient(s, "MRN-MIX-2", trial_given_on=TRIAL_GIVEN + timedelta(hours=2))
    jobs: list[Callable[[], Booking]] = []
    for i in range(30):
        course = c1 if i % 3 else c2
        when = MONDAY + timedelta(days=i % 5, minutes=60 * (i % 4))
        chair = 1 + i % 2
        jobs.append(lambda c=course, w=when, ch=chair: book_infusion(db, SCHEDULER, c, w, now=NOW, chair=ch))
    booked, errors = _race(jobs)

    assert all(isinstance(e, Refused) for e in errors), errors
    live = _live(db)
    _assert_no_chair_overlap(live)
    for course in (c1, c2):
        numbers = [r.number for r in live if r.course_id == course]
        assert len(numbers) <= MAX_INFUSIONS_PER_COURSE
        assert len(numbers) == len(set(numbers))
    assert sorted(b.infusion_id for b in booked) == sorted(r.id for r in live if r.number > 1)


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("lost race")
        self.sqlstate = sqlstate


def _integrity(sqlstate: str) -> IntegrityError:
    return IntegrityError("INSERT ...", {}, _Orig(sqlstate))


@pytest.mark.parametrize(
    "exc",
    [_integrity("23505"), OperationalError("UPDATE ...", {}, _Orig("40001"))],
    ids=["unique_violation", "serialization_failure"],
)
def test_a_lost_race_is_retried_once_then_reported(exc: Exception) -> None:
    calls: list[int] = []

    def flaky_then_ok() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise exc
        return "booked"

    assert retry_lost_race(flaky_then_ok) == "booked"
    assert len(calls) == 2

    def always_loses() -> Any:
        raise exc

    with pytest.raises(Refused, match="saved at the same moment"):
        retry_lost_race(always_loses)


def test_other_database_errors_are_not_swallowed() -> None:
    def broken() -> Any:
        raise _integrity("23503")  # foreign key violation: a bug, not a race

    with pytest.raises(IntegrityError):
        retry_lost_race(broken)
