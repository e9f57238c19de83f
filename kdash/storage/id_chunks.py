"""Long id lists cut into ``IN (...)`` lists both databases take.

SQLite allows 32,766 bound parameters in a statement and PostgreSQL 65,535; a clinic's roster or a bulk
judge can ask about tens of thousands of patients, so every reader that filters by a list of ids asks
in chunks of this size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Ids per ``IN`` list: well under either database's bound-parameter limit.
ID_CHUNK = 900


def chunks(ids: Sequence[T], size: int = ID_CHUNK) -> Iterator[list[T]]:
    """``ids`` (or MRNs) in consecutive lists of at most ``size``."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])
