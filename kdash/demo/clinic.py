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

Names are obviously fake ("Testperson", "Synthetica"), MRNs are ``DEMO-000123``, phones 555-01xx.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from kdash.demo.calendar import ChairCalendar, day_capacity, holidays
from kdash.demo.load import TABLE_ORDER, DemoLoadError, Progress, load
from kdash.demo.scenarios import (
    ACTIVE,
    ACTIVE_WEIGHTS,
    BENCH,
    BUILDERS,
    HISTORY,
    HISTORY_WEIGHTS,
    MOOD_ONLY,
    REQUIRED_SCENARIOS,
    ROSTER,
    PatientSpec,
    ScenarioContext,
    weighted,
)
from kdash.domain.policy import DEFAULT_SETTINGS, ClinicPolicy
from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    MAX_INFUSIONS_PER_COURSE,
    PAIN_INDICATIONS,
    SCREENING_ITEMS,
    AssessmentSource,
    CourseStatus,
    Indication,
    InfusionStatus,
    Instrument,
    ItemClass,
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
    Sex,
    SuicideReviewAction,
    TrialOutcome,
)
from kdash.storage.models import INFUSION_SESSION_FIELDS

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

FIRST_NAMES: tuple[str, ...] = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Robin", "Avery",
    "Quinn", "Charlie", "Drew", "Emery", "Finley", "Harper", "Kai", "Logan", "Parker", "Rowan",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Testperson", "Synthetica", "Demoson", "Sampleton", "Fakeworth", "Mockridge", "Placeholder",
    "Dummyford", "Notreal", "Fictivo",
)  # fmt: skip
PROVIDERS: tuple[str, ...] = ("Dr A. Demo", "Dr B. Demo", "Dr C. Demo", "Dr D. Demo")

#: More depression and CRPS, as in the clinic's own list of what it treats most.
INDICATION_WEIGHTS: tuple[tuple[Indication, int], ...] = (
    (Indication.DEPRESSION, 30),
    (Indication.CRPS, 18),
    (Indication.PTSD, 11),
    (Indication.BIPOLAR_DEPRESSION, 8),
    (Indication.NEUROPATHY, 8),
    (Indication.FIBROMYALGIA, 8),
    (Indication.SPINAL_INJURY, 5),
    (Indication.CANCER_PAIN, 5),
    (Indication.OTHER_PAIN, 5),
)
_MOOD_WEIGHTS: tuple[tuple[Indication, int], ...] = (
    (Indication.DEPRESSION, 6),
    (Indication.BIPOLAR_DEPRESSION, 2),
    (Indication.PTSD, 2),
)
_SEX_WEIGHTS: tuple[tuple[Sex, int], ...] = (
    (Sex.FEMALE, 55),
    (Sex.MALE, 41),
    (Sex.OTHER, 2),
    (Sex.UNKNOWN, 2),
)

#: Baseline score ranges of an untreated, treatment-resistant patient (moderately severe to severe).
_BASELINE: dict[Instrument, tuple[int, int]] = {
    Instrument.PHQ9: (15, 24),
    Instrument.PCL5: (40, 66),
    Instrument.NRS: (6, 9),
    Instrument.GAD7: (10, 18),
    Instrument.MADRS: (26, 40),
}
_NOISE: dict[Instrument, int] = {
    Instrument.PHQ9: 1,
    Instrument.PCL5: 3,
    Instrument.NRS: 0,
    Instrument.GAD7: 1,
    Instrument.MADRS: 2,
}
_CANCEL_REASONS: tuple[str, ...] = ("patient unwell", "no driver available", "rescheduled by patient")
_ADVERSE: tuple[tuple[str, float], ...] = (("nausea", 0.05), ("transient dissociation", 0.04))
#: Usual IV ketamine dose (CLINICAL.md "Course schedules": 0.5 mg/kg over 40 min); a few adjusted.
_DOSES: tuple[float, ...] = (0.5,) * 8 + (0.4, 0.6, 0.75)
_CLOSURE_DAYS_AHEAD = 92  # "the next three months" of closures


# --- public result ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoData:
    """The demo clinic as plain rows per table (dicts with explicit integer ids), ready to insert."""

    today: date
    schedule_day: date
    patient: list[dict[str, Any]]
    screening_item: list[dict[str, Any]]
    screening_decision: list[dict[str, Any]]
    course: list[dict[str, Any]]
    infusion: list[dict[str, Any]]
    assessment: list[dict[str, Any]]
    suicide_review: list[dict[str, Any]]
    closure: list[dict[str, Any]]
    #: Scenario name per patient id (what the patient is there to show; not stored in the database).
    scenarios: dict[int, str] = field(default_factory=dict)
    #: The chair time the bookings were laid out with (each infusion holds its chair that long).
    chair_minutes: int | None = None

    def tables(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(table name, rows) in load order."""
        return [(name, getattr(self, name)) for name in TABLE_ORDER]

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables()}

    def live_on(self, day: date) -> list[dict[str, Any]]:
        """Live (scheduled or completed) infusions on ``day``, by start time and chair."""
        rows = [
            r
            for r in self.infusion
            if r["scheduled_at"].date() == day
            and r["status"] in (InfusionStatus.SCHEDULED.value, InfusionStatus.COMPLETED.value)
        ]
        return sorted(rows, key=lambda r: (r["scheduled_at"], r["chair"]))


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
    indications = _indications(rng, names)
    people = [_person(rng, i + 1, ind, specs[i], t0) for i, ind in enumerate(indications)]

    # 3. Book: pinned days first (guaranteed), then roster, active and historical patients in turn.
    plans = [_plan_courses(rng, spec, settings) for spec in specs]
    for plan in plans:
        for item in plan:
            if item.pinned is not None:
                item.day = item.pinned
                item.slot = calendar.take(item.pinned)
    order = sorted(
        range(patients), key=lambda i: (0 if names[i] in ROSTER else 1 if names[i] in ACTIVE else 2, i)
    )
    for i in order:
        _place(plans[i], calendar, ctx)

    # 4. Rows.
    out = _Rows()
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


def _indications(rng: random.Random, names: list[str]) -> list[Indication]:
    """A realistic mix, mood indications where the scenario needs a PHQ-9, and every indication once."""
    out = [
        weighted(rng, _MOOD_WEIGHTS if n in MOOD_ONLY else INDICATION_WEIGHTS) for n in names
    ]  # fmt: skip
    for wanted in Indication:
        if wanted in out:
            continue
        counts = {ind: out.count(ind) for ind in Indication}
        for i in range(len(out) - 1, -1, -1):
            if names[i] not in MOOD_ONLY and counts[out[i]] > 1:
                out[i] = wanted
                break
    return out


@dataclass
class _Person:
    row: dict[str, Any]
    indication: Indication
    provider: str
    instruments: tuple[Instrument, ...]
    bp_base: tuple[int, int]


def _person(rng: random.Random, pid: int, indication: Indication, spec: PatientSpec, today: int) -> _Person:
    sex = weighted(rng, _SEX_WEIGHTS)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    age_days = rng.randint(18 * 366, 85 * 365)  # adults 18–85
    escort_name = escort_phone = None
    if spec.escort_on_file and (spec.escort_today is not None or rng.random() > 0.1):
        escort_name = f"{rng.choice(FIRST_NAMES)} {last}"
        escort_phone = f"555-01{rng.randrange(100):02d}"
    provider = rng.choice(PROVIDERS)
    if indication in PAIN_INDICATIONS:
        instruments: tuple[Instrument, ...] = (Instrument.NRS,)
    elif indication is Indication.PTSD:
        instruments = (Instrument.PCL5, Instrument.PHQ9)
    else:
        instruments = (Instrument.PHQ9,)
    if not indication.is_pain and rng.random() < 0.35:
        instruments += (Instrument.GAD7,)
    if indication in (Indication.DEPRESSION, Indication.BIPOLAR_DEPRESSION) and rng.random() < 0.15:
        instruments += (Instrument.MADRS,)
    row = {
        "id": pid,
        "mrn": f"DEMO-{pid:06d}",
        "first_name": first,
        "last_name": last,
        "date_of_birth": date.fromordinal(today - age_days),
        "sex": sex.value,
        "indication": indication.value,
        "provider": provider,
        "status": spec.patient_status.value,
        "escort_name": escort_name,
        "escort_phone": escort_phone,
    }
    bp = (min(136, max(104, int(rng.gauss(122, 8)))), min(86, max(64, int(rng.gauss(77, 5)))))
    return _Person(row, indication, provider, instruments, bp)


# --- booking ------------------------------------------------------------------------------------------


@dataclass
class _Item:
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

    CLINICAL.md "Course schedules": induction of six over about two weeks (Mon/Wed/Fri), boosters every
    4 weeks (setting ``booster_every_weeks``); spacing never below ``min_days_between_infusions``.
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


def _plan_courses(rng: random.Random, spec: PatientSpec, settings: ClinicPolicy) -> list[_Item]:
    """Every live infusion the spec asks for, with its desired day, in time order."""
    items: list[_Item] = []
    next_trial: int | None = None
    per_course: list[list[_Item]] = []
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
            course_items.append(_Item(ci, k + 1, desired, pinned, done=k < c.done))
        next_trial = course_items[0].desired
        per_course.append(course_items)
    for course_items in reversed(per_course):
        items.extend(course_items)
    return items


def _place(plan: list[_Item], calendar: ChairCalendar, ctx: ScenarioContext) -> None:
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


# --- rows ---------------------------------------------------------------------------------------------


@dataclass
class _Rows:
    screening_item: list[dict[str, Any]] = field(default_factory=list)
    screening_decision: list[dict[str, Any]] = field(default_factory=list)
    course: list[dict[str, Any]] = field(default_factory=list)
    infusion: list[dict[str, Any]] = field(default_factory=list)
    assessment: list[dict[str, Any]] = field(default_factory=list)
    suicide_review: list[dict[str, Any]] = field(default_factory=list)


def _at(day: int, minute: int) -> datetime:
    d = date.fromordinal(day)
    return datetime(d.year, d.month, d.day, minute // 60, minute % 60)


def _emit_patient(
    out: _Rows,
    ctx: ScenarioContext,
    calendar: ChairCalendar,
    person: _Person,
    spec: PatientSpec,
    plan: list[_Item],
) -> None:
    courses = [[it for it in plan if it.course == ci] for ci in range(len(spec.courses))]
    _emit_screening(out, ctx, person, spec, courses)
    _emit_courses(out, ctx, calendar, person, spec, courses)
    _emit_scores(out, ctx, person, spec, courses)


_REQUIRED_ITEMS = tuple(code for code, (_, cls, _) in SCREENING_ITEMS.items() if cls is ItemClass.REQUIRED)
_ABSOLUTE_ITEMS = tuple(code for code, (_, cls, _) in SCREENING_ITEMS.items() if cls is ItemClass.ABSOLUTE)
_RELATIVE_ITEMS = tuple(code for code, (_, cls, _) in SCREENING_ITEMS.items() if cls is ItemClass.RELATIVE)
_CONTRA_ITEMS = _ABSOLUTE_ITEMS + _RELATIVE_ITEMS


def _screen(
    out: _Rows,
    ctx: ScenarioContext,
    person: _Person,
    status: ScreeningStatus,
    day: int,
    *,
    accept_relative: bool = False,
) -> None:
    """One screening: item answers in the days up to ``day`` and the provider's decision on ``day``."""
    rng = ctx.rng
    pid, by = person.row["id"], person.provider
    answers: dict[str, ScreeningResult] = {}
    note: dict[str, str] = {}
    if status is ScreeningStatus.INCOMPLETE:
        for code in _REQUIRED_ITEMS[: rng.randint(1, len(_REQUIRED_ITEMS) - 1)]:
            answers[code] = ScreeningResult.YES
        for code in _CONTRA_ITEMS[: rng.randint(0, len(_CONTRA_ITEMS) - 1)]:
            answers[code] = ScreeningResult.NO
    else:
        answers = {code: ScreeningResult.YES for code in _REQUIRED_ITEMS}
        answers.update({code: ScreeningResult.NO for code in _CONTRA_ITEMS})
        if status is ScreeningStatus.NEEDS_REVIEW:
            code = rng.choice(_RELATIVE_ITEMS + _CONTRA_ITEMS[:1])
            answers[code] = ScreeningResult.YES if code in _RELATIVE_ITEMS else ScreeningResult.UNKNOWN
        elif status is ScreeningStatus.NOT_ELIGIBLE:
            options = [
                c for c in _ABSOLUTE_ITEMS if c != "pregnancy" or person.row["sex"] == Sex.FEMALE.value
            ]
            answers[rng.choice(options)] = ScreeningResult.YES
        elif accept_relative:
            code = rng.choice(_RELATIVE_ITEMS)
            answers[code] = ScreeningResult.YES
            note[code] = "stable on treatment; accepted by the provider"
    for code in SCREENING_ITEMS:  # vocabulary order: no dependence on dict building order above
        if code in answers:
            out.screening_item.append(
                {
                    "id": len(out.screening_item) + 1,
                    "patient_id": pid,
                    "item": code,
                    "result": answers[code].value,
                    "recorded_on": date.fromordinal(day - rng.randint(1, 10)),
                    "note": note.get(code),
                    "recorded_by": by,
                }
            )
    decision = {
        ScreeningStatus.CLEARED: ScreeningDecision.CLEARED,
        ScreeningStatus.NOT_ELIGIBLE: ScreeningDecision.NOT_ELIGIBLE,
    }.get(status)
    if decision is not None:
        out.screening_decision.append(
            {
                "id": len(out.screening_decision) + 1,
                "patient_id": pid,
                "decision": decision.value,
                "decided_on": date.fromordinal(day),
                "decided_by": by,
                "note": None,
            }
        )


def _emit_screening(
    out: _Rows, ctx: ScenarioContext, person: _Person, spec: PatientSpec, courses: list[list[_Item]]
) -> None:
    rng = ctx.rng
    if spec.screening is ScreeningStatus.NOT_STARTED:
        return
    if not courses:
        assert spec.screened_ago is not None
        _screen(out, ctx, person, spec.screening, ctx.today - spec.screened_ago)
        return
    first_trial = courses[0][0].day
    day = min(first_trial - rng.randint(5, 30), ctx.today)
    if spec.screening is not ScreeningStatus.CLEARED:
        day = min(first_trial, ctx.today) - rng.randint(0, 3)
    if spec.screening_old:
        # Re-screening is due when the screening is older than 12 months (CLINICAL.md, policy).
        day = min(day, ctx.today - rng.randint(380, 460))
    _screen(out, ctx, person, spec.screening, day, accept_relative=rng.random() < 0.1)
    if spec.rescreened and len(courses) > 1:
        last_end = courses[-2][-1].day
        trial = courses[-1][0].day
        again = max(last_end + 11, trial - rng.randint(3, 14))
        if again < trial:
            _screen(out, ctx, person, ScreeningStatus.CLEARED, again)


def _emit_courses(
    out: _Rows,
    ctx: ScenarioContext,
    calendar: ChairCalendar,
    person: _Person,
    spec: PatientSpec,
    courses: list[list[_Item]],
) -> None:
    rng = ctx.rng
    pid = person.row["id"]
    all_items = [it for items in courses for it in items]
    with_vitals = [it for it in all_items if it.day < ctx.today]
    latest_vitals = max(with_vitals, key=lambda it: it.day) if with_vitals else None
    for ci, (c, items) in enumerate(zip(spec.courses, courses, strict=True)):
        course_id = len(out.course) + 1
        trial = items[0]
        trial_done = trial.day < ctx.today
        outcome = c.outcome if trial_done else TrialOutcome.PENDING
        status = c.status if trial_done or c.status is not CourseStatus.ACTIVE else CourseStatus.PLANNED
        outcome_on = None
        if outcome is not TrialOutcome.PENDING:
            outcome_on = date.fromordinal(min(trial.day + rng.randint(1, 2), ctx.today))
        out.course.append(
            {
                "id": course_id,
                "patient_id": pid,
                "number": ci + 1,
                "indication": person.indication.value,
                "started_on": date.fromordinal(trial.day) if trial_done else None,
                "trial_outcome": outcome.value,
                "trial_outcome_by": person.provider if outcome_on else None,
                "trial_outcome_on": outcome_on,
                "status": status.value,
            }
        )
        prev_day = courses[ci - 1][-1].day if ci else trial.day - 10
        for it in items:
            if it.day < ctx.today and rng.random() < 0.07:
                _emit_missed(out, ctx, calendar, course_id, it.number, prev_day + 1, it.day - 1)
            _emit_infusion(out, ctx, person, spec, course_id, it, it is latest_vitals)
            prev_day = it.day
        if c.dropout_cancel:
            last = items[-1].day
            _emit_missed(
                out,
                ctx,
                calendar,
                course_id,
                items[-1].number + 1,
                last + 1,
                min(last + 7, ctx.today - 1),
                reason="patient stopped the course",
            )


def _emit_missed(
    out: _Rows,
    ctx: ScenarioContext,
    calendar: ChairCalendar,
    course_id: int,
    number: int,
    lo: int,
    hi: int,
    *,
    reason: str | None = None,
) -> None:
    """A cancelled or missed booking on an open day in [lo, hi]; it holds no number and no chair."""
    rng = ctx.rng
    day = next((d for d in range(hi, lo - 1, -1) if calendar.is_open(d) and d != ctx.sday), None)
    if day is None or number > MAX_INFUSIONS_PER_COURSE:
        return
    minute, chair = calendar.any_slot()
    no_show = reason is None and rng.random() < 0.3
    out.infusion.append(
        _infusion_row(
            len(out.infusion) + 1,
            course_id,
            number,
            _at(day, minute),
            chair,
            InfusionStatus.NO_SHOW if no_show else InfusionStatus.CANCELLED,
            cancel_reason=reason or ("did not attend" if no_show else rng.choice(_CANCEL_REASONS)),
        )
    )


_INFUSION_KEYS = (*INFUSION_SESSION_FIELDS, "cancel_reason")


def _infusion_row(
    iid: int, course_id: int, number: int, at: datetime, chair: int, status: InfusionStatus, **values: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": iid,
        "course_id": course_id,
        "number": number,
        "scheduled_at": at,
        "chair": chair,
        "status": status.value,
    }
    for key in _INFUSION_KEYS:
        row[key] = values.get(key)
    return row


def _emit_infusion(
    out: _Rows,
    ctx: ScenarioContext,
    person: _Person,
    spec: PatientSpec,
    course_id: int,
    it: _Item,
    latest: bool,
) -> None:
    rng, settings = ctx.rng, ctx.settings
    minute, chair = it.slot
    at = _at(it.day, minute)
    iid = len(out.infusion) + 1
    if it.day >= ctx.today:
        confirmed = spec.escort_today if it.day == ctx.sday else (True if it.pinned else None)
        out.infusion.append(
            _infusion_row(
                iid, course_id, it.number, at, chair, InfusionStatus.SCHEDULED, escort_confirmed=confirmed
            )
        )
        return
    sys0, dia0 = person.bp_base
    pre_s, pre_d = sys0 + rng.randint(-6, 4), dia0 + rng.randint(-4, 3)
    if latest and spec.bp == "high":
        # Spravato label: pre-dose above 140/90, consider delaying.
        pre_s, pre_d = rng.randint(144, 158), rng.randint(88, 98)
    elif latest and spec.bp == "crisis":
        pre_s, pre_d = rng.randint(148, 162), rng.randint(90, 98)
    elif not latest and rng.random() < 0.03:
        pre_s, pre_d = rng.randint(142, 152), rng.randint(86, 94)
    # Yale cohort: peak at about 40 minutes, mean +16/+11 mmHg.
    peak_s = min(178, pre_s + max(4, round(rng.gauss(16, 5))))
    peak_d = min(112, pre_d + max(2, round(rng.gauss(11, 4))))
    if latest and spec.bp == "crisis":
        peak_s, peak_d = rng.randint(184, 196), rng.randint(102, 114)  # above 180 (ACC/AHA crisis)
    events = [name for name, p in _ADVERSE if rng.random() < p]
    discharged = at + timedelta(minutes=settings.chair_minutes - rng.randint(0, 20))
    out.infusion.append(
        _infusion_row(
            iid,
            course_id,
            it.number,
            at,
            chair,
            InfusionStatus.COMPLETED,
            dose_mg_per_kg=rng.choice(_DOSES),
            premed_given=True,
            bp_pre_sys=pre_s,
            bp_pre_dia=pre_d,
            bp_peak_sys=peak_s,
            bp_peak_dia=peak_d,
            bp_discharge_sys=min(pre_s + rng.randint(-2, 6), peak_s),
            bp_discharge_dia=min(pre_d + rng.randint(-2, 4), peak_d),
            heart_rate=rng.randint(58, 96),
            spo2=rng.randint(95, 100),
            adverse_events="; ".join(events) or None,
            escort_confirmed=True,
            discharged_at=discharged,
        )
    )


def _level(response: str, rng: random.Random, pain: bool) -> tuple[float, float]:
    """(fraction of baseline after the trial, fraction at the end of the course) for a response type."""
    if response == "responder":
        after = rng.uniform(0.42, 0.6) if pain else rng.uniform(0.28, 0.42)
        return after, max(0.15, after - rng.uniform(0.05, 0.15))
    if response == "partial":
        after = rng.uniform(0.6, 0.78)
        return after, after - 0.05
    after = rng.uniform(0.92, 1.05)
    return after, after


def _emit_scores(
    out: _Rows, ctx: ScenarioContext, person: _Person, spec: PatientSpec, courses: list[list[_Item]]
) -> None:
    """Scores that behave like real ones: a baseline, a fall with each infusion for responders, flat for
    non-responders, a slow return after the course (a relapse about three months after the last one)."""
    rng = ctx.rng
    pid = person.row["id"]
    pain = person.indication.is_pain
    points: dict[int, float] = {}  # day -> fraction of baseline
    start = current = 1.0
    last_course_end: int | None = None
    for ci, (c, items) in enumerate(zip(spec.courses, courses, strict=True)):
        after, end = _level(c.response, rng, pain)
        trial = items[0].day
        lo = (last_course_end or trial - 30) + 1
        if not spec.no_baseline:
            base_day = min(trial - rng.randint(1, 7), ctx.today)
            if base_day >= lo:
                points[base_day] = start
        given = [it.day for it in items if it.day < ctx.today]
        current = start
        for n, day in enumerate(given, start=1):
            current = end + (after - end) * math.exp(-(n - 1) / 2)
            if n == 1 and day + 1 <= ctx.today:
                points[day + 1] = current  # the trial's follow-up, before infusion 2
            if n < len(given) and rng.random() > 0.12:
                points[given[n]] = current  # before the next infusion
        if not given:
            continue
        ended = items[-1].day < ctx.today
        nxt = courses[ci + 1][0].day - 8 if ci + 1 < len(courses) else ctx.today
        if ended:
            # Benefit lasts up to about three months (clinic page): the return starts at 10–14 weeks.
            onset = rng.randint(70, 95) if spec.relapse else rng.randint(120, 200)
            day, k = items[-1].day + 28, 0
            while day <= nxt and k < (1 if c.response == "none" else 6):
                rise = min(1.0, max(0.0, (day - items[-1].day - onset) / 28))
                points[day] = current + (start - current) * rise
                day, k = day + 28, k + 1
            start = rng.uniform(0.8, 1.0)
        last_course_end = items[-1].day
    if spec.recent_score and courses:
        points[min(ctx.today, ctx.sday - 1)] = current
    if not courses and spec.screening in (ScreeningStatus.NEEDS_REVIEW, ScreeningStatus.INCOMPLETE):
        assert spec.screened_ago is not None
        points[ctx.today - spec.screened_ago] = 1.0

    days = sorted(d for d in points if d <= ctx.today)
    if not days:
        return
    baseline = {inst: rng.randint(*_BASELINE[inst]) for inst in person.instruments}
    first_id = len(out.assessment) + 1
    rows: list[dict[str, Any]] = []
    for day in days:
        for inst in person.instruments:
            lo, hi = INSTRUMENT_RANGES[inst]
            noise = _NOISE[inst]
            score = round(baseline[inst] * points[day] + rng.randint(-noise, noise))
            rows.append(
                {
                    "id": 0,
                    "patient_id": pid,
                    "instrument": inst.value,
                    "score": min(hi, max(lo, score)),
                    "item9": 0 if inst is Instrument.PHQ9 else None,
                    "items_json": None,
                    "taken_on": date.fromordinal(day),
                    "source": AssessmentSource.DEMO.value,
                    "recorded_by": person.provider,
                }
            )
    for n, row in enumerate(rows):
        row["id"] = first_id + n
    out.assessment.extend(rows)
    phq = [r for r in rows if r["instrument"] == Instrument.PHQ9.value]
    if not phq:
        return
    latest = phq[-1]
    if spec.worsening and len(phq) >= 2:
        # A rise of 5 or more on the PHQ-9 is clinically meaningful worsening (Löwe 2004).
        latest["score"] = min(27, phq[-2]["score"] + rng.randint(5, 7))
        if latest["score"] - phq[-2]["score"] < 5:
            phq[-2]["score"] = latest["score"] - 5
    if spec.item9:
        latest["item9"] = spec.item9
        latest["score"] = max(latest["score"], spec.item9 + rng.randint(2, 4))
        if len(phq) >= 2 and not spec.worsening:  # a positive item 9 without a 5-point rise
            latest["score"] = max(spec.item9, min(latest["score"], phq[-2]["score"] + 4))
        if spec.item9_reviewed:
            _review(
                out, person, latest, SuicideReviewAction.SAFETY_PLAN, "No plan or intent; safety plan updated"
            )
    elif len(phq) > 2 and rng.random() < 0.1:
        # Item 9 is often positive at baseline; each one has its same-day review recorded.
        phq[0]["item9"] = 1
        phq[0]["score"] = max(phq[0]["score"], 8)
        _review(out, person, phq[0], SuicideReviewAction.CSSRS_ASKED, "C-SSRS screener low risk")


def _review(out: _Rows, person: _Person, row: dict[str, Any], action: SuicideReviewAction, note: str) -> None:
    out.suicide_review.append(
        {
            "id": len(out.suicide_review) + 1,
            "patient_id": person.row["id"],
            "assessment_id": row["id"],
            "reviewed_on": row["taken_on"],
            "reviewed_by": person.provider,
            "action": action.value,
            "note": note,
        }
    )


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
