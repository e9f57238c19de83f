"""Browser measure of every page: Debian's Chromium against ``streamlit run app.py``, click to idle.

One server on the clinic's database, one browser. A provider signs in and the huddle is set to D2 (the
fixed full day of 32 infusions); then each page in turn is opened from the sidebar, coming from a light
page (Courses, or Screening when Courses itself is measured), ``runs + 1`` times. The time runs from the
click until the page's own content is on screen and the app is idle
(``data-test-script-state="notRunning"``). The first opening of a page is its cold number (its caches
empty, the server already running); the median of the rest is the warm one. Three measures are journeys
rather than sidebar clicks:

- ``browser_patient``: on the huddle of D2, "Open patient" on the first card, until the patient's page is
  idle (coming back to the huddle is untimed);
- ``browser_planner``: the planner with a scenario: the patient of the benchmark's replanned course is
  searched once and one scenario added to the comparison (untimed); each timed opening then shows that
  patient, the default plan and the comparison;
- ``browser_roster_filtered``: on the roster, the search box narrowed to one MRN (Enter) until that one
  row is shown (clearing the search again is untimed).

The audit log and the users page are admin pages: the provider signs out and the admin signs in for them.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    PASSWORD,
    TIMEOUT_MS,
    USER,
    _server_hwm,
    start_server,
)
from benchmarks.clinic import Clinic, load_meta  # noqa: E402
from benchmarks.timing import empty_row  # noqa: E402

ADMIN, ADMIN_PASSWORD = "admin", "demo-admin-password"
HUDDLE_LIST = "most urgent first, then by chair time"


@dataclass(frozen=True)
class PageSpec:
    """A page measure: the sidebar link, the words that say its content is shown, who opens it."""

    measure: str
    link: str
    shown: str
    admin: bool = False


#: Plain sidebar openings, in the order they are measured.
SIDEBAR_PAGES = (
    PageSpec("browser_roster", "Roster", "Open a patient from this page"),
    PageSpec("browser_screening", "Screening", "#Screening queue"),
    PageSpec("browser_courses", "Courses", "#Active courses"),
    PageSpec("browser_trends", "Symptom trends", "#Symptom trends"),
    PageSpec("browser_data", "Import / export", "Prepare export"),
    PageSpec("browser_settings", "Clinic settings", "#Clinic settings"),
    PageSpec("browser_audit", "Audit log", "Audit log", admin=True),
    PageSpec("browser_users", "Users", "#Users", admin=True),
)
JOURNEYS = ("browser_patient", "browser_planner", "browser_roster_filtered")
MEASURES = tuple(s.measure for s in SIDEBAR_PAGES) + JOURNEYS


def _idle(page: Any) -> None:
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)


def _shown(page: Any, text: str) -> None:
    """Wait for ``text`` (``#Title`` for a page heading: the sidebar holds the same words) and idle."""
    if text.startswith("#"):
        found = page.get_by_role("heading", name=text[1:], exact=True)
    else:
        found = page.get_by_text(text)
    found.first.wait_for(timeout=TIMEOUT_MS)
    _idle(page)


def _open(page: Any, link: str, text: str) -> float:
    """Click a sidebar link; ms until ``text`` is shown and the app is idle."""
    start = time.perf_counter()
    page.get_by_role("link", name=link).first.click()
    _shown(page, text)
    return (time.perf_counter() - start) * 1000.0


def _away(page: Any, spec_link: str) -> None:
    """Open a light page first, so that the timed click really changes page."""
    link, text = (
        ("Screening", "#Screening queue") if spec_link == "Courses" else ("Courses", "#Active courses")
    )
    if spec_link in ("Audit log", "Users"):
        link, text = ("Clinic settings", "#Clinic settings")
    page.get_by_role("link", name=link).first.click()
    _shown(page, text)


def _sign_in(page: Any, base: str, user: str, password: str) -> None:
    page.goto(base, timeout=TIMEOUT_MS)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=TIMEOUT_MS)
    _idle(page)


def _huddle_on_d2(page: Any, clinic: Clinic) -> None:
    """Open the huddle and show D2 (the date box is typed as a user would)."""
    page.get_by_role("link", name="Morning huddle").first.click()
    _shown(page, "#Morning huddle")
    if page.locator('[data-testid="stDateInput"] input').first.input_value() != clinic.day2.isoformat():
        page.get_by_role("spinbutton", name="year, Day").click()
        page.keyboard.type(clinic.day2.strftime("%Y%m%d"))
        page.keyboard.press("Escape")
        page.get_by_role("heading", name="Morning huddle").first.click()
    page.get_by_text(f"{clinic.day2:%A %d %B %Y}").first.wait_for(timeout=TIMEOUT_MS)
    _shown(page, HUDDLE_LIST)


def _replan_mrn(clinic: Clinic) -> str:
    from sqlalchemy import create_engine, select

    from kdash.storage.models import Course, Patient

    engine = create_engine(clinic.url)
    try:
        with engine.connect() as conn:
            mrn = conn.execute(
                select(Patient.mrn)
                .join(Course, Course.patient_id == Patient.id)
                .where(Course.id == clinic.replan_course_id)
            ).scalar_one()
    finally:
        engine.dispose()
    return str(mrn)


def _times(runs: int, once: Callable[[], float]) -> list[float]:
    return [once() for _ in range(runs + 1)]


def _row(measure: str, times: list[float]) -> dict[str, Any]:
    row = empty_row(measure)
    row.update(cold_ms=round(times[0], 1), median_ms=round(statistics.median(times[1:]), 1))
    return row


def _patient_from_huddle(page: Any, clinic: Clinic, runs: int) -> list[float]:
    def once() -> float:
        _huddle_on_d2(page, clinic)
        start = time.perf_counter()
        page.get_by_role("button", name="Open patient").first.click()
        _shown(page, "Escort home:")
        return (time.perf_counter() - start) * 1000.0

    return _times(runs, once)


def _planner_with_scenario(page: Any, mrn: str, runs: int) -> list[float]:
    page.get_by_role("link", name="What-if planner").first.click()
    _shown(page, "Find a patient by MRN or name")
    search = page.get_by_role("textbox", name="Find a patient by MRN or name")
    search.fill(mrn)
    search.press("Enter")
    page.get_by_role("button", name="Add to comparison").wait_for(timeout=TIMEOUT_MS)
    _idle(page)
    page.get_by_role("button", name="Add to comparison").click()
    _shown(page, "Compare scenarios (1 of")

    def once() -> float:
        _away(page, "What-if planner")
        ms = _open(page, "What-if planner", "Compare scenarios (1 of")
        page.get_by_role("button", name="Add to comparison").wait_for(timeout=TIMEOUT_MS)
        return ms

    return _times(runs, once)


def _roster_filtered(page: Any, mrn: str, runs: int) -> list[float]:
    _away(page, "Roster")
    page.get_by_role("link", name="Roster").first.click()
    _shown(page, "Open a patient from this page")
    search = page.get_by_role("textbox", name="Search", exact=True)
    one_match = page.get_by_text(re.compile(r"^1 of [\d,]+ active patients match"))

    def once() -> float:
        search.fill("")
        search.press("Enter")
        _idle(page)
        page.get_by_text(re.compile(r"^1 of [\d,]+ active patients match")).first.wait_for(
            state="detached", timeout=TIMEOUT_MS
        )
        _idle(page)
        start = time.perf_counter()
        search.fill(mrn)
        search.press("Enter")
        one_match.first.wait_for(timeout=TIMEOUT_MS)
        page.locator('[data-testid="stDataFrame"] [role="row"]').filter(has_text=mrn).first.wait_for(
            state="attached", timeout=TIMEOUT_MS
        )
        _idle(page)
        return (time.perf_counter() - start) * 1000.0

    return _times(runs, once)


def _sidebar(page: Any, spec: PageSpec, runs: int) -> list[float]:
    def once() -> float:
        _away(page, spec.link)
        return _open(page, spec.link, spec.shown)

    return _times(runs, once)


def measure(clinic: Clinic, runs: int, only: set[str] | None = None) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    wanted = set(MEASURES) if only is None else only
    results: dict[str, list[float]] = {}
    proc, base = start_server(clinic.url)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            try:
                _sign_in(page, base, USER, PASSWORD)
                mrn = _replan_mrn(clinic)
                if "browser_patient" in wanted:
                    results["browser_patient"] = _patient_from_huddle(page, clinic, runs)
                if "browser_planner" in wanted:
                    results["browser_planner"] = _planner_with_scenario(page, mrn, runs)
                if "browser_roster_filtered" in wanted:
                    results["browser_roster_filtered"] = _roster_filtered(page, mrn, runs)
                for spec in (s for s in SIDEBAR_PAGES if not s.admin and s.measure in wanted):
                    results[spec.measure] = _sidebar(page, spec, runs)
                admin = [s for s in SIDEBAR_PAGES if s.admin and s.measure in wanted]
                if admin:
                    page.get_by_role("button", name="Sign out").click()
                    page.get_by_label("User name").wait_for(timeout=TIMEOUT_MS)
                    _sign_in(page, base, ADMIN, ADMIN_PASSWORD)
                    for spec in admin:
                        results[spec.measure] = _sidebar(page, spec, runs)
            except Exception:
                (ROOT / "benchmarks" / "out").mkdir(exist_ok=True)
                page.screenshot(path=str(ROOT / "benchmarks" / "out" / "browser-pages-failure.png"))
                raise
            finally:
                browser.close()
        peak = _server_hwm(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    rows = [_row(m, results[m]) for m in MEASURES if m in results]
    for row in rows:
        row["rss_mb"] = peak
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time every page in Chromium against streamlit run.")
    parser.add_argument(
        "--measure", default="browser_pages", help="browser_pages, or one of " + ", ".join(MEASURES)
    )
    parser.add_argument("--scale", required=True)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--naive-runs", type=int, default=0, help="ignored: the browser has no naive way")
    args = parser.parse_args(argv)
    only = None if args.measure == "browser_pages" else {args.measure}
    rows = measure(load_meta(args.scale, args.db), args.runs, only)
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
