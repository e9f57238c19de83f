"""Nothing leaves the building: every request of every page goes to the app's own server.

A clinic's network may forbid outside hosts, and every outside fetch tells that host who is using
kdash (the address, the time, the page). The browser's requests are recorded with Playwright's
``page.on("request")`` from the sign-in page through every page of the navigation, as an administrator
(who sees every page), and each page is opened twice (first visit and a rerun).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    Server,
    browser,
    clinic_server,
    login,
    page,
    screenshot,
    wait_idle,
)

pytestmark = pytest.mark.browser


def _outside(requests: list[str], own: str) -> list[str]:
    host = urlsplit(own).netloc
    return sorted(
        {
            u
            for u in requests
            if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != host
        }
    )


LINKY = "https://evil.example/x www.evil.example ops@evil.example"


def _store_links(db_url: str) -> str:
    """Every patient's provider and escort hold text a Markdown renderer would turn into links.

    Returns one patient's MRN: the patient page shows the provider and the escort as text.
    """
    from sqlalchemy import select

    from kdash.storage.database import Database
    from kdash.storage.models import Patient

    db = Database(db_url)
    with db.write() as s:
        for patient in s.scalars(select(Patient)):
            patient.provider = LINKY
            patient.escort_name = LINKY
            mrn = patient.mrn
    db.engine.dispose()
    return mrn


def test_every_page_requests_only_the_app_itself_and_shows_stored_links_as_text(
    clinic_server: tuple[Server, dict],  # noqa: F811
    page,  # noqa: F811
) -> None:
    server, seeded = clinic_server
    mrn = _store_links(server.db_url)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    login(page, server.url, "admin", seeded["logins"]["admin"])  # type: ignore[index]
    links = page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')
    count = links.count()
    assert count >= 8
    visited = []
    live_links: list[str] = []
    shown = 0
    for i in range(count):
        link = links.nth(i)
        visited.append(link.get_attribute("href"))
        link.click()
        page.wait_for_timeout(300)
        wait_idle(page)
        shown += page.get_by_text("evil.example").count()
        live_links += [
            f"{visited[-1]}: {href}"
            for href in page.locator("a").evaluate_all("(links) => links.map((a) => a.href)")
            if "evil.example" in href
        ]
        if "huddle" in (visited[-1] or "") or i == 0:
            screenshot(page, "stored-links-as-text-huddle")
    # The patient page, opened from its address, shows the stored provider and escort.
    visited.append(f"/patient?mrn={mrn}")
    page.goto(f"{server.url}/patient?mrn={mrn}")
    page.get_by_text("evil.example").first.wait_for(timeout=30_000)
    wait_idle(page)
    shown += page.get_by_text("evil.example").count()
    live_links += [
        f"{visited[-1]}: {href}"
        for href in page.locator("a").evaluate_all("(links) => links.map((a) => a.href)")
        if "evil.example" in href
    ]
    screenshot(page, "stored-links-as-text-patient")
    assert shown > 0  # the stored values are on screen, as text
    assert live_links == []
    assert len(requests) > 20
    assert _outside(requests, server.url) == [], visited
