"""Each patient's clinical record, kept in the process under the patient's version token.

The huddle, the roster's flags and the patient page read whole records (courses, infusions, scores,
reviews): at hundreds of patients that reading is most of their time, yet between two page runs almost
none of those records changed. Every write to a patient's record gives the patient a new random token in
the same transaction (``patient_version``, :mod:`kdash.storage.write_hooks`); a reader asks the database
for the tokens of the patients it needs (one indexed query), reuses the records it holds under the same
token and loads only the others. One write so invalidates exactly the patient it changed, on every app
server sharing the database, and nothing is recomputed when nothing changed.

Tokens are read before the records they label, so a record is never kept under a token older than
itself; a patient without a token (written by something outside kdash) is loaded every time.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kdash.domain.records import PatientContext
from kdash.storage.id_chunks import chunks
from kdash.storage.models import Patient, PatientVersion

#: Patients kept per process (least recently used go first): a few megabytes.
MAX_PATIENTS = 5_000

_cache: OrderedDict[tuple[str, int], tuple[str, PatientContext]] = OrderedDict()
_lock = threading.Lock()

Loader = Callable[[Session, Sequence[int]], dict[int, PatientContext]]


def _where(session: Session) -> str:
    """The database a session reads: the cache's first key part."""
    return session.connection().engine.url.render_as_string(hide_password=False)


def tokens(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Each patient's current version token (none for a patient written outside kdash)."""
    conn = session.connection()
    out: dict[int, str] = {}
    for chunk in chunks(ids):
        rows = conn.execute(
            select(PatientVersion.patient_id, PatientVersion.token).where(
                PatientVersion.patient_id.in_(chunk)
            )
        )
        out.update((pid, token) for pid, token in rows)
    return out


def records(session: Session, ids: Sequence[int], load: Loader) -> dict[int, PatientContext]:
    """The records of ``ids``: those whose token is unchanged from the cache, the rest from ``load``."""
    place = _where(session)
    current = tokens(session, ids)
    out: dict[int, PatientContext] = {}
    missing: list[int] = []
    with _lock:
        for pid in ids:
            key = (place, pid)
            hit = _cache.get(key)
            if hit is not None and hit[0] == current.get(pid):
                out[pid] = hit[1]
                _cache.move_to_end(key)
            else:
                missing.append(pid)
    if missing:
        loaded = load(session, missing)
        out.update(loaded)
        with _lock:
            for pid, ctx in loaded.items():
                token = current.get(pid)
                if token is not None:
                    _cache[(place, pid)] = (token, ctx)
                    _cache.move_to_end((place, pid))
            while len(_cache) > MAX_PATIENTS:
                _cache.popitem(last=False)
    return out


def clear() -> None:
    """Forget every kept record (tests; a restored database is covered by its tokens anyway)."""
    with _lock:
        _cache.clear()


def bump(session: Session, patient_ids: Iterable[int]) -> None:
    """Give these patients new tokens, in the session's transaction (the write hooks call this)."""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for chunk in chunks(ids):
        existing = session.scalars(select(Patient.id).where(Patient.id.in_(chunk))).all()
        if not existing:
            continue
        stmt = insert(PatientVersion)
        stmt = stmt.on_conflict_do_update(
            index_elements=[PatientVersion.patient_id], set_={"token": stmt.excluded.token}
        )
        session.execute(stmt, [{"patient_id": pid, "token": uuid.uuid4().hex} for pid in existing])


def bump_all(session: Session, *, batch: int = 5000) -> None:
    """New tokens for every patient (after a bulk load that bypassed the write hooks)."""
    ids = list(session.scalars(select(Patient.id).order_by(Patient.id)))
    for start in range(0, len(ids), batch):
        bump(session, ids[start : start + batch])


def forget_all(session: Session) -> None:
    """Drop every token (before a bulk delete of the patients)."""
    session.execute(delete(PatientVersion))
