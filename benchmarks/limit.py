"""The limit: the best hand-written SQL for the same answers, straight through the driver.

Each function returns exactly what kdash's own function returns (the agreement test holds them to it),
but fetches with the fewest, narrowest queries a person would write by hand, and builds the records
without any ORM. The same pure rules then make the answer, so the gap to kdash is kdash's data access.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from benchmarks import convert
from benchmarks.rawdb import RawDb
from kdash.settings import ClinicSettings
from kdash.vocab import LIVE_INFUSION_STATUSES

LIVE = tuple(s.value for s in LIVE_INFUSION_STATUSES)
_LIVE_SQL = "(" + ", ".join(f"'{s}'" for s in LIVE) + ")"


def _day_bounds(day: date) -> list[str]:
    """The day as a half-open range of stored datetimes (ISO text sorts like the datetime itself)."""
    return [day.isoformat(), (day + timedelta(days=1)).isoformat()]


def huddle_contexts(db: RawDb, day: date) -> list[Any]:
    """Every booked patient's full context for ``day``, in six queries."""
    from kdash.rules.huddle import PatientContext

    lo, hi = _day_bounds(day)
    if db.dialect == "postgresql":
        bounds: list[Any] = [day, day + timedelta(days=1)]
    else:
        bounds = [lo, hi]
    booked = db.rows(
        "SELECT DISTINCT c.patient_id FROM infusion i JOIN course c ON c.id = i.course_id "
        f"WHERE i.scheduled_at >= ? AND i.scheduled_at < ? AND i.status IN {_LIVE_SQL}",
        bounds,
    )
    ids = [r["patient_id"] for r in booked]
    if not ids:
        return []
    cols = ", ".join(convert.PATIENT_COLUMNS)
    where, params = db.in_ids("id", ids)
    patients = db.rows(f"SELECT {cols} FROM patient WHERE {where} AND deleted_at IS NULL", params)
    where, params = db.in_ids("patient_id", ids)
    items: dict[int, list[Any]] = defaultdict(list)
    for r in db.rows(
        "SELECT patient_id, item, result, recorded_on, note FROM screening_item "
        f"WHERE {where} ORDER BY recorded_on, id",
        params,
    ):
        items[r["patient_id"]].append(convert.screening_item(r))
    decisions: dict[int, list[Any]] = defaultdict(list)
    for r in db.rows(
        "SELECT patient_id, decision, decided_on, decided_by FROM screening_decision "
        f"WHERE {where} ORDER BY decided_on, id",
        params,
    ):
        decisions[r["patient_id"]].append(convert.screening_decision(r))
    scores: dict[int, list[Any]] = defaultdict(list)
    for r in db.rows(
        "SELECT patient_id, id, instrument, score, taken_on, item9 FROM assessment "
        f"WHERE {where} AND deleted_at IS NULL AND taken_on <= ? ORDER BY taken_on, id",
        [*params, bounds[0]],
    ):
        scores[r["patient_id"]].append(convert.assessment(r))
    reviews: dict[int, list[Any]] = defaultdict(list)
    for r in db.rows(
        "SELECT patient_id, reviewed_on, reviewed_by, action, note FROM suicide_review "
        f"WHERE {where} ORDER BY reviewed_on, id",
        params,
    ):
        reviews[r["patient_id"]].append(convert.suicide_review(r))
    course_rows = db.rows(
        f"SELECT {', '.join(convert.COURSE_COLUMNS)} FROM course WHERE {where} ORDER BY number",
        params,
    )
    where_c, params_c = db.in_ids("c.patient_id", ids)
    infusions: dict[int, list[Any]] = defaultdict(list)
    icols = ", ".join(f"i.{c}" for c in convert.INFUSION_COLUMNS)
    for r in db.rows(
        f"SELECT {icols} FROM infusion i JOIN course c ON c.id = i.course_id WHERE {where_c} "
        "ORDER BY i.scheduled_at, i.id",
        params_c,
    ):
        infusions[r["course_id"]].append(convert.infusion(r))
    courses: dict[int, list[Any]] = defaultdict(list)
    for r in course_rows:
        courses[r["patient_id"]].append(convert.course(r, tuple(infusions.get(r["id"], ()))))
    return [
        PatientContext(
            patient=convert.patient(p),
            screening_items=tuple(items.get(p["id"], ())),
            screening_decisions=tuple(decisions.get(p["id"], ())),
            courses=tuple(courses.get(p["id"], ())),
            assessments=tuple(scores.get(p["id"], ())),
            suicide_reviews=tuple(reviews.get(p["id"], ())),
        )
        for p in patients
    ]


def huddle(db: RawDb, day: date, settings: ClinicSettings) -> dict[str, Any]:
    """The huddle of ``day`` as JSON-ready data (the shape of ``huddle_to_json``)."""
    from kdash.rules.huddle import build_huddle, huddle_to_json

    return huddle_to_json(build_huddle(day, huddle_contexts(db, day), settings))
