"""Read queries for the planner: targeted, never a scan of the whole history.

The patient by MRN, their courses with their infusions (made into records by
:func:`kdash.storage.patient_records.load_records`, the one place rows become records), their screening
answers and decisions, and the clinic's live bookings and closures inside a window (indexed on
``infusion.scheduled_at`` and the closure's primary key). Judging them is the services' job
(:mod:`kdash.services.planner_inputs`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kdash.domain.errors import NotFound
from kdash.domain.identifiers import mrn_key
from kdash.domain.records import CourseRec, LiveBooking, ScreeningDecisionRec, ScreeningItemRec
from kdash.storage.models import Closure, Course, Infusion, Patient, live_infusion_clause
from kdash.storage.patient_records import load_records
from kdash.storage.screening_summary import load_answers


def patient_id_for_mrn(session: Session, mrn: str) -> int:
    """The id of the (not deleted) patient with this MRN; NotFound without the MRN in the message."""
    wanted = mrn_key(mrn)
    found = session.scalar(
        select(Patient.id).where(func.lower(Patient.mrn) == wanted, Patient.deleted_at.is_(None))
    )
    if found is None:
        raise NotFound("No patient with that MRN.")
    return found


def load_courses(session: Session, patient_id: int) -> tuple[CourseRec, ...]:
    """Every course of the patient with its infusions, in course order."""
    record = load_records(session, [patient_id]).get(patient_id)
    return () if record is None else record.courses


def load_screening_answers(
    session: Session, patient_id: int
) -> tuple[list[ScreeningItemRec], list[ScreeningDecisionRec]]:
    """The patient's screening answers and provider decisions, oldest first."""
    items, decisions = load_answers(session, [patient_id])
    return items.get(patient_id, []), decisions.get(patient_id, [])


def live_bookings(session: Session, first: date, last: date) -> list[LiveBooking]:
    """The clinic's live infusions from ``first`` to ``last`` (both included), as planner bookings.

    Thousands of plain rows: read through the connection (Core), which skips the ORM's per-row work
    (docs/performance.md).
    """
    rows = session.connection().execute(
        select(Infusion.scheduled_at, Infusion.chair, Course.patient_id, Infusion.course_id)
        .join(Course, Course.id == Infusion.course_id)
        .where(
            live_infusion_clause(),  # type: ignore[arg-type]
            Infusion.scheduled_at >= datetime.combine(first, time()),
            Infusion.scheduled_at < datetime.combine(last + timedelta(days=1), time()),
        )
    )
    return [LiveBooking(start=r[0], chair=r[1], patient_id=r[2], course_id=r[3]) for r in rows]


def closures_between(session: Session, first: date, last: date) -> frozenset[date]:
    return frozenset(session.scalars(select(Closure.day).where(Closure.day >= first, Closure.day <= last)))
