"""Locks that make the ten-per-course cap and chair bookings hold under simultaneous writers.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (see :mod:`kdash.storage.database`):
writers are serialised at BEGIN, so a count-then-insert inside one write cannot race. On PostgreSQL
writers run in parallel, so a booking first locks the course row (``SELECT … FOR UPDATE``) and the clinic
day (a transaction-scoped advisory lock keyed by the date); whoever comes second waits, then sees the
first writer's rows. The partial unique indexes of the schema remain the last line of defence: a writer
that still loses the race is retried once (:func:`retry_lost_race`), then refused in words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kdash.domain.errors import Refused
from kdash.storage.models import Course

T = TypeVar("T")

#: Namespace of kdash's per-day booking advisory locks (high bits), the day's ordinal in the low bits.
_DAY_LOCK_NAMESPACE = 0x6B64 << 32


def lock_course(session: Session, course_id: int) -> Course | None:
    """Lock the course row for the rest of the transaction and return it (None if missing)."""
    stmt = select(Course).where(Course.id == course_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def lock_days(session: Session, days: list[date] | set[date]) -> None:
    """Lock the clinic days whose chairs a booking will take (in date order, so no deadlock)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for day in sorted(set(days)):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DAY_LOCK_NAMESPACE + day.toordinal()}
        )


#: SQLSTATEs PostgreSQL uses when a concurrent writer got there first.
_RETRYABLE_SQLSTATES = {
    "23505",  # unique_violation
    "23P01",  # exclusion_violation: a chair's time overlaps another live booking (migration 0009)
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
}


class LostRace(Refused):
    """A booking lost the race for its slot or number twice: nothing was saved."""


def is_lost_race(exc: BaseException) -> bool:
    """Whether a database error says a concurrent writer got there first (PostgreSQL SQLSTATE)."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


def retry_lost_race(attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (one whole write transaction); after a lost race retry it once, then refuse.

    The locks above make a lost race rare; the partial unique indexes still catch one (PostgreSQL
    unique violation, serialization failure or deadlock). The second attempt starts a fresh transaction
    and sees the winner's rows, so it books elsewhere or refuses in words. Any other database error is a
    bug and is raised unchanged.
    """
    try:
        return attempt()
    except DBAPIError as exc:
        if not is_lost_race(exc):
            raise
    try:
        return attempt()
    except DBAPIError as exc:
        if not is_lost_race(exc):
            raise
        raise LostRace(
            "Another booking was saved at the same moment and took this slot or number; "
            "reload and choose again."
        ) from None
