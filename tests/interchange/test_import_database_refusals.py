"""What only the database could refuse reaches the user as a located message, never as a traceback.

Found by generated input on PostgreSQL: a NUL byte in a patient's MRN went into the look-up query and
PostgreSQL's driver raised; a NUL after the minutes of a date and time was read as that time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from kdash.cli.main import main
from kdash.services.refusals import database_refusal
from kdash.storage.database import Database
from tests.interchange_support import EXAMPLE, snapshot


def _clinic(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE, folder)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "mrn",
    ["KD-10\x0001", "KD-1\u041e\u041e1", "\uff2b\uff24-1001", "KD-1001\x1b[2J"],
    ids=["nul", "cyrillic", "fullwidth", "escape"],
)
def test_hostile_mrn_of_a_patient_is_refused_in_words(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], mrn: str
) -> None:
    before = snapshot(db)
    folder = _clinic(tmp_path, "patients.csv", "KD-1001,", f"{mrn},")
    assert main(["import", str(folder), "--db", db.url]) == 2
    err = capsys.readouterr().err
    assert "patients.csv:2: mrn: is not a valid MRN" in err
    assert "Traceback" not in err
    assert "DataError" not in err
    assert "\x00" not in err
    assert "\x1b" not in err
    assert snapshot(db) == before


@pytest.mark.parametrize("column_value", ["2026-11-30T09:00\x00", "2026-11-30T11:05\x00"])
def test_nul_inside_an_infusion_time_is_refused(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], column_value: str
) -> None:
    before = snapshot(db)
    folder = _clinic(tmp_path, "infusions.csv", column_value.rstrip("\x00"), column_value)
    assert main(["import", str(folder), "--db", db.url]) == 2
    err = capsys.readouterr().err
    assert "infusions.csv:2: " in err
    assert "is not a date and time" in err
    assert snapshot(db) == before


class _Orig(Exception):
    def __init__(self, text: str, constraint: str | None = None) -> None:
        super().__init__(text)
        self.diag = type("Diag", (), {"constraint_name": constraint})()


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (
            IntegrityError("INSERT …", {}, _Orig("DETAIL: Key (mrn)=(KD-1001)", "ex_infusion_chair_overlap")),
            "a chair was taken",
        ),
        (IntegrityError("INSERT …", {}, _Orig("duplicate key value (mrn)=(KD-1001)")), "a record conflicts"),
        (
            DataError("SELECT …", {}, _Orig("PostgreSQL text fields cannot contain NUL (0x00) bytes")),
            "a value cannot be stored",
        ),
        (OperationalError("SELECT …", {}, _Orig("database is locked")), "could not complete"),
    ],
)
def test_a_database_refusal_is_said_without_statement_or_values(exc: Exception, words: str) -> None:
    said = database_refusal(exc)
    assert words in said
    assert said.endswith("nothing was written")
    assert "KD-1001" not in said
    assert "SELECT" not in said
    assert "INSERT" not in said
