"""failed sign-ins per client in the database, so every app server's throttle agrees

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:30:00

The per-client sign-in throttle counted failures in each server's memory: behind a load balancer a
client could guess the policy's count on every server, and a restart forgot the count. Each failure is
now a row (the SHA-256 of the client and the time) that every server reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index("ix_login_failure_client", "login_failure", ["client_hash", "failed_at"])


def downgrade() -> None:
    op.drop_index("ix_login_failure_client", table_name="login_failure")
    op.drop_table("login_failure")
