"""Load what the morning huddle needs for one day, with a fixed handful of targeted queries.

Only the patients with a live infusion that day are read: one query finds their ids, then one query per
table (patients, courses, infusions, assessments, suicide reviews) fetches their rows with ``IN (...)``
over those ids — never a whole table, so the cost follows the day's list, not the clinic's size — and
only for the patients whose records changed since this process last read them
(:mod:`kdash.storage.record_cache`). The screening comes from the stored summary where it covers the
day, else from the answers and decisions. Rows are read as plain tuples through the connection (Core:
no ORM per-row work) and turned into :mod:`kdash.domain.records` records — here and nowhere else; the
huddle service (:mod:`kdash.services.huddle`) hands them to the pure :func:`kdash.rules.huddle.build_huddle`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import (
    AssessmentRec,
    CourseRec,
    InfusionRec,
    PatientContext,
    PatientRec,
    SuicideReviewRec,
)
from kdash.domain.vocab import (
    CourseStatus,
    Indication,
    InfusionStatus,
    PatientStatus,
    Sex,
    SuicideReviewAction,
    TrialOutcome,
)
from kdash.storage import record_cache, screening_summary
from kdash.storage.models import (
    Assessment,
    Course,
    Infusion,
    Patient,
    SuicideReview,
    live_infusion_clause,
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


# Code → enum member by dict look-up: calling the enum costs several times more, once per row.
_SEX = {m.value: m for m in Sex}
_PATIENT_STATUS = {m.value: m for m in PatientStatus}
_INFUSION_STATUS = {m.value: m for m in InfusionStatus}
_COURSE_STATUS = {m.value: m for m in CourseStatus}
_TRIAL_OUTCOME = {m.value: m for m in TrialOutcome}
_INDICATION = {m.value: m for m in Indication}
_REVIEW_ACTION = {m.value: m for m in SuicideReviewAction}


#: The patient columns a :class:`PatientRec` is made of (:func:`patient_rec`).
PATIENT_COLUMNS = (
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
)


def booked_patient_ids(session: Session, day: date) -> list[int]:
    """Ids of the (not deleted) patients with a scheduled or completed infusion on ``day``.

    Datetimes are stored naive in the clinic's time zone (kdash.storage.models), so the day is a plain range.
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
        row.id,
        row.mrn,
        row.first_name,
        row.last_name,
        row.date_of_birth,
        _SEX[row.sex],
        _INDICATION[row.indication],
        row.provider,
        _PATIENT_STATUS[row.status],
        row.escort_name,
        row.escort_phone,
    )


def load_records(session: Session, ids: Sequence[int]) -> dict[int, PatientContext]:
    """Each (not deleted) patient's record — courses with their infusions, every live score, suicide
    reviews — without the screening, keyed by id: the part :mod:`kdash.storage.record_cache` keeps.

    Rows are unpacked by position into the records (same column order), with the codes looked up in
    dicts: at hundreds of patients the per-row cost is what a huddle's time is made of.
    """
    if not ids:
        return {}
    conn = session.connection()

    patients = {
        row.id: patient_rec(row)
        for row in conn.execute(
            select(*PATIENT_COLUMNS).where(Patient.id.in_(ids), Patient.deleted_at.is_(None))
        ).all()
    }

    infusions: dict[int, list[InfusionRec]] = defaultdict(list)
    for iid, course_id, number, at, status, *session_fields in conn.execute(
        select(*_INFUSION_COLUMNS)
        .join(Course, Course.id == Infusion.course_id)
        .where(Course.patient_id.in_(ids))
        .order_by(Infusion.scheduled_at, Infusion.id)
    ).all():
        infusions[course_id].append(
            InfusionRec(iid, course_id, number, at, _INFUSION_STATUS[status], *session_fields)
        )

    courses: dict[int, list[CourseRec]] = defaultdict(list)
    for cid, pid, number, indication, outcome, status, started_on in conn.execute(
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
    ).all():
        courses[pid].append(
            CourseRec(
                cid,
                pid,
                number,
                _INDICATION[indication],
                _TRIAL_OUTCOME[outcome],
                _COURSE_STATUS[status],
                started_on,
                tuple(infusions.get(cid, ())),
            )
        )

    assessments: dict[int, list[AssessmentRec]] = defaultdict(list)
    for aid, pid, instrument, score, taken_on, item9 in conn.execute(
        select(
            Assessment.id,
            Assessment.patient_id,
            Assessment.instrument,
            Assessment.score,
            Assessment.taken_on,
            Assessment.item9,
        )
        .where(Assessment.patient_id.in_(ids), Assessment.deleted_at.is_(None))
        .order_by(Assessment.taken_on, Assessment.id)
    ).all():
        assessments[pid].append(AssessmentRec(instrument, score, taken_on, item9, aid))

    reviews: dict[int, list[SuicideReviewRec]] = defaultdict(list)
    for pid, reviewed_on, reviewed_by, action, note in conn.execute(
        select(
            SuicideReview.patient_id,
            SuicideReview.reviewed_on,
            SuicideReview.reviewed_by,
            SuicideReview.action,
            SuicideReview.note,
        )
        .where(SuicideReview.patient_id.in_(ids))
        .order_by(SuicideReview.reviewed_on, SuicideReview.id)
    ).all():
        reviews[pid].append(SuicideReviewRec(reviewed_on, reviewed_by, _REVIEW_ACTION[action], note))

    return {
        pid: PatientContext(
            patient=patient,
            courses=tuple(courses.get(pid, ())),
            assessments=tuple(assessments.get(pid, ())),
            suicide_reviews=tuple(reviews.get(pid, ())),
        )
        for pid, patient in patients.items()
    }


def load_contexts(
    session: Session,
    day: date,
    patient_ids: Sequence[int] | None = None,
    *,
    settings: ClinicPolicy | None = None,
) -> list[PatientContext]:
    """The :class:`PatientContext` of every patient booked on ``day`` (or of ``patient_ids``), with the
    scores up to ``day``.

    The records come through :func:`kdash.storage.record_cache.records` (reused while the patient's
    version token is unchanged). With ``settings``, a patient whose stored screening summary holds on
    ``day`` (same item classes, nothing recorded after ``day``) gets it as ``screening`` and their
    answers are not read; the others' answers are read and judged by the rules as before.
    """
    ids = list(patient_ids) if patient_ids is not None else booked_patient_ids(session, day)
    if not ids:
        return []
    records = record_cache.records(session, ids, load_records)
    judged = screening_summary.stored(session, ids, settings, day) if settings is not None else {}
    unjudged = [pid for pid in ids if pid not in judged]
    items, decisions = screening_summary.load_answers(session, unjudged) if unjudged else ({}, {})

    out = []
    for pid in ids:
        ctx = records.get(pid)
        if ctx is None:
            continue
        scores = ctx.assessments
        if day < date.max and scores and scores[-1].taken_on > day:
            scores = tuple(a for a in scores if a.taken_on <= day)
        out.append(
            PatientContext(
                patient=ctx.patient,
                screening_items=tuple(items.get(pid, ())),
                screening_decisions=tuple(decisions.get(pid, ())),
                courses=ctx.courses,
                assessments=scores,
                suicide_reviews=ctx.suicide_reviews,
                screening=judged.get(pid),
            )
        )
    return out
