"""Signing in: password logins with a failure count and lockout, and single sign-on identities.

Takes the database, not a session, where a refused login must still leave its failure count and its
audit event committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kdash.domain.access import Actor
from kdash.domain.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import Role
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.models import User


class LoginError(Exception):
    """Login refused; the message never says whether the user name exists."""


def authenticate(db: Database, username: str, password: str, settings: ClinicPolicy, now: datetime) -> Actor:
    """Check a password login, counting failures and locking the account after too many.

    Takes the database, not a session: the failure count and the audit event must be committed even
    though the login is refused (a refusal raised inside the caller's transaction would roll them back).
    """
    name = username.strip()
    error: LoginError | None = None
    actor: Actor | None = None
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == name))
        if user is None or not user.active:
            # Hash anyway so that the time taken does not tell whether the name exists.
            verify_password(dummy_hash(), password)
            error = LoginError("Wrong user name or password.")
        elif user.locked_until is not None and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            error = LoginError(
                f"This account is locked after repeated failed logins. Try again in {minutes} minutes "
                "or ask an administrator to unlock it."
            )
        elif not verify_password(user.password_hash, password):
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= settings.lockout_failures:
                user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
            error = LoginError("Wrong user name or password.")
        else:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            if needs_rehash(user.password_hash or ""):
                user.password_hash = hash_password(password)
            actor = Actor(user.username, Role(user.role), user.display_name)
        who = actor or Actor(name[:64] or "?", Role(user.role) if user is not None else Role.READ_ONLY)
        record(
            session,
            who,
            "login",
            outcome="ok" if actor else "refused",
            reason=None if actor else str(error),
            now=now,
        )
    if error is not None:
        raise error
    assert actor is not None
    return actor


def actor_for_oidc(session: Session, subject: str, email: str | None) -> Actor | None:
    """Map a single-sign-on identity onto a kdash user (by subject, else by e-mail); None if unknown.

    The identity provider proves who someone is; what they may do comes only from kdash's users table.
    """
    user = session.scalar(select(User).where(User.oidc_subject == subject))
    if user is None and email:
        user = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is not None and user.oidc_subject is None:
            user.oidc_subject = subject
    if user is None or not user.active:
        return None
    return Actor(user.username, Role(user.role), user.display_name)
