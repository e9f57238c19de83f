"""infusion readings held to the plausibility limits the forms and the importers apply

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:30:00

The database checked only that a reading was positive; the forms and the import each applied their own
plausibility limits, and they differed. One table (``kdash.domain.limits``, argued in
``docs/plausibility-limits.md``) now holds them, and the database refuses what the table refuses: a
value written around the services (a script, a future client) meets the same limits.

The figures are written out here, not imported: a migration is a record of what the schema was at its
revision. A stored reading outside the new limits stops the upgrade with the infusion ids to correct (a
clinical value is amended with a reason through the app, never changed by a migration).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: (column, low, high) as in kdash.domain.limits on 2026-12-03.
_LIMITS: tuple[tuple[str, str, str], ...] = (
    ("bp_pre_sys", "50", "300"),
    ("bp_pre_dia", "20", "200"),
    ("bp_peak_sys", "50", "300"),
    ("bp_peak_dia", "20", "200"),
    ("bp_discharge_sys", "50", "300"),
    ("bp_discharge_dia", "20", "200"),
    ("heart_rate", "20", "250"),
    ("spo2", "50", "100"),
    ("dose_mg_per_kg", "0.05", "5"),
)
#: The checks they replace (0001): each reading only positive, SpO2 a percentage.
_OLD: tuple[tuple[str, str], ...] = (
    *(
        (f"{c}_positive", f"{c} IS NULL OR {c} > 0")
        for c in (
            "bp_pre_sys",
            "bp_pre_dia",
            "bp_peak_sys",
            "bp_peak_dia",
            "bp_discharge_sys",
            "bp_discharge_dia",
            "heart_rate",
        )
    ),
    ("dose_positive", "dose_mg_per_kg IS NULL OR dose_mg_per_kg > 0"),
    ("spo2_percent", "spo2 IS NULL OR spo2 BETWEEN 0 AND 100"),
)


def _sql(column: str, low: str, high: str) -> str:
    return f"{column} IS NULL OR {column} BETWEEN {low} AND {high}"


def _refuse_stored_outliers() -> None:
    bad = " OR ".join(f"NOT ({_sql(*limit)})" for limit in _LIMITS)
    ids = [row[0] for row in op.get_bind().execute(text(f"SELECT id FROM infusion WHERE {bad} ORDER BY id"))]  # noqa: S608
    if ids:
        raise RuntimeError(
            f"{len(ids)} infusion record(s) hold a reading outside the plausibility limits "
            f"(docs/plausibility-limits.md): ids {', '.join(map(str, ids[:50]))}. Amend them with a reason "
            "on the patient page (or by import), then upgrade again."
        )


def _swap(drop: tuple[str, ...], add: tuple[tuple[str, str], ...]) -> None:
    bind = op.get_bind()
    indexes: list[str] = []
    if bind.dialect.name == "sqlite":
        # SQLite rebuilds the table to change a CHECK: keep its indexes (some are partial) exactly.
        indexes = [
            row[0]
            for row in bind.execute(
                text(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'infusion' AND sql IS NOT NULL"
                )
            )
        ]
    with op.batch_alter_table("infusion", schema=None) as batch_op:
        for name in drop:
            batch_op.drop_constraint(op.f(f"ck_infusion_{name}"), type_="check")
        for name, condition in add:
            batch_op.create_check_constraint(op.f(f"ck_infusion_{name}"), condition)
    for sql in indexes:
        name = sql.split()[2] if not sql.upper().startswith("CREATE UNIQUE") else sql.split()[3]
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(sql)


def upgrade() -> None:
    _refuse_stored_outliers()
    _swap(
        tuple(name for name, _ in _OLD),
        tuple((f"{column}_plausible", _sql(column, low, high)) for column, low, high in _LIMITS),
    )


def downgrade() -> None:
    _swap(tuple(f"{column}_plausible" for column, _, _ in _LIMITS), _OLD)
