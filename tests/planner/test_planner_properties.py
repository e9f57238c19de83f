"""Properties every plan keeps, whatever the calendar, the course and the cadence (Hypothesis)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import LiveBooking
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    SCREENING_STATE_WORDS,
    InfusionStatus,
    ScreeningStatus,
    TrialOutcome,
)
from kdash.planner.cadence import WEEKDAY_NAMES
from kdash.planner.plan import ClinicCalendar, parse_cadence, plan_course
from tests.records import MONDAY, course_with, random_bookings

PRESETS = ["induction", "twice-weekly", "weekly", "booster"]


@st.composite
def clinic_settings(draw: st.DrawFn) -> ClinicPolicy:
    open_hour = draw(st.integers(6, 10))
    return dataclasses.replace(
        ClinicPolicy(),
        chairs=draw(st.integers(1, 4)),
        open_weekdays=sorted(draw(st.sets(st.integers(0, 6), min_size=1))),
        open_hour=open_hour,
        close_hour=draw(st.integers(open_hour + 3, 20)),
        recovery_minutes=draw(st.sampled_from([30, 45, 60, 90])),
        min_days_between_infusions=draw(st.integers(1, 4)),
    )


cadences = st.one_of(
    st.sampled_from(PRESETS),
    st.sets(st.integers(0, 6), min_size=1).map(lambda s: ",".join(WEEKDAY_NAMES[d] for d in sorted(s))),
)


@st.composite
def scenarios(draw: st.DrawFn):
    cfg = draw(clinic_settings())
    bookings = random_bookings(
        draw(st.integers(0, 300)), draw(st.integers(0, 10_000)), days=draw(st.integers(7, 90)), settings=cfg
    )
    # Some bookings of the patient in another course, and chair-less imported ones.
    if bookings and draw(st.booleans()):
        b = bookings[0]
        bookings[0] = LiveBooking(b.start, b.chair, patient_id=1, course_id=2)
    if bookings and draw(st.booleans()):
        bookings = [
            LiveBooking(b.start, None, b.patient_id, b.course_id) if i % 3 == 0 else b
            for i, b in enumerate(bookings)
        ]
    closures = draw(st.sets(st.integers(0, 120).map(lambda i: MONDAY + timedelta(days=i)), max_size=20))
    n_live = draw(st.integers(0, 10))
    live = [
        (
            datetime.combine(MONDAY - timedelta(days=60) + timedelta(days=3 * i), time(9)),
            draw(st.sampled_from(list(InfusionStatus))),
        )
        for i in range(n_live)
    ]
    c = course_with(*live, outcome=TrialOutcome.BENEFIT)
    start = MONDAY + timedelta(days=draw(st.integers(-70, 60)))
    return cfg, bookings, closures, c, start


def _check(cfg: ClinicPolicy, bookings: list[LiveBooking], closures: set[date], c, plan) -> None:
    calendar = ClinicCalendar.build(cfg, bookings, closures)
    live = c.live_infusions
    # Never more than ten live per course; numbers are free ones.
    assert len(live) + len(plan.slots) <= MAX_INFUSIONS_PER_COURSE
    numbers = [s.number for s in plan.slots]
    assert len(set(numbers)) == len(numbers)
    assert not set(numbers) & {i.number for i in live}
    assert all(1 <= n <= MAX_INFUSIONS_PER_COURSE for n in numbers)
    patient_days = sorted({i.scheduled_at.date() for i in live} | calendar.patient_days(c.patient_id))
    planned_days = [s.start.date() for s in plan.slots]
    last_live = max((i.scheduled_at.date() for i in live), default=None)
    for s in plan.slots:
        day = s.start.date()
        # Inside opening hours, on an open day, not a closure, on a chair the clinic has.
        assert day not in closures
        assert day.weekday() in cfg.open_weekdays
        assert s.start.time() >= time(cfg.open_hour)
        assert s.end <= datetime.combine(day, time(cfg.close_hour))
        assert s.end - s.start == timedelta(minutes=cfg.chair_minutes)
        assert 1 <= s.chair <= cfg.chairs
        # No overlap with any booking on that chair.
        b = s.start.hour * 60 + s.start.minute
        assert calendar.chair_free(day, s.chair, b, b + cfg.chair_minutes)
        # Never before the day after the last live infusion.
        if last_live is not None:
            assert day > last_live
        # Cadence respected or the move explained.
        if day == s.cadence_date:
            assert s.moved is None
            assert s.on_cadence
        else:
            assert day > s.cadence_date
            assert s.moved
            assert s.cadence_date.isoformat() in s.moved
            assert day.isoformat() in s.moved
    # One per day and the spacing, between planned ones and against the patient's other bookings.
    everything = sorted(planned_days + patient_days)
    for day in planned_days:
        others = list(everything)
        others.remove(day)
        assert all(abs((day - o).days) >= max(1, cfg.min_days_between_infusions) for o in others)
    assert planned_days == sorted(planned_days)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), cadences, st.integers(1, 12))
def test_every_plan_keeps_the_calendar_cap_and_spacing_rules(scenario, cadence, sessions):
    cfg, bookings, closures, c, start = scenario
    calendar = ClinicCalendar.build(cfg, bookings, closures)
    plan = plan_course(c, ScreeningStatus.CLEARED, start, cadence, calendar, sessions=sessions)
    _check(cfg, bookings, closures, c, plan)
    if not plan.allowed:
        assert plan.slots == ()
        assert plan.reasons


@settings(max_examples=60, deadline=None)
@given(scenarios(), cadences, st.integers(1, 12))
def test_grid_cadence_dates_are_grid_days(scenario, cadence, sessions):
    cfg, bookings, closures, c, start = scenario
    cad = parse_cadence(cadence)
    plan = plan_course(
        c,
        ScreeningStatus.CLEARED,
        start,
        cad,
        ClinicCalendar.build(cfg, bookings, closures),
        sessions=sessions,
    )
    if not cad.is_booster:
        assert all(s.cadence_date.weekday() in cad.grid(start) for s in plan.slots)


@settings(max_examples=60, deadline=None)
@given(
    scenarios(),
    cadences,
    st.sampled_from([s for s in ScreeningStatus if s is not ScreeningStatus.CLEARED]),
    st.sampled_from(list(TrialOutcome)),
)
def test_not_cleared_is_always_refused_with_no_slots(scenario, cadence, status, outcome):
    cfg, bookings, closures, c, start = scenario
    c = dataclasses.replace(c, trial_outcome=outcome)
    plan = plan_course(c, status, start, cadence, ClinicCalendar.build(cfg, bookings, closures))
    assert not plan.allowed
    assert plan.slots == ()
    # The refusal names the screening state in the words the pages show.
    assert any(SCREENING_STATE_WORDS[status] in r for r in plan.reasons)


@settings(max_examples=60, deadline=None)
@given(scenarios(), cadences, st.integers(1, 12), st.one_of(st.none(), st.integers(-30, 400)))
def test_benefit_window_and_target(scenario, cadence, sessions, target_offset):
    cfg, bookings, closures, c, start = scenario
    target = None if target_offset is None else MONDAY + timedelta(days=target_offset)
    plan = plan_course(
        c,
        ScreeningStatus.CLEARED,
        start,
        cadence,
        ClinicCalendar.build(cfg, bookings, closures),
        sessions=sessions,
        cover_until=target,
    )
    days = [i.scheduled_at.date() for i in c.live_infusions] + [s.start.date() for s in plan.slots]
    assert plan.course_end == (max(days) if days else None)
    if plan.course_end:
        assert plan.benefit_until == plan.course_end + timedelta(days=cfg.benefit_window_days)
    if target is None:
        assert plan.covers_target is None
    else:
        assert plan.covers_target == bool(plan.benefit_until and plan.benefit_until >= target)


@given(st.lists(st.sampled_from([*WEEKDAY_NAMES, "Monday", "FRI", " thu "]), min_size=1))
def test_weekday_lists_parse_to_their_sorted_unique_days(names):
    cad = parse_cadence(",".join(names))
    expected = sorted({WEEKDAY_NAMES.index(n.strip().lower()[:3]) for n in names})
    assert list(cad.weekdays) == expected


@given(st.text(max_size=12))
def test_parse_cadence_either_reads_or_raises_value_error(text):
    message = ""
    try:
        label = parse_cadence(text).label
    except ValueError as err:
        label, message = "", str(err)
    assert bool(label) != ("use one of" in message)
