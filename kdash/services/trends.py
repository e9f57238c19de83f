"""The trend chart's read: one patient's live scores and infusions, shaped by :mod:`kdash.rules.trends`."""

from __future__ import annotations

from sqlalchemy import select

from kdash.domain.access import Actor
from kdash.domain.policy import ClinicPolicy
from kdash.rules.trends import PatientTrend, assemble_trend
from kdash.services import minimum_necessary
from kdash.storage.database import Database
from kdash.storage.models import Assessment, Course, Infusion, Patient, live_infusion_clause
from kdash.storage.patient_records import patient_rec


def patient_trend(
    db: Database, settings: ClinicPolicy, patient_id: int, actor: Actor | None = None
) -> PatientTrend | None:
    """The chart's data for one patient, from three narrow queries: the patient, their live scores and
    their live infusions. The chart needs nothing else, so the rest of the record stays in the database
    (docs/performance.md: 5 ms is the target for a patient with years of scores)."""
    with db.read() as session:
        row = session.execute(
            select(Patient.__table__).where(Patient.id == patient_id, Patient.deleted_at.is_(None))
        ).first()
        if row is None:
            return None
        scores = session.execute(
            select(Assessment.instrument, Assessment.taken_on, Assessment.score)
            .where(Assessment.patient_id == patient_id, Assessment.deleted_at.is_(None))
            .order_by(Assessment.taken_on, Assessment.id)
        ).all()
        live = session.execute(
            select(Infusion.scheduled_at, Infusion.status, Course.number, Infusion.number)
            .join(Course, Course.id == Infusion.course_id)
            .where(Course.patient_id == patient_id, live_infusion_clause())  # type: ignore[arg-type]
        ).all()
    trend = assemble_trend(
        patient_rec(row),
        [(i, d, v) for i, d, v in scores],
        [(at, status, course_number, number) for at, status, course_number, number in live],
        settings,
    )
    return minimum_necessary.trend_for(actor, trend)
