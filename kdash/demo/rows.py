"""The demo clinic's rows as they are built: one list per table, ids given in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class DemoRows:
    """Rows of the tables other than patients and closures, appended in order (an id is its list length)."""

    screening_item: list[dict[str, Any]] = field(default_factory=list)
    screening_decision: list[dict[str, Any]] = field(default_factory=list)
    course: list[dict[str, Any]] = field(default_factory=list)
    infusion: list[dict[str, Any]] = field(default_factory=list)
    assessment: list[dict[str, Any]] = field(default_factory=list)
    suicide_review: list[dict[str, Any]] = field(default_factory=list)


def at_minute(day: int, minute: int) -> datetime:
    """The naive clinic-local datetime of ``minute`` after midnight on the day of ordinal ``day``."""
    d = date.fromordinal(day)
    return datetime(d.year, d.month, d.day, minute // 60, minute % 60)
