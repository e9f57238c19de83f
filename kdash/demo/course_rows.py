"""The demo's course and infusion rows: trial outcomes, completed infusions with vitals, bookings ahead,
and the cancelled or missed ones that hold no number."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from kdash.demo.booking import PlannedInfusion
from kdash.demo.calendar import ChairCalendar
from kdash.demo.people import Person
from kdash.demo.rows import DemoRows, at_minute
from kdash.demo.scenarios import (
    PatientSpec,
    ScenarioContext,
)
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    CourseStatus,
    InfusionStatus,
    TrialOutcome,
)
from kdash.storage.models import INFUSION_SESSION_FIELDS

_CANCEL_REASONS: tuple[str, ...] = ("patient unwell", "no driver available", "rescheduled by patient")
_ADVERSE: tuple[tuple[str, float], ...] = (("nausea", 0.05), ("transient dissociation", 0.04))
#: Usual IV ketamine dose (clinical-reference.md "Course schedules": 0.5 mg/kg over 40 min); a few adjusted.
_DOSES: tuple[float, ...] = (0.5,) * 8 + (0.4, 0.6, 0.75)


def emit_courses(
    out: DemoRows,
    ctx: ScenarioContext,
    calendar: ChairCalendar,
    person: Person,
    spec: PatientSpec,
    courses: list[list[PlannedInfusion]],
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
    out: DemoRows,
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
            at_minute(day, minute),
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
    out: DemoRows,
    ctx: ScenarioContext,
    person: Person,
    spec: PatientSpec,
    course_id: int,
    it: PlannedInfusion,
    latest: bool,
) -> None:
    rng, settings = ctx.rng, ctx.settings
    minute, chair = it.slot
    at = at_minute(it.day, minute)
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
