"""``python -m kdash backup FILE`` and ``python -m kdash restore FILE`` (embedded SQLite database)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kdash.cli.errors import EXIT_REFUSED, CliError
from kdash.cli.io import add_db_argument, open_db
from kdash.services.audit_log import after_restore, log_backup
from kdash.services.backup import BackupError, backup, restore, sqlite_file
from kdash.storage.database import redact


def register(subparsers: Any) -> None:
    b = subparsers.add_parser("backup", help="copy the SQLite database to FILE while the app runs")
    b.add_argument("file", metavar="FILE")
    add_db_argument(b)
    b.set_defaults(handler=_backup)

    r = subparsers.add_parser(
        "restore", help="replace the SQLite database with a kdash backup FILE (a safety copy is kept)"
    )
    r.add_argument("file", metavar="FILE")
    r.add_argument("--yes", action="store_true", help="confirm: every current row is replaced by FILE's")
    add_db_argument(r)
    r.set_defaults(handler=_restore)


def _backup(args: argparse.Namespace) -> int:
    try:
        sqlite_file(args.db)
    except BackupError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    db = open_db(args.db)  # also brings an old schema up to date before it is copied
    try:
        info = backup(args.db, Path(args.file))
    except BackupError as exc:
        raise CliError(str(exc)) from None
    log_backup(db, Path(args.file).name)
    print(
        f"Backup written to {info.path} (schema {info.revision}: {info.users} users, "
        f"{info.patients} patients, {info.audit_events} audit events)."
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    try:
        target = sqlite_file(args.db)
    except BackupError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    source = Path(args.file)
    if not args.yes:
        from kdash.services.backup import inspect_file

        try:
            inspect_file(source)
        except BackupError as exc:
            raise CliError(str(exc)) from None
        raise CliError(
            f"Restoring replaces every row of {target} with the contents of {source}. "
            "Stop the app, then run again with --yes.",
            EXIT_REFUSED,
        )
    try:
        info, safety = restore(args.db, source)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    db = open_db(args.db)  # upgrades a backup made by an older kdash
    after_restore(db, source.name, info.revision)  # signs the restored head, then logs the restore
    print(f"Restored {redact(db.url)} from {source} (schema {info.revision}).")
    if safety is not None:
        print(f"The database it replaced was kept as {safety}.")
    return 0
