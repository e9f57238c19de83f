"""The screening queue: active patients whose screening is not cleared, needs review, or is due again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import cast

from sqlalchemy import ColumnElement, func, select

from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import InfusionStatus, ScreeningStatus
from kdash.rules.screening import add_months, rescreen_due
from kdash.storage import screening_summary
from kdash.storage.context import load_contexts
from kdash.storage.database import Database
from kdash.storage.models import (
    Course,
    Infusion,
    Patient,
    ScreeningItem,
    active_patient_clause,
    live_infusion_clause,
)
from kdash.storage.patient_records import patient_rec

#: The model's shared clauses, typed for the query builder.
_LIVE = cast("ColumnElement[bool]", live_infusion_clause())
_ACTIVE = cast("ColumnElement[bool]", active_patient_clause())


@dataclass(frozen=True, slots=True)
class QueueRow:
    patient_id: int
    mrn: str
    name: str
    provider: str
    indication: str
    status: str
    waiting_since: date | None
    what_is_missing: str
    #: The patient's next booked infusion from today on: who sits in a chair soonest is worked first.
    next_infusion: datetime | None = None


def screening_queue(db: Database, settings: ClinicPolicy, today: date) -> list[QueueRow]:
    """Active patients whose screening is not cleared, needs review, or is due again.

    Sorted by the next booked infusion (a patient in a chair today first: the screening must be
    settled before dosing), then those with nothing booked, oldest waiting first.
    """
    where = _ACTIVE
    with screening_summary.read_current(db, settings) as session:
        patients = {r.id: patient_rec(r) for r in session.execute(select(Patient.__table__).where(where))}
        screenings = screening_summary.assessments(session, where)
        first_item = dict(
            session.execute(
                select(ScreeningItem.patient_id, func.min(ScreeningItem.recorded_on))
                .join(Patient, Patient.id == ScreeningItem.patient_id)
                .where(where)
                .group_by(ScreeningItem.patient_id)
            ).all()
        )
        created = dict(session.execute(select(Patient.id, Patient.created_at).where(where)).all())
        next_booked = dict(
            session.execute(
                select(Course.patient_id, func.min(Infusion.scheduled_at))
                .join(Infusion, Infusion.course_id == Course.id)
                .join(Patient, Patient.id == Course.patient_id)
                .where(
                    where,
                    Infusion.status == InfusionStatus.SCHEDULED.value,
                    Infusion.scheduled_at >= datetime.combine(today, time.min),
                )
                .group_by(Course.patient_id)
            ).all()
        )
        course_counts = dict(
            session.execute(
                select(Course.patient_id, func.count())
                .join(Patient, Patient.id == Course.patient_id)
                .where(where)
                .group_by(Course.patient_id)
            ).all()
        )
        # Only a screening past its interval, or a patient with more than one course, can be due again
        # (rescreen_due's two reasons): load the full records of those alone.
        maybe_due = [
            pid
            for pid, s in screenings.items()
            if s.cleared
            and (
                course_counts.get(pid, 0) > 1
                or (
                    s.screened_on is not None
                    and add_months(s.screened_on, settings.rescreen_after_months) < today
                )
            )
        ]
        contexts = load_contexts(session, maybe_due) if maybe_due else {}
    rows = []
    for pid, p in patients.items():
        s = screenings.get(pid)
        reasons: tuple[str, ...]
        since: date | None
        if s is None:
            status, reasons, since = (
                ScreeningStatus.NOT_STARTED.value,
                ("No screening item recorded yet",),
                None,
            )
        elif s.cleared:
            ctx = contexts.get(pid)
            if ctx is None:
                continue
            due = rescreen_due(s.screened_on, ctx.courses, today, settings)
            if not due.due:
                continue
            status, reasons, since = "rescreen_due", due.reasons, s.screened_on
        else:
            status, reasons, since = s.status.value, s.reasons, first_item.get(pid)
        if since is None and created.get(pid) is not None:
            since = created[pid].date()
        rows.append(
            QueueRow(
                pid,
                p.mrn,
                p.name,
                p.provider,
                p.indication.value,
                status,
                since,
                "; ".join(reasons),
                next_booked.get(pid),
            )
        )
    return sorted(
        rows,
        key=lambda r: (
            r.next_infusion is None,
            r.next_infusion or datetime.max,
            r.waiting_since or date.max,
            r.mrn,
        ),
    )
