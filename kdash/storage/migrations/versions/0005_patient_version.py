"""patient_version: a token per patient that every write to the patient's record changes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 23:00:00

Existing patients get a fresh random token each, so readers may cache their records from the start.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_version",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_patient_version_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_version")),
    )
    if op.get_bind().dialect.name == "postgresql":
        fresh = "md5(random()::text || clock_timestamp()::text || id::text)"
    else:
        fresh = "lower(hex(randomblob(16)))"
    op.execute(f"INSERT INTO patient_version (patient_id, token) SELECT id, {fresh} FROM patient")  # noqa: S608


def downgrade() -> None:
    op.drop_table("patient_version")
