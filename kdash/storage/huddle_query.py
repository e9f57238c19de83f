"""Load what the morning huddle needs for one day, with a fixed handful of targeted queries.

Only the patients with a live infusion that day are read: one query finds their ids, then one query per
table (patients, courses, infusions, assessments, screening answers, decisions, suicide reviews) fetches
their rows with ``IN (...)`` over those ids — never a whole table, so the cost follows the day's list,
not the clinic's size. Rows are read as plain tuples through the connection (Core: no ORM per-row
work) and turned into :mod:`kdash.records` records; the pure :func:`kdash.rules.huddle.build_huddle`
does the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.models import (
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
    SuicideReview,
    live_infusion_clause,
)
from kdash.records import (
    AssessmentRec,
    CourseRec,
    InfusionRec,
    PatientRec,
    ScreeningDecisionRec,
    ScreeningItemRec,
    SuicideReviewRec,
)
from kdash.rules.huddle import Huddle, PatientContext, build_huddle
from kdash.settings import ClinicSettings
from kdash.storage.settings_repo import load_settings
from kdash.vocab import (
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

_INFUSION_COLUMNS = (
    Infusion.id,
    Infusion.course_id,
    Infusion.number,
    Infusion.scheduled_at,
    Infusion.status,
    Infusion.chair,
    Infusion.dose_mg_per_kg,
    Infusion.premed_given,
    Infusion.bp_pre_sys,
    Infusion.bp_pre_dia,
    Infusion.bp_peak_sys,
    Infusion.bp_peak_dia,
    Infusion.bp_discharge_sys,
    Infusion.bp_discharge_dia,
    Infusion.heart_rate,
    Infusion.spo2,
    Infusion.escort_confirmed,
    Infusion.adverse_events,
    Infusion.discharged_at,
)


def booked_patient_ids(session: Session, day: date) -> list[int]:
    """Ids of the (not deleted) patients with a scheduled or completed infusion on ``day``.

    Datetimes are stored naive in the clinic's time zone (kdash.models), so the day is a plain range.
    """
    start = datetime.combine(day, time())
    stmt = (
        select(Course.patient_id)
        .join(Infusion, Infusion.course_id == Course.id)
        .join(Patient, Patient.id == Course.patient_id)
        .where(
            Infusion.scheduled_at >= start,
            Infusion.scheduled_at < start + timedelta(days=1),
            live_infusion_clause(),  # type: ignore[arg-type]
            Patient.deleted_at.is_(None),
        )
        .distinct()
    )
    return sorted(session.scalars(stmt))


def patient_rec(row: Any) -> PatientRec:
    """A :class:`PatientRec` from a row of the patient table (an ORM object or a plain row)."""
    return PatientRec(
        id=row.id,
        mrn=row.mrn,
        first_name=row.first_name,
        last_name=row.last_name,
        date_of_birth=row.date_of_birth,
        sex=Sex(row.sex),
        indication=Indication(row.indication),
        provider=row.provider,
        status=PatientStatus(row.status),
        escort_name=row.escort_name,
        escort_phone=row.escort_phone,
    )


def load_contexts(
    session: Session, day: date, patient_ids: Sequence[int] | None = None
) -> list[PatientContext]:
    """The :class:`PatientContext` of every patient booked on ``day`` (or of ``patient_ids``)."""
    ids = list(patient_ids) if patient_ids is not None else booked_patient_ids(session, day)
    if not ids:
        return []

    patients = {
        row.id: patient_rec(row)
        for row in session.connection().execute(
            select(
                Patient.id,
                Patient.mrn,
                Patient.first_name,
                Patient.last_name,
                Patient.date_of_birth,
                Patient.sex,
                Patient.indication,
                Patient.provider,
                Patient.status,
                Patient.escort_name,
                Patient.escort_phone,
            ).where(Patient.id.in_(ids), Patient.deleted_at.is_(None))
        )
    }

    infusions: dict[int, list[InfusionRec]] = defaultdict(list)
    for row in session.connection().execute(
        select(*_INFUSION_COLUMNS)
        .join(Course, Course.id == Infusion.course_id)
        .where(Course.patient_id.in_(ids))
        .order_by(Infusion.scheduled_at, Infusion.id)
    ):
        infusions[row.course_id].append(
            InfusionRec(
                id=row.id,
                course_id=row.course_id,
                number=row.number,
                scheduled_at=row.scheduled_at,
                status=InfusionStatus(row.status),
                chair=row.chair,
                dose_mg_per_kg=row.dose_mg_per_kg,
                premed_given=row.premed_given,
                bp_pre_sys=row.bp_pre_sys,
                bp_pre_dia=row.bp_pre_dia,
                bp_peak_sys=row.bp_peak_sys,
                bp_peak_dia=row.bp_peak_dia,
                bp_discharge_sys=row.bp_discharge_sys,
                bp_discharge_dia=row.bp_discharge_dia,
                heart_rate=row.heart_rate,
                spo2=row.spo2,
                escort_confirmed=row.escort_confirmed,
                adverse_events=row.adverse_events,
                discharged_at=row.discharged_at,
            )
        )

    courses: dict[int, list[CourseRec]] = defaultdict(list)
    for crow in session.connection().execute(
        select(
            Course.id,
            Course.patient_id,
            Course.number,
            Course.indication,
            Course.trial_outcome,
            Course.status,
            Course.started_on,
        )
        .where(Course.patient_id.in_(ids))
        .order_by(Course.number)
    ):
        courses[crow.patient_id].append(
            CourseRec(
                id=crow.id,
                patient_id=crow.patient_id,
                number=crow.number,
                indication=Indication(crow.indication),
                trial_outcome=TrialOutcome(crow.trial_outcome),
                status=CourseStatus(crow.status),
                started_on=crow.started_on,
                infusions=tuple(infusions.get(crow.id, ())),
            )
        )

    assessments: dict[int, list[AssessmentRec]] = defaultdict(list)
    for arow in session.connection().execute(
        select(
            Assessment.id,
            Assessment.patient_id,
            Assessment.instrument,
            Assessment.score,
            Assessment.taken_on,
            Assessment.item9,
        )
        .where(Assessment.patient_id.in_(ids), Assessment.deleted_at.is_(None), Assessment.taken_on <= day)
        .order_by(Assessment.taken_on, Assessment.id)
    ):
        assessments[arow.patient_id].append(
            AssessmentRec(
                instrument=arow.instrument,
                score=arow.score,
                taken_on=arow.taken_on,
                item9=arow.item9,
                id=arow.id,
            )
        )

    items: dict[int, list[ScreeningItemRec]] = defaultdict(list)
    for srow in session.connection().execute(
        select(
            ScreeningItem.patient_id,
            ScreeningItem.item,
            ScreeningItem.result,
            ScreeningItem.recorded_on,
            ScreeningItem.note,
        )
        .where(ScreeningItem.patient_id.in_(ids))
        .order_by(ScreeningItem.recorded_on, ScreeningItem.id)
    ):
        items[srow.patient_id].append(
            ScreeningItemRec(
                item=srow.item,
                result=ScreeningResult(srow.result),
                recorded_on=srow.recorded_on,
                note=srow.note,
            )
        )

    decisions: dict[int, list[ScreeningDecisionRec]] = defaultdict(list)
    for drow in session.connection().execute(
        select(
            ScreeningDecisionRow.patient_id,
            ScreeningDecisionRow.decision,
            ScreeningDecisionRow.decided_on,
            ScreeningDecisionRow.decided_by,
        )
        .where(ScreeningDecisionRow.patient_id.in_(ids))
        .order_by(ScreeningDecisionRow.decided_on, ScreeningDecisionRow.id)
    ):
        decisions[drow.patient_id].append(
            ScreeningDecisionRec(
                decision=ScreeningDecision(drow.decision),
                decided_on=drow.decided_on,
                decided_by=drow.decided_by,
            )
        )

    reviews: dict[int, list[SuicideReviewRec]] = defaultdict(list)
    for rrow in session.connection().execute(
        select(
            SuicideReview.patient_id,
            SuicideReview.reviewed_on,
            SuicideReview.reviewed_by,
            SuicideReview.action,
            SuicideReview.note,
        )
        .where(SuicideReview.patient_id.in_(ids))
        .order_by(SuicideReview.reviewed_on, SuicideReview.id)
    ):
        reviews[rrow.patient_id].append(
            SuicideReviewRec(
                reviewed_on=rrow.reviewed_on,
                reviewed_by=rrow.reviewed_by,
                action=SuicideReviewAction(rrow.action),
                note=rrow.note,
            )
        )

    return [
        PatientContext(
            patient=patients[pid],
            screening_items=tuple(items.get(pid, ())),
            screening_decisions=tuple(decisions.get(pid, ())),
            courses=tuple(courses.get(pid, ())),
            assessments=tuple(assessments.get(pid, ())),
            suicide_reviews=tuple(reviews.get(pid, ())),
        )
        for pid in ids
        if pid in patients
    ]


def huddle_for_day(session: Session, day: date, settings: ClinicSettings | None = None) -> Huddle:
    """The huddle of ``day`` from the database (settings: the clinic's stored ones by default)."""
    chosen = settings if settings is not None else load_settings(session)
    return build_huddle(day, load_contexts(session, day), chosen)
