"""The signed head checkpoint: the trail's newest event, kept outside the database.

After every committed append the writer records, in a small file beside the database
(``X.db.audit-head``; see :func:`kdash.storage.audit_key.head_file_for`), the newest event's id, its
chain value and an HMAC of both under the audit key. The keyed chain stops anyone without the key from
editing or forging events; the checkpoint is what catches removing the newest ones (or all of them),
which leaves a chain that is intact but shorter.

The file is written 0600 by replacing it atomically (a reader sees the old or the new checkpoint, never
half of one), under a lock so that two writers never move it backwards: it only ever names a newer
event. A crash between the commit and the checkpoint leaves it one step behind, which ``audit verify``
accepts (events after the checkpoint must still be keyed-chained, so the key still guards them).
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from kdash.storage.audit_key import AuditKey

_VERSION = 1


class CheckpointError(Exception):
    """The checkpoint file exists but cannot be read as one."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    event_id: int
    chain: str
    key_id: str
    mac: str

    @staticmethod
    def signed_text(event_id: int, chain: str, key_id: str) -> str:
        return f"kdash-audit-head:{_VERSION}:{event_id}:{chain}:{key_id}"

    def signed_by(self, key: AuditKey) -> bool:
        expected = key.sign(self.signed_text(self.event_id, self.chain, self.key_id))
        return self.key_id == key.key_id and hmac.compare_digest(expected, self.mac)


def make_checkpoint(key: AuditKey, event_id: int, chain: str) -> Checkpoint:
    return Checkpoint(
        event_id, chain, key.key_id, key.sign(Checkpoint.signed_text(event_id, chain, key.key_id))
    )


def read_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path``; None when there is no file; :class:`CheckpointError` if unreadable."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"the head checkpoint {path} cannot be read: {exc.strerror}") from None
    try:
        data = json.loads(raw)
        return Checkpoint(int(data["event_id"]), str(data["chain"]), str(data["key_id"]), str(data["mac"]))
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"the head checkpoint {path} is not a kdash checkpoint (edited?)") from None


_thread_locks: dict[Path, threading.Lock] = {}
_registry_lock = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _registry_lock:
        return _thread_locks.setdefault(path, threading.Lock())


def write_checkpoint(path: Path, key: AuditKey, event_id: int, chain: str, *, force: bool = False) -> bool:
    """Record ``event_id`` as the head unless the file already names a newer event (``force``: always,
    after a restore rolled the trail back). Returns whether the file was written."""
    cp = make_checkpoint(key, event_id, chain)
    body = json.dumps(
        {"version": _VERSION, "event_id": cp.event_id, "chain": cp.chain, "key_id": cp.key_id, "mac": cp.mac}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with _thread_lock(path):
        lock_fd = os.open(path.with_name(path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)  # other processes (app servers, the CLI)
            if not force:
                try:
                    current = read_checkpoint(path)
                except CheckpointError:
                    current = None
                if current is not None and current.event_id >= event_id:
                    return False
            tmp = path.with_name(path.name + ".tmp")
            fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
            try:
                os.write(fd, body.encode("utf-8"))
            finally:
                os.close(fd)
            os.replace(tmp, path)
            return True
        finally:
            os.close(lock_fd)  # closing releases the lock
