"""Random and hostile input at every door: a clear refusal or a safe stored value, never a crash.

Doors: the ``users`` command line, the login, the settings service and the booking service. Clinical forms
get the same treatment in their own tests as they land. "Clear" means a message for the user: a
:class:`ValueError`/``ValidationError``/:class:`Refused`/:class:`LoginError`, or a non-zero exit with
``error:`` on stderr, never a traceback or a database exception.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kdash.cli.main import main
from kdash.domain.access import Actor
from kdash.domain.errors import Refused, ValidationError
from kdash.domain.policy import DEFAULT_SETTINGS, describe
from kdash.domain.vocab import Role
from kdash.services.authentication import LoginError, authenticate
from kdash.services.booking import book_infusion
from kdash.services.settings_admin import update_setting
from kdash.storage.database import dispose_engines, open_database
from kdash.storage.models import Infusion, User
from tests.seeded import seed_cleared_patient, sqlite_template

HOSTILE_STRINGS = [
    "=cmd|' /C calc'!A0",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE app_user; --",
    "../../etc/passwd",
    "\x00",
    "a" * 10_000,
    "ʼ; 𝕏 ‮evil",
    "",
    " ",
    "\n",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999999",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=300))
anything = st.one_of(
    hostile_text,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-10, 10), max_size=10),
    st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=5),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

_template_dir = Path(tempfile.mkdtemp(prefix="kdash-hostile-"))


def _template() -> Path:
    # Course 1: cleared screening, trial not yet booked.
    return sqlite_template(_template_dir / "template.db", lambda s: seed_cleared_patient(s, "MRN-HOST-1"))


@pytest.fixture
def fresh_db_url(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "kdash.db"
    shutil.copy(_template(), path)
    yield f"sqlite:///{path}"
    dispose_engines()


def _cli(
    argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusal (bad choice, missing value): exit 2
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@FAST
@given(name=hostile_text, display=hostile_text, email=hostile_text, password=hostile_text)
def test_users_add_with_hostile_values_refuses_clearly_or_stores_them_safely(
    name: str,
    display: str,
    email: str,
    password: str,
    fresh_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if (
        "\x00" in name + display + email
        or name.startswith("-")
        or display.startswith("-")
        or email.startswith("-")
    ):
        return  # argv cannot carry NUL; a leading dash is an option to argparse (refused with exit 2)
    argv = ["users", "add", name, "--role", "nurse", "--display-name", display, "--email", email]
    code, err = _cli([*argv, "--db", fresh_db_url], password + "\n", monkeypatch, capsys)
    assert "Traceback" not in err
    with open_database(fresh_db_url).read() as s:
        stored = s.scalar(select(User).where(User.username == name.strip()))
    if code == 0:
        assert stored is not None
        assert stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert password not in stored.password_hash
    else:
        assert code == 2
        assert err.startswith("error: ")


@FAST
@given(role=hostile_text)
def test_users_add_with_a_made_up_role_is_refused(
    role: str, fresh_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if role in {r.value for r in Role} or "\x00" in role:
        return
    code, err = _cli(
        ["users", "add", "x.y", "--role", role, "--db", fresh_db_url], "p" * 20 + "\n", monkeypatch, capsys
    )
    assert code == 2
    assert "error:" in err  # argparse names the problem (invalid choice, missing value, bad option)
    with open_database(fresh_db_url).read() as s:
        assert s.scalar(select(User).where(User.username == "x.y")) is None


@FAST
@given(username=hostile_text, password=hostile_text)
def test_login_with_hostile_input_is_refused_with_one_message(
    username: str, password: str, fresh_db_url: str
) -> None:
    db = open_database(fresh_db_url)
    with pytest.raises(LoginError) as exc:
        authenticate(db, username, password, DEFAULT_SETTINGS, datetime(2026, 11, 24, 9, 0))
    assert str(exc.value) == "Wrong user name or password."


POLICY_KEYS = [m["key"] for m in describe() if m["policy"]]


@FAST
@given(key=st.sampled_from(POLICY_KEYS), raw=anything)
def test_settings_with_hostile_values_are_validated(key: str, raw: Any, fresh_db_url: str) -> None:
    db = open_database(fresh_db_url)
    admin = Actor("admin", Role.ADMIN)
    try:
        new = update_setting(db, admin, key, raw)
    except ValidationError as exc:
        problems = exc.problems
        assert problems
        assert all(p.message for p in problems)
        return
    stored = getattr(new, key)
    # What was accepted is of the setting's type and keeps the calendar possible.
    assert new.open_hour * 60 + new.chair_minutes <= new.close_hour * 60
    if isinstance(DEFAULT_SETTINGS.__getattribute__(key), int) and stored is not None:
        assert isinstance(stored, int)
        assert not isinstance(stored, bool)


#: "Now" for the booking doors: a Monday morning (every booking before it is in the past).
BOOKED_AT = datetime(2026, 11, 30, 7, 0)


@FAST
@given(
    course=st.one_of(st.integers(-5, 5), st.integers(min_value=10**12, max_value=10**18)),
    when=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
    chair=st.one_of(st.integers(-(10**12), 10**12), st.sampled_from([1, 2, 3, 4])),
)
def test_booking_with_hostile_values_refuses_clearly(
    course: int, when: datetime, chair: int, fresh_db_url: str
) -> None:
    db = open_database(fresh_db_url)
    try:
        booking = book_infusion(db, Actor("sched", Role.SCHEDULER), course, when, now=BOOKED_AT, chair=chair)
    except (Refused, ValidationError, LookupError) as exc:
        message = str(exc)
        assert message
        return
    start = booking.scheduled_at
    assert booking.chair == chair
    assert 1 <= booking.chair <= DEFAULT_SETTINGS.chairs
    assert DEFAULT_SETTINGS.open_hour <= start.hour
    closing = start.replace(hour=DEFAULT_SETTINGS.close_hour % 24, minute=0, second=0, microsecond=0)
    assert start + timedelta(minutes=DEFAULT_SETTINGS.chair_minutes) <= closing


@pytest.mark.parametrize("bad", ["2026-12-07", 20261207, None, 1.5, "chair"])
def test_booking_with_a_wrong_time_type_refuses_clearly(bad: Any, fresh_db_url: str) -> None:
    db = open_database(fresh_db_url)
    sched = Actor("sched", Role.SCHEDULER)
    with pytest.raises(ValidationError, match="Date and time of the infusion are missing"):
        book_infusion(db, sched, 1, bad, now=BOOKED_AT, chair=1)
    with db.read() as s:
        assert s.scalars(select(Infusion)).all() == []


@pytest.mark.parametrize(
    ("bad", "refusal"),
    [
        ("2026-12-07", ValidationError),
        (1.5, ValidationError),
        ("chair", ValidationError),
        (True, ValidationError),
        (20261207, Refused),
        (0, Refused),
    ],
)
def test_booking_with_a_wrong_chair_refuses_clearly(
    bad: Any, refusal: type[Exception], fresh_db_url: str
) -> None:
    """A chair is a chair number of the clinic; None (no chair asked for) means the earliest free one."""
    db = open_database(fresh_db_url)
    sched = Actor("sched", Role.SCHEDULER)
    with pytest.raises(refusal, match="[Cc]hair"):
        book_infusion(db, sched, 1, datetime(2026, 12, 7, 9), now=BOOKED_AT, chair=bad)
    with db.read() as s:
        assert s.scalars(select(Infusion)).all() == []


def _run_phi_workload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """CLI commands and bookings over a database holding a patient; returns the PHI to look for."""
    url = f"sqlite:///{tmp_path / 'phi.db'}"
    db = open_database(url)
    names = ["Philomena", "Quartermaine", "Escortina"]
    with db.write() as s:
        course = seed_cleared_patient(s, "MRN-PHI-90210", names[0], names[1], escort=names[2])
    out = tmp_path / "audit.csv"
    for argv in (
        ["audit", "export", "--out", str(out), "--patient", "MRN-PHI-90210"],
        ["audit", "verify"],
        ["users", "list"],
        ["backup", str(tmp_path / "b.db")],
    ):
        code, _ = _cli([*argv, "--db", url], "", monkeypatch, capsys)
        assert code == 0
    sched = Actor("sched", Role.SCHEDULER)
    when = datetime(2026, 12, 7, 9)
    book_infusion(db, sched, course, when, now=BOOKED_AT, chair=1)
    with pytest.raises(Refused):
        book_infusion(db, sched, course, when, now=BOOKED_AT, chair=1)
    return ["MRN-PHI-90210", *names]


def test_logs_at_debug_carry_no_patient_name_or_mrn(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server's root logger at DEBUG: no name or MRN reaches a log line."""
    caplog.set_level(logging.DEBUG)
    secrets = _run_phi_workload(tmp_path, monkeypatch, capsys)
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert caplog.records  # something was logged at DEBUG
    for secret in secrets:
        assert secret not in logged


def test_sql_statement_logging_hides_the_values(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Even with SQL statement logging switched on, bound values (names, MRNs) are not written."""
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    try:
        secrets = _run_phi_workload(tmp_path, monkeypatch, capsys)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "INSERT INTO infusion" in logged
    for secret in secrets:
        assert secret not in logged
