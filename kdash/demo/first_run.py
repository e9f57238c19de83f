"""A fresh install: detect an empty database and load the synthetic demo clinic with demo logins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import exists, select

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import Role
from kdash.services.users import create_user
from kdash.storage.database import Database
from kdash.storage.models import Patient, User

#: Demo accounts, one per role. Their passwords are public (printed by the seed command and shown on
#: the empty-database screen): they exist only in a database loaded with the synthetic demo clinic.
DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("provider", Role.PROVIDER, "demo-provider-pass"),
    ("nurse", Role.NURSE, "demo-nurse-password"),
    ("scheduler", Role.SCHEDULER, "demo-scheduler-pass"),
    ("admin", Role.ADMIN, "demo-admin-password"),
    ("viewer", Role.READ_ONLY, "demo-viewer-password"),
)

DEMO_DISPLAY_NAMES = {
    "provider": "Dr A. Demo",
    "nurse": "Nurse B. Demo",
    "scheduler": "C. Demo (scheduling)",
    "admin": "D. Demo (admin)",
    "viewer": "E. Demo (read-only)",
}


def database_is_empty(db: Database) -> bool:
    with db.read() as session:
        has_users = session.scalar(select(exists().where(User.id.is_not(None))))
        has_patients = session.scalar(select(exists().where(Patient.id.is_not(None))))
    return not has_users and not has_patients


def create_demo_users(db: Database) -> list[tuple[str, str, str]]:
    """Create the demo accounts that do not exist yet; returns (user name, role, password) of each."""
    with db.write() as session:
        existing = set(session.scalars(select(User.username)))
        for username, role, password in DEMO_USERS:
            if username not in existing:
                create_user(
                    session,
                    username,
                    role,
                    password,
                    DEFAULT_SETTINGS,
                    display_name=DEMO_DISPLAY_NAMES[username],
                )
    return [(u, r.value, p) for u, r, p in DEMO_USERS]


def load_demo_clinic(
    db: Database,
    *,
    patients: int = 120,
    seed: int = 7,
    today: date | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> list[tuple[str, str, str]]:
    """Load the demo clinic around today and create the demo users (only on an empty database)."""
    from kdash.demo.clinic import generate, load

    if not database_is_empty(db):
        raise ValueError("The database already holds users or patients; the demo clinic is for an empty one.")
    data = generate(patients, seed, today or date.today())
    tables = len(data.counts())
    finished: list[str] = []

    def report(table: str, done: int, total: int) -> None:
        if done >= total and table not in finished:
            finished.append(table)
        if progress is not None:
            progress(min(1.0, len(finished) / tables), f"Loading {table.replace('_', ' ')}… {done:,} rows")

    load(db, data, progress=report)
    return create_demo_users(db)
