"""Read queries that build the planner's inputs from the database.

Targeted queries only: the patient by MRN, their current course with its infusions, their screening
answers and decisions, and the clinic's live bookings and closures inside the window a plan can reach
(indexed on ``infusion.scheduled_at`` and the closure's primary key) — never a scan of the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.domain.errors import NotFound, Refused
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import CourseRec, InfusionRec, ScreeningDecisionRec, ScreeningItemRec
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    CourseStatus,
    Indication,
    InfusionStatus,
    ScreeningDecision,
    ScreeningResult,
    TrialOutcome,
)
from kdash.planner.plan import MAX_SEARCH_DAYS, Booking, ClinicCalendar
from kdash.rules.screening import RescreenDecision, ScreeningAssessment, rescreen_due, screening_status
from kdash.storage.models import (
    Closure,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
    live_infusion_clause,
)
from kdash.storage.policy_repo import load_policy

#: Days a plan can reach after its start: every remaining infusion may be pushed up to the planner's
#: search limit, and boosters add their interval (clinical-reference.md "Planning decisions"; a bound, not a
#: policy).
_PLAN_REACH_DAYS = MAX_SEARCH_DAYS + (MAX_INFUSIONS_PER_COURSE - 1) * 7 * 6


@dataclass(frozen=True)
class PlannerInputs:
    """Everything :func:`kdash.planner.plan.plan_course` needs for one patient, read in one transaction."""

    patient_id: int
    mrn: str
    course: CourseRec
    courses: tuple[CourseRec, ...]
    screening: ScreeningAssessment
    rescreen: RescreenDecision
    settings: ClinicPolicy
    bookings: tuple[Booking, ...]
    closures: frozenset[date]
    _calendar: list[ClinicCalendar] = field(default_factory=list, repr=False, compare=False)

    def calendar(self) -> ClinicCalendar:
        """The clinic calendar, indexed once and reused for every scenario of this request."""
        if not self._calendar:
            self._calendar.append(ClinicCalendar.build(self.settings, self.bookings, self.closures))
        return self._calendar[0]


def infusion_rec(row: Infusion) -> InfusionRec:
    return InfusionRec(
        id=row.id,
        course_id=row.course_id,
        number=row.number,
        scheduled_at=row.scheduled_at,
        status=InfusionStatus(row.status),
        chair=row.chair,
    )


def course_rec(row: Course, infusions: list[Infusion]) -> CourseRec:
    return CourseRec(
        id=row.id,
        patient_id=row.patient_id,
        number=row.number,
        indication=Indication(row.indication),
        trial_outcome=TrialOutcome(row.trial_outcome),
        status=CourseStatus(row.status),
        started_on=row.started_on,
        infusions=tuple(infusion_rec(i) for i in sorted(infusions, key=lambda i: (i.number, i.id))),
    )


def patient_id_for_mrn(session: Session, mrn: str) -> int:
    """The id of the (not deleted) patient with this MRN; NotFound without the MRN in the message."""
    found = session.scalar(select(Patient.id).where(Patient.mrn == mrn, Patient.deleted_at.is_(None)))
    if found is None:
        raise NotFound("No patient with that MRN.")
    return found


def load_courses(session: Session, patient_id: int) -> tuple[CourseRec, ...]:
    """Every course of the patient with its infusions (two queries)."""
    rows = list(
        session.scalars(select(Course).where(Course.patient_id == patient_id).order_by(Course.number))
    )
    if not rows:
        return ()
    infusions = list(session.scalars(select(Infusion).where(Infusion.course_id.in_([c.id for c in rows]))))
    by_course: dict[int, list[Infusion]] = {}
    for inf in infusions:
        by_course.setdefault(inf.course_id, []).append(inf)
    return tuple(course_rec(c, by_course.get(c.id, [])) for c in rows)


def load_screening(
    session: Session, patient_id: int, settings: ClinicPolicy
) -> tuple[ScreeningAssessment, date | None]:
    items = [
        ScreeningItemRec(
            item=r.item, result=ScreeningResult(r.result), recorded_on=r.recorded_on, note=r.note
        )
        for r in session.scalars(select(ScreeningItem).where(ScreeningItem.patient_id == patient_id))
    ]
    decisions = [
        ScreeningDecisionRec(
            decision=ScreeningDecision(r.decision), decided_on=r.decided_on, decided_by=r.decided_by
        )
        for r in session.scalars(
            select(ScreeningDecisionRow).where(ScreeningDecisionRow.patient_id == patient_id)
        )
    ]
    assessment = screening_status(items, decisions, settings)
    return assessment, assessment.screened_on


def live_bookings(session: Session, first: date, last: date) -> list[Booking]:
    """The clinic's live infusions from ``first`` to ``last`` (both included), as planner bookings.

    Thousands of plain rows: read through the connection (Core), which skips the ORM's per-row work
    (docs/performance.md).
    """
    rows = session.connection().execute(
        select(Infusion.scheduled_at, Infusion.chair, Course.patient_id, Infusion.course_id)
        .join(Course, Course.id == Infusion.course_id)
        .where(
            live_infusion_clause(),  # type: ignore[arg-type]
            Infusion.scheduled_at >= datetime.combine(first, time()),
            Infusion.scheduled_at < datetime.combine(last + timedelta(days=1), time()),
        )
    )
    return [Booking(start=r[0], chair=r[1], patient_id=r[2], course_id=r[3]) for r in rows]


def closures_between(session: Session, first: date, last: date) -> frozenset[date]:
    return frozenset(session.scalars(select(Closure.day).where(Closure.day >= first, Closure.day <= last)))


def current_course(courses: tuple[CourseRec, ...]) -> CourseRec:
    """The patient's highest-numbered course (the one a plan adds to)."""
    if not courses:
        raise Refused("The patient has no course yet: start a course before planning.")
    return max(courses, key=lambda c: c.number)


def load_planner_inputs(session: Session, mrn: str, start: date, today: date | None = None) -> PlannerInputs:
    """Read the planner's inputs for the patient with ``mrn``, for a plan from ``start``."""
    settings = load_policy(session)
    patient_id = patient_id_for_mrn(session, mrn)
    courses = load_courses(session, patient_id)
    course = current_course(courses)
    screening, screened_on = load_screening(session, patient_id, settings)
    rescreen = rescreen_due(screened_on, courses, today or date.today(), settings, current_course=course)
    # The plan starts at the later of the start and the day after the course's last live infusion;
    # spacing looks back from there at the patient's other bookings.
    plan_start = max([start, *(i.scheduled_at.date() + timedelta(days=1) for i in course.live_infusions)])
    first = plan_start - timedelta(days=max(1, settings.min_days_between_infusions))
    last = plan_start + timedelta(days=_PLAN_REACH_DAYS)
    return PlannerInputs(
        patient_id=patient_id,
        mrn=mrn,
        course=course,
        courses=courses,
        screening=screening,
        rescreen=rescreen,
        settings=settings,
        bookings=tuple(live_bookings(session, first, last)),
        closures=closures_between(session, first, last),
    )
