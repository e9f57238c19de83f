"""A fresh server offers no way to create accounts; demo accounts stay with the demo clinic.

The red-team run found that the sign-in page of an empty database offered "Load the demo clinic" to
anyone: one click created ``admin`` / ``demo-admin-password`` (published in the README), with no audit
event, and the visitor signed in as an administrator.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select, text
from streamlit.testing.v1 import AppTest

from kdash import ui
from kdash.demo.first_run import DEMO_USERS, create_demo_users, load_demo_clinic
from kdash.domain.access import Actor, Forbidden
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import Role
from kdash.services.authentication import REFUSED, LoginError, authenticate
from kdash.services.users import create_user
from kdash.storage.database import Database, dispose_engines, make_engine, open_database
from kdash.storage.migrate import upgrade
from kdash.storage.models import AuditEvent, User
from tests.apptest_support import ROOT
from tests.seeded import seed_patient

NOW = datetime(2026, 11, 24, 9, 0)
ADMIN = Actor("clinic.admin", Role.ADMIN, "Clinic Admin")


@pytest.fixture
def empty_app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("KDASH_DATABASE_URL", url)
    ui.get_db.clear()
    st.cache_data.clear()
    yield open_database(url)
    ui.get_db.clear()
    st.cache_data.clear()
    dispose_engines()


def test_an_empty_database_shows_the_command_and_nothing_that_creates_accounts(
    empty_app_db: Database,
) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]  # the login form's button, nothing else
    shown = " ".join(i.value for i in at.info)
    assert "python -m kdash seed --demo --if-empty" in shown
    assert "python -m kdash users add NAME --role admin" in shown
    with empty_app_db.read() as s:
        assert s.scalars(select(User)).all() == []


def test_a_signed_in_admin_loads_the_demo_clinic_audited_and_a_nurse_may_not(sqlite_db: Database) -> None:
    with sqlite_db.write() as s:
        create_user(s, ADMIN.username, Role.ADMIN, "an-admin-pass-phrase", DEFAULT_SETTINGS)
    with pytest.raises(Forbidden):
        load_demo_clinic(sqlite_db, Actor("nurse.jo", Role.NURSE), patients=6)
    logins = load_demo_clinic(sqlite_db, ADMIN, patients=6)
    assert [u for u, _, _ in logins] == [u for u, _, _ in DEMO_USERS]
    with sqlite_db.read() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        demo = dict(s.execute(select(User.username, User.is_demo)).all())
    first = events[0]
    assert (first.username, first.action, first.outcome) == ("nurse.jo", "manage_users", "refused")
    loaded = [e for e in events if e.action == "load_demo_clinic"]
    assert [(e.username, e.outcome) for e in loaded] == [(ADMIN.username, "ok")]
    created = [e for e in events if e.action == "create_user"]
    assert sorted(e.after_json or "" for e in created) == sorted(
        f'{{"demo": true, "role": "{r.value}", "username": "{u}"}}' for u, r, _ in DEMO_USERS
    )
    assert demo == {ADMIN.username: False, **{u: True for u, _, _ in DEMO_USERS}}
    # A second load is refused: the database now holds patients.
    with pytest.raises(ValueError, match="already holds patients"):
        load_demo_clinic(sqlite_db, ADMIN, patients=6)


def test_demo_accounts_are_refused_once_a_real_patient_is_in_the_database(sqlite_db: Database) -> None:
    create_demo_users(sqlite_db)
    with sqlite_db.write() as s:
        seed_patient(s, "DEMO-000001")
    assert authenticate(sqlite_db, "nurse", "demo-nurse-password", DEFAULT_SETTINGS, NOW).role is Role.NURSE
    with sqlite_db.write() as s:
        seed_patient(s, "RT-0001")
    with pytest.raises(LoginError, match=f"^{REFUSED}$"):
        authenticate(sqlite_db, "nurse", "demo-nurse-password", DEFAULT_SETTINGS, NOW)
    with sqlite_db.read() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (last.action, last.outcome) == ("login", "refused")
    assert "demo account" in (last.reason or "")


def test_upgrade_marks_existing_accounts_that_still_have_the_published_demo_password(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0007")
    from kdash.domain.passwords import hash_password

    with engine.begin() as conn:
        for name, password in [("admin", "demo-admin-password"), ("nurse", "the-clinics-own-pass")]:
            conn.execute(
                text(
                    "INSERT INTO app_user (username, display_name, role, password_hash, active, "
                    "failed_logins) VALUES (:u, :u, :r, :h, 1, 0)"
                ),
                {"u": name, "r": "admin" if name == "admin" else "nurse", "h": hash_password(password)},
            )
    upgrade(engine)
    with Database(engine=engine).read() as s:
        marked = dict(s.execute(select(User.username, User.is_demo)).all())
    engine.dispose()
    assert marked == {"admin": True, "nurse": False}
