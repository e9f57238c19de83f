"""The keyed trail through its life: a legacy trail upgraded and anchored, a restore that rolls the trail
back on purpose, a tampered backup refused, and the app's start-up check naming a truncated trail."""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kdash.cli.main import main
from kdash.domain.access import SYSTEM
from kdash.services.audit_log import verify_audit_chain
from kdash.services.backup import BackupError, backup, restore
from kdash.services.schema import upgrade_database
from kdash.storage.audit_chain import GENESIS, record
from kdash.storage.audit_head import read_checkpoint
from kdash.storage.audit_triggers import recreate_missing_triggers
from kdash.storage.database import Database, make_engine, open_database
from kdash.storage.migrate import upgrade
from kdash.storage.models import AuditEvent
from tests.apptest_support import ACTORS, make_app_db, run_app
from tests.helpers import drop_append_only_triggers

NOW = datetime(2026, 12, 3, 9, 0)


def _events(db: Database, n: int, reason: str = "event") -> None:
    for i in range(n):
        with db.write() as s:
            record(s, SYSTEM, "view_patient", entity_id=i, reason=f"{reason} {i}", now=NOW)


def _legacy_rows(n: int, start_prev: str = GENESIS) -> list[dict[str, object]]:
    """Events as kdash wrote them before the audit key: plain SHA-256 links, no chain_key."""
    from kdash.storage.audit_chain import event_hash

    rows: list[dict[str, object]] = []
    prev = start_prev
    for i in range(n):
        fields = {
            "occurred_at": NOW.isoformat(timespec="microseconds"),
            "username": "system",
            "role": None,
            "action": "view_patient",
            "patient_id": None,
            "entity": None,
            "entity_id": i,
            "before": None,
            "after": None,
            "reason": f"legacy {i}",
            "outcome": "ok",
        }
        h = event_hash(prev, fields)
        rows.append({"t": NOW, "e": i, "r": f"legacy {i}", "p": prev, "h": h})
        prev = h
    return rows


_LEGACY_INSERT = (
    "INSERT INTO audit_event (occurred_at, username, action, entity_id, reason, outcome, prev_hash, hash) "
    "VALUES (:t, 'system', 'view_patient', :e, :r, 'ok', :p, :h)"
)


@pytest.fixture
def legacy_db(any_url: str) -> Iterator[Database]:
    """A database at revision 0011 holding three events chained with plain SHA-256, then upgraded."""
    engine = make_engine(any_url)
    upgrade(engine, "0011")
    with engine.begin() as conn:
        for row in _legacy_rows(3):
            conn.execute(text(_LEGACY_INSERT), row)
    upgrade(engine)
    yield Database(engine=engine)
    engine.dispose()


def test_a_legacy_trail_verifies_and_db_upgrade_anchors_it(legacy_db: Database) -> None:
    assert verify_audit_chain(legacy_db, SYSTEM) == (3, [])
    result = upgrade_database(legacy_db)
    assert (result.anchor_event, result.anchor_problem) == (4, None)
    assert upgrade_database(legacy_db).anchor_event is None  # once is enough
    with legacy_db.read() as s:
        labels = list(s.scalars(select(AuditEvent.chain_key).order_by(AuditEvent.id)))
    assert labels[:3] == [None, None, None]
    assert str(labels[3]).startswith("hmac-sha256:")
    assert verify_audit_chain(legacy_db, SYSTEM) == (4, [])


def test_rewriting_the_legacy_part_breaks_the_anchor(legacy_db: Database) -> None:
    upgrade_database(legacy_db)
    forged = _legacy_rows(3)
    forged[1]["r"] = "nothing to see"
    from kdash.storage.audit_chain import event_hash

    # The attacker re-chains events 2 and 3 with SHA-256, which needs no key.
    fields = {
        "occurred_at": NOW.isoformat(timespec="microseconds"),
        "username": "system",
        "role": None,
        "action": "view_patient",
        "patient_id": None,
        "entity": None,
        "before": None,
        "after": None,
        "outcome": "ok",
    }
    prev = str(forged[0]["h"])
    with legacy_db.write() as s:
        drop_append_only_triggers(s)
        for i, row in enumerate(forged[1:], start=1):
            h = event_hash(prev, fields | {"entity_id": i, "reason": row["r"]})
            s.execute(
                text("UPDATE audit_event SET reason = :r, prev_hash = :p, hash = :h WHERE id = :i"),
                {"r": row["r"], "p": prev, "h": h, "i": i + 1},
            )
            prev = h
        recreate_missing_triggers(s.connection())
    _checked, problems = verify_audit_chain(legacy_db, SYSTEM)
    assert [p.event_id for p in problems] == [4]
    assert "link to the previous event is broken" in problems[0].problem


def test_a_restore_rolls_back_and_signs_the_restored_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    url = f"sqlite:///{tmp_path / 'live.db'}"
    db = open_database(url)
    _events(db, 5)
    assert main(["backup", str(tmp_path / "good.db"), "--db", url]) == 0
    _events(db, 5)  # the checkpoint now names an event the backup does not hold
    assert main(["restore", str(tmp_path / "good.db"), "--yes", "--db", url]) == 0
    assert main(["audit", "verify", "--db", url]) == 0, capsys.readouterr().out
    db = open_database(url)
    with db.read() as s:
        newest = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert newest.action == "restore"
    head = read_checkpoint(tmp_path / "live.db.audit-head")
    assert head is not None
    assert head.event_id == newest.id


def test_restore_refuses_a_backup_with_a_forged_event_and_its_triggers_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    _events(open_database(url), 3)
    copy = tmp_path / "copy.db"
    backup(url, copy)
    with sqlite3.connect(copy) as conn:
        prev = conn.execute("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()[0]
        row = _legacy_rows(1, prev)[0]
        conn.execute(_LEGACY_INSERT, {**row, "t": "2026-12-03 09:00:00.000000"})
    with pytest.raises(BackupError, match="audit event 4: .*forged"):
        restore(url, copy)


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The database the app opens, with no users: the start-up check must judge the trail alone."""
    yield from make_app_db(tmp_path, monkeypatch, users=False)


def test_the_app_names_a_truncated_trail_at_start_without_phi(
    app_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db = app_db
    _events(db, 6, reason="Pat Example")
    with db.write() as s:
        drop_append_only_triggers(s)
        s.execute(text("DELETE FROM audit_event WHERE id > 2"))
        recreate_missing_triggers(s.connection())
    with caplog.at_level(logging.ERROR, logger="kdash.ui"):
        admin = run_app(ACTORS["admin"])
    assert not admin.exception
    assert any("newest audit events were deleted" in e.value for e in admin.error)
    logged = [r.getMessage() for r in caplog.records if "AUDIT TRAIL FAILS VERIFICATION" in r.getMessage()]
    assert logged
    assert "ends at event 2" in logged[0]
    assert "Pat Example" not in logged[0]
