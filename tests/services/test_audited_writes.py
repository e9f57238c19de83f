"""The trial outcome and deleting a score are audited with what changed; no benefit stops the course.

Both were surviving mutants: the audit call could be removed from either service and no test failed.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

from kdash.domain.access import Actor
from kdash.domain.errors import Refused
from kdash.domain.vocab import Role
from kdash.services import clinical
from kdash.storage.database import Database
from kdash.storage.models import Assessment, AuditEvent, Course
from tests.seeded import seed_cleared_patient

PROVIDER = Actor("dr.a", Role.PROVIDER)
NOW = datetime(2026, 12, 6, 9, 0)


def _events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as s:
        return list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome != "refused"))
        )


@pytest.fixture
def course_id(sqlite_db: Database) -> int:
    with sqlite_db.write() as s:
        cid = seed_cleared_patient(s, "AUD-1", trial_given_on=datetime(2026, 12, 1, 9))
        s.get_one(Course, cid).trial_outcome = "pending"
    return cid


def test_recording_the_trial_outcome_is_audited_and_no_benefit_stops_the_course(
    sqlite_db: Database, course_id: int
) -> None:
    clinical.record_trial_outcome(sqlite_db, PROVIDER, course_id, "no_benefit", now=NOW)
    (event,) = _events(sqlite_db, "record_trial_outcome")
    assert event.username == "dr.a"
    assert event.entity == "course"
    assert event.entity_id == course_id
    assert json.loads(event.before_json or "{}")["trial_outcome"] == "pending"
    assert json.loads(event.after_json or "{}")["trial_outcome"] == "no_benefit"
    with sqlite_db.read() as s:
        assert s.get_one(Course, course_id).status == "stopped"
    with pytest.raises(Refused):
        clinical.book_infusion(sqlite_db, PROVIDER, course_id, datetime(2026, 12, 8, 9), now=NOW)


def test_deleting_a_score_is_audited_with_the_score_it_removed(sqlite_db: Database, course_id: int) -> None:
    with sqlite_db.write() as s:
        patient_id = s.get_one(Course, course_id).patient_id
        row = Assessment(
            patient_id=patient_id, instrument="PHQ-9", score=17, item9=0, taken_on=date(2026, 12, 1)
        )
        s.add(row)
        s.flush()
        score_id = row.id
    clinical.delete_assessment(sqlite_db, PROVIDER, score_id, "entered for the wrong patient", now=NOW)
    (event,) = _events(sqlite_db, "delete_assessment")
    assert event.entity_id == score_id
    assert event.patient_id == patient_id
    assert json.loads(event.before_json or "{}")["score"] == 17
    assert event.reason == "entered for the wrong patient"
    with sqlite_db.read() as s:
        assert s.get_one(Assessment, score_id).deleted_at is not None
