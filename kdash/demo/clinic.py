"""A deterministic synthetic demo clinic: every screening state, course stage and huddle situation.

:func:`generate` is pure (no database, no clock): the same ``(patients, seed, today)`` always gives the
same rows, as plain dicts with explicit integer ids, so tests, screenshots and the benchmark can rely on
them. :func:`load` writes them in one transaction with SQLAlchemy Core executemany batches.

How the clinic is built: each patient gets a *scenario* (a trial booked today, a responder mid-course, a
non-responder whose course stopped, a completed course whose benefit is wearing off, a screening that
needs review …). The first patients take one scenario each from :data:`REQUIRED_SCENARIOS`, so the demo
shows every situation the huddle knows; the rest are drawn by weight, with the number of patients in
active courses capped by what four chairs can treat, and the clinic's history stretched over more years
when there are more patients. A scenario says how many infusions are done, which one (if any) is pinned
to the schedule day, how many are booked ahead and how the scores move; the chair calendar
(:mod:`kdash.demo.calendar`) then books every live infusion on the slot grid of the clinic's settings.

The parts: the scenarios (:mod:`kdash.demo.scenarios`), the people (:mod:`kdash.demo.people`), where
each infusion falls (:mod:`kdash.demo.booking`), then the rows of screenings, courses and infusions, and
scores (:mod:`kdash.demo.screening_rows`, :mod:`kdash.demo.course_rows`, :mod:`kdash.demo.score_rows`).

Names are obviously fake ("Testperson", "Synthetica"), MRNs are ``DEMO-000123``, phones 555-01xx.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from kdash.demo.booking import PlannedInfusion, place, plan_courses
from kdash.demo.calendar import ChairCalendar, day_capacity, holidays
from kdash.demo.course_rows import emit_courses
from kdash.demo.load import TABLE_ORDER, DemoData, DemoLoadError, Progress, load
from kdash.demo.people import Person, indications_for, new_person
from kdash.demo.rows import DemoRows
from kdash.demo.scenarios import (
    ACTIVE,
    ACTIVE_WEIGHTS,
    BENCH,
    BUILDERS,
    HISTORY,
    HISTORY_WEIGHTS,
    REQUIRED_SCENARIOS,
    ROSTER,
    PatientSpec,
    ScenarioContext,
    weighted,
)
from kdash.demo.score_rows import emit_scores
from kdash.demo.screening_rows import emit_screening
from kdash.domain.policy import DEFAULT_SETTINGS, ClinicPolicy

__all__ = [
    "REQUIRED_SCENARIOS",
    "TABLE_ORDER",
    "DemoData",
    "DemoLoadError",
    "Progress",
    "generate",
    "load",
    "schedule_day_for",
]

_CLOSURE_DAYS_AHEAD = 92  # "the next three months" of closures


# --- generation ---------------------------------------------------------------------------------------


def schedule_day_for(today: date, settings: ClinicPolicy = DEFAULT_SETTINGS) -> date:
    """The day today's huddle shows: today when the clinic opens on this weekday, else the next one."""
    if not settings.open_weekdays:
        raise ValueError("the clinic has no open weekday")
    day = today
    while day.weekday() not in settings.open_weekdays:
        day += timedelta(days=1)
    return day


def generate(
    patients: int,
    seed: int,
    today: date,
    *,
    settings: ClinicPolicy = DEFAULT_SETTINGS,
    extra_day: date | None = None,
    extra_day_infusions: int = 0,
) -> DemoData:
    """The demo clinic of ``patients`` patients around ``today``; pure and deterministic.

    ``extra_day`` / ``extra_day_infusions`` (for the benchmark) put exactly that many live infusions on
    one more open day, from patients whose course continues there; nothing else is booked on that day.
    When the extra day is the schedule day itself, today's huddle patients count toward the number.
    One day holds at most :func:`~kdash.demo.calendar.day_capacity` infusions (grid starts × chairs:
    20 with the default 08:00–18:00, 4 chairs, 120-minute chair time; 40 with 8 chairs). Asking for
    more, for a weekday the clinic is closed, or for as many as there are patients when the extra day
    is not the schedule day (which always keeps one booking) raises ``ValueError``. With
    ``extra_day_infusions == 0`` the extra day is ignored.
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    capacity = day_capacity(settings)
    if capacity < 1:
        raise ValueError("the clinic's opening hours hold no chair time")
    rng = random.Random(seed)
    sday = schedule_day_for(today, settings)
    t0, s0 = today.toordinal(), sday.toordinal()

    extra: int | None = None
    if extra_day_infusions < 0:
        raise ValueError("extra_day_infusions must not be negative")
    if extra_day is not None and extra_day_infusions > 0:
        if extra_day_infusions > capacity:
            raise ValueError(
                f"a day holds at most {capacity} infusions ({settings.chairs} chairs × "
                f"{capacity // settings.chairs} starts of {settings.chair_minutes} min); "
                f"asked for {extra_day_infusions}"
            )
        if extra_day.weekday() not in settings.open_weekdays:
            raise ValueError(
                f"the clinic is closed on {extra_day:%A}s: pick an open weekday as the extra day"
            )
        extra = extra_day.toordinal()

    exempt = frozenset(d for d in (s0, extra) if d is not None)
    calendar = ChairCalendar(settings, rng, exempt=exempt, reserved=exempt)

    # 1. Scenarios: the required ones first (one each), then weighted draws; the benchmark's patients
    #    then take the place of the last ones, never of the whole schedule day.
    wanted = extra_day_infusions if extra is not None else 0
    roster_limit = wanted if extra == s0 else capacity
    names: list[str] = []
    roster_count = 0
    for name in REQUIRED_SCENARIOS[:patients]:
        if name in ROSTER:
            if roster_count >= roster_limit:
                continue
            roster_count += 1
        names.append(name)
    active = sum(1 for n in names if n in ROSTER or n in ACTIVE)
    # Patients in a course at once: about what the chairs treat in a week (each has 1–3 a week in
    # induction, one a month in boosters), so a bigger demo adds history, not an impossible schedule.
    active_budget = max(0, round(0.6 * capacity * len(settings.open_weekdays)))
    while len(names) < patients:
        if active < active_budget and rng.random() < 0.4:
            names.append(weighted(rng, ACTIVE_WEIGHTS))
            active += 1
        else:
            names.append(weighted(rng, HISTORY_WEIGHTS))
    bench = wanted - roster_count if extra == s0 else wanted
    for i in range(patients - 1, -1, -1):  # others first, then roster ones (keeping one for the day)
        if bench and names[i] not in ROSTER:
            names[i], bench = BENCH, bench - 1
    for i in range(patients - 1, -1, -1):
        if bench and names[i] in ROSTER and sum(n in ROSTER for n in names) > 1:
            names[i], bench = BENCH, bench - 1
    if bench:
        raise ValueError(
            f"{wanted} infusions on the extra day and a schedule day need at least {wanted + 1} patients"
        )

    historical = sum(1 for n in names if n in HISTORY)
    # Spread history so the chairs are about half used: 5 infusions per patient on average.
    per_day = capacity * 0.5 * len(settings.open_weekdays) / 7
    window = max(400, int(historical * 5 / per_day))
    ctx = ScenarioContext(rng, t0, s0, window, settings, extra)

    specs = [BUILDERS[name](ctx) for name in names]

    # 2. People.
    indications = indications_for(rng, names)
    people = [new_person(rng, i + 1, ind, specs[i], t0) for i, ind in enumerate(indications)]

    # 3. Book: pinned days first (guaranteed), then roster, active and historical patients in turn.
    plans = [plan_courses(rng, spec, settings) for spec in specs]
    for plan in plans:
        for item in plan:
            if item.pinned is not None:
                item.day = item.pinned
                item.slot = calendar.take(item.pinned)
    order = sorted(
        range(patients), key=lambda i: (0 if names[i] in ROSTER else 1 if names[i] in ACTIVE else 2, i)
    )
    for i in order:
        place(plans[i], calendar, ctx)

    # 4. Rows.
    out = DemoRows()
    for i in range(patients):
        _emit_patient(out, ctx, calendar, people[i], specs[i], plans[i])
    closures = _closures(today, settings, exempt)
    return DemoData(
        today=today,
        schedule_day=sday,
        patient=[p.row for p in people],
        screening_item=out.screening_item,
        screening_decision=out.screening_decision,
        course=out.course,
        infusion=out.infusion,
        assessment=out.assessment,
        suicide_review=out.suicide_review,
        closure=closures,
        scenarios={i + 1: names[i] for i in range(patients)},
        chair_minutes=settings.chair_minutes,
    )


def _emit_patient(
    out: DemoRows,
    ctx: ScenarioContext,
    calendar: ChairCalendar,
    person: Person,
    spec: PatientSpec,
    plan: list[PlannedInfusion],
) -> None:
    courses = [[it for it in plan if it.course == ci] for ci in range(len(spec.courses))]
    emit_screening(out, ctx, person, spec, courses)
    emit_courses(out, ctx, calendar, person, spec, courses)
    emit_scores(out, ctx, person, spec, courses)


def _closures(today: date, settings: ClinicPolicy, exempt: frozenset[int]) -> list[dict[str, Any]]:
    """The synthetic public holidays on open weekdays in the next three months."""
    end = today + timedelta(days=_CLOSURE_DAYS_AHEAD)
    rows = []
    for year in range(today.year, end.year + 1):
        for day, reason in sorted(holidays(year).items()):
            if (
                today <= day <= end
                and day.weekday() in settings.open_weekdays
                and day.toordinal() not in exempt
            ):
                rows.append({"day": day, "reason": reason})
    return rows
