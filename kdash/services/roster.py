"""The roster: every active patient with course progress, main score and trend, next infusion, flags.

The page asks :func:`roster_page` for the rows it shows: filters, order and paging run in SQL (the
screening status from the stored summary), so only those rows leave the database and only they run the
rules. :func:`roster` gives every matching row, for the clinic's rates and the CSV download. Both build a
row from a few aggregate queries (counts, next booking, last scores by window function, baselines by
index probes) over the patients asked for, never one query per patient.
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

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import PatientRec
from kdash.domain.vocab import (
    CourseStatus,
    InfusionStatus,
    ScreeningStatus,
)
from kdash.rules.flags import Flag
from kdash.rules.huddle import build_entry
from kdash.rules.instruments import (
    indications_by_main_instrument,
    main_instrument,
)
from kdash.rules.roster_row import SPARK_POINTS, RosterRow, any_urgent, roster_row
from kdash.services.search import search_clause
from kdash.storage import screening_summary
from kdash.storage.context import load_contexts
from kdash.storage.database import Database
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
_ACTIVE = cast("ColumnElement[bool]", active_patient_clause())

OPEN_COURSE_STATUSES = (CourseStatus.PLANNED.value, CourseStatus.ACTIVE.value)


# --- roster --------------------------------------------------------------------------------------------


def _courses_query(patient_filter: Any) -> Executable:
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


def _next_query(patient_filter: Any) -> Executable:
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


def _main_instrument_sql() -> Any:
    """:func:`main_instrument` in SQL, so only the score the roster shows leaves the database."""
    return case(
        *(
            (Patient.indication.in_([i.value for i in indications]), inst.value)
            for inst, indications in sorted(indications_by_main_instrument().items())
        ),
        else_=None,
    )


def _scores_query(patient_filter: Any, dialect: str, *, few: bool) -> Executable:
    """The last SPARK_POINTS main scores (:func:`main_instrument`) per patient, newest first.

    The query's shape is the one measured fastest for the database and the number of patients
    (docs/performance.md): on SQLite index probes (the newest ids per patient, a correlated ``LIMIT``),
    on PostgreSQL a ``LATERAL`` probe for a page of patients (``few``) and a window function for all.
    """
    newest = aliased(Assessment)
    probe = (
        select(newest.id, newest.instrument, newest.taken_on, newest.score)
        .where(
            newest.patient_id == Patient.id,
            newest.instrument == _main_instrument_sql(),
            newest.deleted_at.is_(None),
        )
        .order_by(newest.taken_on.desc(), newest.id.desc())
        .limit(SPARK_POINTS)
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
            Assessment.instrument == _main_instrument_sql(),
        )
        .subquery()
    )
    return (
        select(inner.c.patient_id, inner.c.instrument, inner.c.taken_on, inner.c.score)
        .where(inner.c.rn <= SPARK_POINTS)
        .order_by(inner.c.rn)
    )


def _baselines_query(patient_filter: Any) -> Executable:
    """Baseline per patient of the main instrument, as the huddle defines it: the last score on or before
    the current course's first live infusion, else the first score.

    Two index probes per patient in the database (``ix_assessment_patient_scores``), so one row per
    patient leaves it rather than every score. A date compares with a datetime as its midnight, so
    ``taken_on <= first infusion`` is "on or before the day of the first infusion" on both databases.
    """
    inst = _main_instrument_sql()
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


def _statuses_query(patient_filter: Any) -> Executable:
    """Each patient's stored screening status (read inside :func:`screening_summary.read_current`)."""
    return (
        select(ScreeningSummary.patient_id, ScreeningSummary.status)
        .join(Patient, Patient.id == ScreeningSummary.patient_id)
        .where(patient_filter)
    )


@dataclass(frozen=True, slots=True)
class _Queries:
    """The column-group queries of roster rows, built for one patient filter."""

    courses: Executable
    nexts: Executable
    scores: Executable
    baselines: Executable
    statuses: Executable


def _queries(patient_filter: Any, dialect: str, *, few: bool) -> _Queries:
    return _Queries(
        _courses_query(patient_filter),
        _next_query(patient_filter),
        _scores_query(patient_filter, dialect, few=few),
        _baselines_query(patient_filter),
        _statuses_query(patient_filter),
    )


#: The ids of the page's patients (an expanding bound parameter: one statement for every page).
_PAGE_IDS: BindParameter[list[int]] = bindparam("page_ids", expanding=True)


@functools.cache
def _page_queries(dialect: str) -> _Queries:
    """The page's queries, built once per process: building a statement costs about as much as running
    it over a page of patients, so the page binds its ids to statements made once."""
    return _queries(Patient.id.in_(_PAGE_IDS), dialect, few=True)


def _patients(session: Session, patient_filter: Any) -> list[PatientRec]:
    """The patients matching, in the roster's order (name, then MRN)."""
    return [
        patient_rec(r)
        for r in session.connection()
        .execute(
            select(*PATIENT_COLUMNS)
            .where(patient_filter)
            .order_by(Patient.last_name, Patient.first_name, Patient.mrn)
        )
        .all()
    ]


def _flags(
    session: Session, nexts: Mapping[int, datetime], settings: ClinicPolicy, today: date, flag_days: int
) -> dict[int, tuple[Flag, ...]]:
    """The huddle's flags of each patient whose next booking is within ``flag_days`` of ``today``."""
    soon = sorted(pid for pid, at in nexts.items() if at.date() <= today + timedelta(days=flag_days))
    flags: dict[int, tuple[Flag, ...]] = {}
    for pid, ctx in load_contexts(session, soon, settings=settings).items():
        entry = build_entry(ctx, nexts[pid].date(), settings)
        if entry is not None:
            flags[pid] = entry.flags
    return flags


def _rows(
    session: Session,
    patients: Sequence[PatientRec],
    queries: _Queries,
    params: Mapping[str, Any],
    settings: ClinicPolicy,
    today: date,
    flag_days: int,
) -> list[RosterRow]:
    """The roster rows of ``patients`` (all those ``queries`` select, with ``params``), in the order
    given."""
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
    flags = _flags(session, nexts, settings, today, flag_days)
    rows = []
    for p in patients:
        inst = main_instrument(p.indication)
        course = courses.get(p.id)
        rows.append(
            roster_row(
                p,
                scores.get((p.id, inst.value), []),
                baselines.get((p.id, inst.value)),
                course._mapping if course is not None else None,
                statuses.get(p.id, ScreeningStatus.NOT_STARTED),
                nexts.get(p.id),
                flags.get(p.id, ()),
                settings,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class RosterFilters:
    """The roster page's filters: each one given narrows the list, an empty one matches everyone."""

    providers: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    course_statuses: tuple[str, ...] = ()  # course statuses, or NO_COURSE
    screening: tuple[str, ...] = ()
    search: str = ""
    urgent_only: bool = False


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


def matching_clause(session: Session, filters: RosterFilters) -> ColumnElement[bool]:
    """SQL for every filter but ``urgent_only`` (which needs the rules), over active patients."""
    clauses: list[ColumnElement[bool]] = [_ACTIVE]
    if filters.providers:
        clauses.append(Patient.provider.in_(filters.providers))
    if filters.indications:
        clauses.append(Patient.indication.in_(filters.indications))
    if filters.screening:
        clauses.append(
            select(ScreeningSummary.patient_id)
            .where(ScreeningSummary.patient_id == Patient.id, ScreeningSummary.status.in_(filters.screening))
            .correlate(Patient)
            .exists()
        )
    if filters.course_statuses:
        current = _current_status()
        wanted = [s for s in filters.course_statuses if s != NO_COURSE]
        either: list[ColumnElement[bool]] = [current.in_(wanted)] if wanted else []
        if NO_COURSE in filters.course_statuses:
            either.append(current.is_(None))
        clauses.append(or_(*either))
    if filters.search.strip():
        clauses.append(search_clause(session, filters.search))  # the one search every page uses
    return and_(*clauses)


def roster(
    db: Database,
    settings: ClinicPolicy,
    today: date,
    *,
    flag_days: int = 14,
    filters: RosterFilters | None = None,
) -> list[RosterRow]:
    """Every active patient matching ``filters`` (default: all), one row each, ordered by name.

    Flags are the huddle's for the patient's next booked infusion when that is within ``flag_days`` (the
    days the team plans for); later bookings show no flags yet. For the whole list (clinic rates, the
    CSV download); the page itself asks :func:`roster_page` for the rows it shows.
    """
    chosen = filters or RosterFilters()
    with screening_summary.read_current(db, settings) as session:
        where = matching_clause(session, chosen)
        queries = _queries(where, session.get_bind().dialect.name, few=False)
        rows = _rows(session, _patients(session, where), queries, {}, settings, today, flag_days)
    return [r for r in rows if r.urgent] if chosen.urgent_only else rows


@dataclass(frozen=True, slots=True)
class RosterPage:
    """One page of the roster and the counts the page shows around it."""

    rows: tuple[RosterRow, ...]
    matching: int
    total: int
    page: int
    pages: int
    page_size: int
    providers: tuple[str, ...]


#: Statements every page run makes, built once (both read a partial index of active patients).
_ACTIVE_COUNT = select(func.count()).select_from(Patient).where(_ACTIVE)
_ACTIVE_PROVIDERS = select(Patient.provider).where(_ACTIVE).distinct().order_by(Patient.provider)

#: Rows per page: enough to scan, few enough that a clinic of thousands stays quick to draw.
PAGE_SIZE = 100


def _urgent_ids(
    session: Session, where: ColumnElement[bool], settings: ClinicPolicy, today: date, flag_days: int
) -> list[int]:
    """Matching patients with an urgent flag, in roster order: only those booked within ``flag_days`` can
    carry flags, so only their records are read and judged."""
    start = datetime.combine(today, time.min)
    nexts = {
        pid: at
        for pid, at in session.connection().execute(
            select(Course.patient_id, func.min(Infusion.scheduled_at))
            .join(Course, Course.id == Infusion.course_id)
            .join(Patient, Patient.id == Course.patient_id)
            .where(
                where,
                Infusion.status == InfusionStatus.SCHEDULED.value,
                Infusion.scheduled_at >= start,
                Infusion.scheduled_at < start + timedelta(days=flag_days + 1),
            )
            .group_by(Course.patient_id)
        )
    }
    flagged = {
        pid for pid, flags in _flags(session, nexts, settings, today, flag_days).items() if any_urgent(flags)
    }
    if not flagged:
        return []
    return [p.id for p in _patients(session, and_(where, Patient.id.in_(sorted(flagged))))]


def _overview(session: Session) -> tuple[int, tuple[str, ...]]:
    conn = session.connection()
    return conn.execute(_ACTIVE_COUNT).scalar_one(), tuple(conn.execute(_ACTIVE_PROVIDERS).scalars())


def roster_overview(db: Database) -> tuple[int, tuple[str, ...]]:
    """How many patients are active and their providers: what the page shows before any filter (two
    reads of the active-patient indexes, no rows and no rules)."""
    with db.read() as session:
        return _overview(session)


def roster_page(
    db: Database,
    settings: ClinicPolicy,
    today: date,
    filters: RosterFilters | None = None,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    flag_days: int = 14,
) -> RosterPage:
    """The page of the roster the page shows: filtered, ordered and cut in SQL, so only its rows leave
    the database and only they run the rules (a clinic of 50,000 still draws 100 rows).

    The screening-status filter reads the stored summary (:mod:`kdash.storage.screening_summary`); the
    urgent-flag filter judges only the patients booked within ``flag_days``. ``page`` is clamped to the
    pages there are.
    """
    chosen = filters or RosterFilters()
    size = max(1, page_size)
    with screening_summary.read_current(db, settings) as session:
        conn = session.connection()
        where = matching_clause(session, chosen)
        total, providers = _overview(session)
        if chosen.urgent_only:
            ids = _urgent_ids(session, where, settings, today, flag_days)
            matching = len(ids)
        elif chosen == RosterFilters():
            matching = total
        else:
            matching = conn.execute(select(func.count()).select_from(Patient).where(where)).scalar_one()
        pages = max(1, -(-matching // size))
        number = min(max(1, page), pages)
        offset = (number - 1) * size
        if chosen.urgent_only:
            shown = _patients(session, Patient.id.in_(ids[offset : offset + size])) if ids else []
        else:
            shown = [
                patient_rec(r)
                for r in conn.execute(
                    select(*PATIENT_COLUMNS)
                    .where(where)
                    .order_by(Patient.last_name, Patient.first_name, Patient.mrn)
                    .limit(size)
                    .offset(offset)
                ).all()
            ]
        queries = _page_queries(session.get_bind().dialect.name)
        params = {"page_ids": [p.id for p in shown]}
        rows = _rows(session, shown, queries, params, settings, today, flag_days) if shown else []
    return RosterPage(tuple(rows), matching, total, number, pages, size, providers)
