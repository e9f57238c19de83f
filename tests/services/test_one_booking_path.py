"""Booking from the patient page and booking a plan are one path: the same rules refuse both, and both
make the same state change (a planned course becomes active, with its start date)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from kdash.domain.access import Actor
from kdash.domain.errors import Refused
from kdash.domain.vocab import CourseStatus, Role, TrialOutcome
from kdash.planner.plan import PlannedSlot
from kdash.services.booking import book_infusion, book_plan
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, Course, Infusion
from tests.seeded import BOOKING_TODAY as TODAY
from tests.seeded import add_patient

SCHEDULER = Actor("sched", Role.SCHEDULER, "Scheduler")
NOW = datetime.combine(TODAY, datetime.min.time()).replace(hour=7)
TRIAL_AT = datetime(2026, 11, 16, 9)
AT = datetime(2026, 11, 30, 9)  # a Monday, within opening hours


def _from_page(db: Database, course_id: int, number: int) -> None:
    book_infusion(db, SCHEDULER, course_id, AT, now=NOW, chair=1)


def _from_plan(db: Database, course_id: int, number: int) -> None:
    slot = PlannedSlot(number, AT, AT + timedelta(hours=1), 1, AT.date())
    book_plan(db, SCHEDULER, course_id, [slot], today=TODAY)


BOTH: list[Callable[[Database, int, int], None]] = [_from_page, _from_plan]


def _count(db: Database) -> int:
    with db.read() as s:
        return len(s.scalars(select(Infusion)).all())


def test_booking_from_the_patient_page_when_rescreening_is_due_is_refused(db: Database) -> None:
    """The screening is older than 12 months: the planner refused this; the patient page booked it."""
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT, screened_on=date(2025, 10, 1))
    with pytest.raises(Refused, match="older than 12 months"):
        book_infusion(db, SCHEDULER, course_id, AT, now=NOW)
    assert _count(db) == 1
    with db.read() as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert [e.action for e in refused] == ["book_infusion"]


@pytest.mark.parametrize("book", BOTH, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("setup", "words"),
    [
        pytest.param({"screened_on": date(2025, 10, 1)}, "older than 12 months", id="rescreening-due"),
        pytest.param({"cleared": False}, "not cleared", id="not-cleared"),
        pytest.param({"outcome": TrialOutcome.NO_BENEFIT}, "no benefit", id="trial-no-benefit"),
        pytest.param({"outcome": TrialOutcome.PENDING}, "trial outcome is pending", id="trial-pending"),
        pytest.param({"extra_live": 9}, "already holds 10 infusions", id="cap-of-ten"),
    ],
)
def test_every_rule_refuses_every_booking_path(
    db: Database, book: Callable[[Database, int, int], None], setup: dict[str, object], words: str
) -> None:
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT, **setup)  # type: ignore[arg-type]
    before = _count(db)
    with pytest.raises(Refused, match=words):
        book(db, course_id, 2)
    assert _count(db) == before


@pytest.mark.parametrize("book", BOTH, ids=lambda f: f.__name__)
def test_a_taken_chair_refuses_every_booking_path(
    db: Database, book: Callable[[Database, int, int], None]
) -> None:
    _, other = add_patient(db, "SYN-B", trial_at=TRIAL_AT)
    _from_page(db, other, 2)
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT - timedelta(days=3), trial_chair=2)
    with pytest.raises(Refused, match="(?i)chair 1 is taken|chair was booked"):
        book(db, course_id, 2)


@pytest.mark.parametrize("book", BOTH, ids=lambda f: f.__name__)
def test_every_booking_path_starts_a_planned_course(
    db: Database, book: Callable[[Database, int, int], None]
) -> None:
    """The trial of a planned course, booked either way, makes the course active from that day."""
    _, course_id = add_patient(db, "SYN-A")
    with db.write() as s:
        course = s.get(Course, course_id)
        assert course is not None
        course.status, course.trial_outcome = CourseStatus.PLANNED.value, TrialOutcome.PENDING.value
    book(db, course_id, 1)
    with db.read() as s:
        course = s.get(Course, course_id)
        assert course is not None
        assert (course.status, course.started_on) == (CourseStatus.ACTIVE.value, AT.date())
