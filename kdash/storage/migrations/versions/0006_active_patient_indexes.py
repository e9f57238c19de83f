"""partial indexes of active patients: the roster's page in name order and its provider list

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 23:20:00

The roster page counts the active patients, lists their providers and takes the first hundred by name
(docs/performance.md). Over the whole patient table each of these visits every active patient's row
and sorts; over these indexes, which hold only active patients, the page is read in order and the count
and the providers come from the index alone. The queries spell the condition literally
(``kdash.storage.models.active_patient_clause``) so that SQLite matches it to the indexes'.

The plain index on ``patient.status`` goes: a status has a handful of values, every query by status asks
for active patients, and SQLite's planner, without statistics, took that index over the partial ones
(six milliseconds to count 22,000 active patients of 50,000 instead of under one).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ACTIVE = "deleted_at IS NULL AND status = 'active'"


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_status")
    op.create_index(
        "ix_patient_active_name",
        "patient",
        ["last_name", "first_name", "mrn"],
        unique=False,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )
    op.create_index(
        "ix_patient_active_provider",
        "patient",
        ["provider"],
        unique=False,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_patient_active_provider", table_name="patient")
    op.drop_index("ix_patient_active_name", table_name="patient")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index("ix_patient_status", ["status"], unique=False)
