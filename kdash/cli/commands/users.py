"""``python -m kdash users``: add, list, disable, enable, unlock users and set passwords or roles.

Run on the server by whoever administers it; changes are audited as the ``system`` actor.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from kdash.cli.errors import CliError
from kdash.cli.io import add_db_argument, open_db, read_password
from kdash.domain.access import SYSTEM
from kdash.domain.errors import NotFound
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import Role
from kdash.services import users as svc
from kdash.services.field_checks import clinic_policy

ROLES = [r.value for r in Role]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("users", help="user accounts: add, list, disable, unlock, passwords")
    actions = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add", help="add a user; the password is asked at a prompt (or read from stdin when piped)"
    )
    add.add_argument("name", help="user name: letters, digits, . _ - @")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--display-name", default=None)
    add.add_argument("--email", default=None)
    add.add_argument(
        "--sso-only", action="store_true", help="no password: the user signs in through single sign-on"
    )
    add.set_defaults(handler=_add)

    lst = actions.add_parser("list", help="list users, their roles and whether they are active or locked")
    lst.set_defaults(handler=_list)

    for name, helptext, handler in (
        ("disable", "disable an account (kept for the audit trail)", _disable),
        ("enable", "enable a disabled account again", _enable),
        ("unlock", "lift a lockout after failed logins", _unlock),
        ("set-password", "set a new password (asked at a prompt, or read from stdin)", _set_password),
    ):
        sub = actions.add_parser(name, help=helptext)
        sub.add_argument("name")
        sub.set_defaults(handler=handler)

    role = actions.add_parser("set-role", help="change a user's role")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=ROLES)
    role.set_defaults(handler=_set_role)

    for sub in (
        add,
        lst,
        role,
        *(actions.choices[n] for n in ("disable", "enable", "unlock", "set-password")),
    ):
        add_db_argument(sub)


def _settings(db: Any) -> ClinicPolicy:
    return clinic_policy(db)


def _add(args: argparse.Namespace) -> int:
    db = open_db(args.db)
    settings = _settings(db)
    password = None if args.sso_only else read_password()
    try:
        row = svc.add_user(
            db,
            SYSTEM,
            args.name,
            args.role,
            password,
            settings,
            display_name=args.display_name,
            email=args.email,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"User {row.username} added with role {row.role}.")
    return 0


def _list(args: argparse.Namespace) -> int:
    db = open_db(args.db)
    rows = svc.list_users(db, SYSTEM)
    if not rows:
        print("No users yet. Add one with: python -m kdash users add NAME --role admin")
        return 0
    now = datetime.now()
    header = ("user name", "role", "active", "locked", "last login", "display name")
    lines = [header]
    for r in rows:
        lines.append(
            (
                r.username,
                r.role,
                "yes" if r.active else "no",
                "yes" if r.locked(now) else "no",
                f"{r.last_login_at:%Y-%m-%d %H:%M}" if r.last_login_at else "never",
                r.display_name,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    return 0


def _one(args: argparse.Namespace, fn: Any, done: str) -> int:
    db = open_db(args.db)
    try:
        row = fn(db, SYSTEM, args.name)
    except NotFound as exc:
        raise CliError(str(exc)) from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"User {row.username} {done}.")
    return 0


def _disable(args: argparse.Namespace) -> int:
    return _one(args, svc.disable_user, "disabled")


def _enable(args: argparse.Namespace) -> int:
    return _one(args, svc.enable_user, "enabled")


def _unlock(args: argparse.Namespace) -> int:
    return _one(args, svc.unlock_user, "unlocked")


def _set_role(args: argparse.Namespace) -> int:
    return _one(
        args, lambda db, actor, name: svc.change_role(db, actor, name, args.role), f"is now {args.role}"
    )


def _set_password(args: argparse.Namespace) -> int:
    db = open_db(args.db)
    settings = _settings(db)
    if not svc.user_exists(db, args.name):
        raise CliError(f"There is no user called {args.name.strip()!r}.")
    password = read_password("New password: ")
    try:
        svc.set_password(db, SYSTEM, args.name, password, settings)
    except (ValueError, NotFound) as exc:
        raise CliError(str(exc)) from None
    print(f"Password of {args.name.strip()} changed.")
    return 0
