"""The roster's SQL: the patient filter, the page's patients and the column-group queries of its rows.

Storage builds and runs the statements; the roster service (:mod:`kdash.services.roster`) checks, pages
and turns what they return into rows with the rules. The rules' choice of each patient's main instrument
is handed in as a table (``MainInstruments``) so the query picks the same score in SQL without storage
calling the rules. The statements' shapes are the ones measured in docs/performance.md.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Executable,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased

from kdash.domain.records import PatientRec
from kdash.domain.vocab import InfusionStatus, ScreeningStatus
from kdash.storage.models import (
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningSummary,
    active_patient_clause,
    live_infusion_clause,
)
from kdash.storage.patient_records import PATIENT_COLUMNS, patient_rec

_STATUSES = {m.value: m for m in ScreeningStatus}

#: The model's shared clauses, typed for the query builder.
_LIVE = cast("ColumnElement[bool]", live_infusion_clause())
ACTIVE = cast("ColumnElement[bool]", active_patient_clause())

#: Each main instrument's value with the indication values it follows, in order (the rules'
#: ``indications_by_main_instrument`` as plain values, hashable so statements can be built once).
MainInstruments = tuple[tuple[str, tuple[str, ...]], ...]


def courses_query(patient_filter: Any) -> Executable:
    """Each patient's current (highest-numbered) course with its live and completed counts: the course
    found by a correlated probe of the (patient, number) index, its infusions by an outer join."""
    other = aliased(Course)
    newest = (
        select(func.max(other.number))
        .where(other.patient_id == Patient.id)
        .correlate(Patient)
        .scalar_subquery()
    )
    return (
        select(
            Course.id,
            Course.patient_id,
            Course.number,
            Course.status,
            Course.trial_outcome,
            func.count(Infusion.id).filter(_LIVE).label("live"),
            func.count(Infusion.id)
            .filter(Infusion.status == InfusionStatus.COMPLETED.value)
            .label("completed"),
            func.min(Infusion.scheduled_at).filter(_LIVE).label("first_at"),
        )
        .select_from(Patient)
        .join(Course, and_(Course.patient_id == Patient.id, Course.number == newest))
        .outerjoin(Infusion, Infusion.course_id == Course.id)
        .where(patient_filter)
        .group_by(Course.id, Course.patient_id, Course.number, Course.status, Course.trial_outcome)
    )


#: The start of the day from which the next booking is looked for (a bound parameter of the query).
_AFTER: BindParameter[datetime] = bindparam("after")


def next_query(patient_filter: Any) -> Executable:
    """Each patient's next scheduled infusion from ``after``."""
    return (
        select(Course.patient_id, func.min(Infusion.scheduled_at))
        .join(Course, Course.id == Infusion.course_id)
        .join(Patient, Patient.id == Course.patient_id)
        .where(
            patient_filter, Infusion.status == InfusionStatus.SCHEDULED.value, Infusion.scheduled_at >= _AFTER
        )
        .group_by(Course.patient_id)
    )


def main_instrument_sql(main: MainInstruments) -> Any:
    """The rules' main instrument of each patient in SQL, so only the score the roster shows leaves the
    database."""
    return case(
        *((Patient.indication.in_(list(indications)), inst) for inst, indications in main),
        else_=None,
    )


def scores_query(
    patient_filter: Any, dialect: str, main: MainInstruments, points: int, *, few: bool
) -> Executable:
    """The last ``points`` main scores per patient, newest first.

    The query's shape is the one measured fastest for the database and the number of patients
    (docs/performance.md): on SQLite index probes (the newest ids per patient, a correlated ``LIMIT``),
    on PostgreSQL a ``LATERAL`` probe for a page of patients (``few``) and a window function for all.
    """
    newest = aliased(Assessment)
    probe = (
        select(newest.id, newest.instrument, newest.taken_on, newest.score)
        .where(
            newest.patient_id == Patient.id,
            newest.instrument == main_instrument_sql(main),
            newest.deleted_at.is_(None),
        )
        .order_by(newest.taken_on.desc(), newest.id.desc())
        .limit(points)
        .correlate(Patient)
    )
    if dialect == "sqlite":
        return (
            select(Patient.id, Assessment.instrument, Assessment.taken_on, Assessment.score)
            .join(Assessment, Assessment.id.in_(probe.with_only_columns(newest.id)))
            .where(patient_filter)
            .order_by(Patient.id, Assessment.taken_on.desc(), Assessment.id.desc())
        )
    if few:
        lateral = probe.lateral()
        return (
            select(Patient.id, lateral.c.instrument, lateral.c.taken_on, lateral.c.score)
            .select_from(Patient)
            .join(lateral, true())
            .where(patient_filter)
            .order_by(Patient.id, lateral.c.taken_on.desc(), lateral.c.id.desc())
        )
    rn = (
        func.row_number()
        .over(
            partition_by=(Assessment.patient_id, Assessment.instrument),
            order_by=(Assessment.taken_on.desc(), Assessment.id.desc()),
        )
        .label("rn")
    )
    inner = (
        select(Assessment.patient_id, Assessment.instrument, Assessment.taken_on, Assessment.score, rn)
        .join(Patient, Patient.id == Assessment.patient_id)
        .where(
            patient_filter,
            Assessment.deleted_at.is_(None),
            Assessment.instrument == main_instrument_sql(main),
        )
        .subquery()
    )
    return (
        select(inner.c.patient_id, inner.c.instrument, inner.c.taken_on, inner.c.score)
        .where(inner.c.rn <= points)
        .order_by(inner.c.rn)
    )


def baselines_query(patient_filter: Any, main: MainInstruments) -> Executable:
    """Baseline per patient of the main instrument, as the huddle defines it: the last score on or before
    the current course's first live infusion, else the first score.

    Two index probes per patient in the database (``ix_assessment_patient_scores``), so one row per
    patient leaves it rather than every score. A date compares with a datetime as its midnight, so
    ``taken_on <= first infusion`` is "on or before the day of the first infusion" on both databases.
    """
    inst = main_instrument_sql(main)
    current = aliased(Course)
    current_number = (
        select(func.max(current.number))
        .where(current.patient_id == Patient.id)
        .correlate(Patient)
        .scalar_subquery()
    )
    first_at = (
        select(func.min(Infusion.scheduled_at))
        .join(Course, Course.id == Infusion.course_id)
        .where(
            Course.patient_id == Patient.id,
            Course.number == current_number,
            live_infusion_clause(),  # type: ignore[arg-type]
        )
        .correlate(Patient)
        .scalar_subquery()
    )
    # Correlated to the outer patient row explicitly: nested subqueries must not pull ``patient`` into
    # their own FROM (that would compare with every patient's infusions).
    scores = (
        select(Assessment.score)
        .where(
            Assessment.patient_id == Patient.id,
            Assessment.instrument == inst,
            Assessment.deleted_at.is_(None),
        )
        .correlate(Patient)
    )
    first = scores.order_by(Assessment.taken_on, Assessment.id).limit(1).scalar_subquery()
    before = (
        scores.where(Assessment.taken_on <= first_at)
        .order_by(Assessment.taken_on.desc(), Assessment.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(Patient.id, inst.label("instrument"), first.label("first"), before.label("before")).where(
        patient_filter
    )


def statuses_query(patient_filter: Any) -> Executable:
    """Each patient's stored screening status (read inside :func:`screening_summary.read_current`)."""
    return (
        select(ScreeningSummary.patient_id, ScreeningSummary.status)
        .join(Patient, Patient.id == ScreeningSummary.patient_id)
        .where(patient_filter)
    )


@dataclass(frozen=True, slots=True)
class RosterQueries:
    """The column-group queries of roster rows, built for one patient filter."""

    courses: Executable
    nexts: Executable
    scores: Executable
    baselines: Executable
    statuses: Executable


def roster_queries(
    patient_filter: Any, dialect: str, main: MainInstruments, points: int, *, few: bool
) -> RosterQueries:
    """The queries of the rows of every patient ``patient_filter`` selects."""
    return RosterQueries(
        courses_query(patient_filter),
        next_query(patient_filter),
        scores_query(patient_filter, dialect, main, points, few=few),
        baselines_query(patient_filter, main),
        statuses_query(patient_filter),
    )


#: The ids of the page's patients (an expanding bound parameter: one statement for every page).
_PAGE_IDS: BindParameter[list[int]] = bindparam("page_ids", expanding=True)


@functools.cache
def page_queries(dialect: str, main: MainInstruments, points: int) -> RosterQueries:
    """The page's queries, built once per process: building a statement costs about as much as running
    it over a page of patients, so the page binds its ids (:func:`page_params`) to statements made once."""
    return roster_queries(Patient.id.in_(_PAGE_IDS), dialect, main, points, few=True)


def page_params(patient_ids: Sequence[int]) -> dict[str, Any]:
    """The bound parameters of :func:`page_queries` for these patients."""
    return {"page_ids": list(patient_ids)}


@dataclass(frozen=True, slots=True)
class RosterData:
    """What the column-group queries returned, by patient."""

    courses: dict[int, Any]
    nexts: dict[int, datetime]
    scores: dict[tuple[int, str], list[tuple[date, int]]]
    baselines: dict[tuple[int, str], Any]
    statuses: dict[int, ScreeningStatus]


def fetch(session: Session, queries: RosterQueries, params: Mapping[str, Any], today: date) -> RosterData:
    """Run ``queries`` with ``params``: the next booking looked for from the start of ``today``."""
    conn = session.connection()
    courses: dict[int, Any] = {r.patient_id: r for r in conn.execute(queries.courses, dict(params)).all()}
    after = {**params, "after": datetime.combine(today, time.min)}
    nexts: dict[int, datetime] = {pid: at for pid, at in conn.execute(queries.nexts, after).all()}
    scores: dict[tuple[int, str], list[tuple[date, int]]] = defaultdict(list)
    for pid, instrument, taken_on, score in conn.execute(queries.scores, dict(params)).all():
        scores[(pid, instrument)].append((taken_on, score))
    baselines = {
        (pid, instrument): (before if before is not None else first)
        for pid, instrument, first, before in conn.execute(queries.baselines, dict(params)).all()
        if first is not None
    }
    statuses = {pid: _STATUSES[s] for pid, s in conn.execute(queries.statuses, dict(params)).all()}
    return RosterData(courses, nexts, scores, baselines, statuses)


_ORDER = (Patient.last_name, Patient.first_name, Patient.mrn)


def patients(
    session: Session, patient_filter: Any, *, limit: int | None = None, offset: int = 0
) -> list[PatientRec]:
    """The patients matching, in the roster's order (name, then MRN), optionally one page of them."""
    stmt = select(*PATIENT_COLUMNS).where(patient_filter).order_by(*_ORDER)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [patient_rec(r) for r in session.connection().execute(stmt).all()]


def count(session: Session, patient_filter: Any) -> int:
    """How many patients match."""
    stmt = select(func.count()).select_from(Patient).where(patient_filter)
    return int(session.connection().execute(stmt).scalar_one())


def booked_between(session: Session, patient_filter: Any, start: datetime, days: int) -> dict[int, datetime]:
    """Each matching patient's next scheduled infusion from ``start`` and before ``days`` + 1 days on."""
    return {
        pid: at
        for pid, at in session.connection().execute(
            select(Course.patient_id, func.min(Infusion.scheduled_at))
            .join(Course, Course.id == Infusion.course_id)
            .join(Patient, Patient.id == Course.patient_id)
            .where(
                patient_filter,
                Infusion.status == InfusionStatus.SCHEDULED.value,
                Infusion.scheduled_at >= start,
                Infusion.scheduled_at < start + timedelta(days=days + 1),
            )
            .group_by(Course.patient_id)
        )
    }


#: Statements every page run makes, built once (both read a partial index of active patients).
_ACTIVE_COUNT = select(func.count()).select_from(Patient).where(ACTIVE)
_ACTIVE_PROVIDERS = select(Patient.provider).where(ACTIVE).distinct().order_by(Patient.provider)


def overview(session: Session) -> tuple[int, tuple[str, ...]]:
    """How many patients are active and their providers."""
    conn = session.connection()
    return conn.execute(_ACTIVE_COUNT).scalar_one(), tuple(conn.execute(_ACTIVE_PROVIDERS).scalars())


#: The course-status filter's value for a patient without any course.
NO_COURSE = "no course"


def _current_status() -> Any:
    """The status of the patient's highest-numbered course (NULL for a patient without one)."""
    newest = aliased(Course)
    return (
        select(newest.status)
        .where(newest.patient_id == Patient.id)
        .order_by(newest.number.desc())
        .limit(1)
        .correlate(Patient)
        .scalar_subquery()
    )


def matching_clause(
    providers: Sequence[str],
    indications: Sequence[str],
    course_statuses: Sequence[str],
    screening: Sequence[str],
    search: ColumnElement[bool] | None,
) -> ColumnElement[bool]:
    """SQL for the roster's filters over active patients: each one given narrows, an empty one matches
    everyone; ``search`` is the search's own clause, when there is a search."""
    clauses: list[ColumnElement[bool]] = [ACTIVE]
    if providers:
        clauses.append(Patient.provider.in_(providers))
    if indications:
        clauses.append(Patient.indication.in_(indications))
    if screening:
        clauses.append(
            select(ScreeningSummary.patient_id)
            .where(ScreeningSummary.patient_id == Patient.id, ScreeningSummary.status.in_(screening))
            .correlate(Patient)
            .exists()
        )
    if course_statuses:
        current = _current_status()
        wanted = [s for s in course_statuses if s != NO_COURSE]
        either: list[ColumnElement[bool]] = [current.in_(wanted)] if wanted else []
        if NO_COURSE in course_statuses:
            either.append(current.is_(None))
        clauses.append(or_(*either))
    if search is not None:
        clauses.append(search)
    return and_(*clauses)


def with_ids(patient_filter: Any, patient_ids: Sequence[int]) -> ColumnElement[bool]:
    """``patient_filter`` narrowed to these patients."""
    return and_(patient_filter, Patient.id.in_(list(patient_ids)))


def ids_clause(patient_ids: Sequence[int]) -> ColumnElement[bool]:
    """Exactly these patients."""
    return Patient.id.in_(list(patient_ids))
