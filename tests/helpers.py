"""Helpers shared by the tests that are not factories (records: tests.records; databases: tests.seeded)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def drop_append_only_triggers(session: Session) -> None:
    """What an attacker with owner rights on the database would do before editing the audit trail."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))
