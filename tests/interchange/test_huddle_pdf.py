"""The printed huddle sheet: not blank, every patient's flags in words, twelve patients a page, names
printed as text, and a Latin-1 fallback when the DejaVu font is missing."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from PIL import Image

from kdash.cli.main import main
from kdash.interchange.pdf.huddle_sheet import FLAG_WORDS, PATIENTS_PER_PAGE, SEVERITY_WORDS, huddle_pdf
from kdash.rules.course import course_progress
from kdash.rules.huddle import Huddle
from kdash.services.huddle import huddle_from_session as huddle_for_day
from kdash.services.interchange import import_path
from kdash.storage.database import Database
from kdash.ui.presentation import flag_label
from tests.interchange_support import EXAMPLE

DAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 6, 18, 0)


@pytest.fixture
def huddle(sqlite_db: Database) -> Huddle:
    import_path(sqlite_db, EXAMPLE, now=NOW)
    with sqlite_db.read() as s:
        return huddle_for_day(s, DAY)


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True)
    return out.stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def test_sheet_renders_and_lists_every_patients_flags(huddle: Huddle, tmp_path: Path) -> None:
    pdf = tmp_path / "huddle.pdf"
    pdf.write_bytes(huddle_pdf(huddle, clinic_name="Example clinic"))
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    with Image.open(pages[0]) as image:
        grey = image.convert("L")
        dark = sum(1 for value in grey.get_flattened_data() if value < 128)
        assert dark > 0.01 * grey.width * grey.height  # text and grid, not a blank page
    text = flat(pdf_text(pdf))
    assert "Example clinic: Huddle — Monday 07 December 2026" in text
    assert len(huddle.entries) == 9
    for entry in huddle.entries:
        assert entry.patient.name in text
        assert flat(course_progress(entry.course)) in text
        for flag in entry.flags:
            assert f"{SEVERITY_WORDS[flag.severity]}: {FLAG_WORDS[flag.code]}" in text
    assert "Suicide risk" in text
    assert "NOT confirmed" in text  # the patient without an escort


def test_sheet_has_chairs_a_check_box_a_printed_time_and_the_screens_flag_words(
    huddle: Huddle, tmp_path: Path
) -> None:
    pdf = tmp_path / "huddle.pdf"
    pdf.write_bytes(huddle_pdf(huddle, printed_at=datetime(2026, 12, 7, 7, 42)))
    text = flat(pdf_text(pdf))
    assert "printed 2026-12-07 07:42" in text
    for heading in ("Done", "Time,", "chair", "Patient, escort", "Course", "Ready", "Flags", "Last scores"):
        assert heading in text
    assert text.count("\u2610") == len(huddle.entries)  # one box to tick per patient
    chaired = [e for e in huddle.entries if e.infusion.chair is not None]
    assert chaired
    for entry in chaired:
        assert f"{entry.scheduled_at:%H:%M} {entry.patient.name}" in text
        assert f"chair {entry.infusion.chair} {entry.patient.mrn}" in text
    for entry in huddle.entries:
        for flag in entry.flags:
            assert flag_label(flag.code) in text  # the words the huddle page shows
    assert "_" not in text.replace("______", "")  # no flag code


def test_twelve_patients_a_page(huddle: Huddle, tmp_path: Path) -> None:
    many = dataclasses.replace(huddle, entries=huddle.entries * 3)  # 27 rows
    pdf = tmp_path / "many.pdf"
    pdf.write_bytes(huddle_pdf(many))
    text = pdf_text(pdf)
    assert text.count("\f") == 3  # one form feed per page
    assert "page 3 of 3" in flat(text)
    assert PATIENTS_PER_PAGE == 12


def test_names_are_text_and_fallback_font_replaces_other_characters(huddle: Huddle, tmp_path: Path) -> None:
    first = huddle.entries[0]
    odd = dataclasses.replace(first.patient, first_name="Zoë Łucja", last_name="<i>O'B</i>")
    one = dataclasses.replace(huddle, entries=(dataclasses.replace(first, patient=odd),))
    pdf = tmp_path / "dejavu.pdf"
    pdf.write_bytes(huddle_pdf(one))
    assert "<i>O'B</i>, Zoë Łucja" in flat(pdf_text(pdf))
    fallback = tmp_path / "helvetica.pdf"
    fallback.write_bytes(huddle_pdf(one, font=tmp_path / "missing.ttf", bold_font=tmp_path / "missing.ttf"))
    assert "<i>O'B</i>, Zoë ?ucja" in flat(pdf_text(fallback))


def test_cli_writes_the_sheet(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(EXAMPLE), "--db", sqlite_url]) == 0
    out = tmp_path / "sheet.pdf"
    assert (
        main(["huddle", "--date", DAY.isoformat(), "--format", "pdf", "--out", str(out), "--db", sqlite_url])
        == 0
    )
    assert "Blood pressure crisis" in flat(pdf_text(out))
    assert main(["huddle", "--date", DAY.isoformat(), "--format", "pdf", "--db", sqlite_url]) == 2
    assert "--format pdf writes a file" in capsys.readouterr().err
