"""Screening writes: a nurse's answer to a checklist item and the provider's decision.

Each checks the role, validates every field, and writes through
:func:`~kdash.storage.amendments.record_or_amend`
with its audit event: a second answer for the same item and day amends the first, with a reason.
A provider cannot clear what the rules say is not eligible or incomplete.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from kdash.domain.access import Action, Actor
from kdash.domain.errors import Refused
from kdash.domain.vocab import (
    SCREENING_ITEMS,
    ScreeningDecision,
    ScreeningResult,
    values,
)
from kdash.rules.screening import screening_status
from kdash.services.field_checks import (
    Problems,
    clinic_policy,
    day_field,
    live_patient,
    now_naive,
    text_field,
)
from kdash.services.guard import authorize
from kdash.storage.amendments import record_or_amend
from kdash.storage.context import load_context
from kdash.storage.database import Database
from kdash.storage.models import (
    ScreeningDecisionRow,
    ScreeningItem,
)

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
    moment = now_naive(now)
    authorize(db, actor, Action.RECORD_SCREENING_ITEM, patient_id=patient_id, now=moment)
    p = Problems()
    if item not in SCREENING_ITEMS:
        p.add("item", f"{item!r} is not a screening item; choose one of the checklist.")
    if result not in values(ScreeningResult):
        p.add("result", f"Answer {result!r} is not one of yes, no, unknown.")
    day = day_field(p, "recorded_on", recorded_on, "Date recorded", today=moment.date())
    note_text = text_field(p, "note", note, label="Note")
    reason_text = text_field(p, "reason", reason, label="Reason")
    p.raise_if_any()
    assert day is not None
    with db.write() as session:
        live_patient(session, patient_id)
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
    moment = now_naive(now)
    authorize(
        db,
        actor,
        Action.DECIDE_SCREENING,
        patient_id=patient_id,
        audit_as="record_screening_decision",
        now=moment,
    )
    p = Problems()
    if decision not in values(ScreeningDecision):
        p.add("decision", f"Decision {decision!r} is not one of cleared, not_eligible, pending.")
    day = day_field(p, "decided_on", decided_on, "Decision date", today=moment.date())
    note_text = text_field(p, "note", note, label="Note")
    reason_text = text_field(p, "reason", reason, label="Reason")
    if decision == ScreeningDecision.NOT_ELIGIBLE.value and note_text is None:
        p.add("note", "Say in the note why the patient is not eligible.")
    p.raise_if_any()
    assert day is not None
    settings = clinic_policy(db)
    with db.write() as session:
        live_patient(session, patient_id)
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
