"""Files holding patient data are readable by their owner only (0600), whatever the shell's umask.

The red-team run found the database, backups, pre-restore copies and exports written 0644.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kdash.cli.main import main
from kdash.domain.access import SYSTEM
from kdash.storage.audit_chain import record
from kdash.storage.database import dispose_engines, open_database


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # a common default: files 0644
    yield
    os.umask(previous)
    dispose_engines()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_backup_restore_copy_and_exports_are_owner_only(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    url = f"sqlite:///{tmp_path / 'kdash.db'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    with open_database(url).write() as s:
        record(s, SYSTEM, "view_patient")
    assert main(["backup", str(tmp_path / "backup.db"), "--db", url]) == 0
    assert main(["audit", "export", "--out", str(tmp_path / "audit.csv"), "--db", url]) == 0
    assert main(["export", "--format", "csv", str(tmp_path / "export"), "--db", url]) == 0
    assert main(["restore", str(tmp_path / "backup.db"), "--yes", "--db", url]) == 0
    written = [
        tmp_path / "kdash.db",
        tmp_path / "backup.db",
        tmp_path / "audit.csv",
        *next(tmp_path.glob("*.before-restore-*")).parent.glob("*.before-restore-*"),
        *(p for p in (tmp_path / "export").rglob("*") if p.is_file()),
    ]
    assert len(written) >= 5
    assert {p.name: _mode(p) for p in written} == {p.name: 0o600 for p in written}
    assert os.umask(0o022) == 0o022  # the command put the caller's umask back


def test_a_database_opened_by_the_app_is_created_owner_only(tmp_path: Path, open_umask: None) -> None:
    open_database(f"sqlite:///{tmp_path / 'app.db'}")
    assert _mode(tmp_path / "app.db") == 0o600
