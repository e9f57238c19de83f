"""Refresh the README's screenshots from the demo clinic in Debian's Chromium.

    .venv/bin/python docs/screenshots.py

Seeds a temporary demo database around today, serves the app with ``streamlit run``, signs in as the
demo provider and saves ``docs/img/huddle.png`` and ``docs/img/trend.png``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from kdash.demo.clinic import generate, load  # noqa: E402
from kdash.demo.first_run import create_demo_users  # noqa: E402
from kdash.storage.database import open_database  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, login, start_server, stop_server, wait_idle  # noqa: E402


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="kdash-shots-"))
    url = f"sqlite:///{workdir / 'kdash.db'}"
    db = open_database(url)
    data = generate(120, 7, date.today())
    load(db, data)
    create_demo_users(db)
    server = start_server(url, workdir)
    out = ROOT / "docs" / "img"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            # The first screen a clinician sees.
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(30_000)
            login(page, server.url, "provider", "demo-provider-pass")
            wait_idle(page, "most urgent first, then by chair time")
            page.screenshot(path=str(out / "huddle.png"))
            page.get_by_role("button", name="Open patient").first.click()
            wait_idle(page, "Scores")
            page.get_by_role("tab", name="Scores").click()
            page.wait_for_timeout(1500)
            chart = page.locator('[data-testid="stPlotlyChart"]:visible').first
            chart.scroll_into_view_if_needed()
            chart.screenshot(path=str(out / "trend.png"))
            browser.close()
    finally:
        stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"saved {out / 'huddle.png'} and {out / 'trend.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
