"""Words and tables the pages show, built from the views' plain data (no Streamlit here).

Kept out of the page files so the pages stay thin and these conversions are tested as plain functions.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from kdash.domain.vocab import (
    FLAG_WORDS,
    MAX_INFUSIONS_PER_COURSE,
    FlagCode,
    Indication,
    Severity,
)
from kdash.interchange.cells import escape_formula
from kdash.rules.course import course_progress as course_progress
from kdash.rules.course import progress_words as progress_words
from kdash.rules.flags import Flag
from kdash.rules.roster_row import RosterRow
from kdash.services.active_courses import CourseRow
from kdash.services.screening_queue import QueueRow

#: Columns of the roster table, in order.
ROSTER_COLUMNS = [
    "MRN",
    "Name",
    "Flags",
    "Progress",
    "Next infusion",
    "Score",
    "Latest",
    "Band",
    "Change %",
    "Trend",
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


def progress_text(live: int) -> str:
    """``3 / 10``: live infusions of the course against the maximum."""
    return f"{live} / {MAX_INFUSIONS_PER_COURSE}"


def indication_label(code: str) -> str:
    try:
        return Indication(code).label
    except ValueError:
        return code


def when(moment: datetime | date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        return f"{moment:%a %d %b %Y %H:%M}"
    return f"{moment:%a %d %b %Y}"


def _or_dash(value: Any) -> Any:
    """A cell's value, or "—" where there is none (never "None" or "nan" on a screen)."""
    return EMPTY if value is None or value == "" else value


def _pct(value: float | None) -> str:
    return EMPTY if value is None else f"{value:+.0f} %"


def roster_frame(rows: Sequence[RosterRow]) -> pd.DataFrame:
    """The roster as a table: one row per patient; flags and progress in the words every page uses."""
    records: list[dict[str, Any]] = [
        {
            "patient_id": r.patient_id,
            "MRN": r.mrn,
            "Name": r.name,
            "Indication": indication_label(r.indication),
            "Provider": _or_dash(r.provider),
            "Screening": _or_dash(words(r.screening_status)),
            "Course": EMPTY if r.course_number is None else str(r.course_number),
            "Progress": EMPTY
            if r.course_number is None
            else progress_words(r.completed, r.live - r.completed),
            "Score": _or_dash(r.instrument),
            "Latest": EMPTY if r.latest is None else str(r.latest),
            "Band": _or_dash(r.band),
            "Change %": _pct(r.change_pct),
            "Trend": list(r.series),
            "Next infusion": when(r.next_infusion),
            "Flags": flag_words(r.flags),
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
                "Provider": _or_dash(r.provider),
                "Indication": indication_label(r.indication),
                "Status": words(r.status),
                "Next infusion": f"{r.next_infusion:%a %Y-%m-%d %H:%M}" if r.next_infusion else "not booked",
                "Waiting since": r.waiting_since,
                "What is missing": _or_dash(r.what_is_missing),
            }
            for r in rows
        ],
        columns=list(QUEUE_COLUMNS),
    )


#: Columns of the courses table, in order.
COURSES_COLUMNS = [
    "MRN",
    "Name",
    "Indication",
    "Course",
    "Status",
    "Progress",
    "Trial outcome",
    "Next booking",
    "Expected end",
]


def courses_frame(rows: Sequence[CourseRow]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "MRN": r.mrn,
                "Name": r.name,
                "Indication": indication_label(r.indication),
                "Course": r.number,
                "Status": words(r.status),
                "Progress": progress_words(r.completed, r.live - r.completed),
                "Trial outcome": _or_dash(words(r.trial_outcome)),
                "Next booking": when(r.next_booking),
                "Expected end": when(r.expected_end),
            }
            for r in rows
        ],
        columns=COURSES_COLUMNS,
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


def _audit_value(value: Any) -> str:
    """One recorded value in words: "—" for nothing, yes/no, lists joined, nested fields as "a b; c d"."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_audit_value(v) for v in value) or EMPTY
    if isinstance(value, dict):
        return "; ".join(f"{words(str(k))} {_audit_value(v)}" for k, v in value.items()) or EMPTY
    return str(value)


def _audit_fields(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        loaded = json.loads(text)
    except ValueError:
        return {"value": text}
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def audit_action(action: str) -> str:
    """An audit action in words: ``record_infusion`` → ``Record infusion``."""
    return words(action).capitalize()


def audit_change(before: str | None, after: str | None) -> str:
    """What an audit event recorded, in words: "dose mg per kg: 0.5 → 0.6; escort confirmed: yes".

    The trail stores the fields as JSON (hashed as stored, :mod:`kdash.storage.audit_chain`); a reader
    needs the fields, old and new, not the braces and quotes. "—" when the event recorded none.
    """
    old, new = _audit_fields(before), _audit_fields(after)
    parts = []
    for key in [*new, *(k for k in old if k not in new)]:
        label = words(str(key))
        if key in old and key in new:
            if old[key] == new[key]:
                parts.append(f"{label}: {_audit_value(new[key])}")
            else:
                parts.append(f"{label}: {_audit_value(old[key])} → {_audit_value(new[key])}")
        elif key in new:
            parts.append(f"{label}: {_audit_value(new[key])}")
        else:
            parts.append(f"{label}: {_audit_value(old[key])} (removed)")
    return "; ".join(parts) or EMPTY
