"""demo accounts marked as such

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:20:00

The demo clinic's five accounts have passwords printed in the README. They are now marked
(``app_user.is_demo``) so that sign-in can refuse them on a database that also holds real patients. An
existing account is marked when its name is one of the demo names and its password is still the
published demo password: a clinic that kept the name ``admin`` with a password of its own is not
touched. The names and passwords are written out here, not imported: a migration records what was
true at its revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: The demo accounts of kdash.demo.first_run on 2026-12-03 (name, published password).
_DEMO = (
    ("provider", "demo-provider-pass"),
    ("nurse", "demo-nurse-password"),
    ("scheduler", "demo-scheduler-pass"),
    ("admin", "demo-admin-password"),
    ("viewer", "demo-viewer-password"),
)


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_demo", sa.Boolean(), nullable=False, server_default=sa.false()))
    conn = op.get_bind()
    hasher = PasswordHasher()
    for name, password in _DEMO:
        stored = conn.execute(
            sa.text("SELECT password_hash FROM app_user WHERE username = :n"), {"n": name}
        ).scalar()
        if not stored:
            continue
        try:
            hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            continue
        conn.execute(sa.text("UPDATE app_user SET is_demo = :t WHERE username = :n"), {"t": True, "n": name})


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("is_demo")
