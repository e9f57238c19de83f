"""The roster: every active patient with course progress, main score and trend, next infusion, flags.

The page asks :func:`roster_page` for the rows it shows: filters, order and paging run in SQL (the
screening status from the stored summary), so only those rows leave the database and only they run the
rules. :func:`roster` gives every matching row, for the clinic's rates and the CSV download. Both build a
row from a few aggregate queries (counts, next booking, last scores by window function, baselines by
index probes) over the patients asked for, never one query per patient; the queries are
:mod:`kdash.storage.roster_query`'s, this module pages and applies the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import PatientRec
from kdash.domain.vocab import CourseStatus, ScreeningStatus
from kdash.rules.flags import Flag
from kdash.rules.huddle import build_entry
from kdash.rules.instruments import indications_by_main_instrument, main_instrument
from kdash.rules.roster_row import SPARK_POINTS, RosterRow, any_urgent, roster_row
from kdash.services.search import search_clause
from kdash.storage import roster_query, screening_summary
from kdash.storage.context import load_contexts
from kdash.storage.database import Database
from kdash.storage.roster_query import NO_COURSE, MainInstruments, RosterQueries

__all__ = [
    "NO_COURSE",
    "OPEN_COURSE_STATUSES",
    "PAGE_SIZE",
    "RosterFilters",
    "RosterPage",
    "RosterRow",
    "matching_clause",
    "roster",
    "roster_overview",
    "roster_page",
]

OPEN_COURSE_STATUSES = (CourseStatus.PLANNED.value, CourseStatus.ACTIVE.value)

#: The rules' main instrument of each indication, as the values the roster's SQL compares.
_MAIN: MainInstruments = tuple(
    (inst.value, tuple(i.value for i in indications))
    for inst, indications in sorted(indications_by_main_instrument().items())
)


def _queries(patient_filter: ColumnElement[bool], dialect: str) -> RosterQueries:
    return roster_query.roster_queries(patient_filter, dialect, _MAIN, SPARK_POINTS, few=False)


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
    data: roster_query.RosterData,
    settings: ClinicPolicy,
    today: date,
    flag_days: int,
) -> list[RosterRow]:
    """The roster rows of ``patients`` from what the queries returned, in the order given."""
    flags = _flags(session, data.nexts, settings, today, flag_days)
    rows = []
    for p in patients:
        inst = main_instrument(p.indication)
        course = data.courses.get(p.id)
        rows.append(
            roster_row(
                p,
                data.scores.get((p.id, inst.value), []),
                data.baselines.get((p.id, inst.value)),
                course._mapping if course is not None else None,
                data.statuses.get(p.id, ScreeningStatus.NOT_STARTED),
                data.nexts.get(p.id),
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


def matching_clause(session: Session, filters: RosterFilters) -> ColumnElement[bool]:
    """SQL for every filter but ``urgent_only`` (which needs the rules), over active patients."""
    search = search_clause(session, filters.search) if filters.search.strip() else None  # the one search
    return roster_query.matching_clause(
        filters.providers, filters.indications, filters.course_statuses, filters.screening, search
    )


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
        data = roster_query.fetch(session, _queries(where, session.get_bind().dialect.name), {}, today)
        rows = _rows(session, roster_query.patients(session, where), data, settings, today, flag_days)
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


#: Rows per page: enough to scan, few enough that a clinic of thousands stays quick to draw.
PAGE_SIZE = 100


def _urgent_ids(
    session: Session, where: ColumnElement[bool], settings: ClinicPolicy, today: date, flag_days: int
) -> list[int]:
    """Matching patients with an urgent flag, in roster order: only those booked within ``flag_days`` can
    carry flags, so only their records are read and judged."""
    nexts = roster_query.booked_between(session, where, datetime.combine(today, time.min), flag_days)
    flagged = {
        pid for pid, flags in _flags(session, nexts, settings, today, flag_days).items() if any_urgent(flags)
    }
    if not flagged:
        return []
    return [p.id for p in roster_query.patients(session, roster_query.with_ids(where, sorted(flagged)))]


def roster_overview(db: Database) -> tuple[int, tuple[str, ...]]:
    """How many patients are active and their providers: what the page shows before any filter (two
    reads of the active-patient indexes, no rows and no rules)."""
    with db.read() as session:
        return roster_query.overview(session)


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
        where = matching_clause(session, chosen)
        total, providers = roster_query.overview(session)
        if chosen.urgent_only:
            ids = _urgent_ids(session, where, settings, today, flag_days)
            matching = len(ids)
        elif chosen == RosterFilters():
            matching = total
        else:
            matching = roster_query.count(session, where)
        pages = max(1, -(-matching // size))
        number = min(max(1, page), pages)
        offset = (number - 1) * size
        if chosen.urgent_only:
            page_ids = ids[offset : offset + size]
            shown = roster_query.patients(session, roster_query.ids_clause(page_ids)) if page_ids else []
        else:
            shown = roster_query.patients(session, where, limit=size, offset=offset)
        rows: list[RosterRow] = []
        if shown:
            queries = roster_query.page_queries(session.get_bind().dialect.name, _MAIN, SPARK_POINTS)
            data = roster_query.fetch(
                session, queries, roster_query.page_params([p.id for p in shown]), today
            )
            rows = _rows(session, shown, data, settings, today, flag_days)
    return RosterPage(tuple(rows), matching, total, number, pages, size, providers)
