"""Loading the demo clinic into a database: one transaction, Core executemany in batches.

Refuses a database that already holds patients unless asked to replace them, so real records are never
mixed with demo ones by accident; replacing deletes clinic rows only (never users, settings or the audit
log). On PostgreSQL the id sequences are moved past the explicit demo ids afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.orm import Session

import kdash.services  # noqa: F401  (hands storage the rules' screening judgement, used by refresh_all)
from kdash.domain.access import SYSTEM, Actor
from kdash.domain.vocab import InfusionStatus
from kdash.storage import record_cache, screening_summary
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.models import (
    Amendment,
    Assessment,
    AuditEvent,
    Closure,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
    SuicideReview,
)
from kdash.storage.policy_repo import load_policy

#: Load order (parents before children) and the table fields of :class:`DemoData`.
TABLE_ORDER: tuple[str, ...] = (
    "patient",
    "screening_item",
    "screening_decision",
    "course",
    "infusion",
    "assessment",
    "suicide_review",
    "closure",
)

#: The table of each DemoData field (plain Core tables: executemany without the ORM's bookkeeping).
_TABLES: dict[str, Table] = {
    name: cast(Table, model.__table__)
    for name, model in (
        ("patient", Patient),
        ("screening_item", ScreeningItem),
        ("screening_decision", ScreeningDecisionRow),
        ("course", Course),
        ("infusion", Infusion),
        ("assessment", Assessment),
        ("suicide_review", SuicideReview),
        ("closure", Closure),
    )
}


@dataclass(frozen=True)
class DemoData:
    """The demo clinic as plain rows per table (dicts with explicit integer ids), ready to insert."""

    today: date
    schedule_day: date
    patient: list[dict[str, Any]]
    screening_item: list[dict[str, Any]]
    screening_decision: list[dict[str, Any]]
    course: list[dict[str, Any]]
    infusion: list[dict[str, Any]]
    assessment: list[dict[str, Any]]
    suicide_review: list[dict[str, Any]]
    closure: list[dict[str, Any]]
    #: Scenario name per patient id (what the patient is there to show; not stored in the database).
    scenarios: dict[int, str] = field(default_factory=dict)
    #: The chair time the bookings were laid out with (each infusion holds its chair that long).
    chair_minutes: int | None = None

    def tables(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(table name, rows) in load order."""
        return [(name, getattr(self, name)) for name in TABLE_ORDER]

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables()}

    def live_on(self, day: date) -> list[dict[str, Any]]:
        """Live (scheduled or completed) infusions on ``day``, by start time and chair."""
        rows = [
            r
            for r in self.infusion
            if r["scheduled_at"].date() == day
            and r["status"] in (InfusionStatus.SCHEDULED.value, InfusionStatus.COMPLETED.value)
        ]
        return sorted(rows, key=lambda r: (r["scheduled_at"], r["chair"]))


class DemoLoadError(Exception):
    """The demo cannot be loaded into this database as asked (the message says why and what to do)."""


Progress = Callable[[str, int, int], None]

#: Children before parents, for ``replace``.
_CLINIC_DELETE_ORDER: tuple[str, ...] = (
    "suicide_review",
    "assessment",
    "infusion",
    "course",
    "screening_decision",
    "screening_item",
)


def load(
    db: Database,
    data: DemoData,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    batch_size: int = 5000,
    actor: Actor = SYSTEM,
) -> dict[str, int]:
    """Insert the demo rows in one write transaction; returns the rows inserted per table.

    Refuses (:class:`DemoLoadError`) when the database already holds patients, unless ``replace``: then
    the clinic rows (patients and everything about them) are deleted first, never users, settings or
    the audit log. Closures already present are kept; only the missing demo days are added.
    """
    inserted: dict[str, int] = {}
    with db.write() as session:
        existing = session.scalar(select(func.count()).select_from(Patient)) or 0
        if existing:
            if not replace:
                raise DemoLoadError(
                    f"the database already holds {existing:,} patients; pass replace (--replace) to delete "
                    "the clinic data and load the demo instead, or use an empty database"
                )
            _delete_clinic_rows(session)
        # psycopg sends an executemany row by row (about 20,000 rows/s here); COPY in the same
        # transaction is several times faster. SQLite's executemany is already fast.
        copy_in = session.get_bind().dialect.driver == "psycopg"
        chair_time = timedelta(minutes=data.chair_minutes or load_policy(session).chair_minutes)
        for name, rows in data.tables():
            table = _TABLES[name]
            if name == "closure":
                have = set(session.scalars(select(Closure.day)))
                rows = [r for r in rows if r["day"] not in have]
            elif name == "infusion":
                # Bulk inserts bypass the ORM hook that sets the end of each booking's chair time.
                rows = [{**r, "chair_until": r["scheduled_at"] + chair_time} for r in rows]
            for start in range(0, len(rows), batch_size):
                batch = rows[start : start + batch_size]
                if copy_in:
                    _copy_rows(session, name, batch)
                else:
                    session.execute(insert(table), batch)
                if progress is not None:
                    progress(name, min(start + batch_size, len(rows)), len(rows))
            if not rows and progress is not None:
                progress(name, 0, 0)
            inserted[name] = len(rows)
        if session.get_bind().dialect.name == "postgresql":
            _advance_sequences(session)
        # Bulk inserts bypass the ORM's write hooks: judge the screening summary and give every patient
        # a version token here, in the same transaction.
        judged = screening_summary.refresh_all(session)
        record_cache.bump_all(session)
        if progress is not None:
            progress("screening_summary", judged, judged)
        record(
            session,
            actor,
            "load_demo_clinic",
            after={"replaced": bool(existing), **inserted},
            reason="synthetic demo clinic" + (f" replacing {existing:,} patients" if existing else ""),
        )
    return inserted


def _copy_rows(session: Session, name: str, rows: list[dict[str, Any]]) -> None:
    """COPY ``rows`` into table ``name`` through the session's own connection (its transaction)."""
    if not rows:
        return
    columns = list(rows[0])
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _delete_clinic_rows(session: Session) -> None:
    referenced = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.patient_id.is_not(None))
    )
    if referenced:
        raise DemoLoadError(
            "the audit log refers to patients in this database, and the audit log is never deleted: "
            "load the demo into an empty database instead"
        )
    session.execute(delete(Amendment).where(Amendment.patient_id.is_not(None)))
    screening_summary.clear(session)
    record_cache.forget_all(session)
    for name in _CLINIC_DELETE_ORDER:
        session.execute(delete(_TABLES[name]))
    session.execute(delete(Patient))


def _advance_sequences(session: Session) -> None:
    """Explicit ids do not move PostgreSQL's id sequences: set them past the rows just inserted."""
    for name in TABLE_ORDER:
        if name == "closure":
            continue
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - fixed table names
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )
