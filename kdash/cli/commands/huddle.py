"""``python -m kdash huddle --date YYYY-MM-DD``: the morning huddle of a day as JSON or CSV."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from kdash.cli.errors import CliError
from kdash.cli.io import add_db_argument
from kdash.domain.access import SYSTEM
from kdash.interchange.huddle_json import huddle_to_json
from kdash.rules.huddle import Huddle
from kdash.services.huddle import clinic_name, huddle_csv, view_huddle
from kdash.storage.database import database_url, open_database, redact


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "huddle",
        help="the morning huddle of a day: patients by urgency with flags, readiness and scores",
        description="Print the huddle of one day (JSON shape: docs/huddle-json.md).",
    )
    parser.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the clinic day")
    parser.add_argument(
        "--format",
        choices=("json", "csv", "pdf"),
        default="json",
        help="output format (json); pdf is the printable sheet and needs --out",
    )
    parser.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    add_db_argument(parser)
    parser.set_defaults(handler=_huddle)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"--date must be a calendar date as YYYY-MM-DD (for example 2025-03-03), not {text!r}"
        ) from None


def _check_sqlite_file(url: str) -> None:
    """Refuse a SQLite path that does not exist rather than create an empty database and print nothing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    if parsed.database.startswith("file:"):
        return
    if not Path(parsed.database).is_file():
        raise CliError(
            f"no database file at {parsed.database}. Give the right --db URL, or create one with "
            "'python -m kdash db upgrade'."
        )


def render(huddle: Huddle, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(huddle_to_json(huddle), indent=2, ensure_ascii=False) + "\n"
    return huddle_csv(huddle)


def _huddle(args: argparse.Namespace) -> int:
    day = _parse_day(args.date)
    out = Path(args.out) if args.out else None
    if args.format == "pdf" and out is None:
        raise CliError("--format pdf writes a file: give --out FILE.pdf")
    if out is not None and not out.parent.is_dir():
        raise CliError(f"cannot write {out}: the folder {out.parent} does not exist")
    url = database_url(args.db)
    _check_sqlite_file(url)
    try:
        db = open_database(url)
        huddle = view_huddle(db, SYSTEM, day)
    except (OperationalError, ProgrammingError) as exc:
        raise CliError(
            f"cannot read the database {redact(url)}: {exc.orig}. "
            "Check the URL (--db or KDASH_DATABASE_URL) and that the server is running."
        ) from None
    if args.format == "pdf":
        from kdash.interchange.pdf.huddle_sheet import huddle_pdf

        assert out is not None
        try:
            out.write_bytes(huddle_pdf(huddle, clinic_name=clinic_name(db)))
        except OSError as exc:
            raise CliError(f"cannot write {out}: {exc.strerror}") from None
        return 0
    text = render(huddle, args.format)
    if out is None:
        print(text, end="")
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {out}: {exc.strerror}") from None
    return 0
