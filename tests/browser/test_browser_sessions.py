"""In Chromium against ``streamlit run``: a sign-in survives a refresh and a new tab; sign-out ends it.

Also: a deep link such as ``/patient?mrn=X`` sent in a message and opened while signed out shows the
sign-in form at that address, and after signing in the user is on that patient's page, address
unchanged; the session cookie is one page scripts cannot read, and a copy of it is worthless after
sign-out.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.apptest_support import PASSWORD
from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    IDLE,
    Server,
    browser,
    page,
    seed_staff,
    seeded_server,
)
from tests.seeded import seed_patient

MRN = "RT-LINK 7&1"
FAMILY, GIVEN = "Linkova", "Ada"


def _seed(db_url: str) -> None:
    seed_staff(db_url, lambda s: seed_patient(s, MRN, GIVEN, FAMILY))


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with seeded_server(_seed, prefix="kdash-browser-sessions-") as srv:
        yield srv


def _signed_in(tab: object) -> None:
    tab.get_by_role("button", name="Sign out").wait_for(state="visible")  # type: ignore[attr-defined]
    tab.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    assert tab.get_by_label("Password", exact=True).count() == 0  # type: ignore[attr-defined]


def _shows_login(tab: object) -> None:
    tab.get_by_label("Password", exact=True).wait_for(state="visible")  # type: ignore[attr-defined]
    tab.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    assert tab.get_by_role("button", name="Sign out").count() == 0  # type: ignore[attr-defined]


def _session_cookie(context: object) -> dict[str, object] | None:
    found = [c for c in context.cookies() if c["name"] == "kdash_session"]  # type: ignore[attr-defined]
    return dict(found[0]) if found else None


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
    # The first request of a fresh server: no session has run the navigation yet, and the first run
    # imports everything (slow on a busy test machine).
    page.set_default_timeout(60_000)  # type: ignore[attr-defined]
    page.goto(server.url + address)  # type: ignore[attr-defined]
    page.get_by_label("Password", exact=True).wait_for(state="visible")  # type: ignore[attr-defined]
    assert GIVEN not in page.inner_text("body")  # type: ignore[attr-defined]

    _sign_in(page, "nurse")

    parts = urlsplit(page.url)  # type: ignore[attr-defined]
    assert parts.path == "/patient"
    menu = page.locator('[data-testid="stSidebarNav"]').inner_text()  # type: ignore[attr-defined]
    assert "Morning huddle" in menu  # the app's menu, not the files of pages/
    assert parse_qs(parts.query)["mrn"] == [MRN]
    heading = page.locator("h1").first.inner_text()  # type: ignore[attr-defined]
    assert heading == f"{FAMILY}, {GIVEN}"  # the page opens the patient of the address


@pytest.mark.browser
def test_refresh_and_new_tab_keep_the_session_and_sign_out_ends_both(server: Server, page: object) -> None:  # noqa: F811
    from tests.browser_support import poll

    context = page.context  # type: ignore[attr-defined]
    page.goto(server.url)  # type: ignore[attr-defined]
    _sign_in(page, "nurse")
    assert poll(lambda: _session_cookie(context) is not None, 10), "the session cookie was never set"
    cookie = _session_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("kdash_session") == -1  # type: ignore[attr-defined]

    page.reload()  # type: ignore[attr-defined]
    _signed_in(page)

    other = context.new_page()
    other.goto(server.url)
    _signed_in(other)

    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    _shows_login(page)

    # The other tab's next interaction lands on the sign-in form, and so does a refresh.
    other.get_by_role("link", name="Roster").click()
    _shows_login(other)
    other.reload()
    _shows_login(other)

    # A copy of the cookie taken before sign-out signs no one in.
    thief = page.context.browser.new_context()  # type: ignore[attr-defined]
    try:
        thief.add_cookies([{"name": "kdash_session", "value": cookie["value"], "url": server.url}])
        tab = thief.new_page()
        tab.goto(server.url)
        _shows_login(tab)
    finally:
        thief.close()
