"""Clinic policy overrides and closure days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from kdash.storage.models.base import Base


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
