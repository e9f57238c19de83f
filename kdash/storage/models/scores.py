"""Symptom scores and the provider's reviews of positive suicide-risk answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kdash.domain.vocab import (
    PHQ9_ITEM9_RANGE,
    Instrument,
    SuicideReviewAction,
)
from kdash.storage.models.base import Base, _one_of, _score_in_range_sql

if TYPE_CHECKING:
    from kdash.storage.models.patients import Patient


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
