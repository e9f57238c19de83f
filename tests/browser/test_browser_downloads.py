"""A download in Chromium against the real server: the file arrives and the trail holds one event.

Streamlit builds a download whose data is a callable when the browser asks for the file (deferred
download, on its own thread), which AppTest cannot exercise; this test clicks the button for real.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    Server,
    browser,
    clinic_server,
    login,
    page,
    poll,
    screenshot,
    wait_idle,
)

pytestmark = pytest.mark.browser


def _downloads(server: Server) -> list[tuple[str, str, str | None]]:
    from kdash.storage.database import Database, make_engine
    from kdash.storage.models import AuditEvent

    engine = make_engine(server.db_url)
    try:
        with Database(engine=engine).read() as s:
            rows = s.execute(
                select(AuditEvent.username, AuditEvent.outcome, AuditEvent.after_json).where(
                    AuditEvent.action == "download"
                )
            )
            return [(u, o, a) for u, o, a in rows]
    finally:
        engine.dispose()


def test_a_provider_downloads_the_roster_once_and_a_viewer_is_offered_nothing(
    clinic_server: tuple[Server, dict[str, object]],  # noqa: F811
    page: object,  # noqa: F811
) -> None:
    server, seeded = clinic_server
    logins = seeded["logins"]
    assert isinstance(logins, dict)
    login(page, server.url, "provider", logins["provider"])
    page.goto(server.url + "/roster")  # type: ignore[attr-defined]
    wait_idle(page, "active patients match")
    button = page.get_by_role("button", name="Download the")  # type: ignore[attr-defined]
    with page.expect_download() as info:  # type: ignore[attr-defined]
        button.click()
    text = info.value.path().read_text(encoding="utf-8")
    assert "Ashford, Sam" in text
    assert poll(lambda: len(_downloads(server)) == 1)
    page.wait_for_timeout(1500)  # no second event follows (no rerun counts as another download)
    ((user, outcome, after),) = _downloads(server)
    assert (user, outcome) == ("provider", "ok")
    detail = json.loads(after or "{}")
    assert detail["format"] == "csv"
    assert detail["patients"] == text.count("\n") - 1
    assert "Ashford" not in (after or "")
    screenshot(page, "downloads-provider-roster")

    page.get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    login(page, server.url, "viewer", logins["viewer"])
    page.goto(server.url + "/roster")  # type: ignore[attr-defined]
    wait_idle(page, "active patients match")
    assert page.get_by_role("button", name="Download the").count() == 0  # type: ignore[attr-defined]
    assert page.get_by_text("export permission").count() == 1  # type: ignore[attr-defined]
    screenshot(page, "downloads-viewer-roster")
    assert len(_downloads(server)) == 1
