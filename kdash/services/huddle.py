"""The morning huddle as a service: who may see it, the audit of who saw which day's patients, its files.

The huddle page, the ``huddle`` command and the printable sheet read a day's huddle here. The huddle
shows every booked patient's flags, scores and screening, so looking at it is looking at those records:
each view is an audit event naming the day and the patients on it, like opening one patient's record
(``view_patient``). The CSV neutralises formula cells with the function every kdash CSV writer uses
(:func:`kdash.interchange.cells.escape_formula`): names and messages come from records and imports.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from sqlalchemy.orm import Session

from kdash.domain.access import Action, Actor
from kdash.domain.policy import ClinicPolicy
from kdash.interchange.cells import escape_formula
from kdash.interchange.huddle_json import CSV_COLUMNS, huddle_to_rows
from kdash.rules.huddle import Huddle, build_huddle
from kdash.services.guard import authorize
from kdash.services.minimum_necessary import huddle_for
from kdash.storage import audit_chain
from kdash.storage.database import Database
from kdash.storage.patient_records import load_contexts
from kdash.storage.policy_repo import load_policy

__all__ = [
    "clinic_name",
    "huddle_csv",
    "huddle_from_session",
    "read_huddle",
    "record_huddle_view",
    "view_huddle",
]


def huddle_from_session(session: Session, day: date, settings: ClinicPolicy | None = None) -> Huddle:
    """The huddle of ``day`` inside the caller's transaction (settings: the clinic's stored ones)."""
    chosen = settings if settings is not None else load_policy(session)
    return build_huddle(day, load_contexts(session, day, settings=chosen), chosen)


def read_huddle(
    db: Database, day: date, settings: ClinicPolicy | None = None, actor: Actor | None = None
) -> Huddle:
    """The huddle of ``day`` (the clinic's stored policy by default), not audited: a page caches this
    read across reruns and audits each person's view with :func:`record_huddle_view`. Less what
    ``actor``'s role may not see (:mod:`kdash.services.minimum_necessary`)."""
    with db.read() as session:
        return huddle_for(actor, huddle_from_session(session, day, settings))


def record_huddle_view(db: Database, actor: Actor, huddle: Huddle, now: datetime | None = None) -> None:
    """Audit ``actor`` viewing the huddle: the day and the id of every patient on it ("view_huddle")."""
    authorize(db, actor, Action.VIEW_CLINICAL, audit_as="view_huddle", now=now)
    with db.write() as session:
        audit_chain.record(
            session, actor, "view_huddle", entity="huddle",
            after={"day": huddle.day, "patients": [e.patient.id for e in huddle.entries]}, now=now,
        )  # fmt: skip


def view_huddle(
    db: Database,
    actor: Actor,
    day: date,
    settings: ClinicPolicy | None = None,
    now: datetime | None = None,
) -> Huddle:
    """The huddle of ``day`` for ``actor``, who must be allowed to see clinical records; the view is
    audited (the command line and the printable sheet use this)."""
    authorize(db, actor, Action.VIEW_CLINICAL, audit_as="view_huddle", now=now)
    huddle = read_huddle(db, day, settings, actor)
    record_huddle_view(db, actor, huddle, now)
    return huddle


def clinic_name(db: Database) -> str:
    """The clinic's name as the printable sheet heads it."""
    with db.read() as session:
        return load_policy(session).clinic_name


def huddle_csv(huddle: Huddle) -> str:
    """One row per patient; a cell a spreadsheet would run as a formula is written as text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in huddle_to_rows(huddle):
        writer.writerow({k: escape_formula(v) if isinstance(v, str) else v for k, v in row.items()})
    return buffer.getvalue()
