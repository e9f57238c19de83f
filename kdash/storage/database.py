"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL.

One engine per URL per process. On SQLite the pysqlite driver's own transaction handling is switched
off so that kdash issues ``BEGIN`` itself: writes start with ``BEGIN IMMEDIATE`` (a second writer waits
for the lock at BEGIN instead of failing half-way, which the ten-per-course cap relies on), reads with a
plain deferred ``BEGIN`` so readers never queue behind each other. WAL lets readers run beside a writer.

Engines hide bound parameters from logs and error messages (``hide_parameters``): they carry names and
MRNs, which must never reach a log line. SQLAlchemy logs result rows at DEBUG, so its engine logger is
held at WARNING unless someone sets its level on purpose: a server run with the root logger at DEBUG
does not write patient rows to its log.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from kdash.storage.write_hooks import install as install_write_hooks

_sql_log = logging.getLogger("sqlalchemy.engine")
if _sql_log.level == logging.NOTSET:
    _sql_log.setLevel(logging.WARNING)

DEFAULT_URL = "sqlite:///data/kdash.db"
#: Milliseconds a SQLite writer waits for the lock before giving up (concurrent app users).
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "kdash_write"


def database_url(url: str | None = None) -> str:
    """The URL to use: an explicit one, else ``KDASH_DATABASE_URL``, else the embedded SQLite file."""
    chosen = url or os.environ.get("KDASH_DATABASE_URL") or DEFAULT_URL
    if chosen.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask SQLAlchemy for psycopg2.
        chosen = "postgresql+psycopg://" + chosen.removeprefix("postgresql://")
    return chosen


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's lower() folds ASCII only; searches fold names the way Python (and PostgreSQL) do.
    dbapi_connection.create_function("kdash_lower", 1, _lower, deterministic=True)


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(conn: Any) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | None = None) -> Engine:
    """A new engine for ``url`` with kdash's connection settings (use :func:`get_engine` to share)."""
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() == "sqlite":
        db_path = resolved.database
        if db_path and db_path != ":memory:" and not db_path.startswith("file:"):
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            # Created readable by the owner only (it holds ePHI); SQLite gives its -wal and -shm
            # files the database file's permissions.
            os.close(os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600))
        engine = create_engine(resolved, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(resolved, pool_pre_ping=True, hide_parameters=True)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (created on first use)."""
    key = database_url(url)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = make_engine(key)
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, restore, forked workers)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """A database handle: read and write sessions over one engine.

    ``write()`` is the only way to change data: one transaction, committed on success and rolled back on
    any exception, so a form or an import writes everything or nothing. Its sessions keep the derived
    per-patient rows (screening summary, version tokens) current in that same transaction
    (:mod:`kdash.storage.write_hooks`).
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.engine = engine or get_engine(url)
        self.url = str(self.engine.url.render_as_string(hide_password=False))
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        install_write_hooks(self._write)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read.begin() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write.begin() as session:
            yield session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def open_database(url: str | None = None, *, upgrade: bool = True) -> Database:
    """Open the database at ``url`` and, by default, bring its schema to the latest revision."""
    db = Database(url)
    if upgrade:
        from kdash.storage.migrate import ensure_latest

        ensure_latest(db.engine)
    return db
