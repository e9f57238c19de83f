"""The audit trail: an append-only, keyed hash chain of who saw and changed what.

Every change (with its before and after values), every refused action and every opening of a patient's
record is an event, written in the same transaction as the change itself so the two cannot disagree.
Each event's chain value is an HMAC-SHA256, under a key kept outside the database
(:mod:`kdash.storage.audit_key`), of the previous event's value and its own fields; after each commit a
signed checkpoint of the newest event is written outside the database too
(:mod:`kdash.storage.audit_head`). So an edited event breaks the chain, a re-chained or forged one
cannot be made without the key, and removing the newest events leaves the trail behind its checkpoint:
:func:`verify_chain` and :func:`verify_head` say which (HIPAA 164.312(b) audit controls, 164.312(c)
integrity).

Events written before the key existed (``chain_key`` empty) were chained with plain SHA-256. They are
verified as such, and only before the first keyed event: that event chains onto the last of them, so
changing any of them breaks its keyed link (docs/security.md, "The audit key").
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.orm import Session

from kdash.domain.access import Actor
from kdash.domain.errors import AuditKeyError
from kdash.storage.audit_head import Checkpoint, CheckpointError, read_checkpoint, write_checkpoint
from kdash.storage.audit_key import (
    AuditKey,
    append_target,
    key_id_of,
    load_key,
)
from kdash.storage.models import AuditEvent

GENESIS = "0" * 64
log = logging.getLogger(__name__)
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


def _payload(fields: Mapping[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, default=_default, ensure_ascii=False)


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The unkeyed SHA-256 link of events written before the audit key (legacy)."""
    return hashlib.sha256((prev_hash + _payload(fields)).encode("utf-8")).hexdigest()


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


def _url(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=False)


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
    """Append one event inside the caller's transaction and return it.

    :class:`~kdash.domain.errors.AuditKeyError` when there is no audit key (nothing is written).
    """
    key, head_file = append_target(session.get_bind().engine.url)
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
        chain_key=key.label,
    )
    ev.hash = key.link(prev, _payload(_hashed_fields(ev)))
    session.add(ev)
    session.info[_HEAD_KEY] = (session.get_transaction(), ev.hash)
    session.info[_PENDING_KEY] = (ev, key, head_file)
    return ev


_HEAD_KEY = "kdash_audit_head"
_PENDING_KEY = "kdash_audit_checkpoint"


@event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    """Once the transaction's events are committed, sign its newest one as the trail's head."""
    pending = session.info.pop(_PENDING_KEY, None)
    if pending is None:
        return
    ev, key, path = pending
    identity = inspect(ev).identity
    if path is None or identity is None:
        return
    try:
        write_checkpoint(path, key, int(identity[0]), ev.hash)
    except OSError as exc:
        # The events are committed; a checkpoint left behind is what verify accepts (newer events must
        # still be keyed-chained), so the action stands and the operator is told. Event id only.
        log.error("audit head checkpoint %s not updated to event %s: %s", path, identity[0], exc.strerror)


@event.listens_for(Session, "after_rollback")
def _forget_checkpoint(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


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
    event_id: int  # 0: the trail as a whole
    problem: str


def verify_chain(
    session: Session, key: AuditKey | None = None, batch: int = 5000, *, key_error: str | None = None
) -> tuple[int, list[ChainProblem]]:
    """Walk the chain in id order; returns (events checked, problems found).

    Keyed events are checked against ``key`` (default: the database's own key, read now; ``key_error``
    says why there is none); legacy SHA-256 events are accepted only before the first keyed one.
    """
    if key is None and key_error is None:
        key, key_error = current_key(session)
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    checked = 0
    keyed_seen = False
    other_keys: dict[str, int] = {}
    for ev in _iter_events(session, batch):
        checked += 1
        if ev.prev_hash != expected_prev:
            problems.append(
                ChainProblem(
                    ev.id, "its link to the previous event is broken (an event was removed or edited)"
                )
            )
        expected_prev = ev.hash
        kid = key_id_of(ev.chain_key)
        if kid is None:
            if keyed_seen:
                problems.append(ChainProblem(ev.id, _UNKEYED_AFTER_KEYED))
            elif event_hash(ev.prev_hash, _hashed_fields(ev)) != ev.hash:
                problems.append(ChainProblem(ev.id, "its content does not match its hash (it was edited)"))
            continue
        keyed_seen = True
        if key is None or kid != key.key_id:
            other_keys.setdefault(kid, ev.id)
        elif key.link(ev.prev_hash, _payload(_hashed_fields(ev))) != ev.hash:
            problems.append(ChainProblem(ev.id, _BAD_KEYED_LINK))
    for kid, first in other_keys.items():
        if key is None:
            why = key_error or "there is no audit key"
            problems.append(ChainProblem(0, f"keyed events (from event {first} on) cannot be checked: {why}"))
        else:
            problems.append(
                ChainProblem(
                    0,
                    f"events from event {first} on were chained with the audit key whose id is {kid}, "
                    f"but this server's key ({key.source}) has id {key.key_id}: a wrong key, so they "
                    "cannot be checked (use the key the trail was written with)",
                )
            )
    return checked, problems


_UNKEYED_AFTER_KEYED = (
    "it carries no keyed link although earlier events do: it was added without the audit key (forged)"
)
_BAD_KEYED_LINK = (
    "its content does not match its keyed link: it was edited, or written without the audit key (forged)"
)


def current_key(session: Session) -> tuple[AuditKey | None, str | None]:
    """(the key of the session's database, or None and why there is none); never creates a key file."""
    try:
        return load_key(_url(session)), None
    except AuditKeyError as exc:
        return None, str(exc)


def verify_head(session: Session, key: AuditKey | None, path: Path | None) -> list[ChainProblem]:
    """Compare the trail with its signed head checkpoint: removed newest events, a rewritten chain."""
    if path is None or key is None:
        return []
    try:
        cp = read_checkpoint(path)
    except CheckpointError as exc:
        return [ChainProblem(0, f"{exc}; the newest events cannot be confirmed")]
    if cp is None:
        keyed = session.scalar(select(func.count()).where(AuditEvent.chain_key.is_not(None)))
        if keyed:
            return [
                ChainProblem(
                    0,
                    f"the head checkpoint {path} is missing although the trail has keyed events: "
                    "the newest events cannot be confirmed (was it deleted, or the database moved?)",
                )
            ]
        return []
    return _compare_head(session, cp, key, path)


def _compare_head(session: Session, cp: Checkpoint, key: AuditKey, path: Path) -> list[ChainProblem]:
    if cp.key_id != key.key_id:
        return [
            ChainProblem(
                0,
                f"the head checkpoint {path} was signed with the key whose id is {cp.key_id}, not "
                f"this server's key ({key.key_id}): a wrong key or a forged checkpoint",
            )
        ]
    if not cp.signed_by(key):
        return [ChainProblem(0, f"the head checkpoint {path} does not carry a valid signature (edited)")]
    newest = newest_event(session)
    if newest is None:
        return [
            ChainProblem(
                0,
                f"every audit event was deleted: the signed head checkpoint names event {cp.event_id}, "
                "and the trail is empty",
            )
        ]
    if newest[0] < cp.event_id:
        return [
            ChainProblem(
                0,
                f"the newest audit events were deleted: the trail ends at event {newest[0]}, but the "
                f"signed head checkpoint names event {cp.event_id}",
            )
        ]
    chain = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == cp.event_id))
    if chain is None:
        return [ChainProblem(cp.event_id, "it is missing, but the signed head checkpoint names it")]
    if chain != cp.chain:
        return [
            ChainProblem(
                cp.event_id,
                "its chain value differs from the signed head checkpoint: the trail was rewritten "
                "up to here (events replaced or re-chained)",
            )
        ]
    return []


def newest_event(session: Session) -> tuple[int, str] | None:
    row = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (int(row.id), str(row.hash)) if row is not None else None


def reset_head(session: Session, key: AuditKey, path: Path) -> None:
    """Sign the trail's current newest event as its head, even if the file named a newer one (after a
    restore rolled the trail back to a backup's)."""
    newest = newest_event(session)
    if newest is None:
        path.unlink(missing_ok=True)
    else:
        write_checkpoint(path, key, newest[0], newest[1], force=True)


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
