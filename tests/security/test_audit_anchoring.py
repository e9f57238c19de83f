"""The append-only triggers are part of the trail: verified, put back by an upgrade, required by restore,
checked when the app starts.

The red-team run dropped the triggers, edited and deleted events, and found that ``audit verify`` did not
mention the missing triggers, ``restore --yes`` accepted such a file (and kept no triggers), and ``db
upgrade`` did not re-create them.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kdash.cli.main import main
from kdash.domain.access import SYSTEM
from kdash.services.audit_log import verify_audit_chain
from kdash.services.backup import BackupError, backup, restore
from kdash.storage.audit_chain import record
from kdash.storage.audit_triggers import missing_triggers
from kdash.storage.database import Database, open_database
from kdash.storage.migrate import upgrade
from tests.apptest_support import ACTORS, make_app_db, run_app
from tests.helpers import drop_append_only_triggers


def _events(db: Database, n: int) -> None:
    with db.write() as s:
        for i in range(n):
            record(s, SYSTEM, "view_patient", reason=f"event {i}")


def test_verify_names_a_missing_trigger_even_when_every_hash_holds(db: Database) -> None:
    _events(db, 3)
    assert verify_audit_chain(db, SYSTEM) == (3, [])
    with db.write() as s:
        drop_append_only_triggers(s)
    checked, problems = verify_audit_chain(db, SYSTEM)
    assert checked == 3
    assert problems
    assert all(p.event_id == 0 and "append-only trigger" in p.problem for p in problems)


def test_audit_verify_command_fails_on_a_missing_trigger(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(sqlite_url)
    _events(db, 2)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["audit", "verify", "--db", sqlite_url]) == 0
    with db.write() as s:
        drop_append_only_triggers(s)
    assert main(["audit", "verify", "--db", sqlite_url]) == 4
    out = capsys.readouterr().out
    assert "BROKEN" in out
    assert "trail: the append-only trigger audit_event_no_delete is missing" in out


def test_db_upgrade_puts_dropped_triggers_back(db: Database) -> None:
    _events(db, 1)
    with db.write() as s:
        drop_append_only_triggers(s)
    with db.engine.connect() as conn:
        assert missing_triggers(conn)
    upgrade(db.engine)  # what ``python -m kdash db upgrade`` runs
    with db.engine.connect() as conn:
        assert missing_triggers(conn) == []
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))


def _tampered_backup(tmp_path: Path, how: str) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    db = open_database(url)
    _events(db, 5)
    copy = tmp_path / "copy.db"
    backup(url, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TRIGGER audit_event_no_update")
        conn.execute("DROP TRIGGER audit_event_no_delete")
        if how == "edited":
            conn.execute("UPDATE audit_event SET reason = 'nothing to see' WHERE id = 2")
    return url, copy


@pytest.mark.parametrize("how", ["edited", "triggers dropped"])
def test_restore_refuses_a_file_whose_trail_does_not_verify(tmp_path: Path, how: str) -> None:
    url, copy = _tampered_backup(tmp_path, how)
    with pytest.raises(BackupError, match="does not verify") as exc:
        restore(url, copy)
    assert "audit_event_no_delete is missing" in str(exc.value)
    if how == "edited":
        assert "audit event 2" in str(exc.value)
    assert not list(tmp_path.glob("*.before-restore-*"))  # refused before anything was touched


def test_restore_of_an_intact_backup_still_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    _events(open_database(url), 3)
    backup(url, tmp_path / "good.db")
    info, _safety = restore(url, tmp_path / "good.db")
    assert info.audit_events == 3


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The database the app opens, with no users: the start-up check must judge the trail alone."""
    yield from make_app_db(tmp_path, monkeypatch, users=False)


def test_the_app_says_so_loudly_when_the_trail_fails_at_start(
    app_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db = app_db
    _events(db, 2)
    with db.write() as s:
        drop_append_only_triggers(s)
    with caplog.at_level(logging.ERROR, logger="kdash.ui"):
        admin = run_app(ACTORS["admin"])
    assert not admin.exception
    assert any("audit trail failed its check" in e.value for e in admin.error)
    assert any("AUDIT TRAIL FAILS VERIFICATION" in r.getMessage() for r in caplog.records)
    nurse = run_app(ACTORS["nurse"])
    assert not any("audit trail" in e.value for e in nurse.error)  # the banner is for administrators
