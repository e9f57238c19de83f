"""The kdash data model (SQLAlchemy 2 typed ORM).

The schema itself refuses what can never be true, so that no importer, form or concurrent writer can
store it even by mistake: an infusion number outside 1..10, two live infusions with the same number in
a course (which with the 1..10 check caps a course at ten live infusions), two live bookings of one
chair whose chair times overlap, a score outside its instrument's range, a code outside its vocabulary, and
orphans (foreign keys, enforced on SQLite by ``PRAGMA foreign_keys=ON``).

Datetimes are naive clinic-local wall-clock times (the clinic's time zone is a setting); dates are
calendar dates in that zone.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    MetaData,
)
from sqlalchemy.orm import DeclarativeBase

from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    LIVE_INFUSION_STATUSES,
    PatientStatus,
    values,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _one_of(column: str, enum: type[StrEnum], *, nullable: bool = False) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values(enum))
    expr = f"{column} IN ({allowed})"
    if nullable:
        expr = f"{column} IS NULL OR {expr}"
    return CheckConstraint(expr, name=f"{column}_valid")


def _live_sql() -> str:
    return "status IN (" + ", ".join(f"'{s.value}'" for s in LIVE_INFUSION_STATUSES) + ")"


def _score_in_range_sql() -> str:
    """One CHECK over all instruments: each instrument's score within its published range."""
    parts = [
        f"(instrument = '{code.value}' AND score BETWEEN {lo} AND {hi})"
        for code, (lo, hi) in INSTRUMENT_RANGES.items()
    ]
    return " OR ".join(parts)


#: The active-patient condition as literal SQL: a partial index is only used by a query whose WHERE
#: says the same thing in the same words (SQLite does not match a bound parameter against the index's).
ACTIVE_PATIENT_SQL = f"deleted_at IS NULL AND status = '{PatientStatus.ACTIVE.value}'"
