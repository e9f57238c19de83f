"""What-if course planner: where the rest of a course would fall, and what it would cost the clinic.

Pure functions over plain records (no session, no UI): the page, the CLI and the booking service call
them alike. Every rule is a clinical-reference.md "Planning decisions" default taken from
:class:`ClinicPolicy`; docs/planner.md lists each rule and choice with the test that pins it.

Datetimes are naive clinic-local (clinical-reference.md "Decisions": datetimes without a zone are in the
clinic's zone); an aware booking is converted on the way in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import CourseRec, LiveBooking, ScreeningAssessment
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, ScreeningStatus
from kdash.planner.cadence import (
    INDUCTION_SESSIONS,
    WEEKDAY_NAMES,
    Cadence,
    CadenceKind,
    close_grid_days,
    next_cadence_date,
    parse_cadence,
)
from kdash.planner.calendar import ClinicCalendar, DayClosed, at_minute, to_clinic_local
from kdash.planner.utilisation import DayUse, Utilisation, clinic_utilisation, day_use
from kdash.rules.course import TRIAL_NUMBER, can_add_infusion, next_free_number

__all__ = [
    "MAX_COMPARED",
    "MAX_SEARCH_DAYS",
    "Cadence",
    "ClinicCalendar",
    "DayUse",
    "LiveBooking",
    "Plan",
    "PlannedSlot",
    "Utilisation",
    "calendar_for",
    "clinic_utilisation",
    "compare",
    "default_sessions",
    "format_plan",
    "parse_cadence",
    "plan_course",
    "plan_to_json",
]

#: How far a slot may be pushed looking for a free chair before the plan stops (a planner choice: a
#: calendar full for a whole year is a problem for the clinic, not for one plan).
MAX_SEARCH_DAYS = 366

#: Scenarios shown side by side (the planner page's three columns).
MAX_COMPARED = 3


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    """One infusion the plan would book. ``moved`` says why it is not on its cadence date."""

    number: int
    start: datetime
    end: datetime
    chair: int
    cadence_date: date
    moved: str | None = None
    on_cadence: bool = True


@dataclass(frozen=True, slots=True)
class Plan:
    allowed: bool
    reasons: tuple[str, ...]
    slots: tuple[PlannedSlot, ...]
    course_end: date | None
    benefit_until: date | None
    covers_target: bool | None
    warnings: tuple[str, ...]
    chair_use: tuple[DayUse, ...] = ()
    scenario: str = ""
    cadence: str = ""
    target: date | None = None

    @property
    def moves(self) -> int:
        return sum(1 for s in self.slots if s.moved)


def _day(d: date) -> str:
    return f"{WEEKDAY_NAMES[d.weekday()].capitalize()} {d.isoformat()}"


def default_sessions(cadence: Cadence, live_count: int) -> int:
    """Sessions asked when the user gives no number: the rest of the six-infusion induction, else one."""
    if cadence.kind is CadenceKind.INDUCTION:
        # Induction = six infusions including the trial (clinical-reference.md "Course schedules")
        return max(1, INDUCTION_SESSIONS - live_count)
    return 1


def _refusals(course: CourseRec, screening: ScreeningStatus | ScreeningAssessment) -> list[str]:
    """Why the course cannot be planned at all, empty when it can.

    The course rules decide (kdash.rules.course.can_add_infusion: not cleared, course completed or
    stopped, ten live, trial no_benefit or pending after the trial), so the planner and the booking
    service never disagree about who may be booked.
    """
    assessment = (
        screening if isinstance(screening, ScreeningAssessment) else ScreeningAssessment(screening, (), None)
    )
    decision = can_add_infusion(course, assessment)
    return [] if decision.allowed else list(decision.reasons)


def _blocker(calendar: ClinicCalendar, day: date, patient_days: set[date], min_days: int) -> str | None:
    """Why no infusion of this patient can go on ``day`` before looking at chairs, or None."""
    closed = calendar.closed_why(day)
    if closed is DayClosed.CLOSURE:
        return "the clinic is closed that day (closure)"
    if closed is DayClosed.WEEKDAY:
        return f"the clinic is closed on {WEEKDAY_NAMES[day.weekday()].capitalize()}"
    if day in patient_days:
        return "the patient already has an infusion that day"
    for gap in range(1, min_days):
        if day - timedelta(days=gap) in patient_days or day + timedelta(days=gap) in patient_days:
            return f"fewer than {min_days} days from another infusion of the patient"
    return None


def _place(
    calendar: ClinicCalendar,
    due: date,
    patient_days: set[date],
    preferred: time | None,
) -> tuple[date, int, int, str | None] | None:
    """(day, start minute, chair, why the due day failed) of the first day from ``due`` that takes it."""
    first_failure: str | None = None
    for offset in range(MAX_SEARCH_DAYS):
        day = due + timedelta(days=offset)
        why = _blocker(calendar, day, patient_days, calendar.settings.min_days_between_infusions)
        if why is None:
            found = calendar.free_slot(day, preferred)
            if found is not None:
                return day, found[0], found[1], first_failure
            why = f"no chair free for {calendar.settings.chair_minutes} minutes within opening hours"
        if offset == 0:
            first_failure = why
    return None


def _on_cadence(cadence: Cadence, due: date, landed: date, calendar: ClinicCalendar) -> bool:
    """A grid slot is on cadence only on its date; a booster within the 4–6 week window is too."""
    if landed == due:
        return True
    if cadence.is_booster:
        # Boosters every 4 weeks, a move up to 6 weeks still on cadence (clinical-reference.md "Planning
        # decisions")
        slack = calendar.settings.booster_max_weeks - calendar.settings.booster_every_weeks
        return (landed - due).days <= 7 * slack
    return False


def _chair_use(calendar: ClinicCalendar, slots: Sequence[PlannedSlot]) -> tuple[DayUse, ...]:
    """Chair use of every open day in the Monday-to-Sunday weeks the plan touches, its load included."""
    by_day: dict[date, list[tuple[int, int]]] = {}
    for slot in slots:
        begin = slot.start.hour * 60 + slot.start.minute
        by_day.setdefault(slot.start.date(), []).append(
            (begin, begin + int((slot.end - slot.start).total_seconds() // 60))
        )
    mondays = sorted({d - timedelta(days=d.weekday()) for d in by_day})
    uses = []
    for monday in mondays:
        for offset in range(7):
            day = monday + timedelta(days=offset)
            use = day_use(calendar, day, by_day.get(day, ()))
            if use is not None:
                uses.append(use)
    return tuple(uses)


def plan_course(
    course: CourseRec,
    screening: ScreeningStatus | ScreeningAssessment,
    start: date,
    cadence: Cadence | str,
    calendar: ClinicCalendar,
    *,
    sessions: int | None = None,
    cover_until: date | None = None,
    preferred_time: time | None = None,
    scenario: str = "",
    blockers: Sequence[str] = (),
) -> Plan:
    """Plan the next infusions of ``course`` on ``calendar`` (see docs/planner.md for every rule).

    ``blockers`` are further refusals the caller found (re-screening due). Raises ValueError for input
    that is wrong rather than refused (an unknown cadence, sessions < 1).
    """
    settings = calendar.settings
    cad = parse_cadence(cadence)
    if sessions is not None and sessions < 1:
        raise ValueError("sessions must be at least 1")
    live = course.live_infusions
    live_dates = sorted(to_clinic_local(i.scheduled_at, settings).date() for i in live)
    last_live = live_dates[-1] if live_dates else None
    name = scenario or cad.label

    def finish(allowed: bool, reasons: list[str], slots: list[PlannedSlot], warnings: list[str]) -> Plan:
        ends = [*live_dates, *(s.start.date() for s in slots)]
        course_end = max(ends) if ends else None
        # Benefit window: settings.benefit_window_days after the course end (clinic page; ASRA 12 weeks)
        benefit_until = course_end + timedelta(days=settings.benefit_window_days) if course_end else None
        covers = None if cover_until is None else bool(benefit_until and benefit_until >= cover_until)
        use = _chair_use(calendar, slots)
        planned_days = {s.start.date() for s in slots}
        for day in use:
            if day.over and day.day in planned_days:
                warnings.append(
                    f"{_day(day.day)}: chairs {day.pct:.0f}% used with this plan "
                    f"(above {settings.capacity_warning_pct:g}%)"
                )
        return Plan(
            allowed=allowed,
            reasons=tuple(reasons),
            slots=tuple(slots),
            course_end=course_end,
            benefit_until=benefit_until,
            covers_target=covers,
            warnings=tuple(warnings),
            chair_use=use,
            scenario=name,
            cadence=cad.label,
            target=cover_until,
        )

    refusals = [*_refusals(course, screening), *blockers]
    if refusals:
        return finish(False, refusals, [], [])

    reasons: list[str] = []
    warnings: list[str] = []
    wanted = sessions if sessions is not None else default_sessions(cad, len(live))
    if next_free_number(course) == TRIAL_NUMBER:
        if wanted > 1:
            reasons.append(
                f"no trial yet: only the trial can be planned (1 of the {wanted} asked); "
                "its outcome decides the rest"
            )
        else:
            reasons.append("no trial yet: planning the trial")
        wanted = 1
    else:
        reasons.append(
            f"trial showed benefit; the course has {len(live)} of {MAX_INFUSIONS_PER_COURSE} done or booked"
        )
    held = {i.number for i in live}
    free_numbers = [n for n in range(1, MAX_INFUSIONS_PER_COURSE + 1) if n not in held]
    if wanted > len(free_numbers):
        cut = (
            f"cut at ten: the course has {len(live)} done or booked, so {len(free_numbers)} "
            f"of the {wanted} asked can be planned"
        )
        reasons.append(cut)
        warnings.append(cut)
        wanted = len(free_numbers)

    min_days = settings.min_days_between_infusions
    if not cad.is_booster:
        for a, b in close_grid_days(cad.grid(start), min_days):
            warnings.append(
                f"{WEEKDAY_NAMES[a]} and {WEEKDAY_NAMES[b]} are fewer than {min_days} days apart: "
                f"the grid skips {WEEKDAY_NAMES[b]} after an infusion on {WEEKDAY_NAMES[a]}"
            )

    plan_start = max(start, last_live + timedelta(days=1)) if last_live else start
    if plan_start > start:
        reasons.append(f"starts {_day(plan_start)}, the day after the course's last infusion done or booked")
    patient_days = set(calendar.patient_days(course.patient_id)) | set(live_dates)
    previous = last_live
    previous_planned: date | None = None
    slots: list[PlannedSlot] = []
    for number in free_numbers[:wanted]:
        earliest = plan_start
        if previous is not None:
            # At least settings.min_days_between_infusions between infusions (clinical-reference.md "Planning
            # decisions", spacing)
            earliest = max(earliest, previous + timedelta(days=min_days))
        due = next_cadence_date(cad, start, earliest, previous_planned, settings)
        placed = _place(calendar, due, patient_days, preferred_time)
        if placed is None:
            stop = (
                f"no free chair within {MAX_SEARCH_DAYS} days from {_day(due)}: "
                f"planned {len(slots)} of {wanted}"
            )
            reasons.append(stop)
            warnings.append(stop)
            break
        day, minute, chair, why = placed
        begin = at_minute(day, minute)
        moved = None if day == due else f"moved from {_day(due)} to {_day(day)}: {why}"
        on_cadence = _on_cadence(cad, due, day, calendar)
        slots.append(
            PlannedSlot(
                number=number,
                start=begin,
                end=begin + timedelta(minutes=settings.chair_minutes),
                chair=chair,
                cadence_date=due,
                moved=moved,
                on_cadence=on_cadence,
            )
        )
        if moved and not on_cadence:
            warnings.append(f"infusion {number} {moved}")
        patient_days.add(day)
        previous = previous_planned = day
    return finish(True, reasons, slots, warnings)


def compare(plans: Sequence[Plan]) -> list[dict[str, Any]]:
    """Up to three scenarios side by side, one row each (for a table on the planner page)."""
    if len(plans) > MAX_COMPARED:
        raise ValueError(f"at most {MAX_COMPARED} scenarios can be compared")
    rows = []
    for plan in plans:
        rows.append(
            {
                "scenario": plan.scenario,
                "sessions": len(plan.slots),
                "first": plan.slots[0].start if plan.slots else None,
                "last": plan.slots[-1].start if plan.slots else None,
                "course_end": plan.course_end,
                "benefit_until": plan.benefit_until,
                "covers_target": plan.covers_target,
                "moves": plan.moves,
                "warnings": list(plan.warnings) if plan.allowed else list(plan.reasons),
            }
        )
    return rows


def plan_to_json(plan: Plan, mrn: str) -> dict[str, Any]:
    """The plan as the JSON the CLI prints and other systems read (ISO dates, nulls where unknown)."""
    return {
        "mrn": mrn,
        "allowed": plan.allowed,
        "reasons": list(plan.reasons),
        "slots": [
            {
                "number": s.number,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "chair": s.chair,
            }
            for s in plan.slots
        ],
        "course_end": plan.course_end.isoformat() if plan.course_end else None,
        "benefit_until": plan.benefit_until.isoformat() if plan.benefit_until else None,
        "covers_target": plan.covers_target,
        "warnings": list(plan.warnings),
    }


def format_plan(plan: Plan) -> str:
    """The plan as plain text for a terminal."""
    lines = [f"Scenario: {plan.scenario}", "Allowed: yes" if plan.allowed else "Allowed: no"]
    lines += [f"  - {r}" for r in plan.reasons]
    if plan.slots:
        lines.append("Slots:")
        for s in plan.slots:
            line = f"  #{s.number:<2} {_day(s.start.date())} {s.start:%H:%M}-{s.end:%H:%M} chair {s.chair}"
            lines.append(line + (f"  ({s.moved})" if s.moved else ""))
    if plan.course_end:
        lines.append(f"Course end: {plan.course_end.isoformat()}")
    if plan.benefit_until:
        lines.append(f"Benefit until: {plan.benefit_until.isoformat()}")
    if plan.target is not None:
        lines.append(f"Covers {plan.target.isoformat()}: {'yes' if plan.covers_target else 'no'}")
    if plan.warnings:
        lines.append("Warnings:")
        lines += [f"  - {w}" for w in plan.warnings]
    return "\n".join(lines)


def calendar_for(
    settings: ClinicPolicy, bookings: Iterable[LiveBooking] = (), closures: Iterable[date] = ()
) -> ClinicCalendar:
    """Shorthand for :meth:`ClinicCalendar.build` (index the clinic's bookings once per request)."""
    return ClinicCalendar.build(settings, bookings, closures)
