"""The permission check services call first: refuse, and leave a trace of the refusal.

A refused action must be in the audit trail (HIPAA 164.312(b)) even though the service that refused it
rolls its own transaction back. :func:`authorize` therefore writes the refusal in a transaction of its
own. Given a :class:`~sqlalchemy.orm.Session` that is inside a transaction, it waits until that
transaction has ended (committed or rolled back) before writing: on SQLite the caller's transaction
holds the single writer lock, and a second writer would wait for it until the busy timeout; on
PostgreSQL the caller may hold the audit chain's lock.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, SessionTransaction

from kdash.domain.access import Action, Actor, Forbidden, require
from kdash.storage.audit_chain import record
from kdash.storage.database import Database

log = logging.getLogger("kdash.guard")


def authorize(
    session_or_db: Session | Database,
    actor: Actor,
    action: Action,
    patient_id: int | None = None,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    audit_as: str | None = None,
    now: datetime | None = None,
) -> None:
    """Return if ``actor`` may do ``action``; otherwise audit the refusal and raise :class:`Forbidden`.

    ``audit_as`` names the refused event when the service's own name says more than the permission
    (``record_screening_decision`` rather than ``decide_screening``); ``now`` is the service's clock.
    """
    try:
        require(actor, action)
    except Forbidden as exc:
        _audit_refusal(
            session_or_db, actor, audit_as or action.value, str(exc), patient_id, entity, entity_id, now
        )
        raise


def _audit_refusal(
    target: Session | Database,
    actor: Actor,
    name: str,
    reason: str,
    patient_id: int | None,
    entity: str | None,
    entity_id: int | None,
    now: datetime | None,
) -> None:
    def write(db: Database) -> None:
        with db.write() as session:
            record(
                session,
                actor,
                name,
                patient_id=patient_id,
                entity=entity,
                entity_id=entity_id,
                reason=reason,
                outcome="refused",
                now=now,
            )
        log.info("refused %s for role %s", name, actor.role.value)

    if isinstance(target, Database):
        write(target)
        return
    db = Database(engine=_engine_of(target))
    if not target.in_transaction():
        write(db)
        return
    root = target.get_transaction()
    done: list[bool] = []

    def after_end(_session: Session, transaction: SessionTransaction) -> None:
        # A listener cannot remove itself while the event runs; sessions are short-lived anyway.
        if transaction is not root or done:
            return
        done.append(True)
        write(db)

    event.listen(target, "after_transaction_end", after_end)


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind
