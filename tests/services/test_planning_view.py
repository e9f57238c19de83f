"""The planner page's reads: patient search, course state, cadence choice, clinic load in words."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kdash.domain.access import Actor, Forbidden
from kdash.domain.vocab import Role, ScreeningStatus, TrialOutcome
from kdash.planner.plan import PlannedSlot, parse_cadence
from kdash.services.booking import book_plan, plan_for_mrn
from kdash.services.planning_view import (
    WEEKDAYS_CHOICE,
    cadence_text,
    clinic_load,
    course_state,
    find_patients,
    heatmap_grid,
    over_capacity_lines,
    patient_by_mrn,
    patient_choice,
    slot_rows,
    timeline_rows,
    weeks_after,
)
from kdash.storage.database import Database
from kdash.storage.models import Patient
from kdash.storage.policy_repo import save_setting
from tests.seeded import BOOKING_TODAY as TODAY
from tests.seeded import add_patient

SCHEDULER = Actor("sched", Role.SCHEDULER, "Scheduler")
MONDAY = TODAY + timedelta(days=7)  # 2026-11-30
TRIAL_AT = datetime(2026, 11, 23, 9)


def test_patients_are_found_by_mrn_prefix_or_name_and_deleted_ones_are_not(db: Database) -> None:
    a, _ = add_patient(db, "SYN-0101")
    add_patient(db, "SYN-0102")
    gone, _ = add_patient(db, "SYN-0199")
    with db.write() as s:
        s.get(Patient, gone).deleted_at = datetime(2026, 11, 1)  # type: ignore[union-attr]
    assert [p.mrn for p in find_patients(db, SCHEDULER, "syn-01")] == ["SYN-0101", "SYN-0102"]
    assert [p.mrn for p in find_patients(db, SCHEDULER, "patient syn-0102")] == ["SYN-0102"]
    assert [p.mrn for p in find_patients(db, SCHEDULER, "TEST")] == ["SYN-0101", "SYN-0102"]
    assert find_patients(db, SCHEDULER, "   ") == []
    assert find_patients(db, SCHEDULER, "%") == []  # a wildcard is text, not "everything"
    # The one search of every page: "Last, First" as names are shown, "First Last", parts of an MRN.
    assert [p.mrn for p in find_patients(db, SCHEDULER, "Patient SYN-0102, Test")] == ["SYN-0102"]
    assert [p.mrn for p in find_patients(db, SCHEDULER, "test patient syn-0101")] == ["SYN-0101"]
    assert [p.mrn for p in find_patients(db, SCHEDULER, "0102")] == ["SYN-0102"]
    chosen = patient_choice(db, SCHEDULER, a)
    assert chosen is not None
    assert chosen.label == "Patient SYN-0101, Test · SYN-0101"
    assert patient_choice(db, SCHEDULER, gone) is None


def test_the_reads_need_the_plan_permission(db: Database) -> None:
    pid, _ = add_patient(db, "SYN-0101")
    viewer = Actor("viewer", Role.READ_ONLY)
    with pytest.raises(Forbidden):
        find_patients(db, viewer, "SYN")
    with pytest.raises(Forbidden):
        course_state(db, viewer, pid)
    with pytest.raises(Forbidden):
        clinic_load(db, viewer, MONDAY, MONDAY)


def test_course_state_counts_done_booked_and_live_of_ten(db: Database) -> None:
    pid, course_id = add_patient(db, "SYN-0101", trial_at=TRIAL_AT)
    plan = plan_for_mrn(db, SCHEDULER, "SYN-0101", MONDAY, "weekly", sessions=2, today=TODAY).plan
    book_plan(db, SCHEDULER, course_id, plan, today=TODAY)
    state = course_state(db, SCHEDULER, pid)
    assert (state.done, state.booked, state.live) == (1, 2, 3)
    assert state.progress == "1 done · 2 booked · of 10"
    assert state.trial_outcome is TrialOutcome.BENEFIT
    assert state.screening is ScreeningStatus.CLEARED
    assert state.can_add
    assert state.course_id == course_id


def test_course_state_says_where_a_plan_can_start_and_the_rest_of_the_course(db: Database) -> None:
    pid, course_id = add_patient(db, "SYN-0101", trial_at=TRIAL_AT)
    state = course_state(db, SCHEDULER, pid)
    assert (state.earliest_start, state.rest_of_course) == (TRIAL_AT.date() + timedelta(days=1), 9)
    plan = plan_for_mrn(db, SCHEDULER, "SYN-0101", MONDAY, "weekly", sessions=2, today=TODAY).plan
    book_plan(db, SCHEDULER, course_id, plan, today=TODAY)
    state = course_state(db, SCHEDULER, pid)
    assert (state.earliest_start, state.rest_of_course) == (MONDAY + timedelta(days=8), 7)
    # Before the trial only the trial can be planned, and nothing bounds the start.
    pid, _ = add_patient(db, "SYN-0102")
    state = course_state(db, SCHEDULER, pid)
    assert (state.earliest_start, state.rest_of_course, state.trial_pending) == (None, 1, True)


def test_the_address_finds_the_exact_mrn_only(db: Database) -> None:
    add_patient(db, "SYN-0101")
    add_patient(db, "SYN-01010")
    found = patient_by_mrn(db, SCHEDULER, " syn-0101 ")
    assert found is not None
    assert found.mrn == "SYN-0101"
    assert patient_by_mrn(db, SCHEDULER, "SYN-010") is None
    assert patient_by_mrn(db, SCHEDULER, "") is None


def test_course_state_of_a_refused_patient_says_why(db: Database) -> None:
    pid, _ = add_patient(db, "SYN-0101", trial_at=TRIAL_AT, outcome=TrialOutcome.NO_BENEFIT)
    state = course_state(db, SCHEDULER, pid)
    assert not state.can_add
    assert any("no benefit" in r.replace("_", " ") for r in state.reasons)


@given(st.lists(st.integers(0, 6), min_size=1, max_size=10))
def test_chosen_weekdays_become_a_cadence_the_planner_reads_back(days: list[int]) -> None:
    cadence = parse_cadence(cadence_text(WEEKDAYS_CHOICE, days))
    assert cadence.weekdays == tuple(sorted(set(days)))


def test_presets_pass_through_and_an_empty_weekday_choice_is_an_input_error() -> None:
    assert cadence_text("twice-weekly") == "twice-weekly"
    with pytest.raises(ValueError, match="at least one weekday"):
        cadence_text(WEEKDAYS_CHOICE, [])


def test_slot_rows_and_timeline_rows_carry_the_plan(db: Database) -> None:
    add_patient(db, "SYN-0101", trial_at=TRIAL_AT)
    plan = plan_for_mrn(
        db, SCHEDULER, "SYN-0101", MONDAY, "weekly", sessions=2, scenario="Weekly", today=TODAY
    ).plan
    assert slot_rows(plan) == [
        {"infusion": 2, "day": "Mon 2026-11-30", "time": "08:00–10:00", "chair": 1, "note": ""},
        {"infusion": 3, "day": "Mon 2026-12-07", "time": "08:00–10:00", "chair": 1, "note": ""},
    ]
    rows = timeline_rows([plan])
    assert [r["kind"] for r in rows] == ["infusion", "infusion", "benefit window"]
    assert rows[-1]["end"] == datetime(2027, 3, 1)  # 84 days after Mon 2026-12-07
    assert {r["scenario"] for r in rows} == {"Weekly"}


def test_clinic_load_adds_the_scenario_and_names_the_days_over_capacity(db: Database) -> None:
    _, other = add_patient(db, "SYN-0102")
    when = datetime.combine(MONDAY, datetime.min.time()).replace(hour=8)
    book_plan(
        db, SCHEDULER, other, [PlannedSlot(1, when, when + timedelta(minutes=120), 2, MONDAY)], today=TODAY
    )
    with db.write() as s:
        save_setting(s, "capacity_warning_pct", 6.0, "admin", datetime(2026, 11, 1))
    end = weeks_after(MONDAY, 1)
    assert end == MONDAY + timedelta(days=6)
    existing = clinic_load(db, SCHEDULER, MONDAY, end)
    monday = existing.days[0]
    assert (monday.day, monday.used_minutes, monday.added_minutes) == (MONDAY, 120, 0)
    assert over_capacity_lines(existing) == []  # 5% is under a 6% line
    extra = [PlannedSlot(2, when, when + timedelta(minutes=120), 1, MONDAY)]
    with_plan = clinic_load(db, SCHEDULER, MONDAY, end, extra)
    assert over_capacity_lines(with_plan) == [
        "Mon 2026-11-30: 10% of chair-hours used (4.0 of 40.0 h, above 6%), 2.0 h of it from the scenario"
    ]
    days, hours, z = heatmap_grid(with_plan)
    assert days[0] == "Mon 2026-11-30"
    assert hours[:3] == ["08:00", "09:00", "10:00"]
    # Two chairs of four busy 08:00–10:00: half the chair time of those hours, none after.
    assert [row[0] for row in z[:3]] == [50.0, 50.0, 0.0]
    assert len(z) == len(hours)
    assert all(len(row) == len(days) for row in z)


def test_a_closed_period_has_no_days(db: Database) -> None:
    sunday = date(2026, 11, 29)
    use = clinic_load(db, SCHEDULER, sunday, sunday)
    assert use.days == ()
    assert heatmap_grid(use) == ([], [], [])
