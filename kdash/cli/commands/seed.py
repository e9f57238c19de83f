"""``python -m kdash seed --demo``: load the synthetic demo clinic into a database.

The demo is for trying kdash out, training and screenshots: every name in it is obviously fake and every
MRN starts with ``DEMO-``. It refuses a database that already holds patients unless ``--replace`` is
given, so a real clinic's records are never mixed with demo ones by accident.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any, TextIO

from sqlalchemy.exc import OperationalError

from kdash.cli.errors import EXIT_REFUSED, CliError
from kdash.cli.io import add_db_argument
from kdash.demo.clinic import DemoLoadError, generate, load
from kdash.demo.first_run import create_demo_users, database_is_empty
from kdash.services.patients import demo_clinic_loaded
from kdash.storage.database import Database, database_url, open_database, redact

DEFAULT_PATIENTS = 120
DEFAULT_SEED = 7
#: An upper bound that keeps a typo (an extra zero or three) from filling a disk.
MAX_PATIENTS = 100_000


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "seed",
        help="load the synthetic demo clinic (obviously fake patients) into a database",
        description="Load a deterministic synthetic demo clinic: patients in every screening state and "
        "course stage, today's schedule, scores and closures. The same --patients, --seed and --today "
        "always give the same data.",
    )
    parser.add_argument("--demo", action="store_true", help="load the synthetic demo clinic")
    parser.add_argument(
        "--patients", default=str(DEFAULT_PATIENTS), help=f"number of patients (default {DEFAULT_PATIENTS})"
    )
    parser.add_argument("--seed", default=str(DEFAULT_SEED), help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--today",
        default=None,
        metavar="YYYY-MM-DD",
        help="the day the demo is built around (default: today's date)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="delete the patients already in the database (and everything about them) first; "
        "users, settings and the audit log are kept",
    )
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing (and succeed) when the database already holds patients: "
        "the README's start command uses it so that restarting keeps your data",
    )
    add_db_argument(parser)
    parser.set_defaults(handler=_seed)


def _whole_number(option: str, value: str, lo: int, hi: int | None = None) -> int:
    try:
        number = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        number = None
    if number is None or number < lo or (hi is not None and number > hi):
        bound = f"from {lo:,} to {hi:,}" if hi is not None else f"of at least {lo:,}"
        raise CliError(f"{option} must be a whole number {bound}, got {value!r}")
    return number


def _parse_today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(
            f"--today must be a date written YYYY-MM-DD (for example 2026-03-02), got {value!r}"
        ) from None


class _ProgressLine:
    """'loading infusions… 12,345 rows' on stderr: rewritten in place on a terminal, a line per table
    otherwise (so a log file gets one line per table, not one per batch)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._width = 0

    def __call__(self, table: str, done: int, total: int) -> None:
        label = table.replace("_", " ") + ("s" if not table.endswith("s") else "")
        line = f"loading {label}… {done:,} rows"
        if self.tty:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
            if done >= total:
                self.stream.write("\n")
                self._width = 0
        elif done >= total:
            self.stream.write(line + "\n")
        self.stream.flush()


def _seed(args: argparse.Namespace) -> int:
    if not args.demo:
        raise CliError(
            "nothing to seed: pass --demo to load the synthetic demo clinic, for example "
            "'python -m kdash seed --demo --patients 120' (add --replace to replace existing patients)"
        )
    patients = _whole_number("--patients", args.patients, 1, MAX_PATIENTS)
    seed = _whole_number("--seed", args.seed, 0)
    today = _parse_today(args.today)
    try:
        db = open_database(args.db)
    except OperationalError as exc:
        raise CliError(
            f"cannot open the database {redact(database_url(args.db))}: {exc.orig}. "
            "Check the URL (--db or KDASH_DATABASE_URL) and that the server is running."
        ) from None
    if args.if_empty and not args.replace and not database_is_empty(db):
        print(f"The database {redact(db.url)} already holds data; nothing loaded.")
        _print_logins(create_demo_users(db) if _has_demo_patients(db) else [])
        return 0
    started = time.perf_counter()
    data = generate(patients, seed, today)
    try:
        counts = load(db, data, replace=args.replace, progress=_ProgressLine(sys.stderr))
    except DemoLoadError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    seconds = time.perf_counter() - started
    todays = len(data.live_on(data.schedule_day))
    print(f"Demo clinic loaded into {redact(db.url)} in {seconds:.1f} s (seed {seed}, today {today}):")
    for table, n in counts.items():
        print(f"  {table:<20} {n:>9,}")
    print(f"Schedule for {data.schedule_day:%a %Y-%m-%d}: {todays} infusions.")
    _print_logins(create_demo_users(db))
    return 0


def _has_demo_patients(db: Database) -> bool:
    return demo_clinic_loaded(db)


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    """Demo accounts exist only beside the synthetic clinic; their passwords are public."""
    if not logins:
        return
    print("Demo sign-ins (synthetic clinic only):")
    for username, role, password in logins:
        print(f"  {username:<10} {role:<10} password: {password}")
