"""Backups of the embedded SQLite database, and restoring one, through SQLite's online backup API.

The backup API copies a consistent snapshot while the app keeps running (a plain file copy of a WAL
database can miss the newest pages or tear). A restore accepts only a file that is a kdash database at
a schema revision this kdash knows, keeps a copy of the database it replaces, and upgrades the restored
schema to the current revision. PostgreSQL is backed up with ``pg_dump`` (HIPAA 164.308(a)(7) data
backup plan; 164.312(c)(1) integrity).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import make_url

from kdash.storage.database import SQLITE_BUSY_TIMEOUT_MS, database_url
from kdash.storage.migrate import alembic_config, head_revision

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Tables without which a file is not a kdash database.
REQUIRED_TABLES = {"alembic_version", "app_user", "audit_event", "patient", "course", "infusion"}

PG_DUMP_HINT = (
    "kdash backs up only its embedded SQLite database. For PostgreSQL use the server's own tools, e.g. "
    "`pg_dump --format=custom --file kdash-YYYYMMDD.dump DBNAME` and `pg_restore --clean --dbname DBNAME "
    "FILE` (see docs/security.md, Backups)."
)


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    revision: str
    users: int
    patients: int
    audit_events: int


def sqlite_file(url: str | None) -> Path:
    """The database file behind ``url``; :class:`BackupError` for PostgreSQL or an in-memory database."""
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() != "sqlite":
        raise BackupError(PG_DUMP_HINT)
    if not resolved.database or resolved.database == ":memory:" or resolved.database.startswith("file:"):
        raise BackupError("Only a SQLite database file can be backed up or restored.")
    return Path(resolved.database)


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def inspect_file(path: Path) -> BackupInfo:
    """Check that ``path`` is a readable, intact kdash database at a known revision."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file.")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite database.")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is damaged (SQLite quick_check failed).")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = REQUIRED_TABLES - tables
            if missing:
                raise BackupError(f"{path} is not a kdash database (no {', '.join(sorted(missing))} table).")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else ""
            if revision not in known_revisions():
                raise BackupError(
                    f"{path} is at schema revision {revision or 'none'!r}, which this kdash does not know "
                    "(a newer kdash made it?). Restore it with that version of kdash."
                )
            counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _COUNTED]  # noqa: S608
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read as a database: {exc}.") from None
    return BackupInfo(path, revision, *counts)


_COUNTED = ("app_user", "patient", "audit_event")


def _copy(src_path: Path, dest_path: Path) -> None:
    """Copy ``src_path`` onto ``dest_path`` page by page with the online backup API."""
    with (
        closing(sqlite3.connect(src_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as src,
        closing(sqlite3.connect(dest_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as dest,
    ):
        src.backup(dest)


def backup(url: str | None, dest: Path, *, overwrite: bool = False) -> BackupInfo:
    """Write a consistent copy of the SQLite database at ``url`` to ``dest`` (a single file)."""
    source = sqlite_file(url)
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} already exists; choose another file name.")
    if not dest.parent.is_dir():
        raise BackupError(f"The folder {dest.parent} does not exist.")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)  # a backup holds ePHI: owner only, whatever the umask
    partial.chmod(0o600)
    _copy(source, partial)
    with closing(sqlite3.connect(partial)) as conn:
        # One self-contained file: no -wal / -shm companions to forget when copying it off-site.
        conn.execute("PRAGMA journal_mode=DELETE")
    partial.replace(dest)
    return inspect_file(dest)


def restore(url: str | None, source: Path, *, now: datetime | None = None) -> tuple[BackupInfo, Path | None]:
    """Replace the SQLite database at ``url`` with ``source``; returns (what was restored, safety copy).

    The database being replaced is first copied beside it (``*.before-restore-<time>.db``) so a wrong
    restore can be undone. Engines of this process are disposed; other app servers must be restarted.
    """
    from kdash.storage.database import dispose_engines

    target = sqlite_file(url)
    info = inspect_file(source)
    refuse_a_tampered_trail(source, url)
    if source.resolve() == target.resolve():
        raise BackupError("The backup file is the database itself; nothing to restore.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    safety: Path | None = None
    if target.is_file():
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        safety = target.with_name(f"{target.stem}.before-restore-{stamp}{target.suffix}")
        safety.touch(mode=0o600)
        safety.chmod(0o600)
        _copy(target, safety)
    dispose_engines()
    target.touch(mode=0o600)
    target.chmod(0o600)
    _copy(source, target)
    with closing(sqlite3.connect(target)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    return info, safety


def refuse_a_tampered_trail(path: Path, url: str | None) -> None:
    """:class:`BackupError` unless the file's audit chain verifies (keyed events under the key of the
    database at ``url``) and its append-only triggers exist.

    A restore must not bring back a trail someone edited with the triggers dropped (and, restored, it
    would keep no triggers). The file is opened read-only: checking a backup never changes it. Its head
    is not compared with the live database's checkpoint: a restore rolls the trail back on purpose, and
    the checkpoint is signed afresh for the restored head (:func:`kdash.services.audit_log.after_restore`).
    """
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from kdash.domain.errors import AuditKeyError
    from kdash.storage.audit_chain import verify_chain
    from kdash.storage.audit_key import load_key
    from kdash.storage.audit_triggers import missing_triggers

    key, key_error = None, None
    try:
        key = load_key(database_url(url))
    except AuditKeyError as exc:
        key_error = str(exc)

    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False),
    )
    try:
        with Session(engine) as session:
            missing = missing_triggers(session.connection())
            _checked, problems = verify_chain(session, key, key_error=key_error or "no key")
    finally:
        engine.dispose()
    if missing or problems:
        what = [f"the append-only trigger {name} is missing" for name in missing]
        what += [f"audit event {p.event_id}: {p.problem}" if p.event_id else p.problem for p in problems[:5]]
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise BackupError(
            f"{path} holds an audit trail that does not verify, so it is not restored: "
            + "; ".join(what)
            + more
            + ". Keep the file as evidence and restore an earlier backup."
        )


def is_current(info: BackupInfo) -> bool:
    return info.revision == head_revision()
