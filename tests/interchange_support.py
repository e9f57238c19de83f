"""Helpers shared by the interchange tests: a record snapshot and a clinic with hostile cells."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kdash.storage.database import Database
from kdash.storage.models import Assessment, Course, Infusion, Patient, ScreeningDecisionRow, ScreeningItem

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "example"
# `source` says which importer wrote a score (csv or fhir), so it differs by design between the copies.
_IGNORED = {"id", "created_at", "updated_at", "patient_id", "course_id", "assessment_id", "source"}


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every clinical record as comparable tuples (database ids and timestamps left out)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as s:
        mrn = dict(s.execute(select(Patient.id, Patient.mrn)).all())
        course = {c.id: (mrn[c.patient_id], c.number) for c in s.scalars(select(Course))}
        for model in (Patient, ScreeningItem, ScreeningDecisionRow, Course, Infusion, Assessment):
            rows = []
            for obj in s.scalars(select(model)):
                fields = tuple(
                    (c.key, getattr(obj, c.key)) for c in model.__table__.columns if c.key not in _IGNORED
                )
                owner = (
                    course.get(obj.course_id)
                    if model is Infusion
                    else mrn.get(getattr(obj, "patient_id", None))
                )
                rows.append((owner, *fields))
            out[model.__name__] = sorted(rows, key=repr)
    return out


def hostile_clinic(tmp_path: Path) -> Path:
    """The example clinic plus cells a spreadsheet would run, HTML, line breaks and non-Latin text."""
    folder = tmp_path / "clinic"
    shutil.copytree(EXAMPLE, folder)
    with (folder / "patients.csv").open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "X-1",
                '=HYPERLINK("http://evil")',
                "+1-555",
                "1960-01-01",
                "other",
                "ptsd",
                "@Dr",
                "paused",
                "\tTab",
                "-0100",
            ]
        )
        writer.writerow(
            [
                "X-2",
                "Zoë 王",
                "<b>O'Brien</b>",
                "1961-02-02",
                "unknown",
                "cancer_pain",
                "Dr. Ω",
                "discharged",
                "'=already quoted",
                "'plain",
            ]
        )
    with (folder / "screenings.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(["X-1", "2026-11-02", "arrhythmia", "unknown", "line one\nline two", ""])
    with (folder / "assessments.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(["X-1", "2026-11-02", "C-SSRS", "3", "", "-nurse"])
    return folder
