"""Screenshots of every page from the synthetic demo clinic, in Debian's Chromium against ``streamlit run``.

    .venv/bin/python scripts/screenshots.py                       # README images and docs/dashboard.md's
    .venv/bin/python scripts/screenshots.py --size 1024x768 --out /tmp/tablet   # a tablet, to look at

Seeds a temporary demo database around today (120 synthetic patients, as ``python -m kdash seed --demo``),
serves the app, signs in as the demo provider (the admin for the audit log and users) and saves each
page's first screen as ``page-<name>.png``. At the default size (1440x900, into ``docs/img``) it also
writes the README's ``huddle.png``, ``trend.png`` and ``planner.png`` (the what-if planner with a
scenario in the comparison). PNGs are saved with a 256-colour palette to keep the repository small.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from kdash.demo.clinic import generate, load  # noqa: E402
from kdash.demo.first_run import create_demo_users  # noqa: E402
from kdash.storage.database import open_database  # noqa: E402
from tests.browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    login,
    start_server,
    stop_server,
    wait_idle,
)

HUDDLE_LIST = "most urgent first, then by chair time"


def _save(page: Any, path: Path, *, full_page: bool = False, target: Any = None) -> None:
    """A screenshot as a palette PNG (a quarter of the size of a full-colour one, the same to read)."""
    raw = path.with_suffix(".raw.png")
    (target or page).screenshot(path=str(raw), **({} if target is not None else {"full_page": full_page}))
    with Image.open(raw) as image:
        image.convert("RGB").quantize(colors=256).save(path, optimize=True)
    raw.unlink()
    print(f"saved {path}")


def _heading(page: Any, title: str) -> None:
    page.get_by_role("heading", name=title, exact=True).first.wait_for()
    wait_idle(page)


#: Each page's address (the sidebar folds away on a tablet, so pages are opened by address).
PATHS = {
    "Roster": "roster",
    "Screening": "screening",
    "Courses": "courses",
    "Symptom trends": "trends",
    "What-if planner": "planner",
    "Import / export": "data",
    "Clinic settings": "settings",
    "Audit log": "audit",
    "Users": "users",
}


def _open(page: Any, link: str, ready: Callable[[], None]) -> None:
    base = page.url.split("/")[:3]
    page.goto("/".join([*base, PATHS[link]]))
    ready()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)  # charts draw after the script is idle
    page.mouse.move(0, 0)


def _plannable_mrn(url: str) -> str:
    """A demo patient whose active course helped at the trial and has places left: the planner's case."""
    from sqlalchemy import create_engine, func, select

    from kdash.storage.models import Course, Infusion, Patient

    engine = create_engine(url)
    live = (
        select(func.count())
        .where(Infusion.course_id == Course.id, Infusion.status.in_(["scheduled", "completed"]))
        .scalar_subquery()
    )
    with engine.connect() as conn:
        mrn = conn.execute(
            select(Patient.mrn)
            .join(Course, Course.patient_id == Patient.id)
            .where(Course.status == "active", Course.trial_outcome == "benefit", live < 7)
            .order_by(Patient.mrn)
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return str(mrn)


def provider_pages(page: Any, out: Path, readme: bool, mrn: str) -> None:
    wait_idle(page, HUDDLE_LIST)
    page.wait_for_timeout(800)
    _save(page, out / "page-huddle.png")
    if readme:
        _save(page, out / "huddle.png")
    _open(page, "Roster", lambda: wait_idle(page, "Open a patient from this page"))
    _save(page, out / "page-roster.png")
    page.get_by_role("button", name="Open patient").first.click()
    wait_idle(page, "Escort home:")
    page.wait_for_timeout(800)
    _save(page, out / "page-patient.png")
    if readme:
        page.get_by_role("tab", name="Scores").click()
        page.wait_for_timeout(1500)
        chart = page.locator('[data-testid="stPlotlyChart"]:visible').first
        chart.scroll_into_view_if_needed()
        _save(page, out / "trend.png", target=chart)
    for link, title, name in (
        ("Screening", "Screening queue", "screening"),
        ("Courses", "Active courses", "courses"),
        ("Symptom trends", "Symptom trends", "trends"),
        ("Import / export", "Import / export", "data"),
        ("Clinic settings", "Clinic settings", "settings"),
    ):
        _open(page, link, lambda title=title: _heading(page, title))  # type: ignore[misc]
        _save(page, out / f"page-{name}.png")
    # The planner with a scenario: a patient searched, the default plan drawn and added to the comparison.
    _open(page, "What-if planner", lambda: wait_idle(page, "Find a patient by MRN or name"))
    search = page.get_by_role("textbox", name="Find a patient by MRN or name")
    search.fill(mrn)
    search.press("Enter")
    page.get_by_role("button", name="Add to comparison").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Add to comparison").click()
    wait_idle(page, "Compare scenarios (1 of")
    page.wait_for_timeout(1200)
    # Back to the top of the page (Streamlit scrolls an inner container, not the window).
    page.evaluate("for (const e of document.querySelectorAll('*')) { if (e.scrollTop > 0) e.scrollTop = 0; }")
    page.wait_for_timeout(500)
    _save(page, out / "page-planner.png")
    if readme:
        # The scenario's chair use, the comparison and the timeline of each scenario.
        page.get_by_role("button", name="Add to comparison").evaluate(
            "e => e.scrollIntoView({block: 'center'})"
        )
        page.wait_for_timeout(500)
        _save(page, out / "planner.png")


def admin_pages(page: Any, out: Path) -> None:
    for link, title in (("Audit log", "Audit log"), ("Users", "Users")):
        _open(page, link, lambda title=title: _heading(page, title))  # type: ignore[misc]
        _save(page, out / f"page-{link.split()[0].lower()}.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of every page from the demo clinic.")
    parser.add_argument("--size", default="1440x900", help="viewport WIDTHxHEIGHT (default 1440x900)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNGs")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    readme = out.resolve() == (ROOT / "docs" / "img").resolve() and (width, height) == (1440, 900)

    workdir = Path(tempfile.mkdtemp(prefix="kdash-shots-"))
    url = f"sqlite:///{workdir / 'kdash.db'}"
    db = open_database(url)
    load(db, generate(120, 7, date.today()))
    create_demo_users(db)
    mrn = _plannable_mrn(url)
    server = start_server(url, workdir)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for user, password, pages in (
                ("provider", "demo-provider-pass", lambda p: provider_pages(p, out, readme, mrn)),
                ("admin", "demo-admin-password", lambda p: admin_pages(p, out)),
            ):
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.set_default_timeout(60_000)
                login(page, server.url, user, password)
                pages(page)
                context.close()
            browser.close()
    finally:
        stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
