"""Field checks shared by the clinical forms' services: every problem of a form is listed at once.

A service validates every field it is given and raises :class:`~kdash.domain.errors.ValidationError`
listing each problem (:class:`Problems`), so a form shows all of them and writes nothing partial.
Readings are held to the plausibility limits of :mod:`kdash.domain.limits`, the same the importers and
the database apply.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from kdash.domain.errors import NotFound, Problem, ValidationError
from kdash.domain.limits import (
    Reading,
    implausible,
)
from kdash.domain.policy import ClinicPolicy
from kdash.services.locks import lock_course
from kdash.storage.context import load_context
from kdash.storage.database import Database
from kdash.storage.models import (
    Course,
    Patient,
)
from kdash.storage.policy_repo import load_policy

#: Longest free text kept in a note, reason or adverse-event field (a paragraph, not a document).
MAX_TEXT = 2000


# --- small helpers -------------------------------------------------------------------------------------


def now_naive(now: datetime | None) -> datetime:
    return (now or datetime.now()).replace(tzinfo=None)


class Problems:
    """Collects field problems so a form can show every one of them at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(Problem(field, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items)


def text_field(
    p: Problems, field: str, value: str | None, *, required: bool = False, label: str = ""
) -> str | None:
    if value is not None and not isinstance(value, str):
        p.add(field, f"{label or field.capitalize()} must be text.")
        return None
    text = (value or "").strip()
    if not text:
        if required:
            p.add(field, f"{label or field.capitalize()} is required: say briefly why.")
        return None
    if len(text) > MAX_TEXT:
        p.add(
            field, f"{label or field.capitalize()} is {len(text)} characters long; keep it under {MAX_TEXT}."
        )
    return text


def day_field(p: Problems, field: str, value: Any, label: str, *, today: date | None = None) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        p.add(field, f"{label} is missing or not a date: pick a date.")
        return None
    if today is not None and value > today:
        p.add(field, f"{label} {value} is in the future: record it on or after the day it happened.")
    return value


def reading_field(p: Problems, reading: Reading, value: Any) -> int | float | None:
    """A typed reading held to its plausibility limit (:mod:`kdash.domain.limits`), or None with a problem."""
    if value is None or value == "":
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))  # NaN, infinity: no reading
    ):
        p.add(reading.field, f"{reading.label} must be a number; {value!r} is not.")
        return None
    if reading.whole and int(value) != value:
        p.add(reading.field, f"{reading.label} must be a whole number; {value!r} is not.")
        return None
    why = implausible(reading.field, value)
    if why is not None:
        p.add(reading.field, why)
        return None
    return int(value) if reading.whole else float(value)


def whole_number(value: Any) -> Any:
    """A float with no fraction (a number widget's 12.0) as the int it means; anything else unchanged."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def live_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound(f"Patient {patient_id} does not exist or was deleted.")
    return patient


def clinic_policy(db: Database) -> ClinicPolicy:
    with db.read() as session:
        return load_policy(session)


def course_context(session: Session, course_id: int) -> tuple[Course, Any, Any]:
    """(locked course row, patient context, the course's record)."""
    course = lock_course(session, course_id)
    if course is None:
        raise NotFound(f"Course {course_id} does not exist.")
    ctx = load_context(session, course.patient_id)
    if ctx is None:
        raise NotFound(f"The patient of course {course_id} does not exist.")
    rec = next(c for c in ctx.courses if c.id == course_id)
    return course, ctx, rec
