"""What the planner plans from: one patient's course, screening and re-screening, and the clinic around.

Storage reads the rows (:mod:`kdash.storage.planning_repo`); the rules judge them here, so that storage
only stores and queries. Read inside one transaction, by the what-if plan (:mod:`kdash.services.booking`),
the planner page's reads (:mod:`kdash.services.planning_view`) and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from kdash.domain.errors import Refused
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import CourseRec, LiveBooking, ScreeningAssessment
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE
from kdash.planner.plan import MAX_SEARCH_DAYS, ClinicCalendar
from kdash.rules.screening import RescreenDecision, rescreen_due, screening_status
from kdash.storage.planning_repo import (
    closures_between,
    live_bookings,
    load_courses,
    load_screening_answers,
    patient_id_for_mrn,
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
    bookings: tuple[LiveBooking, ...]
    closures: frozenset[date]
    _calendar: list[ClinicCalendar] = field(default_factory=list, repr=False, compare=False)

    def calendar(self) -> ClinicCalendar:
        """The clinic calendar, indexed once and reused for every scenario of this request."""
        if not self._calendar:
            self._calendar.append(ClinicCalendar.build(self.settings, self.bookings, self.closures))
        return self._calendar[0]


def current_course(courses: tuple[CourseRec, ...]) -> CourseRec:
    """The patient's highest-numbered course (the one a plan adds to)."""
    if not courses:
        raise Refused("The patient has no course yet: start a course before planning.")
    return max(courses, key=lambda c: c.number)


def screening_of(session: Session, patient_id: int, settings: ClinicPolicy) -> ScreeningAssessment:
    """The rules' judgement of the patient's screening answers and decisions."""
    items, decisions = load_screening_answers(session, patient_id)
    return screening_status(items, decisions, settings)


def load_planner_inputs(session: Session, mrn: str, start: date, today: date | None = None) -> PlannerInputs:
    """Read the planner's inputs for the patient with ``mrn``, for a plan from ``start``."""
    settings = load_policy(session)
    patient_id = patient_id_for_mrn(session, mrn)
    courses = load_courses(session, patient_id)
    course = current_course(courses)
    screening = screening_of(session, patient_id, settings)
    rescreen = rescreen_due(
        screening.screened_on, courses, today or date.today(), settings, current_course=course
    )
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
