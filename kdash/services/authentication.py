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
from kdash.services import login_throttle
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.demo_patients import holds_real_patients
from kdash.storage.models import User


class LoginError(Exception):
    """Login refused; the message never says whether the user name exists or the account is locked."""


#: The one answer to every refused sign-in: a wrong name, a wrong password, a locked or disabled
#: account and a throttled client read the same, so the answer cannot tell user names apart.
REFUSED = "Wrong user name or password."


def authenticate(
    db: Database,
    username: str,
    password: str,
    settings: ClinicPolicy,
    now: datetime,
    *,
    client: str | None = None,
) -> Actor:
    """Check a password login, counting failures and locking the account after the policy's count.

    Takes the database, not a session: the failure count and the audit event must be committed even
    though the login is refused (a refusal raised inside the caller's transaction would roll them back).

    The password is checked before the write transaction (an Argon2 check holds no lock, so parallel
    sign-ins do not queue behind one another's hashing); then the account's row is locked
    (``SELECT … FOR UPDATE``; on SQLite the write transaction is one lock already) and the verdict is
    counted against what the row says now. A read-add-write without the lock let 29 simultaneous wrong
    guesses leave the count at 1 on PostgreSQL. Every path checks exactly one Argon2 hash, so an
    unknown, disabled, locked or throttled name takes as long as a wrong password; ``client`` (an
    address or a browser session) feeds the per-client throttle.
    """
    name = username.strip()
    with db.read() as session:
        throttled = login_throttle.blocked(session, client, settings, now)
        known = session.scalar(select(User.password_hash).where(User.username == name, User.active))
    if throttled or known is None:
        verify_password(dummy_hash(), password)
        right = False
    else:
        right = verify_password(known, password)
    actor: Actor | None = None
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == name).with_for_update())
        if throttled:
            why = "too many failed sign-ins from this client"
        elif user is None or not user.active:
            why = "unknown user name" if user is None else "account disabled"
        elif user.password_hash != known:
            why = "the password was changed while this sign-in was checked"
        elif user.locked_until is not None and user.locked_until > now:
            why = "account locked after repeated failed sign-ins"
        elif user.is_demo and holds_real_patients(session):
            why = "demo account (published password) on a database that holds real patients"
        elif not right:
            failures = (user.failed_logins or 0) + 1
            if failures >= settings.lockout_failures:
                user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
                why = f"wrong password; account locked for {settings.lockout_minutes} minutes"
            else:
                user.failed_logins = failures
                why = "wrong password"
        else:
            why = ""
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
            reason=None if actor else why,
            now=now,
        )
        if actor is None:
            login_throttle.failed(session, client, now)
    if actor is None:
        raise LoginError(REFUSED)
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
