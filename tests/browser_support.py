"""Driving the real app in Debian's Chromium: a ``streamlit run`` server fixture, a browser, helpers.

Import the fixtures into a test module (``from tests.browser_support import *`` style, or by name) and
mark the tests ``browser``. One server per test module (module-scoped), on a free port, with its output
in a temporary file (a pipe nobody reads fills up and hangs the server), ready when ``/_stcore/health``
answers ``ok``. Screenshots go under ``test-artifacts/`` (git-ignored). The server runs from the
repository root, as in production, so ``.streamlit/config.toml`` applies in the browser too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
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
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    db_url: str
    log: Path
    process: subprocess.Popen[bytes]


def start_server(db_url: str, workdir: Path) -> Server:
    """Start ``streamlit run app.py`` on a free port against ``db_url`` and wait until it is healthy."""
    port = free_port()
    log = workdir / "streamlit.log"
    env = {
        **os.environ,
        "KDASH_DATABASE_URL": db_url,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return Server(url, db_url, log, process)
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"streamlit did not become healthy in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def seed_clinic(db_url: str) -> dict[str, object]:
    """Migrate the database, build the synthetic test clinic around today, and add the demo logins."""
    from datetime import date

    from kdash.demo.first_run import create_demo_users
    from kdash.storage.database import Database, make_engine
    from kdash.storage.migrate import upgrade
    from tests.seeded import build_clinic

    engine = make_engine(db_url)
    upgrade(engine)
    db = Database(engine=engine)
    clinic = build_clinic(db, date.today())
    logins = create_demo_users(db, demo=False)  # the test clinic's MRNs are not DEMO- ones
    engine.dispose()
    return {"clinic": clinic, "logins": {u: p for u, _, p in logins}}


def seed_staff(db_url: str, fill: Callable[[object], object]) -> None:
    """Migrate the database, add one login per role (``tests.apptest_support.ACTORS``, one password), and
    let ``fill`` add what the test needs in the same transaction (it gets the session)."""
    from kdash.domain.policy import DEFAULT_SETTINGS
    from kdash.services.users import create_user
    from kdash.storage.database import Database, make_engine
    from kdash.storage.migrate import upgrade
    from tests.apptest_support import ACTORS, PASSWORD

    engine = make_engine(db_url)
    upgrade(engine)
    db = Database(engine=engine)
    with db.write() as s:
        for actor in ACTORS.values():
            create_user(
                s, actor.username, actor.role, PASSWORD, DEFAULT_SETTINGS, display_name=actor.display_name
            )
        fill(s)
    engine.dispose()


@contextmanager
def seeded_server(seed: Callable[[str], object], prefix: str = "kdash-browser-") -> Iterator[Server]:
    """A running app on a fresh SQLite file that ``seed`` filled; the server and the folder go afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    db_url = f"sqlite:///{workdir / 'kdash.db'}"
    seed(db_url)
    server = start_server(db_url, workdir)
    try:
        yield server
    finally:
        stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clinic_server() -> Iterator[tuple[Server, dict[str, object]]]:
    """A running app on a freshly seeded SQLite file (one per test module)."""
    seeded: dict[str, object] = {}
    with seeded_server(lambda url: seeded.update(seed_clinic(url))) as server:
        yield server, seeded


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser tab; its last state is saved as ``test-artifacts/last-<test>.png``."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    pg = context.new_page()
    # Generous waits: the machine running the journeys may be shared, and a page then takes seconds to go
    # idle; a wait that times out is a failure only when the awaited text never comes.
    pg.set_default_timeout(60_000)
    expect.set_options(timeout=30_000)
    yield pg
    try:
        screenshot(pg, f"last-{request.node.name}")
    finally:
        context.close()


# --- helpers --------------------------------------------------------------------------------------------


def wait_idle(page: object, expect_text: str | None = None) -> None:
    """Wait for ``expect_text`` (when given) and for the script to finish running."""
    if expect_text is not None:
        page.get_by_text(expect_text).first.wait_for(state="visible")  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]


def login(page: object, url: str, username: str, password: str) -> None:
    page.goto(url)  # type: ignore[attr-defined]
    page.get_by_label("User name").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password", exact=True).fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").wait_for(state="visible")  # type: ignore[attr-defined]
    wait_idle(page)


def screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def poll(check: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return check()
