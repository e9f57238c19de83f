"""``python -m kdash import PATH``: load a folder of CSV files or a FHIR Bundle, all or nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kdash.cli.errors import CliError
from kdash.cli.io import add_db_argument
from kdash.domain.errors import ValidationError
from kdash.interchange.rows import ImportRefused
from kdash.services.interchange import import_path
from kdash.services.settings_admin import legacy_encoding
from kdash.storage.database import open_database

#: Problems printed before the rest are summarised as a count (a wrong file can have thousands).
MAX_PROBLEMS_SHOWN = 200


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import a folder of CSV files (patients.csv, screenings.csv, courses.csv, infusions.csv, "
        "assessments.csv) or a FHIR R4 Bundle (.json); all or nothing, safe to repeat",
    )
    parser.add_argument("path", type=Path, metavar="DIR|FILE.json")
    parser.add_argument(
        "--dry-run", action="store_true", help="check everything and report what would change; write nothing"
    )
    parser.add_argument(
        "--encoding",
        metavar="NAME",
        default=None,
        help="the legacy encoding of these CSV files (cp1252, latin-1, …) when they are not UTF-8; "
        "default: the clinic's import_legacy_encoding setting (empty: UTF-8 only)",
    )
    add_db_argument(parser)
    parser.set_defaults(handler=_run)


class _Progress:
    """One progress line on stderr, rewritten in place; ended with a newline before other output."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, stage: str, count: int) -> None:
        print(f"\r{stage}: {count} rows ", end="", file=sys.stderr, flush=True)
        self.shown = True

    def end(self) -> None:
        if self.shown:
            print(file=sys.stderr)
            self.shown = False


def _run(args: argparse.Namespace) -> int:
    if not args.path.exists():
        raise CliError(f"{args.path} does not exist")
    encoding = None
    if args.encoding is not None:
        try:
            encoding = legacy_encoding(args.encoding)
        except ValidationError as exc:
            raise CliError(f"--encoding: {exc}") from None
    db = open_database(args.db)
    progress = _Progress()
    try:
        summary = import_path(db, args.path, dry_run=args.dry_run, progress=progress, encoding=encoding)
    except ImportRefused as exc:
        progress.end()
        for problem in exc.problems[:MAX_PROBLEMS_SHOWN]:
            print(problem, file=sys.stderr)
        hidden = len(exc.problems) - MAX_PROBLEMS_SHOWN
        if hidden > 0:
            print(f"... and {hidden} more problem(s)", file=sys.stderr)
        raise CliError(f"{len(exc.problems)} problem(s) found; nothing was written") from None
    progress.end()
    prefix = "dry run, nothing written — would be: " if args.dry_run else ""
    for line in summary.lines():
        print(prefix + line)
    if summary.amendments:
        print(f"{prefix}{summary.amendments} field(s) amended (old values kept in the amendment log)")
    return 0
