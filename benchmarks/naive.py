"""The naive way: ``pandas.read_sql`` of every table the answer needs, then merges and groupbys.

This is how a dashboard is often first written: load the tables into data frames and compute in pandas.
It gives the same answers as kdash (the agreement test holds it to that) and shows what kdash's
SQL-side filtering and aggregation save.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from benchmarks import convert
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import LIVE_INFUSION_STATUSES

LIVE = [s.value for s in LIVE_INFUSION_STATUSES]
_DATES = {
    "infusion": ["scheduled_at"],
    "assessment": ["taken_on"],
    "screening_item": ["recorded_on"],
    "screening_decision": ["decided_on"],
    "suicide_review": ["reviewed_on"],
}


def _tables(engine: Engine, *names: str) -> dict[str, pd.DataFrame]:
    """Whole tables as data frames (date columns parsed, so they compare and sort as dates)."""
    out = {}
    with engine.connect() as conn:
        for name in names:
            frame = pd.read_sql(f"SELECT * FROM {name}", conn)
            for column in _DATES.get(name, []):
                frame[column] = pd.to_datetime(frame[column])
            out[name] = frame
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def _groups(
    frame: pd.DataFrame, key: str, ids: set[int], order: list[str]
) -> dict[int, list[dict[str, Any]]]:
    part = frame[frame[key].isin(ids)].sort_values(order)
    return {int(k): _records(g) for k, g in part.groupby(key)}


def contexts(t: dict[str, pd.DataFrame], ids: set[int], until: date | None = None) -> list[Any]:
    """Full contexts of the patients ``ids`` from whole-table frames, by merges and groupbys."""
    from kdash.domain.records import PatientContext

    patients = t["patient"]
    chosen = patients[patients["id"].isin(ids) & patients["deleted_at"].isna()].sort_values("id")
    infusions = t["infusion"].merge(
        t["course"][["id", "patient_id"]].rename(columns={"id": "cid"}), left_on="course_id", right_on="cid"
    )
    per_course: dict[int, list[Any]] = {}
    for rows in _groups(infusions, "patient_id", ids, ["scheduled_at", "id"]).values():
        for r in rows:
            per_course.setdefault(int(r["course_id"]), []).append(convert.infusion(r))
    scores = t["assessment"][t["assessment"]["deleted_at"].isna()]
    if until is not None:
        scores = scores[scores["taken_on"] <= pd.Timestamp(until)]
    score_groups = _groups(scores, "patient_id", ids, ["taken_on", "id"])
    item_groups = _groups(t["screening_item"], "patient_id", ids, ["recorded_on", "id"])
    decision_groups = _groups(t["screening_decision"], "patient_id", ids, ["decided_on", "id"])
    review_groups = _groups(t["suicide_review"], "patient_id", ids, ["reviewed_on", "id"])
    course_groups = _groups(t["course"], "patient_id", ids, ["number"])
    out = []
    for p in _records(chosen):
        pid = int(p["id"])
        out.append(
            PatientContext(
                patient=convert.patient(p),
                screening_items=tuple(convert.screening_item(r) for r in item_groups.get(pid, [])),
                screening_decisions=tuple(
                    convert.screening_decision(r) for r in decision_groups.get(pid, [])
                ),
                courses=tuple(
                    convert.course(r, tuple(per_course.get(int(r["id"]), ())))
                    for r in course_groups.get(pid, [])
                ),
                assessments=tuple(convert.assessment(r) for r in score_groups.get(pid, [])),
                suicide_reviews=tuple(convert.suicide_review(r) for r in review_groups.get(pid, [])),
            )
        )
    return out


_ALL = (
    "patient",
    "course",
    "infusion",
    "assessment",
    "screening_item",
    "screening_decision",
    "suicide_review",
)


# --- huddle ------------------------------------------------------------------------------------------


def huddle(engine: Engine, day: date, settings: ClinicPolicy) -> dict[str, Any]:
    from kdash.interchange.huddle_json import huddle_to_json
    from kdash.rules.huddle import build_huddle

    t = _tables(engine, *_ALL)
    inf = t["infusion"].merge(t["course"][["id", "patient_id"]], left_on="course_id", right_on="id")
    start = pd.Timestamp(day)
    on_day = inf[
        (inf["scheduled_at"] >= start)
        & (inf["scheduled_at"] < start + timedelta(days=1))
        & inf["status"].isin(LIVE)
    ]
    ids = {int(i) for i in on_day["patient_id"].unique()}
    return huddle_to_json(build_huddle(day, contexts(t, ids, day), settings))


# --- roster ------------------------------------------------------------------------------------------


def roster(engine: Engine, settings: ClinicPolicy, today: date, *, flag_days: int = 14) -> list[Any]:
    from benchmarks.limit import assemble_roster
    from kdash.rules.huddle import build_entry
    from kdash.rules.instruments import main_instrument
    from kdash.rules.roster_row import SPARK_POINTS
    from kdash.rules.screening import screening_status

    t = _tables(engine, *_ALL)
    pt = t["patient"]
    active = pt[pt["deleted_at"].isna() & (pt["status"] == "active")].copy()
    active["inst"] = active["indication"].map(lambda v: main_instrument(v).value)
    ids = {int(i) for i in active["id"]}

    courses = t["course"][t["course"]["patient_id"].isin(ids)]
    current = courses.loc[courses.groupby("patient_id")["number"].idxmax()]
    inf = t["infusion"].copy()
    inf["live"] = inf["status"].isin(LIVE)
    inf["done"] = inf["status"] == "completed"
    inf["live_at"] = inf["scheduled_at"].where(inf["live"])
    stats = inf.groupby("course_id").agg(
        live=("live", "sum"), completed=("done", "sum"), first_at=("live_at", "min")
    )
    current = current.merge(stats, left_on="id", right_index=True, how="left")
    course_by_patient = {int(r["patient_id"]): r for r in _records(current)}

    with_patient = inf.merge(
        t["course"][["id", "patient_id"]].rename(columns={"id": "cid"}), left_on="course_id", right_on="cid"
    )
    upcoming = with_patient[
        with_patient["patient_id"].isin(ids)
        & (with_patient["status"] == "scheduled")
        & (with_patient["scheduled_at"] >= pd.Timestamp(today))
    ]
    nexts = {
        int(k): v.to_pydatetime() for k, v in upcoming.groupby("patient_id")["scheduled_at"].min().items()
    }

    scores = t["assessment"][t["assessment"]["deleted_at"].isna()].merge(
        active[["id", "inst"]],
        left_on=["patient_id", "instrument"],
        right_on=["id", "inst"],
        suffixes=("", "_p"),
    )
    newest = scores.sort_values(["taken_on", "id"], ascending=False).groupby("patient_id").head(SPARK_POINTS)
    series = {
        int(k): [(d.date(), int(s)) for d, s in zip(g["taken_on"], g["score"], strict=True)]
        for k, g in newest.groupby("patient_id", sort=False)
    }
    oldest = scores.sort_values(["taken_on", "id"])
    first = oldest.groupby("patient_id")["score"].first()
    first_days = current[["patient_id", "first_at"]].dropna()
    first_days = first_days.assign(first_day=first_days["first_at"].dt.normalize())
    early = oldest.merge(first_days[["patient_id", "first_day"]], on="patient_id")
    before = early[early["taken_on"] <= early["first_day"]].groupby("patient_id")["score"].last()
    baselines = {int(k): int(before.get(k, v)) for k, v in first.items()}

    items = _groups(t["screening_item"], "patient_id", ids, ["recorded_on", "id"])
    decisions = _groups(t["screening_decision"], "patient_id", ids, ["decided_on", "id"])
    screenings = {
        pid: screening_status(
            [convert.screening_item(r) for r in items.get(pid, [])],
            [convert.screening_decision(r) for r in decisions.get(pid, [])],
            settings,
        ).status
        for pid in set(items) | set(decisions)
    }
    soon = {pid for pid, at in nexts.items() if at.date() <= today + timedelta(days=flag_days)}
    flags = {}
    for ctx in contexts(t, soon):
        entry = build_entry(ctx, nexts[ctx.patient.id].date(), settings)
        if entry is not None:
            flags[ctx.patient.id] = entry.flags
    patients = [convert.patient(r) for r in _records(active)]
    for pid, row in course_by_patient.items():
        row["first_at"] = convert.as_datetime(row["first_at"])
        course_by_patient[pid] = row
    return assemble_roster(patients, course_by_patient, nexts, series, baselines, screenings, flags, settings)


def roster_page(engine: Engine, settings: ClinicPolicy, today: date, *, page_size: int = 100) -> Any:
    """The roster page the way a typical page gets it: the whole roster in pandas, then the first slice."""
    from kdash.services.roster import RosterPage

    rows = roster(engine, settings, today)
    providers = tuple(sorted({r.provider for r in rows}))
    pages = max(1, -(-len(rows) // page_size))
    return RosterPage(tuple(rows[:page_size]), len(rows), len(rows), 1, pages, page_size, providers)


# --- patient trend ---------------------------------------------------------------------------------------


def patient_trend(engine: Engine, settings: ClinicPolicy, patient_id: int) -> Any:
    from benchmarks.limit import trend_from_rows

    t = _tables(engine, "patient", "course", "infusion", "assessment")
    pt = t["patient"]
    found = pt[(pt["id"] == patient_id) & pt["deleted_at"].isna()]
    if found.empty:
        return None
    scores = t["assessment"]
    mine = scores[(scores["patient_id"] == patient_id) & scores["deleted_at"].isna()].sort_values(
        ["taken_on", "id"]
    )
    inf = t["infusion"].merge(
        t["course"][["id", "patient_id", "number"]].rename(columns={"id": "cid", "number": "course_number"}),
        left_on="course_id",
        right_on="cid",
    )
    live = inf[(inf["patient_id"] == patient_id) & inf["status"].isin(LIVE)]
    score_rows = [
        {"instrument": r["instrument"], "taken_on": r["taken_on"], "score": r["score"]}
        for r in _records(mine)
    ]
    infusion_rows = [
        {
            "scheduled_at": datetime.fromisoformat(str(r["scheduled_at"])),
            "status": r["status"],
            "course_number": r["course_number"],
            "number": r["number"],
        }
        for r in _records(live)
    ]
    return trend_from_rows(convert.patient(_records(found)[0]), score_rows, infusion_rows, settings)
