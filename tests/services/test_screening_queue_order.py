"""The screening queue is worked in chair order: the patient whose next booked infusion is soonest first."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import CourseStatus, InfusionStatus, TrialOutcome
from kdash.services.screening_queue import screening_queue
from kdash.storage.database import Database
from kdash.storage.models import Patient
from tests.seeded import CLINIC_TODAY as TODAY
from tests.seeded import Clinic, build_clinic, insert_course, insert_infusion

# D0004 (needs review) has waited since three days ago; D0003 (not started) only since today.


@pytest.fixture
def clinic(db: Database) -> tuple[Database, Clinic]:
    return db, build_clinic(db, TODAY)


def book(db: Database, patient_id: int, when: datetime, chair: int = 4) -> None:
    with db.write() as s:
        patient = s.get_one(Patient, patient_id)
        course = insert_course(
            s,
            patient.id,
            indication=patient.indication,
            outcome=TrialOutcome.PENDING,
            status=CourseStatus.PLANNED,
            started=TODAY,
        )
        insert_infusion(s, course.id, 1, when, InfusionStatus.SCHEDULED, chair, escort=True)


def order(db: Database) -> list[str]:
    return [q.mrn for q in screening_queue(db, DEFAULT_SETTINGS, TODAY)]


def test_without_bookings_the_longest_waiting_comes_first(clinic: tuple[Database, Clinic]) -> None:
    db, _ = clinic
    assert order(db) == ["D0004", "D0003"]


def test_a_patient_in_a_chair_today_comes_before_those_waiting_longer(
    clinic: tuple[Database, Clinic],
) -> None:
    db, c = clinic
    book(db, c.ids["not_screened"], datetime.combine(TODAY, time(15, 0)))
    queue = screening_queue(db, DEFAULT_SETTINGS, TODAY)
    assert [q.mrn for q in queue] == ["D0003", "D0004"]
    assert queue[0].next_infusion == datetime.combine(TODAY, time(15, 0))
    assert queue[1].next_infusion is None


def test_the_sooner_booking_comes_first(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    book(db, c.ids["not_screened"], datetime.combine(TODAY + timedelta(days=2), time(9, 0)))
    book(db, c.ids["needs_review"], datetime.combine(TODAY + timedelta(days=1), time(9, 0)))
    assert order(db) == ["D0004", "D0003"]


def test_a_booking_before_today_does_not_count(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    book(db, c.ids["not_screened"], datetime.combine(TODAY - timedelta(days=1), time(15, 0)))
    assert order(db) == ["D0004", "D0003"]
    assert all(q.next_infusion is None for q in screening_queue(db, DEFAULT_SETTINGS, TODAY))
