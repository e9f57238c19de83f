"""How a command says no: :class:`CliError` and the exit codes it carries.

Its own module so the subcommands and :mod:`kdash.cli.main` (which finds the subcommands) both import it
without importing each other.
"""

from __future__ import annotations

EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


class CliError(Exception):
    """A problem the user can fix; its message says what is wrong and how to fix it."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code
