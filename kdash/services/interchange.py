"""Import and export as services: permission check, one transaction, audit, summary.

The command line and (later) the import page call these; they never write half an import: every row is
validated and cross-checked first, and the write is a single transaction that a dry run rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from kdash.domain.access import SYSTEM, Action, Actor
from kdash.domain.vocab import LIVE_INFUSION_STATUSES, AssessmentSource
from kdash.interchange import cells
from kdash.interchange.csv.reader import Parsed, read_folder
from kdash.interchange.rows import ImportRefused, Kind, Problem, Row
from kdash.interchange.store import Stored, Summary, apply, check, load_stored, match_mrn_case
from kdash.services.guard import authorize
from kdash.services.imported_bookings import book_imported, booking_field_problems, is_future_booking
from kdash.services.locks import lock_days
from kdash.services.refusals import database_refusal
from kdash.services.slots import ChairHold, chair_clashes, stored_chair_holds
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.policy_repo import load_policy

_LIVE = {s.value for s in LIVE_INFUSION_STATUSES}


class _DryRun(Exception):
    """Raised inside the write transaction to roll a dry run back after counting what it would do."""


def clinic_zone(db: Database) -> tzinfo | None:
    with db.read() as session:
        name = load_policy(session).timezone
    return cells.clinic_zone(name)


def import_path(
    db: Database,
    path: Path,
    *,
    actor: Actor = SYSTEM,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
    encoding: str | None = None,
) -> Summary:
    """Import a folder of CSV files or a FHIR Bundle (``*.json``); raises :class:`ImportRefused`.

    CSV files are UTF-8, or ``encoding`` (default: the clinic's ``import_legacy_encoding`` setting,
    empty for UTF-8 only); a FHIR Bundle is JSON, always UTF-8 (RFC 8259).
    """
    authorize(db, actor, Action.IMPORT)
    zone = clinic_zone(db)
    if encoding is None:
        with db.read() as session:
            encoding = load_policy(session).import_legacy_encoding
    if path.is_dir():
        parsed = read_folder(path, zone, progress, encoding=encoding)
        origin = AssessmentSource.CSV.value
    elif path.suffix.lower() == ".json" and path.is_file():
        from kdash.interchange.fhir.reader import read_bundle

        parsed = read_bundle(path, zone)
        origin = AssessmentSource.FHIR.value
    else:
        raise ImportRefused(
            [Problem(path.name, "", "is neither a folder of CSV files nor a FHIR Bundle file (.json)")]
        )
    return write_parsed(db, parsed, actor=actor, origin=origin, dry_run=dry_run, now=now, progress=progress)


def write_parsed(
    db: Database,
    parsed: Parsed,
    *,
    actor: Actor,
    origin: str,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> Summary:
    """Cross-check and write parsed rows in one transaction, or raise with every problem found."""
    when = now or datetime.now()
    summary = Summary()
    # MRNs of patient records that failed their own checks: only well-formed ones can be referred to by
    # other rows (which pass the same MRN check), and only those are looked up (a NUL byte or a
    # look-alike letter would otherwise reach the database in the query).
    known = {mrn for mrn in parsed.known_mrns if _valid_mrn(mrn)}
    try:
        with db.write() as session:
            stored = load_stored(session, {r.mrn for r in parsed.rows} | known)
            known = match_mrn_case(parsed.rows, stored, known)
            # Every row is held to the cap, the numbers and the chairs here, so one refusal names every
            # such problem with its row. New bookings from now on are then booked through the one
            # booking path (the screening and trial gates, hours, spacing, the course's state), after
            # the records they rest on are written; past infusions are records.
            problems = parsed.problems + check(parsed.rows, stored, known_mrns=known)
            problems += _chair_problems(session, parsed.rows, stored)
            future = [r for r in parsed.rows if is_future_booking(r, stored, when)]
            booked = {id(r) for r in future}
            records = [r for r in parsed.rows if id(r) not in booked]
            problems += booking_field_problems(future)
            if problems:
                raise ImportRefused(problems)

            def step(done: int, total: int) -> None:
                if progress is not None and (done % 1000 == 0 or done == total) and total >= 1000:
                    progress("writing", done)

            summary = apply(session, records, actor, when, origin=origin, progress=step)
            refused = book_imported(session, actor, future, summary, when)
            if refused:
                raise ImportRefused(refused)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except StatementError as exc:
        # Every value was checked before the write; a database refusal left here (a concurrent writer,
        # a rule only the database knows) is reported in words, never with the statement or its values.
        raise ImportRefused([Problem(_input_name(parsed), "", database_refusal(exc))]) from None
    return summary


def _valid_mrn(raw: str) -> bool:
    try:
        cells.mrn(raw)
    except cells.CellError:
        return False
    return True


def _input_name(parsed: Parsed) -> str:
    return ", ".join(parsed.files) or "import"


def _chair_problems(session: Session, rows: Sequence[Row], stored: Stored) -> list[Problem]:
    """The import's live bookings must leave every chair holding one patient for the chair time.

    Judged against every live booking of those days, whoever's patient it is, with the days locked
    (:func:`~kdash.services.locks.lock_days`) so no booking can take a chair meanwhile; the same rule as
    a booking's (:func:`~kdash.services.slots.chair_clashes`) and the database's (migration 0009).
    """
    infusions = [r for r in rows if r.kind is Kind.INFUSION]
    days = {r.values["scheduled_at"].date() for r in infusions}
    if not days:
        return []
    lock_days(session, days)
    settings = load_policy(session)
    chair_time = timedelta(minutes=settings.chair_minutes)
    replaced: set[int] = set()
    rows_of: dict[int, Row] = {}
    holds: list[ChairHold] = []
    for row in infusions:
        existing = stored.find(row)
        if existing is not None:
            replaced.add(existing.id)
        status = row.values.get("status", existing.status if existing is not None else "scheduled")
        chair = row.values.get("chair", existing.chair if existing is not None else None)
        if status not in _LIVE or chair is None:
            continue
        start = row.values["scheduled_at"]
        until = existing.chair_until if existing is not None and existing.chair_until else None
        hold = ChairHold(chair, start, until or start + chair_time, row.where)
        rows_of[id(hold)] = row
        holds.append(hold)
    held = [hold for row_id, hold in stored_chair_holds(session, days) if row_id not in replaced]
    problems = []
    for first, second in chair_clashes([*held, *holds]):
        clashing = rows_of.get(id(second))
        if clashing is None:
            continue  # two stored bookings: the database never holds such a pair
        problems.append(
            Problem(
                clashing.where,
                clashing.column("chair"),
                f"chair {second.chair} is held {first.start:%Y-%m-%d %H:%M}–{first.until:%H:%M} by "
                f"another live booking, in {first.where}; a chair holds one patient for the chair time "
                f"({settings.chair_minutes} minutes): choose another chair or time",
            )
        )
    return problems


def export_csv(
    db: Database, folder: Path, *, actor: Actor = SYSTEM, now: datetime | None = None
) -> dict[str, int]:
    """Write every current record as the import's CSV files in ``folder``; the export is audited."""
    from kdash.interchange.csv.writer import tables, write_tables

    authorize(db, actor, Action.EXPORT)
    with db.write() as session:
        data = tables(session)
        counts = write_tables(folder, data)
        record(session, actor, "export", entity="clinic", after={"format": "csv", **counts}, now=now)
    return counts


def export_fhir(
    db: Database, out: Path, *, actor: Actor = SYSTEM, now: datetime | None = None
) -> dict[str, int]:
    """Write every current record as one FHIR R4 transaction Bundle; returns resources per type."""
    from kdash.interchange.fhir.writer import bundle_json

    authorize(db, actor, Action.EXPORT)
    zone = clinic_zone(db)
    with db.write() as session:
        text, counts = bundle_json(session, zone)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        record(session, actor, "export", entity="clinic", after={"format": "fhir", **counts}, now=now)
    return counts
