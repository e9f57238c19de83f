"""Booking from the patient page, booking a plan and importing a future booking are one path: the same
rules refuse all three with the same words, and all make the same state change (a planned course
becomes active, with its start date)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kdash.domain.access import Actor
from kdash.domain.errors import Refused
from kdash.domain.vocab import CourseStatus, Role, TrialOutcome
from kdash.interchange.rows import ImportRefused
from kdash.planner.plan import PlannedSlot
from kdash.services.booking import book_infusion, book_plan
from kdash.services.interchange import import_path
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


def _import_folder(db: Database, course_id: int, number: int, folder: Path) -> Path:
    """infusions.csv booking ``number`` of the course at AT on chair 1 (the page's booking)."""
    with db.read() as s:
        course = s.get(Course, course_id)
        assert course is not None
        mrn = course.patient.mrn
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "infusions.csv").write_text(
        f"mrn,course,number,scheduled_at,status,chair\n{mrn},1,{number},{AT:%Y-%m-%dT%H:%M},scheduled,1\n",
        encoding="utf-8",
    )
    return folder


def _from_import(db: Database, course_id: int, number: int) -> None:
    """The import refuses with every problem located at its row; the booking's own words follow."""
    folder = _import_folder(db, course_id, number, Path(tempfile.mkdtemp()))
    try:
        import_path(db, folder, now=NOW)
    except ImportRefused as exc:
        (problem,) = exc.problems
        assert (problem.where, problem.field) == ("infusions.csv:2", "scheduled_at"), str(problem)
        assert problem.message.startswith("cannot be booked: "), problem.message
        raise Refused(problem.message.removeprefix("cannot be booked: ")) from None


BOTH: list[Callable[[Database, int, int], None]] = [_from_page, _from_plan]
#: Every door; the import words the cap and a taken chair itself, naming the rows (its own tests below).
ALL: list[Callable[[Database, int, int], None]] = [_from_page, _from_plan, _from_import]


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


@pytest.mark.parametrize("book", ALL, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("setup", "words"),
    [
        pytest.param({"screened_on": date(2025, 10, 1)}, "older than 12 months", id="rescreening-due"),
        pytest.param({"cleared": False}, "not cleared", id="not-cleared"),
        pytest.param({"outcome": TrialOutcome.NO_BENEFIT}, "no benefit", id="trial-no-benefit"),
        pytest.param({"outcome": TrialOutcome.PENDING}, "trial outcome is pending", id="trial-pending"),
    ],
)
def test_every_gate_refuses_every_door_in_the_same_words(
    db: Database, book: Callable[[Database, int, int], None], setup: dict[str, object], words: str
) -> None:
    """The screening and trial gates refuse the page, the planner and an imported booking alike."""
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT, **setup)  # type: ignore[arg-type]
    before = _count(db)
    messages = []
    for door in (book, _from_page):
        with pytest.raises(Refused, match=words) as refused:
            door(db, course_id, 2)
        messages.append(str(refused.value))
    assert messages[0] == messages[1]  # the same words as the patient page's
    assert _count(db) == before


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


def test_an_import_refuses_the_cap_and_a_taken_chair_at_the_row(db: Database) -> None:
    _, full = add_patient(db, "SYN-F", trial_at=TRIAL_AT - timedelta(days=7), extra_live=9, trial_chair=3)
    with pytest.raises(ImportRefused) as cap:
        import_path(db, _import_folder(db, full, 2, Path(tempfile.mkdtemp())), now=NOW)
    assert {(p.where, p.field) for p in cap.value.problems} == {("infusions.csv:2", "number")}
    assert any("at most 10" in p.message for p in cap.value.problems)
    _, other = add_patient(db, "SYN-B", trial_at=TRIAL_AT)
    _from_page(db, other, 2)  # chair 1 at AT
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT - timedelta(days=3), trial_chair=2)
    with pytest.raises(ImportRefused) as chair:
        import_path(db, _import_folder(db, course_id, 2, Path(tempfile.mkdtemp())), now=NOW)
    assert [(p.where, p.field) for p in chair.value.problems] == [("infusions.csv:2", "chair")]
    assert "chair 1 is held" in chair.value.problems[0].message


@pytest.mark.parametrize("book", ALL, ids=lambda f: f.__name__)
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


def _import_past(db: Database, course_id: int, number: int, at: datetime, chair: int) -> None:
    with db.read() as s:
        course = s.get(Course, course_id)
        assert course is not None
        mrn = course.patient.mrn
    folder = Path(tempfile.mkdtemp())
    (folder / "infusions.csv").write_text(
        "mrn,course,number,scheduled_at,status,chair,escort_confirmed\n"
        f"{mrn},1,{number},{at:%Y-%m-%dT%H:%M},completed,{chair},yes\n",
        encoding="utf-8",
    )
    import_path(db, folder, now=NOW)


def test_an_infusion_already_given_is_imported_as_a_record_without_the_booking_gate(db: Database) -> None:
    """Re-screening is due, which refuses a booking; an infusion already given is what happened, so the
    import records it (docs/clinical-decisions.md, "Imported infusions")."""
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT, screened_on=date(2025, 10, 1))
    with pytest.raises(Refused, match="older than 12 months"):
        _from_import(db, course_id, 2)
    _import_past(db, course_id, 2, TRIAL_AT + timedelta(days=2), chair=1)
    assert _count(db) == 2


def test_an_infusion_already_given_is_still_held_to_the_cap_and_the_chairs(db: Database) -> None:
    _, full = add_patient(db, "SYN-A", trial_at=TRIAL_AT, extra_live=9)
    with pytest.raises(ImportRefused) as cap:
        _import_past(db, full, 11, TRIAL_AT + timedelta(days=2), chair=3)
    assert "10 at most" in str(cap.value.problems[0])
    _, course_id = add_patient(db, "SYN-B", trial_at=TRIAL_AT - timedelta(days=3))
    with pytest.raises(ImportRefused) as chair:  # SYN-A's trial holds chair 1 at TRIAL_AT
        _import_past(db, course_id, 2, TRIAL_AT + timedelta(minutes=30), chair=1)
    assert "chair 1 is held" in str(chair.value.problems[0])
