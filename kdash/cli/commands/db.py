"""``python -m kdash db upgrade``: bring a database to the latest schema revision."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy.exc import OperationalError

from kdash.cli.errors import EXIT_REFUSED, CliError
from kdash.cli.io import add_db_argument
from kdash.services.schema import upgrade_database
from kdash.storage.database import Database, redact


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database schema: create or upgrade")
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser(
        "upgrade",
        help="create every table on an empty database, or upgrade an older one; safe to run twice",
    )
    add_db_argument(up)
    up.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    db = Database(args.db)
    try:
        result = upgrade_database(db)
    except OperationalError as exc:
        raise CliError(
            f"cannot open the database {redact(db.url)}: {exc.orig}. "
            "Check the URL (--db or KDASH_DATABASE_URL) and that the server is running."
        ) from None
    except RuntimeError as exc:
        # A migration that finds stored data it cannot carry forward stops and says what to fix.
        raise CliError(f"upgrade stopped: {exc}") from None
    if result.before == result.after:
        print(f"Database {redact(db.url)} is already at the latest revision ({result.after}).")
    else:
        print(f"Database {redact(db.url)} upgraded from {result.before or 'empty'} to {result.after}.")
    if result.anchor_event is not None:
        print(
            f"Audit trail anchored: event {result.anchor_event} is keyed and chains onto the events "
            "written before the audit key."
        )
    if result.anchor_problem is not None:
        raise CliError(f"The audit trail was not anchored: {result.anchor_problem}.", EXIT_REFUSED)
    return 0
