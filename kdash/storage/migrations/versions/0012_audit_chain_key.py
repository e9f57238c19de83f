"""audit events record the key that chained them: keyed HMAC-SHA256 links from here on

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 17:00:00

Each new event's chain value is an HMAC-SHA256 under a key kept outside the database, and ``chain_key``
names the algorithm and the key's id ("hmac-sha256:<id>"). Events already in the table keep their plain
SHA-256 links and an empty ``chain_key``: they are verified as before, and only before the first keyed
event, which chains onto the last of them and so anchors them (docs/security.md, "The audit key").
Adding a column fires no UPDATE trigger, so the append-only triggers stay as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("chain_key", sa.String(length=40), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop its append-only triggers.
    op.execute("ALTER TABLE audit_event DROP COLUMN chain_key")
