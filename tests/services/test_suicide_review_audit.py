"""A suicide-risk review is audited on the patient it is about, at the service's clock, allowed or refused.

The audit trail is what a reviewer reads after an incident: the event must name the patient, the review
and the moment, and a refused attempt must be found under the review's own name.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

from kdash.domain.access import Actor, Forbidden
from kdash.domain.errors import NotFound
from kdash.domain.vocab import Role
from kdash.services import clinical
from kdash.storage.database import Database
from kdash.storage.models import Assessment, AuditEvent, Course, SuicideReview
from tests.seeded import seed_cleared_patient

PROVIDER = Actor("dr.a", Role.PROVIDER)
NURSE = Actor("nurse.b", Role.NURSE)
NOW = datetime(2026, 12, 6, 9, 0)


@pytest.fixture
def patient_id(sqlite_db: Database) -> int:
    with sqlite_db.write() as s:
        cid = seed_cleared_patient(s, "REV-1")
        return s.get_one(Course, cid).patient_id


def _events(db: Database) -> list[AuditEvent]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "record_suicide_review")))


def test_a_review_is_audited_on_its_patient_at_the_services_clock(
    sqlite_db: Database, patient_id: int
) -> None:
    review_id = clinical.record_suicide_review(
        sqlite_db, PROVIDER, patient_id, "safety_plan", date(2026, 12, 6), note="safety plan agreed", now=NOW
    )
    (event,) = _events(sqlite_db)
    assert (event.username, event.outcome, event.patient_id) == ("dr.a", "ok", patient_id)
    assert (event.entity, event.entity_id, event.occurred_at) == ("suicide_review", review_id, NOW)
    assert json.loads(event.after_json or "{}") == {
        "action": "safety_plan",
        "reviewed_on": "2026-12-06",
        "assessment_id": None,
    }
    with sqlite_db.read() as s:
        row = s.get_one(SuicideReview, review_id)
    assert (row.patient_id, row.reviewed_by, row.reviewed_on) == (patient_id, "dr.a", date(2026, 12, 6))


def test_a_refused_review_is_audited_under_its_own_name(sqlite_db: Database, patient_id: int) -> None:
    with pytest.raises(Forbidden):
        clinical.record_suicide_review(
            sqlite_db, NURSE, patient_id, "safety_plan", date(2026, 12, 6), note="tried", now=NOW
        )
    (event,) = _events(sqlite_db)
    assert (event.username, event.outcome, event.patient_id, event.occurred_at) == (
        "nurse.b",
        "refused",
        patient_id,
        NOW,
    )
    with sqlite_db.read() as s:
        assert s.scalars(select(SuicideReview)).all() == []


def test_a_review_cannot_point_at_another_patients_score(sqlite_db: Database, patient_id: int) -> None:
    with sqlite_db.write() as s:
        other = s.get_one(Course, seed_cleared_patient(s, "REV-2")).patient_id
        theirs = Assessment(
            patient_id=other, instrument="PHQ-9", score=12, item9=1, taken_on=date(2026, 12, 5)
        )
        s.add(theirs)
        s.flush()
        their_score = theirs.id
    with pytest.raises(NotFound, match="not one of this patient's scores"):
        clinical.record_suicide_review(
            sqlite_db, PROVIDER, patient_id, "safety_plan", date(2026, 12, 6), note="n",
            assessment_id=their_score, now=NOW,
        )  # fmt: skip
    with sqlite_db.read() as s:
        assert s.scalars(select(SuicideReview)).all() == []
