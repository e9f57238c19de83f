"""A small synthetic clinic with one patient in each state the pages and services must handle.

Written straight through the ORM (not the services) so that the services' own tests start from known
rows. Names and MRNs are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kdash.domain.vocab import (
    SCREENING_ITEMS,
    CourseStatus,
    Indication,
    InfusionStatus,
    ItemClass,
    PatientStatus,
    ScreeningDecision,
    ScreeningResult,
    TrialOutcome,
)
from kdash.storage.database import Database
from kdash.storage.models import (
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
)

#: A Wednesday: every test runs "today" on this day unless it says otherwise.
TODAY = date(2025, 3, 5)
NOW = datetime.combine(TODAY, time(7, 30))


@dataclass
class Clinic:
    """Ids of the patients and courses built, by the state they illustrate."""

    ids: dict[str, int]
    courses: dict[str, int]
    infusions: dict[str, int]


def _patient(session, mrn: str, last: str, indication: Indication) -> Patient:
    p = Patient(
        mrn=mrn,
        first_name="Sam",
        last_name=last,
        date_of_birth=date(1980, 1, 1),
        sex="unknown",
        indication=indication.value,
        provider="Dr Demo",
        status=PatientStatus.ACTIVE.value,
        escort_name="Alex Escort",
        escort_phone="555-0100",
    )
    session.add(p)
    session.flush()
    return p


def _screen(
    session, patient: Patient, on: date, *, cleared: bool = True, overrides: dict[str, str] | None = None
) -> None:
    overrides = overrides or {}
    for code, (_, cls, _) in SCREENING_ITEMS.items():
        default = ScreeningResult.YES if cls is ItemClass.REQUIRED else ScreeningResult.NO
        session.add(
            ScreeningItem(
                patient_id=patient.id,
                item=code,
                result=overrides.get(code, default.value),
                recorded_on=on,
                recorded_by="nurse",
            )
        )
    if cleared:
        session.add(
            ScreeningDecisionRow(
                patient_id=patient.id,
                decision=ScreeningDecision.CLEARED.value,
                decided_on=on,
                decided_by="provider",
            )
        )


def _course(
    session, patient: Patient, *, outcome: TrialOutcome, status: CourseStatus, started: date, number: int = 1
) -> Course:
    c = Course(
        patient_id=patient.id,
        number=number,
        indication=patient.indication,
        trial_outcome=outcome.value,
        status=status.value,
        started_on=started,
    )
    session.add(c)
    session.flush()
    return c


def _infusion(
    session,
    course: Course,
    number: int,
    at: datetime,
    status: InfusionStatus,
    chair: int,
    *,
    escort: bool | None = True,
) -> Infusion:
    done = status is InfusionStatus.COMPLETED
    inf = Infusion(
        course_id=course.id,
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
    session.add(inf)
    session.flush()
    return inf


def _score(
    session, patient: Patient, instrument: str, score: int, on: date, item9: int | None = None
) -> None:
    session.add(
        Assessment(
            patient_id=patient.id, instrument=instrument, score=score, item9=item9, taken_on=on, source="demo"
        )
    )


def build_clinic(db: Database, today: date = TODAY) -> Clinic:
    """Six patients around ``today`` (TODAY is a Wednesday); the huddle of ``today`` holds three of them."""
    TODAY = today
    ids: dict[str, int] = {}
    courses: dict[str, int] = {}
    infusions: dict[str, int] = {}
    at = lambda d, h: datetime.combine(d, time(h, 0))  # noqa: E731
    with db.write() as s:
        # On course, trial helped, infusion 4 booked today at 08:00.
        p = _patient(s, "D0001", "Ashford", Indication.DEPRESSION)
        ids["on_course"] = p.id
        _screen(s, p, TODAY - timedelta(days=40))
        c = _course(
            s, p, outcome=TrialOutcome.BENEFIT, status=CourseStatus.ACTIVE, started=TODAY - timedelta(days=30)
        )
        courses["on_course"] = c.id
        for n, days in ((1, 21), (2, 14), (3, 7)):
            _infusion(s, c, n, at(TODAY - timedelta(days=days), 8), InfusionStatus.COMPLETED, 1)
        infusions["today"] = _infusion(s, c, 4, at(TODAY, 8), InfusionStatus.SCHEDULED, 1).id
        for score, days in ((20, 22), (12, 20), (10, 13), (9, 6), (8, 1)):
            _score(s, p, "PHQ-9", score, TODAY - timedelta(days=days), item9=0)

        # Pain course holding ten: nine done, the tenth booked today.
        p = _patient(s, "D0002", "Brook", Indication.CRPS)
        ids["full_course"] = p.id
        _screen(s, p, TODAY - timedelta(days=80))
        c = _course(
            s, p, outcome=TrialOutcome.BENEFIT, status=CourseStatus.ACTIVE, started=TODAY - timedelta(days=30)
        )
        courses["full_course"] = c.id
        for n in range(1, 10):
            day = TODAY - timedelta(days=7 * (10 - n))
            _infusion(s, c, n, at(day, 10), InfusionStatus.COMPLETED, 2)
        infusions["tenth"] = _infusion(s, c, 10, at(TODAY, 10), InfusionStatus.SCHEDULED, 2).id
        for score, days in ((8, 64), (5, 50), (4, 30), (3, 2)):
            _score(s, p, "NRS", score, TODAY - timedelta(days=days))

        # Not screened at all.
        p = _patient(s, "D0003", "Carver", Indication.FIBROMYALGIA)
        ids["not_screened"] = p.id

        # Relative contraindication, no decision yet: needs review.
        p = _patient(s, "D0004", "Dunmore", Indication.PTSD)
        ids["needs_review"] = p.id
        _screen(s, p, TODAY - timedelta(days=3), cleared=False, overrides={"arrhythmia": "yes"})

        # Trial booked today at 08:00, positive item 9 two days ago and no review: SUICIDE_RISK.
        p = _patient(s, "D0005", "Ellery", Indication.DEPRESSION)
        ids["suicide_risk"] = p.id
        _screen(s, p, TODAY - timedelta(days=10))
        c = _course(
            s, p, outcome=TrialOutcome.PENDING, status=CourseStatus.ACTIVE, started=TODAY - timedelta(days=30)
        )
        courses["suicide_risk"] = c.id
        infusions["trial_today"] = _infusion(s, c, 1, at(TODAY, 8), InfusionStatus.SCHEDULED, 3).id
        _score(s, p, "PHQ-9", 21, TODAY - timedelta(days=2), item9=2)

        # Trial done a week ago, outcome still pending, PHQ-9 dropped from 18 to 7.
        p = _patient(s, "D0006", "Fairley", Indication.DEPRESSION)
        ids["trial_pending"] = p.id
        _screen(s, p, TODAY - timedelta(days=20))
        c = _course(
            s, p, outcome=TrialOutcome.PENDING, status=CourseStatus.ACTIVE, started=TODAY - timedelta(days=30)
        )
        courses["trial_pending"] = c.id
        infusions["trial_done"] = _infusion(
            s, c, 1, at(TODAY - timedelta(days=7), 9), InfusionStatus.COMPLETED, 3
        ).id
        _score(s, p, "PHQ-9", 18, TODAY - timedelta(days=8), item9=0)
        _score(s, p, "PHQ-9", 7, TODAY - timedelta(days=5), item9=0)
    return Clinic(ids, courses, infusions)
