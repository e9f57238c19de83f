"""In Chromium against ``streamlit run``: a click inside a fragment counts as activity.

The planner's scenario editor is an ``st.fragment``: a change there reruns only the editor, not the
page and its guard. The session's idle clock must still move, or a nurse planning for longer than the
idle limit without leaving the editor would be signed out while working.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from sqlalchemy import select

from kdash.services.sessions import TOUCH_EVERY_SECONDS
from kdash.storage.database import Database, make_engine
from kdash.storage.models import UserSession
from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    Server,
    browser,
    clinic_server,
    login,
    page,
    poll,
    wait_idle,
)


def _last_seen(db_url: str) -> datetime:
    engine = make_engine(db_url)
    try:
        with Database(engine=engine).read() as s:
            seen = s.scalar(
                select(UserSession.last_seen_at)
                .where(UserSession.ended_at.is_(None))
                .order_by(UserSession.id.desc())
                .limit(1)
            )
    finally:
        engine.dispose()
    assert seen is not None, "no open session"
    return seen


@pytest.mark.browser
def test_a_change_inside_the_planners_editor_counts_as_activity(
    clinic_server: tuple[Server, dict],  # noqa: F811
    page: object,  # noqa: F811
) -> None:
    server, seeded = clinic_server
    login(page, server.url, "provider", seeded["logins"]["provider"])  # type: ignore[index]
    page.goto(server.url + "/planner?mrn=D0001")  # type: ignore[attr-defined]
    wait_idle(page, "Scenario name")
    before = _last_seen(server.db_url)
    # Activity is written back at most every TOUCH_EVERY_SECONDS: wait past that, then act only inside
    # the editor (no page rerun, no guard).
    time.sleep(TOUCH_EVERY_SECONDS + 1)
    clicked_at = datetime.now()
    sessions = page.get_by_role("spinbutton", name="Sessions")  # type: ignore[attr-defined]
    sessions.fill("2")
    sessions.press("Enter")
    wait_idle(page)
    assert poll(lambda: _last_seen(server.db_url) > before, seconds=10), (
        "a rerun of the fragment alone did not count as activity"
    )
    assert _last_seen(server.db_url) >= clicked_at.replace(microsecond=0)
