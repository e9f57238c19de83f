"""Symptom scores and suicide-risk reviews: recording, amending and deleting a score entered in error.

A score is checked against its instrument's range (and PHQ-9 item 9 against the total); the same
instrument on the same day amends the score with a reason (:func:`~kdash.storage.amendments.record_or_amend`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound
from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    PHQ9_ITEM9_RANGE,
    AssessmentSource,
    Instrument,
    SuicideReviewAction,
    values,
)
from kdash.rules.instruments import ScoreOutOfRange, check_item9, check_score
from kdash.services.field_checks import (
    Problems,
    day_field,
    live_patient,
    now_naive,
    text_field,
    whole_number,
)
from kdash.services.guard import authorize
from kdash.storage import audit_chain as audit
from kdash.storage.amendments import record_or_amend
from kdash.storage.database import Database
from kdash.storage.models import (
    Assessment,
    SuicideReview,
)

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
    moment = now_naive(now)
    authorize(db, actor, Action.RECORD_ASSESSMENT, patient_id=patient_id, now=moment)
    p = Problems()
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
            score = whole_number(score)
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
    day = day_field(p, "taken_on", taken_on, "Date taken", today=moment.date())
    reason_text = text_field(p, "reason", reason, label="Reason")
    p.raise_if_any()
    assert day is not None
    assert inst is not None
    with db.write() as session:
        live_patient(session, patient_id)
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
    moment = now_naive(now)
    authorize(
        db,
        actor,
        Action.DELETE_RECORD,
        entity="assessment",
        entity_id=assessment_id,
        audit_as="delete_assessment",
        now=moment,
    )
    p = Problems()
    reason_text = text_field(p, "reason", reason, required=True, label="Reason")
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
    moment = now_naive(now)
    authorize(
        db,
        actor,
        Action.REVIEW_SUICIDE_RISK,
        patient_id=patient_id,
        audit_as="record_suicide_review",
        now=moment,
    )
    p = Problems()
    if action not in values(SuicideReviewAction):
        p.add("action", f"{action!r} is not one of {', '.join(values(SuicideReviewAction))}.")
    day = day_field(p, "reviewed_on", reviewed_on, "Review date", today=moment.date())
    note_text = text_field(p, "note", note, required=True, label="Note")
    p.raise_if_any()
    assert day is not None
    with db.write() as session:
        live_patient(session, patient_id)
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
