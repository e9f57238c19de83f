"""Reads the what-if planner page needs, shaped for it: patient search, course state, clinic load.

Plain data only (dataclasses, tuples), so the page stays widgets and the tests can assert on the data.
Planning and booking themselves are :func:`kdash.services.booking.plan_for_mrn` and
:func:`~kdash.services.booking.book_plan`; the rules are :mod:`kdash.planner.plan`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, InfusionStatus, ScreeningStatus, TrialOutcome
from kdash.planner.cadence import PRESET_NAMES, WEEKDAY_NAMES
from kdash.planner.calendar import to_clinic_local
from kdash.planner.plan import Plan, PlannedSlot, clinic_utilisation
from kdash.planner.utilisation import Utilisation
from kdash.rules.course import TRIAL_NUMBER, can_add_infusion, next_free_number, progress_words
from kdash.services.guard import authorize
from kdash.services.planner_inputs import current_course, screening_of
from kdash.services.search import search_patients
from kdash.storage.database import Database
from kdash.storage.models import Patient
from kdash.storage.planning_repo import closures_between, live_bookings, load_courses
from kdash.storage.policy_repo import load_policy

__all__ = [
    "CADENCE_CHOICES",
    "WEEKDAYS_CHOICE",
    "CourseState",
    "PatientChoice",
    "ScenarioSpec",
    "cadence_text",
    "clinic_load",
    "course_state",
    "find_patients",
    "heatmap_grid",
    "over_capacity_lines",
    "patient_by_mrn",
    "patient_choice",
    "slot_rows",
    "timeline_rows",
    "weeks_after",
]

#: The cadence choices the page offers: the presets, then a weekday grid picked day by day.
WEEKDAYS_CHOICE = "chosen weekdays"
CADENCE_CHOICES: tuple[str, ...] = (*PRESET_NAMES, WEEKDAYS_CHOICE)

_SEARCH_LIMIT = 25


@dataclass(frozen=True, slots=True)
class PatientChoice:
    patient_id: int
    mrn: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} · {self.mrn}"


@dataclass(frozen=True, slots=True)
class CourseState:
    """Where the patient's current course stands, and whether the rules let anything more be booked."""

    course_id: int
    course_number: int
    course_status: str
    done: int
    booked: int
    live: int
    trial_outcome: TrialOutcome
    screening: ScreeningStatus
    can_add: bool
    reasons: tuple[str, ...]
    #: The earliest day a plan can start: the day after the course's last live infusion (None: no
    #: live infusion yet). The planner moves an earlier start there; the page says so by the date.
    earliest_start: date | None = None
    #: Whether the trial (infusion 1) is still to be planned: then only the trial can be planned.
    trial_pending: bool = False

    @property
    def progress(self) -> str:
        """The course's progress in the words every page uses: ``3 done · 1 booked · of 10``."""
        return progress_words(self.done, self.booked)

    @property
    def rest_of_course(self) -> int:
        """Infusions the course can still take before the ten-per-course cap
        (docs/clinical-reference.md); the trial alone while it is not yet planned. The page's default
        number of sessions for every cadence."""
        if self.trial_pending:
            return 1
        return max(0, MAX_INFUSIONS_PER_COURSE - self.live)


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """What the user asked for one scenario (kept in session state; the plan is recomputed from it)."""

    name: str
    start: date
    cadence: str
    sessions: int | None = None
    cover_until: date | None = None
    preferred_time: time | None = None


def _choice(row: Patient) -> PatientChoice:
    return PatientChoice(patient_id=row.id, mrn=row.mrn, name=f"{row.last_name}, {row.first_name}")


def find_patients(db: Database, actor: Actor, text: str, limit: int = _SEARCH_LIMIT) -> list[PatientChoice]:
    """The patients the one search of every page finds (:func:`kdash.services.search.search_patients`:
    an MRN, "Last, First", "First Last" or parts of them; an exact MRN first)."""
    authorize(db, actor, Action.PLAN)
    return [PatientChoice(h.patient_id, h.mrn, h.name) for h in search_patients(db, text, limit)]


def patient_by_mrn(db: Database, actor: Actor, mrn: str) -> PatientChoice | None:
    """The patient whose MRN is exactly ``mrn`` (case and spaces ignored), or None.

    For an address such as ``/planner?mrn=SYN-0001``: a prefix search could open a different patient
    whose MRN merely starts the same way.
    """
    authorize(db, actor, Action.PLAN)
    wanted = mrn.strip().lower()
    if not wanted:
        return None
    with db.read() as session:
        row = session.scalars(
            select(Patient).where(Patient.deleted_at.is_(None), func.lower(Patient.mrn) == wanted).limit(1)
        ).first()
        return None if row is None else _choice(row)


def patient_choice(db: Database, actor: Actor, patient_id: int) -> PatientChoice | None:
    """The patient another page chose (``st.session_state["patient_id"]``), or None if gone."""
    authorize(db, actor, Action.PLAN)
    with db.read() as session:
        row = session.get(Patient, patient_id)
        return None if row is None or row.deleted_at is not None else _choice(row)


def course_state(db: Database, actor: Actor, patient_id: int) -> CourseState:
    """The current course's counts, trial outcome and screening; NotFound/Refused if there is none."""
    authorize(db, actor, Action.PLAN)
    with db.read() as session:
        if session.get(Patient, patient_id) is None:
            raise NotFound("No such patient.")
        settings = load_policy(session)
        courses = load_courses(session, patient_id)
        course = current_course(courses)
        screening = screening_of(session, patient_id, settings)
    decision = can_add_infusion(course, screening)
    statuses = [i.status for i in course.infusions]
    live_days = [to_clinic_local(i.scheduled_at, settings).date() for i in course.live_infusions]
    return CourseState(
        course_id=course.id,
        course_number=course.number,
        course_status=course.status.value,
        done=statuses.count(InfusionStatus.COMPLETED),
        booked=statuses.count(InfusionStatus.SCHEDULED),
        live=len(course.live_infusions),
        trial_outcome=course.trial_outcome,
        screening=screening.status,
        can_add=decision.allowed,
        reasons=tuple(decision.reasons),
        earliest_start=max(live_days) + timedelta(days=1) if live_days else None,
        trial_pending=next_free_number(course) == TRIAL_NUMBER,
    )


def cadence_text(choice: str, weekdays: Sequence[int] = ()) -> str:
    """The cadence string the planner parses, from the page's choice (and days, for a weekday grid)."""
    if choice != WEEKDAYS_CHOICE:
        return choice
    if not weekdays:
        raise ValueError("choose at least one weekday")
    return ",".join(WEEKDAY_NAMES[d] for d in sorted(set(weekdays)))


def _day(d: date) -> str:
    return f"{d:%a} {d.isoformat()}"


def slot_rows(plan: Plan) -> list[dict[str, object]]:
    """The plan's slots as table rows: number, day, time, chair, and why a slot moved."""
    return [
        {
            "infusion": s.number,
            "day": _day(s.start.date()),
            "time": f"{s.start:%H:%M}–{s.end:%H:%M}",
            "chair": s.chair,
            "note": s.moved or "",
        }
        for s in plan.slots
    ]


def timeline_rows(plans: Sequence[Plan]) -> list[dict[str, object]]:
    """One row per infusion and one per benefit window, for a timeline with a row per scenario."""
    rows: list[dict[str, object]] = []
    for plan in plans:
        for s in plan.slots:
            rows.append({"scenario": plan.scenario, "kind": "infusion", "start": s.start, "end": s.end})
        if plan.course_end and plan.benefit_until:
            rows.append(
                {
                    "scenario": plan.scenario,
                    "kind": "benefit window",
                    "start": datetime.combine(plan.course_end, time()),
                    "end": datetime.combine(plan.benefit_until, time()),
                }
            )
    return rows


def clinic_load(
    db: Database, actor: Actor, start: date, end: date, extra: Iterable[PlannedSlot] = ()
) -> Utilisation:
    """Chair use per open day and hour from ``start`` to ``end``, existing bookings plus ``extra``."""
    authorize(db, actor, Action.PLAN)
    with db.read() as session:
        settings = load_policy(session)
        bookings = live_bookings(session, start, end)
        closures = closures_between(session, start, end)
    return clinic_utilisation(bookings, settings, closures, start, end, extra=list(extra))


def heatmap_grid(use: Utilisation) -> tuple[list[str], list[str], list[list[float]]]:
    """(day labels, hour labels, percent used[hour][day]) for a day × hour heatmap."""
    days = [_day(d.day) for d in use.days]
    hours = sorted({h.hour for d in use.days for h in d.hours})
    by_day = [{h.hour: h.pct for h in d.hours} for d in use.days]
    z = [[round(col.get(hour, 0.0), 1) for col in by_day] for hour in hours]
    return days, [f"{h:02d}:00" for h in hours], z


def over_capacity_lines(use: Utilisation) -> list[str]:
    """Each day above the capacity warning share, in words (with the scenario's part when it has one)."""
    lines = []
    for d in use.days:
        if not d.over:
            continue
        line = (
            f"{_day(d.day)}: {d.pct:.0f}% of chair-hours used "
            f"({d.used_hours:.1f} of {d.available_hours:.1f} h, above {use.warning_pct:g}%)"
        )
        if d.added_minutes:
            line += f", {d.added_minutes / 60:.1f} h of it from the scenario"
        lines.append(line)
    return lines


def weeks_after(start: date, weeks: int) -> date:
    """Last day of a period of ``weeks`` weeks from ``start``."""
    return start + timedelta(days=7 * weeks - 1)
