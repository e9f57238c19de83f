"""The huddle from a real (SQLite) database: targeted loading and the ``python -m kdash huddle`` command."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from kdash.cli.main import main
from kdash.domain.vocab import SCREENING_ITEMS, ItemClass
from kdash.services.huddle import huddle_from_session as huddle_for_day
from kdash.storage.database import Database
from kdash.storage.models import (
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
    SuicideReview,
)
from kdash.storage.patient_records import load_contexts

DAY = date(2025, 3, 3)


def _patient(session: Any, mrn: str, **kw: Any) -> Patient:
    p = Patient(
        mrn=mrn,
        first_name="Test",
        last_name=mrn,
        date_of_birth=date(1980, 1, 1),
        sex="unknown",
        indication=kw.pop("indication", "depression"),
        provider="Dr Demo",
        status="active",
        **kw,
    )
    session.add(p)
    session.flush()
    return p


def _course(session: Any, p: Patient, outcome: str = "benefit", number: int = 1) -> Course:
    c = Course(
        patient_id=p.id, number=number, indication=p.indication, trial_outcome=outcome, status="active"
    )
    session.add(c)
    session.flush()
    return c


def _inf(session: Any, c: Course, number: int, when: datetime, status: str = "completed", **kw: Any) -> None:
    session.add(Infusion(course_id=c.id, number=number, scheduled_at=when, status=status, **kw))


def _cleared(session: Any, p: Patient, on: date) -> None:
    for code, (_, cls, _) in SCREENING_ITEMS.items():
        result = "yes" if cls is ItemClass.REQUIRED else "no"
        session.add(ScreeningItem(patient_id=p.id, item=code, result=result, recorded_on=on))
    session.add(
        ScreeningDecisionRow(patient_id=p.id, decision="cleared", decided_on=on, decided_by="Dr Demo")
    )


def _score(session: Any, p: Patient, instrument: str, score: int, on: date, item9: int | None = None) -> None:
    session.add(Assessment(patient_id=p.id, instrument=instrument, score=score, taken_on=on, item9=item9))


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


def seed(db: Database, extra_calm: int = 0) -> None:
    """Two patients booked on DAY with known flags, plus rows that must stay out of the huddle."""
    with db.write() as s:
        # T0001: cleared, infusion 3 today; BP crisis at infusion 2's peak; item 9 positive yesterday.
        p1 = _patient(s, "T0001")
        _cleared(s, p1, DAY - timedelta(days=30))
        c1 = _course(s, p1)
        _inf(s, c1, 1, at(DAY - timedelta(days=14), 9))
        _inf(
            s,
            c1,
            2,
            at(DAY - timedelta(days=7), 9),
            bp_pre_sys=130,
            bp_pre_dia=80,
            bp_peak_sys=186,
            bp_peak_dia=104,
        )
        _inf(s, c1, 3, at(DAY, 9), "scheduled", escort_confirmed=True, chair=1)
        _score(s, p1, "PHQ-9", 20, DAY - timedelta(days=14), 0)
        _score(s, p1, "PHQ-9", 10, DAY - timedelta(days=12), 0)
        _score(s, p1, "PHQ-9", 9, DAY - timedelta(days=1), 2)
        # T0002: nothing screened, the trial today, no escort confirmed, no score at all.
        p2 = _patient(s, "T0002", indication="crps")
        c2 = _course(s, p2, outcome="pending")
        _inf(s, c2, 1, at(DAY, 10), "scheduled", chair=2)
        # T0003: booked tomorrow only.
        p3 = _patient(s, "T0003")
        _cleared(s, p3, DAY - timedelta(days=30))
        _inf(s, _course(s, p3), 1, at(DAY + timedelta(days=1), 9), "scheduled")
        _score(s, p3, "PHQ-9", 27, DAY, 3)
        # T0004: deleted record booked today; T0005: today's infusion cancelled.
        p4 = _patient(s, "T0004", deleted_at=datetime(2025, 2, 1))
        _inf(s, _course(s, p4), 1, at(DAY, 11), "scheduled")
        p5 = _patient(s, "T0005")
        _inf(s, _course(s, p5, outcome="pending"), 1, at(DAY, 11), "cancelled")
        # Calm extra patients (for the query-count check).
        for n in range(extra_calm):
            p = _patient(s, f"X{n:04d}")
            _cleared(s, p, DAY - timedelta(days=30))
            c = _course(s, p)
            _inf(s, c, 1, at(DAY - timedelta(days=14), 9))
            _inf(s, c, 2, at(DAY, 12 + n % 4), "scheduled", escort_confirmed=True)
            _score(s, p, "PHQ-9", 20, DAY - timedelta(days=14), 0)
            _score(s, p, "PHQ-9", 8, DAY, 0)
    with db.write() as s:
        s.add(SuicideReview(patient_id=p3.id, reviewed_on=DAY, reviewed_by="Dr Demo", action="safety_plan"))


def flags_of(data: dict[str, Any]) -> dict[str, set[str]]:
    return {p["mrn"]: {f["code"] for f in p["flags"]} for p in data["patients"]}


def test_loads_only_the_days_patients(sqlite_db: Database) -> None:
    seed(sqlite_db)
    with sqlite_db.read() as session:
        contexts = load_contexts(session, DAY)
    assert [c.patient.mrn for c in contexts] == ["T0001", "T0002"]
    first = contexts[0]
    assert [i.number for i in first.courses[0].infusions] == [1, 2, 3]
    assert len(first.assessments) == 3
    assert len(first.screening_items) == len(SCREENING_ITEMS)


def _count_queries(db: Database) -> list[str]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.read() as session:
            huddle_for_day(session, DAY)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements


def test_a_fixed_handful_of_targeted_queries(sqlite_db: Database, tmp_path: Path) -> None:
    seed(sqlite_db, extra_calm=12)
    statements = _count_queries(sqlite_db)
    assert len(statements) <= 9  # settings, day's ids, then one per table
    per_patient_tables = [s for s in statements if "FROM assessment" in s or "FROM screening_item" in s]
    assert per_patient_tables
    assert all(" IN (" in s for s in per_patient_tables)


def test_query_count_does_not_grow_with_the_day(tmp_path: Path) -> None:
    from kdash.storage.database import make_engine
    from kdash.storage.migrate import upgrade

    counts = []
    for n, extra in enumerate((0, 20)):
        engine = make_engine(f"sqlite:///{tmp_path / f'k{n}.db'}")
        upgrade(engine)
        db = Database(engine=engine)
        seed(db, extra_calm=extra)
        counts.append(len(_count_queries(db)))
        engine.dispose()
    assert counts[0] == counts[1]


def test_cli_json_has_the_expected_flags(sqlite_db: Database, sqlite_url: str, tmp_path: Path) -> None:
    seed(sqlite_db)
    out = tmp_path / "huddle.json"
    assert main(["huddle", "--date", "2025-03-03", "--db", sqlite_url, "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["date"] == "2025-03-03"
    found = flags_of(data)
    assert set(found) == {"T0001", "T0002"}
    assert {"BP_CRISIS", "SUICIDE_RISK"} <= found["T0001"]
    assert "NOT_CLEARED" not in found["T0001"]
    assert {"NOT_CLEARED", "NO_ESCORT", "MISSING_BASELINE", "ASSESSMENT_DUE"} <= found["T0002"]
    p1 = next(p for p in data["patients"] if p["mrn"] == "T0001")
    assert p1["ready"] is False
    assert p1["infusion_number"] == 3
    assert p1["scores"]["PHQ-9"] == {
        "baseline": 20,
        "latest": 9,
        "change_points": -11,
        "change_pct": -55.0,
        "band": "mild",
        "response": True,
        "remission": False,
    }
    crisis = next(f for f in p1["flags"] if f["code"] == "BP_CRISIS")
    assert crisis["severity"] == "urgent"
    assert "BP 186/104" in crisis["message"]
    assert data["summary"]["infusions"] == 2
    assert data["summary"]["flag_counts"]["NOT_CLEARED"] == 1


def test_cli_csv_to_stdout(sqlite_db: Database, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(sqlite_db)
    assert main(["huddle", "--date", "2025-03-03", "--db", sqlite_url, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["mrn"] for r in rows] == ["T0001", "T0002"]  # two urgent flags before one
    by_mrn = {r["mrn"]: r for r in rows}
    assert "BP_CRISIS" in by_mrn["T0001"]["flags"].split(";")
    assert by_mrn["T0002"]["ready"] == "no"
    assert by_mrn["T0001"]["PHQ-9 latest"] == "9"


def test_cli_empty_day(sqlite_db: Database, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(sqlite_db)
    assert main(["huddle", "--date", "2025-03-09", "--db", sqlite_url]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["patients"] == []
    assert data["summary"]["infusions"] == 0


@pytest.mark.parametrize("bad", ["2025-13-01", "03/03/2025", "tomorrow"])
def test_cli_bad_date_is_a_clear_error(
    sqlite_db: Database, sqlite_url: str, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["huddle", "--date", bad, "--db", sqlite_url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --date must be a calendar date as YYYY-MM-DD")
    assert "Traceback" not in err


def test_cli_missing_database_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope" / "kdash.db"
    assert main(["huddle", "--date", "2025-03-03", "--db", f"sqlite:///{missing}"]) == 2
    assert "no database file" in capsys.readouterr().err
    assert not missing.exists()


def test_cli_unwritable_out(
    sqlite_db: Database, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no-such-folder" / "h.json"
    assert main(["huddle", "--date", "2025-03-03", "--db", sqlite_url, "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_bad_format_is_refused(sqlite_url: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["huddle", "--date", "2025-03-03", "--db", sqlite_url, "--format", "xml"])
    assert exit_.value.code == 2


def test_python_dash_m_entry_point(sqlite_db: Database, sqlite_url: str) -> None:
    seed(sqlite_db)
    done = subprocess.run(
        [sys.executable, "-m", "kdash", "huddle", "--date", "2025-03-03", "--db", sqlite_url],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert set(flags_of(json.loads(done.stdout))) == {"T0001", "T0002"}


def test_cli_csv_neutralises_a_formula_in_a_name(
    sqlite_db: Database, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name a spreadsheet would run as a formula is written as text, as by every kdash CSV writer."""
    seed(sqlite_db)
    with sqlite_db.write() as s:
        s.query(Patient).filter(Patient.mrn == "T0001").update(
            {Patient.first_name: '=HYPERLINK("http://x.example","open")', Patient.last_name: "+1"}
        )
    assert main(["huddle", "--date", "2025-03-03", "--db", sqlite_url, "--format", "csv"]) == 0
    rows = {r["mrn"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["T0001"]["name"].startswith("'")
    assert rows["T0001"]["name"].startswith(("'=HYPERLINK", "'+1"))


def test_every_huddle_view_is_audited_with_the_days_patients(sqlite_db: Database, sqlite_url: str) -> None:
    """Who looked at which day's patients: the command line's view is an audit event like the page's."""
    from sqlalchemy import select

    from kdash.storage.models import AuditEvent

    seed(sqlite_db)
    assert main(["huddle", "--date", "2025-03-03", "--db", sqlite_url, "--format", "csv"]) == 0
    with sqlite_db.read() as s:
        [event_] = s.scalars(select(AuditEvent).where(AuditEvent.action == "view_huddle")).all()
        ids = sorted(s.scalars(select(Patient.id).where(Patient.mrn.in_(["T0001", "T0002"]))))
    after = json.loads(event_.after_json or "{}")
    assert (event_.username, after["day"], sorted(after["patients"])) == ("system", "2025-03-03", ids)
