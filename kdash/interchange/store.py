"""Checking imported rows against each other and the database, then upserting them in one transaction.

The checks here are those one row cannot make alone: references to patients and courses (in the same
import or already stored), duplicate rows, and the live-infusion rules the schema enforces (one live
infusion per number per course, so at most ten; the chairs are judged by the import service). They run inside
the write transaction, so what they see is what the write will meet. A change to a stored value is an
amendment: the old value is kept in ``amendment`` and the audit event carries before and after.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kdash.domain.access import Actor
from kdash.domain.identifiers import MRN_CASE_NOTE, mrn_key
from kdash.domain.vocab import LIVE_INFUSION_STATUSES, MAX_INFUSIONS_PER_COURSE, InfusionStatus
from kdash.interchange.rows import ImportRefused, Kind, Problem, Row
from kdash.storage.amendments import NewRecords, record_or_amend
from kdash.storage.id_chunks import chunks
from kdash.storage.models import (
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
)

#: Rows per IN (...) query when loading what is already stored (well under every driver's limit).
_CHUNK = 500
#: New records inserted per flush (SQLAlchemy batches the INSERTs of one flush).
_BATCH = 500
#: Order of writing: referenced records first.
KIND_ORDER: tuple[Kind, ...] = (
    Kind.PATIENT,
    Kind.COURSE,
    Kind.SCREENING,
    Kind.DECISION,
    Kind.INFUSION,
    Kind.ASSESSMENT,
)
_LIVE = {s.value for s in LIVE_INFUSION_STATUSES}
_KEY_WORDS: dict[Kind, str] = {
    Kind.PATIENT: "MRN",
    Kind.SCREENING: "MRN, item and screened_on",
    Kind.DECISION: "MRN and screened_on",
    Kind.COURSE: "MRN and course",
    Kind.INFUSION: "MRN, course, number and scheduled_at",
    Kind.ASSESSMENT: "MRN, instrument and taken_on",
}
_KEY_FIELD: dict[Kind, str] = {
    Kind.PATIENT: "mrn",
    Kind.SCREENING: "screened_on",
    Kind.DECISION: "screened_on",
    Kind.COURSE: "course",
    Kind.INFUSION: "scheduled_at",
    Kind.ASSESSMENT: "taken_on",
}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Summary:
    """Per input (file or resource type): records created, updated (amended) and unchanged."""

    counts: dict[str, Counts] = field(default_factory=dict)
    amendments: int = 0

    def add(self, source: str, outcome: str) -> None:
        counts = self.counts.setdefault(source, Counts())
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    def lines(self) -> list[str]:
        return [
            f"{source}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for source, c in self.counts.items()
        ] + [MRN_CASE_NOTE]


@dataclass
class Stored:
    """What the database already holds for the patients an import mentions."""

    patients: dict[str, Patient] = field(default_factory=dict)
    courses: dict[tuple[str, int], Course] = field(default_factory=dict)
    screening: dict[tuple[Any, ...], ScreeningItem] = field(default_factory=dict)
    decisions: dict[tuple[Any, ...], ScreeningDecisionRow] = field(default_factory=dict)
    infusions: dict[tuple[str, int], list[Infusion]] = field(default_factory=dict)
    assessments: dict[tuple[Any, ...], Assessment] = field(default_factory=dict)

    def find(self, row: Row) -> Any:
        if row.kind is Kind.PATIENT:
            return self.patients.get(row.mrn)
        if row.kind is Kind.COURSE:
            return self.courses.get(row.key)
        if row.kind is Kind.SCREENING:
            return self.screening.get(row.key)
        if row.kind is Kind.DECISION:
            return self.decisions.get(row.key)
        if row.kind is Kind.ASSESSMENT:
            return self.assessments.get(row.key)
        _, course, number, at = row.key
        matches = [
            i
            for i in self.infusions.get((row.mrn, course), [])
            if i.number == number and i.scheduled_at == at
        ]
        # The same slot booked, cancelled and booked again: the live booking is the one the row means.
        matches.sort(key=lambda i: (i.status in _LIVE, i.id))
        return matches[-1] if matches else None


def load_stored(session: Session, mrns: Iterable[str]) -> Stored:
    """The stored records of the patients with these MRNs (compared without regard to case), keyed by
    the MRN as stored: pass rows through :func:`match_mrn_case` first so that their MRNs are spelled so."""
    stored = Stored()
    wanted = sorted({mrn_key(m) for m in mrns})
    for chunk in chunks(wanted, _CHUNK):
        for patient in session.scalars(select(Patient).where(func.lower(Patient.mrn).in_(chunk))):
            stored.patients[patient.mrn] = patient
    by_id = {p.id: p.mrn for p in stored.patients.values()}
    ids = sorted(by_id)
    for chunk_ids in chunks(ids, _CHUNK):
        for course in session.scalars(select(Course).where(Course.patient_id.in_(chunk_ids))):
            stored.courses[(by_id[course.patient_id], course.number)] = course
        for item in session.scalars(select(ScreeningItem).where(ScreeningItem.patient_id.in_(chunk_ids))):
            stored.screening[(by_id[item.patient_id], item.item, item.recorded_on)] = item
        for dec in session.scalars(
            select(ScreeningDecisionRow).where(ScreeningDecisionRow.patient_id.in_(chunk_ids))
        ):
            stored.decisions[(by_id[dec.patient_id], dec.decided_on)] = dec
        for score in session.scalars(
            select(Assessment).where(Assessment.patient_id.in_(chunk_ids), Assessment.deleted_at.is_(None))
        ):
            stored.assessments[(by_id[score.patient_id], score.instrument, score.taken_on)] = score
    course_key = {c.id: key for key, c in stored.courses.items()}
    course_ids = sorted(course_key)
    for chunk_ids in chunks(course_ids, _CHUNK):
        for inf in session.scalars(select(Infusion).where(Infusion.course_id.in_(chunk_ids))):
            stored.infusions.setdefault(course_key[inf.course_id], []).append(inf)
    return stored


def match_mrn_case(rows: Sequence[Row], stored: Stored, known_mrns: Iterable[str] = ()) -> set[str]:
    """Spell every row's MRN the one way kdash keys it: as stored, else as the file first spells it.

    MRNs are compared without regard to case (:mod:`kdash.domain.identifiers`): a score for ``rt-0001``
    belongs to the stored patient ``RT-0001``, and two patient rows ``rt-0001`` and ``RT-0001`` are one
    patient twice, which :func:`check` reports as a duplicate. Rows are changed in place; returns
    ``known_mrns`` spelled the same way.
    """
    spelling = {mrn_key(m): m for m in stored.patients}
    for row in rows:
        spelling.setdefault(mrn_key(row.mrn), row.mrn)
    for mrn in known_mrns:
        spelling.setdefault(mrn_key(mrn), mrn)
    for row in rows:
        same = spelling[mrn_key(row.mrn)]
        if same != row.mrn:
            row.mrn = same
            row.key = (same, *row.key[1:])
    return {spelling[mrn_key(m)] for m in known_mrns}


def check(rows: Sequence[Row], stored: Stored, *, known_mrns: Iterable[str] = ()) -> list[Problem]:
    """Every cross-row problem of ``rows`` given what is ``stored``; empty when the import can run.

    ``known_mrns`` are MRNs of patient rows that failed their own validation: references to them are
    not reported again.
    """
    problems: list[Problem] = []
    problems += _duplicates(rows)
    file_mrns = {r.mrn for r in rows if r.kind is Kind.PATIENT} | set(known_mrns)
    file_courses = {r.key for r in rows if r.kind is Kind.COURSE}
    for row in rows:
        patient = stored.patients.get(row.mrn)
        if patient is not None and patient.deleted_at is not None:
            problems.append(
                Problem(
                    row.where,
                    row.column("mrn"),
                    "this MRN belongs to a deleted patient record; restore "
                    "the record before importing into it",
                )
            )
        elif row.kind is not Kind.PATIENT and row.mrn not in file_mrns and patient is None:
            problems.append(
                Problem(
                    row.where, row.column("mrn"), "no patient with this MRN in the import or the database"
                )
            )
        elif row.kind is Kind.INFUSION:
            course_key = row.key[:2]
            if course_key not in file_courses and course_key not in stored.courses:
                problems.append(
                    Problem(
                        row.where,
                        row.column("course"),
                        f"course {row.key[1]} of this patient is neither in "
                        "the import nor in the database; add it to the courses",
                    )
                )
    problems += _live_infusions(rows, stored)
    return problems


def _duplicates(rows: Sequence[Row]) -> list[Problem]:
    seen: dict[tuple[Kind, tuple[Any, ...]], Row] = {}
    problems = []
    for row in rows:
        first = seen.setdefault((row.kind, row.key), row)
        if first is not row:
            problems.append(
                Problem(
                    row.where,
                    row.column(_KEY_FIELD[row.kind]),
                    f"duplicate row: same {_KEY_WORDS[row.kind]} as {first.where}"
                    + (f" ({MRN_CASE_NOTE})" if row.kind is Kind.PATIENT else ""),
                )
            )
    return problems


@dataclass
class _Slot:
    number: int
    status: str
    at: datetime
    chair: int | None
    where: str


def _live_infusions(rows: Sequence[Row], stored: Stored) -> list[Problem]:
    """The state each course will be in after the import must keep the schema's live-infusion rules."""
    final: dict[tuple[str, int], dict[object, _Slot]] = defaultdict(dict)
    for key, infusions in stored.infusions.items():
        for inf in infusions:
            final[key][inf.id] = _Slot(inf.number, inf.status, inf.scheduled_at, inf.chair, "the database")
    for row in rows:
        if row.kind is not Kind.INFUSION:
            continue
        existing = stored.find(row)
        slot_id: object = existing.id if existing is not None else id(row)
        old = final[row.key[:2]].get(slot_id)
        final[row.key[:2]][slot_id] = _Slot(
            row.values["number"],
            row.values["status"],
            row.values["scheduled_at"],
            row.values.get("chair", old.chair if old else None),
            row.where,
        )
    problems = []
    for (_, course), slots in final.items():
        numbers: dict[int, _Slot] = {}
        live = [s for s in slots.values() if s.status in _LIVE]
        for slot in live:  # stored infusions first, then the import's rows in their order
            first = numbers.setdefault(slot.number, slot)
            if first is not slot:
                problems.append(
                    Problem(
                        slot.where,
                        "number",
                        f"course {course} already has a live (scheduled or completed) "
                        f"infusion number {slot.number}, in {first.where}; a course holds at most "
                        f"{MAX_INFUSIONS_PER_COURSE}, one per number — cancel one of them",
                    )
                )
        if len(live) > MAX_INFUSIONS_PER_COURSE:
            last = max((s for s in live if s.where != "the database"), key=lambda s: s.at, default=None)
            if last is not None:
                problems.append(
                    Problem(
                        last.where,
                        "number",
                        f"course {course} would hold {len(live)} live infusions; at "
                        f"most {MAX_INFUSIONS_PER_COURSE} per course (clinic rule)",
                    )
                )
    # Chairs: a chair holds one patient for the chair time, judged against every patient's bookings by
    # the import service (kdash.services.interchange, the rule of kdash.services.slots).
    return problems


# --- Writing -------------------------------------------------------------------------------------

_MODELS: dict[Kind, type] = {
    Kind.PATIENT: Patient,
    Kind.SCREENING: ScreeningItem,
    Kind.DECISION: ScreeningDecisionRow,
    Kind.COURSE: Course,
    Kind.INFUSION: Infusion,
    Kind.ASSESSMENT: Assessment,
}


def apply(
    session: Session,
    rows: Sequence[Row],
    actor: Actor,
    now: datetime,
    *,
    origin: str,
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Upsert ``rows`` (already checked) and audit each change; returns what happened per input.

    Rows must have passed :func:`check` against the same session. Changed values become amendments.
    """
    stored = load_stored(session, {r.mrn for r in rows})
    summary = Summary()
    ordered = sorted(rows, key=lambda r: KIND_ORDER.index(r.kind))
    # Infusions leaving the live states are written first, so that a number they free can be taken by
    # another row of the same import without the partial unique index seeing both at once.
    ordered.sort(
        key=lambda r: (
            KIND_ORDER.index(r.kind),
            0 if r.kind is Kind.INFUSION and r.values.get("status") not in _LIVE and stored.find(r) else 1,
        )
    )
    total = len(ordered)
    batch = NewRecords()
    previous: Kind | None = None
    for done, row in enumerate(ordered, start=1):
        existing = stored.find(row)
        if batch and (previous is not row.kind or existing is not None or len(batch) >= _BATCH):
            # Written before a record of another kind refers to them, or before an amendment.
            batch.write(session, actor, now)
        previous = row.kind
        written = record_or_amend(
            session, actor, entity=row.kind.value, existing=existing, values=row.values,
            create=partial(_create, row, stored, origin),
            patient_id=partial(_patient_id, row, stored), now=now,
            reason=f"amended by import from {row.where}", record_action=f"import_{row.kind.value}",
            record_after=_created_values(row, stored, origin), record_reason=f"imported from {row.where}",
            batch=batch,
        )  # fmt: skip
        if written.created:
            summary.add(row.source, "created")
        else:
            summary.add(row.source, "updated" if written.changes else "unchanged")
            summary.amendments += len(written.changes)
        if progress is not None:
            progress(done, total)
    batch.write(session, actor, now)
    return summary


def _patient_id(row: Row, stored: Stored) -> int:
    return int(stored.patients[row.mrn].id)


def _created_values(row: Row, stored: Stored, origin: str) -> dict[str, Any]:
    """The fields of a new record as its audit event shows them (no internal ids)."""
    values = dict(row.values)
    if row.kind is Kind.PATIENT:
        values["mrn"] = row.mrn
        values.setdefault("status", "active")
    elif row.kind is Kind.INFUSION:
        values.setdefault("status", InfusionStatus.SCHEDULED.value)
    if row.kind is Kind.ASSESSMENT:
        values["source"] = origin
    return values


def _create(row: Row, stored: Stored, origin: str) -> Any:
    """The new record of ``row``, known to ``stored`` so that later rows of the import can refer to it."""
    values = _created_values(row, stored, origin)
    if row.kind is Kind.INFUSION:
        values["course_id"] = stored.courses[(row.mrn, row.key[1])].id
    elif row.kind is not Kind.PATIENT:
        values["patient_id"] = _patient_id(row, stored)
    obj = _MODELS[row.kind](**values)
    if row.kind is Kind.PATIENT:
        stored.patients[row.mrn] = obj
    elif row.kind is Kind.COURSE:
        stored.courses[(row.mrn, obj.number)] = obj
    elif row.kind is Kind.INFUSION:
        stored.infusions.setdefault((row.mrn, row.key[1]), []).append(obj)
    return obj


def refuse_if(problems: list[Problem]) -> None:
    if problems:
        raise ImportRefused(problems)
