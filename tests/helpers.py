"""Small helpers shared by the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session


def sqlite_template(path: Path, fill: Callable[[Session], object]) -> Path:
    """A migrated SQLite file at ``path`` holding what ``fill`` writes, made once and then copied by each
    example of a property test (migrating a fresh database per example would dominate its time)."""
    if not path.exists():
        from kdash.storage.database import Database, make_engine
        from kdash.storage.migrate import upgrade

        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with Database(engine=engine).write() as session:
            fill(session)
        engine.dispose()
    return path


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

    from kdash.domain.vocab import CourseStatus, Indication, Sex, TrialOutcome
    from kdash.storage.models import Course, Patient

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


def seed_cleared_patient(
    session: Session,
    mrn: str,
    first: str = "Test",
    last: str = "Patient",
    *,
    escort: str | None = None,
    trial_given_on: object = None,
) -> int:
    """A patient with a cleared screening and an active course; returns the course id.

    With ``trial_given_on`` (a datetime) the trial infusion is completed then, chair 1, and the
    provider recorded ``benefit``: the course may take nine more infusions.
    """
    from datetime import date, datetime

    from kdash.domain.vocab import SCREENING_ITEMS, InfusionStatus, ItemClass, ScreeningDecision, TrialOutcome
    from kdash.storage.models import Course as CourseRow
    from kdash.storage.models import Infusion, ScreeningDecisionRow, ScreeningItem

    patient_id, course_id = seed_patient(session, mrn, first, last, escort=escort)
    assert course_id is not None
    on = date(2026, 11, 2)
    for code, (_, cls, _) in SCREENING_ITEMS.items():
        session.add(
            ScreeningItem(
                patient_id=patient_id,
                item=code,
                result="yes" if cls is ItemClass.REQUIRED else "no",
                recorded_on=on,
                recorded_by="nurse",
            )
        )
    session.add(
        ScreeningDecisionRow(
            patient_id=patient_id, decision=ScreeningDecision.CLEARED.value, decided_on=on, decided_by="dr"
        )
    )
    course = session.get(CourseRow, course_id)
    assert course is not None
    if isinstance(trial_given_on, datetime):
        session.add(
            Infusion(
                course_id=course_id,
                number=1,
                scheduled_at=trial_given_on,
                chair=1,
                status=InfusionStatus.COMPLETED.value,
            )
        )
        course.trial_outcome = TrialOutcome.BENEFIT.value
    else:
        course.trial_outcome = TrialOutcome.PENDING.value
    session.flush()
    return course_id
