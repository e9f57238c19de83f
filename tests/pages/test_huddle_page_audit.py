"""The huddle page goes through the huddle service, which audits who saw which day's patients: the same
audit event as the command line's ``kdash huddle`` (tests/cli/test_huddle_cli.py)."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from kdash.storage.database import Database
from kdash.storage.models import AuditEvent
from tests.pages.test_pages import NURSE, clinic_db, page
from tests.seeded import Clinic

__all__ = ["clinic_db"]


def _views(db: Database) -> list[AuditEvent]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "view_huddle")))


def test_opening_the_huddle_page_is_audited_once_with_the_days_patients(
    clinic_db: tuple[Database, Clinic],
) -> None:
    db, clinic = clinic_db
    at = page("huddle.py", NURSE)
    assert not at.exception
    at.run()  # a rerun of the same day is the same view
    (event,) = _views(db)
    assert event.username == "nurse"
    assert event.outcome == "ok"
    after = json.loads(event.after_json or "{}")
    assert after["day"] == date.today().isoformat()
    assert clinic.ids["suicide_risk"] in after["patients"]
