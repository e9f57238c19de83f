"""Bringing a database's schema up to date (``python -m kdash db upgrade``), and what comes with it.

The upgrade itself runs the Alembic migrations and puts back any append-only trigger of the audit trail
that was dropped (:func:`kdash.storage.migrate.upgrade`); then a trail whose newest event still has an
unkeyed SHA-256 link (written before the audit key) is anchored by a keyed event chained onto it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kdash.domain.errors import AuditKeyError
from kdash.services.audit_log import anchor_legacy_trail
from kdash.storage.database import Database
from kdash.storage.migrate import upgrade


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    before: str | None
    after: str
    #: the keyed event that anchors a legacy trail, if one was appended
    anchor_event: int | None
    #: why the trail could not be anchored (no audit key), else None
    anchor_problem: str | None


def upgrade_database(db: Database) -> UpgradeResult:
    """Upgrade to the latest revision and anchor a legacy audit trail; safe to run twice."""
    before, after = upgrade(db.engine)
    try:
        anchored = anchor_legacy_trail(db)
    except AuditKeyError as exc:
        return UpgradeResult(before, after, None, str(exc))
    return UpgradeResult(before, after, anchored, None)
