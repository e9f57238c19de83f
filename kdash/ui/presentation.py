"""Words and tables the pages show, built from the views' plain data (no Streamlit here).

Kept out of the page files so the pages stay thin and these conversions are tested as plain functions.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, FlagCode, Indication
from kdash.interchange.cells import escape_formula
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
    """``BP_CRISIS`` → ``BP crisis``, ``SUICIDE_RISK`` → ``Suicide risk``."""
    text = FlagCode(code).value.replace("_", " ").capitalize()
    return "BP" + text[2:] if text.startswith("Bp ") else text


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


def queue_frame(rows: Sequence[QueueRow]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "MRN": r.mrn,
                "Name": r.name,
                "Provider": r.provider,
                "Indication": indication_label(r.indication),
                "Status": words(r.status),
                "Waiting since": r.waiting_since,
                "What is missing": r.what_is_missing,
            }
            for r in rows
        ],
        columns=["MRN", "Name", "Provider", "Indication", "Status", "Waiting since", "What is missing"],
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
