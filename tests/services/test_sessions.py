"""Server-side sessions: they last until sign-out, the idle limit or the absolute limit, and not after.

Each limit is tested on both sides. A token copied out of a browser is worthless once its session has
ended, and the database holds only hashes of tokens.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kdash.domain.access import Actor
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import Role
from kdash.services import sessions
from kdash.services.sessions import (
    HANDOFF_SECONDS,
    EndReason,
    check_session,
    end_reason,
    end_session,
    redeem_handoff,
    resume_session,
    start_session,
    token_hash,
)
from kdash.services.users import create_user
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, User, UserSession

T0 = datetime(2026, 12, 3, 9, 0, 0)
NURSE = Actor("nurse1", Role.NURSE, "Nurse One")
POLICY = DEFAULT_SETTINGS
IDLE = timedelta(minutes=POLICY.idle_logoff_minutes)
MAX = timedelta(hours=POLICY.session_max_hours)


@pytest.fixture
def sdb(db: Database) -> Database:
    with db.write() as s:
        create_user(s, NURSE.username, NURSE.role, "a-long-test-password", POLICY, display_name="Nurse One")
    return db


def _signed_in(db: Database, now: datetime = T0) -> tuple[int, str]:
    """A session whose browser has its cookie: (session id, token)."""
    grant = start_session(db, NURSE, POLICY, now)
    token = redeem_handoff(db, grant.handoff, now + timedelta(seconds=1))
    assert token is not None
    return grant.session_id, token


def test_a_refresh_resumes_the_session_with_the_users_current_role(sdb: Database) -> None:
    sid, token = _signed_in(sdb)
    live = resume_session(sdb, token, POLICY, T0 + timedelta(minutes=1))
    assert live is not None
    assert live.session_id == sid
    assert live.actor == NURSE
    with sdb.write() as s:
        s.scalar(select(User).where(User.username == NURSE.username)).role = Role.READ_ONLY.value  # type: ignore[union-attr]
    live = resume_session(sdb, token, POLICY, T0 + timedelta(minutes=2))
    assert live is not None
    assert live.actor.role is Role.READ_ONLY


def test_only_hashes_of_tokens_are_stored(sdb: Database) -> None:
    grant = start_session(sdb, NURSE, POLICY, T0)
    token = redeem_handoff(sdb, grant.handoff, T0)
    assert token is not None
    with sdb.read() as s:
        row = s.get(UserSession, grant.session_id)
        assert row is not None
        assert row.token_hash == token_hash(token)
        assert token not in repr(vars(row))
        assert row.handoff_hash is None


def test_the_handoff_works_once_and_only_within_its_minute(sdb: Database) -> None:
    grant = start_session(sdb, NURSE, POLICY, T0)
    assert redeem_handoff(sdb, grant.handoff, T0 + timedelta(seconds=HANDOFF_SECONDS)) is not None
    assert redeem_handoff(sdb, grant.handoff, T0 + timedelta(seconds=HANDOFF_SECONDS)) is None
    late = start_session(sdb, NURSE, POLICY, T0)
    assert redeem_handoff(sdb, late.handoff, T0 + timedelta(seconds=HANDOFF_SECONDS + 1)) is None
    assert redeem_handoff(sdb, "not-a-handoff", T0) is None
    assert redeem_handoff(sdb, "", T0) is None


def test_idle_limit_on_both_sides(sdb: Database) -> None:
    sid, token = _signed_in(sdb)
    assert check_session(sdb, sid, POLICY, T0 + IDLE) is not None  # exactly the limit: still signed in
    last = T0 + IDLE
    assert check_session(sdb, sid, POLICY, last + IDLE + timedelta(seconds=1)) is None
    assert end_reason(sdb, sid) == EndReason.IDLE
    assert resume_session(sdb, token, POLICY, last + IDLE + timedelta(seconds=2)) is None


def test_a_timer_check_is_not_activity(sdb: Database) -> None:
    sid, _ = _signed_in(sdb)
    for minutes in range(1, POLICY.idle_logoff_minutes + 1):
        assert check_session(sdb, sid, POLICY, T0 + timedelta(minutes=minutes), touch=False) is not None
    assert check_session(sdb, sid, POLICY, T0 + IDLE + timedelta(seconds=1), touch=False) is None


def test_activity_keeps_the_session_alive_past_the_idle_limit(sdb: Database) -> None:
    sid, token = _signed_in(sdb)
    now = T0
    for _ in range(4):
        now += IDLE - timedelta(seconds=30)
        assert resume_session(sdb, token, POLICY, now) is not None
    assert now - T0 > IDLE * 3
    assert check_session(sdb, sid, POLICY, now) is not None


def test_absolute_limit_on_both_sides(sdb: Database) -> None:
    sid, token = _signed_in(sdb)
    now = T0
    while now + IDLE < T0 + MAX - timedelta(minutes=1):
        now += IDLE - timedelta(minutes=1)
        assert check_session(sdb, sid, POLICY, now) is not None
    assert check_session(sdb, sid, POLICY, T0 + MAX - timedelta(seconds=1)) is not None
    assert check_session(sdb, sid, POLICY, T0 + MAX) is None
    assert end_reason(sdb, sid) == EndReason.EXPIRED
    assert resume_session(sdb, token, POLICY, T0 + MAX) is None


def test_sign_out_ends_the_session_for_every_tab_and_is_audited(sdb: Database) -> None:
    sid, token = _signed_in(sdb)
    other_tab = resume_session(sdb, token, POLICY, T0 + timedelta(minutes=1))
    assert other_tab is not None
    end_session(sdb, sid, T0 + timedelta(minutes=2))
    assert check_session(sdb, sid, POLICY, T0 + timedelta(minutes=3)) is None
    assert check_session(sdb, other_tab.session_id, POLICY, T0 + timedelta(minutes=3)) is None
    assert end_reason(sdb, sid) == EndReason.SIGN_OUT
    with sdb.read() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "logout")).all()
    assert [(e.username, e.reason) for e in events] == [(NURSE.username, EndReason.SIGN_OUT)]


def test_a_stolen_token_is_worthless_after_sign_out(sdb: Database) -> None:
    sid, token = _signed_in(sdb)
    stolen = token
    end_session(sdb, sid, T0 + timedelta(minutes=1))
    assert resume_session(sdb, stolen, POLICY, T0 + timedelta(minutes=1, seconds=1)) is None
    # Signing in again makes a new token; the old one stays dead.
    _, fresh = _signed_in(sdb, T0 + timedelta(minutes=2))
    assert fresh != stolen
    assert resume_session(sdb, stolen, POLICY, T0 + timedelta(minutes=3)) is None
    assert resume_session(sdb, fresh, POLICY, T0 + timedelta(minutes=3)) is not None


def test_disabling_the_account_ends_its_sessions(sdb: Database) -> None:
    sid, token = _signed_in(sdb)
    with sdb.write() as s:
        s.scalar(select(User).where(User.username == NURSE.username)).active = False  # type: ignore[union-attr]
    assert resume_session(sdb, token, POLICY, T0 + timedelta(minutes=1)) is None
    assert end_reason(sdb, sid) == EndReason.DISABLED
    with pytest.raises(PermissionError):
        start_session(sdb, NURSE, POLICY, T0)


def test_activity_is_written_back_at_most_every_few_seconds(sdb: Database) -> None:
    sid, _ = _signed_in(sdb)
    step = timedelta(seconds=sessions.TOUCH_EVERY_SECONDS - 1)
    assert check_session(sdb, sid, POLICY, T0 + step) is not None
    with sdb.read() as s:
        assert s.get(UserSession, sid).last_seen_at == T0  # type: ignore[union-attr]
    assert check_session(sdb, sid, POLICY, T0 + step * 2) is not None
    with sdb.read() as s:
        assert s.get(UserSession, sid).last_seen_at == T0 + step * 2  # type: ignore[union-attr]
