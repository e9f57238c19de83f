"""Imported infusions: a future booking goes through THE booking path; a past infusion is a record.

An import row for a new infusion that is ``scheduled`` from the import's moment on is a booking like one
made on the patient page or the planner, so it is booked by :func:`kdash.services.booking.book_in_transaction`
inside the import's own transaction: the same screening and re-screening gate, trial outcome, cap of ten,
chair, clinic hours and spacing, and the same state change (a planned course becomes active, with its
start date). A refusal is reported at the row, in the booking's own words, and nothing is imported.

Everything else (a completed, cancelled or no-show infusion, a booking already in the past, a change to
a stored infusion) records what already happened: the import's own checks hold it to the cap of ten live
infusions per course, one per number, and to one patient per chair for the chair time, but not to the
booking-time screening gate (docs/clinical-decisions.md, "Imported infusions").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.domain.access import Actor
from kdash.domain.errors import Refused
from kdash.domain.vocab import InfusionStatus
from kdash.interchange.rows import Kind, Problem, Row
from kdash.interchange.store import Stored, Summary
from kdash.services.booking import Slot, book_in_transaction
from kdash.storage.models import INFUSION_SESSION_FIELDS, Course, Patient

#: What a future booking may carry besides its key: the session record is written on the day.
_BOOKING_FIELDS = {"number", "scheduled_at", "status", "chair", "escort_confirmed"}


def is_future_booking(row: Row, stored: Stored, now: datetime) -> bool:
    """A new infusion row, scheduled at or after ``now``: a booking, not a record of the past."""
    return (
        row.kind is Kind.INFUSION
        and row.values.get("status", InfusionStatus.SCHEDULED.value) == InfusionStatus.SCHEDULED.value
        and row.values["scheduled_at"] >= now
        and stored.find(row) is None
    )


def booking_field_problems(rows: Sequence[Row]) -> list[Problem]:
    """A future booking that already carries session values (dose, vitals, discharge) is a mistake."""
    problems = []
    for row in rows:
        given = {f for f, v in row.values.items() if v is not None}
        extra = sorted(given & set(INFUSION_SESSION_FIELDS) - _BOOKING_FIELDS)
        if extra:
            problems.append(
                Problem(
                    row.where,
                    row.column(extra[0]),
                    "a future booking has no session record yet; leave the session values empty "
                    "and record them on the day",
                )
            )
    return problems


def book_imported(
    session: Session, actor: Actor, rows: Sequence[Row], summary: Summary, now: datetime
) -> list[Problem]:
    """Book each future row, earliest first, through the one booking path; the problems of those
    refused (the import is then refused as a whole, so nothing stays booked)."""
    problems: list[Problem] = []
    for row in sorted(rows, key=lambda r: (r.values["scheduled_at"], r.where)):
        course_id = session.scalar(
            select(Course.id)
            .join(Patient, Patient.id == Course.patient_id)
            .where(Patient.mrn == row.mrn, Course.number == row.key[1])
        )
        if course_id is None:  # check() already reported a course neither imported nor stored
            continue
        slot = Slot(
            row.values["scheduled_at"],
            row.values.get("chair"),
            row.values["number"],
            row.values.get("escort_confirmed"),
        )
        try:
            book_in_transaction(session, actor, course_id, (slot,), today=now.date(), now=now, one=True)
        except Refused as exc:
            problems.append(Problem(row.where, row.column("scheduled_at"), f"cannot be booked: {exc}"))
            continue
        summary.add(row.source, "created")
    return problems
