"""The users, audit, backup and restore commands: what an administrator at the server sees."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kdash.cli.main import main
from kdash.domain.access import SYSTEM
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.services.authentication import LoginError, authenticate
from kdash.storage.audit_chain import record
from kdash.storage.database import open_database
from kdash.storage.migrate import head_revision
from kdash.storage.models import AuditEvent, Patient, User
from tests.helpers import drop_append_only_triggers
from tests.seeded import seed_patient

GOOD = "correct horse battery staple"
NOW = datetime(2026, 11, 24, 9, 0)


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_users_add_reads_password_from_stdin_and_can_log_in(
    any_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(["users", "add", "nurse.jo", "--role", "nurse", "--db", any_url], monkeypatch, GOOD + "\n") == 0
    )
    assert "nurse.jo added with role nurse" in capsys.readouterr().out
    db = open_database(any_url)
    actor = authenticate(db, "nurse.jo", GOOD, DEFAULT_SETTINGS, NOW)
    assert actor.role.value == "nurse"
    with db.read() as s:
        events = [(e.username, e.action) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert ("system", "add_user") in events
    assert run(["users", "list", "--db", any_url], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "nurse.jo" in out
    assert "argon2" not in out


def test_password_is_never_a_command_line_argument(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    with pytest.raises(SystemExit) as exc:
        run(["users", "add", "x", "--role", "nurse", "--password", GOOD, "--db", sqlite_url], monkeypatch)
    assert exc.value.code == 2


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["users", "add", "dr.a", "--role", "provider"], "short\n", "at least 12 characters"),
        (["users", "add", "dr a", "--role", "provider"], GOOD + "\n", "does not qualify"),
        (["users", "add", "dr.a", "--role", "provider"], "", "No password given"),
        (["users", "add", "dr.a", "--role", "provider", "--email", "not-an-address"], GOOD + "\n", "e-mail"),
        (["users", "disable", "nobody"], "", "no user called 'nobody'"),
        (["users", "unlock", "nobody"], "", "no user called 'nobody'"),
        (["users", "set-password", "nobody"], GOOD + "\n", "no user called 'nobody'"),
    ],
)
def test_bad_user_commands_exit_non_zero_with_a_reason(
    argv: list[str],
    stdin: str,
    message: str,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run([*argv, "--db", sqlite_url], monkeypatch, stdin) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err
    with open_database(sqlite_url).read() as s:
        assert s.scalars(select(User)).all() == []


def test_disable_unlock_and_set_password(
    any_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["users", "add", "dr.a", "--role", "provider", "--db", any_url], monkeypatch, GOOD + "\n") == 0
    db = open_database(any_url)
    for _ in range(DEFAULT_SETTINGS.lockout_failures):
        with pytest.raises(LoginError):
            authenticate(db, "dr.a", "wrong password!!", DEFAULT_SETTINGS, NOW)
    with pytest.raises(LoginError, match=r"^Wrong user name or password\.$"):  # locked, not told apart
        authenticate(db, "dr.a", GOOD, DEFAULT_SETTINGS, NOW)
    assert run(["users", "unlock", "dr.a", "--db", any_url], monkeypatch) == 0
    authenticate(db, "dr.a", GOOD, DEFAULT_SETTINGS, NOW)

    new = "another long passphrase"
    assert run(["users", "set-password", "dr.a", "--db", any_url], monkeypatch, new + "\n") == 0
    with pytest.raises(LoginError):
        authenticate(db, "dr.a", GOOD, DEFAULT_SETTINGS, NOW)
    authenticate(db, "dr.a", new, DEFAULT_SETTINGS, NOW)

    assert run(["users", "disable", "dr.a", "--db", any_url], monkeypatch) == 0
    with pytest.raises(LoginError, match="Wrong user name or password"):
        authenticate(db, "dr.a", new, DEFAULT_SETTINGS, NOW)
    capsys.readouterr()
    assert run(["users", "list", "--db", any_url], monkeypatch) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("dr.a"))
    assert line.split()[2] == "no"  # active column
    with db.read() as s:
        audit_text = " ".join(str(e.after_json) for e in s.scalars(select(AuditEvent)))
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.username == "system"))]
    assert actions == ["add_user", "unlock_user", "set_password", "disable_user"]
    assert new not in audit_text
    assert GOOD not in audit_text


def test_audit_verify_names_the_broken_event(
    any_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(any_url)
    with db.write() as s:
        for i in range(4):
            record(s, SYSTEM, "view_patient", entity_id=i, now=NOW)
    assert run(["audit", "verify", "--db", any_url], monkeypatch) == 0
    assert "intact: 4 events" in capsys.readouterr().out
    with db.write() as s:
        drop_append_only_triggers(s)
        s.execute(update(AuditEvent).where(AuditEvent.id == 2).values(username="someone.else"))
    assert run(["audit", "verify", "--db", any_url], monkeypatch) == 4
    out = capsys.readouterr().out
    assert "BROKEN" in out
    assert "event 2:" in out
    assert "event 3:" not in out


def test_audit_export_filters_and_neutralises_formulas(
    any_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(any_url)
    with db.write() as s:
        pid, _ = seed_patient(s, "MRN-EXPORT-1")
        other, _ = seed_patient(s, "MRN-EXPORT-2")
        record(s, SYSTEM, "view_patient", patient_id=pid, reason="=cmd|' /C calc'!A0", now=NOW)
        record(s, SYSTEM, "view_patient", patient_id=other, now=NOW)
        record(s, SYSTEM, "view_patient", patient_id=pid, now=datetime(2026, 1, 5, 9, 0))
    out = tmp_path / "audit.csv"
    argv = ["audit", "export", "--out", str(out), "--patient", "MRN-EXPORT-1", "--since", "2026-11-01"]
    assert run([*argv, "--db", any_url], monkeypatch) == 0
    assert "1 events written" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1
    assert rows[0]["patient_mrn"] == "MRN-EXPORT-1"
    assert rows[0]["reason"] == "'=cmd|' /C calc'!A0"
    # Exporting is itself audited, and an existing file is not overwritten silently.
    with db.read() as s:
        assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "export_audit"
    assert run([*argv, "--db", any_url], monkeypatch) == 3
    assert "already exists" in capsys.readouterr().err


def test_audit_export_refuses_a_bad_date(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as exc:
        run(
            [
                "audit",
                "export",
                "--out",
                str(tmp_path / "a.csv"),
                "--since",
                "24/11/2026",
                "--db",
                sqlite_url,
            ],
            monkeypatch,
        )
    assert exc.value.code == 2


def _patients(url: str) -> list[str]:
    with open_database(url).read() as s:
        return sorted(s.scalars(select(Patient.mrn)))


def test_backup_and_restore_round_trip(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(sqlite_url)
    with db.write() as s:
        seed_patient(s, "MRN-KEEP")
    assert (
        run(["users", "add", "admin.a", "--role", "admin", "--db", sqlite_url], monkeypatch, GOOD + "\n") == 0
    )
    backup_file = tmp_path / "backup.db"
    assert run(["backup", str(backup_file), "--db", sqlite_url], monkeypatch) == 0
    assert "1 patients" in capsys.readouterr().out
    assert not (tmp_path / "backup.db-wal").exists()

    # Changes after the backup: a new patient and a disabled admin.
    with db.write() as s:
        seed_patient(s, "MRN-LATER")
    assert run(["users", "disable", "admin.a", "--db", sqlite_url], monkeypatch) == 0
    assert _patients(sqlite_url) == ["MRN-KEEP", "MRN-LATER"]

    # Without --yes nothing happens.
    assert run(["restore", str(backup_file), "--db", sqlite_url], monkeypatch) == 3
    assert _patients(sqlite_url) == ["MRN-KEEP", "MRN-LATER"]

    capsys.readouterr()
    assert run(["restore", str(backup_file), "--yes", "--db", sqlite_url], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "before-restore" in out
    assert _patients(sqlite_url) == ["MRN-KEEP"]
    restored = open_database(sqlite_url)
    authenticate(restored, "admin.a", GOOD, DEFAULT_SETTINGS, NOW)  # active again, as in the backup
    assert run(["audit", "verify", "--db", sqlite_url], monkeypatch) == 0
    with restored.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    # The events the backup holds, then the restore, then the login above.
    assert actions == ["add_user", "restore", "login"]
    safety = next(tmp_path.glob("kdash.before-restore-*.db"))
    with sqlite3.connect(safety) as conn:
        assert conn.execute("SELECT count(*) FROM patient").fetchone()[0] == 2


def test_restore_refuses_what_is_not_a_kdash_database(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(sqlite_url)
    with db.write() as s:
        seed_patient(s, "MRN-STAYS")
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    future = tmp_path / "future.db"
    assert run(["backup", str(future), "--db", sqlite_url], monkeypatch) == 0
    with sqlite3.connect(future) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    capsys.readouterr()
    for path, message in (
        (tmp_path / "missing.db", "does not exist"),
        (text_file, "not a SQLite database"),
        (other, "not a kdash database"),
        (future, "does not know"),
    ):
        assert run(["restore", str(path), "--yes", "--db", sqlite_url], monkeypatch) == 2
        assert message in capsys.readouterr().err
    assert _patients(sqlite_url) == ["MRN-STAYS"]


def test_backup_refuses_to_overwrite(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_database(sqlite_url)
    target = tmp_path / "b.db"
    target.write_text("precious")
    assert run(["backup", str(target), "--db", sqlite_url], monkeypatch) == 2
    assert target.read_text() == "precious"


@pytest.mark.postgres
def test_backup_on_postgresql_points_at_pg_dump(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["backup", str(tmp_path / "x.db"), "--db", pg_url], monkeypatch) == 3
    assert "pg_dump" in capsys.readouterr().err
    assert run(["restore", str(tmp_path / "x.db"), "--yes", "--db", pg_url], monkeypatch) == 3
    assert "pg_restore" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_unreachable_database_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    assert run(["users", "list", "--db", url], monkeypatch) == 2
    err = capsys.readouterr().err
    assert "cannot open the database" in err
    assert "secret" not in err


def test_head_revision_includes_the_append_only_migration() -> None:
    from alembic.script import ScriptDirectory

    from kdash.storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert "0002" in {rev.revision for rev in script.walk_revisions("base", head_revision())}
