"""The signed head checkpoint: the trail's newest event, kept outside the database.

After every committed append the writer records, in a small file beside the database
(``X.db.audit-head``; see :func:`kdash.storage.audit_key.head_file_for`), the newest event's id, its
chain value and an HMAC of both under the audit key. The keyed chain stops anyone without the key from
editing or forging events; the checkpoint is what catches removing the newest ones (or all of them),
which leaves a chain that is intact but shorter.

The file (0600) holds two fixed-size slots, and each write overwrites the older one in place, under a
lock (``flock`` on the file) so that two writers never move it backwards: it only ever names a newer
event. A write torn by a crash damages only the slot being written, and the other still names the event
before, so no rename is needed: renaming over a file made every append wait for the disk (ext4 flushes
the new file's data on such a rename), overwriting 256 bytes in place does not. A crash between the
commit and the checkpoint leaves it one step behind, which ``audit verify`` accepts (events after the
checkpoint must still be keyed-chained, so the key still guards them).
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

_VERSION = 2


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


SLOT = 256
_BLANK = b" " * (SLOT - 1) + b"\n"


def _parse_slot(raw: bytes, path: Path) -> Checkpoint | None:
    if not raw.strip():
        return None  # never written
    try:
        data = json.loads(raw.decode("utf-8"))
        return Checkpoint(int(data["event_id"]), str(data["chain"]), str(data["key_id"]), str(data["mac"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise CheckpointError(f"the head checkpoint {path} is not a kdash checkpoint (edited?)") from None


def _newest(raw: bytes, path: Path) -> tuple[Checkpoint | None, int]:
    """(the newer of the two slots, the index of the slot to write next)."""
    if len(raw) != 2 * SLOT:
        raise CheckpointError(f"the head checkpoint {path} is not a kdash checkpoint (edited?)")
    slots = [_parse_slot(raw[i * SLOT : (i + 1) * SLOT], path) for i in (0, 1)]
    ids = [cp.event_id if cp is not None else -1 for cp in slots]
    newer = 0 if ids[0] >= ids[1] else 1
    return slots[newer], 1 - newer


def read_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path``; None when there is no file; :class:`CheckpointError` if unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"the head checkpoint {path} cannot be read: {exc.strerror}") from None
    return _newest(raw, path)[0]


_thread_locks: dict[Path, threading.Lock] = {}
_registry_lock = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _registry_lock:
        return _thread_locks.setdefault(path, threading.Lock())


def write_checkpoint(path: Path, key: AuditKey, event_id: int, chain: str, *, force: bool = False) -> bool:
    """Record ``event_id`` as the head unless the file already names a newer event (``force``: start the
    file afresh, after a restore rolled the trail back). Returns whether the file was written."""
    cp = make_checkpoint(key, event_id, chain)
    body = json.dumps({"event_id": cp.event_id, "chain": cp.chain, "key_id": cp.key_id, "mac": cp.mac})
    slot = body.encode("utf-8").ljust(SLOT - 1) + b"\n"
    with _thread_lock(path):
        try:
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # other processes (app servers, the CLI); released by close
            raw = os.pread(fd, 2 * SLOT, 0)
            if force or len(raw) != 2 * SLOT:
                os.ftruncate(fd, 0)
                os.pwrite(fd, slot + _BLANK, 0)
                return True
            try:
                current, target = _newest(raw, path)
            except CheckpointError:
                current, target = None, 0
            if current is not None and current.event_id >= event_id:
                return False
            os.pwrite(fd, slot, target * SLOT)
            return True
        finally:
            os.close(fd)
