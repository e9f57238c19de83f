"""The audit trail is anchored outside the database: a keyed chain and a signed head checkpoint.

The red-team run dropped the append-only triggers (and put them back), then deleted the newest events or
all of them, edited an event and re-chained the rest with plain SHA-256, and appended a forged
``view_patient`` event without touching a trigger: ``audit verify`` said "intact" each time. Each attack
below is that one, on SQLite and on PostgreSQL, and each must now be named by ``audit verify``.
"""

from __future__ import annotations

import io
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kdash.cli.main import main
from kdash.domain.access import SYSTEM
from kdash.services.audit_log import verify_audit_chain
from kdash.storage.audit_chain import GENESIS, _hashed_fields, event_hash, record
from kdash.storage.audit_triggers import recreate_missing_triggers
from kdash.storage.database import Database, open_database
from kdash.storage.models import AuditEvent
from tests.helpers import drop_append_only_triggers

NOW = datetime(2026, 12, 3, 9, 0)


def _events(db: Database, n: int, *, each_in_own_transaction: bool = True) -> None:
    if each_in_own_transaction:
        for i in range(n):
            with db.write() as s:
                record(s, SYSTEM, "view_patient", entity_id=i, reason=f"event {i}", now=NOW)
    else:
        with db.write() as s:
            for i in range(n):
                record(s, SYSTEM, "view_patient", entity_id=i, reason=f"event {i}", now=NOW)


def _as_owner(db: Database, *statements: tuple[str, dict[str, object]]) -> None:
    """What someone with owner rights on the database does: drop the triggers, change the trail, and
    put the triggers back so that nothing looks missing."""
    with db.write() as s:
        drop_append_only_triggers(s)
        for sql, params in statements:
            s.execute(text(sql), params)
        recreate_missing_triggers(s.connection())


def _problems(db: Database) -> list[str]:
    checked, problems = verify_audit_chain(db, SYSTEM)
    assert checked >= 0
    return [f"event {p.event_id}: {p.problem}" if p.event_id else p.problem for p in problems]


def test_an_untouched_keyed_trail_verifies(db: Database) -> None:
    _events(db, 5)
    _events(db, 5, each_in_own_transaction=False)
    assert verify_audit_chain(db, SYSTEM) == (10, [])


def test_deleting_the_newest_events_is_named(db: Database) -> None:
    _events(db, 25)
    _as_owner(db, ("DELETE FROM audit_event WHERE id > :n", {"n": 5}))
    problems = _problems(db)
    assert any(
        "newest audit events were deleted" in p and "ends at event 5" in p and "names event 25" in p
        for p in problems
    ), problems


def test_deleting_every_event_is_named(db: Database) -> None:
    _events(db, 4)
    _as_owner(db, ("DELETE FROM audit_event", {}))
    assert verify_audit_chain(db, SYSTEM)[0] == 0
    assert any("every audit event was deleted" in p and "event 4" in p for p in _problems(db))


def _rechain_from(db: Database, first_id: int, reason: str) -> None:
    """Edit one event and recompute every later link with plain SHA-256 (all one can do without the key)."""
    with db.read() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    prev = GENESIS
    statements: list[tuple[str, dict[str, object]]] = []
    for ev in events:
        if ev.id == first_id:
            ev.reason = reason
        if ev.id >= first_id:
            new_hash = event_hash(prev, _hashed_fields(ev))
            statements.append(
                (
                    "UPDATE audit_event SET reason = :r, prev_hash = :p, hash = :h WHERE id = :i",
                    {"r": ev.reason, "p": prev, "h": new_hash, "i": ev.id},
                )
            )
            prev = new_hash
        else:
            prev = ev.hash
    _as_owner(db, *statements)


def test_editing_an_event_and_rechaining_from_there_is_named(db: Database) -> None:
    _events(db, 6)
    _rechain_from(db, 3, "nothing to see")
    problems = _problems(db)
    assert any(p.startswith("event 3:") and "keyed link" in p for p in problems), problems
    assert any("differs from the signed head checkpoint" in p for p in problems), problems


def _forge(db: Database, *, copy_key_label: bool, drop_triggers: bool) -> None:
    with db.read() as s:
        head = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        label = head.chain_key
    forged = AuditEvent(
        occurred_at=NOW,
        username="dr.nobody",
        role="provider",
        action="view_patient",
        entity="patient",
        entity_id=1,
        outcome="ok",
        prev_hash=head.hash,
    )
    forged.hash = event_hash(head.hash, _hashed_fields(forged))
    columns = "occurred_at, username, role, action, entity, entity_id, outcome, prev_hash, hash"
    values = ":t, 'dr.nobody', 'provider', 'view_patient', 'patient', 1, 'ok', :p, :h"
    params: dict[str, object] = {"t": NOW, "p": head.hash, "h": forged.hash}
    if copy_key_label:
        columns += ", chain_key"
        values += ", :k"
        params["k"] = label
    insert = (f"INSERT INTO audit_event ({columns}) VALUES ({values})", params)
    if drop_triggers:
        _as_owner(db, insert)
    else:
        with db.write() as s:
            s.execute(text(insert[0]), insert[1])


@pytest.mark.parametrize("drop_triggers", [False, True], ids=["triggers kept", "triggers dropped"])
def test_a_forged_append_is_named(db: Database, drop_triggers: bool) -> None:
    _events(db, 3)
    _forge(db, copy_key_label=False, drop_triggers=drop_triggers)
    problems = _problems(db)
    assert problems == [
        "event 4: it carries no keyed link although earlier events do: it was added without the "
        "audit key (forged)"
    ]


def test_a_forged_append_that_copies_the_key_label_is_named(db: Database) -> None:
    _events(db, 3)
    _forge(db, copy_key_label=True, drop_triggers=False)
    problems = _problems(db)
    assert problems == [
        "event 4: its content does not match its keyed link: it was edited, or written without the "
        "audit key (forged)"
    ]


# --- the key: where it lives, what happens when it is wrong or gone ----------------------------------


def test_the_key_file_beside_a_sqlite_database_is_created_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KDASH_AUDIT_KEY", raising=False)
    monkeypatch.delenv("KDASH_AUDIT_KEY_FILE", raising=False)
    monkeypatch.delenv("KDASH_AUDIT_HEAD_FILE", raising=False)
    db = open_database(f"sqlite:///{tmp_path / 'clinic.db'}")
    _events(db, 1)
    key_file = tmp_path / "clinic.db.audit-key"
    head_file = tmp_path / "clinic.db.audit-head"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32
    assert stat.S_IMODE(head_file.stat().st_mode) == 0o600
    with db.read() as s:
        assert str(s.scalar(select(AuditEvent.chain_key))).startswith("hmac-sha256:")


def test_a_wrong_key_is_named_in_words(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KDASH_AUDIT_KEY", "a" * 40)
    _events(db, 3)
    assert _problems(db) == []
    monkeypatch.setenv("KDASH_AUDIT_KEY", "b" * 40)
    problems = _problems(db)
    assert any("wrong key" in p and "from event 1 on" in p for p in problems), problems
    assert any("signed with the key whose id is" in p for p in problems), problems


def test_a_short_key_is_refused_in_words(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from kdash.domain.errors import AuditKeyError

    monkeypatch.setenv("KDASH_AUDIT_KEY", "too-short")
    with pytest.raises(AuditKeyError, match="KDASH_AUDIT_KEY is too short"), db.write() as s:
        record(s, SYSTEM, "view_patient")
    with db.read() as s:
        assert s.scalar(select(AuditEvent.id)) is None  # nothing written


def test_a_missing_key_file_is_named_by_the_command(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("KDASH_AUDIT_KEY", raising=False)
    monkeypatch.delenv("KDASH_AUDIT_KEY_FILE", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    db = open_database(sqlite_url)
    _events(db, 2)
    os.unlink(tmp_path / "kdash.db.audit-key")
    assert main(["audit", "verify", "--db", sqlite_url]) == 4
    out = capsys.readouterr().out
    assert "BROKEN" in out
    assert "kdash.db.audit-key is missing" in out
    assert "Traceback" not in out


def test_postgresql_without_a_key_refuses_in_words(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KDASH_AUDIT_KEY", raising=False)
    monkeypatch.delenv("KDASH_AUDIT_KEY_FILE", raising=False)
    out_file = tmp_path / "audit.csv"
    assert main(["audit", "export", "--db", pg_url, "--out", str(out_file)]) == 3
    err = capsys.readouterr().err
    assert "no audit key for this PostgreSQL database: set KDASH_AUDIT_KEY" in err
    assert "Traceback" not in err
    assert not out_file.exists()
    _checked, problems = verify_audit_chain(Database(pg_url), SYSTEM)
    assert any("no audit key for this PostgreSQL database" in p.problem for p in problems)


def test_the_verify_command_names_the_deleted_events(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    db = open_database(sqlite_url)
    _events(db, 10)
    assert main(["audit", "verify", "--db", sqlite_url]) == 0
    _as_owner(db, ("DELETE FROM audit_event WHERE id > 7", {}))
    assert main(["audit", "verify", "--db", sqlite_url]) == 4
    out = capsys.readouterr().out
    assert "trail: the newest audit events were deleted: the trail ends at event 7" in out


def test_events_newer_than_the_checkpoint_pass_only_when_keyed(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several app servers: each signs its own checkpoint, which may lag the others' appends."""
    monkeypatch.setenv("KDASH_AUDIT_HEAD_FILE", str(tmp_path / "server-a.audit-head"))
    _events(db, 3)
    monkeypatch.setenv("KDASH_AUDIT_HEAD_FILE", str(tmp_path / "server-b.audit-head"))
    _events(db, 3)
    monkeypatch.setenv("KDASH_AUDIT_HEAD_FILE", str(tmp_path / "server-a.audit-head"))
    assert _problems(db) == []  # server A's checkpoint names event 3; 4-6 are keyed
    _forge(db, copy_key_label=False, drop_triggers=False)
    assert [p.split(":")[0] for p in _problems(db)] == ["event 7"]


def test_the_checkpoint_never_moves_back_and_an_edited_one_is_named(db: Database) -> None:
    from kdash.storage.audit_head import SLOT, read_checkpoint, write_checkpoint
    from kdash.storage.audit_key import append_key, head_file_for

    _events(db, 4)
    path = head_file_for(db.url)
    assert path is not None
    key = append_key(db.url)
    assert write_checkpoint(path, key, 2, "00" * 32) is False  # an older event never replaces a newer
    cp = read_checkpoint(path)
    assert cp is not None
    assert cp.event_id == 4
    raw = bytearray(path.read_bytes())  # someone raises the named event without the key
    for i in (0, 1):
        slot = raw[i * SLOT : (i + 1) * SLOT]
        raw[i * SLOT : (i + 1) * SLOT] = slot.replace(b'"event_id": 4', b'"event_id": 9')
    path.write_bytes(bytes(raw))
    assert any("does not carry a valid signature" in p for p in _problems(db))
