"""A fresh install: detect an empty database and load the synthetic demo clinic with demo logins.

The demo accounts' passwords are public, so they are made only by someone who may create accounts: the
command line (whoever runs the server) or a signed-in administrator. An anonymous visitor to an empty
database is told which command to run and offered nothing that creates accounts. Demo accounts are
marked (``is_demo``) and refused at sign-in once the database holds a patient that is not a demo one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import exists, select

from kdash.domain.access import SYSTEM, Action, Actor
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import Role
from kdash.services.guard import authorize
from kdash.services.users import create_user
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.models import Patient, User

#: What an empty database tells a visitor: the command that loads the demo clinic (the README's first
#: command runs it) and the one that creates a clinic's first administrator.
EMPTY_DATABASE_HELP = (
    "This database is empty. To explore kdash with the synthetic demo clinic, run "
    "`python -m kdash seed --demo --if-empty` on the server and sign in with a demo account it prints. "
    "For a clinic, create the first administrator with `python -m kdash users add NAME --role admin`."
)

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


def create_demo_users(
    db: Database, actor: Actor = SYSTEM, *, demo: bool = True
) -> list[tuple[str, str, str]]:
    """Create the demo accounts that do not exist yet (marked as demo, each audited); returns
    (user name, role, password) of each. Only the command line (``SYSTEM``) or an administrator may.

    ``demo=False`` makes the same logins as ordinary accounts, for test clinics whose synthetic patients
    do not carry ``DEMO-`` MRNs (demo accounts would be refused there)."""
    authorize(db, actor, Action.MANAGE_USERS)
    with db.write() as session:
        existing = set(session.scalars(select(User.username)))
        for username, role, password in DEMO_USERS:
            if username not in existing:
                user = create_user(
                    session,
                    username,
                    role,
                    password,
                    DEFAULT_SETTINGS,
                    display_name=DEMO_DISPLAY_NAMES[username],
                    demo=demo,
                )
                record(
                    session,
                    actor,
                    "create_user",
                    entity="app_user",
                    entity_id=user.id,
                    after={"username": username, "role": role.value, "demo": demo},
                    reason="demo clinic account (published password)" if demo else "test account",
                )
    return [(u, r.value, p) for u, r, p in DEMO_USERS]


def load_demo_clinic(
    db: Database,
    actor: Actor = SYSTEM,
    *,
    patients: int = 120,
    seed: int = 7,
    today: date | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> list[tuple[str, str, str]]:
    """Load the demo clinic around today and create the demo users (only on a database without patients).

    For the command line or a signed-in administrator (``MANAGE_USERS``: it creates accounts); the
    loading is an audit event of its own.
    """
    from kdash.demo.clinic import generate, load

    authorize(db, actor, Action.MANAGE_USERS)
    with db.read() as session:
        if session.scalar(select(exists().where(Patient.id.is_not(None)))):
            raise ValueError("The database already holds patients; the demo clinic is for one without.")
    data = generate(patients, seed, today or date.today())
    tables = len(data.counts())
    finished: list[str] = []

    def report(table: str, done: int, total: int) -> None:
        if done >= total and table not in finished:
            finished.append(table)
        if progress is not None:
            progress(min(1.0, len(finished) / tables), f"Loading {table.replace('_', ' ')}… {done:,} rows")

    load(db, data, progress=report, actor=actor)
    return create_demo_users(db, actor)
