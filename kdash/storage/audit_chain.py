"""The audit trail: an append-only, hash-chained record of who saw and changed what.

Every change (with its before and after values), every refused action and every opening of a patient's
record is an event, written in the same transaction as the change itself so the two cannot disagree.
Each event stores the hash of the one before it (SHA-256 over a canonical JSON of its fields), so an
edited or deleted event breaks the chain and :func:`verify_chain` finds where (HIPAA 164.312(b) audit
controls, 164.312(c) integrity).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kdash.domain.access import Actor
from kdash.storage.models import AuditEvent

GENESIS = "0" * 64
#: Arbitrary constant naming the audit chain's PostgreSQL advisory lock (serialises appends).
_PG_AUDIT_LOCK = 0x6B6175646974


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def to_json(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=_default, ensure_ascii=False)


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, default=_default, ensure_ascii=False)
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def _hashed_fields(ev: AuditEvent) -> dict[str, Any]:
    return {
        "occurred_at": ev.occurred_at.isoformat(timespec="microseconds"),
        "username": ev.username,
        "role": ev.role,
        "action": ev.action,
        "patient_id": ev.patient_id,
        "entity": ev.entity,
        "entity_id": ev.entity_id,
        "before": ev.before_json,
        "after": ev.after_json,
        "reason": ev.reason,
        "outcome": ev.outcome,
    }


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    patient_id: int | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
    outcome: str = "ok",
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction and return it."""
    prev = _chain_head(session)
    ev = AuditEvent(
        occurred_at=(now or datetime.now()).replace(tzinfo=None),
        username=actor.username,
        role=actor.role.value,
        action=action,
        patient_id=patient_id,
        entity=entity,
        entity_id=entity_id,
        before_json=to_json(before),
        after_json=to_json(after),
        reason=reason,
        outcome=outcome,
        prev_hash=prev,
    )
    ev.hash = event_hash(prev, _hashed_fields(ev))
    session.add(ev)
    session.info[_HEAD_KEY] = (session.get_transaction(), ev.hash)
    return ev


_HEAD_KEY = "kdash_audit_head"


def _chain_head(session: Session) -> str:
    """The hash of the latest event, read once per transaction.

    The first event of a transaction takes the chain's lock (SQLite: the write transaction's own
    ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock) and reads the head; later events of the same
    transaction chain onto the one before without another query, so a 10,000-row import does not
    issue 10,000 look-ups.
    """
    cached = session.info.get(_HEAD_KEY)
    if cached is not None and cached[0] is session.get_transaction():
        return str(cached[1])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    session.flush()
    return session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS


@dataclass(frozen=True, slots=True)
class ChainProblem:
    event_id: int
    problem: str


def verify_chain(session: Session, batch: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk the chain in id order; returns (events checked, problems found)."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    checked = 0
    for ev in _iter_events(session, batch):
        checked += 1
        if ev.prev_hash != expected_prev:
            problems.append(
                ChainProblem(
                    ev.id, "its link to the previous event is broken (an event was removed or edited)"
                )
            )
        if event_hash(ev.prev_hash, _hashed_fields(ev)) != ev.hash:
            problems.append(ChainProblem(ev.id, "its content does not match its hash (it was edited)"))
        expected_prev = ev.hash
    return checked, problems


def _iter_events(session: Session, batch: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
