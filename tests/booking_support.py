"""Synthetic patients and courses in a real database for the booking and CLI tests."""

from __future__ import annotations

from datetime import date, datetime

from kdash.domain.vocab import (
    SCREENING_ITEMS,
    CourseStatus,
    Indication,
    InfusionStatus,
    ItemClass,
    PatientStatus,
    ScreeningDecision,
    ScreeningResult,
    Sex,
    TrialOutcome,
)
from kdash.storage.database import Database
from kdash.storage.models import Course, Infusion, Patient, ScreeningDecisionRow, ScreeningItem

TODAY = date(2026, 11, 23)  # a Monday


def add_patient(
    db: Database,
    mrn: str,
    *,
    trial_at: datetime | None = None,
    outcome: TrialOutcome = TrialOutcome.BENEFIT,
    cleared: bool = True,
    screened_on: date = date(2026, 10, 1),
    extra_live: int = 0,
    trial_chair: int = 1,
) -> tuple[int, int]:
    """A patient with one active course; returns (patient id, course id).

    ``trial_at`` books a completed trial on ``trial_chair``; ``extra_live`` adds completed infusions
    2.. on 2, 3, … January of the trial's year (to fill the course toward ten).
    """
    with db.write() as s:
        patient = Patient(
            mrn=mrn,
            first_name="Test",
            last_name=f"Patient {mrn}",
            date_of_birth=date(1980, 1, 1),
            sex=Sex.FEMALE.value,
            indication=Indication.DEPRESSION.value,
            provider="Dr Synthetic",
            status=PatientStatus.ACTIVE.value,
        )
        s.add(patient)
        s.flush()
        for code, (_, cls, _) in SCREENING_ITEMS.items():
            answer = ScreeningResult.YES if cls is ItemClass.REQUIRED else ScreeningResult.NO
            s.add(
                ScreeningItem(patient_id=patient.id, item=code, result=answer.value, recorded_on=screened_on)
            )
        if cleared:
            s.add(
                ScreeningDecisionRow(
                    patient_id=patient.id,
                    decision=ScreeningDecision.CLEARED.value,
                    decided_on=screened_on,
                    decided_by="Dr Synthetic",
                )
            )
        course = Course(
            patient_id=patient.id,
            number=1,
            indication=Indication.DEPRESSION.value,
            trial_outcome=outcome.value,
            status=CourseStatus.ACTIVE.value,
        )
        s.add(course)
        s.flush()
        if trial_at is not None:
            s.add(
                Infusion(
                    course_id=course.id,
                    number=1,
                    scheduled_at=trial_at,
                    chair=trial_chair,
                    status=InfusionStatus.COMPLETED.value,
                )
            )
            for n in range(2, 2 + extra_live):
                s.add(
                    Infusion(
                        course_id=course.id,
                        number=n,
                        scheduled_at=datetime(trial_at.year, 1, n, 9),
                        chair=2,
                        status=InfusionStatus.COMPLETED.value,
                    )
                )
        return patient.id, course.id
