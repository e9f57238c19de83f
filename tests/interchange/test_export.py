"""CSV export: the importer's own files, formula cells neutralised, deleted records left out, and an
export imported into an empty database gives the same records."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kdash.cli.main import main
from kdash.interchange.csv.writer import tables
from kdash.services.interchange import export_csv, import_path
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import (
    Assessment,
    AuditEvent,
    Patient,
)
from tests.interchange_support import EXAMPLE, hostile_clinic, snapshot

NOW = datetime(2026, 12, 6, 18, 0)
#: An archive read back once every demo booking is past: every infusion is then a record of what
#: happened. A booking still ahead is booked afresh, under the booking rules
#: (docs/clinical-decisions.md, "Imported infusions"); a clinic moving its database restores a backup.
AFTER_THE_LAST_BOOKING = datetime(2027, 12, 1, 18, 0)


def test_export_then_import_into_empty_database_gives_same_records(db: Database, tmp_path: Path) -> None:
    import_path(db, hostile_clinic(tmp_path), now=NOW)
    out = tmp_path / "out"
    counts = export_csv(db, out, now=NOW)
    assert counts["patients.csv"] == 11
    engine = make_engine(f"sqlite:///{tmp_path / 'second.db'}")
    upgrade(engine)
    second = Database(engine=engine)
    summary = import_path(second, out, now=NOW)
    assert all(c.updated == 0 and c.unchanged == 0 for c in summary.counts.values())
    assert snapshot(second) == snapshot(db)
    # And exporting the copy writes the same files byte for byte.
    export_csv(second, tmp_path / "again", now=NOW)
    for name in counts:
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()
    engine.dispose()


def test_formula_cells_are_neutralised_and_read_back(sqlite_db: Database, tmp_path: Path) -> None:
    import_path(sqlite_db, hostile_clinic(tmp_path), now=NOW)
    out = tmp_path / "out"
    export_csv(sqlite_db, out, now=NOW)
    with (out / "patients.csv").open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["mrn"] == "X-1")
    assert row["first_name"] == '\'=HYPERLINK("http://evil")'
    assert row["last_name"] == "'+1-555"
    assert row["provider"] == "'@Dr"
    assert row["escort_name"] == "'\tTab"
    assert row["escort_phone"] == "'-0100"
    with (out / "patients.csv").open(encoding="utf-8", newline="") as handle:
        other = next(r for r in csv.DictReader(handle) if r["mrn"] == "X-2")
    assert other["escort_name"] == "'=already quoted"  # imported as "=already quoted", escaped once
    assert other["escort_phone"] == "'plain"
    assert other["last_name"] == "<b>O'Brien</b>"
    with (out / "assessments.csv").open(encoding="utf-8", newline="") as handle:
        assert any(r["recorded_by"] == "'-nurse" for r in csv.DictReader(handle))


def test_soft_deleted_records_are_left_out(sqlite_db: Database, tmp_path: Path) -> None:
    import_path(sqlite_db, EXAMPLE, now=NOW)
    with sqlite_db.write() as s:
        s.execute(
            update(Patient).where(Patient.mrn == "KD-1001").values(deleted_at=NOW, deleted_reason="test")
        )
        gone = s.scalars(select(Assessment).join(Patient).where(Patient.mrn == "KD-1002")).first()
        assert gone is not None
        gone.deleted_at = NOW
    with sqlite_db.read() as s:
        data = tables(s)
    for name, rows in data.items():
        assert all(r["mrn"] != "KD-1001" for r in rows), name
    assert len(data["assessments.csv"]) == 25 - 3 - 1
    assert len(data["patients.csv"]) == 8


def test_export_is_audited_and_cli_writes_files(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(EXAMPLE), "--db", sqlite_url]) == 0
    assert main(["export", "--format", "csv", str(tmp_path / "out"), "--db", sqlite_url]) == 0
    assert "infusions.csv: 38 written" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["patients.csv", "screenings.csv", "courses.csv", "infusions.csv", "assessments.csv"]
    )
    engine = make_engine(sqlite_url)
    with Database(engine=engine).read() as s:
        assert s.scalar(select(AuditEvent.after_json).where(AuditEvent.action == "export")) is not None
    engine.dispose()


def test_demo_clinic_round_trips_through_csv(db: Database, tmp_path: Path) -> None:
    from kdash.demo.clinic import generate, load

    load(db, generate(30, 11, date(2026, 12, 7)))
    counts = export_csv(db, tmp_path / "out", now=NOW)
    assert counts["infusions.csv"] > 100
    engine = make_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    upgrade(engine)
    copy = Database(engine=engine)
    import_path(copy, tmp_path / "out", now=AFTER_THE_LAST_BOOKING)
    assert snapshot(copy) == snapshot(db)
    engine.dispose()
