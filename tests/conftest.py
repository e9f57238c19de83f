"""Shared fixtures: a fresh, migrated database on SQLite and (where a server answers) PostgreSQL.

PostgreSQL tests use the server on 127.0.0.1:5432 (database ``test``, user ``postgres``, trust auth,
overridable with ``KDASH_TEST_PG_URL``); each fixture gets its own schema so runs never see each other's
rows, and the schema is dropped afterwards. Where no server answers, those tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade

# Under mutation testing (mutmut sets MUTANT_UNDER_TEST in every run it makes) a mutant may make a
# property test slower without making it wrong, and the machine is shared: no per-example deadline, so
# a mutant is killed by a wrong answer, never by a slow one.
if "MUTANT_UNDER_TEST" in os.environ:
    settings.register_profile("mutation", deadline=None)
    settings.load_profile("mutation")

PG_URL = os.environ.get("KDASH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    """None when the server answers, else the reason to skip."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach the server is a reason to skip
        return f"no PostgreSQL server answers at {make_url(PG_URL).render_as_string()}: {exc}"
    return None


_PG_SKIP_REASON = _pg_available()


def pg_schema_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@contextmanager
def pg_schema(prefix: str = "kdash_test") -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL schema, dropped afterwards (skips where no server answers)."""
    if _PG_SKIP_REASON:
        pytest.skip(_PG_SKIP_REASON)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # PostgreSQL's audit key lives outside the database: a key file of the test's own (servers started
    # by the test inherit it), unless the run names one.
    key_dir = None
    if not (os.environ.get("KDASH_AUDIT_KEY") or os.environ.get("KDASH_AUDIT_KEY_FILE")):
        key_dir = tempfile.mkdtemp(prefix="kdash-audit-key-")
        os.environ["KDASH_AUDIT_KEY_FILE"] = str(Path(key_dir) / "audit.key")
    try:
        yield pg_schema_url(schema)
    finally:
        if key_dir is not None:
            os.environ.pop("KDASH_AUDIT_KEY_FILE", None)
            shutil.rmtree(key_dir, ignore_errors=True)
        from kdash.storage.database import dispose_engines

        dispose_engines()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL schema (dropped after the test)."""
    with pg_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kdash.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kdash.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(any_url: str) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    engine = make_engine(any_url)
    upgrade(engine)
    yield Database(engine=engine)
    engine.dispose()


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield Database(engine=engine)
    engine.dispose()
