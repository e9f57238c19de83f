"""The planner journey in a real browser: sign in, plan two scenarios, compare, book one, open the patient.

Runs ``streamlit run app.py`` on a free port against a temporary SQLite database and drives Debian's
Chromium with Playwright (docs: /work/shared/TOOLCHAIN.md facts, streamlit's own e2e conftest). When
some page that ``app.py`` registers is not in this build yet, the app is served from a temporary copy in
which those pages are placeholders (``app.py`` refuses to start without them); the bookings are then
checked in the database rather than on the patient's page.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from kdash.db import Database, make_engine
from kdash.migrate import upgrade
from kdash.models import Infusion
from kdash.storage.first_run import DEMO_USERS, create_demo_users
from kdash.vocab import InfusionStatus
from tests.booking_support import add_patient

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
MRN = "SYN-0001"
TIMEOUT_MS = 30_000

_PLACEHOLDER = '''"""Placeholder for a page not in this build (browser tests only)."""

import streamlit as st

from kdash import ui

ui.guard()
st.title({title!r})
st.caption("This page is not in this build.")
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _registered_pages() -> list[str]:
    return re.findall(r'_page\("([\w]+\.py)"', (REPO / "app.py").read_text(encoding="utf-8"))


def _missing_pages() -> list[str]:
    return [p for p in _registered_pages() if not (REPO / "pages" / p).is_file()]


def _app_dir(tmp: Path) -> Path:
    """The repository itself, or a copy with placeholders for pages ``app.py`` names but lacks."""
    missing = _missing_pages()
    if not missing:
        return REPO
    root = tmp / "app"
    (root / "pages").mkdir(parents=True)
    shutil.copy(REPO / "app.py", root / "app.py")
    shutil.copytree(REPO / ".streamlit", root / ".streamlit")
    (root / "kdash").symlink_to(REPO / "kdash", target_is_directory=True)
    for page in (REPO / "pages").glob("*.py"):
        shutil.copy(page, root / "pages" / page.name)
    for page in missing:
        (root / "pages" / page).write_text(
            _PLACEHOLDER.format(title=page.removesuffix(".py")), encoding="utf-8"
        )
    return root


@dataclass(frozen=True)
class Server:
    url: str
    db: Database
    course_id: int
    real_patient_page: bool


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("planner_browser")
    url = f"sqlite:///{tmp / 'kdash.db'}"
    engine = make_engine(url)
    upgrade(engine)
    db = Database(engine=engine)
    create_demo_users(db)
    trial = datetime.combine(date.today() - timedelta(days=3), datetime.min.time()).replace(hour=9)
    _, course_id = add_patient(db, MRN, trial_at=trial, screened_on=date.today() - timedelta(days=30))
    port = _free_port()
    app_dir = _app_dir(tmp)
    log = (tmp / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=app_dir,
        env={**os.environ, "KDASH_DATABASE_URL": url, "PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit did not start: " + (tmp / "streamlit.log").read_text())
            time.sleep(0.3)
        yield Server(base, db, course_id, real_patient_page="patient.py" not in _missing_pages())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        engine.dispose()


@pytest.fixture
def page(server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 2600})
        pg = context.new_page()
        pg.set_default_timeout(TIMEOUT_MS)
        yield pg
        context.close()
        browser.close()


def _idle(page: object) -> None:
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)  # type: ignore[attr-defined]


def _scheduled(db: Database, course_id: int) -> list[tuple[int, datetime]]:
    with db.read() as s:
        rows = s.execute(
            select(Infusion.number, Infusion.scheduled_at)
            .where(Infusion.course_id == course_id, Infusion.status == InfusionStatus.SCHEDULED.value)
            .order_by(Infusion.number)
        )
        return [(r[0], r[1]) for r in rows]


def test_plan_two_scenarios_compare_book_one_and_see_it_on_the_patient(server: Server, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    ARTIFACTS.mkdir(exist_ok=True)
    password = next(p for u, _, p in DEMO_USERS if u == "scheduler")

    page.goto(server.url)
    page.get_by_label("User name").fill("scheduler")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    nav = page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')
    nav.filter(has_text="What-if planner").click()
    expect(page.get_by_role("heading", name="What-if planner")).to_be_visible()
    _idle(page)

    page.get_by_label("Find a patient by MRN or name").fill(MRN)
    page.get_by_label("Find a patient by MRN or name").press("Enter")
    expect(page.get_by_text("Course 1 · active")).to_be_visible()
    _idle(page)

    # Scenario A: the rest of the induction (five infusions after the trial).
    add = page.get_by_role("button", name="Add to comparison")
    expect(add).to_be_visible()
    add.click()
    expect(page.get_by_text("Compare scenarios (1 of 3)")).to_be_visible()
    _idle(page)

    # Scenario B: weekly, three infusions.
    # Streamlit's selectbox is a React Aria combo box: the arrow key opens its options.
    cadence = page.locator('[data-testid="stSelectbox"]').filter(has_text="Cadence").get_by_role("combobox")
    cadence.click()
    cadence.press("ArrowDown")
    page.get_by_role("option", name="weekly", exact=True).click()
    _idle(page)
    sessions = page.get_by_role("spinbutton", name="Sessions")
    sessions.fill("3")
    sessions.press("Enter")
    _idle(page)
    page.get_by_role("button", name="Add to comparison").click()
    expect(page.get_by_text("Compare scenarios (2 of 3)")).to_be_visible()
    _idle(page)
    page.screenshot(path=str(ARTIFACTS / "planner_compare.png"), full_page=True)

    page.locator('[data-testid="stRadio"]').get_by_text("Scenario B").click()
    _idle(page)
    page.get_by_role("button", name="Book Scenario B (3 infusions)").click()
    expect(page.get_by_text("Booked Scenario B: 3 infusions")).to_be_visible()
    _idle(page)
    page.screenshot(path=str(ARTIFACTS / "planner_booked.png"), full_page=True)

    booked = _scheduled(server.db, server.course_id)
    assert [n for n, _ in booked] == [2, 3, 4]
    assert [(b - a).days for (_, a), (_, b) in pairwise(booked)] == [7, 7]

    page.get_by_role("button", name="Open the patient's page").click()
    page.wait_for_url(re.compile(r"/patient$"))
    _idle(page)
    page.screenshot(path=str(ARTIFACTS / "planner_patient_page.png"), full_page=True)
    if server.real_patient_page:
        for _, when in booked:
            expect(page.get_by_text(when.date().isoformat()).first).to_be_visible()
