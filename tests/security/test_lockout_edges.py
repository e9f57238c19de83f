"""The lockout at its edges: after exactly ``lockout_failures`` wrong passwords, for exactly
``lockout_minutes``, and the count starts again after a right password (clinic policy, docs/security.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.domain.vocab import Role
from kdash.services.authentication import LoginError, authenticate
from kdash.services.users import create_user
from kdash.storage.database import Database

RIGHT = "correct horse battery"
T0 = datetime(2026, 12, 3, 9, 0)


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    with sqlite_db.write() as s:
        create_user(s, "nurse.jo", Role.NURSE, RIGHT, S)
    return sqlite_db


def _fail(db: Database, times: int, at: datetime = T0) -> None:
    for _ in range(times):
        with pytest.raises(LoginError):
            authenticate(db, "nurse.jo", "wrong guess", S, at)


def test_one_failure_short_of_the_lockout_still_signs_in(db: Database) -> None:
    assert S.lockout_failures == 5
    _fail(db, S.lockout_failures - 1)
    assert authenticate(db, "nurse.jo", RIGHT, S, T0).username == "nurse.jo"


def test_the_lockout_starts_at_the_policy_count(db: Database) -> None:
    _fail(db, S.lockout_failures)
    with pytest.raises(LoginError):
        authenticate(db, "nurse.jo", RIGHT, S, T0)


def test_the_lockout_lasts_exactly_the_policy_minutes(db: Database) -> None:
    assert S.lockout_minutes == 15
    _fail(db, S.lockout_failures)
    almost = T0 + timedelta(minutes=S.lockout_minutes) - timedelta(seconds=1)
    with pytest.raises(LoginError):
        authenticate(db, "nurse.jo", RIGHT, S, almost)
    assert (
        authenticate(db, "nurse.jo", RIGHT, S, T0 + timedelta(minutes=S.lockout_minutes)).username
        == "nurse.jo"
    )


def test_a_right_password_resets_the_count(db: Database) -> None:
    _fail(db, S.lockout_failures - 1)
    authenticate(db, "nurse.jo", RIGHT, S, T0)
    _fail(db, S.lockout_failures - 1)
    assert authenticate(db, "nurse.jo", RIGHT, S, T0).username == "nurse.jo"
