"""The audit trail's key: where it lives (never in the database), and the keyed link it makes.

Each event's chain value is an HMAC-SHA256 (RFC 2104, Python's :mod:`hmac`) of the previous value and
the event's fields, under a key the database does not hold. Someone who can write to the database but
cannot read the key cannot edit an event and re-chain the rest, nor append an event that verifies.

Where the key comes from, first match wins:

1. ``KDASH_AUDIT_KEY``: the key itself, at least 32 characters (the same value on every app server).
2. ``KDASH_AUDIT_KEY_FILE``: a file holding it (at least 32 bytes), created 0600 on first use.
3. A SQLite database file ``X.db``: the file ``X.db.audit-key`` beside it, created 0600 with 32 random
   bytes on first use. An in-memory SQLite database gets a random key for the life of the process.

PostgreSQL has no file to sit beside, so it needs (1) or (2); without either an append is refused with
words that say so. The key is identified by a short id (an HMAC of a fixed label, which reveals nothing
of the key); each event stores the id of the key that chained it, so ``audit verify`` can say "wrong
key" instead of "every event is broken".
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, make_url

from kdash.domain.errors import AuditKeyError

ENV_KEY = "KDASH_AUDIT_KEY"
ENV_KEY_FILE = "KDASH_AUDIT_KEY_FILE"
ENV_HEAD_FILE = "KDASH_AUDIT_HEAD_FILE"
#: Shortest key accepted: RFC 2104 sec. 3 discourages keys shorter than the hash's output (32 bytes).
MIN_KEY_BYTES = 32
ALGORITHM = "hmac-sha256"
_KEY_HINT = "python -c 'import secrets; print(secrets.token_hex(32))'"


@dataclass(frozen=True, slots=True)
class AuditKey:
    secret: bytes
    key_id: str
    source: str  # "KDASH_AUDIT_KEY" or "the key file <path>", for messages

    @property
    def label(self) -> str:
        """What each event keyed with this key stores in ``chain_key``."""
        return f"{ALGORITHM}:{self.key_id}"

    def link(self, prev: str, payload: str) -> str:
        return hmac.new(self.secret, (prev + payload).encode("utf-8"), hashlib.sha256).hexdigest()

    def sign(self, text: str) -> str:
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def make_key(secret: bytes, source: str) -> AuditKey:
    key_id = hmac.new(secret, b"kdash audit key id", hashlib.sha256).hexdigest()[:12]
    return AuditKey(secret, key_id, source)


def key_id_of(label: str | None) -> str | None:
    """The key id in an event's ``chain_key`` (None: a legacy SHA-256 event)."""
    if label is None:
        return None
    return label.partition(":")[2] or label


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    name = u.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def key_file_for(url: str) -> Path | None:
    """The key file used for ``url`` (None: the key comes from the environment or memory)."""
    if os.environ.get(ENV_KEY):
        return None
    if os.environ.get(ENV_KEY_FILE):
        return Path(os.environ[ENV_KEY_FILE])
    db_file = _sqlite_file(url)
    return db_file.with_name(db_file.name + ".audit-key") if db_file else None


def key_configured(url: str) -> bool:
    """Whether ``url`` has somewhere to get its key from (PostgreSQL needs a setting; SQLite always has)."""
    return bool(os.environ.get(ENV_KEY)) or key_file_for(url) is not None or _is_sqlite(url)


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def head_file_for(url: str) -> Path | None:
    """Where the signed head checkpoint of ``url``'s trail is kept (None: in-memory SQLite).

    A SQLite file ``X.db`` keeps it beside itself (``X.db.audit-head``); PostgreSQL beside the key file,
    or in the app's ``data/`` folder, named after the database's address (host, port, name, options).
    ``KDASH_AUDIT_HEAD_FILE`` overrides both.
    """
    if os.environ.get(ENV_HEAD_FILE):
        return Path(os.environ[ENV_HEAD_FILE])
    db_file = _sqlite_file(url)
    if db_file is not None:
        return db_file.with_name(db_file.name + ".audit-head")
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return None
    where = u.render_as_string(hide_password=True)
    tag = hashlib.sha256(where.encode("utf-8")).hexdigest()[:10]
    folder = Path(os.environ[ENV_KEY_FILE]).parent if os.environ.get(ENV_KEY_FILE) else Path("data")
    return folder / f"kdash-{u.database or 'db'}-{tag}.audit-head"


_cache: dict[tuple[object, str | None, str | None, str | None], tuple[AuditKey, Path | None]] = {}
_memory_keys: dict[str, AuditKey] = {}
_lock = threading.RLock()


def append_target(url: URL | str) -> tuple[AuditKey, Path | None]:
    """(the key new events are chained with, where their checkpoint goes) for ``url``; the key file is
    created on first use. Cached per process and per setting, so an append costs a dictionary look-up."""
    env = os.environ
    cache_key = (url, env.get(ENV_KEY), env.get(ENV_KEY_FILE), env.get(ENV_HEAD_FILE))
    found = _cache.get(cache_key)
    if found is None:
        text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        with _lock:
            found = _cache[cache_key] = (load_key(text, create=True), head_file_for(text))
    return found


def append_key(url: str) -> AuditKey:
    """The key new events of ``url`` are chained with (see :func:`append_target`)."""
    return append_target(url)[0]


def load_key(url: str, *, create: bool = False) -> AuditKey:
    """The key for ``url``, read now; with ``create`` a missing default key file is made.

    :class:`AuditKeyError` when there is none (and ``create`` is off or the database is PostgreSQL).
    """
    env = os.environ.get(ENV_KEY)
    if env:
        secret = env.encode("utf-8")
        if len(secret) < MIN_KEY_BYTES:
            raise AuditKeyError(
                f"{ENV_KEY} is too short ({len(secret)} bytes): use at least {MIN_KEY_BYTES} random "
                f"characters, for example the output of {_KEY_HINT}"
            )
        return make_key(secret, ENV_KEY)
    path = key_file_for(url)
    if path is None:
        if make_url(url).get_backend_name() == "sqlite":
            with _lock:
                return _memory_keys.setdefault(url, make_key(secrets.token_bytes(32), "memory"))
        raise AuditKeyError(
            f"no audit key for this PostgreSQL database: set {ENV_KEY} (at least {MIN_KEY_BYTES} random "
            f"characters) or {ENV_KEY_FILE} (a file path) to the same key on every app server"
        )
    if not path.exists():
        if not create:
            raise AuditKeyError(
                f"the audit key file {path} is missing, so keyed events cannot be checked "
                f"(restore it from the key's backup, or point {ENV_KEY_FILE} or {ENV_KEY} at the key)"
            )
        _create_key_file(path)
    try:
        secret = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"the audit key file {path} cannot be read: {exc.strerror}") from None
    if len(secret) < MIN_KEY_BYTES:
        raise AuditKeyError(
            f"the audit key file {path} holds {len(secret)} bytes, fewer than {MIN_KEY_BYTES}: "
            "it is damaged or not a kdash key (restore it from the key's backup)"
        )
    return make_key(secret, f"the key file {path}")


def _create_key_file(path: Path) -> None:
    """Write 32 random bytes to ``path`` (0600) unless another process made it first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # appears whole or not at all; the first of two racing processes wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise AuditKeyError(f"the audit key file {path} cannot be created: {exc.strerror}") from None


def forget_cached_keys() -> None:
    """Drop the per-process key cache (tests that change the key, a restore)."""
    with _lock:
        _cache.clear()
