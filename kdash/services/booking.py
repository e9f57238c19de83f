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
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound, Problem, Refused, ValidationError
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import CourseRec, ScreeningAssessment
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, CourseStatus, InfusionStatus
from kdash.planner.cadence import WEEKDAY_NAMES, Cadence
from kdash.planner.plan import Plan, PlannedSlot, plan_course
from kdash.rules.course import TRIAL_NUMBER, can_add_infusion, next_free_number
from kdash.rules.screening import RescreenDecision, rescreen_due, screening_status
from kdash.services.guard import authorize
from kdash.services.locks import LostRace, is_lost_race, lock_course, lock_days, retry_lost_race
from kdash.services.planner_inputs import PlannerInputs, load_planner_inputs
from kdash.services.slots import SlotCheck
from kdash.storage import audit_chain as audit
from kdash.storage.context import load_context
from kdash.storage.database import Database
from kdash.storage.models import Course, Infusion
from kdash.storage.policy_repo import load_policy

__all__ = [
    "Booking",
    "PlanResult",
    "Slot",
    "SlotTaken",
    "book",
    "book_in_transaction",
    "book_infusion",
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


def _describe(start: datetime, number: int | None, chair: int | None) -> str:
    day = start.date()
    return (
        f"infusion {number} on {WEEKDAY_NAMES[day.weekday()].capitalize()} {day.isoformat()} "
        f"{start:%H:%M}, chair {chair if chair is not None else 'any'}"
    )


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
    unknown course, :class:`kdash.domain.access.Forbidden` for a role that may not book.
    """
    authorize(db, actor, Action.BOOK_INFUSION, entity="course", entity_id=course_id)
    slots = tuple(plan.slots if isinstance(plan, Plan) else plan)
    if isinstance(plan, Plan) and not plan.allowed:
        raise Refused("This plan was refused: " + "; ".join(plan.reasons))
    if not slots:
        raise Refused("The plan has no infusion to book.")
    wanted = tuple(Slot(s.start, s.chair, s.number) for s in slots)
    booked = book(db, actor, course_id, wanted, today=today or date.today(), now=datetime.now())
    return [b.infusion_id for b in booked]


@dataclass(frozen=True, slots=True)
class Booking:
    """One booked infusion: its id, number in the course, chair and start."""

    infusion_id: int
    number: int
    chair: int
    scheduled_at: datetime


def book_infusion(
    db: Database,
    actor: Actor,
    course_id: int,
    scheduled_at: datetime,
    escort_confirmed: bool | None = None,
    now: datetime | None = None,
    *,
    chair: int | None = None,
) -> Booking:
    """Book the course's next infusion (next free number) from the patient page, never an 11th.

    ``chair`` None takes the earliest free chair (the lowest-numbered one); a chair asked for is booked
    only if it is free for the whole chair time. The rules are those of every booking (:func:`book`).
    """
    moment = (now or datetime.now()).replace(tzinfo=None)
    authorize(db, actor, Action.BOOK_INFUSION, entity="course", entity_id=course_id, now=moment)
    problems: list[Problem] = []
    if not isinstance(scheduled_at, datetime):
        problems.append(Problem("scheduled_at", "Date and time of the infusion are missing: pick both."))
    elif scheduled_at.replace(tzinfo=None) < moment - timedelta(minutes=5):
        problems.append(
            Problem("scheduled_at", f"{scheduled_at:%Y-%m-%d %H:%M} is in the past: book a future time.")
        )
    if chair is not None and (isinstance(chair, bool) or not isinstance(chair, int)):
        problems.append(Problem("chair", f"Chair must be a chair number; {chair!r} is not."))
    if problems:
        raise ValidationError(problems)
    start = scheduled_at.replace(tzinfo=None, second=0, microsecond=0)
    [booked] = book(
        db,
        actor,
        course_id,
        (Slot(start, chair, None, escort_confirmed),),
        today=moment.date(),
        now=moment,
        one=True,
    )
    return booked


@dataclass(frozen=True, slots=True)
class Slot:
    """An infusion to book: its start, its chair (None: the earliest free one), its number (None: the
    course's next free number) and whether the escort is already confirmed."""

    start: datetime
    chair: int | None = None
    number: int | None = None
    escort_confirmed: bool | None = None


def book(
    db: Database,
    actor: Actor,
    course_id: int,
    slots: Sequence[Slot],
    *,
    today: date,
    now: datetime,
    one: bool = False,
) -> list[Booking]:
    """THE booking path: every way of booking (patient page, planner) books through here, all or nothing.

    In one write transaction holding the course and day locks (:mod:`kdash.services.locks`), against the
    database as it is at that moment, it applies every rule — the screening is cleared and re-screening
    is not due, the trial outcome allows more infusions, the course stays within ten live infusions, each
    slot's day, hours, chair and spacing (:meth:`SlotCheck.problems`, the one call site) — and every state
    change: a planned course becomes active, with its start date. A writer that loses a race at the
    schema's unique indexes is retried once, then told nothing was booked. A refusal is audited; ``one``
    (a single booking from the patient page) words a slot's problems as sentences, else each after the
    slot's name (a plan).
    """
    patient_id: int | None = None

    def attempt() -> list[Booking]:
        nonlocal patient_id
        with db.write() as session:
            row = lock_course(session, course_id)
            if row is None:
                raise NotFound(f"Course {course_id} does not exist.")
            patient_id = row.patient_id
            return book_in_transaction(session, actor, row.id, slots, today=today, now=now, one=one)

    try:
        try:
            return retry_lost_race(attempt)
        except LostRace:
            raise SlotTaken(_TAKEN_MEANWHILE) from None
    except Refused as exc:
        if patient_id is not None:
            with db.write() as session:
                audit.record(
                    session, actor, "book_infusion", patient_id=patient_id, entity="course",
                    entity_id=course_id, outcome="refused", reason=str(exc), now=now,
                )  # fmt: skip
        raise


def book_in_transaction(
    session: Session,
    actor: Actor,
    course_id: int,
    slots: Sequence[Slot],
    *,
    today: date,
    now: datetime,
    one: bool = False,
) -> list[Booking]:
    """:func:`book`'s rules, writes and state changes inside a transaction the caller holds (an import
    books its future rows here, inside its own all-or-nothing write). Locks the course and the days;
    raises :class:`Refused` (or :class:`SlotTaken`) with the same words as a booking from a page."""
    row = lock_course(session, course_id)
    if row is None:
        raise NotFound(f"Course {course_id} does not exist.")
    lock_days(session, {s.start.date() for s in slots})
    return _book_locked(session, actor, row, slots, today, now, one=one)


_TAKEN_MEANWHILE = "Nothing was booked: a slot's chair or number was taken at the same moment; plan again."


def _course_refusals(
    course: CourseRec, screening: ScreeningAssessment, rescreen: RescreenDecision, slots: Sequence[Slot]
) -> list[str]:
    """What the course rules say against booking ``slots`` on ``course`` (empty: they allow it)."""
    decision = can_add_infusion(course, screening)
    if not decision.allowed:
        return list(decision.reasons)
    if rescreen.due:
        return list(rescreen.reasons)
    live = course.live_infusions
    if next_free_number(course) == TRIAL_NUMBER and len(slots) > 1:
        return ["No trial yet: only the trial can be booked; its outcome decides the rest"]
    if len(live) + len(slots) > MAX_INFUSIONS_PER_COURSE:
        return [
            f"The course has {len(live)} infusions done or booked: {len(slots)} more would pass "
            f"{MAX_INFUSIONS_PER_COURSE}; nothing was booked"
        ]
    return []


def _numbered(course: CourseRec, slots: Sequence[Slot]) -> list[Slot]:
    """Each slot with its infusion number: the one asked for, else the course's next free numbers."""
    held = {i.number for i in course.live_infusions} | {s.number for s in slots if s.number is not None}
    free = (n for n in range(1, MAX_INFUSIONS_PER_COURSE + 1) if n not in held)
    return [s if s.number is not None else replace(s, number=next(free, None)) for s in slots]


def _book_locked(
    session: Session,
    actor: Actor,
    row: Course,
    slots: Sequence[Slot],
    today: date,
    now: datetime,
    *,
    one: bool,
) -> list[Booking]:
    """The checks, inserts and state changes of :func:`book`, inside its transaction and locks."""
    settings: ClinicPolicy = load_policy(session)
    ctx = load_context(session, row.patient_id)
    if ctx is None:
        raise NotFound(f"The patient of course {row.id} does not exist.")
    course = next(c for c in ctx.courses if c.id == row.id)
    screening = screening_status(ctx.screening_items, ctx.screening_decisions, settings)
    rescreen = rescreen_due(screening.screened_on, ctx.courses, today, settings, current_course=course)
    refusals = _course_refusals(course, screening, rescreen, slots)
    if refusals:
        raise Refused(". ".join(refusals) + ".")
    numbered = _numbered(course, slots)
    check = SlotCheck.load(session, settings, row.patient_id, {s.start.date() for s in slots})
    chosen, problems = _chairs(numbered, check, {i.number for i in course.live_infusions}, one=one)
    if problems:
        if one:
            raise Refused(" ".join(problems))
        raise SlotTaken("Nothing was booked. " + "; ".join(problems) + ".")
    ordered = sorted(chosen, key=lambda sc: sc[0].start)
    new_rows = [
        Infusion(
            course_id=row.id, number=s.number, scheduled_at=s.start, chair=chair,
            status=InfusionStatus.SCHEDULED.value, escort_confirmed=s.escort_confirmed,
        )
        for s, chair in ordered
    ]  # fmt: skip
    session.add_all(new_rows)
    if row.status == CourseStatus.PLANNED.value:
        row.status = CourseStatus.ACTIVE.value
    if row.started_on is None:
        row.started_on = min(s.start for s in slots).date()
    try:
        session.flush()
    except IntegrityError as exc:
        if is_lost_race(exc):
            raise  # PostgreSQL: retry_lost_race tries the whole transaction once more
        # The partial unique indexes caught a writer that got past the locks: report, book nothing.
        raise SlotTaken(_TAKEN_MEANWHILE) from None
    for inf in new_rows:
        audit.record(
            session, actor, "book_infusion", patient_id=row.patient_id, entity="infusion", entity_id=inf.id,
            after={"course": row.number, "number": inf.number, "scheduled_at": inf.scheduled_at,
                   "chair": inf.chair},
            now=now,
        )  # fmt: skip
    return [
        Booking(i.id, i.number, chair, i.scheduled_at)
        for i, (_, chair) in zip(new_rows, ordered, strict=True)
    ]


def _chairs(
    slots: Sequence[Slot], check: SlotCheck, held_numbers: set[int], *, one: bool
) -> tuple[list[tuple[Slot, int]], list[str]]:
    """Each slot with its chair (the one asked for, or the earliest free), and every reason one cannot be
    booked: a sentence for a single booking, a clause after the slot's name for a plan. A plan's earlier
    slots count toward the spacing of its later ones."""
    s = check.settings
    chosen: list[tuple[Slot, int]] = []
    problems: list[str] = []
    numbers = [slot.number for slot in slots]
    for slot in sorted(slots, key=lambda x: x.start):
        name = _describe(slot.start, slot.number, slot.chair)
        if slot.number is None or not 1 <= slot.number <= MAX_INFUSIONS_PER_COURSE:
            problems.append(f"{name}: numbers run from 1 to {MAX_INFUSIONS_PER_COURSE}")
        elif slot.number in held_numbers or numbers.count(slot.number) > 1:
            problems.append(f"{name}: number {slot.number} is already taken in this course")
        found = check.problems(slot.start, slot.chair)
        if one:
            problems.extend(problem.sentence for problem in found)
        else:
            clauses = dict.fromkeys(problem.clause for problem in found)
            problems.extend(f"{name}: {clause}" for clause in clauses)
        chair = slot.chair if slot.chair is not None else (None if found else check.free_chair(slot.start))
        if chair is None and not found:
            problems.append(
                f"All {s.chairs} chairs are taken around {slot.start:%Y-%m-%d %H:%M}: choose another time."
                if one
                else f"{name}: every chair is taken"
            )
        elif chair is not None:
            chosen.append((slot, chair))
        check.hold(slot.start)
    return chosen, problems
