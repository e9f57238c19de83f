"""A database error in words a clinic user can act on, never the statement or the values it carried.

Forms, imports and the command line check every value before they write; what the database still
refuses (a writer that got there at the same moment, a value only the database cannot hold) is turned
into one sentence here. The driver's own text is not repeated: PostgreSQL's ``DETAIL`` lines quote the
row's values (an MRN, a name), and a message may be shown on screen or end up in a log.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError

#: Constraint names (SQLite trigger messages, PostgreSQL constraint names) and what they mean.
_RULES: tuple[tuple[str, str], ...] = (
    ("ex_infusion_chair_overlap", "a chair was taken for that time by another booking at the same moment"),
    ("uq_infusion_live_chair_start", "a chair was taken for that time by another booking at the same moment"),
    ("uq_infusion_live_number", "an infusion number of that course was taken at the same moment"),
)


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
