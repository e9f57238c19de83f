"""Reading the audit trail: filtered queries for the Audit page and CSV exports safe for spreadsheets.

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by spreadsheet programs (CSV injection, OWASP): a user name or reason typed as ``=cmd|' /C calc'!A0``
would execute on the reviewer's machine. :func:`neutralise_cell` prefixes such cells with a quote, the
same way every kdash export does (:func:`kdash.interchange.cells.escape_formula`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kdash.domain.access import SYSTEM, Action, Actor
from kdash.domain.identifiers import mrn_key
from kdash.interchange.cells import escape_formula
from kdash.services.guard import authorize
from kdash.storage.audit_chain import (
    ChainProblem,
    current_key,
    newest_event,
    record,
    reset_head,
    verify_chain,
    verify_head,
)
from kdash.storage.audit_key import append_key, head_file_for, key_configured
from kdash.storage.audit_triggers import missing_triggers, trigger_problem
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, Patient


def neutralise_cell(value: object) -> str:
    """A cell's text that a spreadsheet shows as text, never evaluates."""
    return escape_formula("" if value is None else str(value))


@dataclass(frozen=True, slots=True)
class AuditFilter:
    username: str | None = None
    patient_mrn: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    occurred_at: datetime
    username: str
    role: str | None
    action: str
    outcome: str
    patient_mrn: str | None
    entity: str | None
    entity_id: int | None
    reason: str | None
    before: str | None
    after: str | None


def query_events(session: Session, flt: AuditFilter) -> list[AuditRow]:
    """Events matching ``flt``, newest first (a patient MRN that matches nobody gives no rows)."""
    stmt = select(AuditEvent, Patient.mrn).outerjoin(Patient, Patient.id == AuditEvent.patient_id)
    if flt.username:
        stmt = stmt.where(AuditEvent.username == flt.username.strip())
    if flt.patient_mrn:
        stmt = stmt.where(func.lower(Patient.mrn) == mrn_key(flt.patient_mrn))
    if flt.action:
        stmt = stmt.where(AuditEvent.action == flt.action.strip())
    if flt.since:
        stmt = stmt.where(AuditEvent.occurred_at >= datetime.combine(flt.since, time.min))
    if flt.until:
        stmt = stmt.where(AuditEvent.occurred_at < datetime.combine(flt.until + timedelta(days=1), time.min))
    stmt = stmt.order_by(AuditEvent.id.desc())
    if flt.limit:
        stmt = stmt.limit(flt.limit)
    return [
        AuditRow(
            ev.id,
            ev.occurred_at,
            ev.username,
            ev.role,
            ev.action,
            ev.outcome,
            mrn,
            ev.entity,
            ev.entity_id,
            ev.reason,
            ev.before_json,
            ev.after_json,
        )
        for ev, mrn in session.execute(stmt)
    ]


def distinct_values(session: Session) -> tuple[list[str], list[str]]:
    """(user names, actions) seen in the trail, for the page's filter choices."""
    users = sorted(set(session.scalars(select(AuditEvent.username).distinct())))
    actions = sorted(set(session.scalars(select(AuditEvent.action).distinct())))
    return users, actions


CSV_COLUMNS = [
    "id",
    "occurred_at",
    "username",
    "role",
    "action",
    "outcome",
    "patient_mrn",
    "entity",
    "entity_id",
    "reason",
    "before",
    "after",
]


def to_csv(rows: list[AuditRow]) -> str:
    """CSV text with every cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = asdict(row)
        writer.writerow([neutralise_cell(data[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def export_events(db: Database, actor: Actor, flt: AuditFilter) -> tuple[str, int]:
    """The CSV of the matching events and their count; the export itself is an audit event.

    The trail names patients (MRNs, record ids), so a file of it needs the export permission too."""
    authorize(db, actor, Action.VIEW_AUDIT)
    authorize(db, actor, Action.EXPORT, audit_as="export_audit")
    with db.write() as session:
        rows = query_events(session, flt)
        record(
            session,
            actor,
            "export_audit",
            entity="audit_event",
            after={k: v for k, v in asdict(flt).items() if v is not None} | {"rows": len(rows)},
        )
    return to_csv(rows), len(rows)


def filter_choices(db: Database, actor: Actor) -> tuple[list[str], list[str]]:
    """(user names, actions) seen in the trail, for an administrator's filter choices."""
    authorize(db, actor, Action.VIEW_AUDIT)
    with db.read() as session:
        return distinct_values(session)


def list_events(db: Database, actor: Actor, flt: AuditFilter) -> list[AuditRow]:
    """The events matching ``flt``, newest first, for an administrator."""
    authorize(db, actor, Action.VIEW_AUDIT)
    with db.read() as session:
        return query_events(session, flt)


def verify_audit_chain(db: Database, actor: Actor) -> tuple[int, list[ChainProblem]]:
    """(events checked, every problem) of the whole trail, for an administrator: broken hashes or
    keyed links, forged events, a wrong or missing key, missing append-only triggers, and newest events
    removed behind the signed head checkpoint. A problem of the trail as a whole has event id 0."""
    authorize(db, actor, Action.VIEW_AUDIT)
    return audit_problems(db)


def audit_problems(db: Database) -> tuple[int, list[ChainProblem]]:
    """What :func:`verify_audit_chain` reports, without the role check (start-up, restore)."""
    with db.read() as session:
        missing = missing_triggers(session.connection())
        key, key_error = current_key(session)
        checked, problems = verify_chain(session, key, key_error=key_error)
        head = verify_head(session, key, head_file_for(db.url))
    if key is None and key_error and not key_configured(db.url):
        # No key configured at all: nothing can be audited (every write is refused), say so first.
        head = [ChainProblem(0, key_error), *head]
    return checked, [ChainProblem(0, trigger_problem(name)) for name in missing] + head + problems


def log_backup(db: Database, file_name: str) -> None:
    """The audit event of a backup written by the command line."""
    with db.write() as session:
        record(session, SYSTEM, "backup", entity="database", after={"file": file_name})


def after_restore(db: Database, file_name: str, revision: str) -> None:
    """After a restore: sign the restored trail's head as the checkpoint (a restore rolls the trail back
    on purpose, so the old checkpoint names events the backup does not hold), then log the restore,
    which moves the checkpoint on to its own event."""
    key = append_key(db.url)
    path = head_file_for(db.url)
    with db.read() as session:
        if path is not None:
            reset_head(session, key, path)
    with db.write() as session:
        record(
            session,
            SYSTEM,
            "restore",
            entity="database",
            after={"file": file_name, "revision": revision},
        )


def anchor_legacy_trail(db: Database) -> int | None:
    """After an upgrade: if the newest event still has an unkeyed SHA-256 link, append a keyed event
    that chains onto it (anchoring every earlier one); returns its id, None when nothing was needed.

    :class:`~kdash.domain.errors.AuditKeyError` when there is no key to anchor with.
    """
    with db.read() as session:
        newest = newest_event(session)
        if newest is None:
            return None
        label = session.scalar(select(AuditEvent.chain_key).where(AuditEvent.id == newest[0]))
    if label is not None:
        return None
    with db.write() as session:
        ev = record(
            session,
            SYSTEM,
            "audit_keyed",
            entity="audit_event",
            after={"anchors_event": newest[0], "link": "hmac-sha256"},
        )
        session.flush()
        return ev.id
