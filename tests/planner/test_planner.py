"""The what-if planner's rules, one behaviour per test (docs/planner.md names each one)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

import pytest

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import LiveBooking
from kdash.domain.vocab import (
    SCREENING_STATE_WORDS,
    CourseStatus,
    InfusionStatus,
    ScreeningStatus,
    TrialOutcome,
)
from kdash.planner.cadence import CadenceKind
from kdash.planner.plan import (
    ClinicCalendar,
    clinic_utilisation,
    compare,
    format_plan,
    parse_cadence,
    plan_course,
    plan_to_json,
)
from tests.records import MONDAY, course_with

S = ClinicPolicy()
DONE = InfusionStatus.COMPLETED
CLEARED = ScreeningStatus.CLEARED


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm))


def trial_done(day: date = MONDAY, **kw: object) -> object:
    return course_with((at(day, 9), DONE), **kw)  # type: ignore[arg-type]


def cal(
    bookings: list[LiveBooking] | None = None, closures: set[date] | None = None, settings=S
) -> ClinicCalendar:
    return ClinicCalendar.build(settings, bookings or [], closures or set())


def fill_day(day: date, chairs: int = 4, patient: int = 99) -> list[LiveBooking]:
    """Every chair booked back to back from opening to closing."""
    return [
        LiveBooking(at(day, h), chair, patient, patient * 10)
        for chair in range(1, chairs + 1)
        for h in range(S.open_hour, S.close_hour - 1, 2)
    ]


def dates(plan) -> list[date]:
    return [s.start.date() for s in plan.slots]


# --- cadences -------------------------------------------------------------------------------------


def test_induction_after_trial_books_the_rest_of_six_on_mon_wed_fri():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal())
    assert plan.allowed
    assert [s.number for s in plan.slots] == [2, 3, 4, 5, 6]
    assert [d.weekday() for d in dates(plan)] == [2, 4, 0, 2, 4]
    assert dates(plan)[0] == MONDAY + timedelta(days=2)
    assert all(s.moved is None for s in plan.slots)


def test_twice_weekly_is_monday_and_thursday():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "twice-weekly", cal(), sessions=4)
    assert [d.weekday() for d in dates(plan)] == [3, 0, 3, 0]


def test_weekly_follows_the_chosen_start_weekday():
    tuesday = MONDAY + timedelta(days=8)
    plan = plan_course(trial_done(), CLEARED, tuesday, "weekly", cal(), sessions=3)
    assert dates(plan) == [tuesday, tuesday + timedelta(days=7), tuesday + timedelta(days=14)]


def test_weekday_list_is_a_fixed_weekly_grid():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "tue,fri", cal(), sessions=4)
    # The trial was on Monday: Tuesday is too close, so the grid starts on Friday.
    assert [d.weekday() for d in dates(plan)] == [4, 1, 4, 1]


def test_booster_every_four_weeks_from_the_start():
    start = MONDAY + timedelta(weeks=6)
    plan = plan_course(trial_done(), CLEARED, start, "booster", cal(), sessions=3)
    assert dates(plan) == [start, start + timedelta(weeks=4), start + timedelta(weeks=8)]


def test_booster_moved_within_six_weeks_stays_on_cadence_without_warning():
    start = MONDAY + timedelta(weeks=6)
    second_due = start + timedelta(weeks=4)
    closures = {second_due + timedelta(days=i) for i in range(7)}  # a week of holidays
    plan = plan_course(trial_done(), CLEARED, start, "booster", cal(closures=closures), sessions=2)
    second = plan.slots[1]
    assert second.start.date() == second_due + timedelta(weeks=1)
    assert second.moved
    assert second.on_cadence
    assert not any("moved" in w for w in plan.warnings)


def test_booster_moved_past_six_weeks_is_a_warning():
    start = MONDAY + timedelta(weeks=6)
    second_due = start + timedelta(weeks=4)
    closures = {second_due + timedelta(days=i) for i in range(15)}
    plan = plan_course(trial_done(), CLEARED, start, "booster", cal(closures=closures), sessions=2)
    assert not plan.slots[1].on_cadence
    assert any(w.startswith("infusion 3 moved") for w in plan.warnings)


def test_parse_cadence_accepts_presets_and_weekday_lists():
    assert parse_cadence("Induction").kind is CadenceKind.INDUCTION
    assert parse_cadence("twice-weekly").kind is CadenceKind.TWICE_WEEKLY
    assert parse_cadence(" fri, Mon ,wed").weekdays == (0, 2, 4)
    assert parse_cadence("monday,thursday").label == "mon,thu"


@pytest.mark.parametrize("bad", ["", "fortnightly", "mon,funday", ",,"])
def test_parse_cadence_rejects_with_the_accepted_forms(bad):
    with pytest.raises(ValueError, match="induction, twice-weekly, weekly, booster"):
        parse_cadence(bad)


def test_sessions_below_one_is_an_input_error():
    with pytest.raises(ValueError, match="sessions"):
        plan_course(trial_done(), CLEARED, MONDAY, "weekly", cal(), sessions=0)


# --- moves --------------------------------------------------------------------------------------


def test_closure_moves_to_the_next_open_day_and_the_cadence_follows_from_there():
    wednesday = MONDAY + timedelta(days=2)
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(closures={wednesday}), sessions=3)
    # Wed closed -> Thu; the next grid day at least two days after Thu is Mon (Fri is too close).
    assert dates(plan) == [
        wednesday + timedelta(days=1),
        MONDAY + timedelta(days=7),
        MONDAY + timedelta(days=9),
    ]
    assert "closure" in plan.slots[0].moved
    assert "Wed 2025-03-05" in plan.slots[0].moved
    assert "Thu 2025-03-06" in plan.slots[0].moved
    assert plan.slots[1].moved is None
    assert any(w.startswith("infusion 2 moved") for w in plan.warnings)


def test_a_full_day_moves_with_the_reason():
    wednesday = MONDAY + timedelta(days=2)
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(fill_day(wednesday)), sessions=1)
    assert dates(plan) == [wednesday + timedelta(days=1)]
    assert "no chair free for 120 minutes" in plan.slots[0].moved


def test_never_on_a_closed_weekday():
    saturday = MONDAY + timedelta(days=5)
    plan = plan_course(trial_done(), CLEARED, saturday, "weekly", cal(), sessions=2)
    assert [d.weekday() for d in dates(plan)] == [0, 0]
    assert "closed on Sat" in plan.slots[0].moved


def test_one_infusion_per_patient_per_day_across_courses():
    wednesday = MONDAY + timedelta(days=2)
    other = [LiveBooking(at(wednesday, 8), 1, patient_id=1, course_id=2)]
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(other), sessions=1)
    assert dates(plan) == [wednesday + timedelta(days=2)]  # Thu is within two days of Wed's booking
    assert "already has an infusion that day" in plan.slots[0].moved


def test_spacing_of_two_days_after_the_last_live_infusion():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "mon,tue,wed,thu,fri", cal(), sessions=3)
    gaps = [(b - a).days for a, b in zip([MONDAY, *dates(plan)], dates(plan), strict=False)]
    assert min(gaps) >= S.min_days_between_infusions
    assert dates(plan)[0] == MONDAY + timedelta(days=2)


def test_grid_days_closer_than_the_spacing_are_warned_about():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "mon,tue", cal(), sessions=2)
    assert any("mon and tue are fewer than 2 days apart" in w for w in plan.warnings)
    assert [d.weekday() for d in dates(plan)] == [0, 0]


def test_the_plan_starts_the_day_after_the_last_live_infusion():
    last = MONDAY + timedelta(days=14)
    c = course_with((at(MONDAY, 9), DONE), (at(last, 9), InfusionStatus.SCHEDULED))
    plan = plan_course(c, CLEARED, MONDAY, "weekly", cal(), sessions=1)
    assert dates(plan)[0] > last
    assert any("the day after the course's last infusion done or booked" in r for r in plan.reasons)


def test_no_free_chair_within_a_year_stops_the_plan_with_the_reason():
    never_open = dataclasses.replace(S, open_weekdays=[])
    plan = plan_course(trial_done(), CLEARED, MONDAY, "weekly", cal(settings=never_open), sessions=2)
    assert plan.slots == ()
    assert any("no free chair within 366 days" in r for r in plan.reasons)


# --- chairs and times -----------------------------------------------------------------------------


def test_earliest_free_chair_on_the_half_hour_grid():
    wednesday = MONDAY + timedelta(days=2)
    busy = [LiveBooking(at(wednesday, 8, 30), c, 50 + c, 500 + c) for c in range(1, 5)]
    busy.append(LiveBooking(at(wednesday, 10, 30), 1, 60, 600))
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(busy), sessions=1)
    slot = plan.slots[0]
    assert (slot.start, slot.chair) == (at(wednesday, 10, 30), 2)
    assert slot.end == at(wednesday, 12, 30)


def test_the_whole_chair_time_fits_inside_opening_hours():
    wednesday = MONDAY + timedelta(days=2)
    long_chair = dataclasses.replace(S, chairs=1, recovery_minutes=90)  # 150 minutes a chair
    busy = [LiveBooking(at(wednesday, 8), 1, 50, 500, minutes=7 * 60 + 30)]  # chair busy until 15:30
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(busy, settings=long_chair), sessions=1)
    assert plan.slots[0].start == at(wednesday, 15, 30)
    assert plan.slots[0].end == at(wednesday, 18, 0)
    busy = [LiveBooking(at(wednesday, 8), 1, 50, 500, minutes=8 * 60)]  # until 16:00: 150 min no longer fit
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(busy, settings=long_chair), sessions=1)
    assert plan.slots[0].start.date() != wednesday


def test_preferred_time_takes_the_nearest_free_start():
    wednesday = MONDAY + timedelta(days=2)
    busy = [LiveBooking(at(wednesday, 14), c, 50 + c, 500 + c) for c in range(1, 5)]
    plan = plan_course(
        trial_done(), CLEARED, MONDAY, "induction", cal(busy), sessions=1, preferred_time=time(14, 0)
    )
    # 14:00 is taken on every chair; 12:00 and 16:00 are both two hours off: the earlier wins.
    assert plan.slots[0].start == at(wednesday, 12, 0)


def test_bookings_without_a_chair_are_given_chairs_in_start_order():
    wednesday = MONDAY + timedelta(days=2)
    imported = [LiveBooking(at(wednesday, 8), None, 50 + i, 500 + i) for i in range(3)]
    calendar = cal(imported)
    assert calendar.chairs_used_on(wednesday) == {1, 2, 3}
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", calendar, sessions=1)
    assert (plan.slots[0].start, plan.slots[0].chair) == (at(wednesday, 8), 4)


# --- what counts toward ten, and who may be planned --------------------------------------------------


def test_a_plan_past_ten_is_cut_at_ten_with_the_reason():
    c = course_with(*[(at(MONDAY + timedelta(days=2 * i), 9), DONE) for i in range(6)])
    plan = plan_course(c, CLEARED, MONDAY + timedelta(days=14), "weekly", cal(), sessions=9)
    assert [s.number for s in plan.slots] == [7, 8, 9, 10]
    assert any(r.startswith("cut at ten") for r in plan.reasons)
    assert any(w.startswith("cut at ten") for w in plan.warnings)


def test_cancelled_and_no_show_infusions_free_their_number():
    c = course_with(
        (at(MONDAY, 9), DONE),
        (at(MONDAY + timedelta(days=2), 9), InfusionStatus.CANCELLED),
        (at(MONDAY + timedelta(days=4), 9), InfusionStatus.NO_SHOW),
        (at(MONDAY + timedelta(days=7), 9), DONE),
    )
    plan = plan_course(c, CLEARED, MONDAY, "weekly", cal(), sessions=9)
    assert [s.number for s in plan.slots] == [2, 3, 5, 6, 7, 8, 9, 10]  # 1 and 4 are live


def test_a_course_holding_ten_is_refused():
    c = course_with(*[(at(MONDAY + timedelta(days=2 * i), 9), DONE) for i in range(10)])
    plan = plan_course(c, CLEARED, MONDAY + timedelta(days=30), "booster", cal())
    assert not plan.allowed
    assert plan.slots == ()
    assert any("start a new course after re-screening" in r for r in plan.reasons)


def test_no_trial_yet_plans_the_trial_alone():
    plan = plan_course(course_with(outcome=TrialOutcome.PENDING), CLEARED, MONDAY, "induction", cal())
    assert plan.allowed
    assert [(s.number, s.start) for s in plan.slots] == [(1, at(MONDAY, 8))]
    assert any("only the trial can be planned (1 of the 6 asked)" in r for r in plan.reasons)


@pytest.mark.parametrize(
    "status",
    [s for s in ScreeningStatus if s is not ScreeningStatus.CLEARED],
)
def test_a_patient_not_cleared_is_refused(status):
    plan = plan_course(trial_done(), status, MONDAY, "induction", cal())
    assert not plan.allowed
    assert plan.slots == ()
    assert any(f"{SCREENING_STATE_WORDS[status]}: not cleared" in r for r in plan.reasons)


def test_trial_without_benefit_is_refused():
    plan = plan_course(trial_done(outcome=TrialOutcome.NO_BENEFIT), CLEARED, MONDAY, "induction", cal())
    assert not plan.allowed
    assert plan.slots == ()
    assert plan.reasons == (
        "The trial infusion brought no benefit (provider's outcome): no further infusion",
    )


def test_pending_outcome_after_the_trial_is_refused():
    plan = plan_course(trial_done(outcome=TrialOutcome.PENDING), CLEARED, MONDAY, "induction", cal())
    assert not plan.allowed
    assert plan.slots == ()
    assert any("trial outcome is pending" in r for r in plan.reasons)


@pytest.mark.parametrize("status", [CourseStatus.STOPPED, CourseStatus.COMPLETED])
def test_a_stopped_or_completed_course_is_refused(status):
    plan = plan_course(trial_done(status=status), CLEARED, MONDAY, "weekly", cal())
    assert not plan.allowed
    assert any(f"Course 1 is {status.value}" in r for r in plan.reasons)


# --- course end, benefit window, target -------------------------------------------------------------


def test_benefit_window_runs_84_days_after_the_course_end():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "weekly", cal(), sessions=2)
    assert plan.course_end == dates(plan)[-1]
    assert plan.benefit_until == plan.course_end + timedelta(days=S.benefit_window_days)
    assert plan.covers_target is None


def test_covers_target_says_whether_the_benefit_window_reaches_the_date():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "weekly", cal(), sessions=2)
    end = plan.benefit_until
    yes = plan_course(trial_done(), CLEARED, MONDAY, "weekly", cal(), sessions=2, cover_until=end)
    no = plan_course(
        trial_done(), CLEARED, MONDAY, "weekly", cal(), sessions=2, cover_until=end + timedelta(days=1)
    )
    assert (yes.covers_target, no.covers_target) == (True, False)


def test_a_refused_plan_still_reports_the_course_end_of_its_live_infusions():
    plan = plan_course(
        trial_done(outcome=TrialOutcome.NO_BENEFIT), CLEARED, MONDAY, "weekly", cal(), cover_until=MONDAY
    )
    assert plan.course_end == MONDAY
    assert plan.covers_target is True


# --- capacity -------------------------------------------------------------------------------------


def test_a_day_above_ninety_percent_with_the_plan_is_a_warning():
    wednesday = MONDAY + timedelta(days=2)
    # 19 of 20 chair times taken: the plan's slot makes 100%.
    busy = fill_day(wednesday)[:-1]
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(busy), sessions=1)
    assert dates(plan) == [wednesday]
    assert any("Wed 2025-03-05: chairs 100% used" in w for w in plan.warnings)
    assert [d.day.weekday() for d in plan.chair_use] == [0, 1, 2, 3, 4]
    wed_use = next(d for d in plan.chair_use if d.day == wednesday)
    assert (wed_use.used_minutes, wed_use.added_minutes, wed_use.available_minutes) == (2400, 120, 2400)


def test_clinic_utilisation_per_day_and_hour_with_a_scenario_added():
    wednesday = MONDAY + timedelta(days=2)
    busy = [LiveBooking(at(wednesday, 8), 1, 50, 500), LiveBooking(at(wednesday, 9), 2, 51, 510)]
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(busy), sessions=1)
    closures = {MONDAY + timedelta(days=1)}
    use = clinic_utilisation(busy, S, closures, MONDAY, MONDAY + timedelta(days=6), extra=plan.slots)
    assert [d.day.weekday() for d in use.days] == [0, 2, 3, 4]  # Tue closure, weekend closed
    wed = use.days[1]
    assert wed.used_minutes == 360
    assert wed.added_minutes == 120
    assert wed.available_minutes == 2400
    by_hour = {h.hour: h.used_minutes for h in wed.hours}
    # 08-10 chair 1, 09-11 chair 2, the plan's 08-10 on chair 3
    assert [by_hour[h] for h in (8, 9, 10, 11)] == [120, 180, 60, 0]
    assert use.over_days == ()
    full = clinic_utilisation(fill_day(wednesday), S, (), wednesday, wednesday)
    assert full.over_days == (wednesday,)


def test_utilisation_range_must_not_be_reversed():
    with pytest.raises(ValueError, match="ends before it starts"):
        clinic_utilisation([], S, (), MONDAY, MONDAY - timedelta(days=1))


# --- output ---------------------------------------------------------------------------------------


def test_plan_to_json_has_exactly_the_documented_fields():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(), sessions=1, cover_until=MONDAY)
    out = plan_to_json(plan, "SYN0001")
    assert set(out) == {
        "mrn",
        "allowed",
        "reasons",
        "slots",
        "course_end",
        "benefit_until",
        "covers_target",
        "warnings",
    }
    assert out["slots"] == [
        {"number": 2, "start": "2025-03-05T08:00:00", "end": "2025-03-05T10:00:00", "chair": 1}
    ]
    assert out["course_end"] == "2025-03-05"
    assert out["benefit_until"] == "2025-05-28"
    assert out["covers_target"] is True


def test_compare_puts_up_to_three_scenarios_side_by_side():
    c, calendar = trial_done(), cal()
    plans = [
        plan_course(c, CLEARED, MONDAY, "induction", calendar, scenario="A"),
        plan_course(c, CLEARED, MONDAY, "twice-weekly", calendar, sessions=5, scenario="B"),
        plan_course(c, ScreeningStatus.INCOMPLETE, MONDAY, "weekly", calendar),
    ]
    rows = compare(plans)
    assert [r["scenario"] for r in rows] == ["A", "B", "weekly"]
    assert rows[0]["sessions"] == 5
    assert rows[0]["last"] < rows[1]["last"]
    assert rows[2]["sessions"] == 0
    assert "Screening is incomplete" in rows[2]["warnings"][0]
    with pytest.raises(ValueError, match="at most 3"):
        compare(plans + plans[:1])


def test_format_plan_names_slots_moves_and_target():
    wednesday = MONDAY + timedelta(days=2)
    plan = plan_course(
        trial_done(), CLEARED, MONDAY, "induction", cal(closures={wednesday}), sessions=1, cover_until=MONDAY
    )
    text = format_plan(plan)
    assert "#2  Thu 2025-03-06 08:00-10:00 chair 1" in text
    assert "moved from Wed 2025-03-05" in text
    assert "Covers 2025-03-03: yes" in text


def test_aware_bookings_are_read_in_the_clinic_time_zone():
    london = dataclasses.replace(S, timezone="Europe/London")
    from zoneinfo import ZoneInfo

    wednesday = MONDAY + timedelta(days=2)
    # 08:00 UTC is 08:00 in London in March (before summer time): chair 1 is busy at 08:00 local.
    aware = [LiveBooking(datetime.combine(wednesday, time(8), ZoneInfo("UTC")), 1, 50, 500)]
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(aware, settings=london), sessions=1)
    assert (plan.slots[0].start, plan.slots[0].chair) == (at(wednesday, 8), 2)


def test_a_trial_booked_but_not_given_blocks_further_infusions():
    c = course_with((at(MONDAY, 9), InfusionStatus.SCHEDULED), outcome=TrialOutcome.PENDING)
    plan = plan_course(c, CLEARED, MONDAY, "induction", cal())
    assert not plan.allowed
    assert any("has not been given yet" in r for r in plan.reasons)


def test_blockers_from_the_caller_refuse_the_plan():
    plan = plan_course(trial_done(), CLEARED, MONDAY, "induction", cal(), blockers=["re-screening is due"])
    assert not plan.allowed
    assert plan.reasons == ("re-screening is due",)
