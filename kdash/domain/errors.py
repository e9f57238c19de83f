"""Errors a user can act on, shared by services, forms, importers and the CLI.

A :class:`ValidationError` carries every problem found (field and what is wrong), so a form can show
each beside its field and an import can list each bad row, instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str
    where: str | None = None  # e.g. "patients.csv:12" for an import row

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return f"{prefix}{self.field}: {self.message}"


class ValidationError(ValueError):
    """Input refused; nothing was written. ``problems`` lists each field and why."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class Refused(Exception):
    """A valid request the clinic's rules do not allow (an 11th infusion, a trial without benefit).

    The message says why in words a nurse understands and, where there is one, what to do instead.
    """


class DatabaseRefused(Refused):
    """The database refused a change that passed every check: a writer that got there at the same moment,
    a database that is locked or unreachable, a value only the database cannot hold. Nothing was written;
    the message says what happened in words, never the statement or the values it carried.
    """


class NotFound(LookupError):
    """The record asked for does not exist (or was deleted)."""


class AuditKeyError(Exception):
    """The audit trail's key is missing, unreadable or too short; the message says where it was looked
    for and how to supply it (docs/security.md, "The audit key")."""
