"""Patients and the token that changes with every write to a patient's record."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kdash.domain.vocab import (
    Indication,
    PatientStatus,
    Sex,
)
from kdash.storage.models.base import ACTIVE_PATIENT_SQL, Base, _one_of

if TYPE_CHECKING:
    from kdash.storage.models.courses import Course
    from kdash.storage.models.scores import Assessment
    from kdash.storage.models.screening import ScreeningDecisionRow, ScreeningItem


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


class PatientVersion(Base):
    """A token that changes in the same transaction as any write to a patient's clinical record.

    A new random token on every change (never a counter): a cache holding a patient's records under a
    token holds exactly the records of that token, even across a restore or a reloaded demo clinic, so a
    reader may reuse them while the token is unchanged (:mod:`kdash.storage.record_cache`).
    """

    __tablename__ = "patient_version"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


def active_patient_clause() -> object:
    """SQL expression: the patient is active and not deleted (literal, so the partial indexes apply)."""
    return and_(
        Patient.deleted_at.is_(None), Patient.status == literal_column(f"'{PatientStatus.ACTIVE.value}'")
    )
