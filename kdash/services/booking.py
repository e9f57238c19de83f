"""Planning and booking a course: the what-if plan for a patient, and booking a chosen plan.

``plan_for_mrn`` reads the planner's inputs in one read transaction and plans (nothing is written but the
audit event). ``book_plan`` turns a chosen plan into scheduled infusions in ONE write transaction that
re-checks every slot against the database as it is at that moment — the course rules, the cap of ten,
the infusion numbers, the chair and the patient's other infusions — because the calendar may have changed
since the plan was drawn. If any slot fails, nothing is booked and the error names the slot.

Simultaneous bookings: on SQLite every write starts with ``BEGIN IMMEDIATE`` (the second writer waits and
then sees the first one's rows); on PostgreSQL the course row and the clinic days are locked first
(:mod:`kdash.services.locks`). The schema's partial unique indexes stay the last line of defence; a writer
that loses the race there is retried once, then told that nothing was booked. Each slot is judged by the
same check as a single booking (:mod:`kdash.services.slots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound, Refused
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, InfusionStatus
from kdash.planner.cadence import WEEKDAY_NAMES, Cadence
from kdash.planner.plan import Plan, PlannedSlot, plan_course
from kdash.rules.course import TRIAL_NUMBER, can_add_infusion, next_free_number
from kdash.rules.screening import rescreen_due
from kdash.services.guard import authorize
from kdash.services.locks import LostRace, is_lost_race, lock_course, lock_days, retry_lost_race
from kdash.services.slots import SlotCheck
from kdash.storage import audit_chain as audit
from kdash.storage.database import Database
from kdash.storage.models import Course, Infusion
from kdash.storage.planning_repo import (
    PlannerInputs,
    load_courses,
    load_planner_inputs,
    load_screening,
)
from kdash.storage.policy_repo import load_policy

__all__ = [
    "PlanResult",
    "SlotTaken",
    "book_plan",
    "load_planner_inputs",
    "plan_for_mrn",
]


class SlotTaken(Refused):
    """A slot of the plan can no longer be booked (taken meanwhile, or never valid); nothing was booked."""


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    inputs: PlannerInputs


def plan_for_mrn(
    db: Database,
    actor: Actor,
    mrn: str,
    start: date,
    cadence: Cadence | str,
    *,
    sessions: int | None = None,
    cover_until: date | None = None,
    preferred_time: time | None = None,
    scenario: str = "",
    today: date | None = None,
) -> PlanResult:
    """Plan the patient's current course from ``start`` (a what-if: nothing is booked).

    Re-screening due (clinical-reference.md "Decisions": screening older than 12 months, or a new course after
    a completed one) refuses the plan like a screening that is not cleared.
    """
    authorize(db, actor, Action.PLAN)
    with db.read() as session:
        inputs = load_planner_inputs(session, mrn, start, today)
    plan = plan_course(
        inputs.course,
        inputs.screening,
        start,
        cadence,
        inputs.calendar(),
        sessions=sessions,
        cover_until=cover_until,
        preferred_time=preferred_time,
        scenario=scenario,
        blockers=inputs.rescreen.reasons if inputs.rescreen.due else (),
    )
    with db.write() as session:
        audit.record(
            session,
            actor,
            "plan_course",
            patient_id=inputs.patient_id,
            entity="course",
            entity_id=inputs.course.id,
            after={"cadence": plan.cadence, "slots": len(plan.slots), "allowed": plan.allowed},
        )
    return PlanResult(plan=plan, inputs=inputs)


def _describe(slot: PlannedSlot) -> str:
    day = slot.start.date()
    return (
        f"infusion {slot.number} on {WEEKDAY_NAMES[day.weekday()].capitalize()} {day.isoformat()} "
        f"{slot.start:%H:%M}, chair {slot.chair}"
    )


def _slot_problems(
    slots: Sequence[PlannedSlot], check: SlotCheck, held_numbers: set[int], settings: ClinicPolicy
) -> list[str]:
    """Every reason a slot cannot be booked now, each naming the slot.

    The slot itself is judged by :meth:`SlotCheck.problems` (the same check as a single booking); the
    plan adds its infusion numbers, and its earlier slots count toward the spacing of later ones.
    """
    problems: list[str] = []
    numbers = [s.number for s in slots]
    for slot in sorted(slots, key=lambda s: s.start):
        name = _describe(slot)
        if not 1 <= slot.number <= MAX_INFUSIONS_PER_COURSE:
            problems.append(f"{name}: numbers run from 1 to {MAX_INFUSIONS_PER_COURSE}")
        elif slot.number in held_numbers or numbers.count(slot.number) > 1:
            problems.append(f"{name}: number {slot.number} is already taken in this course")
        clauses = dict.fromkeys(problem.clause for problem in check.problems(slot.start, slot.chair))
        problems.extend(f"{name}: {clause}" for clause in clauses)
        check.hold(slot.start)
    return problems


def book_plan(
    db: Database,
    actor: Actor,
    course_id: int,
    plan: Plan | Sequence[PlannedSlot],
    *,
    today: date | None = None,
) -> list[int]:
    """Book the plan's slots as scheduled infusions, all or nothing; returns the new infusion ids.

    Raises :class:`SlotTaken` naming every slot that cannot be booked, :class:`Refused` when the course
    rules refuse (not cleared, re-screening due, trial outcome, ten live), :class:`NotFound` for an
    unknown course, :class:`kdash.auth.Forbidden` for a role that may not book.
    """
    authorize(db, actor, Action.BOOK_INFUSION, entity="course", entity_id=course_id)
    slots = tuple(plan.slots if isinstance(plan, Plan) else plan)
    if isinstance(plan, Plan) and not plan.allowed:
        raise Refused("This plan was refused: " + "; ".join(plan.reasons))
    if not slots:
        raise Refused("The plan has no infusion to book.")
    patient_id: int | None = None

    def attempt() -> list[int]:
        nonlocal patient_id
        with db.write() as session:
            row = lock_course(session, course_id)
            if row is None:
                raise NotFound("No course with that id.")
            patient_id = row.patient_id
            days = {s.start.date() for s in slots}
            lock_days(session, days)
            return _book_locked(session, actor, row, slots, days, today or date.today())

    try:
        try:
            ids = retry_lost_race(attempt)
        except LostRace:
            raise SlotTaken(
                "Nothing was booked: a slot's chair or number was taken at the same moment; plan again."
            ) from None
    except Refused as exc:
        if patient_id is not None:
            with db.write() as session:
                audit.record(
                    session,
                    actor,
                    "book_infusion",
                    patient_id=patient_id,
                    entity="course",
                    entity_id=course_id,
                    outcome="refused",
                    reason=str(exc),
                )
        raise
    return ids


def _book_locked(
    session: Session, actor: Actor, row: Course, slots: tuple[PlannedSlot, ...], days: set[date], today: date
) -> list[int]:
    """The checks and inserts of :func:`book_plan`, inside its transaction and locks."""
    settings: ClinicPolicy = load_policy(session)
    courses = load_courses(session, row.patient_id)
    course = next(c for c in courses if c.id == row.id)
    screening, screened_on = load_screening(session, row.patient_id, settings)
    decision = can_add_infusion(course, screening)
    if not decision.allowed:
        raise Refused("; ".join(decision.reasons))
    rescreen = rescreen_due(screened_on, courses, today, settings, current_course=course)
    if rescreen.due:
        raise Refused("; ".join(rescreen.reasons))
    live = course.live_infusions
    if next_free_number(course) == TRIAL_NUMBER and len(slots) > 1:
        raise Refused("No trial yet: only the trial can be booked; its outcome decides the rest.")
    if len(live) + len(slots) > MAX_INFUSIONS_PER_COURSE:
        raise Refused(
            f"The course holds {len(live)} live infusions: {len(slots)} more would pass "
            f"{MAX_INFUSIONS_PER_COURSE}; nothing was booked."
        )
    check = SlotCheck.load(session, settings, row.patient_id, days)
    problems = _slot_problems(slots, check, {i.number for i in live}, settings)
    if problems:
        raise SlotTaken("Nothing was booked. " + "; ".join(problems) + ".")
    new_rows = [
        Infusion(
            course_id=row.id,
            number=s.number,
            scheduled_at=s.start,
            chair=s.chair,
            status=InfusionStatus.SCHEDULED.value,
        )
        for s in sorted(slots, key=lambda s: s.start)
    ]
    session.add_all(new_rows)
    try:
        session.flush()
    except IntegrityError as exc:
        if is_lost_race(exc):
            raise  # PostgreSQL: retry_lost_race tries the whole transaction once more
        # The partial unique indexes caught a writer that got past the locks: report, book nothing.
        raise SlotTaken(
            "Nothing was booked: a slot's chair or number was taken at the same moment; plan again."
        ) from None
    for inf in new_rows:
        audit.record(
            session,
            actor,
            "book_infusion",
            patient_id=row.patient_id,
            entity="infusion",
            entity_id=inf.id,
            after={"number": inf.number, "scheduled_at": inf.scheduled_at, "chair": inf.chair},
        )
    return [inf.id for inf in new_rows]
