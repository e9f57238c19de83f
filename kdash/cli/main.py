"""The ``python -m kdash`` command line.

Each subcommand lives in its own module under :mod:`kdash.cli.commands` and registers itself through
``register(subparsers)``; this module only finds them, parses, and turns a :class:`CliError` (bad input,
refused action) into a clear message on stderr and a non-zero exit instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

import kdash.cli.commands
from kdash.cli.errors import EXIT_BAD_INPUT, EXIT_REFUSED, CliError
from kdash.domain.errors import AuditKeyError

__all__ = ["EXIT_BAD_INPUT", "EXIT_REFUSED", "CliError", "build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kdash",
        description="kdash: decision support for a ketamine-infusion clinic.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(kdash.cli.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"kdash.cli.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    # Everything a command writes can hold patient data (the database and its WAL, backups, the copy
    # kept before a restore, exports, huddle sheets): readable by the owner only, whatever the shell's
    # umask. Restored afterwards for callers in the same process.
    previous_umask = os.umask(0o077)
    try:
        return handler(args)
    except CliError as exc:
        from kdash.interchange.cells import visible

        print(f"error: {visible(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except AuditKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except SQLAlchemyError as exc:
        # Every command checks its input first; what the database still refuses is said in words, with
        # no statement, value or traceback (kdash.services.refusals).
        from kdash.services.refusals import database_refusal

        print(f"error: {database_refusal(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        os.umask(previous_umask)


if __name__ == "__main__":
    raise SystemExit(main())
