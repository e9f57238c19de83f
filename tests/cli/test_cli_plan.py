"""``python -m kdash plan``: text and JSON output, exit status, and clear errors on bad input."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from kdash.cli.main import main
from kdash.domain.vocab import TrialOutcome
from kdash.storage.database import Database
from tests.seeded import add_patient


@pytest.fixture
def url(sqlite_url: str, sqlite_db: Database) -> str:
    add_patient(sqlite_db, "SYN-CLI", trial_at=datetime(2026, 11, 23, 9))
    add_patient(
        sqlite_db,
        "SYN-NOB",
        trial_at=datetime(2026, 11, 23, 9),
        outcome=TrialOutcome.NO_BENEFIT,
        trial_chair=2,
    )
    return sqlite_url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_output_has_the_documented_fields(url, capsys):
    code, out, _ = run(
        capsys, "--mrn", "SYN-CLI", "--start", "2026-11-30", "--cadence", "mon,wed,fri",
        "--sessions", "3", "--cover-until", "2027-02-01", "--format", "json", "--db", url,
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert list(data) == [
        "mrn", "allowed", "reasons", "slots", "course_end", "benefit_until", "covers_target", "warnings",
    ]  # fmt: skip
    assert data["mrn"] == "SYN-CLI"
    assert data["allowed"] is True
    assert [s["start"] for s in data["slots"]] == [
        "2026-11-30T08:00:00", "2026-12-02T08:00:00", "2026-12-04T08:00:00",
    ]  # fmt: skip
    assert data["course_end"] == "2026-12-04"
    assert data["benefit_until"] == "2027-02-26"
    assert data["covers_target"] is True


def test_text_output_lists_the_slots(url, capsys):
    code, out, _ = run(
        capsys, "--mrn", "SYN-CLI", "--start", "2026-11-30", "--cadence", "induction", "--db", url
    )
    assert code == 0
    assert "#2  Mon 2026-11-30 08:00-10:00 chair 1" in out
    assert "#6  " in out


def test_a_refused_plan_exits_3_and_says_why(url, capsys):
    code, out, _ = run(
        capsys,
        "--mrn",
        "SYN-NOB",
        "--start",
        "2026-11-30",
        "--cadence",
        "weekly",
        "--format",
        "json",
        "--db",
        url,
    )
    assert code == 3
    data = json.loads(out)
    assert data["allowed"] is False
    assert data["slots"] == []
    assert "no benefit" in data["reasons"][0]


def test_an_unknown_mrn_is_a_clear_error_without_echoing_it(url, capsys):
    code, out, err = run(
        capsys, "--mrn", "SYN-NONE", "--start", "2026-11-30", "--cadence", "weekly", "--db", url
    )
    assert code == 2
    assert out == ""
    assert "No patient with that MRN" in err
    assert "SYN-NONE" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "30/11/2026", "--cadence", "weekly"], "is not a date: use YYYY-MM-DD"),
        (["--start", "2026-11-30", "--cadence", "fortnightly"], "use one of induction, twice-weekly"),
        (["--start", "2026-11-30", "--cadence", "weekly", "--sessions", "0"], "whole number >= 1"),
        (["--start", "2026-11-30", "--cadence", "weekly", "--format", "xml"], "invalid choice"),
        (["--cadence", "weekly"], "--start"),
    ],
)
def test_bad_input_exits_2_with_the_reason(url, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(["plan", "--mrn", "SYN-CLI", *args, "--db", url])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_database_without_the_schema_is_a_clear_error(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "--mrn",
        "X",
        "--start",
        "2026-11-30",
        "--cadence",
        "weekly",
        "--db",
        f"sqlite:///{tmp_path / 'e.db'}",
    )
    assert code == 2
    assert "db upgrade" in err
