"""In a real browser against ``streamlit run``: deep links without a login, wrong passwords, role limits.

Marked ``browser``: needs Debian's Chromium at /usr/bin/chromium (Playwright cannot download one here).
The server is started fresh for this module, so the first visits exercise Streamlit's legacy multipage
mode, where a file in ``pages/`` is run directly until some session has run ``st.navigation``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kdash.auth import Forbidden
from kdash.db import Database, make_engine
from kdash.migrate import upgrade
from kdash.models import AuditEvent
from tests.apptest_support import ACTORS, PASSWORD, missing_app_pages, page_files
from tests.helpers import seed_patient

ROOT = Path(__file__).resolve().parent.parent
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
SECRET_MRN = "MRN-BROWSER-0042"
SECRET_NAME = "Wilhelmina"


@dataclass
class Server:
    url: str
    db_url: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed(db_url: str) -> None:
    from kdash.auth import create_user
    from kdash.settings import DEFAULT_SETTINGS

    engine = make_engine(db_url)
    upgrade(engine)
    db = Database(engine=engine)
    with db.write() as s:
        for actor in ACTORS.values():
            create_user(
                s, actor.username, actor.role, PASSWORD, DEFAULT_SETTINGS, display_name=actor.display_name
            )
        seed_patient(s, SECRET_MRN, SECRET_NAME, SECRET_NAME, escort=SECRET_NAME)
    engine.dispose()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    workdir = Path(tempfile.mkdtemp(prefix="kdash-browser-sec-"))
    db_url = f"sqlite:///{workdir / 'kdash.db'}"
    _seed(db_url)
    port = _free_port()
    env = {**os.environ, "KDASH_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    log = workdir / "streamlit.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except OSError:
                time.sleep(0.3)
        yield Server(url, db_url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        text = log.read_text(errors="replace")
        shutil.rmtree(workdir, ignore_errors=True)
        # The server log must not carry patient data either (tracebacks included).
        assert SECRET_MRN not in text
        assert SECRET_NAME not in text


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def _assert_only_login_form(page: object, where: str) -> None:
    page.get_by_label("Password", exact=True).wait_for(state="visible")  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert SECRET_MRN not in body, where
    assert SECRET_NAME not in body, where
    assert page.locator('[data-testid="stDataFrame"]').count() == 0, where  # type: ignore[attr-defined]
    assert page.get_by_role("button", name="Sign out").count() == 0, where  # type: ignore[attr-defined]


def _sign_in(page: object, url: str, username: str, password: str) -> None:
    page.goto(url)  # type: ignore[attr-defined]
    page.get_by_label("User name").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password", exact=True).fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]


PAGE_URLS = ["/" + Path(name).stem for name in page_files()]


@pytest.mark.browser
def test_anonymous_deep_links_on_a_fresh_server_show_only_the_login_form(
    server: Server, page: object
) -> None:
    """Runs first: no session has run st.navigation yet, so Streamlit runs page files directly."""
    for path in PAGE_URLS:
        page.goto(server.url + path)  # type: ignore[attr-defined]
        _assert_only_login_form(page, f"fresh server {path}")


@pytest.mark.browser
def test_anonymous_visits_through_the_navigation_show_only_the_login_form(
    server: Server, page: object
) -> None:
    if missing_app_pages():
        pytest.skip(f"app.py registers pages not present yet: {', '.join(missing_app_pages())}")
    # Then through app.py's navigation (the root first, then every page URL again).
    for path in ["/", *PAGE_URLS]:
        page.goto(server.url + path)  # type: ignore[attr-defined]
        _assert_only_login_form(page, f"navigation {path}")


@pytest.mark.browser
def test_wrong_password_is_refused(server: Server, page: object) -> None:
    target = "/" + Path(page_files()[0]).stem
    _sign_in(page, server.url + target, "admin", "not-the-password")
    page.get_by_text("Wrong user name or password.").wait_for(state="visible")  # type: ignore[attr-defined]
    _assert_only_login_form(page, "after a wrong password")


@pytest.mark.browser
def test_admin_signs_in_on_a_deep_link(server: Server, page: object) -> None:
    if not (ROOT / "pages" / "audit.py").exists():
        pytest.skip("no audit page")
    _sign_in(page, server.url + "/audit", "admin", PASSWORD)
    page.get_by_role("heading", name="Audit log").wait_for(state="visible")  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]


def _open_patient(page: object, server: Server, username: str) -> None:
    _sign_in(page, server.url + "/patient", username, PASSWORD)
    page.get_by_role("button", name="Sign out").wait_for(state="visible")  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    page.get_by_label("Name or MRN").fill(SECRET_MRN)  # type: ignore[attr-defined]
    page.get_by_label("Name or MRN").press("Enter")  # type: ignore[attr-defined]
    page.get_by_role("button", name=re.compile("Open this patient")).click()  # type: ignore[attr-defined]
    page.get_by_role("tab", name="Record").click()  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]


@pytest.mark.browser
def test_scheduler_has_no_trial_outcome_control_and_provider_has(server: Server, page: object) -> None:
    if missing_app_pages() or not (ROOT / "pages" / "patient.py").exists():
        pytest.skip("the patient page is not present yet")
    _open_patient(page, server, "scheduler")
    assert page.get_by_role("button", name="Save trial outcome").count() == 0  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    _open_patient(page, server, "provider")
    page.get_by_role("button", name="Save trial outcome").wait_for(state="attached")  # type: ignore[attr-defined]


def test_scheduler_direct_call_to_record_a_trial_outcome_is_refused_and_audited(sqlite_db: Database) -> None:
    """What the missing control would have done, called directly: refused by the service, and logged."""
    clinical = pytest.importorskip("kdash.services.clinical")
    from sqlalchemy import select

    with sqlite_db.write() as s:
        _, course_id = seed_patient(s, "MRN-DIRECT-1")
    with pytest.raises(Forbidden, match="scheduler may not record trial outcome"):
        clinical.record_trial_outcome(sqlite_db, ACTORS["scheduler"], course_id, "benefit")
    with sqlite_db.read() as s:
        events = [(e.username, e.action, e.outcome) for e in s.scalars(select(AuditEvent))]
    assert events == [("scheduler", "record_trial_outcome", "refused")]
