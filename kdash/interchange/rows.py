"""The records an import carries, one per CSV line or FHIR resource, and the per-row validators.

A validator takes the raw text of each column (``cells``) and returns a :class:`Row` (the model fields
to store, keyed by the record's natural key) or raises :class:`RowInvalid` listing every bad field, so
a file is reported in one pass. The CSV importer feeds it file cells; the FHIR importer feeds it values
taken from resources; the exporters write the same columns. One set of rules for all three.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from enum import StrEnum
from functools import partial
from typing import Any

from kdash.domain.limits import (
    BP_PAIRS,
    INFUSION_READINGS,
    diastolic_not_below,
    half_reading,
    implausible,
)
from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    MAX_INFUSIONS_PER_COURSE,
    PHQ9_ITEM9_RANGE,
    PROVIDER_DECISION_ITEM,
    SCREENING_ITEMS,
    CourseStatus,
    Indication,
    InfusionStatus,
    Instrument,
    PatientStatus,
    ScreeningDecision,
    ScreeningResult,
    Sex,
    TrialOutcome,
)
from kdash.interchange import cells as c
from kdash.storage.models import INFUSION_SESSION_FIELDS


class Kind(StrEnum):
    """What a row stores; also the ``entity`` name in amendments and audit events."""

    PATIENT = "patient"
    SCREENING = "screening_item"
    DECISION = "screening_decision"
    COURSE = "course"
    INFUSION = "infusion"
    ASSESSMENT = "assessment"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located as ``where: field: message``."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        said = f"{self.field}: {self.message}" if self.field else self.message
        return c.visible(f"{self.where}: {said}")


class ImportRefused(Exception):
    """The input has problems; nothing was written. ``problems`` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) found; nothing was written")
        self.problems = problems


@dataclass(slots=True)
class Row:
    """One record to upsert: its natural key, the model fields given, and where it came from.

    ``values`` holds only the fields the input supplied: a column missing from a file leaves the stored
    value alone instead of blanking it.
    """

    kind: Kind
    mrn: str
    key: tuple[Any, ...]
    values: dict[str, Any]
    where: str
    source: str
    columns: dict[str, str] = field(default_factory=dict)

    def column(self, model_field: str) -> str:
        """The input's name (CSV column or FHIR element) for a model field, for messages."""
        return self.columns.get(model_field, model_field)


class RowInvalid(Exception):
    """A row's fields failed; ``errors`` is a list of (column, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{col}: {msg}" for col, msg in errors))
        self.errors = errors


# --- Columns of each file ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileSpec:
    """A CSV file's name, columns (required first, in export order) and row validator."""

    name: str
    kind: Kind
    required: tuple[str, ...]
    optional: tuple[str, ...]
    parse: Callable[[Mapping[str, str], tzinfo | None], list[Row]]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


class _Collector:
    """Gathers the parsed value or the error of each column of one row."""

    def __init__(self, cells: Mapping[str, str]) -> None:
        self.cells = cells
        self.errors: list[tuple[str, str]] = []
        self.values: dict[str, Any] = {}

    def has(self, column: str) -> bool:
        return column in self.cells

    def take(self, column: str, parser: Callable[[str], Any], model_field: str | None = None) -> Any:
        """Parse ``column`` if present; store under ``model_field`` (default: the column's name)."""
        if column not in self.cells:
            return None
        try:
            value = parser(self.cells[column])
        except c.CellError as exc:
            self.errors.append((column, str(exc)))
            return None
        self.values[model_field or column] = value
        return value

    def fail(self, column: str, message: str) -> None:
        self.errors.append((column, message))

    def done(self) -> None:
        if self.errors:
            raise RowInvalid(self.errors)


def _yes_no(raw: str) -> bool | None:
    return c.yes_no(raw)


def parse_patient(cells: Mapping[str, str], zone: tzinfo | None) -> list[Row]:
    col = _Collector(cells)
    mrn = col.take("mrn", c.mrn)
    col.take("first_name", lambda v: c.text(v, required=True, max_len=120))
    col.take("last_name", lambda v: c.text(v, required=True, max_len=120))
    born = col.take("date_of_birth", lambda v: c.iso_date(v, identifying=True))
    if isinstance(born, date) and born > date.today():
        col.fail("date_of_birth", "is in the future")
    col.take("sex", lambda v: c.code(v, Sex, what="sex"))
    col.take("indication", lambda v: c.code(v, Indication, what="indication"))
    col.take("provider", lambda v: c.text(v, required=True, max_len=120))
    col.take("status", lambda v: c.optional_code(v, PatientStatus, what="patient status") or "active")
    col.take("escort_name", lambda v: c.text(v, required=False, max_len=120))
    col.take("escort_phone", lambda v: c.text(v, required=False, max_len=40))
    col.done()
    return [Row(Kind.PATIENT, mrn, (mrn,), _without(col.values, "mrn"), "", "")]


def parse_screening(cells: Mapping[str, str], zone: tzinfo | None) -> list[Row]:
    """A screening answer, or (item ``provider_decision``) the provider's decision with ``reviewed_by``."""
    col = _Collector(cells)
    mrn = col.take("mrn", c.mrn)
    on = col.take("screened_on", c.iso_date)
    raw_item = cells.get("item", "").strip()
    note = col.take("note", lambda v: c.text(v, required=False, max_len=4000, multiline=True))
    if raw_item == PROVIDER_DECISION_ITEM:
        decision = col.take("result", lambda v: c.code(v, ScreeningDecision, what="provider decision"))
        by = None
        if not cells.get("reviewed_by", "").strip():
            col.fail(
                "reviewed_by", "is empty; a provider decision needs the name of the provider who made it"
            )
        else:
            by = col.take("reviewed_by", lambda v: c.text(v, required=True, max_len=120))
        col.done()
        values = {"decision": decision, "decided_on": on, "decided_by": by}
        if "note" in cells:
            values["note"] = note
        return [
            Row(
                Kind.DECISION,
                mrn,
                (mrn, on),
                values,
                "",
                "",
                {"decision": "result", "decided_by": "reviewed_by"},
            )
        ]
    if raw_item not in SCREENING_ITEMS:
        shown = "is empty" if not raw_item else f"{c.echo(raw_item)} is not a screening item"
        col.fail("item", f"{shown}; use one of: {', '.join(SCREENING_ITEMS)}, {PROVIDER_DECISION_ITEM}")
    col.take("result", lambda v: c.code(v, ScreeningResult, what="screening result"))
    col.take("reviewed_by", lambda v: c.text(v, required=False, max_len=120), "recorded_by")
    col.done()
    values = {"item": raw_item, "recorded_on": on, **_without(col.values, "mrn", "screened_on")}
    return [Row(Kind.SCREENING, mrn, (mrn, raw_item, on), values, "", "", {"recorded_by": "reviewed_by"})]


def parse_course(cells: Mapping[str, str], zone: tzinfo | None) -> list[Row]:
    col = _Collector(cells)
    mrn = col.take("mrn", c.mrn)
    number = col.take("course", lambda v: c.integer(v, what="course number", bounds=(1, 999)), "number")
    col.take("indication", lambda v: c.code(v, Indication, what="indication"))
    col.take("started_on", lambda v: c.iso_date(v, required=False))
    col.take("trial_outcome", lambda v: c.code(v, TrialOutcome, what="trial outcome"))
    col.take("status", lambda v: c.code(v, CourseStatus, what="course status"))
    col.take("trial_outcome_by", lambda v: c.text(v, required=False, max_len=120))
    col.take("trial_outcome_on", lambda v: c.iso_date(v, required=False))
    col.done()
    return [Row(Kind.COURSE, mrn, (mrn, number), _without(col.values, "mrn"), "", "", {"number": "course"})]


def parse_infusion(cells: Mapping[str, str], zone: tzinfo | None) -> list[Row]:
    col = _Collector(cells)
    mrn = col.take("mrn", c.mrn)
    course = col.take("course", lambda v: c.integer(v, what="course number", bounds=(1, 999)))
    raw_number = cells.get("number", "")
    try:
        number = c.integer(raw_number, what="infusion number")
        if number is not None and not 1 <= number <= MAX_INFUSIONS_PER_COURSE:
            raise c.CellError(
                f"infusion number {number} is outside 1–{MAX_INFUSIONS_PER_COURSE}: a course holds the trial "
                f"and up to nine more, {MAX_INFUSIONS_PER_COURSE} at most (clinic rule)"
            )
        col.values["number"] = number
    except c.CellError as exc:
        col.fail("number", str(exc))
        number = None
    at = col.take("scheduled_at", lambda v: c.iso_datetime(v, zone))
    col.take("status", lambda v: c.code(v, InfusionStatus, what="infusion status"))
    col.take("chair", lambda v: c.integer(v, what="chair", bounds=(1, 99), required=False))
    col.take("dose_mg_per_kg", lambda v: c.decimal(v, what="dose mg/kg"))
    col.take("premed_given", _yes_no)
    for reading in INFUSION_READINGS:
        if reading.whole:
            col.take(reading.field, partial(c.integer, what=reading.label, required=False))
        value = col.values.get(reading.field)
        why = None if value is None else implausible(reading.field, value)
        if why is not None:
            col.fail(reading.field, why)
            del col.values[reading.field]
    for sys_col, dia_col, words in BP_PAIRS:
        sys_v, dia_v = col.values.get(sys_col), col.values.get(dia_col)
        if any(e[0] in (sys_col, dia_col) for e in col.errors):
            continue
        if sys_v is not None and dia_v is not None and dia_v >= sys_v:
            col.fail(dia_col, diastolic_not_below(sys_v, dia_v, words))
        elif (sys_v is None) != (dia_v is None) and col.has(sys_col) and col.has(dia_col):
            col.fail(dia_col if dia_v is None else sys_col, half_reading(words))
    col.take("escort_confirmed", _yes_no)
    col.take("adverse_events", lambda v: c.text(v, required=False, max_len=4000, multiline=True))
    left = col.take("discharged_at", lambda v: c.iso_datetime(v, zone, required=False))
    if isinstance(left, datetime) and isinstance(at, datetime) and left < at:
        col.fail("discharged_at", "is before scheduled_at; a patient leaves after the infusion starts")
    col.take("cancel_reason", lambda v: c.text(v, required=False, max_len=4000, multiline=True))
    col.done()
    values = _without(col.values, "mrn", "course")
    return [Row(Kind.INFUSION, mrn, (mrn, course, number, at), values, "", "")]


def parse_assessment(cells: Mapping[str, str], zone: tzinfo | None) -> list[Row]:
    col = _Collector(cells)
    mrn = col.take("mrn", c.mrn)
    on = col.take("taken_on", c.iso_date)
    instrument = col.take("instrument", lambda v: c.code(v, Instrument, what="instrument"))
    score = col.take("score", lambda v: c.integer(v, what="score"))
    if instrument and score is not None:
        lo, hi = INSTRUMENT_RANGES[Instrument(instrument)]
        if not lo <= score <= hi:
            col.fail("score", f"{instrument} score {score} is outside its range {lo}–{hi}")
    item9 = col.take("item9", lambda v: c.integer(v, what="PHQ-9 item 9", required=False))
    if item9 is not None:
        lo, hi = PHQ9_ITEM9_RANGE
        if instrument and instrument != Instrument.PHQ9.value:
            col.fail("item9", f"item 9 belongs to PHQ-9 only; this row is {instrument}")
        elif not lo <= item9 <= hi:
            col.fail("item9", f"PHQ-9 item 9 answer {item9} is outside its range {lo}–{hi}")
        elif score is not None and item9 > score:
            col.fail("item9", f"item 9 answer {item9} is larger than the PHQ-9 total {score}")
    col.take("recorded_by", lambda v: c.text(v, required=False, max_len=120))
    col.done()
    values = _without(col.values, "mrn")
    return [Row(Kind.ASSESSMENT, mrn, (mrn, instrument, on), values, "", "")]


def _without(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in keys}


_INFUSION_OPTIONAL = ("chair", *INFUSION_SESSION_FIELDS, "cancel_reason")

FILES: tuple[FileSpec, ...] = (
    FileSpec(
        "patients.csv",
        Kind.PATIENT,
        ("mrn", "first_name", "last_name", "date_of_birth", "sex", "indication", "provider"),
        ("status", "escort_name", "escort_phone"),
        parse_patient,
    ),
    FileSpec(
        "screenings.csv",
        Kind.SCREENING,
        ("mrn", "screened_on", "item", "result"),
        ("note", "reviewed_by"),
        parse_screening,
    ),
    FileSpec(
        "courses.csv",
        Kind.COURSE,
        ("mrn", "course", "indication", "trial_outcome", "status"),
        ("started_on", "trial_outcome_by", "trial_outcome_on"),
        parse_course,
    ),
    FileSpec(
        "infusions.csv",
        Kind.INFUSION,
        ("mrn", "course", "number", "scheduled_at", "status"),
        _INFUSION_OPTIONAL,
        parse_infusion,
    ),
    FileSpec(
        "assessments.csv",
        Kind.ASSESSMENT,
        ("mrn", "taken_on", "instrument", "score"),
        ("item9", "recorded_by"),
        parse_assessment,
    ),
)
FILE_BY_NAME: dict[str, FileSpec] = {spec.name: spec for spec in FILES}
