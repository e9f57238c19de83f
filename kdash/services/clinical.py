"""Clinical writes: one function per thing a nurse or provider records.

Each function checks the role (:func:`kdash.services.guard.authorize`, which audits a refusal), validates
every field and lists every problem at once (:class:`ValidationError`), applies the clinic's rules from
:mod:`kdash.rules` (refusing with :class:`Refused` in words), and writes in one transaction together
with its audit event. A clinical value already on record is never overwritten silently: changing it
needs a reason and leaves an :class:`~kdash.storage.models.Amendment` row with the old value, who and when.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound, Problem, Refused, ValidationError
from kdash.domain.limits import (
    BP_PAIRS,
    INFUSION_READINGS,
    Reading,
    diastolic_not_below,
    half_reading,
    implausible,
)
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import CourseRec
from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    MAX_INFUSIONS_PER_COURSE,
    PHQ9_ITEM9_RANGE,
    SCREENING_ITEMS,
    AssessmentSource,
    CourseStatus,
    Indication,
    InfusionStatus,
    Instrument,
    ScreeningDecision,
    ScreeningResult,
    SuicideReviewAction,
    TrialOutcome,
    values,
)
from kdash.rules.course import TrialSuggestion, can_start_course, suggest_trial_outcome
from kdash.rules.instruments import ScoreOutOfRange, check_item9, check_score
from kdash.rules.screening import rescreen_due, screening_status
from kdash.services.booking import Booking as Booking
from kdash.services.booking import book_infusion as book_infusion
from kdash.services.guard import authorize
from kdash.services.locks import lock_course
from kdash.storage import audit_chain as audit
from kdash.storage.amendments import keep_old_values, record_or_amend
from kdash.storage.context import load_context
from kdash.storage.database import Database
from kdash.storage.models import (
    INFUSION_SESSION_FIELDS,
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
    SuicideReview,
    live_infusion_clause,
)
from kdash.storage.policy_repo import load_policy

#: Longest free text kept in a note, reason or adverse-event field (a paragraph, not a document).
MAX_TEXT = 2000


# --- small helpers -------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now()).replace(tzinfo=None)


class _Problems:
    """Collects field problems so a form can show every one of them at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(Problem(field, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items)


def _text(
    p: _Problems, field: str, value: str | None, *, required: bool = False, label: str = ""
) -> str | None:
    if value is not None and not isinstance(value, str):
        p.add(field, f"{label or field.capitalize()} must be text.")
        return None
    text = (value or "").strip()
    if not text:
        if required:
            p.add(field, f"{label or field.capitalize()} is required: say briefly why.")
        return None
    if len(text) > MAX_TEXT:
        p.add(
            field, f"{label or field.capitalize()} is {len(text)} characters long; keep it under {MAX_TEXT}."
        )
    return text


def _day(p: _Problems, field: str, value: Any, label: str, *, today: date | None = None) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        p.add(field, f"{label} is missing or not a date: pick a date.")
        return None
    if today is not None and value > today:
        p.add(field, f"{label} {value} is in the future: record it on or after the day it happened.")
    return value


def _reading(p: _Problems, reading: Reading, value: Any) -> int | float | None:
    """A typed reading held to its plausibility limit (:mod:`kdash.domain.limits`), or None with a problem."""
    if value is None or value == "":
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))  # NaN, infinity: no reading
    ):
        p.add(reading.field, f"{reading.label} must be a number; {value!r} is not.")
        return None
    if reading.whole and int(value) != value:
        p.add(reading.field, f"{reading.label} must be a whole number; {value!r} is not.")
        return None
    why = implausible(reading.field, value)
    if why is not None:
        p.add(reading.field, why)
        return None
    return int(value) if reading.whole else float(value)


def _whole(value: Any) -> Any:
    """A float with no fraction (a number widget's 12.0) as the int it means; anything else unchanged."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound(f"Patient {patient_id} does not exist or was deleted.")
    return patient


# --- screening -----------------------------------------------------------------------------------------


def record_screening_item(
    db: Database,
    actor: Actor,
    patient_id: int,
    item: str,
    result: str,
    recorded_on: date,
    note: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> int:
    """Record one screening answer (nurse, provider); a second answer the same day amends the first."""
    moment = _now(now)
    authorize(db, actor, Action.RECORD_SCREENING_ITEM, patient_id=patient_id, now=moment)
    p = _Problems()
    if item not in SCREENING_ITEMS:
        p.add("item", f"{item!r} is not a screening item; choose one of the checklist.")
    if result not in values(ScreeningResult):
        p.add("result", f"Answer {result!r} is not one of yes, no, unknown.")
    day = _day(p, "recorded_on", recorded_on, "Date recorded", today=moment.date())
    note_text = _text(p, "note", note, label="Note")
    reason_text = _text(p, "reason", reason, label="Reason")
    p.raise_if_any()
    assert day is not None
    with db.write() as session:
        _patient(session, patient_id)
        row = session.scalar(
            select(ScreeningItem).where(
                ScreeningItem.patient_id == patient_id,
                ScreeningItem.item == item,
                ScreeningItem.recorded_on == day,
            )
        )
        written = record_or_amend(
            session, actor, entity="screening_item", existing=row,
            values={"result": result, "note": note_text},
            create=lambda: ScreeningItem(
                patient_id=patient_id, item=item, result=result, recorded_on=day, note=note_text,
                recorded_by=actor.username,
            ),
            patient_id=patient_id, now=moment, reason=reason_text, record_action="record_screening_item",
            record_after={"item": item, "result": result, "recorded_on": day, "note": note_text},
            reason_needed=f"An answer to this item is already recorded for {day}: give a reason to amend it.",
        )  # fmt: skip
        return int(written.row.id)


def record_screening_decision(
    db: Database,
    actor: Actor,
    patient_id: int,
    decision: str,
    decided_on: date,
    note: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> int:
    """The provider's decision (cleared / not eligible / pending); the screening's date is its date.

    ``cleared`` is refused while the checklist shows an absolute contraindication or a missing required
    item: a provider cannot clear what the rules say is not eligible or incomplete.
    """
    moment = _now(now)
    authorize(
        db,
        actor,
        Action.DECIDE_SCREENING,
        patient_id=patient_id,
        audit_as="record_screening_decision",
        now=moment,
    )
    p = _Problems()
    if decision not in values(ScreeningDecision):
        p.add("decision", f"Decision {decision!r} is not one of cleared, not_eligible, pending.")
    day = _day(p, "decided_on", decided_on, "Decision date", today=moment.date())
    note_text = _text(p, "note", note, label="Note")
    reason_text = _text(p, "reason", reason, label="Reason")
    if decision == ScreeningDecision.NOT_ELIGIBLE.value and note_text is None:
        p.add("note", "Say in the note why the patient is not eligible.")
    p.raise_if_any()
    assert day is not None
    settings = _settings(db)
    with db.write() as session:
        _patient(session, patient_id)
        if decision == ScreeningDecision.CLEARED.value:
            ctx = load_context(session, patient_id)
            assert ctx is not None
            status = screening_status(
                [i for i in ctx.screening_items if i.recorded_on <= day],
                [d for d in ctx.screening_decisions if d.decided_on < day],
                settings,
            )
            if status.status.value in ("not_started", "not_eligible", "incomplete"):
                raise Refused(
                    f"Screening cannot be cleared: it is {status.status.value.replace('_', ' ')} — "
                    + "; ".join(status.reasons)
                    + ". Record the missing items first."
                )
        row = session.scalar(
            select(ScreeningDecisionRow).where(
                ScreeningDecisionRow.patient_id == patient_id, ScreeningDecisionRow.decided_on == day
            )
        )
        written = record_or_amend(
            session, actor, entity="screening_decision", existing=row,
            values={"decision": decision, "note": note_text, "decided_by": actor.username},
            create=lambda: ScreeningDecisionRow(
                patient_id=patient_id, decision=decision, decided_on=day, decided_by=actor.username,
                note=note_text,
            ),
            patient_id=patient_id, now=moment, reason=reason_text, record_action="record_screening_decision",
            record_after={"decision": decision, "decided_on": day, "note": note_text},
            reason_needed=f"A decision is already recorded for {day}: give a reason to amend it.",
        )  # fmt: skip
        return int(written.row.id)


# --- assessments ---------------------------------------------------------------------------------------


def record_assessment(
    db: Database,
    actor: Actor,
    patient_id: int,
    instrument: str,
    score: int,
    taken_on: date,
    item9: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> int:
    """Record a symptom score (nurse, provider); the same instrument on the same day amends the score."""
    moment = _now(now)
    authorize(db, actor, Action.RECORD_ASSESSMENT, patient_id=patient_id, now=moment)
    p = _Problems()
    inst: Instrument | None = None
    if instrument not in values(Instrument):
        p.add(
            "instrument",
            f"{instrument!r} is not an instrument; choose one of {', '.join(values(Instrument))}.",
        )
    else:
        inst = Instrument(instrument)
        lo, hi = INSTRUMENT_RANGES[inst]
        try:
            score = _whole(score)
            check_score(inst, score)
        except (ScoreOutOfRange, ValueError):
            p.add(
                "score",
                f"{inst.value} score {score} is outside its range {lo}–{hi}: enter the total {lo}–{hi}.",
            )
    if inst is Instrument.PHQ9:
        if item9 is None:
            p.add("item9", "PHQ-9 item 9 (thoughts of self-harm) is required with a PHQ-9: enter 0–3.")
        else:
            try:
                check_item9(item9)
            except ScoreOutOfRange:
                lo9, hi9 = PHQ9_ITEM9_RANGE
                p.add("item9", f"PHQ-9 item 9 score {item9} is outside {lo9}–{hi9}: enter 0–3.")
            if isinstance(score, int) and isinstance(item9, int) and item9 > score:
                p.add("item9", f"PHQ-9 item 9 ({item9}) cannot exceed the PHQ-9 total ({score}).")
    elif item9 is not None:
        p.add("item9", "Item 9 belongs to the PHQ-9 only: leave it empty for other instruments.")
    day = _day(p, "taken_on", taken_on, "Date taken", today=moment.date())
    reason_text = _text(p, "reason", reason, label="Reason")
    p.raise_if_any()
    assert day is not None
    assert inst is not None
    with db.write() as session:
        _patient(session, patient_id)
        row = session.scalar(
            select(Assessment).where(
                Assessment.patient_id == patient_id,
                Assessment.instrument == inst.value,
                Assessment.taken_on == day,
                Assessment.deleted_at.is_(None),
            )
        )
        written = record_or_amend(
            session, actor, entity="assessment", existing=row, values={"score": score, "item9": item9},
            create=lambda: Assessment(
                patient_id=patient_id, instrument=inst.value, score=score, item9=item9, taken_on=day,
                source=AssessmentSource.FORM.value, recorded_by=actor.username,
            ),
            patient_id=patient_id, now=moment, reason=reason_text, record_action="record_assessment",
            record_after={"instrument": inst.value, "score": score, "item9": item9, "taken_on": day},
            reason_needed=(
                f"A {inst.value} score is already recorded for {day} ({row.score if row else ''}): "
                "give a reason to amend it."
            ),
        )  # fmt: skip
        return int(written.row.id)


def delete_assessment(
    db: Database, actor: Actor, assessment_id: int, reason: str, now: datetime | None = None
) -> None:
    """Soft-delete a score entered in error: it stays in the database with who, when and why."""
    moment = _now(now)
    authorize(
        db,
        actor,
        Action.DELETE_RECORD,
        entity="assessment",
        entity_id=assessment_id,
        audit_as="delete_assessment",
        now=moment,
    )
    p = _Problems()
    reason_text = _text(p, "reason", reason, required=True, label="Reason")
    p.raise_if_any()
    with db.write() as session:
        row = session.get(Assessment, assessment_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"Assessment {assessment_id} does not exist or was already deleted.")
        row.deleted_at, row.deleted_reason = moment, reason_text
        audit.record(
            session, actor, "delete_assessment", patient_id=row.patient_id, entity="assessment",
            entity_id=row.id,
            before={"instrument": row.instrument, "score": row.score, "taken_on": row.taken_on},
            reason=reason_text, now=moment,
        )  # fmt: skip


def record_suicide_review(
    db: Database,
    actor: Actor,
    patient_id: int,
    action: str,
    reviewed_on: date,
    note: str | None = None,
    assessment_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """The provider's review of a positive item 9 or high-risk C-SSRS (what was done, who, when)."""
    moment = _now(now)
    authorize(
        db,
        actor,
        Action.REVIEW_SUICIDE_RISK,
        patient_id=patient_id,
        audit_as="record_suicide_review",
        now=moment,
    )
    p = _Problems()
    if action not in values(SuicideReviewAction):
        p.add("action", f"{action!r} is not one of {', '.join(values(SuicideReviewAction))}.")
    day = _day(p, "reviewed_on", reviewed_on, "Review date", today=moment.date())
    note_text = _text(p, "note", note, required=True, label="Note")
    p.raise_if_any()
    assert day is not None
    with db.write() as session:
        _patient(session, patient_id)
        if assessment_id is not None:
            score = session.get(Assessment, assessment_id)
            if score is None or score.patient_id != patient_id:
                raise NotFound(f"Assessment {assessment_id} is not one of this patient's scores.")
        row = SuicideReview(
            patient_id=patient_id, assessment_id=assessment_id, reviewed_on=day, reviewed_by=actor.username,
            action=action, note=note_text,
        )  # fmt: skip
        session.add(row)
        session.flush()
        audit.record(
            session, actor, "record_suicide_review", patient_id=patient_id, entity="suicide_review",
            entity_id=row.id, after={"action": action, "reviewed_on": day, "assessment_id": assessment_id},
            now=moment,
        )  # fmt: skip
        return row.id


# --- courses and infusions -----------------------------------------------------------------------------


def _settings(db: Database) -> ClinicPolicy:
    with db.read() as session:
        return load_policy(session)


def _course_context(session: Session, course_id: int) -> tuple[Course, Any, Any]:
    """(locked course row, patient context, the course's record)."""
    course = lock_course(session, course_id)
    if course is None:
        raise NotFound(f"Course {course_id} does not exist.")
    ctx = load_context(session, course.patient_id)
    if ctx is None:
        raise NotFound(f"The patient of course {course_id} does not exist.")
    rec = next(c for c in ctx.courses if c.id == course_id)
    return course, ctx, rec


#: Fields of an infusion record a nurse fills in during and after the session.
INFUSION_RECORD_FIELDS = INFUSION_SESSION_FIELDS


def record_infusion(
    db: Database,
    actor: Actor,
    infusion_id: int,
    *,
    dose_mg_per_kg: float | None,
    premed_given: bool | None,
    bp_pre_sys: int | None,
    bp_pre_dia: int | None,
    bp_peak_sys: int | None = None,
    bp_peak_dia: int | None = None,
    bp_discharge_sys: int | None = None,
    bp_discharge_dia: int | None = None,
    heart_rate: int | None = None,
    spo2: int | None = None,
    escort_confirmed: bool | None = None,
    adverse_events: str | None = None,
    discharged_at: datetime | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> int:
    """Record the session (vitals, dose, premedication, escort, adverse events); discharged → completed.

    Like the clinics' session notes (Spravato REMS form), a session closes only with the pre-dose blood
    pressure, the dose and a confirmed escort. A completed session is amended, with a reason.
    """
    moment = _now(now)
    authorize(db, actor, Action.RECORD_INFUSION, entity="infusion", entity_id=infusion_id, now=moment)
    p = _Problems()
    given = {
        "bp_pre_sys": bp_pre_sys, "bp_pre_dia": bp_pre_dia, "bp_peak_sys": bp_peak_sys,
        "bp_peak_dia": bp_peak_dia, "bp_discharge_sys": bp_discharge_sys,
        "bp_discharge_dia": bp_discharge_dia, "heart_rate": heart_rate, "spo2": spo2,
        "dose_mg_per_kg": dose_mg_per_kg,
    }  # fmt: skip
    new: dict[str, Any] = {r.field: _reading(p, r, given[r.field]) for r in INFUSION_READINGS}
    for sys_f, dia_f, words in BP_PAIRS:
        s, d = new[sys_f], new[dia_f]
        flagged = {pr.field for pr in p.items}
        if sys_f in flagged or dia_f in flagged:
            continue
        if (s is None) != (d is None):
            p.add(dia_f if d is None else sys_f, half_reading(words))
        elif s is not None and d is not None and d >= s:
            p.add(dia_f, diastolic_not_below(s, d, words))
    new["premed_given"] = premed_given
    new["escort_confirmed"] = escort_confirmed
    new["adverse_events"] = _text(p, "adverse_events", adverse_events, label="Adverse events")
    reason_text = _text(p, "reason", reason, label="Reason")
    if discharged_at is not None:
        if not isinstance(discharged_at, datetime):
            p.add("discharged_at", "Discharge time must be a date and time.")
        elif discharged_at.replace(tzinfo=None) > moment + timedelta(minutes=5):
            p.add("discharged_at", f"Discharge time {discharged_at:%H:%M} is in the future.")
        else:
            new["discharged_at"] = discharged_at.replace(tzinfo=None, second=0, microsecond=0)
    new.setdefault("discharged_at", None)
    if new["discharged_at"] is not None:
        # Discharge closes the session: the REMS-style minimum must be there.
        if new["bp_pre_sys"] is None and "bp_pre_sys" not in [pr.field for pr in p.items]:
            p.add("bp_pre_sys", "Pre-dose blood pressure is required before discharge.")
        if new["dose_mg_per_kg"] is None and "dose_mg_per_kg" not in [pr.field for pr in p.items]:
            p.add("dose_mg_per_kg", "The dose given (mg/kg) is required before discharge.")
        if escort_confirmed is not True:
            p.add(
                "escort_confirmed",
                "Confirm the escort before discharge: someone must drive the patient home.",
            )
    p.raise_if_any()
    with db.write() as session:
        row = session.get(Infusion, infusion_id)
        if row is None:
            raise NotFound(f"Infusion {infusion_id} does not exist.")
        course = session.get(Course, row.course_id)
        assert course is not None
        if row.status in (InfusionStatus.CANCELLED.value, InfusionStatus.NO_SHOW.value):
            raise Refused(
                f"Infusion {row.number} was {row.status.replace('_', '-')}: it cannot be recorded. "
                "Book a new infusion instead."
            )
        if new["discharged_at"] is not None and new["discharged_at"] < row.scheduled_at:
            raise ValidationError(
                Problem(
                    "discharged_at", f"Discharge cannot be before the booked start {row.scheduled_at:%H:%M}."
                )
            )
        if row.scheduled_at.date() > moment.date():
            raise Refused(
                f"Infusion {row.number} is booked for {row.scheduled_at:%Y-%m-%d}: record it on the day."
            )
        was_completed = row.status == InfusionStatus.COMPLETED.value
        if new["discharged_at"] is not None and not was_completed:
            new["status"] = InfusionStatus.COMPLETED.value
        # A completed session is final: every change of a value it recorded is an amendment.
        record_or_amend(
            session, actor, entity="infusion", existing=row, values=new, create=lambda: None,
            patient_id=course.patient_id, now=moment, reason=reason_text, record_action="record_infusion",
            amend=was_completed,
            reason_needed="This infusion is already recorded: give a reason to amend its values.",
        )  # fmt: skip
        done = session.scalar(
            select(func.count())
            .select_from(Infusion)
            .where(Infusion.course_id == course.id, Infusion.status == InfusionStatus.COMPLETED.value)
        )
        if done and done >= MAX_INFUSIONS_PER_COURSE and course.status != CourseStatus.COMPLETED.value:
            course.status = CourseStatus.COMPLETED.value
        return int(row.id)


def cancel_infusion(
    db: Database,
    actor: Actor,
    infusion_id: int,
    reason: str,
    *,
    no_show: bool = False,
    now: datetime | None = None,
) -> None:
    """Cancel a booking or mark a no-show; it stays in the history and frees its number and chair."""
    moment = _now(now)
    authorize(db, actor, Action.CANCEL_INFUSION, entity="infusion", entity_id=infusion_id, now=moment)
    p = _Problems()
    reason_text = _text(p, "reason", reason, required=True, label="Reason")
    p.raise_if_any()
    with db.write() as session:
        row = session.get(Infusion, infusion_id)
        if row is None:
            raise NotFound(f"Infusion {infusion_id} does not exist.")
        course = session.get(Course, row.course_id)
        assert course is not None
        if row.status != InfusionStatus.SCHEDULED.value:
            raise Refused(
                f"Infusion {row.number} is {row.status.replace('_', '-')}: only a scheduled infusion can be "
                "cancelled or marked no-show."
            )
        if no_show and row.scheduled_at > moment:
            raise Refused(
                f"Infusion {row.number} starts at {row.scheduled_at:%Y-%m-%d %H:%M}: a no-show can only be "
                "recorded after the booked time. Cancel it instead."
            )
        status = InfusionStatus.NO_SHOW if no_show else InfusionStatus.CANCELLED
        row.status, row.cancel_reason = status.value, reason_text
        session.flush()
        audit.record(
            session, actor, "no_show_infusion" if no_show else "cancel_infusion",
            patient_id=course.patient_id,
            entity="infusion", entity_id=row.id, before={"status": InfusionStatus.SCHEDULED.value},
            after={"status": status.value}, reason=reason_text, now=moment,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class TrialOutcomeResult:
    outcome: TrialOutcome
    suggestion: TrialSuggestion


def trial_suggestion(db: Database, course_id: int) -> TrialSuggestion:
    """The rule's suggestion for a course's trial, to show beside the provider's choice."""
    settings = _settings(db)
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
    moment = _now(now)
    authorize(db, actor, Action.RECORD_TRIAL_OUTCOME, entity="course", entity_id=course_id, now=moment)
    p = _Problems()
    if outcome not in values(TrialOutcome):
        p.add("outcome", f"{outcome!r} is not one of benefit, no_benefit, pending.")
    reason_text = _text(p, "reason", reason, label="Reason")
    p.raise_if_any()
    settings = _settings(db)
    with db.write() as session:
        course, ctx, rec = _course_context(session, course_id)
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
    moment = _now(now)
    authorize(db, actor, Action.START_COURSE, patient_id=patient_id, now=moment)
    settings = _settings(db)
    with db.write() as session:
        patient = _patient(session, patient_id)
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


def record_patient_view(db: Database, actor: Actor, patient_id: int, now: datetime | None = None) -> None:
    """Opening a patient's record is itself an audit event ("view_patient")."""
    moment = _now(now)
    authorize(db, actor, Action.VIEW_CLINICAL, patient_id=patient_id, now=moment)
    with db.write() as session:
        _patient(session, patient_id)
        audit.record(session, actor, "view_patient", patient_id=patient_id, entity="patient",
                     entity_id=patient_id, now=moment)  # fmt: skip
