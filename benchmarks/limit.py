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
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import LIVE_INFUSION_STATUSES

LIVE = tuple(s.value for s in LIVE_INFUSION_STATUSES)
_LIVE_SQL = "(" + ", ".join(f"'{s}'" for s in LIVE) + ")"


def _day_bounds(day: date) -> list[str]:
    """The day as a half-open range of stored datetimes (ISO text sorts like the datetime itself)."""
    return [day.isoformat(), (day + timedelta(days=1)).isoformat()]


def booked_ids(db: RawDb, day: date) -> list[int]:
    """Patients (not deleted) with a live infusion on ``day``."""
    booked = db.rows(
        "SELECT DISTINCT c.patient_id FROM infusion i JOIN course c ON c.id = i.course_id "
        "JOIN patient p ON p.id = c.patient_id "
        f"WHERE i.scheduled_at >= ? AND i.scheduled_at < ? AND i.status IN {_LIVE_SQL} "
        "AND p.deleted_at IS NULL",
        _bounds(db, day),
    )
    return sorted(r["patient_id"] for r in booked)


def _bounds(db: RawDb, day: date) -> list[Any]:
    if db.dialect == "postgresql":
        return [day, day + timedelta(days=1)]
    return _day_bounds(day)


def _stored_screenings(db: RawDb, ids: list[int], settings: ClinicPolicy, until: date) -> dict[int, Any]:
    """The stored screening judgements that hold on ``until`` (same item classes, nothing later)."""
    import json

    from kdash.domain.records import ScreeningAssessment
    from kdash.domain.vocab import ScreeningStatus
    from kdash.storage.screening_summary import classes_key

    key = classes_key(settings)
    where, params = db.in_ids("patient_id", ids)
    out = {}
    for r in db.rows(
        f"SELECT patient_id, status, reasons_json, screened_on, through, classes_key FROM screening_summary "
        f"WHERE {where}",
        params,
    ):
        through = convert.as_date(r["through"])
        if r["classes_key"] == key and (through is None or through <= until):
            out[r["patient_id"]] = ScreeningAssessment(
                ScreeningStatus(r["status"]),
                tuple(json.loads(r["reasons_json"])),
                convert.as_date(r["screened_on"]),
            )
    return out


def contexts(
    db: RawDb, ids: list[int], until: date | None = None, *, settings: ClinicPolicy | None = None
) -> list[Any]:
    """Each patient's full context (scores up to ``until`` when given), in seven queries; with
    ``settings``, the stored screening judgement instead of the answers where it holds."""
    from kdash.domain.records import PatientContext

    if not ids:
        return []
    cols = ", ".join(convert.PATIENT_COLUMNS)
    where, params = db.in_ids("id", ids)
    patients = db.rows(f"SELECT {cols} FROM patient WHERE {where} AND deleted_at IS NULL ORDER BY id", params)
    judged = _stored_screenings(db, ids, settings, until or date.max) if settings is not None else {}
    unjudged = [i for i in ids if i not in judged]
    items: dict[int, list[Any]] = defaultdict(list)
    decisions: dict[int, list[Any]] = defaultdict(list)
    if unjudged:
        where_u, params_u = db.in_ids("patient_id", unjudged)
        for r in db.rows(
            "SELECT patient_id, item, result, recorded_on, note FROM screening_item "
            f"WHERE {where_u} ORDER BY recorded_on, id",
            params_u,
        ):
            items[r["patient_id"]].append(convert.screening_item(r))
        for r in db.rows(
            "SELECT patient_id, decision, decided_on, decided_by FROM screening_decision "
            f"WHERE {where_u} ORDER BY decided_on, id",
            params_u,
        ):
            decisions[r["patient_id"]].append(convert.screening_decision(r))
    where, params = db.in_ids("patient_id", ids)
    scores: dict[int, list[Any]] = defaultdict(list)
    score_sql = f"SELECT patient_id, id, instrument, score, taken_on, item9 FROM assessment WHERE {where} "
    score_sql += "AND deleted_at IS NULL"
    score_params = list(params)
    if until is not None:
        score_sql += " AND taken_on <= ?"
        score_params.append(until if db.dialect == "postgresql" else until.isoformat())
    for r in db.rows(score_sql + " ORDER BY taken_on, id", score_params):
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
            screening=judged.get(p["id"]),
        )
        for p in patients
    ]


def huddle_contexts(db: RawDb, day: date, settings: ClinicPolicy | None = None) -> list[Any]:
    """Every booked patient's full context for ``day``."""
    return contexts(db, booked_ids(db, day), day, settings=settings)


def huddle(db: RawDb, day: date, settings: ClinicPolicy) -> dict[str, Any]:
    """The huddle of ``day`` as JSON-ready data (the shape of ``huddle_to_json``)."""
    from kdash.interchange.huddle_json import huddle_to_json
    from kdash.rules.huddle import build_huddle

    return huddle_to_json(build_huddle(day, huddle_contexts(db, day, settings), settings))


# --- roster ------------------------------------------------------------------------------------------

_ACTIVE = "p.deleted_at IS NULL AND p.status = 'active'"


def _main_instrument_sql() -> str:
    """The roster's score per patient in SQL: the indication's main instrument, read off the one rule
    (kdash.rules.instruments.main_instrument: pain NRS, PTSD PCL-5, else PHQ-9)."""
    from kdash.rules.instruments import indications_by_main_instrument

    whens = " ".join(
        "WHEN p.indication IN ({}) THEN '{}'".format(", ".join(f"'{i.value}'" for i in found), inst.value)
        for inst, found in sorted(indications_by_main_instrument().items())
    )
    return f"CASE {whens} END"


def _date_of(db: RawDb, column: str) -> str:
    return f"CAST({column} AS DATE)" if db.dialect == "postgresql" else f"substr({column}, 1, 10)"


def _current_courses(db: RawDb, scope: str = _ACTIVE) -> dict[int, Any]:
    return {
        r["patient_id"]: r
        for r in db.rows(
            "SELECT c.id, c.patient_id, c.number, c.status, c.trial_outcome, "
            f"SUM(CASE WHEN i.status IN {_LIVE_SQL} THEN 1 ELSE 0 END) AS live, "
            "SUM(CASE WHEN i.status = 'completed' THEN 1 ELSE 0 END) AS completed, "
            f"MIN(CASE WHEN i.status IN {_LIVE_SQL} THEN i.scheduled_at END) AS first_at "
            "FROM patient p JOIN course c ON c.patient_id = p.id "
            "AND c.number = (SELECT max(c2.number) FROM course c2 WHERE c2.patient_id = p.id) "
            f"LEFT JOIN infusion i ON i.course_id = c.id WHERE {scope} "
            "GROUP BY c.id, c.patient_id, c.number, c.status, c.trial_outcome"
        )
    }


def _next_infusions(db: RawDb, today: date, scope: str = _ACTIVE) -> dict[int, Any]:
    start: Any = today if db.dialect == "postgresql" else today.isoformat()
    return {
        r["patient_id"]: convert.as_datetime(r["next_at"])
        for r in db.rows(
            "SELECT c.patient_id, MIN(i.scheduled_at) AS next_at FROM infusion i "
            "JOIN course c ON c.id = i.course_id JOIN patient p ON p.id = c.patient_id "
            f"WHERE {scope} AND i.status = 'scheduled' AND i.scheduled_at >= ? GROUP BY c.patient_id",
            [start],
        )
    }


def series_window(db: RawDb, points: int, scope: str = _ACTIVE) -> dict[int, list[tuple[date, int]]]:
    """The last ``points`` main scores per active patient, newest first: one window-function query."""
    out: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for r in db.rows(
        "SELECT patient_id, taken_on, score FROM ("
        "SELECT a.patient_id, a.taken_on, a.score, row_number() OVER ("
        "PARTITION BY a.patient_id ORDER BY a.taken_on DESC, a.id DESC) AS rn "
        "FROM patient p JOIN assessment a ON a.patient_id = p.id "
        f"AND a.instrument = {_main_instrument_sql()} "
        f"WHERE {scope} AND a.deleted_at IS NULL) ranked WHERE rn <= ? ORDER BY patient_id, rn",
        [points],
    ):
        out[r["patient_id"]].append((convert.as_date(r["taken_on"]), r["score"]))  # type: ignore[arg-type]
    return out


def series_probe(db: RawDb, points: int, scope: str = _ACTIVE) -> dict[int, list[tuple[date, int]]]:
    """The same, by probing the (patient, instrument, taken_on) index once per patient."""
    inst = _main_instrument_sql()
    if db.dialect == "postgresql":
        sql = (
            "SELECT p.id AS patient_id, a.taken_on, a.score FROM patient p CROSS JOIN LATERAL ("
            f"SELECT a2.taken_on, a2.score, a2.id FROM assessment a2 WHERE a2.patient_id = p.id "
            f"AND a2.instrument = {inst} AND a2.deleted_at IS NULL "
            "ORDER BY a2.taken_on DESC, a2.id DESC LIMIT ?) a "
            f"WHERE {scope} ORDER BY p.id, a.taken_on DESC, a.id DESC"
        )
    else:
        sql = (
            "SELECT p.id AS patient_id, a.taken_on, a.score FROM patient p JOIN assessment a ON a.id IN ("
            f"SELECT a2.id FROM assessment a2 WHERE a2.patient_id = p.id AND a2.instrument = {inst} "
            "AND a2.deleted_at IS NULL ORDER BY a2.taken_on DESC, a2.id DESC LIMIT ?) "
            f"WHERE {scope} ORDER BY p.id, a.taken_on DESC, a.id DESC"
        )
    out: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for r in db.rows(sql, [points]):
        out[r["patient_id"]].append((convert.as_date(r["taken_on"]), r["score"]))  # type: ignore[arg-type]
    return out


def _baselines(db: RawDb, scope: str = _ACTIVE) -> dict[int, int]:
    """Per active patient with a main score: the last score on or before the current course's first live
    infusion, else the first score (two index probes per patient)."""
    inst = _main_instrument_sql()
    first_day = _date_of(db, "cur.first_at")
    rows = db.rows(
        "WITH cur AS (SELECT c.patient_id, MIN(i.scheduled_at) AS first_at FROM patient p "
        "JOIN course c ON c.patient_id = p.id JOIN infusion i ON i.course_id = c.id "
        "WHERE c.number = (SELECT max(c2.number) FROM course c2 WHERE c2.patient_id = c.patient_id) "
        f"AND i.status IN {_LIVE_SQL} AND {scope} GROUP BY c.patient_id) "
        "SELECT p.id AS patient_id, "
        f"(SELECT a.score FROM assessment a WHERE a.patient_id = p.id AND a.instrument = {inst} "
        "AND a.deleted_at IS NULL ORDER BY a.taken_on, a.id LIMIT 1) AS first_score, "
        f"(SELECT a.score FROM assessment a WHERE a.patient_id = p.id AND a.instrument = {inst} "
        f"AND a.deleted_at IS NULL AND a.taken_on <= {first_day} "
        "ORDER BY a.taken_on DESC, a.id DESC LIMIT 1) AS before_score "
        f"FROM patient p LEFT JOIN cur ON cur.patient_id = p.id WHERE {scope}"
    )
    return {
        r["patient_id"]: (r["before_score"] if r["before_score"] is not None else r["first_score"])
        for r in rows
        if r["first_score"] is not None
    }


def _screenings(db: RawDb, scope: str = _ACTIVE) -> dict[int, Any]:
    """Each patient's stored screening status (``screening_summary``, kept current by kdash's writes)."""
    from kdash.domain.vocab import ScreeningStatus

    return {
        r["patient_id"]: ScreeningStatus(r["status"])
        for r in db.rows(
            f"SELECT s.patient_id, s.status FROM screening_summary s JOIN patient p ON p.id = s.patient_id "
            f"WHERE {scope}"
        )
    }


def roster(
    db: RawDb, settings: ClinicPolicy, today: date, *, flag_days: int = 14, series: str = "best"
) -> list[Any]:
    """The roster rows (kdash's ``RosterRow``) of every active patient from hand-written queries.

    ``series`` picks the query for the score sparkline: ``window``, ``probe``, or ``best`` (the faster
    of the two on this database, measured once per process).
    """
    cols = ", ".join(f"p.{c}" for c in convert.PATIENT_COLUMNS)
    patients = [convert.patient(r) for r in db.rows(f"SELECT {cols} FROM patient p WHERE {_ACTIVE}")]
    return _roster_rows(db, patients, _ACTIVE, settings, today, flag_days, series)


def _roster_rows(
    db: RawDb,
    patients: list[Any],
    scope: str,
    settings: ClinicPolicy,
    today: date,
    flag_days: int,
    series: str,
) -> list[Any]:
    from kdash.rules.roster_row import SPARK_POINTS

    courses = _current_courses(db, scope)
    nexts = _next_infusions(db, today, scope)
    scores = _series(db, series)(db, SPARK_POINTS, scope)
    baselines = _baselines(db, scope)
    screenings = _screenings(db, scope)
    soon = sorted(pid for pid, at in nexts.items() if at.date() <= today + timedelta(days=flag_days))
    flags = _flags(contexts(db, soon, settings=settings), nexts, settings)
    return assemble_roster(patients, courses, nexts, scores, baselines, screenings, flags, settings)


def roster_page(
    db: RawDb, settings: ClinicPolicy, today: date, *, page_size: int = 100, series: str = "best"
) -> Any:
    """The roster page's first page (kdash's ``RosterPage``, no filter): the counts and the providers,
    then the page's patients by name with ``LIMIT``, and their rows from the same queries scoped to
    them."""
    from kdash.services.roster import RosterPage

    total = db.rows(f"SELECT count(*) AS n FROM patient p WHERE {_ACTIVE}")[0]["n"]
    providers = tuple(
        r["provider"]
        for r in db.rows(f"SELECT DISTINCT provider FROM patient p WHERE {_ACTIVE} ORDER BY provider")
    )
    cols = ", ".join(f"p.{c}" for c in convert.PATIENT_COLUMNS)
    patients = [
        convert.patient(r)
        for r in db.rows(
            f"SELECT {cols} FROM patient p WHERE {_ACTIVE} ORDER BY p.last_name, p.first_name, p.mrn LIMIT ?",
            [page_size],
        )
    ]
    if not patients:
        return RosterPage((), 0, 0, 1, 1, page_size, providers)
    scope = f"{_ACTIVE} AND p.id IN ({', '.join(str(int(p.id)) for p in patients)})"
    rows = _roster_rows(db, patients, scope, settings, today, 14, series)
    return RosterPage(tuple(rows), total, total, 1, max(1, -(-total // page_size)), page_size, providers)


_SERIES_CHOICE: dict[int, Any] = {}


def _series(db: RawDb, how: str) -> Any:
    if how == "window":
        return series_window
    if how == "probe":
        return series_probe
    key = id(db)
    if key not in _SERIES_CHOICE:
        import time

        from kdash.rules.roster_row import SPARK_POINTS

        best = None
        for fn in (series_window, series_probe):
            fn(db, SPARK_POINTS, _ACTIVE)  # warm
            start = time.perf_counter()
            fn(db, SPARK_POINTS, _ACTIVE)
            took = time.perf_counter() - start
            if best is None or took < best[0]:
                best = (took, fn)
        assert best is not None
        _SERIES_CHOICE[key] = best[1]
    return _SERIES_CHOICE[key]


def _flags(ctxs: list[Any], nexts: dict[int, Any], settings: ClinicPolicy) -> dict[int, tuple[Any, ...]]:
    from kdash.rules.huddle import build_entry

    out: dict[int, tuple[Any, ...]] = {}
    for ctx in ctxs:
        entry = build_entry(ctx, nexts[ctx.patient.id].date(), settings)
        if entry is not None:
            out[ctx.patient.id] = entry.flags
    return out


def assemble_roster(
    patients: list[Any],
    courses: dict[int, Any],
    nexts: dict[int, Any],
    scores: dict[int, list[tuple[date, int]]],
    baselines: dict[int, int],
    screenings: dict[int, Any],
    flags: dict[int, tuple[Any, ...]],
    settings: ClinicPolicy,
) -> list[Any]:
    """Roster rows from the gathered pieces, laid out by kdash's own ``roster_row``."""
    from kdash.domain.vocab import ScreeningStatus
    from kdash.rules.roster_row import roster_row

    rows = []
    for p in sorted(patients, key=lambda p: (p.last_name, p.first_name, p.mrn)):
        rows.append(
            roster_row(
                p,
                scores.get(p.id, []),
                baselines.get(p.id),
                courses.get(p.id),
                screenings.get(p.id, ScreeningStatus.NOT_STARTED),
                nexts.get(p.id),
                flags.get(p.id, ()),
                settings,
            )
        )
    return rows


# --- patient trend -----------------------------------------------------------------------------------


def patient_trend(db: RawDb, settings: ClinicPolicy, patient_id: int) -> Any:
    """One patient's trend data (kdash's ``PatientTrend``) in three queries."""
    cols = ", ".join(convert.PATIENT_COLUMNS)
    found = db.rows(f"SELECT {cols} FROM patient WHERE id = ? AND deleted_at IS NULL", [patient_id])
    if not found:
        return None
    scores = db.rows(
        "SELECT instrument, taken_on, score FROM assessment WHERE patient_id = ? AND deleted_at IS NULL "
        "ORDER BY taken_on, id",
        [patient_id],
    )
    infusions = db.rows(
        "SELECT i.scheduled_at, i.status, c.number AS course_number, i.number FROM infusion i "
        f"JOIN course c ON c.id = i.course_id WHERE c.patient_id = ? AND i.status IN {_LIVE_SQL}",
        [patient_id],
    )
    return trend_from_rows(convert.patient(found[0]), scores, infusions, settings)


def trend_from_rows(patient: Any, scores: list[Any], infusions: list[Any], settings: ClinicPolicy) -> Any:
    """``PatientTrend`` from the patient, their scores (oldest first) and their live infusions."""
    from kdash.rules.trends import assemble_trend

    return assemble_trend(
        patient,
        [(r["instrument"], convert.as_date(r["taken_on"]), int(r["score"])) for r in scores],
        [
            (convert.as_datetime(r["scheduled_at"]), r["status"], int(r["course_number"]), int(r["number"]))
            for r in infusions
        ],
        settings,
    )
