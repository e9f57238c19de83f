"""What every write transaction does just before it commits: keep the derived per-patient rows current.

Hooked onto the write sessions of :class:`kdash.storage.database.Database`: each flush notes which patients it
touched; just before commit, in the same transaction, the patients whose screening answers or decisions
changed (or every patient, when the item classes setting changed) are judged again
(:mod:`kdash.storage.screening_summary`), and every patient whose record changed gets a new version
token (:mod:`kdash.storage.record_cache`). A rolled-back write forgets what it noted. Bulk loads that
bypass the ORM (the demo loader) call the refresh functions themselves.

Before each flush, every infusion whose start is new or changed gets the end of the chair time it holds
(``chair_until``: the start plus the clinic's chair time), so the database's no-overlap rule (migration
0009) judges every booking, whichever form, import or service wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from kdash.storage import record_cache, screening_summary
from kdash.storage.id_chunks import chunks
from kdash.storage.models import (
    Amendment,
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
    Setting,
    SuicideReview,
)
from kdash.storage.policy_repo import load_policy

_KEY = "kdash_touched"
_CLASSES_SETTING = "screening_item_classes"
#: Rows that belong to a patient through their ``patient_id``.
_PATIENT_ROWS = (ScreeningItem, ScreeningDecisionRow, Course, Assessment, SuicideReview, Amendment)


@dataclass
class Touched:
    """What the flushes of one transaction changed."""

    screening: set[int] = field(default_factory=set)
    records: set[int] = field(default_factory=set)
    courses: set[int] = field(default_factory=set)
    item_classes: bool = False


def _note(session: Session, _flush_context: Any) -> None:
    touched: Touched = session.info.setdefault(_KEY, Touched())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Patient):
            touched.records.add(obj.id)
            if obj in session.new:
                touched.screening.add(obj.id)
        elif isinstance(obj, Infusion):
            touched.courses.add(obj.course_id)
        elif isinstance(obj, _PATIENT_ROWS):
            if obj.patient_id is not None:
                touched.records.add(obj.patient_id)
            if isinstance(obj, ScreeningItem | ScreeningDecisionRow):
                touched.screening.add(obj.patient_id)
        elif isinstance(obj, Setting) and obj.key == _CLASSES_SETTING:
            touched.item_classes = True


def _hold_chair_time(session: Session, _context: Any, _instances: Any) -> None:
    """Give each new or moved infusion the end of its chair time (start + the clinic's chair time)."""
    moved = [
        obj
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, Infusion)
        and obj.scheduled_at is not None
        and (obj.chair_until is None or inspect(obj).attrs.scheduled_at.history.has_changes())
    ]
    if not moved:
        return
    with session.no_autoflush:
        minutes = load_policy(session).chair_minutes
    for obj in moved:
        obj.chair_until = obj.scheduled_at.replace(tzinfo=None) + timedelta(minutes=minutes)


def _before_commit(session: Session) -> None:
    session.flush()  # first: the flush itself may note more patients
    touched: Touched | None = session.info.pop(_KEY, None)
    if touched is None:
        return
    records = set(touched.records)
    if touched.courses:
        for chunk in chunks(sorted(touched.courses)):
            records.update(session.scalars(select(Course.patient_id).where(Course.id.in_(chunk))))
    if touched.item_classes:
        screening_summary.refresh_all(session)
    elif touched.screening:
        screening_summary.refresh(session, touched.screening)
    record_cache.bump(session, records)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_KEY, None)


def install(factory: sessionmaker[Session]) -> None:
    """Keep the derived rows current in every write transaction of sessions made by ``factory``."""
    event.listen(factory, "before_flush", _hold_chair_time)
    event.listen(factory, "after_flush", _note)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_rollback", _forget)
