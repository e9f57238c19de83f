"""Signed-in sessions held on the server, so a refresh or a new tab keeps the user signed in.

A sign-in makes one ``user_session`` row. The browser gets an opaque random token in an HttpOnly
cookie (set by a small HTTP route, :mod:`kdash.ui.session_routes`, because a Streamlit script cannot
set a cookie); the database keeps only the token's SHA-256, so a copy of the database or of its backups
cannot be replayed as a login. The cookie is set once through a one-time hand-off: the sign-in makes a
short-lived hand-off secret, the browser posts it to the route, and the route mints the session token.

The row, not the browser, decides whether a session is alive: sign-out, idle logoff, the absolute
limit and disabling the account end it, and every tab checks it on each interaction, so ending it in
one tab ends it in all of them, and a token copied out of a browser is worthless once it has ended.
Limits are clinic policy settings: ``idle_logoff_minutes`` (HIPAA 164.312(a)(2)(iii) automatic
logoff; NIST SP 800-63B §4.2.3) and ``session_max_hours`` (NIST SP 800-63B §4.2.3).

Tokens come from :func:`secrets.token_urlsafe` (256 bits). A fast hash is enough for them: a password
hash is slow because passwords are guessable; a 256-bit random token is not.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.domain.access import Actor
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import Role
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.models import User, UserSession

#: How long the one-time hand-off made at sign-in may wait for the browser to redeem it.
HANDOFF_SECONDS: Final = 60
#: Activity is written back at most this often (a write per click would be a write per click).
TOUCH_EVERY_SECONDS: Final = 10
TOKEN_BYTES: Final = 32


class EndReason:
    """Why a session ended, as stored in ``user_session.end_reason``."""

    SIGN_OUT: Final = "sign_out"
    IDLE: Final = "idle"
    EXPIRED: Final = "expired"
    DISABLED: Final = "disabled"


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """What a sign-in hands to the UI: the row to check on every run and the one-time hand-off."""

    session_id: int
    handoff: str


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session that is still valid, with the user as the users table says now (role included)."""

    session_id: int
    actor: Actor
    #: Whether the browser redeemed the hand-off (its cookie is set); until then the tab offers it.
    cookie_set: bool


def token_hash(token: str) -> str:
    """The stored form of a token or hand-off secret."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(db: Database, actor: Actor, settings: ClinicPolicy, now: datetime) -> SessionGrant:
    """Open a session for a user who has just proved who they are (password or single sign-on)."""
    handoff = secrets.token_urlsafe(TOKEN_BYTES)
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == actor.username))
        if user is None or not user.active:
            raise PermissionError("This account cannot sign in.")
        row = UserSession(
            user_id=user.id,
            handoff_hash=token_hash(handoff),
            handoff_expires_at=now + timedelta(seconds=HANDOFF_SECONDS),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_max_hours),
        )
        session.add(row)
        session.flush()
        return SessionGrant(row.id, handoff)


def redeem_handoff(db: Database, handoff: str, now: datetime) -> str | None:
    """Exchange a sign-in's hand-off for the session token (once, within a minute); None otherwise."""
    if not handoff:
        return None
    with db.write() as session:
        row = session.scalar(select(UserSession).where(UserSession.handoff_hash == token_hash(handoff)))
        if row is None or row.ended_at is not None:
            return None
        row.handoff_hash = None
        expires = row.handoff_expires_at
        row.handoff_expires_at = None
        if expires is None or now > expires:
            return None
        token = secrets.token_urlsafe(TOKEN_BYTES)
        row.token_hash = token_hash(token)
        return token


def _judge(row: UserSession, user: User | None, settings: ClinicPolicy, now: datetime) -> str | None:
    """Why this open row is no longer valid at ``now`` (an :class:`EndReason`), or None if it is."""
    if user is None or not user.active:
        return EndReason.DISABLED
    if now >= row.expires_at:
        return EndReason.EXPIRED
    if now - row.last_seen_at > timedelta(minutes=settings.idle_logoff_minutes):
        return EndReason.IDLE
    return None


def _due_touch(row: UserSession, now: datetime) -> bool:
    return (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS


def _live(
    session: Session, row: UserSession | None, settings: ClinicPolicy, now: datetime, *, touch: bool
) -> LiveSession | None:
    """The row's user if the row is still valid; ends it (idle, expired, disabled) when it just ran out."""
    if row is None or row.ended_at is not None:
        return None
    user = session.get(User, row.user_id)
    reason = _judge(row, user, settings, now)
    if reason is not None or user is None:
        _end(session, row, user, now, reason or EndReason.DISABLED)
        return None
    if touch and _due_touch(row, now):
        row.last_seen_at = now
    return LiveSession(
        row.id, Actor(user.username, Role(user.role), user.display_name), row.token_hash is not None
    )


def _checked(
    db: Database,
    find: Callable[[Session], UserSession | None],
    settings: ClinicPolicy,
    now: datetime,
    touch: bool,
) -> LiveSession | None:
    """Judge the row in a read transaction; take the write lock only to end it or record activity.

    Every run of every tab checks its session, so the common case (valid, touched seconds ago) must
    not queue behind writers.
    """
    with db.read() as session:
        row = find(session)
        if row is None or row.ended_at is not None:
            return None
        user = session.get(User, row.user_id)
        if _judge(row, user, settings, now) is None and not (touch and _due_touch(row, now)):
            return _live(session, row, settings, now, touch=False)
    with db.write() as session:
        return _live(session, find(session), settings, now, touch=touch)


def _end(session: Session, row: UserSession, user: User | None, now: datetime, reason: str) -> None:
    row.ended_at = now
    row.end_reason = reason
    row.token_hash = None
    row.handoff_hash = None
    if user is not None:
        who = Actor(user.username, Role(user.role), user.display_name)
        record(session, who, "logout", entity="user_session", entity_id=row.id, reason=reason, now=now)


def check_session(
    db: Database, session_id: int, settings: ClinicPolicy, now: datetime, *, touch: bool = True
) -> LiveSession | None:
    """Is this tab's session still valid? ``touch`` counts the call as activity (a click, not a timer)."""
    return _checked(db, lambda session: session.get(UserSession, session_id), settings, now, touch)


def resume_session(db: Database, token: str, settings: ClinicPolicy, now: datetime) -> LiveSession | None:
    """The session a browser's cookie names (a refresh, a new tab), if it is still valid."""
    if not token:
        return None
    digest = token_hash(token)
    return _checked(
        db,
        lambda session: session.scalar(select(UserSession).where(UserSession.token_hash == digest)),
        settings,
        now,
        True,
    )


def end_session(db: Database, session_id: int, now: datetime, reason: str = EndReason.SIGN_OUT) -> None:
    """End a session (sign-out): every tab that shares it shows the sign-in form on its next run."""
    with db.write() as session:
        row = session.get(UserSession, session_id)
        if row is None or row.ended_at is not None:
            return
        _end(session, row, session.get(User, row.user_id), now, reason)


def end_reason(db: Database, session_id: int) -> str | None:
    """Why a session ended (an :class:`EndReason` value), or None while it is open or if unknown."""
    with db.read() as session:
        row = session.get(UserSession, session_id)
        return None if row is None else row.end_reason
