"""Plain, immutable records the rules work on.

The rules (instruments, screening, course, huddle flags, planner) take these and never a database
session or an ORM object: that keeps them pure, fast to test with Hypothesis, and usable from the CLI,
the pages and the benchmark alike. ``kdash.storage`` builds them from rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from kdash.domain.vocab import (
    LIVE_INFUSION_STATUSES,
    CourseStatus,
    Indication,
    InfusionStatus,
    PatientStatus,
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
    Sex,
    SuicideReviewAction,
    TrialOutcome,
)


@dataclass(frozen=True, slots=True)
class PatientRec:
    id: int
    mrn: str
    first_name: str
    last_name: str
    date_of_birth: date
    sex: Sex
    indication: Indication
    provider: str
    status: PatientStatus
    escort_name: str | None = None
    escort_phone: str | None = None

    @property
    def name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


@dataclass(frozen=True, slots=True)
class ScreeningItemRec:
    item: str
    result: ScreeningResult
    recorded_on: date
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ScreeningDecisionRec:
    decision: ScreeningDecision
    decided_on: date
    decided_by: str


@dataclass(frozen=True, slots=True)
class InfusionRec:
    id: int
    course_id: int
    number: int
    scheduled_at: datetime
    status: InfusionStatus
    chair: int | None = None
    dose_mg_per_kg: float | None = None
    premed_given: bool | None = None
    bp_pre_sys: int | None = None
    bp_pre_dia: int | None = None
    bp_peak_sys: int | None = None
    bp_peak_dia: int | None = None
    bp_discharge_sys: int | None = None
    bp_discharge_dia: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    escort_confirmed: bool | None = None
    adverse_events: str | None = None
    discharged_at: datetime | None = None

    @property
    def is_live(self) -> bool:
        """Counts toward ten and holds its number and chair (scheduled or completed)."""
        return self.status in LIVE_INFUSION_STATUSES

    @property
    def has_vitals(self) -> bool:
        return any(
            v is not None
            for v in (
                self.bp_pre_sys,
                self.bp_pre_dia,
                self.bp_peak_sys,
                self.bp_peak_dia,
                self.bp_discharge_sys,
                self.bp_discharge_dia,
            )
        )


@dataclass(frozen=True, slots=True)
class CourseRec:
    id: int
    patient_id: int
    number: int
    indication: Indication
    trial_outcome: TrialOutcome
    status: CourseStatus
    started_on: date | None = None
    infusions: tuple[InfusionRec, ...] = field(default_factory=tuple)

    @property
    def live_infusions(self) -> tuple[InfusionRec, ...]:
        return tuple(i for i in self.infusions if i.is_live)


@dataclass(frozen=True, slots=True)
class AssessmentRec:
    instrument: str
    score: int
    taken_on: date
    item9: int | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SuicideReviewRec:
    reviewed_on: date
    reviewed_by: str
    action: SuicideReviewAction
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ScreeningAssessment:
    """The screening's status, its reasons in words and its date (the provider decision's date): the
    judgement of :func:`kdash.rules.screening.screening_status`, also stored per patient."""

    status: ScreeningStatus
    reasons: tuple[str, ...]
    screened_on: date | None

    @property
    def cleared(self) -> bool:
        return self.status is ScreeningStatus.CLEARED


@dataclass(frozen=True, slots=True)
class PatientContext:
    """Everything the rules need about one patient, as plain records (the huddle, the patient page,
    the booking checks).

    ``screening`` is the screening already judged as of the huddle's day (the stored summary, when it
    covers that day); without it the rules judge ``screening_items`` and ``screening_decisions``.
    """

    patient: PatientRec
    screening_items: tuple[ScreeningItemRec, ...] = ()
    screening_decisions: tuple[ScreeningDecisionRec, ...] = ()
    courses: tuple[CourseRec, ...] = ()
    assessments: tuple[AssessmentRec, ...] = ()
    suicide_reviews: tuple[SuicideReviewRec, ...] = ()
    screening: ScreeningAssessment | None = None


@dataclass(frozen=True, slots=True)
class LiveBooking:
    """One live infusion already on the clinic's books (any patient).

    ``chair`` may be None for imported history: chairs are then given in start order (clinical-reference.md
    "Planning decisions"). ``minutes`` is the chair time it holds; None means the clinic's ``chair_minutes``.
    """

    start: datetime
    chair: int | None
    patient_id: int
    course_id: int
    minutes: int | None = None
