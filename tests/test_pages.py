"""Each clinical page through Streamlit's AppTest on a small synthetic clinic built around today."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from kdash.auth import Actor
from kdash.db import Database, dispose_engines, make_engine
from kdash.migrate import upgrade
from kdash.models import Assessment, AuditEvent, Infusion
from kdash.vocab import Role
from tests.clinic_support import Clinic, build_clinic

PAGES = Path(__file__).resolve().parent.parent / "pages"
PROVIDER = Actor("provider", Role.PROVIDER, "Dr A. Demo")
NURSE = Actor("nurse", Role.NURSE, "Nurse B. Demo")
VIEWER = Actor("viewer", Role.READ_ONLY, "Viewer")


@pytest.fixture
def clinic_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Clinic]]:
    url = f"sqlite:///{tmp_path / 'kdash.db'}"
    engine = make_engine(url)
    upgrade(engine)
    db = Database(engine=engine)
    clinic = build_clinic(db, date.today())
    monkeypatch.setenv("KDASH_DATABASE_URL", url)
    from kdash import ui

    ui.get_db.clear()
    import streamlit as st

    st.cache_data.clear()
    yield db, clinic
    ui.get_db.clear()
    engine.dispose()
    dispose_engines()


def page(name: str, actor: Actor = PROVIDER, **state: object) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=30)
    at.session_state["kdash_actor"] = actor
    at.session_state["kdash_last_activity"] = time.time()
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def text_of(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "title", "subheader", "info", "error", "success", "warning"):
        parts += [str(el.value) for el in getattr(at, kind)]
    return "\n".join(parts)


def charts(at: AppTest) -> int:
    return sum(1 for el in at.main if getattr(el, "type", "") == "plotly_chart")


def count(db: Database, model: type, *where: object) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- huddle -----------------------------------------------------------------------------------------------


def test_huddle_lists_todays_patients_most_urgent_first(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("huddle.py")
    assert not at.exception
    body = text_of(at)
    assert "Ellery" in body and "Ashford" in body and "Brook" in body
    assert body.index("Ellery") < body.index("Ashford")  # SUICIDE_RISK (urgent) before no flags
    assert "Suicide risk" in body and "Not ready" in body and "4 / 10" in body
    assert charts(at) == 1


def test_huddle_other_day_is_empty_with_next_step(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("huddle.py")
    at.date_input(key="huddle_day").set_value(date.today() - timedelta(days=1)).run()
    assert not at.exception
    assert "No infusions are booked" in text_of(at)


def app(actor: Actor = PROVIDER) -> AppTest:
    """The whole app (navigation included), signed in: needed wherever a page switches to another."""
    at = AppTest.from_file(str(PAGES.parent / "app.py"), default_timeout=30)
    at.session_state["kdash_actor"] = actor
    at.session_state["kdash_last_activity"] = time.time()
    return at.run()


def test_huddle_button_opens_patient(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = app()
    assert not at.exception
    at.button(key=f"huddle_open_{c.ids['suicide_risk']}").click().run()
    assert not at.exception
    assert at.session_state["patient_id"] == c.ids["suicide_risk"]
    assert "Ellery" in [t.value for t in at.title][0]


def test_page_refuses_without_login(clinic_db: tuple[Database, Clinic]) -> None:
    at = AppTest.from_file(str(PAGES / "huddle.py"), default_timeout=30).run()
    assert not at.exception
    assert "Sign in" in [b.label for b in at.button]
    assert "Morning huddle" not in text_of(at)
