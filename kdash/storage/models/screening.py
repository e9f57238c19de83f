"""Screening answers, the provider's screening decisions and the derived screening summary."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kdash.domain.vocab import (
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
)
from kdash.storage.models.base import Base, _one_of

if TYPE_CHECKING:
    from kdash.storage.models.patients import Patient


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
