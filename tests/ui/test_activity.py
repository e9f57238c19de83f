"""A rerun of a fragment alone (a click inside it) counts as activity and stops once the session ended.

AppTest runs the whole script on every ``run()``, so the fragment-only rerun is simulated by making
:func:`kdash.ui.activity.in_fragment_rerun` say so; the browser test
(``tests/browser/test_browser_fragment_activity.py``) drives a real fragment.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.services.sessions import end_session, start_session
from kdash.storage.database import Database
from kdash.storage.models import UserSession
from kdash.ui import activity
from tests.apptest_support import ACTORS, make_app_db

NURSE = ACTORS["nurse"]


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    yield from make_app_db(tmp_path, monkeypatch)


def _editor_page() -> None:
    import streamlit as st

    from kdash.ui.activity import fragment

    @fragment
    def editor() -> None:
        st.markdown("editor ran")

    editor()


def _signed_in_tab(db: Database, idle_for: timedelta) -> tuple[AppTest, int]:
    """A tab whose server-side session was last seen ``idle_for`` ago."""
    grant = start_session(db, NURSE, DEFAULT_SETTINGS, datetime.now())
    with db.write() as s:
        s.get(UserSession, grant.session_id).last_seen_at = datetime.now() - idle_for  # type: ignore[union-attr]
    at = AppTest.from_function(_editor_page, default_timeout=30)
    at.session_state["kdash_actor"] = NURSE
    at.session_state["kdash_session_id"] = grant.session_id
    at.session_state["kdash_last_activity"] = time.time()
    return at, grant.session_id


def _last_seen(db: Database, session_id: int) -> datetime:
    with db.read() as s:
        return s.get(UserSession, session_id).last_seen_at  # type: ignore[union-attr]


def test_a_click_inside_a_fragment_moves_the_idle_clock(
    app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, session_id = _signed_in_tab(app_db, timedelta(minutes=5))
    before = _last_seen(app_db, session_id)
    monkeypatch.setattr(activity, "in_fragment_rerun", lambda: True)
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["editor ran"]
    assert _last_seen(app_db, session_id) > before + timedelta(minutes=4)


def test_a_full_page_run_leaves_the_check_to_the_pages_guard(
    app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, session_id = _signed_in_tab(app_db, timedelta(minutes=5))
    before = _last_seen(app_db, session_id)
    monkeypatch.setattr(activity, "in_fragment_rerun", lambda: False)
    at.run()
    assert [m.value for m in at.markdown] == ["editor ran"]
    assert _last_seen(app_db, session_id) == before


def test_a_fragment_of_an_ended_session_reruns_the_app_signed_out(
    app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, session_id = _signed_in_tab(app_db, timedelta(0))
    end_session(app_db, session_id, datetime.now())  # signed out in another tab
    calls = iter([True])  # the fragment's own rerun, then the whole app's
    monkeypatch.setattr(activity, "in_fragment_rerun", lambda: next(calls, False))
    at.run()
    assert not at.exception
    assert "kdash_actor" not in at.session_state
    assert "signed out" in str(at.session_state["kdash_logoff_notice"])
