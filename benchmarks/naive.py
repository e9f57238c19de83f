"""The naive way: ``pandas.read_sql`` of every table the answer needs, then merges and groupbys.

This is how a dashboard is often first written: load the tables into data frames and compute in pandas.
It gives the same answers as kdash (the agreement test holds it to that) and shows what kdash's
SQL-side filtering and aggregation save.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from benchmarks import convert
from kdash.settings import ClinicSettings
from kdash.vocab import LIVE_INFUSION_STATUSES

LIVE = [s.value for s in LIVE_INFUSION_STATUSES]


def _table(engine: Engine, name: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(f"SELECT * FROM {name}", conn)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def huddle_contexts(engine: Engine, day: date) -> list[Any]:
    from kdash.rules.huddle import PatientContext

    patients = _table(engine, "patient")
    courses = _table(engine, "course")
    infusions = _table(engine, "infusion")
    scores = _table(engine, "assessment")
    items = _table(engine, "screening_item")
    decisions = _table(engine, "screening_decision")
    reviews = _table(engine, "suicide_review")

    infusions["scheduled_at"] = pd.to_datetime(infusions["scheduled_at"])
    merged = infusions.merge(courses[["id", "patient_id"]], left_on="course_id", right_on="id")
    start = pd.Timestamp(day)
    on_day = merged[
        (merged["scheduled_at"] >= start)
        & (merged["scheduled_at"] < start + timedelta(days=1))
        & merged["status"].isin(LIVE)
    ]
    booked = patients[patients["id"].isin(on_day["patient_id"]) & patients["deleted_at"].isna()]
    ids = set(booked["id"])

    def grouped(frame: pd.DataFrame, key: str) -> dict[int, list[dict[str, Any]]]:
        part = frame[frame[key].isin(ids)]
        return {int(k): _records(g) for k, g in part.groupby(key)}

    inf_by_course = grouped(
        merged.drop(columns=["id_y"]).rename(columns={"id_x": "id"}).sort_values(["scheduled_at", "id"]),
        "patient_id",
    )
    per_course: dict[int, list[Any]] = {}
    for rows in inf_by_course.values():
        for r in rows:
            per_course.setdefault(int(r["course_id"]), []).append(convert.infusion(r))
    scores["taken_on"] = pd.to_datetime(scores["taken_on"])
    live_scores = scores[scores["deleted_at"].isna() & (scores["taken_on"] <= start)]
    score_groups = grouped(live_scores.sort_values(["taken_on", "id"]), "patient_id")
    item_groups = grouped(items.sort_values(["recorded_on", "id"]), "patient_id")
    decision_groups = grouped(decisions.sort_values(["decided_on", "id"]), "patient_id")
    review_groups = grouped(reviews.sort_values(["reviewed_on", "id"]), "patient_id")
    course_groups = grouped(courses.sort_values("number"), "patient_id")

    contexts = []
    for p in _records(booked):
        pid = int(p["id"])
        contexts.append(
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
    return contexts


def huddle(engine: Engine, day: date, settings: ClinicSettings) -> dict[str, Any]:
    from kdash.rules.huddle import build_huddle, huddle_to_json

    return huddle_to_json(build_huddle(day, huddle_contexts(engine, day), settings))
