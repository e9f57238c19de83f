"""The screening queue: active patients whose screening is not cleared, needs review, or is due again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import cast

from sqlalchemy import ColumnElement, func, select

from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import InfusionStatus, ScreeningStatus
from kdash.rules.screening import add_months, rescreen_due
from kdash.services.search import SearchQuery, matches, parse_search
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


#: Rows per page: enough to work through, few enough that a clinic of 50,000 still draws quickly.
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the screening queue and the counts the page shows around it."""

    rows: tuple[QueueRow, ...]
    #: Patients that pass the status filter and the search (what the pages cut).
    matching: int
    #: Everyone in the queue, by status, before any filter.
    counts: tuple[tuple[str, int], ...]
    page: int
    pages: int
    page_size: int

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 when nothing is shown)."""
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def _matches(row: QueueRow, query: SearchQuery) -> bool:
    last, _, first = row.name.partition(", ")
    return matches(query, last, first, row.mrn)


def queue_page(
    rows: Sequence[QueueRow],
    statuses: Sequence[str],
    search: str = "",
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> QueuePage:
    """Cut one page from the queue (as :func:`screening_queue` orders it), keeping the order.

    Only rows whose status is in ``statuses`` and that match ``search`` (MRN, "Last, First", "First Last"
    or parts, as every search box) count; ``page`` is clamped to the pages there are.
    """
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    chosen = set(statuses)
    query = parse_search(search) if search.strip() else None
    kept = [r for r in rows if r.status in chosen and (query is None or _matches(r, query))]
    size = max(1, page_size)
    pages = max(1, -(-len(kept) // size))
    number = min(max(1, page), pages)
    offset = (number - 1) * size
    return QueuePage(
        tuple(kept[offset : offset + size]), len(kept), tuple(counts.items()), number, pages, size
    )


def screening_queue_page(
    db: Database,
    settings: ClinicPolicy,
    today: date,
    statuses: Sequence[str],
    search: str = "",
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> QueuePage:
    """The page of the screening queue a user sees, with the number waiting (see :func:`queue_page`)."""
    return queue_page(screening_queue(db, settings, today), statuses, search, page=page, page_size=page_size)
