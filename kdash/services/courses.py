"""Courses: opening the next one (a current screening needed) and the provider's trial outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound, Problem, Refused, ValidationError
from kdash.domain.records import CourseRec
from kdash.domain.vocab import (
    CourseStatus,
    Indication,
    InfusionStatus,
    TrialOutcome,
    values,
)
from kdash.rules.course import TrialSuggestion, can_start_course, suggest_trial_outcome
from kdash.rules.screening import rescreen_due, screening_status
from kdash.services.field_checks import (
    Problems,
    clinic_policy,
    course_context,
    live_patient,
    now_naive,
    text_field,
)
from kdash.services.guard import authorize
from kdash.storage import audit_chain as audit
from kdash.storage.amendments import keep_old_values
from kdash.storage.context import load_context
from kdash.storage.database import Database
from kdash.storage.models import (
    Course,
    Infusion,
    live_infusion_clause,
)


@dataclass(frozen=True, slots=True)
class TrialOutcomeResult:
    outcome: TrialOutcome
    suggestion: TrialSuggestion


def trial_suggestion(db: Database, course_id: int) -> TrialSuggestion:
    """The rule's suggestion for a course's trial, to show beside the provider's choice."""
    settings = clinic_policy(db)
    with db.read() as session:
        course = session.get(Course, course_id)
        if course is None:
            raise NotFound(f"Course {course_id} does not exist.")
        ctx = load_context(session, course.patient_id)
        assert ctx is not None
        rec = next(c for c in ctx.courses if c.id == course_id)
        return suggest_trial_outcome(rec, ctx.assessments, settings)


def record_trial_outcome(
    db: Database,
    actor: Actor,
    course_id: int,
    outcome: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> TrialOutcomeResult:
    """The provider's trial outcome (who, when), with the rule's suggestion returned beside it."""
    moment = now_naive(now)
    authorize(db, actor, Action.RECORD_TRIAL_OUTCOME, entity="course", entity_id=course_id, now=moment)
    p = Problems()
    if outcome not in values(TrialOutcome):
        p.add("outcome", f"{outcome!r} is not one of benefit, no_benefit, pending.")
    reason_text = text_field(p, "reason", reason, label="Reason")
    p.raise_if_any()
    settings = clinic_policy(db)
    with db.write() as session:
        course, ctx, rec = course_context(session, course_id)
        suggestion = suggest_trial_outcome(rec, ctx.assessments, settings)
        trial = next((i for i in rec.infusions if i.is_live and i.number == 1), None)
        if outcome != TrialOutcome.PENDING.value and (
            trial is None or trial.status is not InfusionStatus.COMPLETED
        ):
            raise Refused(
                f"The trial infusion of course {course.number} has not been given yet: record its outcome "
                "after the trial."
            )
        old = course.trial_outcome
        if old == outcome:
            return TrialOutcomeResult(TrialOutcome(outcome), suggestion)
        if old != TrialOutcome.PENDING.value:
            if reason_text is None:
                raise ValidationError(
                    Problem(
                        "reason",
                        f"The trial outcome is already {old.replace('_', ' ')}: give a reason to amend it.",
                    )
                )
            keep_old_values(
                session, actor, entity="course", entity_id=course.id, patient_id=course.patient_id,
                changes={"trial_outcome": (old, outcome)}, reason=reason_text, now=moment,
            )  # fmt: skip
        if outcome != TrialOutcome.BENEFIT.value:
            later = session.scalar(
                select(func.count())
                .select_from(Infusion)
                .where(
                    Infusion.course_id == course.id,
                    Infusion.number > 1,
                    live_infusion_clause(),  # type: ignore[arg-type]
                )
            )
            if later:
                raise Refused(
                    f"Course {course.number} already holds {later} infusion(s) after the trial: cancel the "
                    "future bookings first, then record this outcome."
                )
        before = {"trial_outcome": old, "trial_outcome_by": course.trial_outcome_by}
        course.trial_outcome = outcome
        course.trial_outcome_by = actor.username
        course.trial_outcome_on = moment.date()
        if outcome == TrialOutcome.NO_BENEFIT.value:
            course.status = CourseStatus.STOPPED.value
        elif course.status == CourseStatus.STOPPED.value:
            course.status = CourseStatus.ACTIVE.value
        session.flush()
        audit.record(
            session, actor, "record_trial_outcome", patient_id=course.patient_id, entity="course",
            entity_id=course.id, before=before,
            after={"trial_outcome": outcome, "suggested": suggestion.outcome.value},
            reason=reason_text, now=moment,
        )  # fmt: skip
        return TrialOutcomeResult(TrialOutcome(outcome), suggestion)


@dataclass(frozen=True, slots=True)
class NewCourse:
    course_id: int
    number: int


def start_course(db: Database, actor: Actor, patient_id: int, now: datetime | None = None) -> NewCourse:
    """Open the patient's next course; it needs a current screening and no course still open."""
    moment = now_naive(now)
    authorize(db, actor, Action.START_COURSE, patient_id=patient_id, now=moment)
    settings = clinic_policy(db)
    with db.write() as session:
        patient = live_patient(session, patient_id)
        ctx = load_context(session, patient_id)
        assert ctx is not None
        screening = screening_status(ctx.screening_items, ctx.screening_decisions, settings)
        # The new course would follow every existing one: re-screening is judged against the last.
        rescreen = rescreen_due(screening.screened_on, ctx.courses, moment.date(), settings)
        if ctx.courses:
            # Judge re-screening for the course about to start, which follows every existing one.
            probe = CourseRec(
                id=-1, patient_id=patient_id, number=ctx.courses[-1].number + 1,
                indication=ctx.courses[-1].indication, trial_outcome=TrialOutcome.PENDING,
                status=CourseStatus.PLANNED,
            )  # fmt: skip
            rescreen = rescreen_due(
                screening.screened_on, (*ctx.courses, probe), moment.date(), settings, current_course=probe
            )
        decision = can_start_course(ctx.courses, screening, rescreen)
        if not decision.allowed:
            raise Refused("A new course needs a current screening. " + ". ".join(decision.reasons) + ".")
        assert decision.number is not None
        row = Course(
            patient_id=patient_id, number=decision.number, indication=Indication(patient.indication).value,
            trial_outcome=TrialOutcome.PENDING.value, status=CourseStatus.PLANNED.value,
        )  # fmt: skip
        session.add(row)
        session.flush()
        audit.record(
            session, actor, "start_course", patient_id=patient_id, entity="course", entity_id=row.id,
            after={"number": row.number, "indication": row.indication}, now=moment,
        )  # fmt: skip
        return NewCourse(row.id, row.number)
