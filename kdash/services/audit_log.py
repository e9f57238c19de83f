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

from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.domain.access import Action, Actor
from kdash.interchange.cells import escape_formula
from kdash.services.guard import authorize
from kdash.storage.audit_chain import ChainProblem, record, verify_chain
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
        stmt = stmt.where(Patient.mrn == flt.patient_mrn.strip())
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
    """(events checked, every broken hash or link and every missing append-only trigger) of the whole
    trail, for an administrator. A missing trigger is reported as event 0: the trail as a whole."""
    authorize(db, actor, Action.VIEW_AUDIT)
    return audit_problems(db)


def audit_problems(db: Database) -> tuple[int, list[ChainProblem]]:
    """What :func:`verify_audit_chain` reports, without the role check (start-up, restore)."""
    with db.read() as session:
        missing = missing_triggers(session.connection())
        checked, problems = verify_chain(session)
    return checked, [ChainProblem(0, trigger_problem(name)) for name in missing] + problems
