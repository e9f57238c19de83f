"""In Chromium: ctrl-click a patient's name on the screening queue opens that patient in a new tab.

The link is a real ``<a href="/patient?mrn=…">`` (``kdash.ui.show_patient_link``): the new tab loads
the address and the patient page opens that patient (after the sign-in form where the new tab has no
signed-in session yet).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser_support import IDLE, browser, clinic_server, login, page, screenshot, wait_idle

__all__ = ["browser", "clinic_server", "page"]  # fixtures used by name

pytestmark = pytest.mark.browser


def _signed_in(tab: Any, username: str, password: str) -> None:
    """Sign in on this tab if it shows the sign-in form (a new tab may share the session, or not)."""
    form = tab.get_by_label("Password", exact=True)
    # Either the sign-in form or the patient's page comes up; sign in only if it is the form.
    tab.locator('input[type="password"], [data-testid="stHeading"]').first.wait_for(timeout=20_000)
    if form.count():
        tab.get_by_label("User name").fill(username)
        form.fill(password)
        tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_selector(IDLE)


def test_ctrl_click_a_patient_link_opens_that_patient_in_a_new_tab(clinic_server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    server, seeded = clinic_server
    password = seeded["logins"]["provider"]
    login(page, server.url, "provider", password)
    page.get_by_role("link", name="Screening").click()
    wait_idle(page, "Screening queue")
    link = page.get_by_role("link", name="Dunmore, Sam")
    expect(link).to_have_attribute("href", "/patient?mrn=D0004")
    with page.context.expect_page() as opened:
        link.click(modifiers=["ControlOrMeta"])
    tab = opened.value
    tab.wait_for_load_state()
    _signed_in(tab, "provider", password)
    expect(tab.get_by_role("heading", name="Dunmore, Sam")).to_be_visible(timeout=20_000)
    parts = urlsplit(tab.url)
    assert (parts.path, parse_qs(parts.query)["mrn"]) == ("/patient", ["D0004"])
    screenshot(tab, "patient-from-ctrl-click")
    # The first tab stayed where it was.
    assert urlsplit(page.url).path == "/screening"
    tab.close()
