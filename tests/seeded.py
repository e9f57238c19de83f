"""Synthetic rows in a real database: the one place tests put patients, screenings, courses, infusions
and scores into one.

Written straight through the ORM (not the services) so that the services' own tests start from known
rows; every builder below goes through :func:`insert_patient`, :func:`insert_screening`,
:func:`insert_course`, :func:`insert_infusion` and :func:`insert_score`. Names and MRNs are invented.
For plain records without a database, see :mod:`tests.records`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

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
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import (
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
)

#: A Monday: "today" of the booking, planner-page and CLI tests.
BOOKING_TODAY = date(2026, 11, 23)
#: A Wednesday: "today" of :func:`build_clinic` unless a test says otherwise.
CLINIC_TODAY = date(2025, 3, 5)
CLINIC_NOW = datetime.combine(CLINIC_TODAY, time(7, 30))


# --- the one way each kind of row is inserted -----------------------------------------------------


def insert_patient(
    session: Session,
    mrn: str,
    *,
    first: str = "Test",
    last: str = "Patient",
    indication: Indication | str = Indication.DEPRESSION,
    sex: Sex = Sex.FEMALE,
    date_of_birth: date = date(1980, 1, 1),
    provider: str = "Dr Demo",
    escort_name: str | None = None,
    escort_phone: str | None = "555-0100",
) -> Patient:
    """An active synthetic patient, flushed so that its id is known."""
    patient = Patient(
        mrn=mrn,
        first_name=first,
        last_name=last,
        date_of_birth=date_of_birth,
        sex=sex.value,
        indication=Indication(indication).value,
        provider=provider,
        status=PatientStatus.ACTIVE.value,
        escort_name=escort_name,
        escort_phone=escort_phone,
    )
    session.add(patient)
    session.flush()
    return patient


def insert_screening(
    session: Session,
    patient_id: int,
    on: date,
    *,
    cleared: bool = True,
    overrides: dict[str, str] | None = None,
    recorded_by: str | None = "nurse",
    decided_by: str = "provider",
) -> None:
    """Every item answered the 'good' way on ``on`` (required yes, contraindications no) unless
    ``overrides`` says otherwise, and with ``cleared`` the provider's decision that day."""
    overrides = overrides or {}
    for code, (_, cls, _) in SCREENING_ITEMS.items():
        default = ScreeningResult.YES if cls is ItemClass.REQUIRED else ScreeningResult.NO
        session.add(
            ScreeningItem(
                patient_id=patient_id,
                item=code,
                result=overrides.get(code, default.value),
                recorded_on=on,
                recorded_by=recorded_by,
            )
        )
    if cleared:
        session.add(
            ScreeningDecisionRow(
                patient_id=patient_id,
                decision=ScreeningDecision.CLEARED.value,
                decided_on=on,
                decided_by=decided_by,
            )
        )


def insert_course(
    session: Session,
    patient_id: int,
    *,
    indication: Indication | str = Indication.DEPRESSION,
    outcome: TrialOutcome = TrialOutcome.BENEFIT,
    status: CourseStatus = CourseStatus.ACTIVE,
    started: date | None = None,
    number: int = 1,
) -> Course:
    """A course of the patient, flushed so that its id is known."""
    course = Course(
        patient_id=patient_id,
        number=number,
        indication=Indication(indication).value,
        trial_outcome=outcome.value,
        status=status.value,
        started_on=started,
    )
    session.add(course)
    session.flush()
    return course


def insert_infusion(
    session: Session,
    course_id: int,
    number: int,
    at: datetime,
    status: InfusionStatus = InfusionStatus.COMPLETED,
    chair: int = 1,
    *,
    escort: bool | None = None,
    vitals: bool = False,
) -> Infusion:
    """An infusion of the course; with ``vitals`` a completed one carries a calm session record."""
    done = vitals and status is InfusionStatus.COMPLETED
    infusion = Infusion(
        course_id=course_id,
        number=number,
        scheduled_at=at,
        chair=chair,
        status=status.value,
        escort_confirmed=escort,
        dose_mg_per_kg=0.5 if done else None,
        premed_given=True if done else None,
        bp_pre_sys=128 if done else None,
        bp_pre_dia=82 if done else None,
        bp_peak_sys=142 if done else None,
        bp_peak_dia=88 if done else None,
        bp_discharge_sys=126 if done else None,
        bp_discharge_dia=80 if done else None,
        heart_rate=72 if done else None,
        spo2=98 if done else None,
        discharged_at=at + timedelta(hours=2) if done else None,
    )
    session.add(infusion)
    session.flush()
    return infusion


def insert_score(
    session: Session, patient_id: int, instrument: str, score: int, on: date, item9: int | None = None
) -> None:
    """One assessment of the patient."""
    session.add(
        Assessment(
            patient_id=patient_id, instrument=instrument, score=score, item9=item9, taken_on=on, source="demo"
        )
    )


# --- a patient or a clinic in one call ----------------------------------------------------------


def seed_patient(
    session: Session,
    mrn: str,
    first: str = "Test",
    last: str = "Patient",
    *,
    escort: str | None = None,
    course: bool = True,
) -> tuple[int, int | None]:
    """A synthetic patient (with one active course unless told not to); returns (patient id, course id)."""
    patient = insert_patient(
        session,
        mrn,
        first=first,
        last=last,
        date_of_birth=date(1980, 5, 17),
        provider="Dr A. Demo",
        escort_name=escort,
    )
    if not course:
        return patient.id, None
    return patient.id, insert_course(session, patient.id, started=date(2026, 11, 2)).id


def seed_cleared_patient(
    session: Session,
    mrn: str,
    first: str = "Test",
    last: str = "Patient",
    *,
    escort: str | None = None,
    trial_given_on: object = None,
) -> int:
    """A patient with a cleared screening and an active course; returns the course id.

    With ``trial_given_on`` (a datetime) the trial infusion is completed then, chair 1, and the
    provider recorded ``benefit``: the course may take nine more infusions.
    """
    patient_id, course_id = seed_patient(session, mrn, first, last, escort=escort)
    assert course_id is not None
    insert_screening(session, patient_id, date(2026, 11, 2), decided_by="dr")
    course = session.get(Course, course_id)
    assert course is not None
    if isinstance(trial_given_on, datetime):
        insert_infusion(session, course_id, 1, trial_given_on)
        course.trial_outcome = TrialOutcome.BENEFIT.value
    else:
        course.trial_outcome = TrialOutcome.PENDING.value
    session.flush()
    return course_id


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
    """A patient with one active course, in its own transaction; returns (patient id, course id).

    ``trial_at`` books a completed trial on ``trial_chair``; ``extra_live`` adds completed infusions
    2.. on 2, 3, … January of the trial's year (to fill the course toward ten).
    """
    with db.write() as s:
        patient = insert_patient(s, mrn, last=f"Patient {mrn}", provider="Dr Synthetic", escort_phone=None)
        insert_screening(
            s, patient.id, screened_on, cleared=cleared, recorded_by=None, decided_by="Dr Synthetic"
        )
        course = insert_course(s, patient.id, outcome=outcome)
        if trial_at is not None:
            insert_infusion(s, course.id, 1, trial_at, chair=trial_chair)
            for n in range(2, 2 + extra_live):
                insert_infusion(s, course.id, n, datetime(trial_at.year, 1, n, 9), chair=2)
        return patient.id, course.id


@dataclass
class Clinic:
    """Ids of the patients and courses built, by the state they illustrate."""

    ids: dict[str, int]
    courses: dict[str, int]
    infusions: dict[str, int]


def build_clinic(db: Database, today: date = CLINIC_TODAY) -> Clinic:
    """Six patients around ``today``, one in each state the pages and services must handle; the huddle
    of ``today`` holds three of them."""
    ids: dict[str, int] = {}
    courses: dict[str, int] = {}
    infusions: dict[str, int] = {}

    def at(d: date, h: int) -> datetime:
        return datetime.combine(d, time(h, 0))

    def person(s: Session, mrn: str, last: str, indication: Indication) -> Patient:
        return insert_patient(
            s, mrn, first="Sam", last=last, indication=indication, sex=Sex.UNKNOWN, escort_name="Alex Escort"
        )

    def course(s: Session, p: Patient, outcome: TrialOutcome) -> Course:
        return insert_course(
            s, p.id, indication=p.indication, outcome=outcome, started=today - timedelta(days=30)
        )

    def infusion(s: Session, c: Course, n: int, when: datetime, status: InfusionStatus, chair: int) -> int:
        return insert_infusion(s, c.id, n, when, status, chair, escort=True, vitals=True).id

    with db.write() as s:
        # On course, trial helped, infusion 4 booked today at 08:00.
        p = person(s, "D0001", "Ashford", Indication.DEPRESSION)
        ids["on_course"] = p.id
        insert_screening(s, p.id, today - timedelta(days=40))
        c = course(s, p, TrialOutcome.BENEFIT)
        courses["on_course"] = c.id
        for n, days in ((1, 21), (2, 14), (3, 7)):
            infusion(s, c, n, at(today - timedelta(days=days), 8), InfusionStatus.COMPLETED, 1)
        infusions["today"] = infusion(s, c, 4, at(today, 8), InfusionStatus.SCHEDULED, 1)
        for score, days in ((20, 22), (12, 20), (10, 13), (9, 6), (8, 1)):
            insert_score(s, p.id, "PHQ-9", score, today - timedelta(days=days), item9=0)

        # Pain course holding ten: nine done, the tenth booked today.
        p = person(s, "D0002", "Brook", Indication.CRPS)
        ids["full_course"] = p.id
        insert_screening(s, p.id, today - timedelta(days=80))
        c = course(s, p, TrialOutcome.BENEFIT)
        courses["full_course"] = c.id
        for n in range(1, 10):
            infusion(s, c, n, at(today - timedelta(days=7 * (10 - n)), 10), InfusionStatus.COMPLETED, 2)
        infusions["tenth"] = infusion(s, c, 10, at(today, 10), InfusionStatus.SCHEDULED, 2)
        for score, days in ((8, 64), (5, 50), (4, 30), (3, 2)):
            insert_score(s, p.id, "NRS", score, today - timedelta(days=days))

        # Not screened at all.
        ids["not_screened"] = person(s, "D0003", "Carver", Indication.FIBROMYALGIA).id

        # Relative contraindication, no decision yet: needs review.
        p = person(s, "D0004", "Dunmore", Indication.PTSD)
        ids["needs_review"] = p.id
        insert_screening(s, p.id, today - timedelta(days=3), cleared=False, overrides={"arrhythmia": "yes"})

        # Trial booked today at 08:00, positive item 9 two days ago and no review: SUICIDE_RISK.
        p = person(s, "D0005", "Ellery", Indication.DEPRESSION)
        ids["suicide_risk"] = p.id
        insert_screening(s, p.id, today - timedelta(days=10))
        c = course(s, p, TrialOutcome.PENDING)
        courses["suicide_risk"] = c.id
        infusions["trial_today"] = infusion(s, c, 1, at(today, 8), InfusionStatus.SCHEDULED, 3)
        insert_score(s, p.id, "PHQ-9", 21, today - timedelta(days=2), item9=2)

        # Trial done a week ago, outcome still pending, PHQ-9 dropped from 18 to 7.
        p = person(s, "D0006", "Fairley", Indication.DEPRESSION)
        ids["trial_pending"] = p.id
        insert_screening(s, p.id, today - timedelta(days=20))
        c = course(s, p, TrialOutcome.PENDING)
        courses["trial_pending"] = c.id
        infusions["trial_done"] = infusion(
            s, c, 1, at(today - timedelta(days=7), 9), InfusionStatus.COMPLETED, 3
        )
        insert_score(s, p.id, "PHQ-9", 18, today - timedelta(days=8), item9=0)
        insert_score(s, p.id, "PHQ-9", 7, today - timedelta(days=5), item9=0)
    return Clinic(ids, courses, infusions)


# --- whole databases --------------------------------------------------------------------------------


def sqlite_template(path: Path, fill: Callable[[Session], object]) -> Path:
    """A migrated SQLite file at ``path`` holding what ``fill`` writes, made once and then copied by each
    example of a property test (migrating a fresh database per example would dominate its time)."""
    if not path.exists():
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with Database(engine=engine).write() as session:
            fill(session)
        engine.dispose()
    return path
