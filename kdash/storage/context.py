"""Build the plain records the rules work on from the database, for one patient or many at once.

Many patients are loaded with one query per table (``WHERE patient_id IN …`` in chunks), never one query
per patient, so the roster of a large clinic costs a handful of round trips.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
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
from kdash.rules.huddle import PatientContext
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

#: Bound parameters per IN list: well under SQLite's 32,766 and PostgreSQL's 65,535 limits.
_CHUNK = 900

_INFUSION_FIELDS = (
    "chair",
    "dose_mg_per_kg",
    "premed_given",
    "bp_pre_sys",
    "bp_pre_dia",
    "bp_peak_sys",
    "bp_peak_dia",
    "bp_discharge_sys",
    "bp_discharge_dia",
    "heart_rate",
    "spo2",
    "escort_confirmed",
    "adverse_events",
    "discharged_at",
)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def patient_rec(row: Any) -> PatientRec:
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


def infusion_rec(row: Any) -> InfusionRec:
    return InfusionRec(
        id=row.id,
        course_id=row.course_id,
        number=row.number,
        scheduled_at=row.scheduled_at,
        status=InfusionStatus(row.status),
        **{name: getattr(row, name) for name in _INFUSION_FIELDS},
    )


def course_rec(row: Any, infusions: Sequence[InfusionRec]) -> CourseRec:
    return CourseRec(
        id=row.id,
        patient_id=row.patient_id,
        number=row.number,
        indication=Indication(row.indication),
        trial_outcome=TrialOutcome(row.trial_outcome),
        status=CourseStatus(row.status),
        started_on=row.started_on,
        infusions=tuple(sorted(infusions, key=lambda i: (i.number, i.scheduled_at, i.id))),
    )


def load_contexts(session: Session, patient_ids: Sequence[int]) -> dict[int, PatientContext]:
    """The rules' view of each patient (deleted assessments left out), keyed by patient id."""
    ids = sorted(set(patient_ids))
    patients: dict[int, PatientRec] = {}
    items: dict[int, list[ScreeningItemRec]] = defaultdict(list)
    decisions: dict[int, list[ScreeningDecisionRec]] = defaultdict(list)
    course_rows: dict[int, list[Any]] = defaultdict(list)
    infusions: dict[int, list[InfusionRec]] = defaultdict(list)
    scores: dict[int, list[AssessmentRec]] = defaultdict(list)
    reviews: dict[int, list[SuicideReviewRec]] = defaultdict(list)
    for chunk in _chunks(ids):
        for row in session.execute(select(Patient.__table__).where(Patient.id.in_(chunk))):
            patients[row.id] = patient_rec(row)
        for row in session.execute(
            select(ScreeningItem.__table__)
            .where(ScreeningItem.patient_id.in_(chunk))
            .order_by(ScreeningItem.recorded_on, ScreeningItem.id)
        ):
            items[row.patient_id].append(
                ScreeningItemRec(row.item, ScreeningResult(row.result), row.recorded_on, row.note)
            )
        for row in session.execute(
            select(ScreeningDecisionRow.__table__)
            .where(ScreeningDecisionRow.patient_id.in_(chunk))
            .order_by(ScreeningDecisionRow.decided_on, ScreeningDecisionRow.id)
        ):
            decisions[row.patient_id].append(
                ScreeningDecisionRec(ScreeningDecision(row.decision), row.decided_on, row.decided_by)
            )
        for row in session.execute(select(Course.__table__).where(Course.patient_id.in_(chunk))):
            course_rows[row.patient_id].append(row)
        for row in session.execute(
            select(Infusion.__table__)
            .join(Course, Course.id == Infusion.course_id)
            .where(Course.patient_id.in_(chunk))
        ):
            infusions[row.course_id].append(infusion_rec(row))
        for row in session.execute(
            select(Assessment.__table__)
            .where(Assessment.patient_id.in_(chunk), Assessment.deleted_at.is_(None))
            .order_by(Assessment.taken_on, Assessment.id)
        ):
            scores[row.patient_id].append(
                AssessmentRec(row.instrument, row.score, row.taken_on, row.item9, row.id)
            )
        for row in session.execute(
            select(SuicideReview.__table__)
            .where(SuicideReview.patient_id.in_(chunk))
            .order_by(SuicideReview.reviewed_on, SuicideReview.id)
        ):
            reviews[row.patient_id].append(
                SuicideReviewRec(row.reviewed_on, row.reviewed_by, SuicideReviewAction(row.action), row.note)
            )
    out: dict[int, PatientContext] = {}
    for pid, patient in patients.items():
        courses = tuple(
            sorted(
                (course_rec(c, infusions.get(c.id, [])) for c in course_rows.get(pid, [])),
                key=lambda c: c.number,
            )
        )
        out[pid] = PatientContext(
            patient=patient,
            screening_items=tuple(items.get(pid, [])),
            screening_decisions=tuple(decisions.get(pid, [])),
            courses=courses,
            assessments=tuple(scores.get(pid, [])),
            suicide_reviews=tuple(reviews.get(pid, [])),
        )
    return out


def load_context(session: Session, patient_id: int) -> PatientContext | None:
    return load_contexts(session, [patient_id]).get(patient_id)
