"""An infusion's session record and its cancellation (a booking itself is :mod:`kdash.services.booking`).

The session record (vitals, dose, premedication, escort, adverse events) is held to the plausibility
limits; discharge completes the infusion and needs the REMS-style minimum; a completed session is final,
so a change of a recorded value is an amendment with a reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound, Problem, Refused, ValidationError
from kdash.domain.limits import (
    BP_PAIRS,
    INFUSION_READINGS,
    diastolic_not_below,
    half_reading,
)
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    CourseStatus,
    InfusionStatus,
)
from kdash.services.field_checks import (
    Problems,
    now_naive,
    reading_field,
    text_field,
)
from kdash.services.guard import authorize
from kdash.storage import audit_chain as audit
from kdash.storage.amendments import record_or_amend
from kdash.storage.database import Database
from kdash.storage.models import (
    INFUSION_SESSION_FIELDS,
    Course,
    Infusion,
)

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
    moment = now_naive(now)
    authorize(db, actor, Action.RECORD_INFUSION, entity="infusion", entity_id=infusion_id, now=moment)
    p = Problems()
    given = {
        "bp_pre_sys": bp_pre_sys, "bp_pre_dia": bp_pre_dia, "bp_peak_sys": bp_peak_sys,
        "bp_peak_dia": bp_peak_dia, "bp_discharge_sys": bp_discharge_sys,
        "bp_discharge_dia": bp_discharge_dia, "heart_rate": heart_rate, "spo2": spo2,
        "dose_mg_per_kg": dose_mg_per_kg,
    }  # fmt: skip
    new: dict[str, Any] = {r.field: reading_field(p, r, given[r.field]) for r in INFUSION_READINGS}
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
    new["adverse_events"] = text_field(p, "adverse_events", adverse_events, label="Adverse events")
    reason_text = text_field(p, "reason", reason, label="Reason")
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
    moment = now_naive(now)
    authorize(db, actor, Action.CANCEL_INFUSION, entity="infusion", entity_id=infusion_id, now=moment)
    p = Problems()
    reason_text = text_field(p, "reason", reason, required=True, label="Reason")
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
