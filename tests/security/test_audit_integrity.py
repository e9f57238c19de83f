"""The audit trail refuses edits on both databases, and refused actions are logged."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from kdash.domain.access import Action, Actor, Forbidden
from kdash.domain.vocab import Role
from kdash.services.guard import authorize
from kdash.storage.audit_chain import record, verify_chain
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent

NOW = datetime(2026, 11, 24, 9, 0)
SCHEDULER = Actor("sched.kim", Role.SCHEDULER)
PROVIDER = Actor("dr.a", Role.PROVIDER)


def _events(db: Database) -> list[tuple[str, str, str, str | None]]:
    with db.read() as s:
        return [
            (e.username, e.action, e.outcome, e.reason)
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_audit_update_and_delete_are_refused_by_the_database(db: Database) -> None:
    with db.write() as s:
        record(s, PROVIDER, "view_patient", now=NOW)
    with pytest.raises(DBAPIError, match="append-only"), db.write() as s:
        s.execute(update(AuditEvent).values(username="someone.else"))
    with pytest.raises(DBAPIError, match="append-only"), db.write() as s:
        s.execute(delete(AuditEvent))
    assert _events(db) == [("dr.a", "view_patient", "ok", None)]
    with db.read() as s:
        assert verify_chain(s) == (1, [])


def test_deleted_event_is_detected_once_the_trigger_is_dropped(db: Database) -> None:
    from tests.helpers import drop_append_only_triggers

    with db.write() as s:
        for i in range(4):
            record(s, PROVIDER, "view_patient", entity_id=i, now=NOW)
    with db.write() as s:
        drop_append_only_triggers(s)
        s.execute(delete(AuditEvent).where(AuditEvent.id == 2))
    with db.read() as s:
        checked, problems = verify_chain(s)
    assert checked == 3
    assert [p.event_id for p in problems] == [3]
    assert "removed" in problems[0].problem


def test_authorize_lets_an_allowed_role_through_without_an_event(db: Database) -> None:
    authorize(db, PROVIDER, Action.RECORD_TRIAL_OUTCOME)
    assert _events(db) == []


def test_refusal_is_logged_even_when_raised_inside_the_callers_transaction(db: Database) -> None:
    """A scheduler's trial outcome is refused; the caller's rollback does not take the record with it."""
    with pytest.raises(Forbidden, match="scheduler may not record trial outcome"), db.write() as s:
        authorize(s, SCHEDULER, Action.RECORD_TRIAL_OUTCOME, entity="course", entity_id=7)
    events = _events(db)
    assert len(events) == 1
    username, action, outcome, reason = events[0]
    assert (username, action, outcome) == ("sched.kim", "record_trial_outcome", "refused")
    assert reason is not None
    assert "provider" in reason


def test_refusal_is_logged_when_given_the_database(db: Database) -> None:
    with pytest.raises(Forbidden):
        authorize(db, Actor("ro", Role.READ_ONLY), Action.BOOK_INFUSION)
    assert [e[1:3] for e in _events(db)] == [("book_infusion", "refused")]
    with db.read() as s:
        assert verify_chain(s) == (1, [])
