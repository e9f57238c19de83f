"""Courses of infusions and the infusions themselves (bookings, chair time, session record)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kdash.domain.limits import INFUSION_READINGS
from kdash.domain.vocab import (
    LIVE_INFUSION_STATUSES,
    MAX_INFUSIONS_PER_COURSE,
    CourseStatus,
    Indication,
    InfusionStatus,
    TrialOutcome,
)
from kdash.storage.models.base import Base, _live_sql, _one_of

if TYPE_CHECKING:
    from kdash.storage.models.patients import Patient


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


def live_infusion_clause() -> object:
    """SQL expression: the infusion counts toward ten (scheduled or completed)."""
    return or_(*(Infusion.status == s.value for s in LIVE_INFUSION_STATUSES))
