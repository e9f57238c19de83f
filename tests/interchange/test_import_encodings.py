"""Text encodings, escapes and the structure of CSV files: read right, or refused in words.

UTF-8 with or without a byte order mark is always read; a legacy encoding only where the clinic names it
(the ``import_legacy_encoding`` setting or ``--encoding``), and a file that does not read as that
encoding either (KOI8-R Cyrillic under Windows-1252) is refused instead of stored as garbled names.
Messages show control characters as escapes and never repeat a patient's values in a complaint about the
file's structure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kdash.cli.main import main
from kdash.domain.errors import ValidationError
from kdash.interchange.csv.reader import MAX_CELL_CHARS, read_folder
from kdash.interchange.rows import ImportRefused
from kdash.services.interchange import import_path
from kdash.services.settings_admin import legacy_encoding
from kdash.storage.database import Database
from kdash.storage.models import Patient
from kdash.storage.policy_repo import save_setting
from tests.interchange_support import snapshot

HEADER = "mrn,first_name,last_name,date_of_birth,sex,indication,provider,status\n"
LATIN = HEADER + "E-1,José,Müller,1970-05-01,female,depression,Dr. Zoë Ångström,active\n"
CYRILLIC = HEADER + "E-2,Иван,Петров,1965-02-03,male,crps,Dr. Who,active\n"


def _folder(tmp_path: Path, data: bytes, name: str = "patients.csv") -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


def _names(db: Database) -> list[tuple[str, str, str]]:
    with db.read() as s:
        return [
            (p.first_name, p.last_name, p.provider) for p in s.scalars(select(Patient).order_by(Patient.mrn))
        ]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8-bom"])
def test_utf8_with_or_without_bom_is_read_exactly(sqlite_db: Database, tmp_path: Path, bom: bytes) -> None:
    import_path(sqlite_db, _folder(tmp_path, bom + LATIN.encode("utf-8")))
    assert _names(sqlite_db) == [("José", "Müller", "Dr. Zoë Ångström")]


def test_a_legacy_file_is_refused_unless_the_clinic_names_its_encoding(
    sqlite_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, LATIN.encode("cp1252"))
    assert main(["import", str(folder), "--db", sqlite_db.url]) == 2
    assert "patients.csv:2: is not UTF-8 text; save the file as CSV UTF-8" in capsys.readouterr().err
    assert _names(sqlite_db) == []
    assert main(["import", str(folder), "--db", sqlite_db.url, "--encoding", "windows-1252"]) == 0
    assert _names(sqlite_db) == [("José", "Müller", "Dr. Zoë Ångström")]


def test_the_clinic_setting_names_the_legacy_encoding(sqlite_db: Database, tmp_path: Path) -> None:
    from datetime import datetime

    with sqlite_db.write() as s:
        save_setting(s, "import_legacy_encoding", "cp1252", "admin", datetime(2026, 12, 1))
    import_path(sqlite_db, _folder(tmp_path, LATIN.encode("cp1252")))
    assert _names(sqlite_db) == [("José", "Müller", "Dr. Zoë Ångström")]


def test_koi8r_under_a_western_legacy_encoding_is_refused_not_garbled(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(db)
    folder = _folder(tmp_path, CYRILLIC.encode("koi8_r"))
    assert main(["import", str(folder), "--db", db.url, "--encoding", "cp1252"]) == 2
    err = capsys.readouterr().err
    assert "patients.csv: is neither UTF-8 text nor readable as cp1252" in err
    assert "é×ÁÎ" not in err
    assert snapshot(db) == before
    # The same bytes, named rightly, are read rightly.
    assert main(["import", str(folder), "--db", db.url, "--encoding", "koi8-r"]) == 0
    assert _names(db) == [("Иван", "Петров", "Dr. Who")]


@pytest.mark.parametrize("name", ["utf-16", "base64", "rot13", "no-such-codec", "utf-8"])
def test_only_a_legacy_text_encoding_can_be_named(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        legacy_encoding(name)
    assert main(["import", str(tmp_path), "--encoding", name]) == 2


def test_legacy_encoding_names_are_stored_as_python_codec_names() -> None:
    assert legacy_encoding(" Windows-1252 ") == "cp1252"
    assert legacy_encoding("latin-1") == "iso8859-1"
    assert legacy_encoding("") == ""


def _problems(tmp_path: Path, text: str) -> list[str]:
    parsed = read_folder(_folder(tmp_path, text.encode("utf-8")), None)
    return [str(p) for p in parsed.problems]


def test_a_file_without_its_header_row_does_not_echo_the_first_patient(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "E-1,Maren,Okafor,1979-03-14,female,depression,Dr. Alvarez,active\n")
    assert len(problems) == 1
    assert problems[0].startswith("patients.csv:1: names none of the columns of patients.csv")
    for value in ("E-1", "Maren", "Okafor", "1979-03-14", "Alvarez"):
        assert value not in problems[0]


def test_escapes_in_a_file_are_shown_as_escapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problems = _problems(tmp_path, HEADER.rstrip("\n") + ",\x1b[2J\u202egnp\n")
    assert problems == [
        "patients.csv:1: unknown column(s): \\x1b[2J\\u202egnp; patients.csv has the columns mrn, "
        "first_name, last_name, date_of_birth, sex, indication, provider, status, escort_name, escort_phone"
    ]
    folder = tmp_path / "in"
    assert main(["import", str(folder), "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\u202e" not in err
    assert "\\x1b[2J" in err


def test_an_escape_in_a_code_cell_is_shown_as_an_escape(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path, HEADER + "E-1,Ada,Lovelace,1970-05-01,\x1b[2Jfemale,depression,Dr. Who,active\n"
    )
    assert problems[0].startswith("patients.csv:2: sex: '\\x1b[2Jfemale' is not a known")
    assert "\x1b" not in "".join(problems)


def test_a_short_row_is_reported_with_its_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, HEADER + "E-1,Ada,Lovelace\n" + LATIN.splitlines()[1] + "\n")
    assert problems == ["patients.csv:2: has 3 cells but the header names 8 columns"]


def test_a_doubled_column_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, HEADER.rstrip("\n") + ",mrn\n" + LATIN.splitlines()[1] + ",E-9\n")
    assert problems == ["patients.csv:1: column(s) named twice: mrn"]


def test_a_too_long_cell_is_refused_before_the_row_is_parsed(tmp_path: Path) -> None:
    long_name = "A" * (MAX_CELL_CHARS + 1)
    # The birth date is wrong too: a row with an over-long cell is not parsed at all, so only the
    # length is reported.
    problems = _problems(
        tmp_path, HEADER + f"E-1,{long_name},Lovelace,not-a-date,female,depression,Dr. Who,active\n"
    )
    assert problems == [f"patients.csv:2: first_name: is longer than {MAX_CELL_CHARS} characters"]
    exactly = "A" * MAX_CELL_CHARS
    problems = _problems(
        tmp_path, HEADER + f"E-1,{exactly},Lovelace,not-a-date,female,depression,Dr. Who,active\n"
    )
    assert not any("longer than" in p for p in problems)


def test_a_refused_import_names_no_patient_value_in_its_summary(db: Database, tmp_path: Path) -> None:
    folder = _folder(tmp_path, (b"E-7,Secret,Name,1970-05-01,female,depression,Dr. Who,active\n"))
    with pytest.raises(ImportRefused) as info:
        import_path(db, folder)
    said = " ".join(str(p) for p in info.value.problems) + str(info.value)
    assert "Secret" not in said
    assert "E-7" not in said
