"""The clinical writes a patient's page makes, in one place for the pages: each lives in its own module.

Field checks (:mod:`kdash.services.field_checks`), screening (:mod:`kdash.services.screening_records`),
scores and suicide-risk reviews (:mod:`kdash.services.scores`), infusion records
(:mod:`kdash.services.infusions`), courses and trial outcomes (:mod:`kdash.services.courses`) and
booking (:mod:`kdash.services.booking`, the one booking path). Each function checks the role, validates
every field, applies the rules and writes in one transaction with its audit event; a value on record is
amended with a reason, never overwritten (:func:`kdash.storage.amendments.record_or_amend`).
"""

from __future__ import annotations

from datetime import datetime

from kdash.domain.access import Action, Actor
from kdash.services import booking as _booking
from kdash.services import courses as _courses
from kdash.services import infusions as _infusions
from kdash.services import scores as _scores
from kdash.services import screening_records as _screening
from kdash.services.booking import Booking, PlanResult, SlotTaken
from kdash.services.courses import NewCourse, TrialOutcomeResult, trial_suggestion
from kdash.services.field_checks import MAX_TEXT, live_patient, now_naive
from kdash.services.guard import authorize
from kdash.services.infusions import INFUSION_RECORD_FIELDS
from kdash.services.refusals import refusing_database_errors
from kdash.storage import audit_chain as audit
from kdash.storage.database import Database

__all__ = [
    "INFUSION_RECORD_FIELDS",
    "MAX_TEXT",
    "Booking",
    "NewCourse",
    "PlanResult",
    "SlotTaken",
    "TrialOutcomeResult",
    "book_infusion",
    "book_plan",
    "cancel_infusion",
    "delete_assessment",
    "record_assessment",
    "record_infusion",
    "record_patient_view",
    "record_screening_decision",
    "record_screening_item",
    "record_suicide_review",
    "record_trial_outcome",
    "start_course",
    "trial_suggestion",
]

# The writes a form makes: a database error (a writer at the same moment, a locked database, a value
# only the database refuses) reaches the form as a DatabaseRefused in words, like any other refusal.
book_infusion = refusing_database_errors(_booking.book_infusion)
book_plan = refusing_database_errors(_booking.book_plan)
cancel_infusion = refusing_database_errors(_infusions.cancel_infusion)
delete_assessment = refusing_database_errors(_scores.delete_assessment)
record_assessment = refusing_database_errors(_scores.record_assessment)
record_infusion = refusing_database_errors(_infusions.record_infusion)
record_screening_decision = refusing_database_errors(_screening.record_screening_decision)
record_screening_item = refusing_database_errors(_screening.record_screening_item)
record_suicide_review = refusing_database_errors(_scores.record_suicide_review)
record_trial_outcome = refusing_database_errors(_courses.record_trial_outcome)
start_course = refusing_database_errors(_courses.start_course)


def record_patient_view(db: Database, actor: Actor, patient_id: int, now: datetime | None = None) -> None:
    """Opening a patient's record is itself an audit event ("view_patient")."""
    moment = now_naive(now)
    authorize(db, actor, Action.VIEW_CLINICAL, patient_id=patient_id, now=moment)
    with db.write() as session:
        live_patient(session, patient_id)
        audit.record(session, actor, "view_patient", patient_id=patient_id, entity="patient",
                     entity_id=patient_id, now=moment)  # fmt: skip
