"""How kdash compares medical record numbers.

An MRN is kept as it was first entered (surrounding whitespace removed) and compared without regard to
case everywhere: the database's unique index is on ``lower(mrn)``, searches, look-ups, the forms and the
importers compare lower-case forms, so ``rt-0001`` and ``RT-0001`` are one patient. MRNs are ASCII
letters, digits and ``. _ / -`` (:data:`kdash.interchange.cells.mrn`), for which Python's
``str.casefold``, SQLite's ``lower()`` and PostgreSQL's ``lower()`` agree.
"""

from __future__ import annotations

__all__ = ["MRN_CASE_NOTE", "mrn_key"]

#: What the import report and the forms say about the rule.
MRN_CASE_NOTE = "MRNs are compared without regard to case (rt-0001 and RT-0001 are one patient)."


def mrn_key(mrn: str) -> str:
    """The form two MRNs are compared in: whitespace stripped, case folded."""
    return mrn.strip().casefold()
