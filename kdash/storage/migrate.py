"""Alembic migrations, run from code so the app and the CLI upgrade a database by themselves.

The migration scripts live inside the package (``kdash/storage/migrations``) so they are found wherever
kdash is run from. On PostgreSQL an advisory lock keeps two app servers starting at once from racing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Arbitrary constant identifying kdash's schema-upgrade lock among PostgreSQL advisory locks.
_PG_UPGRADE_LOCK = 0x6B64617368


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade to ``revision``; returns (revision before, revision after). Running it twice is a no-op."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_UPGRADE_LOCK})
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(alembic_config(conn), revision)
        after = MigrationContext.configure(conn).get_current_revision()
        if after not in (None, "0001"):
            # Someone who dropped the audit trail's triggers does not get to keep that: an upgrade
            # (``db upgrade``, a restore) puts them back. The start-up check reports them missing first.
            from kdash.storage.audit_triggers import recreate_missing_triggers

            recreate_missing_triggers(conn)
    assert after is not None
    return before, after


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def ensure_latest(engine: Engine) -> None:
    """Upgrade only when behind: the cheap check runs on every app start and CLI call."""
    if current_revision(engine) != head_revision():
        upgrade(engine)
