"""chair time held by each booking; live bookings of one chair never overlap

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00

A chair holds one patient for the chair time (infusion plus recovery, docs/clinical-reference.md "Planning decisions"). Until now
the schema only refused two live bookings of one chair at the same start; two starts 30 minutes apart
were stored. Each infusion now keeps the end of the chair time it holds (``chair_until``: the start plus
the clinic's chair time, filled in here for the rows already stored), and the database refuses overlaps:

- PostgreSQL: an exclusion constraint over ``int4range(chair, chair, '[]')`` and
  ``tsrange(scheduled_at, chair_until)`` for live bookings (built-in GiST range operator classes, so no
  extension is needed; the half-open range lets one booking end at 10:00 and the next start at 10:00).
- SQLite: triggers before an insert or an update of a live booking make the same check inside the
  writing transaction; SQLite serialises writers (``BEGIN IMMEDIATE``), so the check cannot race.

A database whose stored bookings already overlap is not changed: the upgrade stops and names them, so
the clinic can cancel or move one of each pair first.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_LIVE = "status IN ('scheduled', 'completed')"
_OVERLAP_NAME = "ex_infusion_chair_overlap"


def _chair_minutes(conn: sa.Connection) -> int:
    """The clinic's chair time now: its stored settings over the defaults."""
    from kdash.domain.policy import DEFAULT_SETTINGS

    rows = conn.execute(
        sa.text("SELECT key, value_json FROM setting WHERE key IN ('infusion_minutes', 'recovery_minutes')")
    )
    overrides = {key: json.loads(value) for key, value in rows}
    return int(overrides.get("infusion_minutes", DEFAULT_SETTINGS.infusion_minutes)) + int(
        overrides.get("recovery_minutes", DEFAULT_SETTINGS.recovery_minutes)
    )


def _sqlite_trigger(event: str, same_row: str) -> str:
    return f"""
CREATE TRIGGER tr_infusion_chair_overlap_{event.split()[0].lower()}
BEFORE {event} ON infusion
WHEN NEW.chair IS NOT NULL AND NEW.{_LIVE}
BEGIN
  SELECT RAISE(ABORT, '{_OVERLAP_NAME}: this chair is held by another live booking at that time')
  WHERE EXISTS (
    SELECT 1 FROM infusion AS other
    WHERE other.chair = NEW.chair AND other.{_LIVE} AND {same_row}
      AND other.scheduled_at >= datetime(NEW.scheduled_at, '-1 day')
      AND other.scheduled_at <= datetime(NEW.chair_until, '+1 day')
      AND julianday(other.scheduled_at) < julianday(NEW.chair_until)
      AND julianday(other.chair_until) > julianday(NEW.scheduled_at)
  );
END
"""  # noqa: S608 (built from this module's constants only)


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("infusion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chair_until", sa.DateTime(), nullable=True))
    minutes = _chair_minutes(conn)
    infusion = sa.table(
        "infusion",
        sa.column("id", sa.Integer),
        sa.column("scheduled_at", sa.DateTime),
        sa.column("chair_until", sa.DateTime),
    )
    rows = conn.execute(sa.select(infusion.c.id, infusion.c.scheduled_at)).all()
    if rows:
        conn.execute(
            infusion.update()
            .where(infusion.c.id == sa.bindparam("row_id"))
            .values(chair_until=sa.bindparam("until")),
            [{"row_id": i, "until": at + timedelta(minutes=minutes)} for i, at in rows if at is not None],
        )
    clashes = _overlaps(conn)
    if clashes:
        raise RuntimeError(
            "Live bookings already share a chair at overlapping times (infusion ids "
            + ", ".join(f"{a} and {b}" for a, b in clashes[:20])
            + "). Cancel or move one of each pair, then upgrade again."
        )
    with op.batch_alter_table("infusion", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_infusion_chair_time_held"),
            "chair IS NULL OR (chair_until IS NOT NULL AND chair_until > scheduled_at)",
        )
    if conn.dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE infusion ADD CONSTRAINT {_OVERLAP_NAME} EXCLUDE USING gist "
            "(int4range(chair, chair, '[]') WITH &&, tsrange(scheduled_at, chair_until) WITH &&) "
            f"WHERE ({_LIVE} AND chair IS NOT NULL)"
        )
    else:
        op.execute(_sqlite_trigger("INSERT", "1 = 1"))
        op.execute(
            _sqlite_trigger("UPDATE OF chair, scheduled_at, chair_until, status", "other.id != NEW.id")
        )


def _overlaps(conn: sa.Connection) -> list[tuple[int, int]]:
    """Pairs of live bookings of one chair whose chair times overlap (the first id the earlier)."""
    rows = conn.execute(
        sa.text(
            f"SELECT id, chair, scheduled_at, chair_until FROM infusion "  # noqa: S608
            f"WHERE {_LIVE} AND chair IS NOT NULL ORDER BY chair, scheduled_at, id"
        )
    ).all()
    clashes: list[tuple[int, int]] = []
    held: dict[int, tuple[int, datetime]] = {}
    for row_id, chair, start, until in rows:
        start, until = _when(start), _when(until)
        last = held.get(chair)
        if last is not None and start < last[1]:
            clashes.append((last[0], row_id))
        if last is None or until > last[1]:
            held[chair] = (row_id, until)
    return clashes


def _when(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE infusion DROP CONSTRAINT {_OVERLAP_NAME}")
    else:
        op.execute("DROP TRIGGER tr_infusion_chair_overlap_insert")
        op.execute("DROP TRIGGER tr_infusion_chair_overlap_update")
    with op.batch_alter_table("infusion", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_infusion_chair_time_held"), type_="check")
        batch_op.drop_column("chair_until")
