"""Open courses (planned, active) of active patients, with their progress and the dates that matter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import cast

from sqlalchemy import ColumnElement, func, select

from kdash.domain.vocab import InfusionStatus
from kdash.services.roster import OPEN_COURSE_STATUSES
from kdash.storage.database import Database
from kdash.storage.models import Course, Infusion, Patient, active_patient_clause, live_infusion_clause

#: The model's shared clauses, typed for the query builder.
_LIVE = cast("ColumnElement[bool]", live_infusion_clause())
_ACTIVE = cast("ColumnElement[bool]", active_patient_clause())


@dataclass(frozen=True, slots=True)
class CourseRow:
    course_id: int
    patient_id: int
    mrn: str
    name: str
    indication: str
    number: int
    status: str
    trial_outcome: str
    live: int
    completed: int
    next_booking: datetime | None
    expected_end: date | None


def active_courses(db: Database, today: date) -> list[CourseRow]:
    """Open courses (planned, active) of active patients with progress and the dates that matter."""
    start = datetime.combine(today, time.min)
    with db.read() as session:
        stats = (
            select(
                Infusion.course_id,
                func.count().filter(_LIVE).label("live"),
                func.count().filter(Infusion.status == InfusionStatus.COMPLETED.value).label("completed"),
                func.min(Infusion.scheduled_at)
                .filter(Infusion.status == InfusionStatus.SCHEDULED.value, Infusion.scheduled_at >= start)
                .label("next_at"),
                func.max(Infusion.scheduled_at).filter(_LIVE).label("last_at"),
            )
            .group_by(Infusion.course_id)
            .subquery()
        )
        rows = session.execute(
            select(
                Course.id,
                Course.patient_id,
                Patient.mrn,
                Patient.last_name,
                Patient.first_name,
                Course.indication,
                Course.number,
                Course.status,
                Course.trial_outcome,
                func.coalesce(stats.c.live, 0).label("live"),
                func.coalesce(stats.c.completed, 0).label("completed"),
                stats.c.next_at,
                stats.c.last_at,
            )
            .join(Patient, Patient.id == Course.patient_id)
            .outerjoin(stats, stats.c.course_id == Course.id)
            .where(_ACTIVE, Course.status.in_(OPEN_COURSE_STATUSES))
            .order_by(Patient.last_name, Patient.first_name, Course.number)
        ).all()
    return [
        CourseRow(
            course_id=r.id,
            patient_id=r.patient_id,
            mrn=r.mrn,
            name=f"{r.last_name}, {r.first_name}",
            indication=r.indication,
            number=r.number,
            status=r.status,
            trial_outcome=r.trial_outcome,
            live=int(r.live),
            completed=int(r.completed),
            next_booking=r.next_at,
            # docs/clinical-reference.md, Planning decisions: course end is the date of its last live or
            # planned infusion.
            expected_end=r.last_at.date() if r.last_at is not None else None,
        )
        for r in rows
    ]
