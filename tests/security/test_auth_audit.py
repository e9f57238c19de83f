"""Passwords, roles, lockout and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from kdash.domain.access import Action, Actor, Forbidden, require
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import Role
from kdash.services.authentication import LoginError, actor_for_oidc, authenticate
from kdash.services.users import create_user
from kdash.storage.audit_chain import record, verify_chain
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, User
from tests.helpers import drop_append_only_triggers

NOW = datetime(2026, 11, 24, 9, 0)


def test_password_is_hashed_and_verified(db: Database) -> None:
    with db.write() as s:
        create_user(s, "nurse.jo", Role.NURSE, "correct horse battery", DEFAULT_SETTINGS)
    with db.read() as s:
        stored = s.scalar(select(User.password_hash))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    actor = authenticate(db, "nurse.jo", "correct horse battery", DEFAULT_SETTINGS, NOW)
    assert actor == Actor("nurse.jo", Role.NURSE, "nurse.jo")


def test_short_password_refused(sqlite_db: Database) -> None:
    with pytest.raises(ValueError, match="at least 12 characters"), sqlite_db.write() as s:
        create_user(s, "x", Role.NURSE, "short", DEFAULT_SETTINGS)


def test_lockout_after_repeated_failures(sqlite_db: Database) -> None:
    with sqlite_db.write() as s:
        create_user(s, "dr.a", Role.PROVIDER, "a-long-enough-password", DEFAULT_SETTINGS)
    for _ in range(DEFAULT_SETTINGS.lockout_failures):
        with pytest.raises(LoginError, match="Wrong user name or password"):
            authenticate(sqlite_db, "dr.a", "wrong-password-here", DEFAULT_SETTINGS, NOW)
    # Now even the right password is refused until the lock expires, in the same words as a wrong one.
    with pytest.raises(LoginError, match=r"^Wrong user name or password\.$"):
        authenticate(sqlite_db, "dr.a", "a-long-enough-password", DEFAULT_SETTINGS, NOW)
    later = NOW + timedelta(minutes=DEFAULT_SETTINGS.lockout_minutes + 1)
    actor = authenticate(sqlite_db, "dr.a", "a-long-enough-password", DEFAULT_SETTINGS, later)
    assert actor.role is Role.PROVIDER


def test_unknown_user_gets_the_same_message(sqlite_db: Database) -> None:
    with pytest.raises(LoginError, match=r"^Wrong user name or password\.$"):
        authenticate(sqlite_db, "nobody", "whatever-password", DEFAULT_SETTINGS, NOW)
    with sqlite_db.read() as s:
        events = s.scalars(select(AuditEvent)).all()
    assert [(e.action, e.outcome) for e in events] == [("login", "refused")]


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.PROVIDER, Action.RECORD_TRIAL_OUTCOME, True),
        (Role.SCHEDULER, Action.RECORD_TRIAL_OUTCOME, False),
        (Role.NURSE, Action.RECORD_TRIAL_OUTCOME, False),
        (Role.NURSE, Action.RECORD_INFUSION, True),
        (Role.SCHEDULER, Action.RECORD_ASSESSMENT, False),
        (Role.SCHEDULER, Action.BOOK_INFUSION, True),
        (Role.READ_ONLY, Action.BOOK_INFUSION, False),
        (Role.ADMIN, Action.MANAGE_USERS, True),
        (Role.PROVIDER, Action.MANAGE_USERS, False),
        (Role.NURSE, Action.DECIDE_SCREENING, False),
        (Role.NURSE, Action.RECORD_SCREENING_ITEM, True),
    ],
)
def test_role_permissions(role: Role, action: Action, allowed: bool) -> None:
    actor = Actor("u", role)
    if allowed:
        require(actor, action)
    else:
        with pytest.raises(Forbidden, match="may not"):
            require(actor, action)


def test_oidc_identity_maps_to_kdash_user_by_email(sqlite_db: Database) -> None:
    with sqlite_db.write() as s:
        create_user(s, "dr.b", Role.PROVIDER, None, DEFAULT_SETTINGS, email="Dr.B@clinic.example")
    with sqlite_db.write() as s:
        actor = actor_for_oidc(s, "sub-123", "dr.b@clinic.example")
    assert actor is not None
    assert actor.role is Role.PROVIDER
    with sqlite_db.write() as s:
        assert actor_for_oidc(s, "sub-123", None) == actor  # remembered by subject now
        assert actor_for_oidc(s, "sub-999", "stranger@example.org") is None


def test_audit_chain_verifies_and_detects_tampering(db: Database) -> None:
    actor = Actor("dr.a", Role.PROVIDER)
    with db.write() as s:
        for i in range(5):
            record(
                s, actor, "record_assessment", entity="assessment", entity_id=i, after={"score": i}, now=NOW
            )
    with db.read() as s:
        assert verify_chain(s) == (5, [])
    # The append-only triggers refuse the edit; someone who owns the database can drop them first,
    # and then the hash chain still shows which event was changed.
    with pytest.raises(DBAPIError, match="append-only"), db.write() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == 3).values(after_json='{"score": 99}'))
    with db.write() as s:
        drop_append_only_triggers(s)
        s.execute(update(AuditEvent).where(AuditEvent.id == 3).values(after_json='{"score": 99}'))
    with db.read() as s:
        checked, problems = verify_chain(s)
    assert checked == 5
    assert [p.event_id for p in problems] == [3]
    assert "edited" in problems[0].problem


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        ("password1234", "too easy to guess"),  # the red-team run's: twelve characters, a common one
        (" " * 12, "only spaces"),
        ("\u200b" * 12, "invisible"),
        ("correct\u200bhorse battery", "invisible"),
        ("x" * 129, "at most 128"),
        ("k" + "a" * 10, "at least 12"),  # eleven characters
        ("qwertyuiopasdf", "too easy to guess"),  # a keyboard walk
        ("dr.lovelace.2026", "too easy to guess"),  # built from the user's own name
        ("x" * 1_000_000, "at most 128"),
    ],
)
def test_password_policy_after_nist_800_63b_refuses(sqlite_db: Database, password: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal), sqlite_db.write() as s:
        create_user(s, "dr.lovelace", Role.NURSE, password, DEFAULT_SETTINGS)


@pytest.mark.parametrize(
    "password",
    [
        "amber-otter-violin-42",  # twelve or more, no composition rule needed
        "x7#Qm!p2Lr9v",  # exactly twelve, random
        "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ",  # full-width: NFKC makes it ASCII
        "w" * 100 + "-amber-otter-violin-42"[: 128 - 100],  # exactly 128 characters
    ],
)
def test_password_policy_accepts_long_unguessable_passwords(sqlite_db: Database, password: str) -> None:
    with sqlite_db.write() as s:
        create_user(s, "dr.lovelace", Role.NURSE, password, DEFAULT_SETTINGS)
    assert authenticate(sqlite_db, "dr.lovelace", password, DEFAULT_SETTINGS, NOW).username == "dr.lovelace"


def test_a_full_width_password_signs_in_typed_in_ascii(sqlite_db: Database) -> None:
    with sqlite_db.write() as s:
        create_user(
            s, "dr.lovelace", Role.NURSE, "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ", DEFAULT_SETTINGS
        )
    assert authenticate(sqlite_db, "dr.lovelace", "correct horse battery", DEFAULT_SETTINGS, NOW)
