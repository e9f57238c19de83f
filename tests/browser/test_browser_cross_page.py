"""Across pages in Chromium: one patient's course progress reads the same everywhere, the roster speaks
in flag words, and the Data page's export zip goes back in and says honestly that nothing changed.

The roster is an ``st.dataframe``, drawn on a canvas; its cells are read from the grid's accessible
table (``role="gridcell"``), which holds the same words the canvas paints.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import browser, clinic_server, login, page, screenshot, wait_idle

__all__ = ["browser", "clinic_server", "page"]  # fixtures used by name

pytestmark = pytest.mark.browser

#: Ashford, Sam (D0001) in the test clinic: infusions 1–3 given, the fourth booked today.
NAME = "Ashford, Sam"
PROGRESS = "3 done · 1 booked · of 10"
#: A flag code as exports write it (``NO_ESCORT``, ``SUICIDE_RISK``): never on a clinical screen.
FLAG_CODE = re.compile(r"\b[A-Z]{2,}(?:_[A-Z0-9]+)+\b")


def _grid_row(pg: Any, text: str) -> Any:
    """The roster or courses table's row holding ``text`` (the grid's accessible rows, not the canvas)."""
    return pg.locator('[data-testid="stDataFrame"] [role="row"]').filter(has_text=text)


def _nav(pg: Any, link: str, expect_text: str) -> None:
    pg.get_by_role("link", name=link).click()
    wait_idle(pg, expect_text)


def test_one_patients_course_progress_reads_the_same_on_every_page(clinic_server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    server, seeded = clinic_server
    login(page, server.url, "provider", seeded["logins"]["provider"])

    # Huddle (the first page): the card's first line.
    wait_idle(page, "most urgent first, then by chair time")
    card = (
        page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=NAME).filter(has_text="course 1:")
    )
    expect(card.first).to_contain_text(f"course 1: {PROGRESS}")
    screenshot(page, "progress-1-huddle")

    # Roster: the Progress cell of the same patient.
    _nav(page, "Roster", "Open a patient from this page")
    expect(_grid_row(page, NAME)).to_contain_text(PROGRESS)
    screenshot(page, "progress-2-roster")

    # Courses: the same words in the table.
    _nav(page, "Courses", "Active courses")
    expect(_grid_row(page, NAME)).to_contain_text(PROGRESS)
    screenshot(page, "progress-3-courses")

    # Patient page, opened by its address: the header says it the same way.
    page.goto(f"{server.url}/patient?mrn=D0001")
    wait_idle(page, "Escort home:")
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    expect(page.get_by_text(PROGRESS).first).to_be_visible()
    screenshot(page, "progress-4-patient")


def test_roster_shows_flag_words_not_codes(clinic_server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    server, seeded = clinic_server
    login(page, server.url, "nurse", seeded["logins"]["nurse"])
    _nav(page, "Roster", "Open a patient from this page")
    expect(_grid_row(page, "Ellery, Sam")).to_contain_text("Suicide risk")
    cells = page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_inner_texts()
    # The grid holds the cells of the columns on screen (MRN, name, flags, progress at least).
    assert len(cells) >= 6 * 4, f"the roster's cells were not readable: {cells}"
    expect(_grid_row(page, "Brook, Sam")).to_contain_text("Final session of the course")
    codes = sorted({code for cell in cells for code in FLAG_CODE.findall(cell)})
    assert not codes, f"the roster shows flag codes instead of words: {codes}"
    screenshot(page, "roster-flag-words")


def test_the_export_zip_imports_back_and_says_nothing_changed(
    clinic_server: Any, page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server, seeded = clinic_server
    login(page, server.url, "provider", seeded["logins"]["provider"])
    _nav(page, "Import / export", "Choose the files to import")

    # Export the clinic as the zip of CSV files, and save the download.
    page.get_by_role("button", name="Prepare export").click()
    wait_idle(page, "Download kdash-export.zip")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download kdash-export.zip").click()
    archive = tmp_path / "kdash-export.zip"
    download.value.save_as(archive)
    assert archive.stat().st_size > 0

    # Upload the same zip: the check and the import both say that nothing changed.
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(archive))
    page.get_by_role("button", name="Check files").wait_for(state="visible")
    wait_idle(page)
    page.get_by_role("button", name="Check files").click()
    wait_idle(page, "Checked: ready to import")
    expect(
        page.get_by_text("Nothing changed: every record in the files is already stored exactly so.")
    ).to_be_visible()
    page.get_by_role("button", name="Import", exact=True).click()
    wait_idle(page, "Imported")
    expect(
        page.get_by_text("Nothing changed: every record in the files is already stored exactly so.")
    ).to_be_visible()
    expect(page.get_by_text("patients.csv: 0 created, 0 updated, 6 unchanged")).to_be_visible()
    expect(page.get_by_text("These records were written")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text("nothing was written", exact=False)).to_have_count(0)
    screenshot(page, "export-zip-reimported")
