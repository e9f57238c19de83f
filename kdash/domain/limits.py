"""Plausibility limits: the one table of values a reading can take at all, with the source of each.

These are not clinical thresholds (those are :class:`~kdash.domain.policy.ClinicPolicy` settings a clinic
may change): they catch values that cannot be a real reading of an adult in an infusion chair — a typing
error (1200 for 120), a dose typed in mg instead of mg/kg, a value in the wrong column. The forms
(:mod:`kdash.services.infusions`), the importers (:mod:`kdash.interchange.rows`) and the database's CHECK
constraints (:mod:`kdash.storage.models`, migration 0007) all read this table, so a value one of them
refuses, all of them refuse, in the same words. The choice between the limits the forms and the import
used to apply is argued in ``docs/plausibility-limits.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """An inclusive range of plausible values, its unit and where the numbers come from."""

    low: float
    high: float
    unit: str
    source: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def range_text(self) -> str:
        return f"{_number(self.low)}–{_number(self.high)} {self.unit}"

    def sql(self, column: str) -> str:
        """The CHECK condition that holds the column to this limit (an empty column passes)."""
        return f"{column} IS NULL OR {column} BETWEEN {_number(self.low)} AND {_number(self.high)}"


def _number(value: float) -> str:
    """A number as a person writes it: 120, 0.05, 5 (never 120.0 or 5.0)."""
    return f"{value:g}"


#: Systolic blood pressure. Above 300: automated adult cuffs may not inflate beyond 300 mmHg
#: (IEC 80601-2-30, maximum cuff pressure in adult mode), so no cuff reports more. Below 50: no palpable
#: radial pulse, not a patient who walked in for an elective infusion (kdash plausibility choice).
SYSTOLIC = Limit(50, 300, "mmHg", "IEC 80601-2-30 adult cuff maximum; below 50 kdash plausibility")
#: Diastolic blood pressure; it must also be below the systolic of the same reading (swapped columns).
#: 200 is above any diastolic reported in hypertensive emergencies; 20 catches a lost digit (kdash).
DIASTOLIC = Limit(20, 200, "mmHg", "kdash plausibility: below the cuff maximum, above a lost digit")
#: Heart rate: 20 (an agonal rhythm) to 250 (the fastest supraventricular tachycardias) beats a minute.
HEART_RATE = Limit(20, 250, "/min", "kdash plausibility: agonal rhythm to fastest tachycardia")
#: Oxygen saturation: a percentage; below 50 is not a reading from a conscious patient (pulse oximeters
#: are calibrated down to about 70 %, ISO 80601-2-61).
SPO2 = Limit(50, 100, "%", "ISO 80601-2-61 oximeter calibration; a percentage")
#: Ketamine dose in mg per kg of body weight. 0.05 is half the lowest dose of the intravenous dose-finding
#: trial in depression (0.1 mg/kg, Fava et al. 2020); 5 covers a chronic-pain session of up to
#: 2 mg/kg/h for more than two hours (ASRA/AAPM/ASA 2018 consensus), while a dose typed in mg (35 for a
#: 70-kg patient's 0.5 mg/kg) stays far above it.
DOSE_MG_PER_KG = Limit(
    0.05, 5.0, "mg/kg", "Fava et al. 2020 (lowest IV dose 0.1 mg/kg); ASRA/AAPM/ASA 2018 (pain sessions)"
)


@dataclass(frozen=True, slots=True)
class Reading:
    """One recorded field held to a limit, and how a person calls it (the same on forms and imports)."""

    field: str
    label: str
    limit: Limit
    whole: bool = True


#: Every infusion field held to a plausibility limit, in the order a form lists them.
INFUSION_READINGS: tuple[Reading, ...] = (
    Reading("bp_pre_sys", "Pre-dose systolic BP", SYSTOLIC),
    Reading("bp_pre_dia", "Pre-dose diastolic BP", DIASTOLIC),
    Reading("bp_peak_sys", "Systolic BP at about 40 minutes", SYSTOLIC),
    Reading("bp_peak_dia", "Diastolic BP at about 40 minutes", DIASTOLIC),
    Reading("bp_discharge_sys", "Systolic BP before discharge", SYSTOLIC),
    Reading("bp_discharge_dia", "Diastolic BP before discharge", DIASTOLIC),
    Reading("heart_rate", "Heart rate", HEART_RATE),
    Reading("spo2", "SpO2", SPO2),
    Reading("dose_mg_per_kg", "Dose", DOSE_MG_PER_KG, whole=False),
)
READING_BY_FIELD: dict[str, Reading] = {r.field: r for r in INFUSION_READINGS}
#: The (systolic, diastolic, words) of each blood-pressure reading of an infusion.
BP_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("bp_pre_sys", "bp_pre_dia", "pre-dose"),
    ("bp_peak_sys", "bp_peak_dia", "40-minute"),
    ("bp_discharge_sys", "bp_discharge_dia", "discharge"),
)


def implausible(field: str, value: float) -> str | None:
    """Why ``value`` cannot be a reading of ``field``, in the words every entry path shows; else None."""
    reading = READING_BY_FIELD[field]
    if reading.limit.contains(value):
        return None
    return (
        f"{reading.label} {_number(value)} {reading.limit.unit} is outside the plausible "
        f"{reading.limit.range_text()}: check the reading (a typing error or the wrong column?)."
    )


def diastolic_not_below(systolic: int, diastolic: int, words: str) -> str:
    """The refusal of a reading whose diastolic is not below its systolic, the same for forms and imports."""
    return (
        f"The {words} diastolic ({diastolic}) must be below the systolic ({systolic}): "
        "are the two numbers swapped?"
    )


def half_reading(words: str) -> str:
    """The refusal of a blood pressure with one of its two numbers missing."""
    return f"Enter both numbers of the {words} blood pressure, or neither."
