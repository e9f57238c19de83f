"""The huddle as data for files: the JSON document (docs/huddle-json.md) and one flat row per patient
for CSV. The command line prints them and the huddle service writes the CSV, escaping formula cells."""

from __future__ import annotations

from typing import Any

from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE
from kdash.rules.flags import severity_counts
from kdash.rules.huddle import Huddle, HuddleEntry, ScoreSummary
from kdash.rules.instruments import SYMPTOM_INSTRUMENTS


def _score_json(s: ScoreSummary) -> dict[str, Any]:
    return {
        "baseline": s.baseline,
        "latest": s.latest,
        "change_points": s.change_points,
        "change_pct": None if s.change_pct is None else round(s.change_pct, 1),
        "band": s.band,
        "response": s.response,
        "remission": s.remission,
    }


def entry_to_json(e: HuddleEntry) -> dict[str, Any]:
    return {
        "mrn": e.patient.mrn,
        "name": e.patient.name,
        "scheduled_at": e.scheduled_at.isoformat(timespec="minutes"),
        "infusion_number": e.infusion.number,
        "course_number": e.course.number,
        "course_max": MAX_INFUSIONS_PER_COURSE,
        "screening_status": e.screening.status.value,
        "ready": e.ready,
        "flags": [
            {"code": f.code.value, "severity": f.severity.value, "message": f.message} for f in e.flags
        ],
        "scores": {code: _score_json(s) for code, s in e.scores.items()},
    }


def huddle_to_json(h: Huddle) -> dict[str, Any]:
    """The huddle as plain JSON-ready data (shape documented in docs/huddle-json.md)."""
    s = h.summary
    return {
        "date": h.day.isoformat(),
        "summary": {
            "infusions": s.infusions,
            "ready": s.ready,
            "not_ready": s.not_ready,
            "chairs": s.chairs,
            "chairs_per_hour": [
                {"hour": f"{load.hour:02d}:00", "chairs_used": load.chairs_used} for load in s.chairs_per_hour
            ],
            "flag_counts": {code.value: n for code, n in s.flag_counts.items()},
        },
        "patients": [entry_to_json(e) for e in h.entries],
    }


#: Columns of the huddle's CSV export (one row per patient), in order.
CSV_COLUMNS: tuple[str, ...] = (
    "date",
    "scheduled_at",
    "mrn",
    "name",
    "infusion_number",
    "course_number",
    "course_max",
    "screening_status",
    "ready",
    "urgent",
    "warnings",
    "infos",
    "flags",
    "messages",
    *(f"{inst.value} {part}" for inst in SYMPTOM_INSTRUMENTS for part in ("baseline", "latest", "band")),
)


def huddle_to_rows(h: Huddle) -> list[dict[str, Any]]:
    """One flat row per patient for a CSV file (flag codes and messages joined; blank where no score)."""
    rows = []
    for e in h.entries:
        urgent, warnings, infos = severity_counts(e.flags)
        row: dict[str, Any] = {
            "date": h.day.isoformat(),
            "scheduled_at": e.scheduled_at.isoformat(timespec="minutes"),
            "mrn": e.patient.mrn,
            "name": e.patient.name,
            "infusion_number": e.infusion.number,
            "course_number": e.course.number,
            "course_max": MAX_INFUSIONS_PER_COURSE,
            "screening_status": e.screening.status.value,
            "ready": "yes" if e.ready else "no",
            "urgent": urgent,
            "warnings": warnings,
            "infos": infos,
            "flags": ";".join(f.code.value for f in e.flags),
            "messages": " | ".join(f.message for f in e.flags),
        }
        for inst in SYMPTOM_INSTRUMENTS:
            s = e.scores.get(inst.value)
            row[f"{inst.value} baseline"] = "" if s is None else s.baseline
            row[f"{inst.value} latest"] = "" if s is None else s.latest
            row[f"{inst.value} band"] = "" if s is None else s.band
        rows.append(row)
    return rows
