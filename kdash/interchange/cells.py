"""Parsing and checking single cell values, shared by the CSV and FHIR importers.

Every parser takes the raw text and returns the typed value or raises :class:`CellError` whose message
says what is wrong in words a clinic user can act on. Values that identify a patient (names, MRNs,
dates of birth, phone numbers, free text) are never repeated in a message, so a message can be shown or
logged without leaking PHI; codes and numbers are repeated so the user sees what was read.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kdash.domain.vocab import values

# The plausibility limits of readings (blood pressure, heart rate, SpO2, dose) are kdash.domain.limits,
# shared with the forms and the database; see docs/plausibility-limits.md.
#: Calendar dates kdash accepts at all (a year typed as 0226 or 2206 is an error, not a date).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)

#: Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The prefix that neutralises such a cell on export; the importer removes exactly this prefix again.
FORMULA_ESCAPE = "'"

_MRN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
#: The only shapes of dates and times read (ASCII digits): Python's ``fromisoformat`` alone also takes
#: compact forms and, since 3.11, some trailing characters (a NUL after the minutes was read as a time).
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
    r"(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
_TRUE = "yes"
_FALSE = "no"
#: Longest value ever repeated inside a message.
_ECHO_MAX = 40


class CellError(ValueError):
    """One field's value is unusable; the message says why (never containing identifying values)."""


def echo(raw: str) -> str:
    """A short, quoted rendering of a non-identifying value for a message (control characters shown)."""
    shown = raw if len(raw) <= _ECHO_MAX else raw[:_ECHO_MAX] + "…"
    return repr(shown)


def visible(text: str) -> str:
    """``text`` with every control, format and unpaired surrogate character shown as an escape.

    Whatever a file carried (``ESC[2J`` clears a terminal; U+202E reverses the text that follows) is
    printed as ``\\x1b[2J`` / ``\\u202e``, so a message shows what the file holds and does nothing.
    """
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") and ch != "\t":
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(ch)
    return "".join(out)


def unescape_formula(raw: str) -> str:
    """Remove the export's ``'`` prefix from a cell that would otherwise be a formula, and nothing else.

    ``'=SUM(A1)`` becomes ``=SUM(A1)``; ``'quoted'`` (the quote not followed by a formula character)
    stays as it is, so text that merely starts with an apostrophe survives a round trip.
    """
    if raw.startswith(FORMULA_ESCAPE) and raw[1:2] != "" and raw[1:].startswith(FORMULA_PREFIXES):
        return raw[1:]
    return raw


def escape_formula(text: str) -> str:
    """Prefix ``'`` to a cell starting with = + - @ tab or CR (or with the escape itself followed by one).

    The second case keeps the round trip exact: a stored value ``'=x`` is written ``''=x`` and read back
    as ``'=x``.
    """
    if text.startswith(FORMULA_PREFIXES) or (
        text.startswith(FORMULA_ESCAPE) and text[1:].startswith(FORMULA_PREFIXES)
    ):
        return FORMULA_ESCAPE + text
    return text


def _check_characters(raw: str, *, multiline: bool) -> None:
    allowed = {"\t", "\n", "\r"} if multiline else {"\t"}
    for ch in raw:
        cat = unicodedata.category(ch)
        if ch in allowed:
            continue
        if ch in "\n\r":
            raise CellError("contains a line break; this field takes a single line")
        if cat == "Cc" or cat == "Cs":
            raise CellError(
                f"contains a control character (U+{ord(ch):04X}); remove it"
                if cat == "Cc"
                else "contains an unpaired surrogate character; the file is not valid Unicode text"
            )


def text(raw: str, *, required: bool, max_len: int, multiline: bool = False) -> str | None:
    """Free text (names, notes): stored exactly as given; formulas are text, escaping is the UI's job."""
    value = unescape_formula(raw)
    if not value.strip():
        if required:
            raise CellError("is empty; a value is required")
        return None
    if len(value) > max_len:
        raise CellError(f"is {len(value)} characters long; at most {max_len} fit")
    _check_characters(value, multiline=multiline)
    return value


def mrn(raw: str) -> str:
    """A medical record number: letters and digits, then also . _ / - (never a formula)."""
    value = raw.strip()
    if not value:
        raise CellError("is empty; every row needs the patient's MRN")
    if not _MRN_RE.fullmatch(value):
        raise CellError(
            "is not a valid MRN: use 1–64 letters or digits (then also . _ / -), starting with a letter "
            "or digit"
        )
    return value


def code(raw: str, enum: type[StrEnum], *, what: str) -> str:
    """A value from one of kdash's vocabularies (exact, lower-case codes as in kdash.domain.vocab)."""
    value = raw.strip()
    if value not in values(enum):
        allowed = ", ".join(values(enum))
        if not value:
            raise CellError(f"is empty; give the {what}, one of: {allowed}")
        raise CellError(f"{echo(value)} is not a known {what}; use one of: {allowed}")
    return value


def optional_code(raw: str, enum: type[StrEnum], *, what: str) -> str | None:
    return None if not raw.strip() else code(raw, enum, what=what)


def iso_date(raw: str, *, identifying: bool = False, required: bool = True) -> date | None:
    """An ISO 8601 calendar date (YYYY-MM-DD) between 1900 and 2100."""
    value = raw.strip()
    if not value:
        if required:
            raise CellError("is empty; give a date as YYYY-MM-DD")
        return None
    shown = "" if identifying else f"{echo(value)} "
    try:
        if not _DATE_RE.fullmatch(value):
            raise ValueError
        parsed = date.fromisoformat(value)
    except ValueError:
        raise CellError(f"{shown}is not a date; write it as YYYY-MM-DD (ISO 8601)") from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise CellError(f"{shown}is outside {EARLIEST_DATE.year}–{LATEST_DATE.year}; check the year")
    return parsed


def clinic_zone(name: str) -> tzinfo | None:
    """The clinic's zone (an IANA name), or None for the server's own zone (an empty setting)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise CellError(f"the clinic time zone setting {name!r} is not an IANA zone name") from None


def to_clinic_time(value: datetime, zone: tzinfo | None) -> datetime:
    """A naive clinic-local datetime: a zoned value is converted to the clinic zone, a naive one kept."""
    if value.tzinfo is None:
        return value
    return value.astimezone(zone).replace(tzinfo=None) if zone else value.astimezone().replace(tzinfo=None)


def iso_datetime(raw: str, zone: tzinfo | None, *, required: bool = True) -> datetime | None:
    """An ISO 8601 date and time; without a zone it is clinic local time, with one it is converted."""
    value = raw.strip()
    if not value:
        if required:
            raise CellError("is empty; give a date and time as YYYY-MM-DDTHH:MM")
        return None
    try:
        if not _DATETIME_RE.fullmatch(value):
            raise ValueError
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CellError(
            f"{echo(value)} is not a date and time; write it as YYYY-MM-DDTHH:MM (ISO 8601, clinic local "
            "time, or with a zone such as +01:00)"
        ) from None
    if not EARLIEST_DATE <= parsed.date() <= LATEST_DATE:
        raise CellError(f"{echo(value)} is outside {EARLIEST_DATE.year}–{LATEST_DATE.year}; check the year")
    return to_clinic_time(parsed, zone)


def integer(
    raw: str, *, what: str, bounds: tuple[int, int] | None = None, required: bool = True
) -> int | None:
    """A whole number, optionally inside inclusive bounds named in the message."""
    value = raw.strip()
    if not value:
        if required:
            raise CellError(f"is empty; give the {what} as a whole number")
        return None
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", value):
        raise CellError(f"{echo(value)} is not a whole number ({what})")
    number = int(value)
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise CellError(f"{what} {number} is outside the plausible range {bounds[0]}–{bounds[1]}")
    return number


def decimal(
    raw: str, *, what: str, bounds: tuple[float, float] | None = None, required: bool = False
) -> float | None:
    value = raw.strip()
    if not value:
        if required:
            raise CellError(f"is empty; give the {what} as a number")
        return None
    if not re.fullmatch(r"[+-]?([0-9]{1,6}(\.[0-9]{0,6})?|\.[0-9]{1,6})", value):
        raise CellError(f"{echo(value)} is not a number ({what}); use a dot for decimals")
    number = float(value)
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise CellError(f"{what} {value} is outside the plausible range {bounds[0]}–{bounds[1]}")
    return number


def yes_no(raw: str, *, required: bool = False) -> bool | None:
    """``yes`` or ``no`` (exactly, lower case); empty means not recorded."""
    value = raw.strip()
    if not value:
        if required:
            raise CellError("is empty; write yes or no")
        return None
    if value == _TRUE:
        return True
    if value == _FALSE:
        return False
    raise CellError(f"{echo(value)} is not yes or no")


def format_yes_no(value: bool | None) -> str:
    return "" if value is None else (_TRUE if value else _FALSE)
