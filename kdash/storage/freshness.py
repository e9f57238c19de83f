"""A cheap version number of the clinical data, so cached page data is never older than the database.

Every write of kdash records an audit event in the same transaction
(:mod:`kdash.storage.audit_chain`), so the id of
the newest audit event that changed something is a version of the data: it moves on each committed
write, whoever made it — this browser session, another user, another app server on the same PostgreSQL
database, or the command line. Reading it is one backwards probe of the audit table's primary key.

Audited *reads* (opening a patient's record, drawing a what-if plan, signing in) and refused attempts
change nothing, so they do not count: a nurse opening records does not empty everyone's caches.
"""

from __future__ import annotations

from sqlalchemy import select

from kdash.storage.database import Database
from kdash.storage.models import AuditEvent

#: Audit actions that record who looked at what, not a change of clinical data.
READ_ONLY_ACTIONS: tuple[str, ...] = ("view_patient", "plan_course", "login", "logout", "export")


def data_version(db: Database) -> int:
    """Id of the newest audit event of a successful write (0 on a database without one)."""
    with db.read() as session:
        found = session.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.outcome == "ok", AuditEvent.action.not_in(READ_ONLY_ACTIONS))
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    return int(found or 0)
