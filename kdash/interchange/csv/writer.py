"""Writing the database out as the CSV files the importer reads (``docs/import-format.md``).

Export then import into an empty database gives the same records. Soft-deleted patients (with all their
records) and soft-deleted scores are left out. Every text cell that a spreadsheet would run as a formula
(starting with = + - @ tab or CR) is written with a leading ``'`` (OWASP "CSV injection"); the importer
removes exactly that prefix again.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.domain.vocab import PROVIDER_DECISION_ITEM
from kdash.interchange.cells import escape_formula, format_yes_no
from kdash.interchange.rows import FILE_BY_NAME
from kdash.storage.models import Assessment, Course, Infusion, Patient, ScreeningDecisionRow, ScreeningItem

Table = list[dict[str, str]]


def cell(value: Any) -> str:
    """A stored value as CSV text: ISO dates, yes/no, the shortest exact number, neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return format_yes_no(value)
    if isinstance(value, datetime):
        return value.isoformat(
            timespec="minutes" if not value.second and not value.microsecond else "seconds"
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    return escape_formula(str(value))


def _live_patients(session: Session) -> dict[int, Patient]:
    rows = session.scalars(select(Patient).where(Patient.deleted_at.is_(None)).order_by(Patient.mrn))
    return {p.id: p for p in rows}


def tables(session: Session) -> dict[str, Table]:
    """Every export file's rows (column -> text), in a stable order."""
    patients = _live_patients(session)
    mrn = {pid: p.mrn for pid, p in patients.items()}
    out: dict[str, Table] = {name: [] for name in FILE_BY_NAME}
    for p in patients.values():
        out["patients.csv"].append(
            _row(
                "patients.csv",
                mrn=p.mrn,
                first_name=p.first_name,
                last_name=p.last_name,
                date_of_birth=p.date_of_birth,
                sex=p.sex,
                indication=p.indication,
                provider=p.provider,
                status=p.status,
                escort_name=p.escort_name,
                escort_phone=p.escort_phone,
            )
        )
    screening: list[tuple[Any, ...]] = []
    for item in session.scalars(select(ScreeningItem)):
        if item.patient_id in mrn:
            screening.append(
                (
                    mrn[item.patient_id],
                    item.recorded_on,
                    0,
                    item.item,
                    item.result,
                    item.note,
                    item.recorded_by,
                )
            )
    for dec in session.scalars(select(ScreeningDecisionRow)):
        if dec.patient_id in mrn:
            screening.append(
                (
                    mrn[dec.patient_id],
                    dec.decided_on,
                    1,
                    PROVIDER_DECISION_ITEM,
                    dec.decision,
                    dec.note,
                    dec.decided_by,
                )
            )
    for m, on, _, item_code, result, note, by in sorted(screening, key=lambda r: r[:4]):
        out["screenings.csv"].append(
            _row(
                "screenings.csv",
                mrn=m,
                screened_on=on,
                item=item_code,
                result=result,
                note=note,
                reviewed_by=by,
            )
        )
    courses: dict[int, tuple[str, int]] = {}
    for course in session.scalars(select(Course).order_by(Course.patient_id, Course.number)):
        if course.patient_id not in mrn:
            continue
        courses[course.id] = (mrn[course.patient_id], course.number)
        out["courses.csv"].append(
            _row(
                "courses.csv",
                mrn=mrn[course.patient_id],
                course=course.number,
                indication=course.indication,
                trial_outcome=course.trial_outcome,
                status=course.status,
                started_on=course.started_on,
                trial_outcome_by=course.trial_outcome_by,
                trial_outcome_on=course.trial_outcome_on,
            )
        )
    out["courses.csv"].sort(key=lambda r: (r["mrn"], int(r["course"])))
    infusions = [i for i in session.scalars(select(Infusion)) if i.course_id in courses]
    infusions.sort(key=lambda i: (courses[i.course_id], i.scheduled_at, i.number, i.id))
    for inf in infusions:
        m, number = courses[inf.course_id]
        values = {name: getattr(inf, name) for name in FILE_BY_NAME["infusions.csv"].optional}
        out["infusions.csv"].append(
            _row(
                "infusions.csv",
                mrn=m,
                course=number,
                number=inf.number,
                scheduled_at=inf.scheduled_at,
                status=inf.status,
                **values,
            )
        )
    scores = session.scalars(select(Assessment).where(Assessment.deleted_at.is_(None)))
    for a in sorted(
        (a for a in scores if a.patient_id in mrn),
        key=lambda a: (mrn[a.patient_id], a.taken_on, a.instrument),
    ):
        out["assessments.csv"].append(
            _row(
                "assessments.csv",
                mrn=mrn[a.patient_id],
                taken_on=a.taken_on,
                instrument=a.instrument,
                score=a.score,
                item9=a.item9,
                recorded_by=a.recorded_by,
            )
        )
    return out


def _row(file: str, **values: Any) -> dict[str, str]:
    return {column: cell(values.get(column)) for column in FILE_BY_NAME[file].columns}


def write_tables(folder: Path, data: dict[str, Table]) -> dict[str, int]:
    """Write each table as ``folder/<name>`` (UTF-8, header first); returns rows written per file."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in data.items():
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(FILE_BY_NAME[name].columns))
            writer.writeheader()
            writer.writerows(rows)
        counts[name] = len(rows)
    return counts
