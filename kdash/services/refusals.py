"""A database error in words a clinic user can act on, never the statement or the values it carried.

Forms, imports and the command line check every value before they write; what the database still
refuses (a writer that got there at the same moment, a value only the database cannot hold, a database
that is locked or unreachable) is turned into one sentence here. The driver's own text is not repeated:
PostgreSQL's ``DETAIL`` lines quote the row's values (an MRN, a name), and a message may be shown on
screen or end up in a log.

:func:`refusing_database_errors` is the one place a form's service call turns such an error into a
:class:`~kdash.domain.errors.DatabaseRefused`, which every form already shows as its "Not saved" message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError

from kdash.domain.errors import DatabaseRefused

#: Constraint names (SQLite trigger messages, PostgreSQL constraint names) and what they mean.
_RULES: tuple[tuple[str, str], ...] = (
    ("ex_infusion_chair_overlap", "a chair was taken for that time by another booking at the same moment"),
    ("uq_infusion_live_chair_start", "a chair was taken for that time by another booking at the same moment"),
    ("uq_infusion_live_number", "an infusion number of that course was taken at the same moment"),
)

P = ParamSpec("P")
R = TypeVar("R")


def database_refusal(exc: BaseException) -> str:
    """One sentence saying what the database refused and that nothing was written."""
    orig = getattr(exc, "orig", None)
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
    said = f"{orig} {constraint}"
    what = next((words for name, words in _RULES if name in said), None)
    if what is None:
        if isinstance(exc, IntegrityError):
            what = "a record conflicts with one stored at the same moment, or breaks a rule of the database"
        elif isinstance(exc, DataError):
            what = "a value cannot be stored (a control character such as NUL, or a value out of range)"
        elif isinstance(exc, OperationalError):
            what = "the database could not complete the change (busy or unreachable); try again"
        elif isinstance(exc, SQLAlchemyError):
            what = "a value could not be sent to the database (characters it cannot store)"
        else:
            what = "the database refused the change"
    return f"{what}; nothing was written"


def refusing_database_errors(action: Callable[P, R]) -> Callable[P, R]:
    """``action`` with any database error raised as :class:`DatabaseRefused` in the words above.

    The transaction has already been rolled back when the error leaves ``action`` (``Database.write``),
    so nothing was written. The driver's exception is not chained: its text can carry the row's values.
    """

    @functools.wraps(action)
    def refusing(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return action(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise DatabaseRefused(database_refusal(exc)) from None

    return refusing
