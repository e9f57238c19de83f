"""In Chromium against ``streamlit run``: patient addresses survive the login gate.

A deep link such as ``/patient?mrn=X`` sent in a message and opened while signed out shows the sign-in
form at that address, and after signing in the user is on that patient's page, address unchanged.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from tests.apptest_support import ACTORS, PASSWORD
from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    IDLE,
    Server,
    browser,
    page,
    start_server,
    stop_server,
)
from tests.seeded import seed_patient

MRN = "RT-LINK 7&1"
FAMILY, GIVEN = "Linkova", "Ada"


def _seed(db_url: str) -> None:
    from kdash.domain.policy import DEFAULT_SETTINGS
    from kdash.services.users import create_user

    engine = make_engine(db_url)
    upgrade(engine)
    db = Database(engine=engine)
    with db.write() as s:
        for actor in ACTORS.values():
            create_user(
                s, actor.username, actor.role, PASSWORD, DEFAULT_SETTINGS, display_name=actor.display_name
            )
        seed_patient(s, MRN, GIVEN, FAMILY)
    engine.dispose()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    workdir = Path(tempfile.mkdtemp(prefix="kdash-browser-sessions-"))
    db_url = f"sqlite:///{workdir / 'kdash.db'}"
    _seed(db_url)
    srv = start_server(db_url, workdir)
    try:
        yield srv
    finally:
        stop_server(srv)
        shutil.rmtree(workdir, ignore_errors=True)


def _sign_in(tab: object, username: str) -> None:
    tab.get_by_label("User name").fill(username)  # type: ignore[attr-defined]
    tab.get_by_label("Password", exact=True).fill(PASSWORD)  # type: ignore[attr-defined]
    tab.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    tab.get_by_role("button", name="Sign out").wait_for(state="visible")  # type: ignore[attr-defined]
    tab.wait_for_selector(IDLE)  # type: ignore[attr-defined]


@pytest.mark.browser
def test_deep_link_to_a_patient_survives_the_login_form(server: Server, page: object) -> None:  # noqa: F811
    from kdash import ui

    address = ui.patient_address(MRN)
    page.goto(server.url)  # some session has run the navigation (see tests/browser_support.py)
    page.get_by_label("Password", exact=True).wait_for(state="visible")  # type: ignore[attr-defined]
    page.goto(server.url + address)  # type: ignore[attr-defined]
    page.get_by_label("Password", exact=True).wait_for(state="visible")  # type: ignore[attr-defined]
    assert GIVEN not in page.inner_text("body")  # type: ignore[attr-defined]

    _sign_in(page, "nurse")

    parts = urlsplit(page.url)  # type: ignore[attr-defined]
    assert parts.path == "/patient"
    assert parse_qs(parts.query)["mrn"] == [MRN]
    heading = page.locator("h1").first.inner_text()  # type: ignore[attr-defined]
    assert heading == f"{FAMILY}, {GIVEN}"  # the page opens the patient of the address
