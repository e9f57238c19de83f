"""Small helpers shared by the security tests."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def drop_append_only_triggers(session: Session) -> None:
    """What an attacker with owner rights on the database would do before editing the audit trail."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))


def seed_patient(
    session: Session,
    mrn: str,
    first: str = "Test",
    last: str = "Patient",
    *,
    escort: str | None = None,
    course: bool = True,
) -> tuple[int, int | None]:
    """A synthetic patient (with one course unless told not to); returns (patient id, course id)."""
    from datetime import date

    from kdash.models import Course, Patient
    from kdash.vocab import CourseStatus, Indication, Sex, TrialOutcome

    patient = Patient(
        mrn=mrn,
        first_name=first,
        last_name=last,
        date_of_birth=date(1980, 5, 17),
        sex=Sex.FEMALE.value,
        indication=Indication.DEPRESSION.value,
        provider="Dr A. Demo",
        escort_name=escort,
        escort_phone="555-0100",
    )
    session.add(patient)
    session.flush()
    course_id = None
    if course:
        c = Course(
            patient_id=patient.id,
            number=1,
            indication=Indication.DEPRESSION.value,
            started_on=date(2026, 11, 2),
            trial_outcome=TrialOutcome.BENEFIT.value,
            status=CourseStatus.ACTIVE.value,
        )
        session.add(c)
        session.flush()
        course_id = c.id
    return patient.id, course_id
