"""``python -m kdash plan``: the what-if plan of a patient's current course, as text or JSON.

Read only (nothing is booked). Exit status: 0 when the plan is allowed, 3 when the clinic's rules refuse
it (the output says why), 2 for bad input (unknown MRN, bad date or cadence, unreachable database).
"""

from __future__ import annotations

import argparse
import json
from datetime import date, time
from typing import Any

from sqlalchemy.exc import OperationalError

from kdash.cli.errors import EXIT_REFUSED, CliError
from kdash.cli.io import add_db_argument
from kdash.domain.access import Actor
from kdash.domain.errors import NotFound, Refused
from kdash.domain.vocab import Role
from kdash.planner.cadence import Cadence
from kdash.planner.plan import format_plan, parse_cadence, plan_to_json
from kdash.storage.database import Database, redact

#: Who the command line plans as: planning is a scheduler's task (kdash.auth permissions).
CLI_PLANNER = Actor("system", Role.SCHEDULER, "Command line")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def _time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time: use HH:MM") from None


def _cadence(text: str) -> Cadence:
    try:
        return parse_cadence(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _sessions(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of sessions: use a whole number >= 1")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="what-if plan of a patient's current course (nothing is booked)",
        description="Plan the rest of a patient's current course on the clinic's calendar. "
        "Exit status 0: allowed; 3: refused by the clinic's rules (reasons printed); 2: bad input.",
    )
    parser.add_argument("--mrn", required=True, help="the patient's medical record number")
    parser.add_argument("--start", required=True, type=_date, metavar="YYYY-MM-DD", help="first day to plan")
    parser.add_argument(
        "--cadence",
        required=True,
        type=_cadence,
        metavar="PRESET|DAYS",
        help="induction, twice-weekly, weekly, booster, or weekdays such as mon,wed,fri",
    )
    parser.add_argument(
        "--sessions",
        type=_sessions,
        metavar="N",
        help="infusions to plan (default: the rest of six for induction, else 1)",
    )
    parser.add_argument(
        "--cover-until",
        type=_date,
        metavar="YYYY-MM-DD",
        help="say whether the benefit window reaches this date",
    )
    parser.add_argument(
        "--preferred-time", type=_time, metavar="HH:MM", help="clinic-local time to start near"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    add_db_argument(parser)
    parser.set_defaults(handler=_plan)


def _plan(args: argparse.Namespace) -> int:
    from kdash.services.booking import plan_for_mrn

    db = Database(args.db)
    try:
        result = plan_for_mrn(
            db,
            CLI_PLANNER,
            args.mrn,
            args.start,
            args.cadence,
            sessions=args.sessions,
            cover_until=args.cover_until,
            preferred_time=args.preferred_time,
        )
    except NotFound as exc:
        raise CliError(str(exc)) from None
    except Refused as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    except OperationalError as exc:
        raise CliError(
            f"cannot read the database {redact(db.url)}: {exc.orig}. "
            "Check the URL (--db or KDASH_DATABASE_URL) and run `python -m kdash db upgrade` first."
        ) from None
    plan = result.plan
    if args.format == "json":
        print(json.dumps(plan_to_json(plan, args.mrn), indent=2))
    else:
        print(format_plan(plan))
    return 0 if plan.allowed else EXIT_REFUSED
