"""A form and an import are two doors to one write path: the same change leaves the same amendment, the
same implausible value meets the same refusal, and the database refuses it too.

Each test sets up the same clinic by import, then makes one change through the patient page's service
(:func:`kdash.services.clinical.record_infusion`) and the same change through a CSV import, and compares
what a person reads afterwards: the amendment history, or the refusal.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kdash.domain.access import Actor
from kdash.domain.errors import ValidationError
from kdash.domain.limits import INFUSION_READINGS, Reading
from kdash.domain.vocab import Role
from kdash.interchange.rows import ImportRefused
from kdash.services import clinical
from kdash.services.interchange import import_path
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import Amendment, Infusion

NOW = datetime(2026, 12, 6, 18, 0)
NURSE = Actor("nurse", Role.NURSE, "Nurse B. Demo")
PATIENTS = (
    "mrn,first_name,last_name,date_of_birth,sex,indication,provider\n"
    "T-1,Ada,Lovelace,1970-05-01,female,depression,Dr. Who\n"
)
COURSES = (
    "mrn,course,indication,trial_outcome,status,started_on\nT-1,1,depression,benefit,active,2026-12-01\n"
)
FIELDS = (
    "dose_mg_per_kg",
    "premed_given",
    "bp_pre_sys",
    "bp_pre_dia",
    "bp_peak_sys",
    "bp_peak_dia",
    "bp_discharge_sys",
    "bp_discharge_dia",
    "heart_rate",
    "spo2",
    "escort_confirmed",
    "discharged_at",
)
RECORDED: dict[str, str] = {
    "dose_mg_per_kg": "0.5",
    "premed_given": "yes",
    "bp_pre_sys": "128",
    "bp_pre_dia": "82",
    "bp_peak_sys": "140",
    "bp_peak_dia": "90",
    "bp_discharge_sys": "126",
    "bp_discharge_dia": "80",
    "heart_rate": "72",
    "spo2": "98",
    "escort_confirmed": "yes",
    "discharged_at": "2026-12-02T10:20",
}


def _database(path: Path) -> Database:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return Database(engine=engine)


def _infusions_csv(**changed: str) -> str:
    values = {**RECORDED, **changed}
    header = "mrn,course,number,scheduled_at,status," + ",".join(FIELDS)
    return f"{header}\nT-1,1,1,2026-12-02T09:00,completed," + ",".join(values[f] for f in FIELDS) + "\n"


def _import(db: Database, folder: Path, **changed: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {
        "patients": PATIENTS,
        "courses": COURSES,
        "infusions": _infusions_csv(**changed),
    }.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    import_path(db, folder, now=NOW)


def _recorded(db: Database) -> tuple[int, dict[str, Any]]:
    with db.read() as s:
        row = s.scalars(select(Infusion)).one()
        return row.id, {f: getattr(row, f) for f in clinical.INFUSION_RECORD_FIELDS}


def _amendments(db: Database) -> list[tuple[str, int, str, str | None, str | None]]:
    with db.read() as s:
        return [
            (a.entity, a.entity_id, a.field, a.old_value, a.new_value)
            for a in s.scalars(select(Amendment).order_by(Amendment.field))
        ]


@pytest.mark.parametrize(
    ("form", "cell"),
    [
        pytest.param({"premed_given": False}, {"premed_given": "no"}, id="boolean"),
        pytest.param({"dose_mg_per_kg": 0.75}, {"dose_mg_per_kg": "0.75"}, id="decimal"),
        pytest.param({"bp_pre_sys": 150}, {"bp_pre_sys": "150"}, id="whole-number"),
        pytest.param(
            {"discharged_at": datetime(2026, 12, 2, 10, 40)}, {"discharged_at": "2026-12-02T10:40"}, id="time"
        ),
    ],
)
def test_form_and_import_word_the_same_amendment_alike(
    tmp_path: Path, form: dict[str, Any], cell: dict[str, str]
) -> None:
    """The amendment history reads the same whichever door the change came in ("no", not "False")."""
    by_form, by_import = _database(tmp_path / "form.db"), _database(tmp_path / "import.db")
    _import(by_form, tmp_path / "a")
    _import(by_import, tmp_path / "b")
    iid, kept = _recorded(by_form)
    clinical.record_infusion(by_form, NURSE, iid, **{**kept, **form}, reason="corrected", now=NOW)
    _import(by_import, tmp_path / "b", **cell)
    assert _amendments(by_form) == _amendments(by_import) != []
    if "premed_given" in form:
        assert _amendments(by_form)[0][3:] == ("yes", "no")


def _edges(reading: Reading) -> list[tuple[float, bool]]:
    """Values on both sides of each limit: (value, plausible)."""
    step = 1 if reading.whole else 0.01
    low, high = reading.limit.low, reading.limit.high
    return [(low, True), (low - step, False), (high, True), (high + step, False)]


def _form_refusal(db: Database, field: str, value: float) -> str | None:
    iid, kept = _recorded(db)
    if field in ("bp_pre_dia", "bp_peak_dia", "bp_discharge_dia"):
        kept[field.replace("_dia", "_sys")] = 300  # keep the diastolic below its systolic
    if field.endswith("_sys"):
        kept[field.replace("_sys", "_dia")] = 20
    try:
        clinical.record_infusion(db, NURSE, iid, **{**kept, field: value}, reason="check", now=NOW)
    except ValidationError as exc:
        return next(p.message for p in exc.problems if p.field == field)
    return None


def _import_refusal(db: Database, folder: Path, field: str, value: float) -> str | None:
    changed = {field: f"{value:g}"}
    if field.endswith("_dia"):
        changed[field.replace("_dia", "_sys")] = "300"
    if field.endswith("_sys"):
        changed[field.replace("_sys", "_dia")] = "20"
    try:
        _import(db, folder, **changed)
    except ImportRefused as exc:
        return next(p.message for p in exc.problems if p.field == field)
    return None


@pytest.mark.parametrize("reading", INFUSION_READINGS, ids=lambda r: r.field)
def test_form_and_import_refuse_the_same_value_in_the_same_words(tmp_path: Path, reading: Reading) -> None:
    """On both sides of every limit, the form and the import agree, and so does the database."""
    db = _database(tmp_path / "k.db")
    _import(db, tmp_path / "in")
    for value, plausible in _edges(reading):
        by_form = _form_refusal(db, reading.field, value)
        by_import = _import_refusal(db, tmp_path / "in", reading.field, value)
        assert by_form == by_import, (value, by_form, by_import)
        assert (by_form is None) is plausible, (value, by_form)
        if not plausible:
            assert by_form is not None
            assert reading.limit.range_text() in by_form
            with pytest.raises(IntegrityError), db.write() as s:
                s.scalars(select(Infusion)).one().__setattr__(reading.field, value)
