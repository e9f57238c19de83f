"""Running kdash pages under Streamlit's AppTest against a fresh SQLite database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from kdash import ui
from kdash.domain.access import Actor
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import Role
from kdash.services.users import create_user
from kdash.storage.database import Database, dispose_engines, open_database

ROOT = Path(__file__).resolve().parent.parent
PAGES_DIR = ROOT / "pages"
PASSWORD = "a-long-test-password"
HOSTILE = "<img src=x onerror=alert(1)>"

ACTORS = {
    "admin": Actor("admin", Role.ADMIN, "Admin Test"),
    "provider": Actor("provider", Role.PROVIDER, "Provider Test"),
    "nurse": Actor("nurse", Role.NURSE, "Nurse Test"),
    "scheduler": Actor("scheduler", Role.SCHEDULER, "Scheduler Test"),
    "viewer": Actor("viewer", Role.READ_ONLY, "Viewer Test"),
}


def page_files() -> list[str]:
    """Every page file present (the list grows as pages are added; none may be left out)."""
    return sorted(p.name for p in PAGES_DIR.glob("*.py"))


def make_app_db(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    users: bool = True,
    fill: Callable[[Database], object] | None = None,
) -> Iterator[Database]:
    """The database the pages open (``KDASH_DATABASE_URL``): a migrated SQLite file in ``folder``, filled
    by ``fill`` (for example :func:`tests.seeded.build_clinic` or the demo clinic), with one user per role
    unless ``users`` is false. The page caches are cleared before and after, and the engines disposed.

    Every AppTest module wraps it in its own fixture.
    """
    url = f"sqlite:///{folder / 'app.db'}"
    monkeypatch.setenv("KDASH_DATABASE_URL", url)
    ui.get_db.clear()
    st.cache_data.clear()
    db = open_database(url)
    if fill is not None:
        fill(db)
    if users:
        with db.write() as session:
            for actor in ACTORS.values():
                create_user(
                    session,
                    actor.username,
                    actor.role,
                    PASSWORD,
                    DEFAULT_SETTINGS,
                    display_name=actor.display_name,
                )
    yield db
    ui.get_db.clear()
    st.cache_data.clear()
    dispose_engines()


def run_page(
    page: str,
    actor: Actor | None = None,
    *,
    last_activity: float | None = None,
    state: dict[str, object] | None = None,
) -> AppTest:
    """Run one page file directly (as a deep link on a fresh server does), signed in as ``actor``."""
    at = AppTest.from_file(str(PAGES_DIR / page), default_timeout=30)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    if actor is not None:
        at.session_state["kdash_actor"] = actor
        at.session_state["kdash_last_activity"] = time.time() if last_activity is None else last_activity
    return at.run()


def app_page_files() -> list[str]:
    """The page files app.py registers in its navigation."""
    import re

    return re.findall(r'_page\(\s*"([\w-]+\.py)"', (ROOT / "app.py").read_text(encoding="utf-8"))


def run_app(actor: Actor | None = None, *, last_activity: float | None = None) -> AppTest:
    """Run app.py (navigation and login gate)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if actor is not None:
        at.session_state["kdash_actor"] = actor
        at.session_state["kdash_last_activity"] = time.time() if last_activity is None else last_activity
    return at.run()


def shows_login_form(at: AppTest) -> bool:
    labels = [t.label for t in at.text_input]
    return "User name" in labels and "Password" in labels


def by_label(elements, label: str):  # type: ignore[no-untyped-def]
    """The widget with this label (AppTest finds widgets by key or index only)."""
    found = [w for w in elements if w.label == label]
    assert found, f"no widget labelled {label!r}; have {[w.label for w in elements]}"
    return found[0]
