"""Locks that make the ten-per-course cap and chair bookings hold under simultaneous writers.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (see :mod:`kdash.db`): writers are
serialised at BEGIN, so a count-then-insert inside one write cannot race. On PostgreSQL writers run in
parallel, so a booking first locks the course row (``SELECT … FOR UPDATE``) and the clinic day
(a transaction-scoped advisory lock keyed by the date); whoever comes second waits, then sees the first
writer's rows. The partial unique indexes of the schema remain the last line of defence.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kdash.models import Course

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
