"""What the patient page shows of one patient: the record judged by the rules, each course's ten places,
the flags of the next infusion day, the amendment trail and the suicide-risk reviews; finding a patient
by search or by exact MRN.

Plain data (dataclasses) so that the page can cache it and a test can assert on it; the page records
the view itself, once per opening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from kdash.domain.access import Actor
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import (
    CourseRec,
    InfusionRec,
    PatientContext,
    PatientRec,
    ScreeningAssessment,
    ScreeningItemRec,
)
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, SCREENING_ITEMS, InfusionStatus
from kdash.rules.course import TrialSuggestion, can_add_infusion, live_count, suggest_trial_outcome
from kdash.rules.flags import Flag
from kdash.rules.huddle import build_entry
from kdash.rules.screening import rescreen_due, screening_status
from kdash.services import minimum_necessary, search
from kdash.storage.context import load_context
from kdash.storage.database import Database
from kdash.storage.models import Amendment, Course, Patient, SuicideReview


@dataclass(frozen=True, slots=True)
class Slot:
    """One of the ten places of a course: done, booked, free, or the history of a freed number."""

    number: int
    state: str  # "done" | "booked" | "free"
    infusion: InfusionRec | None = None
    freed: tuple[InfusionRec, ...] = ()


@dataclass(frozen=True, slots=True)
class CourseView:
    course: CourseRec
    slots: tuple[Slot, ...]
    live: int
    can_add: bool
    add_reasons: tuple[str, ...]
    suggestion: TrialSuggestion
    trial_outcome_by: str | None
    trial_outcome_on: date | None


@dataclass(frozen=True, slots=True)
class AmendmentView:
    entity: str
    entity_id: int
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    changed_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class PatientDetail:
    patient: PatientRec
    context: PatientContext
    screening: ScreeningAssessment
    rescreen_reasons: tuple[str, ...]
    checklist: tuple[dict[str, Any], ...]
    courses: tuple[CourseView, ...]
    flags: tuple[Flag, ...]
    flags_for: date | None
    ready: bool | None
    ready_reasons: tuple[str, ...]
    amendments: tuple[AmendmentView, ...] = field(default_factory=tuple)


def _slots(course: CourseRec) -> tuple[Slot, ...]:
    out = []
    for n in range(1, MAX_INFUSIONS_PER_COURSE + 1):
        live = [i for i in course.infusions if i.number == n and i.is_live]
        freed = tuple(i for i in course.infusions if i.number == n and not i.is_live)
        if live:
            inf = live[0]
            state = "done" if inf.status is InfusionStatus.COMPLETED else "booked"
            out.append(Slot(n, state, inf, freed))
        else:
            out.append(Slot(n, "free", None, freed))
    return tuple(out)


def patient_detail(
    db: Database, settings: ClinicPolicy, patient_id: int, today: date, actor: Actor | None = None
) -> PatientDetail | None:
    """Everything the patient page shows (no audit: the page records the view once per opening), less
    what ``actor``'s role may not see (:mod:`kdash.services.minimum_necessary`)."""
    with db.read() as session:
        ctx = load_context(session, patient_id)
        if ctx is None:
            return None
        course_meta = {
            r.id: (r.trial_outcome_by, r.trial_outcome_on)
            for r in session.execute(
                select(Course.id, Course.trial_outcome_by, Course.trial_outcome_on).where(
                    Course.patient_id == patient_id
                )
            )
        }
        amendments = tuple(
            AmendmentView(
                a.entity, a.entity_id, a.field, a.old_value, a.new_value, a.changed_by, a.changed_at, a.reason
            )
            for a in session.scalars(
                select(Amendment)
                .where(Amendment.patient_id == patient_id)
                .order_by(Amendment.changed_at.desc())
            )
        )
    screening = screening_status(ctx.screening_items, ctx.screening_decisions, settings)
    rescreen = rescreen_due(screening.screened_on, ctx.courses, today, settings)
    latest: dict[str, ScreeningItemRec] = {}
    for it in ctx.screening_items:
        if it.item not in latest or it.recorded_on >= latest[it.item].recorded_on:
            latest[it.item] = it
    checklist = tuple(
        {
            "item": code,
            "meaning": meaning,
            "class": settings.item_class(code).value,
            "answer": latest[code].result.value if code in latest else "",
            "recorded_on": latest[code].recorded_on if code in latest else None,
            "note": latest[code].note if code in latest else None,
        }
        for code, (meaning, _, _) in SCREENING_ITEMS.items()
    )
    views = []
    for c in ctx.courses:
        decision = can_add_infusion(c, screening)
        by, on = course_meta.get(c.id, (None, None))
        views.append(
            CourseView(
                course=c,
                slots=_slots(c),
                live=live_count(c),
                can_add=decision.allowed,
                add_reasons=decision.reasons,
                suggestion=suggest_trial_outcome(c, ctx.assessments, settings),
                trial_outcome_by=by,
                trial_outcome_on=on,
            )
        )
    # Flags as the huddle will show them on the patient's next (or today's) infusion day.
    upcoming = sorted(
        i.scheduled_at.date()
        for c in ctx.courses
        for i in c.infusions
        if i.is_live and i.scheduled_at.date() >= today
    )
    flags: tuple[Flag, ...] = ()
    ready: bool | None = None
    ready_reasons: tuple[str, ...] = ()
    flags_for = upcoming[0] if upcoming else None
    if flags_for is not None:
        entry = build_entry(ctx, flags_for, settings)
        if entry is not None:
            flags, ready, ready_reasons = entry.flags, entry.ready, entry.readiness.reasons
    detail = PatientDetail(
        patient=ctx.patient,
        context=ctx,
        screening=screening,
        rescreen_reasons=rescreen.reasons,
        checklist=checklist,
        courses=tuple(views),
        flags=flags,
        flags_for=flags_for,
        ready=ready,
        ready_reasons=ready_reasons,
        amendments=amendments,
    )
    return minimum_necessary.detail_for(actor, detail)


def search_patients(db: Database, text: str, limit: int = 50) -> list[tuple[int, str]]:
    """(id, "Last, First · MRN") of the patients :func:`kdash.services.search.search_patients` finds."""
    return [(hit.patient_id, hit.label) for hit in search.search_patients(db, text, limit)]


def patient_id_by_mrn(db: Database, mrn: str) -> int | None:
    """The id of the patient whose MRN is exactly ``mrn`` (case and spaces ignored), or None.

    For the address ``/patient?mrn=<MRN>``: a search could open another patient whose MRN merely
    contains the one linked. Opening the record is audited by the page as a view.
    """
    wanted = mrn.strip().lower()
    if not wanted:
        return None
    with db.read() as session:
        return session.scalar(
            select(Patient.id).where(Patient.deleted_at.is_(None), func.lower(Patient.mrn) == wanted).limit(1)
        )


def suicide_reviews(db: Database, patient_id: int) -> list[dict[str, Any]]:
    with db.read() as session:
        return [
            {"reviewed_on": r.reviewed_on, "by": r.reviewed_by, "action": r.action, "note": r.note}
            for r in session.scalars(
                select(SuicideReview)
                .where(SuicideReview.patient_id == patient_id)
                .order_by(SuicideReview.reviewed_on.desc())
            )
        ]
