"""Who may do what: users, password hashing, roles and the permission check every service calls.

Roles follow the clinic's division of work (provider: clinical decisions; nurse: vitals, infusions,
assessments and screening items; scheduler: bookings and the planner, no clinical edits; admin: users,
settings and audit; read-only). The check is made in the services, not only by hiding buttons, so a
page bug or a direct call cannot get around it; a refused action is logged in the audit trail.

Passwords are hashed with Argon2id (argon2-cffi: the Password Hashing Competition winner, maintained,
OWASP's first choice); a hash is never compared by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kdash.db import Database
from kdash.models import User
from kdash.settings import ClinicSettings
from kdash.vocab import Role

_hasher = PasswordHasher()


class Action(StrEnum):
    VIEW_CLINICAL = "view_clinical"
    EDIT_PATIENT = "edit_patient"
    RECORD_SCREENING_ITEM = "record_screening_item"
    DECIDE_SCREENING = "decide_screening"
    RECORD_ASSESSMENT = "record_assessment"
    REVIEW_SUICIDE_RISK = "review_suicide_risk"
    RECORD_INFUSION = "record_infusion"
    BOOK_INFUSION = "book_infusion"
    CANCEL_INFUSION = "cancel_infusion"
    RECORD_TRIAL_OUTCOME = "record_trial_outcome"
    START_COURSE = "start_course"
    PLAN = "plan"
    IMPORT = "import"
    EXPORT = "export"
    MANAGE_USERS = "manage_users"
    EDIT_SETTINGS = "edit_settings"
    VIEW_AUDIT = "view_audit"
    DELETE_RECORD = "delete_record"


_READ = {Action.VIEW_CLINICAL}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.PROVIDER: frozenset(
        _READ
        | {
            Action.EDIT_PATIENT,
            Action.RECORD_SCREENING_ITEM,
            Action.DECIDE_SCREENING,
            Action.RECORD_ASSESSMENT,
            Action.REVIEW_SUICIDE_RISK,
            Action.RECORD_INFUSION,
            Action.BOOK_INFUSION,
            Action.CANCEL_INFUSION,
            Action.RECORD_TRIAL_OUTCOME,
            Action.START_COURSE,
            Action.PLAN,
            Action.IMPORT,
            Action.EXPORT,
            Action.DELETE_RECORD,
        }
    ),
    Role.NURSE: frozenset(
        _READ
        | {
            Action.RECORD_SCREENING_ITEM,
            Action.RECORD_ASSESSMENT,
            Action.RECORD_INFUSION,
            Action.BOOK_INFUSION,
            Action.CANCEL_INFUSION,
        }
    ),
    Role.SCHEDULER: frozenset(_READ | {Action.BOOK_INFUSION, Action.CANCEL_INFUSION, Action.PLAN}),
    Role.ADMIN: frozenset(
        _READ | {Action.MANAGE_USERS, Action.EDIT_SETTINGS, Action.VIEW_AUDIT, Action.IMPORT, Action.EXPORT}
    ),
    Role.READ_ONLY: frozenset(_READ),
}

ROLE_LABELS: dict[Role, str] = {
    Role.PROVIDER: "Provider",
    Role.NURSE: "Nurse",
    Role.SCHEDULER: "Scheduler",
    Role.ADMIN: "Administrator",
    Role.READ_ONLY: "Read-only",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in person a service acts for."""

    username: str
    role: Role
    display_name: str = ""

    def can(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]


#: The actor of command-line work run by whoever has shell access to the server (imports, seeding).
SYSTEM = Actor("system", Role.ADMIN, "Command line")


class Forbidden(PermissionError):
    """The actor's role does not allow the action; the message says which role would."""


class LoginError(Exception):
    """Login refused; the message never says whether the user name exists."""


def allowed_roles(action: Action) -> list[Role]:
    return [role for role, actions in PERMISSIONS.items() if action in actions]


def require(actor: Actor, action: Action) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may perform ``action``."""
    if action in PERMISSIONS[actor.role]:
        return
    who = ", ".join(ROLE_LABELS[r].lower() for r in allowed_roles(action) if r is not actor.role)
    raise Forbidden(
        f"A {ROLE_LABELS[actor.role].lower()} may not {action.value.replace('_', ' ')}; "
        f"ask a user with one of these roles: {who}."
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str, settings: ClinicSettings) -> None:
    """Refuse a password shorter than the clinic's minimum (NIST SP 800-63B: length over complexity)."""
    if len(password) < settings.password_min_length:
        raise ValueError(
            f"The password must have at least {settings.password_min_length} characters "
            f"(it has {len(password)})."
        )


def validate_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "._-@" for ch in name):
        raise ValueError(
            f"A user name has 1–64 letters, digits or . _ - @ (no spaces); {username!r} does not qualify."
        )
    return name


def create_user(
    session: Session,
    username: str,
    role: Role,
    password: str | None,
    settings: ClinicSettings,
    *,
    display_name: str | None = None,
    email: str | None = None,
    oidc_subject: str | None = None,
) -> User:
    name = validate_username(username)
    if session.scalar(select(func.count()).select_from(User).where(User.username == name)):
        raise ValueError(f"A user named {name!r} already exists.")
    if password is not None:
        check_password_policy(password, settings)
    user = User(
        username=name,
        display_name=display_name or name,
        role=Role(role).value,
        password_hash=hash_password(password) if password is not None else None,
        email=email,
        oidc_subject=oidc_subject,
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(
    db: Database, username: str, password: str, settings: ClinicSettings, now: datetime
) -> Actor:
    """Check a password login, counting failures and locking the account after too many.

    Takes the database, not a session: the failure count and the audit event must be committed even
    though the login is refused (a refusal raised inside the caller's transaction would roll them back).
    """
    from kdash.audit import record

    name = username.strip()
    error: LoginError | None = None
    actor: Actor | None = None
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == name))
        if user is None or not user.active:
            # Hash anyway so that the time taken does not tell whether the name exists.
            verify_password(_dummy_hash(), password)
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
            if _hasher.check_needs_rehash(user.password_hash or ""):
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


@cache
def _dummy_hash() -> str:
    return _hasher.hash("kdash-timing-equaliser")
