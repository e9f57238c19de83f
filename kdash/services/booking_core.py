"""The one place an infusion is booked, moved, cancelled or completed, safe under concurrent writers.

A booking does, in one write transaction: lock the course (``lock_course``) and the clinic day
(``lock_days``), count the course's live infusions (scheduled or completed: CLINICAL.md "What counts
toward ten"), take the lowest free infusion number, check the chair is free for the whole chair time,
insert, and write the audit event. SQLite serialises writers at ``BEGIN IMMEDIATE``; PostgreSQL waits
on the locks. The partial unique indexes of the schema stay the last line of defence: on PostgreSQL a
unique violation or a serialization failure is retried once, then reported as a refusal in words.

A cancelled or no-show infusion frees its number and its chair (CLINICAL.md decision): the next
booking takes the lowest free number, so a course never holds more than ten live infusions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from kdash.audit import record
from kdash.auth import Action, Actor
from kdash.db import Database
from kdash.errors import NotFound, Refused
from kdash.models import Amendment, Infusion, live_infusion_clause
from kdash.services.guard import authorize
from kdash.services.locks import lock_course, lock_days
from kdash.settings import ClinicSettings
from kdash.vocab import MAX_INFUSIONS_PER_COURSE, CourseStatus, InfusionStatus

T = TypeVar("T")

#: SQLSTATEs PostgreSQL uses when a concurrent writer got there first.
_RETRYABLE_SQLSTATES = {"23505", "40001", "40P01"}  # unique_violation, serialization_failure, deadlock


@dataclass(frozen=True, slots=True)
class Booking:
    """What a booking holds, as plain data for pages and tests."""

    infusion_id: int
    course_id: int
    number: int
    scheduled_at: datetime
    chair: int
    status: str


def _booking(inf: Infusion) -> Booking:
    return Booking(inf.id, inf.course_id, inf.number, inf.scheduled_at, inf.chair or 0, inf.status)


def add_infusion(
    db: Database, actor: Actor, course_id: int, when: datetime, chair: int, settings: ClinicSettings
) -> Booking:
    """Book the course's next infusion at ``when`` in ``chair``; :class:`Refused` says why not."""
    authorize(db, actor, Action.BOOK_INFUSION)
    _check_slot_shape(when, chair, settings)
    return _with_retry(db, lambda: _add(db, actor, course_id, when, chair, settings))


def _add(
    db: Database, actor: Actor, course_id: int, when: datetime, chair: int, settings: ClinicSettings
) -> Booking:
    with db.write() as session:
        course = lock_course(session, course_id)
        if course is None:
            raise NotFound(f"There is no course {course_id}.")
        if course.status in (CourseStatus.COMPLETED.value, CourseStatus.STOPPED.value):
            raise Refused(f"This course is {course.status}; start a new course to book more infusions.")
        lock_days(session, [when.date()])
        used = set(
            session.scalars(
                select(Infusion.number).where(
                    Infusion.course_id == course_id,
                    live_infusion_clause(),  # type: ignore[arg-type]
                )
            )
        )
        if len(used) >= MAX_INFUSIONS_PER_COURSE:
            # Clinic rule: the trial plus up to nine more, ten per course at most (clinic page).
            raise Refused(
                f"This course already holds {MAX_INFUSIONS_PER_COURSE} infusions (scheduled or completed), "
                "the most a course may have. Cancel one, or start a new course after a new screening."
            )
        _check_chair_free(session, when, chair, settings, exclude_id=None)
        number = min(n for n in range(1, MAX_INFUSIONS_PER_COURSE + 1) if n not in used)
        inf = Infusion(
            course_id=course_id,
            number=number,
            scheduled_at=when,
            chair=chair,
            status=InfusionStatus.SCHEDULED.value,
        )
        session.add(inf)
        session.flush()
        record(
            session,
            actor,
            Action.BOOK_INFUSION.value,
            patient_id=course.patient_id,
            entity="infusion",
            entity_id=inf.id,
            after={"number": number, "scheduled_at": when, "chair": chair, "course_id": course_id},
        )
        return _booking(inf)


def cancel_infusion(db: Database, actor: Actor, infusion_id: int, reason: str) -> Booking:
    """Cancel a scheduled infusion; it stays in the history and frees its number and chair."""
    authorize(db, actor, Action.CANCEL_INFUSION)
    if not reason.strip():
        raise Refused("Say why the infusion is cancelled.")
    with db.write() as session:
        inf = _locked_infusion(session, infusion_id)
        if inf.status != InfusionStatus.SCHEDULED.value:
            raise Refused(f"Only a scheduled infusion can be cancelled; this one is {inf.status}.")
        inf.status = InfusionStatus.CANCELLED.value
        inf.cancel_reason = reason.strip()
        session.flush()
        record(
            session,
            actor,
            Action.CANCEL_INFUSION.value,
            patient_id=inf.course.patient_id,
            entity="infusion",
            entity_id=inf.id,
            before={"status": InfusionStatus.SCHEDULED.value},
            after={"status": inf.status},
            reason=inf.cancel_reason,
        )
        return _booking(inf)


def complete_infusion(db: Database, actor: Actor, infusion_id: int) -> Booking:
    """Record that a scheduled infusion was given; it keeps its number and counts toward ten."""
    authorize(db, actor, Action.RECORD_INFUSION)
    with db.write() as session:
        inf = _locked_infusion(session, infusion_id)
        if inf.status != InfusionStatus.SCHEDULED.value:
            raise Refused(f"Only a scheduled infusion can be recorded as given; this one is {inf.status}.")
        inf.status = InfusionStatus.COMPLETED.value
        session.flush()
        record(
            session,
            actor,
            Action.RECORD_INFUSION.value,
            patient_id=inf.course.patient_id,
            entity="infusion",
            entity_id=inf.id,
            before={"status": InfusionStatus.SCHEDULED.value},
            after={"status": inf.status},
        )
        return _booking(inf)


def move_infusion(
    db: Database,
    actor: Actor,
    infusion_id: int,
    when: datetime,
    chair: int,
    reason: str,
    settings: ClinicSettings,
) -> Booking:
    """Amend a scheduled infusion's time or chair (the old values are kept as amendments)."""
    authorize(db, actor, Action.BOOK_INFUSION)
    _check_slot_shape(when, chair, settings)
    if not reason.strip():
        raise Refused("Say why the booking is changed.")
    return _with_retry(db, lambda: _move(db, actor, infusion_id, when, chair, reason.strip(), settings))


def _move(
    db: Database,
    actor: Actor,
    infusion_id: int,
    when: datetime,
    chair: int,
    reason: str,
    settings: ClinicSettings,
) -> Booking:
    with db.write() as session:
        inf = _locked_infusion(session, infusion_id)
        if inf.status != InfusionStatus.SCHEDULED.value:
            raise Refused(f"Only a scheduled infusion can be moved; this one is {inf.status}.")
        lock_days(session, [when.date(), inf.scheduled_at.date()])
        _check_chair_free(session, when, chair, settings, exclude_id=inf.id)
        now = datetime.now()
        before = {"scheduled_at": inf.scheduled_at, "chair": inf.chair}
        for field, old, new in (("scheduled_at", inf.scheduled_at, when), ("chair", inf.chair, chair)):
            if old != new:
                session.add(
                    Amendment(
                        entity="infusion",
                        entity_id=inf.id,
                        patient_id=inf.course.patient_id,
                        field=field,
                        old_value=str(old),
                        new_value=str(new),
                        changed_by=actor.username,
                        changed_at=now,
                        reason=reason,
                    )
                )
        inf.scheduled_at, inf.chair = when, chair
        session.flush()
        record(
            session,
            actor,
            "amend_infusion",
            patient_id=inf.course.patient_id,
            entity="infusion",
            entity_id=inf.id,
            before=before,
            after={"scheduled_at": when, "chair": chair},
            reason=reason,
        )
        return _booking(inf)


def _locked_infusion(session: Session, infusion_id: int) -> Infusion:
    course_id = session.scalar(select(Infusion.course_id).where(Infusion.id == infusion_id))
    if course_id is None:
        raise NotFound(f"There is no infusion {infusion_id}.")
    lock_course(session, course_id)
    inf = session.get(Infusion, infusion_id, populate_existing=True)
    assert inf is not None
    return inf


def _check_slot_shape(when: datetime, chair: int, settings: ClinicSettings) -> None:
    """Refuse a chair the clinic does not have, or a chair time outside opening hours (settings)."""
    if isinstance(chair, bool) or not isinstance(chair, int) or not 1 <= chair <= settings.chairs:
        raise Refused(f"Choose a chair from 1 to {settings.chairs}.")
    if not isinstance(when, datetime):
        raise Refused("Choose a date and time for the infusion.")
    if when.weekday() not in settings.open_weekdays:
        raise Refused(f"The clinic is closed on {when:%A}s.")
    start = when.replace(hour=settings.open_hour, minute=0, second=0, microsecond=0)
    end = when.replace(hour=settings.close_hour, minute=0, second=0, microsecond=0)
    if when < start or when + timedelta(minutes=settings.chair_minutes) > end:
        raise Refused(
            f"An infusion holds its chair for {settings.chair_minutes} minutes (infusion and recovery), "
            f"all inside opening hours {settings.open_hour:02d}:00–{settings.close_hour:02d}:00."
        )


def _check_chair_free(
    session: Session, when: datetime, chair: int, settings: ClinicSettings, exclude_id: int | None
) -> None:
    """Refuse when another live booking holds the chair during any part of this one's chair time."""
    span = timedelta(minutes=settings.chair_minutes)
    stmt = select(Infusion.scheduled_at).where(
        Infusion.chair == chair,
        live_infusion_clause(),  # type: ignore[arg-type]
        Infusion.scheduled_at > when - span,
        Infusion.scheduled_at < when + span,
    )
    if exclude_id is not None:
        stmt = stmt.where(Infusion.id != exclude_id)
    clash = session.scalar(stmt.limit(1))
    if clash is not None:
        raise Refused(f"Chair {chair} is taken from {clash:%H:%M} that day; choose another chair or time.")


def _with_retry(db: Database, attempt: Callable[[], T]) -> T:
    """Run ``attempt``; on PostgreSQL retry once after a lost race, then refuse in words."""
    try:
        return attempt()
    except (IntegrityError, OperationalError, DBAPIError) as exc:
        if not _retryable(exc):
            raise
    try:
        return attempt()
    except (IntegrityError, OperationalError, DBAPIError) as exc:
        if not _retryable(exc):
            raise
        raise Refused(
            "Another booking was saved at the same moment and took this slot or number; "
            "reload and choose again."
        ) from None


def _retryable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES
