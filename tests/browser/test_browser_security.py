"""In a real browser against ``streamlit run``: deep links without a login, wrong passwords, role limits.

Marked ``browser``: needs Debian's Chromium at /usr/bin/chromium (Playwright cannot download one here).
The server is started fresh for this module, so the first visits are the ones where Streamlit's legacy
multipage mode would run a file in ``pages/`` directly (``app.py`` switches it off at start; the page
files' own guards are tested directly in ``tests/security/test_ui_security.py``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kdash.domain.access import Forbidden
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent
from tests.apptest_support import ACTORS, PASSWORD, app_page_files, page_files
from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    IDLE,
    Server,
    browser,
    page,
    seed_staff,
    start_server,
    stop_server,
)
from tests.seeded import seed_patient

ROOT = Path(__file__).resolve().parents[2]
SECRET_MRN = "MRN-BROWSER-0042"
SECRET_NAME = "Wilhelmina"


def _seed(db_url: str) -> None:
    seed_staff(db_url, lambda s: seed_patient(s, SECRET_MRN, SECRET_NAME, SECRET_NAME, escort=SECRET_NAME))


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A fresh ``streamlit run`` (pages the menu names but this checkout lacks get a placeholder)."""
    workdir = Path(tempfile.mkdtemp(prefix="kdash-browser-sec-"))
    db_url = f"sqlite:///{workdir / 'kdash.db'}"
    _seed(db_url)
    srv = start_server(db_url, workdir)
    try:
        yield srv
    finally:
        stop_server(srv)
        text = srv.log.read_text(errors="replace")
        shutil.rmtree(workdir, ignore_errors=True)
        # The server log must not carry patient data either (tracebacks included).
        assert SECRET_MRN not in text
        assert SECRET_NAME not in text


def _assert_only_login_form(tab: object, where: str) -> None:
    tab.get_by_label("Password", exact=True).wait_for(state="visible")  # type: ignore[attr-defined]
    tab.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    body = tab.inner_text("body")  # type: ignore[attr-defined]
    assert SECRET_MRN not in body, where
    assert SECRET_NAME not in body, where
    assert tab.locator('[data-testid="stDataFrame"]').count() == 0, where  # type: ignore[attr-defined]
    assert tab.get_by_role("button", name="Sign out").count() == 0, where  # type: ignore[attr-defined]


def _sign_in(tab: object, url: str, username: str, password: str) -> None:
    tab.goto(url)  # type: ignore[attr-defined]
    tab.get_by_label("User name").fill(username)  # type: ignore[attr-defined]
    tab.get_by_label("Password", exact=True).fill(password)  # type: ignore[attr-defined]
    tab.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]


PAGE_URLS = ["/" + Path(name).stem for name in sorted(set(page_files()) | set(app_page_files()))]


@pytest.mark.browser
def test_anonymous_deep_links_on_a_fresh_server_show_only_the_login_form(
    server: Server,
    page: object,  # noqa: F811
) -> None:
    """Runs first: no session has run st.navigation yet, so Streamlit runs page files directly."""
    for path in PAGE_URLS:
        page.goto(server.url + path)  # type: ignore[attr-defined]
        _assert_only_login_form(page, f"fresh server {path}")


@pytest.mark.browser
def test_anonymous_visits_through_the_navigation_show_only_the_login_form(
    server: Server,
    page: object,  # noqa: F811
) -> None:
    # Then through app.py's navigation (the root first, then every page URL again).
    for path in ["/", *PAGE_URLS]:
        page.goto(server.url + path)  # type: ignore[attr-defined]
        _assert_only_login_form(page, f"navigation {path}")


@pytest.mark.browser
def test_wrong_password_is_refused(server: Server, page: object) -> None:  # noqa: F811  # noqa: F811
    target = "/" + Path(page_files()[0]).stem
    _sign_in(page, server.url + target, "admin", "not-the-password")
    page.get_by_text("Wrong user name or password.").wait_for(state="visible")  # type: ignore[attr-defined]
    _assert_only_login_form(page, "after a wrong password")


@pytest.mark.browser
def test_admin_signs_in_on_a_deep_link(server: Server, page: object) -> None:  # noqa: F811  # noqa: F811
    if not (ROOT / "pages" / "audit.py").exists():
        pytest.skip("no audit page")
    _sign_in(page, server.url + "/audit", "admin", PASSWORD)
    page.get_by_role("heading", name="Audit log").wait_for(state="visible")  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]


def _open_patient(tab: object, server: Server, username: str) -> None:
    _sign_in(tab, server.url + "/patient", username, PASSWORD)
    tab.get_by_role("button", name="Sign out").wait_for(state="visible")  # type: ignore[attr-defined]
    tab.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    tab.get_by_role("textbox", name="Name or MRN", exact=True).fill(SECRET_MRN)  # type: ignore[attr-defined]
    tab.get_by_role("textbox", name="Name or MRN", exact=True).press("Enter")  # type: ignore[attr-defined]
    tab.get_by_role("button", name=re.compile("Open this patient")).click()  # type: ignore[attr-defined]
    tab.get_by_role("tab", name="Record").click()  # type: ignore[attr-defined]
    tab.wait_for_selector(IDLE)  # type: ignore[attr-defined]


@pytest.mark.browser
def test_scheduler_has_no_trial_outcome_control_and_provider_has(server: Server, page: object) -> None:  # noqa: F811  # noqa: F811
    if not (ROOT / "pages" / "patient.py").exists():
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
