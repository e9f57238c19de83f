"""The README's first command: seed an empty database, serve the app, see the demo clinic.

Runs the seed step exactly as the README writes it (against a temporary database), then the app with
``streamlit run app.py``; health answers ``ok`` and the default page shows demo patients to a user
signed in with a login the seed printed. A second journey starts on an empty database: it names the
command to run and offers nothing that creates an account.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_support import (
    ROOT,
    browser,  # noqa: F401  (fixture)
    login,
    page,  # noqa: F401  (fixture)
    screenshot,
    start_server,
    stop_server,
    wait_idle,
)

pytestmark = pytest.mark.browser


def readme_commands() -> list[str]:
    """The shell commands of the README's fenced ``bash`` blocks, in order."""
    text = (ROOT / "README.md").read_text()
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_first_command_installs_seeds_and_starts_the_app() -> None:
    first = readme_commands()[0]
    steps = [s.strip() for s in first.split("&&")]
    assert steps[0] == "python3 -m venv .venv"
    assert "pip install" in steps[1]
    assert "requirements.txt" in steps[1]
    assert any("-m kdash seed --demo --if-empty" in s for s in steps)
    assert steps[-1].endswith("streamlit run app.py")


def test_readme_second_command_is_what_ci_runs() -> None:
    second = readme_commands()[1]
    assert "requirements-dev.txt" in second
    assert second.rstrip().endswith("pytest")
    assert second in (ROOT / ".ci" / "run").read_text()


def _seed_step() -> list[str]:
    step = next(s for s in readme_commands()[0].split("&&") if "kdash seed" in s)
    argv = shlex.split(step)
    return [sys.executable, *argv[1:]]  # the README's .venv/bin/python is this interpreter


@pytest.fixture(scope="module")
def readme_server() -> Iterator[tuple[object, str]]:
    workdir = Path(tempfile.mkdtemp(prefix="kdash-first-run-"))
    db_url = f"sqlite:///{workdir / 'kdash.db'}"
    seeded = subprocess.run(
        [*_seed_step(), "--db", db_url], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    server = start_server(db_url, workdir)
    try:
        yield server, seeded.stdout
    finally:
        stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)


def test_health_answers_ok_and_default_page_shows_demo_patients(readme_server, page) -> None:  # noqa: F811
    server, seed_output = readme_server
    with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=5) as resp:
        assert resp.read().decode().strip() == "ok"
    found = re.search(r"provider\s+provider\s+password: (\S+)", seed_output)
    assert found, seed_output
    login(page, server.url, "provider", found.group(1))
    wait_idle(page, "most urgent first, then by chair time")
    assert page.get_by_text(re.compile(r"MRN DEMO-\d{6}")).count() >= 5
    screenshot(page, "first-run-huddle")


@pytest.fixture(scope="module")
def empty_server() -> Iterator[object]:
    workdir = Path(tempfile.mkdtemp(prefix="kdash-empty-"))
    server = start_server(f"sqlite:///{workdir / 'kdash.db'}", workdir)
    try:
        yield server
    finally:
        stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)


def test_empty_database_names_the_seed_command_and_offers_no_account(empty_server, page) -> None:  # noqa: F811
    page.goto(empty_server.url)
    wait_idle(page, "This database is empty")
    page.get_by_text("python -m kdash seed --demo --if-empty").first.wait_for(state="visible")
    assert page.get_by_role("button", name="Load the demo clinic").count() == 0
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password", exact=True).fill("demo-admin-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong user name or password.").wait_for(state="visible")
    screenshot(page, "first-run-empty-database")
