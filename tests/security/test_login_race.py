"""Parallel guesses at one account: the lockout holds on PostgreSQL, and every refusal reads the same.

The red-team run sent 30 simultaneous sign-ins (29 wrong, the 30th right) and the account was neither
locked nor its count above 1: authentication read the count, added one in Python and wrote it back
without a row lock. These tests race real threads against the real server.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kdash.domain import passwords
from kdash.domain.access import Actor
from kdash.domain.policy import DEFAULT_SETTINGS, ClinicPolicy
from kdash.domain.vocab import Role
from kdash.services import authentication
from kdash.services.authentication import REFUSED, LoginError, authenticate
from kdash.services.users import create_user, unlock_user
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, User

NOW = datetime(2026, 11, 24, 9, 0)
RIGHT = "the-right-password-42"


@pytest.fixture
def quick_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The races are about counting, not hashing: a cheap check keeps 29 threads from queueing on
    Argon2's 64 MiB per guess on a shared two-core machine (the counting runs unchanged)."""
    monkeypatch.setattr(authentication, "verify_password", lambda stored, given: stored == f"plain:{given}")
    monkeypatch.setattr(authentication, "dummy_hash", lambda: "plain:\x00")
    monkeypatch.setattr(authentication, "needs_rehash", lambda stored: False)


def _race(db: Database, guesses: list[str], client: str | None = None) -> list[str]:
    """Every guess in its own thread, released together; returns 'ok' or the refusal message each."""
    barrier = threading.Barrier(len(guesses))
    answers: list[str] = []
    lock = threading.Lock()

    def guess(password: str) -> None:
        barrier.wait()
        try:
            authenticate(db, "dr.a", password, DEFAULT_SETTINGS, NOW, client=client)
            answer = "ok"
        except LoginError as exc:
            answer = str(exc)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=guess, args=(p,)) for p in guesses]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a sign-in hung"
    return answers


@pytest.mark.parametrize("wrong", [DEFAULT_SETTINGS.lockout_failures, 29])
def test_parallel_wrong_guesses_lock_the_account_after_the_policys_count(
    db: Database, wrong: int, quick_hash: None
) -> None:
    _quick_user(db)
    for attempt in range(2):  # "every time": the same race, run again after an unlock
        answers = _race(db, [f"wrong-guess-number-{i}" for i in range(wrong)])
        assert answers == [REFUSED] * wrong
        with db.read() as s:
            user = s.scalars(select(User).where(User.username == "dr.a")).one()
        assert user.locked_until == NOW + timedelta(minutes=DEFAULT_SETTINGS.lockout_minutes), attempt
        # Locked: the right password now gets the same answer as a wrong one.
        with pytest.raises(LoginError, match=f"^{REFUSED}$"):
            authenticate(db, "dr.a", RIGHT, DEFAULT_SETTINGS, NOW)
        unlock_user(db, _admin(), "dr.a")


def test_a_right_guess_after_the_policys_count_of_parallel_wrong_ones_is_refused(
    db: Database, quick_hash: None
) -> None:
    _quick_user(db)
    answers = _race(db, [f"wrong-guess-number-{i}" for i in range(29)] + [RIGHT])
    with db.read() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "login")).all()
    accepted = [e for e in events if e.outcome == "ok"]
    # The right guess got in only if it was judged among the first five; never after the lock.
    refused_before = [e for e in events if e.outcome == "refused" and accepted and e.id < accepted[0].id]
    assert answers.count("ok") == len(accepted) <= 1
    assert len(refused_before) < DEFAULT_SETTINGS.lockout_failures
    with db.read() as s:
        locked = s.scalars(select(User.locked_until).where(User.username == "dr.a")).one()
    assert locked is not None  # 29 wrong guesses lock the account whichever order they ran in


def _quick_user(db: Database) -> None:
    with db.write() as s:
        create_user(s, "dr.a", Role.PROVIDER, RIGHT, DEFAULT_SETTINGS)
        s.scalars(select(User).where(User.username == "dr.a")).one().password_hash = f"plain:{RIGHT}"


def _admin() -> Actor:
    return Actor("admin", Role.ADMIN)


def test_unknown_disabled_locked_and_wrong_read_the_same_and_check_one_hash(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite_db.write() as s:
        create_user(s, "dr.a", Role.PROVIDER, RIGHT, DEFAULT_SETTINGS)
        create_user(s, "dr.gone", Role.PROVIDER, RIGHT, DEFAULT_SETTINGS)
        s.scalars(select(User).where(User.username == "dr.gone")).one().active = False
    calls: list[str] = []
    real = passwords.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        calls.append("verify")
        return real(password_hash, password)

    monkeypatch.setattr(authentication, "verify_password", counting)
    answers = {}
    for label, name in [("unknown", "nobody"), ("disabled", "dr.gone"), ("wrong", "dr.a")]:
        calls.clear()
        with pytest.raises(LoginError) as exc:
            authenticate(sqlite_db, name, "not-the-password", DEFAULT_SETTINGS, NOW)
        answers[label] = (str(exc.value), len(calls))
    for _ in range(DEFAULT_SETTINGS.lockout_failures):
        with pytest.raises(LoginError):
            authenticate(sqlite_db, "dr.a", "not-the-password", DEFAULT_SETTINGS, NOW)
    calls.clear()
    with pytest.raises(LoginError) as exc:
        authenticate(sqlite_db, "dr.a", RIGHT, DEFAULT_SETTINGS, NOW)
    answers["locked"] = (str(exc.value), len(calls))
    assert set(answers.values()) == {(REFUSED, 1)}, answers


def test_one_client_guessing_across_names_is_held_back(sqlite_db: Database) -> None:
    policy = ClinicPolicy(login_throttle_failures=6, login_throttle_minutes=15)
    with sqlite_db.write() as s:
        create_user(s, "dr.a", Role.PROVIDER, RIGHT, policy)
    for i in range(policy.login_throttle_failures):
        with pytest.raises(LoginError):
            authenticate(sqlite_db, f"guess{i}", "not-the-password", policy, NOW, client="ip:203.0.113.9")
    # The sixth failure holds this client back: even the right password is refused, in the same words.
    with pytest.raises(LoginError, match=f"^{REFUSED}$"):
        authenticate(sqlite_db, "dr.a", RIGHT, policy, NOW, client="ip:203.0.113.9")
    # One failure fewer is not enough to hold back another client; and the window passes.
    for i in range(policy.login_throttle_failures - 1):
        with pytest.raises(LoginError):
            authenticate(sqlite_db, f"guess{i}", "not-the-password", policy, NOW, client="ip:198.51.100.7")
    assert authenticate(sqlite_db, "dr.a", RIGHT, policy, NOW, client="ip:198.51.100.7").username == "dr.a"
    later = NOW + timedelta(minutes=policy.login_throttle_minutes, seconds=1)
    assert authenticate(sqlite_db, "dr.a", RIGHT, policy, later, client="ip:203.0.113.9").username == "dr.a"
    with sqlite_db.read() as s:
        reasons = s.scalars(select(AuditEvent.reason).where(AuditEvent.outcome == "refused")).all()
    assert "too many failed sign-ins from this client" in reasons
