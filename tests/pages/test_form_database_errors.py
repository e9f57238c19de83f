"""A database that refuses a form's write: the form says what happened and what to do, nothing is written.

The database is made to refuse at the end of the form's write transaction, after the rows were sent: a
locked SQLite file, a value PostgreSQL cannot store, a row another writer stored at the same moment.
Whatever the driver said (the statement, the row's values) never reaches the page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from kdash.domain.errors import DatabaseRefused, Refused
from kdash.services.refusals import refusing_database_errors
from kdash.storage.database import Database
from kdash.storage.models import Assessment, AuditEvent, Patient, Setting, User
from tests.apptest_support import ACTORS, PAGES_DIR, PASSWORD, by_label, make_app_db, run_page
from tests.pages.test_pages import NURSE, PROVIDER, clinic_db, count, errors, page, text_of
from tests.seeded import Clinic

__all__ = ["clinic_db"]  # the fixture, used by name

#: What the driver said: a statement with a patient's MRN in it, and the driver's own words.
STATEMENT = "INSERT INTO assessments (mrn, score) VALUES (?, ?)"
VALUES = ("D0001", 14)
LOCKED = OperationalError(STATEMENT, VALUES, sqlite3.OperationalError("database is locked"))
NUL = DataError(STATEMENT, VALUES, ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
TAKEN = IntegrityError(STATEMENT, VALUES, sqlite3.IntegrityError("UNIQUE constraint failed: x.y"))

CASES = [
    pytest.param(
        LOCKED, "the database could not complete the change (busy or unreachable); try again", id="locked"
    ),
    pytest.param(NUL, "a value cannot be stored", id="data"),
    pytest.param(TAKEN, "a record conflicts with one stored at the same moment", id="integrity"),
]


def refusing_writes(monkeypatch: pytest.MonkeyPatch, error: SQLAlchemyError) -> None:
    """From now on every write transaction sends its rows, then the database refuses to commit."""
    real_write = Database.write

    @contextmanager
    def write(self: Database) -> Iterator[Session]:
        with real_write(self) as session:
            yield session
            session.flush()
            raise error

    monkeypatch.setattr(Database, "write", write)


def shows_no_driver_text(at: AppTest) -> None:
    assert not at.exception
    shown = errors(at)
    for leaked in ("INSERT", "D0001", "database is locked", "NUL (0x00)", "UNIQUE", "Traceback"):
        assert leaked not in shown, leaked


# --- the patient page's forms ------------------------------------------------------------------------


@pytest.mark.parametrize(("error", "said"), CASES)
def test_a_score_the_database_refuses_is_not_saved_and_the_form_says_why(
    clinic_db: tuple[Database, Clinic], monkeypatch: pytest.MonkeyPatch, error: SQLAlchemyError, said: str
) -> None:
    db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["on_course"])
    assert not at.exception
    before = count(db, Assessment)
    refusing_writes(monkeypatch, error)
    at.selectbox(key="f_assess_instrument").set_value("GAD-7")
    at.number_input(key="f_assess_score").set_value(9)
    at.button(key="FormSubmitter:form_assessment-Save score").click().run()
    shows_no_driver_text(at)
    assert f"Not saved: {said}" in errors(at)
    assert "nothing was written" in errors(at)
    monkeypatch.undo()
    assert count(db, Assessment) == before


def test_a_new_patient_the_database_refuses_is_not_added(
    clinic_db: tuple[Database, Clinic], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _c = clinic_db
    at = page("patient.py", PROVIDER)
    before = count(db, Patient)
    refusing_writes(monkeypatch, LOCKED)
    at.text_input(key="f_add_mrn").input("N0100")
    at.text_input(key="f_add_last").input("Newcombe")
    at.text_input(key="f_add_first").input("Robin")
    at.date_input(key="f_add_dob").set_value(date(1975, 3, 2))
    at.selectbox(key="f_add_sex").set_value("female")
    at.selectbox(key="f_add_indication").set_value("ptsd")
    at.text_input(key="f_add_provider").input("Dr A. Demo")
    at.button(key="FormSubmitter:form_add_patient-Add patient").click().run()
    shows_no_driver_text(at)
    assert "Not added: the database could not complete the change" in errors(at)
    monkeypatch.undo()
    assert count(db, Patient) == before
    assert count(db, AuditEvent, AuditEvent.action == "add_patient") == 0


# --- the administrator's forms and the sign-in form ----------------------------------------------------


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    yield from make_app_db(tmp_path, monkeypatch)


def test_a_setting_the_database_refuses_is_not_saved(
    app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = run_page("settings.py", ACTORS["admin"])
    by_label(at.selectbox, "Setting").set_value("idle_logoff_minutes").run()
    refusing_writes(monkeypatch, NUL)
    by_label(at.number_input, "Value").set_value(10)
    next(b for b in at.button if b.label == "Save").click().run()
    shows_no_driver_text(at)
    assert "a value cannot be stored" in errors(at)
    monkeypatch.undo()
    assert count(app_db, Setting) == 0


def test_a_user_the_database_refuses_is_not_added(app_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_page("users.py", ACTORS["admin"])
    users = count(app_db, User)
    refusing_writes(monkeypatch, TAKEN)
    by_label(at.text_input, "User name").set_value("nurse.new")
    by_label(at.text_input, "Display name").set_value("New Nurse")
    by_label(at.selectbox, "Role").set_value("nurse")
    by_label(at.text_input, "Password").set_value("a-good-long-password")
    by_label(at.text_input, "Repeat the password").set_value("a-good-long-password")
    next(b for b in at.button if b.label == "Add user").click().run()
    shows_no_driver_text(at)
    assert "a record conflicts with one stored at the same moment" in errors(at)
    monkeypatch.undo()
    assert count(app_db, User) == users


def test_sign_in_while_the_database_is_locked_says_so(
    app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = AppTest.from_file(str(PAGES_DIR / "huddle.py"), default_timeout=30).run()  # a deep link
    refusing_writes(monkeypatch, LOCKED)
    at.text_input(key="login_username").input("nurse")
    at.text_input(key="login_password").input(PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click().run()
    shows_no_driver_text(at)
    assert "Not signed in: the database could not complete the change" in errors(at)
    assert "Morning huddle" not in text_of(at)  # still signed out
    monkeypatch.undo()
    assert count(app_db, AuditEvent, AuditEvent.action == "login") == 0


# --- the one place that maps them -------------------------------------------------------------------------


@pytest.mark.parametrize(("error", "said"), CASES)
def test_every_database_error_becomes_a_refusal_in_words(error: SQLAlchemyError, said: str) -> None:
    def write() -> None:
        raise error

    with pytest.raises(DatabaseRefused) as caught:
        refusing_database_errors(write)()
    assert isinstance(caught.value, Refused)
    assert str(caught.value).startswith(said)
    assert str(caught.value).endswith("; nothing was written")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_other_errors_pass_through_unchanged() -> None:
    def refuse() -> None:
        raise Refused("an eleventh infusion")

    with pytest.raises(Refused, match="an eleventh infusion") as caught:
        refusing_database_errors(refuse)()
    assert not isinstance(caught.value, DatabaseRefused)
