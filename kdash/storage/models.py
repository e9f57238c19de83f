"""The kdash data model (SQLAlchemy 2 typed ORM).

The schema itself refuses what can never be true, so that no importer, form or concurrent writer can
store it even by mistake: an infusion number outside 1..10, two live infusions with the same number in
a course (which with the 1..10 check caps a course at ten live infusions), two live bookings of one
chair whose chair times overlap, a score outside its instrument's range, a code outside its vocabulary, and
orphans (foreign keys, enforced on SQLite by ``PRAGMA foreign_keys=ON``).

Datetimes are naive clinic-local wall-clock times (the clinic's time zone is a setting); dates are
calendar dates in that zone.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    func,
    literal_column,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kdash.domain.limits import INFUSION_READINGS
from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    LIVE_INFUSION_STATUSES,
    MAX_INFUSIONS_PER_COURSE,
    PHQ9_ITEM9_RANGE,
    CourseStatus,
    Indication,
    InfusionStatus,
    Instrument,
    PatientStatus,
    Role,
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
    Sex,
    SuicideReviewAction,
    TrialOutcome,
    values,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _one_of(column: str, enum: type[StrEnum], *, nullable: bool = False) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values(enum))
    expr = f"{column} IN ({allowed})"
    if nullable:
        expr = f"{column} IS NULL OR {expr}"
    return CheckConstraint(expr, name=f"{column}_valid")


def _live_sql() -> str:
    return "status IN (" + ", ".join(f"'{s.value}'" for s in LIVE_INFUSION_STATUSES) + ")"


def _score_in_range_sql() -> str:
    """One CHECK over all instruments: each instrument's score within its published range."""
    parts = [
        f"(instrument = '{code.value}' AND score BETWEEN {lo} AND {hi})"
        for code, (lo, hi) in INSTRUMENT_RANGES.items()
    ]
    return " OR ".join(parts)


#: The active-patient condition as literal SQL: a partial index is only used by a query whose WHERE
#: says the same thing in the same words (SQLite does not match a bound parameter against the index's).
ACTIVE_PATIENT_SQL = f"deleted_at IS NULL AND status = '{PatientStatus.ACTIVE.value}'"


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (
        _one_of("sex", Sex),
        _one_of("indication", Indication),
        _one_of("status", PatientStatus),
        CheckConstraint("length(mrn) > 0", name="mrn_not_empty"),
        # MRNs are compared without regard to case (kdash.domain.identifiers; migration 0011).
        Index("uq_patient_mrn_lower", text("lower(mrn)"), unique=True),
        Index("ix_patient_name", "last_name", "first_name"),
        # The roster's page of active patients in name order, and its provider list (migration 0006).
        Index(
            "ix_patient_active_name",
            "last_name",
            "first_name",
            "mrn",
            sqlite_where=text(ACTIVE_PATIENT_SQL),
            postgresql_where=text(ACTIVE_PATIENT_SQL),
        ),
        Index(
            "ix_patient_active_provider",
            "provider",
            sqlite_where=text(ACTIVE_PATIENT_SQL),
            postgresql_where=text(ACTIVE_PATIENT_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
    indication: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=PatientStatus.ACTIVE.value)
    escort_name: Mapped[str | None] = mapped_column(String(120))
    escort_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now(), onupdate=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_reason: Mapped[str | None] = mapped_column(Text)

    courses: Mapped[list[Course]] = relationship(back_populates="patient", order_by="Course.number")
    assessments: Mapped[list[Assessment]] = relationship(back_populates="patient")
    screening_items: Mapped[list[ScreeningItem]] = relationship(back_populates="patient")
    screening_decisions: Mapped[list[ScreeningDecisionRow]] = relationship(back_populates="patient")


class ScreeningItem(Base):
    """One answer to one screening item; the latest answer per item counts (clinical-reference.md
    "Decisions")."""

    __tablename__ = "screening_item"
    __table_args__ = (
        _one_of("result", ScreeningResult),
        UniqueConstraint("patient_id", "item", "recorded_on", name="uq_screening_item_natural"),
        # A patient's answers in date order, read from the index alone (migration 0003).
        Index(
            "ix_screening_item_patient_answers", "patient_id", "recorded_on", "id", "item", "result", "note"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))
    recorded_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    patient: Mapped[Patient] = relationship(back_populates="screening_items")


class ScreeningDecisionRow(Base):
    """The provider's screening decision (who, when); the screening's date is this date."""

    __tablename__ = "screening_decision"
    __table_args__ = (
        _one_of("decision", ScreeningDecision),
        UniqueConstraint("patient_id", "decided_on", name="uq_screening_decision_natural"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    patient: Mapped[Patient] = relationship(back_populates="screening_decisions")


class ScreeningSummary(Base):
    """Each patient's screening status as the rules judge it over every answer and decision, kept current
    in the same transaction as each write that could change it (:mod:`kdash.storage.screening_summary`).

    Derived, never edited by hand: the roster filters and pages by it in SQL and the huddle reads one row
    per patient instead of every answer. ``through`` is the date of the latest answer or decision it
    covers (a huddle of an earlier day judges from the answers instead), ``classes_key`` the item classes
    it was judged under (a row judged under other settings is not used).
    """

    __tablename__ = "screening_summary"
    __table_args__ = (_one_of("status", ScreeningStatus),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    reasons_json: Mapped[str] = mapped_column(Text)
    screened_on: Mapped[date | None] = mapped_column(Date)
    through: Mapped[date | None] = mapped_column(Date)
    classes_key: Mapped[str] = mapped_column(String(16), index=True)


class PatientVersion(Base):
    """A token that changes in the same transaction as any write to a patient's clinical record.

    A new random token on every change (never a counter): a cache holding a patient's records under a
    token holds exactly the records of that token, even across a restore or a reloaded demo clinic, so a
    reader may reuse them while the token is unchanged (:mod:`kdash.storage.record_cache`).
    """

    __tablename__ = "patient_version"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class Course(Base):
    __tablename__ = "course"
    __table_args__ = (
        _one_of("indication", Indication),
        _one_of("trial_outcome", TrialOutcome),
        _one_of("status", CourseStatus),
        CheckConstraint("number >= 1", name="number_positive"),
        UniqueConstraint("patient_id", "number", name="uq_course_patient_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    indication: Mapped[str] = mapped_column(String(32))
    started_on: Mapped[date | None] = mapped_column(Date)
    trial_outcome: Mapped[str] = mapped_column(String(16), default=TrialOutcome.PENDING.value)
    trial_outcome_by: Mapped[str | None] = mapped_column(String(120))
    trial_outcome_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.PLANNED.value)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    patient: Mapped[Patient] = relationship(back_populates="courses")
    infusions: Mapped[list[Infusion]] = relationship(back_populates="course", order_by="Infusion.number")


class Infusion(Base):
    """One infusion session: booking, vitals (REMS-style before / ~40 min peak / discharge) and outcome."""

    __tablename__ = "infusion"
    __table_args__ = (
        _one_of("status", InfusionStatus),
        CheckConstraint(f"number BETWEEN 1 AND {MAX_INFUSIONS_PER_COURSE}", name="number_1_to_10"),
        CheckConstraint("chair IS NULL OR chair >= 1", name="chair_positive"),
        # Plausibility limits (kdash.domain.limits), the same the forms and the importers apply.
        *(CheckConstraint(r.limit.sql(r.field), name=f"{r.field}_plausible") for r in INFUSION_READINGS),
        # One live infusion per number per course: with the 1..10 check, at most ten live infusions.
        # Cancelled and no-show infusions stay in the history and free their number (clinical-reference.md
        # "Planning decisions").
        Index(
            "uq_infusion_live_number",
            "course_id",
            "number",
            unique=True,
            sqlite_where=text(_live_sql()),
            postgresql_where=text(_live_sql()),
        ),
        # A chair holds one patient for the chair time: live bookings of one chair never overlap. On
        # PostgreSQL an exclusion constraint over [scheduled_at, chair_until); on SQLite, whose writes are
        # serialised (BEGIN IMMEDIATE), triggers make the same check in the writing transaction (0009).
        ExcludeConstraint(
            (func.int4range(literal_column("chair"), literal_column("chair"), literal_column("'[]'")), "&&"),
            (func.tsrange(literal_column("scheduled_at"), literal_column("chair_until")), "&&"),
            name="ex_infusion_chair_overlap",
            using="gist",
            where=text(_live_sql() + " AND chair IS NOT NULL"),
        ).ddl_if(dialect="postgresql"),
        CheckConstraint(
            "chair IS NULL OR (chair_until IS NOT NULL AND chair_until > scheduled_at)",
            name="chair_time_held",
        ),
        # A chair holds one live booking per start time (the fast path for the commonest conflict).
        Index(
            "uq_infusion_live_chair_start",
            "chair",
            "scheduled_at",
            unique=True,
            sqlite_where=text(_live_sql() + " AND chair IS NOT NULL"),
            postgresql_where=text(_live_sql() + " AND chair IS NOT NULL"),
        ),
        Index("ix_infusion_scheduled_at", "scheduled_at"),
        # A day's (or a range's) bookings with status, course and chair from the index alone (0003).
        Index("ix_infusion_day", "scheduled_at", "status", "course_id", "chair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime)
    chair: Mapped[int | None] = mapped_column(Integer)
    #: End of the chair time the booking holds (start + the clinic's chair time when it was booked; set
    #: by :mod:`kdash.storage.write_hooks` whenever the start changes).
    chair_until: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default=InfusionStatus.SCHEDULED.value)
    dose_mg_per_kg: Mapped[float | None] = mapped_column(Float)
    premed_given: Mapped[bool | None] = mapped_column(Boolean)
    bp_pre_sys: Mapped[int | None] = mapped_column(Integer)
    bp_pre_dia: Mapped[int | None] = mapped_column(Integer)
    bp_peak_sys: Mapped[int | None] = mapped_column(Integer)
    bp_peak_dia: Mapped[int | None] = mapped_column(Integer)
    bp_discharge_sys: Mapped[int | None] = mapped_column(Integer)
    bp_discharge_dia: Mapped[int | None] = mapped_column(Integer)
    heart_rate: Mapped[int | None] = mapped_column(Integer)
    spo2: Mapped[int | None] = mapped_column(Integer)
    adverse_events: Mapped[str | None] = mapped_column(Text)
    escort_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    discharged_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now(), onupdate=func.now())

    course: Mapped[Course] = relationship(back_populates="infusions")


#: The fields of an infusion's session record that a nurse fills in during and after the infusion
#: (dose, pre-medication, REMS-style blood pressures, heart rate, SpO2, escort, adverse events,
#: discharge). One list for the form's service, the importers, the demo generator and the benchmark.
INFUSION_SESSION_FIELDS: tuple[str, ...] = (
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


class Assessment(Base):
    """A symptom score. The CHECK keeps each instrument's total inside its published range."""

    __tablename__ = "assessment"
    __table_args__ = (
        _one_of("instrument", Instrument),
        CheckConstraint(_score_in_range_sql(), name="score_in_range"),
        CheckConstraint(
            f"item9 IS NULL OR (instrument = '{Instrument.PHQ9.value}' "
            f"AND item9 BETWEEN {PHQ9_ITEM9_RANGE[0]} AND {PHQ9_ITEM9_RANGE[1]})",
            name="item9_phq9_0_to_3",
        ),
        Index(
            "uq_assessment_natural",
            "patient_id",
            "instrument",
            "taken_on",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_assessment_patient_taken", "patient_id", "taken_on"),
        # A patient's live scores oldest first with what the rules read, from the index alone (0003).
        Index(
            "ix_assessment_patient_scores",
            "patient_id",
            "taken_on",
            "id",
            "instrument",
            "score",
            "item9",
            "deleted_at",  # SQLite reads only the index when every column the query names is in it
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"))
    instrument: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    item9: Mapped[int | None] = mapped_column(Integer)
    items_json: Mapped[str | None] = mapped_column(Text)
    taken_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="form")
    recorded_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_reason: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(back_populates="assessments")


class SuicideReview(Base):
    """A provider's review of a positive PHQ-9 item 9 or a high-risk C-SSRS (clinical-reference.md
    "Decisions")."""

    __tablename__ = "suicide_review"
    __table_args__ = (_one_of("action", SuicideReviewAction),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id", ondelete="RESTRICT"))
    reviewed_on: Mapped[date] = mapped_column(Date)
    reviewed_by: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (_one_of("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    #: A demo account (public password): refused at sign-in once the database holds a real patient.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class UserSession(Base):
    """A signed-in browser session, held on the server so it can be ended everywhere at once.

    The browser holds an opaque random token in an HttpOnly cookie; only its SHA-256 is stored, so a
    copy of the database cannot be replayed as a login. The token is minted when the one-time hand-off
    made at sign-in is redeemed (``handoff_hash``, cleared then). A row is never deleted: ``ended_at``
    and ``end_reason`` (sign-out, idle, expired, disabled) say when and why it stopped being valid.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="RESTRICT"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))


class LoginFailure(Base):
    """One failed sign-in of a client (the SHA-256 of its address or browser session), for the per-client
    throttle every app server shares (kdash.services.login_throttle, migration 0013)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_client", "client_hash", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_hash: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEvent(Base):
    """Append-only log of who did what to which record; each event hashes the one before it."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient", "patient_id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"))
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: "hmac-sha256:<key id>" for a keyed link; empty for events chained with plain SHA-256 before 0012.
    chain_key: Mapped[str | None] = mapped_column(String(40))


class Amendment(Base):
    """The old value of a clinical field that was amended: who changed it, when and why."""

    __tablename__ = "amendment"
    __table_args__ = (Index("ix_amendment_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="RESTRICT"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text)


class Setting(Base):
    """A clinic policy override (JSON value) of a :class:`kdash.domain.policy.ClinicPolicy` field."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class Closure(Base):
    """A day the infusion suite is closed (holiday, training day)."""

    __tablename__ = "closure"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))


def live_infusion_clause() -> object:
    """SQL expression: the infusion counts toward ten (scheduled or completed)."""
    return or_(*(Infusion.status == s.value for s in LIVE_INFUSION_STATUSES))


def active_patient_clause() -> object:
    """SQL expression: the patient is active and not deleted (literal, so the partial indexes apply)."""
    return and_(
        Patient.deleted_at.is_(None), Patient.status == literal_column(f"'{PatientStatus.ACTIVE.value}'")
    )
