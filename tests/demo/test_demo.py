"""The synthetic demo clinic: deterministic, complete (every state and stage) and always bookable."""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kdash.cli.main import EXIT_BAD_INPUT, EXIT_REFUSED, main
from kdash.demo.calendar import day_capacity, slot_starts
from kdash.demo.clinic import DemoData, DemoLoadError, generate, load
from kdash.domain.policy import DEFAULT_SETTINGS, ClinicPolicy
from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    MAX_INFUSIONS_PER_COURSE,
    PHQ9_ITEM9_RANGE,
    SCREENING_ITEMS,
    Indication,
    Instrument,
    ItemClass,
    ScreeningStatus,
)
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import (
    Assessment,
    Closure,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
    SuicideReview,
)

TODAY = date(2026, 11, 24)  # a Tuesday
LIVE = ("scheduled", "completed")
MODELS = {
    "patient": Patient,
    "screening_item": ScreeningItem,
    "screening_decision": ScreeningDecisionRow,
    "course": Course,
    "infusion": Infusion,
    "assessment": Assessment,
    "suicide_review": SuicideReview,
    "closure": Closure,
}


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(120, 7, TODAY)


# --- helpers: the clinic's rules restated simply, to judge the data independently ---------------------


def screening_status(items: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> ScreeningStatus:
    """clinical-reference.md "Decisions", screening status, first match wins."""
    if not items and not decisions:
        return ScreeningStatus.NOT_STARTED
    latest: dict[str, dict[str, Any]] = {}
    for row in sorted(items, key=lambda r: r["recorded_on"]):
        latest[row["item"]] = row
    decision = max(decisions, key=lambda r: r["decided_on"]) if decisions else None
    cls = {code: c for code, (_, c, _) in SCREENING_ITEMS.items()}
    if decision and decision["decision"] == "not_eligible":
        return ScreeningStatus.NOT_ELIGIBLE
    if any(cls[c] is ItemClass.ABSOLUTE and r["result"] == "yes" for c, r in latest.items()):
        return ScreeningStatus.NOT_ELIGIBLE
    for code, c in cls.items():
        answer = latest.get(code)
        if c is ItemClass.REQUIRED and (answer is None or answer["result"] != "yes"):
            return ScreeningStatus.INCOMPLETE
        if c is not ItemClass.REQUIRED and answer is None:
            return ScreeningStatus.INCOMPLETE
    if decision and decision["decision"] == "cleared":
        concerns = [r for c, r in latest.items() if cls[c] is not ItemClass.REQUIRED and r["result"] != "no"]
        if all(r["recorded_on"] < decision["decided_on"] for r in concerns):
            return ScreeningStatus.CLEARED
    return ScreeningStatus.NEEDS_REVIEW


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def check_invariants(data: DemoData, clinic: ClinicPolicy = DEFAULT_SETTINGS) -> None:
    """What must hold in any demo clinic, whatever its size, seed or day."""
    today = data.today
    for name, rows in data.tables():
        key = "day" if name == "closure" else "id"
        ids = [r[key] for r in rows]
        assert len(ids) == len(set(ids)), f"duplicate {key} in {name}"
        assert len({tuple(sorted(r)) for r in rows}) <= 1, f"{name} rows differ in their keys"
    patients = {p["id"]: p for p in data.patient}
    courses = {c["id"]: c for c in data.course}
    assessments = {a["id"]: a for a in data.assessment}
    closed = {c["day"] for c in data.closure}

    for p in data.patient:
        assert p["mrn"] == f"DEMO-{p['id']:06d}"
        age = (today - p["date_of_birth"]).days / 365.25
        assert 18 <= age <= 86
    for c in data.course:
        assert courses[c["id"]]["indication"] == patients[c["patient_id"]]["indication"]
    for _pid, rows in by(data.course, "patient_id").items():
        assert sorted(c["number"] for c in rows) == list(range(1, len(rows) + 1))

    starts = set(slot_starts(clinic))
    for i in data.infusion:
        at: datetime = i["scheduled_at"]
        assert i["course_id"] in courses
        assert at.weekday() in clinic.open_weekdays
        assert at.hour * 60 + at.minute in starts
        assert 1 <= i["chair"] <= clinic.chairs
        assert 1 <= i["number"] <= MAX_INFUSIONS_PER_COURSE
        if i["status"] in LIVE:
            assert at.date() not in closed, "a live booking on a closure day"
        if i["status"] == "completed":
            assert at.date() < today
            assert 95 <= i["spo2"] <= 100
            assert i["bp_pre_sys"]
            assert i["bp_peak_sys"]
            assert i["bp_discharge_sys"]
            assert i["escort_confirmed"] is True
            assert i["premed_given"] is True
            assert at < i["discharged_at"] <= at + timedelta(minutes=clinic.chair_minutes)
        elif i["status"] == "scheduled":
            assert at.date() >= today
            assert i["bp_pre_sys"] is None

    # No two live bookings of a chair overlap; so at most `chairs` at once.
    by_chair: dict[tuple[date, int], list[datetime]] = defaultdict(list)
    for i in data.infusion:
        if i["status"] in LIVE:
            by_chair[(i["scheduled_at"].date(), i["chair"])].append(i["scheduled_at"])
    length = timedelta(minutes=clinic.chair_minutes)
    for times in by_chair.values():
        times.sort()
        assert all(a + length <= b for a, b in itertools.pairwise(times))

    # Per course: live numbers 1..n contiguous in time order, at most ten; cancelled ones free theirs.
    per_patient_live: dict[int, list[date]] = defaultdict(list)
    for cid, rows in by(data.infusion, "course_id").items():
        live = sorted((r for r in rows if r["status"] in LIVE), key=lambda r: r["scheduled_at"])
        assert [r["number"] for r in live] == list(range(1, len(live) + 1))
        assert len(live) <= MAX_INFUSIONS_PER_COURSE
        live_at = {r["number"]: r["scheduled_at"] for r in live}
        for r in rows:
            if r["status"] not in LIVE:
                assert r["cancel_reason"]
                assert r["number"] not in live_at or live_at[r["number"]] > r["scheduled_at"]
        course = courses[cid]
        if course["trial_outcome"] != "pending":
            assert live
            assert live[0]["status"] == "completed"
        per_patient_live[course["patient_id"]].extend(r["scheduled_at"].date() for r in live)
    # At most one infusion per patient per day and at least two days between them.
    for days in per_patient_live.values():
        days.sort()
        assert all((b - a).days >= clinic.min_days_between_infusions for a, b in itertools.pairwise(days))

    seen = set()
    for a in data.assessment:
        lo, hi = INSTRUMENT_RANGES[Instrument(a["instrument"])]
        assert lo <= a["score"] <= hi
        assert a["taken_on"] <= today
        if a["item9"] is not None:
            assert a["instrument"] == Instrument.PHQ9.value
            assert PHQ9_ITEM9_RANGE[0] <= a["item9"] <= min(PHQ9_ITEM9_RANGE[1], a["score"])
        key = (a["patient_id"], a["instrument"], a["taken_on"])
        assert key not in seen, "two scores of one instrument on one day"
        seen.add(key)
    for r in data.suicide_review:
        assert assessments[r["assessment_id"]]["item9"] > 0
        assert r["reviewed_on"] >= assessments[r["assessment_id"]]["taken_on"]
    assert len({(r["patient_id"], r["item"], r["recorded_on"]) for r in data.screening_item}) == len(
        data.screening_item
    )
    assert len({(r["patient_id"], r["decided_on"]) for r in data.screening_decision}) == len(
        data.screening_decision
    )
    # Something is always booked on the schedule day, which is today whenever the clinic opens today.
    assert data.live_on(data.schedule_day)
    if today.weekday() in clinic.open_weekdays:
        assert data.schedule_day == today


# --- generation ---------------------------------------------------------------------------------------


def test_same_inputs_give_identical_rows_and_another_seed_different_ones(demo: DemoData) -> None:
    again = generate(120, 7, TODAY)
    assert again == demo
    other = generate(120, 8, TODAY)
    assert other.infusion != demo.infusion
    assert other.patient != demo.patient


def test_demo_satisfies_every_invariant(demo: DemoData) -> None:
    check_invariants(demo)


def test_every_indication_is_present_and_depression_and_crps_lead(demo: DemoData) -> None:
    counts = {ind: sum(p["indication"] == ind.value for p in demo.patient) for ind in Indication}
    assert all(counts.values()), counts
    top_two = sorted(counts, key=counts.__getitem__, reverse=True)[:2]
    assert set(top_two) == {Indication.DEPRESSION, Indication.CRPS}


def test_names_and_phones_are_obviously_fake(demo: DemoData) -> None:
    for p in demo.patient:
        assert p["last_name"] in {
            "Testperson", "Synthetica", "Demoson", "Sampleton", "Fakeworth", "Mockridge", "Placeholder",
            "Dummyford", "Notreal", "Fictivo",
        }  # fmt: skip
        assert p["provider"].startswith("Dr ")
        assert p["provider"].endswith("Demo")
        assert p["escort_phone"] is None or p["escort_phone"].startswith("555-01")
    assert any(p["escort_name"] is None for p in demo.patient)


def test_every_screening_status_is_reached(demo: DemoData) -> None:
    items, decisions = by(demo.screening_item, "patient_id"), by(demo.screening_decision, "patient_id")
    status = {
        p["id"]: screening_status(items.get(p["id"], []), decisions.get(p["id"], [])) for p in demo.patient
    }
    assert set(status.values()) == set(ScreeningStatus)
    # Most patients in an active course are cleared; some were cleared more than a year ago.
    active = {c["patient_id"] for c in demo.course if c["status"] == "active"}
    cleared = [pid for pid in active if status[pid] is ScreeningStatus.CLEARED]
    assert len(cleared) >= 0.9 * len(active)
    old = [
        pid
        for pid, rows in decisions.items()
        if max(r["decided_on"] for r in rows) < TODAY - timedelta(days=365)
        and status[pid] is ScreeningStatus.CLEARED
    ]
    assert old


def test_every_course_stage_is_present(demo: DemoData) -> None:
    infusions = by(demo.infusion, "course_id")
    stages = set()
    for c in demo.course:
        rows = infusions[c["id"]]
        live = [r for r in rows if r["status"] in LIVE]
        done = [r for r in live if r["status"] == "completed"]
        booked = [r for r in live if r["status"] == "scheduled"]
        if c["status"] == "planned" and not done and booked:
            stages.add("trial booked")
        if len(done) == 1 and c["trial_outcome"] == "pending" and booked:
            stages.add("trial done, outcome pending, next booked")
        if c["trial_outcome"] == "benefit" and c["status"] == "active" and booked and len(live) < 9:
            stages.add("responder mid-course")
        if c["trial_outcome"] == "no_benefit" and c["status"] == "stopped":
            stages.add("non-responder stopped")
        if len(live) == 9:
            stages.add("9 of 10")
        if len(live) == 10 and booked:
            stages.add("10 of 10 booked")
        if c["status"] == "completed" and len(done) == 10:
            stages.add("completed")
        if c["status"] == "stopped" and c["trial_outcome"] == "benefit":
            stages.add("stopped after benefit")
        if c["number"] == 2:
            stages.add("second course")
    assert stages == {
        "trial booked",
        "trial done, outcome pending, next booked",
        "responder mid-course",
        "non-responder stopped",
        "9 of 10",
        "10 of 10 booked",
        "completed",
        "stopped after benefit",
        "second course",
    }
    assert {r["status"] for r in demo.infusion} == {"scheduled", "completed", "cancelled", "no_show"}


def test_todays_schedule_and_the_next_two_weeks_are_booked(demo: DemoData) -> None:
    todays = demo.live_on(TODAY)
    assert 12 <= len(todays) <= 16
    assert all(r["status"] == "scheduled" for r in todays)
    assert sum(r["escort_confirmed"] is not True for r in todays) >= 2  # a few without a confirmed escort
    for offset in range(1, 14):
        day = TODAY + timedelta(days=offset)
        if day.weekday() < 5 and day not in {c["day"] for c in demo.closure}:
            assert demo.live_on(day), f"nothing booked on {day}"
    peak_starts = defaultdict(int)
    for r in demo.infusion:
        if r["status"] in LIVE:
            peak_starts[r["scheduled_at"]] += 1
    assert max(peak_starts.values()) <= DEFAULT_SETTINGS.chairs


def test_vitals_include_high_and_crisis_blood_pressure(demo: DemoData) -> None:
    done = [r for r in demo.infusion if r["status"] == "completed"]
    assert any(r["bp_pre_sys"] > 140 or r["bp_pre_dia"] > 90 for r in done)
    assert any(r["bp_peak_sys"] > 180 or r["bp_peak_dia"] > 120 for r in done)
    typical = sorted(r["bp_peak_sys"] - r["bp_pre_sys"] for r in done)[len(done) // 2]
    assert 10 <= typical <= 22  # the usual peak rise of about +16 mmHg
    assert {"nausea", "transient dissociation"} <= {r["adverse_events"] for r in done}


def test_scores_follow_real_trajectories(demo: DemoData) -> None:
    scores = by(demo.assessment, "patient_id")
    courses = by(demo.course, "patient_id")
    falls, flats = 0, 0
    for pid, rows in scores.items():
        phq = sorted((r for r in rows if r["instrument"] == "PHQ-9"), key=lambda r: r["taken_on"])
        if len(phq) < 3:
            continue
        outcome = courses[pid][0]["trial_outcome"] if pid in courses else None
        if outcome == "benefit" and phq[1]["score"] <= phq[0]["score"] / 2 + 1:
            falls += 1
        if outcome == "no_benefit" and abs(phq[1]["score"] - phq[0]["score"]) <= 3:
            flats += 1
    assert falls >= 5
    assert flats >= 1
    positives = [r for r in demo.assessment if r["item9"]]
    reviewed = {r["assessment_id"] for r in demo.suicide_review}
    assert any(r["id"] in reviewed for r in positives)
    assert any(r["id"] not in reviewed for r in positives)
    instruments = {r["instrument"] for r in demo.assessment}
    assert {"PHQ-9", "PCL-5", "NRS", "GAD-7", "MADRS"} <= instruments


def test_closures_are_the_holidays_of_the_next_three_months(demo: DemoData) -> None:
    assert [(c["day"], c["reason"]) for c in demo.closure] == [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2027, 1, 1), "New Year's Day"),
    ]


def test_a_weekend_today_schedules_the_next_weekday_and_nothing_today() -> None:
    saturday = date(2026, 11, 28)
    data = generate(60, 3, saturday)
    assert data.schedule_day == date(2026, 11, 30)
    assert data.live_on(data.schedule_day)
    assert not data.live_on(saturday)


def test_extra_day_holds_exactly_the_asked_number_up_to_the_grid() -> None:
    extra = TODAY + timedelta(days=8)  # a Wednesday
    data = generate(300, 1, TODAY, extra_day=extra, extra_day_infusions=20)
    assert len(data.live_on(extra)) == 20
    check_invariants(data)
    past = generate(300, 1, TODAY, extra_day=TODAY - timedelta(days=14), extra_day_infusions=7)
    assert len(past.live_on(TODAY - timedelta(days=14))) == 7
    with pytest.raises(ValueError, match="at most 20 infusions"):
        generate(300, 1, TODAY, extra_day=extra, extra_day_infusions=21)
    with pytest.raises(ValueError, match="closed on Saturdays"):
        generate(300, 1, TODAY, extra_day=date(2026, 11, 28), extra_day_infusions=3)


@pytest.mark.parametrize("wanted", [1, 3, 16, 20])
def test_extra_day_on_the_schedule_day_counts_todays_patients(wanted: int) -> None:
    data = generate(max(wanted, 40), 2, TODAY, extra_day=TODAY, extra_day_infusions=wanted)
    assert len(data.live_on(TODAY)) == wanted
    check_invariants(data)


def test_extra_day_elsewhere_needs_a_patient_left_for_the_schedule_day() -> None:
    extra = TODAY + timedelta(days=1)
    assert len(generate(6, 2, TODAY, extra_day=extra, extra_day_infusions=5).live_on(extra)) == 5
    with pytest.raises(ValueError, match="need at least 6 patients"):
        generate(5, 2, TODAY, extra_day=extra, extra_day_infusions=5)


def test_the_slot_grid_follows_the_settings() -> None:
    eight = dataclasses.replace(DEFAULT_SETTINGS, chairs=8)
    assert day_capacity(DEFAULT_SETTINGS) == 20
    assert day_capacity(eight) == 40
    extra = TODAY + timedelta(days=1)
    data = generate(200, 5, TODAY, settings=eight, extra_day=extra, extra_day_infusions=40)
    assert len(data.live_on(extra)) == 40
    assert {r["chair"] for r in data.live_on(extra)} == set(range(1, 9))
    check_invariants(data, eight)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    patients=st.integers(1, 60),
    seed=st.integers(0, 2**32),
    today=st.dates(date(2020, 1, 1), date(2035, 12, 31)),
)
def test_any_demo_satisfies_the_invariants(patients: int, seed: int, today: date) -> None:
    data = generate(patients, seed, today)
    assert len(data.patient) == patients
    check_invariants(data)


# --- loading ------------------------------------------------------------------------------------------


def _counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in MODELS.items()
        }


def test_load_writes_every_row_and_refuses_a_second_load(db: Database) -> None:
    data = generate(80, 11, TODAY)
    assert load(db, data) == data.counts()
    assert _counts(db) == data.counts()
    with pytest.raises(DemoLoadError, match="already holds 80 patients"):
        load(db, data)
    assert _counts(db) == data.counts()
    smaller = generate(30, 12, TODAY)
    load(db, smaller, replace=True)
    assert _counts(db)["patient"] == 30
    assert _counts(db)["infusion"] == len(smaller.infusion)
    # New rows get fresh ids after the explicit demo ids (PostgreSQL sequences were moved on).
    with db.write() as session:
        p = Patient(
            mrn="DEMO-NEW",
            first_name="New",
            last_name="Testperson",
            date_of_birth=date(1990, 1, 1),
            sex="female",
            indication="crps",
            provider="Dr A. Demo",
            status="active",
        )
        session.add(p)
        session.flush()
        assert p.id == 31


def test_progress_reports_every_table(sqlite_db: Database) -> None:
    seen: dict[str, tuple[int, int]] = {}
    load(
        sqlite_db, generate(20, 1, TODAY), progress=lambda t, done, total: seen.__setitem__(t, (done, total))
    )
    # Every table, then the screening summary judged from what was loaded (one row per patient).
    assert list(seen) == [*MODELS, "screening_summary"]
    assert seen["screening_summary"] == (20, 20)
    assert all(done == total for done, total in seen.values())


# --- command line -------------------------------------------------------------------------------------


def test_seed_command_loads_and_summarises(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["seed", "--demo", "--patients", "40", "--seed", "3", "--today", "2026-11-24", "--db", sqlite_url]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "loading infusions…" in err
    assert "patient" in out
    assert "40" in out
    assert "Schedule for Tue 2026-11-24:" in out
    engine = make_engine(sqlite_url)
    upgrade(engine)
    assert _counts(Database(engine=engine))["patient"] == 40
    engine.dispose()
    # A second load is refused without --replace and accepted with it.
    assert main(["seed", "--demo", "--patients", "10", "--db", sqlite_url]) == EXIT_REFUSED
    assert "--replace" in capsys.readouterr().err
    assert main(["seed", "--demo", "--patients", "10", "--replace", "--db", sqlite_url]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "pass --demo"),
        (["--demo", "--today", "24/11/2026"], "--today must be a date written YYYY-MM-DD"),
        (["--demo", "--today", "2026-02-30"], "--today must be a date"),
        (["--demo", "--patients", "0"], "--patients must be a whole number from 1"),
        (["--demo", "--patients", "many"], "--patients must be a whole number"),
        (["--demo", "--seed", "-1"], "--seed must be a whole number"),
    ],
)
def test_seed_command_rejects_bad_input(
    args: list[str], message: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", *args, "--db", sqlite_url]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_five_thousand_patients_load_whole(sqlite_db: Database) -> None:
    """The 5,000-patient clinic loads completely (its time is measured by benchmarks/bench_seed.py)."""
    data = generate(5000, 7, TODAY)
    load(sqlite_db, data)
    assert _counts(sqlite_db) == data.counts()
