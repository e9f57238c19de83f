"""Reading and changing the clinic's policy settings, with validation and an audit event per change.

Only values marked *policy* in :mod:`kdash.domain.policy` may be changed here: the others come from a
published source (a label, a guideline, an instrument's authors) and change only with the code that
cites them. Every value is checked for type and a sensible range before it is stored, and values that
depend on each other (opening hours and chair time, warning windows) are checked together, so a typo
cannot switch off a safety rule or make the calendar impossible.
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from kdash.domain.access import Action, Actor
from kdash.domain.errors import Problem, Refused, ValidationError
from kdash.domain.policy import DEFAULT_SETTINGS, ClinicPolicy, describe
from kdash.domain.vocab import SCREENING_ITEMS, ItemClass
from kdash.services.guard import authorize
from kdash.services.refusals import refusing_database_errors
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.models import Setting
from kdash.storage.policy_repo import load_policy, save_setting

#: Ranges (inclusive) a value must lie in. Where a source sets a floor it is cited; otherwise the range
#: only refuses values no clinic could mean (a typo), and the clinic's own choice lies inside it.
LIMITS: dict[str, tuple[float, float]] = {
    "bp_crisis_systolic": (100, 300),
    "bp_crisis_diastolic": (60, 200),
    "chairs": (1, 100),
    "open_hour": (0, 23),
    "close_hour": (1, 24),
    "infusion_minutes": (10, 600),
    "recovery_minutes": (0, 600),
    "idle_logoff_minutes": (1, 120),  # HIPAA 164.312(a)(2)(iii) asks for a logoff; no figure is set
    "session_max_hours": (1, 24),  # NIST SP 800-63B §4.2.3: AAL2 asks for at most 12
    "password_min_length": (8, 256),  # NIST SP 800-63B: at least 8 characters
    "password_min_strength": (2, 4),  # zxcvbn's scale; below 2 it refuses nothing a list would
    "lockout_failures": (1, 100),
    "lockout_minutes": (1, 24 * 60),
    "login_throttle_failures": (5, 1000),  # below the lockout count it would lock out a whole desk
    "login_throttle_minutes": (1, 24 * 60),
    "rescreen_after_months": (1, 120),
    "assessment_due_days": (1, 365),
    "benefit_window_days": (1, 730),
    "min_days_between_infusions": (0, 60),
    "booster_every_weeks": (1, 52),
    "booster_max_weeks": (1, 52),
    "benefit_window_warn_from_weeks": (0, 104),
    "benefit_window_warn_to_weeks": (0, 104),
}
_DEFAULT_INT_LIMITS = (0, 1000)
_PCT_LIMITS = (0.0, 100.0)
_MAX_TEXT = 120


@dataclass(frozen=True, slots=True)
class SettingView:
    key: str
    label: str
    value: Any
    default: Any
    source: str
    policy: bool
    unit: str
    changed: bool
    updated_by: str | None


def setting_rows(db: Database) -> list[SettingView]:
    """Every setting with its current value, default, source and whether it is clinic policy."""
    with db.read() as session:
        current = load_policy(session)
        who = {row.key: row.updated_by for row in session.scalars(select(Setting))}
    rows = []
    for meta in describe():
        key = meta["key"]
        value = getattr(current, key)
        rows.append(
            SettingView(
                key,
                meta["label"],
                value,
                meta["default"],
                meta["source"],
                bool(meta["policy"]),
                meta.get("unit", ""),
                value != meta["default"],
                who.get(key),
            )
        )
    return rows


def legacy_encoding(name: str) -> str:
    """A legacy encoding a clinic may name for its import files, as Python's codec name ('' = none).

    Only single-byte text encodings and the national multi-byte ones: UTF-8 is always read anyway, and
    UTF-16/32 or a codec that is not a text encoding (base64, rot13) cannot be a CSV export's.
    """
    text = name.strip()
    if not text:
        return ""
    try:
        info = codecs.lookup(text)
    except (LookupError, ValueError):
        raise _bad("import_legacy_encoding", "Enter an encoding name such as cp1252 or latin-1.") from None
    if not info._is_text_encoding or info.name.startswith(("utf", "idna", "punycode", "raw", "unicode")):
        raise _bad(
            "import_legacy_encoding",
            "Name a legacy encoding such as cp1252 or latin-1; UTF-8 files are always read.",
        )
    return info.name


def _types() -> dict[str, Any]:
    return typing.get_type_hints(ClinicPolicy)


def _bad(key: str, message: str) -> ValidationError:
    return ValidationError(Problem(key, message))


def _as_int(key: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise _bad(key, "Enter a whole number.")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit() and len(raw.strip()) <= 9:
        return int(raw.strip())
    raise _bad(key, "Enter a whole number.")


def _in_range(key: str, value: float, limits: tuple[float, float]) -> None:
    lo, hi = limits
    if not lo <= value <= hi:
        raise _bad(key, f"Enter a value from {lo:g} to {hi:g}.")


def parse_setting_value(key: str, raw: Any) -> Any:
    """The value to store for ``key`` from form or command-line input; ValidationError says what is wrong."""
    types = _types()
    if key not in types:
        raise _bad(key, "There is no such setting.")
    kind = types[key]
    limits = LIMITS.get(key)
    if kind is str:
        if not isinstance(raw, str):
            raise _bad(key, "Enter text.")
        text = raw.strip()
        if any(ord(c) < 32 for c in text):
            raise _bad(key, "Control characters are not allowed.")
        if key == "timezone":
            if text:
                try:
                    ZoneInfo(text)
                except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
                    raise _bad(key, "Enter an IANA time zone (Europe/London) or leave it empty.") from None
            return text
        if key == "import_legacy_encoding":
            return legacy_encoding(text)
        if not text or len(text) > _MAX_TEXT:
            raise _bad(key, f"Enter 1 to {_MAX_TEXT} characters.")
        return text
    if kind is int or kind == (int | None):
        if kind is not int and (raw is None or (isinstance(raw, str) and not raw.strip())):
            return None
        value = _as_int(key, raw)
        _in_range(key, value, limits or _DEFAULT_INT_LIMITS)
        return value
    if kind is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise _bad(key, "Enter a number.")
        try:
            value_f = float(raw)
        except ValueError:
            raise _bad(key, "Enter a number.") from None
        if not math.isfinite(value_f):
            raise _bad(key, "Enter a number.")
        _in_range(key, value_f, limits or (_PCT_LIMITS if key.endswith("_pct") else _DEFAULT_INT_LIMITS))
        return value_f
    if kind == list[int]:
        if not isinstance(raw, list | tuple) or not raw:
            raise _bad(key, "Choose at least one value.")
        values = [_as_int(key, v) for v in raw]
        if key == "open_weekdays":
            if any(not 0 <= v <= 6 for v in values):
                raise _bad(key, "Weekdays run from 0 (Monday) to 6 (Sunday).")
            return sorted(set(values))
        default = getattr(DEFAULT_SETTINGS, key)
        if len(values) != len(default) or values != sorted(set(values)):
            raise _bad(key, f"Enter {len(default)} increasing whole numbers.")
        _in_range(key, min(values), _DEFAULT_INT_LIMITS)
        _in_range(key, max(values), _DEFAULT_INT_LIMITS)
        return values
    if kind == dict[str, str]:
        if not isinstance(raw, dict):
            raise _bad(key, "Choose a class for each screening item.")
        unknown = [k for k in raw if k not in SCREENING_ITEMS]
        if unknown:
            raise _bad(key, f"Unknown screening item(s): {', '.join(map(str, unknown))[:200]}.")
        classes = {c.value for c in ItemClass}
        if any(v not in classes for v in raw.values()):
            raise _bad(key, f"Each item is one of: {', '.join(sorted(classes))}.")
        return {k: str(v) for k, v in raw.items()}
    raise _bad(key, "This setting cannot be changed here.")


def check_consistency(s: ClinicPolicy) -> list[Problem]:
    """Values that make sense alone but not together."""
    problems = []
    if s.open_hour * 60 + s.chair_minutes > s.close_hour * 60:
        problems.append(
            Problem(
                "close_hour",
                f"Opening {s.open_hour:02d}:00–{s.close_hour:02d}:00 cannot hold one chair time of "
                f"{s.chair_minutes} minutes.",
            )
        )
    if s.benefit_window_warn_from_weeks > s.benefit_window_warn_to_weeks:
        problems.append(Problem("benefit_window_warn_from_weeks", "The warning starts after it ends."))
    if s.booster_every_weeks > s.booster_max_weeks:
        problems.append(Problem("booster_max_weeks", "The latest booster week is before the usual one."))
    if s.bp_crisis_systolic <= s.bp_high_systolic or s.bp_crisis_diastolic <= s.bp_high_diastolic:
        problems.append(Problem("bp_crisis_systolic", "The crisis level must be above the 'high' level."))
    return problems


@refusing_database_errors
def update_setting(
    db: Database, actor: Actor, key: str, raw: Any, *, now: datetime | None = None
) -> ClinicPolicy:
    """Validate and store one policy value; returns the settings now in force. Audited with before/after."""
    authorize(db, actor, Action.EDIT_SETTINGS, entity="setting")
    meta = {m["key"]: m for m in describe()}.get(key)
    if meta is None:
        raise _bad(key, "There is no such setting.")
    if not meta["policy"]:
        raise Refused(
            f"{meta['label']} comes from a published source ({meta['source']}) and is not a clinic "
            "choice: it cannot be changed here."
        )
    value = parse_setting_value(key, raw)
    moment = now or datetime.now()
    with db.write() as session:
        current = load_policy(session)
        candidate = dataclasses.replace(current, **{key: value})
        problems = check_consistency(candidate)
        if problems:
            raise ValidationError(problems)
        old, new = save_setting(session, key, value, actor.username, moment)
        record(
            session,
            actor,
            "edit_setting",
            entity="setting",
            before={key: old},
            after={key: new},
            now=moment,
        )
        return candidate
