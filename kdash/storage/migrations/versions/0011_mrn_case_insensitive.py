"""MRNs unique without regard to case: a unique index on lower(mrn)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:00:00

``rt-0001`` and ``RT-0001`` were stored as two patients (issue 20, finding 7). kdash now compares MRNs
without regard to case (kdash.domain.identifiers), and the database refuses a second MRN that differs
from a stored one only in case: a unique index on ``lower(mrn)`` on SQLite and PostgreSQL (the exact
unique constraint stays; the new index is the stricter one).

A database that already holds such a pair is not changed: the upgrade stops and names the patients by
record id (never by MRN or name), so the clinic can merge the records or correct one MRN first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "uq_patient_mrn_lower"


def collisions(conn: sa.Connection) -> list[list[int]]:
    """Groups of patient ids whose MRNs differ only in case (each group in id order)."""
    rows = conn.execute(sa.text("SELECT id, lower(mrn) FROM patient ORDER BY id")).all()
    groups: dict[str, list[int]] = {}
    for row_id, key in rows:
        groups.setdefault(str(key), []).append(int(row_id))
    return [ids for ids in groups.values() if len(ids) > 1]


def upgrade() -> None:
    conn = op.get_bind()
    clashes = collisions(conn)
    if clashes:
        listed = "; ".join(" and ".join(str(i) for i in ids) for ids in clashes[:20])
        more = f" (and {len(clashes) - 20} more)" if len(clashes) > 20 else ""
        raise RuntimeError(
            f"Cannot make MRNs case-insensitive: {len(clashes)} group(s) of patients have MRNs that differ "
            f"only in case (patient record ids {listed}{more}). kdash now treats such MRNs as one patient. "
            "Merge each group into one record or give one of them its correct MRN, then run "
            "`python -m kdash db upgrade` again. The patient table was not changed."
        )
    op.create_index(INDEX, "patient", [sa.text("lower(mrn)")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="patient")
