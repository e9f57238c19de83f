"""The planner journey in a real browser: sign in, plan two scenarios, compare, book one, open the patient.

Reuses the server, browser and page fixtures of ``tests/browser_support.py`` (``streamlit run app.py`` on
a free port, Debian's Chromium through Playwright) on a database of its own: the demo logins and one
cleared patient whose trial showed benefit. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kdash.demo.first_run import create_demo_users
from kdash.domain.vocab import InfusionStatus
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import Infusion, Patient
from tests.browser_support import (
    browser,
    login,
    page,
    screenshot,
    start_server,
    stop_server,
    wait_idle,
)
from tests.seeded import add_patient

__all__ = ["browser", "page"]  # fixtures used by name

pytestmark = pytest.mark.browser

MRN = "SYN-0001"
#: The test patient's display name as add_patient writes it ("last, first").
NAME = f"Patient {MRN}, Test"
#: MRN -> last name of the patients of the wrong-patient journey.
OTHERS = {"SYN-0002": "Fictivo", "SYN-0003": "Fictivo-Lane", "SYN-0004": "Notreal"}


@dataclass(frozen=True)
class Planned:
    url: str
    db: Database
    course_id: int
    password: str
    courses: dict[str, int]


@pytest.fixture(scope="module")
def planner_server() -> Iterator[Planned]:
    """A running app on a SQLite file: the demo logins and one patient ready for the rest of a course."""
    workdir = Path(tempfile.mkdtemp(prefix="kdash-planner-"))
    db_url = f"sqlite:///{workdir / 'kdash.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    db = Database(engine=engine)
    logins = {u: p for u, _, p in create_demo_users(db, demo=False)}
    trial = datetime.combine(date.today() - timedelta(days=3), datetime.min.time()).replace(hour=9)
    _, course_id = add_patient(db, MRN, trial_at=trial, screened_on=date.today() - timedelta(days=30))
    # Two patients a search for "fictivo" finds, and one it does not; each with a trial that showed benefit.
    courses: dict[str, int] = {}
    for chair, (mrn, last) in enumerate(OTHERS.items(), start=2):
        patient_id, courses[mrn] = add_patient(
            db, mrn, trial_at=trial, screened_on=date.today() - timedelta(days=30), trial_chair=chair
        )
        with db.write() as s:
            s.get_one(Patient, patient_id).last_name = last
    server = start_server(db_url, workdir)
    try:
        yield Planned(server.url, db, course_id, logins["scheduler"], courses)
    finally:
        stop_server(server)
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def _scheduled(db: Database, course_id: int) -> list[tuple[int, datetime]]:
    with db.read() as s:
        rows = s.execute(
            select(Infusion.number, Infusion.scheduled_at)
            .where(Infusion.course_id == course_id, Infusion.status == InfusionStatus.SCHEDULED.value)
            .order_by(Infusion.number)
        )
        return [(r[0], r[1]) for r in rows]


def test_plan_two_scenarios_compare_book_one_and_see_it_on_the_patient(
    planner_server: Planned,
    page: object,
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    login(page, planner_server.url, "scheduler", planner_server.password)
    page.get_by_role("link", name="What-if planner").click()
    wait_idle(page, "Find a patient by MRN or name")

    search = page.get_by_role("textbox", name="Find a patient by MRN or name", exact=True)
    search.fill(MRN)
    search.press("Enter")
    wait_idle(page, "Course 1 · active")

    # Scenario A: the rest of the induction (five infusions after the trial).
    page.get_by_role("button", name="Add to comparison").click()
    wait_idle(page, "Compare scenarios (1 of 3)")

    # Scenario B: weekly, three infusions. Streamlit's selectbox is a React Aria combo box: the arrow
    # key opens its options.
    cadence = page.locator('[data-testid="stSelectbox"]').filter(has_text="Cadence").get_by_role("combobox")
    cadence.click()
    cadence.press("ArrowDown")
    page.get_by_role("option", name="weekly", exact=True).click()
    wait_idle(page)
    sessions = page.get_by_role("spinbutton", name="Sessions")
    sessions.fill("3")
    sessions.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Add to comparison").click()
    wait_idle(page, "Compare scenarios (2 of 3)")
    screenshot(page, "planner-1-compare")

    page.locator('[data-testid="stRadio"]').get_by_text("Scenario B").click()
    wait_idle(page)
    page.get_by_role("button", name="Book Scenario B (3 infusions)").click()
    wait_idle(page, "Booked Scenario B: 3 infusions")
    screenshot(page, "planner-2-booked")

    booked = _scheduled(planner_server.db, planner_server.course_id)
    assert [n for n, _ in booked] == [2, 3, 4]
    assert [(b - a).days for (_, a), (_, b) in pairwise(booked)] == [7, 7]

    # The patient's page: three booked, and the course timeline labels each booked place with its date.
    page.get_by_role("button", name="Open the patient's page").click()
    wait_idle(page, "Escort home:")
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Course 1")).to_contain_text("3 booked")
    timeline = page.locator('[data-testid="stPlotlyChart"]').first
    for number, when in booked:
        expect(timeline).to_contain_text(f"{number}booked{when:%d %b}")
    screenshot(page, "planner-3-patient")


def _open_planner(page: Any, planned: Planned) -> None:
    login(page, planned.url, "scheduler", planned.password)
    page.get_by_role("link", name="What-if planner").click()
    wait_idle(page, "Find a patient by MRN or name")


def _search(page: Any, text: str, expect_text: str | None = None) -> None:
    search = page.get_by_role("textbox", name="Find a patient by MRN or name", exact=True)
    search.fill(text)
    search.press("Enter")
    wait_idle(page, expect_text)


def test_typing_another_patients_mrn_books_for_that_patient_never_the_previous_one(
    planner_server: Planned, page: object
) -> None:
    """The reported error, reproduced: search "fictivo", pick one, type another patient's MRN, book."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    _open_planner(page, planner_server)
    _search(page, "fictivo", "Course 1 · active")
    chooser = page.get_by_role("combobox", name="Patient", exact=True)
    chooser.click()
    page.get_by_role("option", name="Fictivo-Lane, Test · SYN-0003").click()
    wait_idle(page)
    expect(chooser).to_have_value("Fictivo-Lane, Test · SYN-0003")

    _search(page, "SYN-0004")
    expect(chooser).to_have_value("Notreal, Test · SYN-0004", timeout=15_000)
    wait_idle(page)
    assert page.url.endswith("mrn=SYN-0004")
    page.get_by_role("button", name="Add to comparison").click()
    wait_idle(page, "Compare scenarios (1 of 3)")
    book = page.get_by_role("button", name=re.compile(r"^Book Scenario A"))
    book.click()
    wait_idle(page, "Booked Scenario A")
    screenshot(page, "planner-wrong-patient-booked")
    assert _scheduled(planner_server.db, planner_server.courses["SYN-0003"]) == []
    assert len(_scheduled(planner_server.db, planner_server.courses["SYN-0004"])) == 9

    # A search that matches nobody shows no patient and nothing to book.
    _search(page, "SYN-0999", "No patient matches.")
    expect(page.get_by_role("button", name=re.compile(r"^Book "))).to_have_count(0)


def test_twice_weekly_after_a_beneficial_trial_plans_the_rest_of_the_course(
    planner_server: Planned, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.set_viewport_size({"width": 1440, "height": 900})
    _open_planner(page, planner_server)
    _search(page, "SYN-0002", "Course 1 · active")
    cadence = page.locator('[data-testid="stSelectbox"]').filter(has_text="Cadence").get_by_role("combobox")
    cadence.click()
    page.get_by_role("option", name="twice-weekly", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Add to comparison").click()
    wait_idle(page, "Compare scenarios (1 of 3)")
    expect(page.get_by_role("button", name="Book Scenario A (9 infusions)")).to_be_visible()
    screenshot(page, "planner-twice-weekly-1440")
