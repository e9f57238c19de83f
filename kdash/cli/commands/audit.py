"""``python -m kdash audit``: verify the hash chain, export events to CSV."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from kdash.cli.errors import EXIT_REFUSED, CliError
from kdash.cli.io import add_db_argument, open_db
from kdash.domain.access import SYSTEM
from kdash.services.audit_log import AuditFilter, export_events, verify_audit_chain

#: Exit code of ``audit verify`` when the chain is broken (distinct from bad input).
EXIT_CHAIN_BROKEN = 4


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="audit trail: verify its integrity, export it")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify", help="check every event's hash and link; exits non-zero and names broken events"
    )
    add_db_argument(verify)
    verify.set_defaults(handler=_verify)

    export = actions.add_parser("export", help="write events to a CSV file (formula cells neutralised)")
    export.add_argument("--out", required=True, metavar="FILE.csv")
    export.add_argument("--patient", metavar="MRN", default=None, help="only events about this patient")
    export.add_argument("--user", metavar="NAME", default=None, help="only events by this user")
    export.add_argument("--since", metavar="YYYY-MM-DD", type=_date, default=None)
    export.add_argument("--until", metavar="YYYY-MM-DD", type=_date, default=None)
    export.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    add_db_argument(export)
    export.set_defaults(handler=_export)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a date like 2026-11-24") from None


def _verify(args: argparse.Namespace) -> int:
    db = open_db(args.db)
    checked, problems = verify_audit_chain(db, SYSTEM)
    if not problems:
        print(f"Audit trail intact: {checked} events checked.")
        return 0
    print(f"Audit trail BROKEN: {len(problems)} problem(s) in {checked} events:")
    for p in problems:
        print(f"  {f'event {p.event_id}' if p.event_id else 'trail'}: {p.problem}")
    return EXIT_CHAIN_BROKEN


def _export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CliError(f"{out} already exists; choose another file or add --force.", EXIT_REFUSED)
    if not out.parent.is_dir():
        raise CliError(f"The folder {out.parent} does not exist.")
    if args.since and args.until and args.since > args.until:
        raise CliError("--since is after --until.")
    db = open_db(args.db)
    flt = AuditFilter(username=args.user, patient_mrn=args.patient, since=args.since, until=args.until)
    text, count = export_events(db, SYSTEM, flt)
    out.write_text(text, encoding="utf-8")
    print(f"{count} events written to {out}.")
    return 0
