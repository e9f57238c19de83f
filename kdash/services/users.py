"""User administration: add, list, disable, unlock, change role, set password — each change audited.

Used by the ``users`` command line and the Users page, so both apply the same checks (user-name rules,
the clinic's password policy) and leave the same audit trail (HIPAA 164.312(a)(2)(i) unique user
identification, 164.312(b) audit controls). Passwords and their hashes never enter the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound
from kdash.domain.passwords import check_password_policy, hash_password, validate_username
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import Role
from kdash.services.guard import authorize
from kdash.services.refusals import refusing_database_errors
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.models import User


def create_user(
    session: Session,
    username: str,
    role: Role,
    password: str | None,
    settings: ClinicPolicy,
    *,
    display_name: str | None = None,
    email: str | None = None,
    oidc_subject: str | None = None,
    demo: bool = False,
) -> User:
    name = validate_username(username)
    if session.scalar(select(func.count()).select_from(User).where(User.username == name)):
        raise ValueError(f"A user named {name!r} already exists.")
    if password is not None:
        check_password_policy(password, settings, context=(name, display_name or "", email or ""))
    user = User(
        username=name,
        display_name=display_name or name,
        role=Role(role).value,
        password_hash=hash_password(password) if password is not None else None,
        email=email,
        oidc_subject=oidc_subject,
        active=True,
        failed_logins=0,
        is_demo=demo,
    )
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True, slots=True)
class UserRow:
    """One user as the admin sees it (never the password hash)."""

    username: str
    display_name: str
    role: str
    email: str | None
    active: bool
    locked_until: datetime | None
    failed_logins: int
    last_login_at: datetime | None
    sso: bool

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def _row(u: User) -> UserRow:
    return UserRow(
        u.username,
        u.display_name,
        u.role,
        u.email,
        bool(u.active),
        u.locked_until,
        u.failed_logins or 0,
        u.last_login_at,
        u.oidc_subject is not None,
    )


def _get(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise NotFound(f"There is no user called {username.strip()!r}.")
    return user


def list_users(db: Database, actor: Actor) -> list[UserRow]:
    authorize(db, actor, Action.MANAGE_USERS)
    with db.read() as session:
        return [_row(u) for u in session.scalars(select(User).order_by(User.username))]


@refusing_database_errors
def add_user(
    db: Database,
    actor: Actor,
    username: str,
    role: Role | str,
    password: str | None,
    settings: ClinicPolicy,
    *,
    display_name: str | None = None,
    email: str | None = None,
) -> UserRow:
    """Create a user; ``password`` None means single sign-on only. ValueError says what is wrong."""
    authorize(db, actor, Action.MANAGE_USERS)
    try:
        role = Role(role)
    except ValueError:
        raise ValueError(
            f"Unknown role {str(role)[:40]!r}; choose one of: {', '.join(r.value for r in Role)}."
        ) from None
    display = (display_name or "").strip() or None
    if display is not None and len(display) > 120:
        raise ValueError("A display name has at most 120 characters.")
    mail = (email or "").strip() or None
    if mail is not None and (len(mail) > 255 or "@" not in mail or any(c.isspace() for c in mail)):
        raise ValueError("The e-mail address does not look like one (name@domain, no spaces).")
    with db.write() as session:
        if mail is not None and session.scalar(select(User.id).where(User.email == mail)):
            raise ValueError("Another user already has this e-mail address.")
        user = create_user(session, username, role, password, settings, display_name=display, email=mail)
        record(
            session,
            actor,
            "add_user",
            entity="user",
            entity_id=user.id,
            after={"username": user.username, "role": user.role, "display_name": user.display_name},
        )
        return _row(user)


def _set_active(db: Database, actor: Actor, username: str, active: bool) -> UserRow:
    authorize(db, actor, Action.MANAGE_USERS)
    with db.write() as session:
        user = _get(session, username)
        if not active and user.username == actor.username:
            raise ValueError("You cannot disable your own account; ask another administrator.")
        before = bool(user.active)
        user.active = active
        record(
            session,
            actor,
            "enable_user" if active else "disable_user",
            entity="user",
            entity_id=user.id,
            before={"username": user.username, "active": before},
            after={"active": active},
        )
        return _row(user)


@refusing_database_errors
def disable_user(db: Database, actor: Actor, username: str) -> UserRow:
    """Disable an account (kept for the audit trail: users are never deleted)."""
    return _set_active(db, actor, username, False)


@refusing_database_errors
def enable_user(db: Database, actor: Actor, username: str) -> UserRow:
    return _set_active(db, actor, username, True)


@refusing_database_errors
def unlock_user(db: Database, actor: Actor, username: str) -> UserRow:
    """Lift a lockout after failed logins."""
    authorize(db, actor, Action.MANAGE_USERS)
    with db.write() as session:
        user = _get(session, username)
        before = {"username": user.username, "locked_until": user.locked_until, "failed": user.failed_logins}
        user.locked_until = None
        user.failed_logins = 0
        record(
            session,
            actor,
            "unlock_user",
            entity="user",
            entity_id=user.id,
            before=before,
            after={"locked_until": None, "failed": 0},
        )
        return _row(user)


@refusing_database_errors
def change_role(db: Database, actor: Actor, username: str, role: Role | str) -> UserRow:
    authorize(db, actor, Action.MANAGE_USERS)
    new_role = Role(role)
    with db.write() as session:
        user = _get(session, username)
        if user.username == actor.username and new_role is not Role.ADMIN:
            raise ValueError("You cannot take away your own administrator role; ask another administrator.")
        before = user.role
        user.role = new_role.value
        record(
            session,
            actor,
            "change_role",
            entity="user",
            entity_id=user.id,
            before={"username": user.username, "role": before},
            after={"role": new_role.value},
        )
        return _row(user)


@refusing_database_errors
def set_password(db: Database, actor: Actor, username: str, password: str, settings: ClinicPolicy) -> None:
    """Set a new password (policy checked) and clear any lockout; the audit event holds no password."""
    authorize(db, actor, Action.MANAGE_USERS)
    with db.write() as session:
        user = _get(session, username)
        check_password_policy(
            password, settings, context=(user.username, user.display_name, user.email or "")
        )
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        record(
            session,
            actor,
            "set_password",
            entity="user",
            entity_id=user.id,
            after={"username": user.username},
        )


def user_exists(db: Database, username: str) -> bool:
    """Whether an account of this name exists (the command line asks before reading a new password)."""
    with db.read() as session:
        return session.scalar(select(User.id).where(User.username == username.strip())) is not None
