"""Where each demo infusion falls: the wished-for days of a patient's courses, then booked on the chairs.

A scenario says how many infusions are done and which one (if any) is pinned to the schedule day;
:func:`plan_courses` turns that into wished-for days and :func:`place` books each on the chair calendar
(:mod:`kdash.demo.calendar`) around the pinned one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kdash.demo.calendar import ChairCalendar
from kdash.demo.scenarios import (
    PatientSpec,
    ScenarioContext,
)
from kdash.domain.policy import ClinicPolicy


@dataclass
class PlannedInfusion:
    """One live infusion of a patient's plan: where it wants to be and where it was booked."""

    course: int  # index in the spec's courses
    number: int
    desired: int
    pinned: int | None = None
    done: bool = True
    day: int = 0
    slot: tuple[int, int] = (0, 0)


def _offsets(rng: random.Random, n: int, settings: ClinicPolicy) -> list[int]:
    """Day offsets from the trial: a week to judge it, an induction about 3 a week, then boosters.

    clinical-reference.md "Course schedules": induction of six over about two weeks (Mon/Wed/Fri), boosters
    every 4 weeks (setting ``booster_every_weeks``); spacing never below ``min_days_between_infusions``.
    """
    gap = settings.min_days_between_infusions
    out = [0]
    for k in range(2, n + 1):
        if k == 2:
            step = rng.randint(3, 7)
        elif k <= 6:
            step = rng.choice((2, 2, 3))
        else:
            step = settings.booster_every_weeks * 7 + rng.randint(-3, 3)
        out.append(out[-1] + max(gap, step))
    return out


def plan_courses(rng: random.Random, spec: PatientSpec, settings: ClinicPolicy) -> list[PlannedInfusion]:
    """Every live infusion the spec asks for, with its desired day, in time order."""
    items: list[PlannedInfusion] = []
    next_trial: int | None = None
    per_course: list[list[PlannedInfusion]] = []
    for ci in range(len(spec.courses) - 1, -1, -1):  # later courses first: earlier ones end before them
        c = spec.courses[ci]
        offs = _offsets(rng, c.total, settings)
        if c.anchor_day is None:
            assert next_trial is not None
            anchor_idx, anchor_day = c.total - 1, next_trial - rng.randint(90, 200)
        elif c.anchor_kind == "last":
            anchor_idx, anchor_day = c.done - 1, c.anchor_day
        else:  # "pin" / "next": the first infusion not done
            anchor_idx, anchor_day = c.done, c.anchor_day
        course_items = []
        for k in range(c.total):
            desired = anchor_day + offs[k] - offs[anchor_idx]
            pinned = c.pinned if (c.pinned is not None and k == c.done) else None
            course_items.append(PlannedInfusion(ci, k + 1, desired, pinned, done=k < c.done))
        next_trial = course_items[0].desired
        per_course.append(course_items)
    for course_items in reversed(per_course):
        items.extend(course_items)
    return items


def place(plan: list[PlannedInfusion], calendar: ChairCalendar, ctx: ScenarioContext) -> None:
    """Book a patient's infusions around the pinned one: done ones backwards, booked ones forwards.

    Backwards from the pin (or from yesterday) each lands on the latest free day not after its wish and
    at least ``min_days_between_infusions`` before the next; forwards likewise after the schedule day.
    """
    gap = ctx.settings.min_days_between_infusions
    pin_at = next((i for i, it in enumerate(plan) if it.pinned is not None), None)
    if pin_at is not None:
        pin_day = plan[pin_at].day
        before, after = plan[:pin_at], plan[pin_at + 1 :]
        cap = pin_day - gap if pin_day < ctx.today else min(pin_day - gap, ctx.today - 1)
        floor = max(pin_day + gap, ctx.sday + 1)
    else:
        before = [it for it in plan if it.done]
        after = [it for it in plan if not it.done]
        cap, floor = ctx.today - 1, ctx.sday + 1
    for it in reversed(before):
        day = calendar.latest_on_or_before(min(it.desired, cap))
        it.day, it.slot = day, calendar.take(day)
        cap = day - gap
    if before and pin_at is None:
        floor = max(floor, before[-1].day + gap)
    for it in after:
        day = calendar.earliest_on_or_after(max(it.desired, floor))
        it.day, it.slot = day, calendar.take(day)
        floor = day + gap
