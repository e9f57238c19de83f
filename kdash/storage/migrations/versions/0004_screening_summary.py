"""screening_summary: each patient's screening status, kept current by the writes (docs/performance.md)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 22:10:00

The table starts empty: :func:`kdash.storage.screening_summary.ensure_current` fills the rows that are
missing or were judged under other settings the first time the roster asks (so a backup restored from
before this revision is covered too), and every write keeps them current after that.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_STATUSES = ("not_started", "not_eligible", "incomplete", "needs_review", "cleared")


def upgrade() -> None:
    allowed = ", ".join(f"'{s}'" for s in _STATUSES)
    op.create_table(
        "screening_summary",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=True),
        sa.Column("through", sa.Date(), nullable=True),
        sa.Column("classes_key", sa.String(length=16), nullable=False),
        sa.CheckConstraint(f"status IN ({allowed})", name=op.f("ck_screening_summary_status_valid")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_screening_summary_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_screening_summary")),
    )
    op.create_index("ix_screening_summary_classes_key", "screening_summary", ["classes_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_screening_summary_classes_key", table_name="screening_summary")
    op.drop_table("screening_summary")
