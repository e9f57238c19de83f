"""Helpers the subcommands share: open the database with a clear error, read a password safely."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import OperationalError

from kdash.cli.errors import CliError
from kdash.storage.database import DEFAULT_URL, Database, open_database, redact


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """Every subcommand takes ``--db URL`` (default: ``KDASH_DATABASE_URL``, else the SQLite file)."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help=f"database URL (default: $KDASH_DATABASE_URL, else {DEFAULT_URL}); "
        "PostgreSQL as postgresql+psycopg://user@host/dbname",
    )


def open_db(url: str | None) -> Database:
    """The database at ``url``, upgraded to the latest schema, or a :class:`CliError` that says why not."""
    try:
        return open_database(url)
    except OperationalError as exc:
        raise CliError(
            f"cannot open the database {redact(Database(url).url)}: {exc.orig}. "
            "Check the URL (--db or KDASH_DATABASE_URL) and that the server is running."
        ) from None


def read_password(prompt: str = "Password: ", *, confirm: bool = True) -> str:
    """A password typed at a hidden prompt (asked twice), or the first line of stdin when piped.

    Never a command-line argument: those show in ``ps`` and in shell history.
    """
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat the password: ") != first:
            raise CliError("The two passwords differ; nothing was changed.")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        raise CliError("No password given: type it at the prompt, or pipe it on the first line of stdin.")
    return password
