"""Turn raw driver values and pandas cells into kdash's plain records.

The naive (pandas) and limit (raw driver) implementations read the same rows kdash reads but get them
in other shapes: SQLite hands back dates as ISO text and booleans as 0/1, pandas hands back ``Timestamp``,
``NaN`` and numpy integers. These converters make both into the records the rules take, so the three
implementations differ only in how they fetch, never in what they feed the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from kdash.domain.records import (
    AssessmentRec,
    CourseRec,
    InfusionRec,
    PatientRec,
    ScreeningDecisionRec,
    ScreeningItemRec,
    SuicideReviewRec,
)
from kdash.domain.vocab import (
    CourseStatus,
    Indication,
    InfusionStatus,
    PatientStatus,
    ScreeningDecision,
    ScreeningResult,
    Sex,
    SuicideReviewAction,
    TrialOutcome,
)
from kdash.storage.models import INFUSION_SESSION_FIELDS


def missing(value: Any) -> bool:
    """None, NaN or NaT: pandas spells a SQL NULL in several ways."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in {"NaTType", "NAType"}


def opt(value: Any) -> Any:
    return None if missing(value) else value


def as_int(value: Any) -> int | None:
    return None if missing(value) else int(value)


def as_float(value: Any) -> float | None:
    return None if missing(value) else float(value)


def as_bool(value: Any) -> bool | None:
    return None if missing(value) else bool(value)


def as_str(value: Any) -> str | None:
    return None if missing(value) else str(value)


def as_datetime(value: Any) -> datetime | None:
    if missing(value):
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, datetime.min.time())


def as_date(value: Any) -> date | None:
    if missing(value):
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        return value.date()
    return value  # type: ignore[no-any-return]


def patient(r: Mapping[str, Any]) -> PatientRec:
    return PatientRec(
        id=int(r["id"]),
        mrn=str(r["mrn"]),
        first_name=str(r["first_name"]),
        last_name=str(r["last_name"]),
        date_of_birth=as_date(r["date_of_birth"]),  # type: ignore[arg-type]
        sex=Sex(r["sex"]),
        indication=Indication(r["indication"]),
        provider=str(r["provider"]),
        status=PatientStatus(r["status"]),
        escort_name=as_str(r["escort_name"]),
        escort_phone=as_str(r["escort_phone"]),
    )


INFUSION_COLUMNS = ("id", "course_id", "number", "scheduled_at", "status", "chair", *INFUSION_SESSION_FIELDS)

PATIENT_COLUMNS = (
    "id",
    "mrn",
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "indication",
    "provider",
    "status",
    "escort_name",
    "escort_phone",
)

COURSE_COLUMNS = ("id", "patient_id", "number", "indication", "trial_outcome", "status", "started_on")


def infusion(r: Mapping[str, Any]) -> InfusionRec:
    return InfusionRec(
        id=int(r["id"]),
        course_id=int(r["course_id"]),
        number=int(r["number"]),
        scheduled_at=as_datetime(r["scheduled_at"]),  # type: ignore[arg-type]
        status=InfusionStatus(r["status"]),
        chair=as_int(r["chair"]),
        dose_mg_per_kg=as_float(r["dose_mg_per_kg"]),
        premed_given=as_bool(r["premed_given"]),
        bp_pre_sys=as_int(r["bp_pre_sys"]),
        bp_pre_dia=as_int(r["bp_pre_dia"]),
        bp_peak_sys=as_int(r["bp_peak_sys"]),
        bp_peak_dia=as_int(r["bp_peak_dia"]),
        bp_discharge_sys=as_int(r["bp_discharge_sys"]),
        bp_discharge_dia=as_int(r["bp_discharge_dia"]),
        heart_rate=as_int(r["heart_rate"]),
        spo2=as_int(r["spo2"]),
        escort_confirmed=as_bool(r["escort_confirmed"]),
        adverse_events=as_str(r["adverse_events"]),
        discharged_at=as_datetime(r["discharged_at"]),
    )


def course(r: Mapping[str, Any], infusions: tuple[InfusionRec, ...]) -> CourseRec:
    return CourseRec(
        id=int(r["id"]),
        patient_id=int(r["patient_id"]),
        number=int(r["number"]),
        indication=Indication(r["indication"]),
        trial_outcome=TrialOutcome(r["trial_outcome"]),
        status=CourseStatus(r["status"]),
        started_on=as_date(r["started_on"]),
        infusions=infusions,
    )


def assessment(r: Mapping[str, Any]) -> AssessmentRec:
    return AssessmentRec(
        instrument=str(r["instrument"]),
        score=int(r["score"]),
        taken_on=as_date(r["taken_on"]),  # type: ignore[arg-type]
        item9=as_int(r["item9"]),
        id=as_int(r["id"]),
    )


def screening_item(r: Mapping[str, Any]) -> ScreeningItemRec:
    return ScreeningItemRec(
        item=str(r["item"]),
        result=ScreeningResult(r["result"]),
        recorded_on=as_date(r["recorded_on"]),  # type: ignore[arg-type]
        note=as_str(r["note"]),
    )


def screening_decision(r: Mapping[str, Any]) -> ScreeningDecisionRec:
    return ScreeningDecisionRec(
        decision=ScreeningDecision(r["decision"]),
        decided_on=as_date(r["decided_on"]),  # type: ignore[arg-type]
        decided_by=str(r["decided_by"]),
    )


def suicide_review(r: Mapping[str, Any]) -> SuicideReviewRec:
    return SuicideReviewRec(
        reviewed_on=as_date(r["reviewed_on"]),  # type: ignore[arg-type]
        reviewed_by=str(r["reviewed_by"]),
        action=SuicideReviewAction(r["action"]),
        note=as_str(r["note"]),
    )
