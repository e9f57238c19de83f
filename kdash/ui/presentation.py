"""Words and tables the pages show, built from the views' plain data (no Streamlit here).

Kept out of the page files so the pages stay thin and these conversions are tested as plain functions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from kdash.domain.records import CourseRec
from kdash.domain.vocab import (
    FLAG_WORDS,
    MAX_INFUSIONS_PER_COURSE,
    FlagCode,
    Indication,
    InfusionStatus,
    Severity,
)
from kdash.interchange.cells import escape_formula
from kdash.rules.flags import Flag
from kdash.services.views import CourseRow, QueueRow, RosterRow

#: Columns of the roster table, in order.
ROSTER_COLUMNS = [
    "MRN",
    "Name",
    "Flags",
    "Progress",
    "Score",
    "Latest",
    "Band",
    "Change %",
    "Trend",
    "Next infusion",
    "Screening",
    "Course",
    "Indication",
    "Provider",
]


def words(code: str | None) -> str:
    """A stored code as words: ``needs_review`` → ``needs review``."""
    return "" if code is None else str(code).replace("_", " ")


def flag_label(code: FlagCode | str) -> str:
    """A flag in words (``BP_CRISIS`` → ``Blood pressure crisis``), the same on every page and the sheet."""
    return FLAG_WORDS[FlagCode(code)]


def flag_words(flags: Iterable[Flag]) -> str:
    """A patient's flags in words for a table cell, most severe first; "—" when there are none."""
    return ", ".join(flag_label(f.code) for f in flags) or EMPTY


#: What an empty cell shows: a dash, never "None" or "nan".
EMPTY = "—"


def ready_because(flags: Iterable[Flag]) -> str:
    """Why a patient with an urgent flag is ready anyway: the review or decision that cleared each one.

    "Suicide risk — reviewed 2026-12-03 by Dr X: safety plan"; empty when no urgent flag was cleared.
    """
    return "; ".join(
        f"{flag_label(f.code)} — {f.cleared_by}"
        for f in flags
        if f.severity is Severity.URGENT and not f.blocking and f.cleared_by
    )


def progress_words(done: int, booked: int) -> str:
    """A course's progress, worded the same on every page: ``4 done · 2 booked · of 10``.

    ``done`` counts completed infusions, ``booked`` the scheduled ones not yet given; both count toward
    the course's maximum of ten (docs/clinical-decisions.md, "What counts toward ten"); cancelled and
    missed infusions count for nothing.
    """
    return f"{done} done · {booked} booked · of {MAX_INFUSIONS_PER_COURSE}"


def course_progress(course: CourseRec) -> str:
    """:func:`progress_words` of one course's infusions."""
    done = sum(1 for i in course.infusions if i.status is InfusionStatus.COMPLETED)
    booked = sum(1 for i in course.infusions if i.status is InfusionStatus.SCHEDULED)
    return progress_words(done, booked)


def indication_label(code: str) -> str:
    try:
        return Indication(code).label
    except ValueError:
        return code


def progress_text(live: int) -> str:
    """``3 / 10``: live infusions of the course against the maximum."""
    return f"{live} / {MAX_INFUSIONS_PER_COURSE}"


def when(moment: datetime | date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        return f"{moment:%a %d %b %Y %H:%M}"
    return f"{moment:%a %d %b %Y}"


def roster_frame(rows: Sequence[RosterRow]) -> pd.DataFrame:
    """The roster as a table: one row per patient, with the values the column configs expect."""
    records: list[dict[str, Any]] = [
        {
            "patient_id": r.patient_id,
            "MRN": r.mrn,
            "Name": r.name,
            "Indication": indication_label(r.indication),
            "Provider": r.provider,
            "Screening": words(r.screening_status),
            "Course": r.course_number,
            "Progress": r.live,
            "Score": r.instrument,
            "Latest": r.latest,
            "Band": r.band or "",
            "Change %": None if r.change_pct is None else round(r.change_pct, 1),
            "Trend": list(r.series),
            "Next infusion": r.next_infusion,
            "Flags": r.flag_summary,
            "urgent": r.urgent,
        }
        for r in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=["patient_id", *ROSTER_COLUMNS, "urgent"])
    return frame


#: The screening queue's columns, in the order shown.
QUEUE_COLUMNS = (
    "MRN",
    "Name",
    "Provider",
    "Indication",
    "Status",
    "Next infusion",
    "Waiting since",
    "What is missing",
)


def queue_frame(rows: Sequence[QueueRow]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "MRN": r.mrn,
                "Name": r.name,
                "Provider": r.provider,
                "Indication": indication_label(r.indication),
                "Status": words(r.status),
                "Next infusion": r.next_infusion,
                "Waiting since": r.waiting_since,
                "What is missing": r.what_is_missing,
            }
            for r in rows
        ],
        columns=list(QUEUE_COLUMNS),
    )


def courses_frame(rows: Sequence[CourseRow]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "MRN": r.mrn,
                "Name": r.name,
                "Indication": indication_label(r.indication),
                "Course": r.number,
                "Status": words(r.status),
                "Progress": r.live,
                "Completed": r.completed,
                "Trial outcome": words(r.trial_outcome),
                "Next booking": r.next_booking,
                "Expected end": r.expected_end,
            }
            for r in rows
        ],
        columns=[
            "MRN",
            "Name",
            "Indication",
            "Course",
            "Status",
            "Progress",
            "Completed",
            "Trial outcome",
            "Next booking",
            "Expected end",
        ],
    )


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV for download: text cells that a spreadsheet would run as a formula are neutralised
    (OWASP CSV injection), lists (sparkline series) written as space-separated numbers."""

    def cell(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return " ".join(str(v) for v in value)
        if isinstance(value, str):
            return escape_formula(value)
        return value

    # Every text cell quoted: pandas leaves a carriage return inside a cell unquoted otherwise, which a
    # spreadsheet reads as the end of the row.
    text: str = frame.map(cell).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8")


def trend_frame(points: Sequence[tuple[str, date, int]]) -> pd.DataFrame:
    """A patient's scores as a table: instrument, date, score (oldest first)."""
    return pd.DataFrame([{"Instrument": i, "Date": d, "Score": s} for i, d, s in points])
