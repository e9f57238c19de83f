"""One patient search for every page: an MRN, "Last, First", "First Last", or parts of either.

Names are shown everywhere as "Last, First", so that is what staff type back; others type "First Last"
or the first letters of a surname, or read an MRN off a wristband. One reading of the search text,
used by every page (roster, patient, trends, planner), means a search that finds a patient on one page
finds them on all.

How the text is read (case and extra spaces ignored):

- with a comma, "Last, First": the part before the comma is in the last name and the part after it is
  in the first name (either part may be left empty: "Ash," finds every Ashford);
- without a comma, every word is in the last name, the first name or the MRN, in any order: "Sam
  Ellery", "ellery sam", "ell", "D0005" and "0005" all find Ellery, Sam (D0005).

:func:`matches` is the same rule in Python; the tests hold the SQL to it for any name shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from kdash.storage.database import Database
from kdash.storage.models import Patient

#: The search box's help, the same on every page that searches patients.
SEARCH_HELP = (
    'An MRN, "Last, First", "First Last" or part of any of them; capitals and extra spaces do not matter.'
)

#: Most patients a search offers (a longer list is not read; type more of the name).
SEARCH_LIMIT = 50


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """The search text read once: ``last``/``first`` for "Last, First", else ``words``."""

    words: tuple[str, ...] = ()
    last: str = ""
    first: str = ""
    comma: bool = False

    @property
    def empty(self) -> bool:
        return not (self.words or self.last or self.first)


@dataclass(frozen=True, slots=True)
class PatientHit:
    patient_id: int
    mrn: str
    last_name: str
    first_name: str

    @property
    def name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def label(self) -> str:
        """ "Last, First · MRN", as the pages offer a patient to pick."""
        return f"{self.name} · {self.mrn}"


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def parse_search(text: str) -> SearchQuery:
    """Read the search text (see the module's docstring)."""
    folded = _fold(text)
    if "," in folded:
        last, _, first = folded.partition(",")
        return SearchQuery(last=last.strip(), first=first.replace(",", " ").strip(), comma=True)
    return SearchQuery(words=tuple(folded.split()))


def matches(query: SearchQuery | str, last_name: str, first_name: str, mrn: str) -> bool:
    """Whether a patient matches the search: the rule :func:`search_clause` gives the database."""
    q = parse_search(query) if isinstance(query, str) else query
    last, first, code = last_name.lower(), first_name.lower(), mrn.lower()
    if q.comma:
        return q.last in last and q.first in first
    return all(w in last or w in first or w in code for w in q.words)


def _lowered(session: Session, column: Any) -> Any:
    """Lower case as Python's ``str.lower`` does it (SQLite's own ``lower`` folds ASCII only)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.kdash_lower(column)
    return func.lower(column)


def search_clause(session: Session, query: SearchQuery | str) -> ColumnElement[bool]:
    """SQL for :func:`matches` over :class:`Patient` rows (true for an empty search)."""
    q = parse_search(query) if isinstance(query, str) else query
    last, first, code = (_lowered(session, c) for c in (Patient.last_name, Patient.first_name, Patient.mrn))
    if q.comma:
        parts = [
            column.contains(text, autoescape=True)
            for column, text in ((last, q.last), (first, q.first))
            if text
        ]
        return and_(true(), *parts)
    return and_(
        true(),
        *(
            or_(
                last.contains(w, autoescape=True),
                first.contains(w, autoescape=True),
                code.contains(w, autoescape=True),
            )
            for w in q.words
        ),
    )


def search_patients(db: Database, text: str, limit: int = SEARCH_LIMIT) -> list[PatientHit]:
    """Patients (not deleted) matching ``text``, an exact MRN first, then by name; none for an empty text."""
    q = parse_search(text)
    if q.empty:
        return []
    exact = _fold(text)
    with db.read() as session:
        rows = session.execute(
            select(Patient.id, Patient.mrn, Patient.last_name, Patient.first_name)
            .where(Patient.deleted_at.is_(None), search_clause(session, q))
            .order_by(
                (_lowered(session, Patient.mrn) != exact),
                Patient.last_name,
                Patient.first_name,
                Patient.mrn,
            )
            .limit(limit)
        ).all()
    return [PatientHit(r.id, r.mrn, r.last_name, r.first_name) for r in rows]
