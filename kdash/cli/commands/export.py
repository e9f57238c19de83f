"""``python -m kdash export --format csv DIR`` or ``--format fhir OUT.json``: every current record."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kdash.cli.errors import CliError
from kdash.cli.io import add_db_argument
from kdash.services.interchange import export_csv, export_fhir
from kdash.storage.database import open_database


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export every current record as the import's CSV files (a folder) or a FHIR R4 Bundle (.json)",
    )
    parser.add_argument("--format", choices=("csv", "fhir"), required=True)
    parser.add_argument("target", type=Path, metavar="DIR|OUT.json", help="existing files are replaced")
    add_db_argument(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    if args.format == "csv":
        if args.target.exists() and not args.target.is_dir():
            raise CliError(f"{args.target} is a file; CSV export writes a folder of files")
        counts = export_csv(db, args.target)
    else:
        if args.target.is_dir():
            raise CliError(f"{args.target} is a folder; FHIR export writes one .json file")
        counts = export_fhir(db, args.target)
    for name, count in counts.items():
        print(f"{name}: {count} written")
    return 0
