"""The huddle at the point of use: names in the first screen on a desktop and a tablet, flag filters."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    Server,
    browser,
    clinic_server,
    screenshot,
    wait_idle,
)

pytestmark = pytest.mark.browser

LIST_HEADING = "most urgent first, then by chair time"
NAMES = ("Ellery, Sam", "Brook, Sam", "Ashford, Sam")


PASSWORD = "a-long-huddle-test-password"


def _provider(server: Server) -> None:
    """A clinic provider account (not a demo one: demo accounts are refused beside real patients)."""
    from sqlalchemy import select

    from kdash.domain.policy import DEFAULT_SETTINGS
    from kdash.domain.vocab import Role
    from kdash.services.users import create_user
    from kdash.storage.database import Database, make_engine
    from kdash.storage.models import User

    engine = make_engine(server.db_url)
    db = Database(engine=engine)
    with db.write() as session:
        if session.scalar(select(User.id).where(User.username == "huddle-provider")) is None:
            create_user(session, "huddle-provider", Role.PROVIDER, PASSWORD, DEFAULT_SETTINGS)
    engine.dispose()


def _open_huddle(chromium: object, server: Server, width: int, height: int) -> object:
    _provider(server)
    context = chromium.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.get_by_label("User name").fill("huddle-provider")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    try:
        wait_idle(page, LIST_HEADING)
    except Exception:
        screenshot(page, f"huddle-open-failed-{width}")
        raise
    page.wait_for_timeout(800)  # the sidebar folds away on a narrow window after the first paint
    return page


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1024, 768)])
def test_huddle_names_are_in_the_first_screen(
    clinic_server: tuple[Server, dict],  # noqa: F811
    browser: object,  # noqa: F811
    width: int,
    height: int,
) -> None:
    from playwright.sync_api import expect

    server, _ = clinic_server
    page = _open_huddle(browser, server, width, height)
    try:
        first = page.get_by_role("link", name=NAMES[0])  # type: ignore[attr-defined]
        expect(first).to_be_visible()
        box = first.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= height, f"first name at y={box['y']} below the {height} px screen"
        # A name is a real link to the patient's address.
        assert first.get_attribute("href").endswith("/patient?mrn=D0005")
        # Nothing cut: every "Open patient" button shows its whole label.
        for button in page.get_by_role("button", name="Open patient").all():  # type: ignore[attr-defined]
            assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1")
        sidebar = page.locator('[data-testid="stSidebar"]')  # type: ignore[attr-defined]
        expected = "true" if width <= 1200 else "false"
        assert sidebar.get_attribute("data-collapsed") == expected
        screenshot(page, f"huddle-first-screen-{width}x{height}")
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_clicking_a_flag_count_narrows_the_list(
    clinic_server: tuple[Server, dict],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    server, _ = clinic_server
    page = _open_huddle(browser, server, 1440, 900)
    try:
        for name in NAMES:
            expect(page.get_by_role("link", name=name)).to_be_visible()  # type: ignore[attr-defined]
        page.get_by_role("button", name=re.compile(r"Urgent: Suicide risk · 1")).click()  # type: ignore[attr-defined]
        wait_idle(page, "1 of 3 patients")
        expect(page.get_by_role("link", name="Ellery, Sam")).to_be_visible()  # type: ignore[attr-defined]
        expect(page.get_by_role("link", name="Ashford, Sam")).to_have_count(0)  # type: ignore[attr-defined]
        expect(page.get_by_role("link", name="Brook, Sam")).to_have_count(0)  # type: ignore[attr-defined]
        screenshot(page, "huddle-filtered-by-flag")
    finally:
        page.context.close()  # type: ignore[attr-defined]
