"""Each patient's screening status, stored and kept current in the same transaction as each write.

Judging a screening means reading every answer and decision of the patient and running the rules'
judgement (:func:`kdash.rules.screening.screening_status`, handed in by the services package through
:func:`use_judge`, since storage does not call rules; docs/architecture.md): at 50,000 patients that is
some 700,000 answers, far too many for a roster that filters by status or a huddle of hundreds of
patients. So the judgement is stored
in ``screening_summary`` (one row per patient) and the write path keeps it current:

- The write sessions' hooks (:mod:`kdash.storage.write_hooks`) note the patients whose answers or
  decisions a flush changed (and new patients); just before the transaction commits, :func:`refresh`
  judges them again from the database (which then holds the new rows) in that same transaction. A change
  of the item classes setting judges every patient again. So no service, import or command can write an
  answer without its summary, and a rolled-back write leaves both untouched.
- Bulk loads that bypass the ORM (the demo loader) call :func:`refresh_all`.
- :func:`ensure_current` repairs what is missing or was judged under other item classes (a backup
  restored from before the table existed, settings changed outside kdash) and is cheap when nothing is.

A row is only ever a cache of the rules: :func:`judge` is the on-the-fly answer, and the tests hold the
stored rows equal to it after every kind of write.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import BindParameter, bindparam, delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import ScreeningAssessment, ScreeningDecisionRec, ScreeningItemRec
from kdash.domain.vocab import SCREENING_ITEMS, ScreeningDecision, ScreeningResult, ScreeningStatus
from kdash.storage.id_chunks import ID_CHUNK, chunks
from kdash.storage.models import Patient, ScreeningDecisionRow, ScreeningItem, ScreeningSummary
from kdash.storage.policy_repo import load_policy


class Transactions(Protocol):
    """What :func:`ensure_current` needs of a :class:`kdash.storage.database.Database`: its transactions.

    A protocol rather than the class: the database installs this module's write hooks
    (:mod:`kdash.storage.write_hooks`), so importing the database here would close an import cycle.
    """

    def read(self) -> AbstractContextManager[Session]: ...

    def write(self) -> AbstractContextManager[Session]: ...


class ScreeningJudge(Protocol):
    """The rules' judgement of one patient's screening from every answer and decision, oldest first."""

    def __call__(
        self,
        items: Sequence[ScreeningItemRec],
        decisions: Sequence[ScreeningDecisionRec],
        settings: ClinicPolicy,
    ) -> ScreeningAssessment: ...


_judge: list[ScreeningJudge] = []


def use_judge(judge: ScreeningJudge) -> None:
    """Judge every stored summary with ``judge`` from now on (:mod:`kdash.services` hands in the rules')."""
    _judge[:] = [judge]


def _the_judge() -> ScreeningJudge:
    if not _judge:
        raise RuntimeError(
            "no screening judge: import kdash.services (it hands storage the rules' screening_status) "
            "before writing screening answers, so their stored summary can be judged"
        )
    return _judge[0]


_JUDGED_COLUMNS = ("status", "reasons_json", "screened_on", "through", "classes_key")
_RESULTS = {r.value: r for r in ScreeningResult}
_DECISIONS = {d.value: d for d in ScreeningDecision}
_STATUSES = {s.value: s for s in ScreeningStatus}


def classes_key(settings: ClinicPolicy) -> str:
    """A short fingerprint of the item classes a status was judged under (the only setting it reads)."""
    classes = {code: settings.item_class(code).value for code in sorted(SCREENING_ITEMS)}
    return hashlib.sha256(json.dumps(classes, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Judged:
    """A patient's screening judged over every answer and decision, and the latest date it covers."""

    assessment: ScreeningAssessment
    through: date | None


def load_answers(
    session: Session, patient_ids: Iterable[int]
) -> tuple[dict[int, list[ScreeningItemRec]], dict[int, list[ScreeningDecisionRec]]]:
    """Every screening answer and provider decision of these patients, each patient's oldest first."""
    ids = sorted(set(patient_ids))
    items: dict[int, list[ScreeningItemRec]] = defaultdict(list)
    decisions: dict[int, list[ScreeningDecisionRec]] = defaultdict(list)
    conn = session.connection()
    for chunk in chunks(ids):
        for pid, item, result, on, note in conn.execute(
            select(
                ScreeningItem.patient_id,
                ScreeningItem.item,
                ScreeningItem.result,
                ScreeningItem.recorded_on,
                ScreeningItem.note,
            )
            .where(ScreeningItem.patient_id.in_(chunk))
            .order_by(ScreeningItem.patient_id, ScreeningItem.recorded_on, ScreeningItem.id)
        ):
            items[pid].append(ScreeningItemRec(item, _RESULTS[result], on, note))
        for pid, decision, on, by in conn.execute(
            select(
                ScreeningDecisionRow.patient_id,
                ScreeningDecisionRow.decision,
                ScreeningDecisionRow.decided_on,
                ScreeningDecisionRow.decided_by,
            )
            .where(ScreeningDecisionRow.patient_id.in_(chunk))
            .order_by(
                ScreeningDecisionRow.patient_id, ScreeningDecisionRow.decided_on, ScreeningDecisionRow.id
            )
        ):
            decisions[pid].append(ScreeningDecisionRec(_DECISIONS[decision], on, by))
    return items, decisions


def judge(session: Session, patient_ids: Iterable[int], settings: ClinicPolicy) -> dict[int, Judged]:
    """The on-the-fly judgement of each patient's screening from every answer and decision."""
    ids = sorted(set(patient_ids))
    items, decisions = load_answers(session, ids)
    screening_status = _the_judge()
    out: dict[int, Judged] = {}
    for pid in ids:
        its, decs = items.get(pid, []), decisions.get(pid, [])
        dates = [r.recorded_on for r in its] + [d.decided_on for d in decs]
        out[pid] = Judged(screening_status(its, decs, settings), max(dates) if dates else None)
    return out


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(ScreeningSummary)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ScreeningSummary.patient_id],
        set_={
            c: stmt.excluded[c] for c in ("status", "reasons_json", "screened_on", "through", "classes_key")
        },
    )
    session.execute(stmt, rows)


#: Arbitrary constant naming the summary's PostgreSQL advisory lock (serialises the judging).
_PG_SUMMARY_LOCK = 0x6B64_5355_4D00


def _lock(session: Session) -> None:
    """On PostgreSQL, judge one writer after the other: the second then reads the first's answers (READ
    COMMITTED gives each statement a fresh snapshot). A transaction-scoped advisory lock rather than a lock
    on the patient rows: each writer already holds a key-share lock on those rows from inserting an
    answer, and upgrading it would deadlock two writers of one patient. SQLite writers are serialised at
    BEGIN already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_SUMMARY_LOCK})


def refresh(session: Session, patient_ids: Iterable[int], settings: ClinicPolicy | None = None) -> int:
    """Judge these patients again and store the result, in the session's transaction; returns how many."""
    ids = sorted(set(patient_ids))
    if not ids:
        return 0
    chosen = settings if settings is not None else load_policy(session)
    key = classes_key(chosen)
    _lock(session)
    existing: set[int] = set()
    for chunk in chunks(ids):
        existing.update(session.scalars(select(Patient.id).where(Patient.id.in_(chunk))))
    judged = judge(session, [i for i in ids if i in existing], chosen)
    rows = [
        {
            "patient_id": pid,
            "status": j.assessment.status.value,
            "reasons_json": json.dumps(list(j.assessment.reasons)),
            "screened_on": j.assessment.screened_on,
            "through": j.through,
            "classes_key": key,
        }
        for pid, j in judged.items()
    ]
    for start in range(0, len(rows), ID_CHUNK):
        _upsert(session, rows[start : start + ID_CHUNK])
    return len(rows)


def refresh_all(session: Session, settings: ClinicPolicy | None = None, *, batch: int = 5000) -> int:
    """Judge every patient again (after a bulk load, or when the item classes change)."""
    chosen = settings if settings is not None else load_policy(session)
    ids = list(session.scalars(select(Patient.id).order_by(Patient.id)))
    done = 0
    for start in range(0, len(ids), batch):
        done += refresh(session, ids[start : start + batch], chosen)
    return done


def stale_ids(session: Session, settings: ClinicPolicy) -> list[int]:
    """Patients whose row is missing or was judged under other item classes."""
    key = classes_key(settings)
    missing = select(Patient.id).where(
        ~select(ScreeningSummary.patient_id).where(ScreeningSummary.patient_id == Patient.id).exists()
    )
    other = select(ScreeningSummary.patient_id).where(ScreeningSummary.classes_key != key)
    return sorted(set(session.scalars(missing)) | set(session.scalars(other)))


_KEY: BindParameter[str] = bindparam("key")
#: One statement, built once: patients, rows, and whether any row was judged under other item classes
#: ("other" asked as below-or-above the key, so both are ranges of its index, empty when all is current).
_CURRENT = select(
    select(func.count()).select_from(Patient).scalar_subquery(),
    select(func.count()).select_from(ScreeningSummary).scalar_subquery(),
    select(ScreeningSummary.patient_id)
    .where(or_(ScreeningSummary.classes_key < _KEY, ScreeningSummary.classes_key > _KEY))
    .exists(),
)


def is_current(session: Session, settings: ClinicPolicy) -> bool:
    """Cheap check: as many rows as patients (rows only exist for patients, so no patient lacks one) and
    none judged under other item classes."""
    have_patients, have_rows, outdated = session.execute(_CURRENT, {"key": classes_key(settings)}).one()
    return bool(have_patients == have_rows and not outdated)


def ensure_current(db: Transactions, settings: ClinicPolicy) -> int:
    """Repair missing or outdated rows (in one write transaction); returns how many were judged."""
    with db.read() as session:
        if is_current(session, settings):
            return 0
    with db.write() as session:
        return refresh(session, stale_ids(session, settings), settings)


@contextmanager
def read_current(db: Transactions, settings: ClinicPolicy) -> Iterator[Session]:
    """A read session in which every patient's row is current: checked inside it, repaired first (in a
    write transaction of its own) only when it is not."""
    with db.read() as session:
        if is_current(session, settings):
            yield session
            return
    ensure_current(db, settings)
    with db.read() as session:
        yield session


def _assessment(status: str, reasons_json: str, screened_on: date | None) -> ScreeningAssessment:
    """A stored row back as the rules' :class:`ScreeningAssessment` (the inverse of :func:`refresh`)."""
    return ScreeningAssessment(_STATUSES[status], tuple(json.loads(reasons_json)), screened_on)


def stored(
    session: Session, patient_ids: Sequence[int], settings: ClinicPolicy, day: date
) -> dict[int, ScreeningAssessment]:
    """The stored judgement of each patient that holds on ``day``: judged under these item classes and
    covering nothing dated after ``day`` (an earlier day's huddle must not see later answers)."""
    key = classes_key(settings)
    out: dict[int, ScreeningAssessment] = {}
    conn = session.connection()
    for chunk in chunks(list(patient_ids)):
        for pid, status, reasons, screened_on, through, row_key in conn.execute(
            select(
                ScreeningSummary.patient_id,
                ScreeningSummary.status,
                ScreeningSummary.reasons_json,
                ScreeningSummary.screened_on,
                ScreeningSummary.through,
                ScreeningSummary.classes_key,
            ).where(ScreeningSummary.patient_id.in_(chunk))
        ):
            if row_key == key and (through is None or through <= day):
                out[pid] = _assessment(status, reasons, screened_on)
    return out


def assessments(session: Session, patient_filter: Any) -> dict[int, ScreeningAssessment]:
    """The stored judgement (status, reasons, date) of each patient matching ``patient_filter``."""
    rows = session.connection().execute(
        select(
            ScreeningSummary.patient_id,
            ScreeningSummary.status,
            ScreeningSummary.reasons_json,
            ScreeningSummary.screened_on,
        )
        .join(Patient, Patient.id == ScreeningSummary.patient_id)
        .where(patient_filter)
    )
    return {pid: _assessment(status, reasons, screened_on) for pid, status, reasons, screened_on in rows}


def clear(session: Session) -> None:
    """Drop every row (before a bulk delete of the patients)."""
    session.execute(delete(ScreeningSummary))
