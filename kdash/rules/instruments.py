"""Scoring rules of the symptom instruments: range, severity band, change, response, remission, worsening.

Band cut-points of PHQ-9, GAD-7 and MADRS are the instruments' published scoring (clinical-reference.md
"Instruments"), not clinic policy, so they live here beside their source; every threshold the clinic may
tune (the pain NRS bands, response, remission, worsening, the PCL-5 cut-off) comes from
:class:`ClinicPolicy`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import INSTRUMENT_RANGES, PHQ9_ITEM9_RANGE, Indication, Instrument

#: Instruments whose scores the huddle tabulates (the C-SSRS screener is a risk code, not a symptom score).
SYMPTOM_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument.PHQ9,
    Instrument.GAD7,
    Instrument.PCL5,
    Instrument.MADRS,
    Instrument.NRS,
)

# Band tables: (lowest score of the band, band name), ascending. Names as in clinical-reference.md
# "Instruments", lowercase.
_BANDS: dict[Instrument, tuple[tuple[int, str], ...]] = {
    # PHQ-9 (Kroenke 2001): 0–4 minimal, 5–9 mild, 10–14 moderate, 15–19 moderately severe, 20–27 severe.
    Instrument.PHQ9: (
        (0, "minimal"),
        (5, "mild"),
        (10, "moderate"),
        (15, "moderately severe"),
        (20, "severe"),
    ),
    # GAD-7 (Spitzer 2006): 0–4 minimal, 5–9 mild, 10–14 moderate, 15–21 severe.
    Instrument.GAD7: ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
    # MADRS (Snaith): 0–6 normal, 7–19 mild, 20–34 moderate, 35–60 severe.
    Instrument.MADRS: ((0, "normal"), (7, "mild"), (20, "moderate"), (35, "severe")),
    # Pain NRS (common use, policy): 1–3 mild, 4–6 moderate, 7–10 severe, from settings.nrs_band_starts
    # (see band_table). The sources' bands start at 1; a score of 0 is "none" (no pain) so that every
    # score of the range has a band (docs/clinical-decisions.md, pinned by test_nrs_zero_is_none).
    # C-SSRS screener code (clinical-reference.md "Decisions"): 0 no risk, 1 low, 2 moderate, 3 high.
    Instrument.CSSRS: ((0, "no risk"), (1, "low"), (2, "moderate"), (3, "high")),
}


def main_instrument(indication: Indication | str) -> Instrument:
    """The instrument that follows an indication (its "main score"): the one the roster shows, the
    outcome rates count and the trial is judged on first (clinical-reference.md "Judging the trial
    infusion"; docs/clinical-decisions.md): pain NRS for pain, PCL-5 for PTSD, PHQ-9 for depression
    and bipolar depression."""
    chosen = Indication(indication)
    if chosen.is_pain:
        return Instrument.NRS
    if chosen is Indication.PTSD:
        return Instrument.PCL5
    return Instrument.PHQ9


def indications_by_main_instrument() -> Mapping[Instrument, tuple[Indication, ...]]:
    """:func:`main_instrument` as a table (each instrument and the indications it follows), for a query
    that must pick the same score in SQL."""
    table: dict[Instrument, list[Indication]] = {}
    for indication in Indication:
        table.setdefault(main_instrument(indication), []).append(indication)
    return {inst: tuple(sorted(found)) for inst, found in table.items()}


PCL5_PROBABLE = "probable PTSD"
PCL5_BELOW = "below threshold"


class ScoreOutOfRange(ValueError):
    """A score outside its instrument's range: refused rather than clipped, since it is a data error."""


_BY_CODE: dict[str, Instrument] = {i.value: i for i in Instrument}


def _instrument(instrument: Instrument | str) -> Instrument:
    found = _BY_CODE.get(instrument)  # a dict look-up: the huddle calls this thousands of times
    if found is None:
        known = ", ".join(_BY_CODE)
        raise ValueError(f"Unknown instrument {instrument!r}; expected one of {known}")
    return found


def check_score(instrument: Instrument | str, score: int) -> int:
    """Return ``score`` if it lies in the instrument's range, else raise :class:`ScoreOutOfRange`."""
    inst = _instrument(instrument)
    low, high = INSTRUMENT_RANGES[inst]
    if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
        raise ScoreOutOfRange(f"{inst.value} score {score} is outside {low}–{high}")
    return score


def check_item9(value: int) -> int:
    """Return the PHQ-9 item 9 answer if it is 0–3 (Kroenke 2001), else raise :class:`ScoreOutOfRange`."""
    low, high = PHQ9_ITEM9_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScoreOutOfRange(f"PHQ-9 item 9 score {value} is outside {low}–{high}")
    return value


def severity_band(instrument: Instrument | str, score: int, settings: ClinicPolicy) -> str:
    """The band name of a score (lowercase, as clinical-reference.md "Instruments" spells it)."""
    inst = _instrument(instrument)
    check_score(inst, score)
    if inst is Instrument.PCL5:
        # PCL-5 has no validated bands, only the probable-PTSD cut-off (31–33; 33 chosen, policy).
        return PCL5_PROBABLE if score >= settings.pcl5_probable_ptsd else PCL5_BELOW
    band = ""
    for lowest, _highest, name in band_table(inst, settings):
        if score >= lowest:
            band = name
    return band


def band_table(instrument: Instrument | str, settings: ClinicPolicy) -> list[tuple[int, int, str]]:
    """The instrument's bands as (lowest, highest, name), ascending — for band look-up and chart shading.

    The pain NRS cut-points are clinic policy (clinical-reference.md "Instruments") and come from
    ``settings.nrs_band_starts``; the PCL-5 has only its probable-PTSD cut-off, also a setting.
    """
    inst = _instrument(instrument)
    low, high = INSTRUMENT_RANGES[inst]
    if inst is Instrument.PCL5:
        starts = [(low, PCL5_BELOW), (settings.pcl5_probable_ptsd, PCL5_PROBABLE)]
    elif inst is Instrument.NRS:
        mild, moderate, severe = settings.nrs_band_starts
        starts = [(low, "none"), (mild, "mild"), (moderate, "moderate"), (severe, "severe")]
    else:
        starts = list(_BANDS[inst])
    return [
        (lowest, (starts[i + 1][0] - 1) if i + 1 < len(starts) else high, name)
        for i, (lowest, name) in enumerate(starts)
    ]


@dataclass(frozen=True, slots=True)
class Change:
    """Change from baseline: ``points`` = latest − baseline; ``pct`` of baseline (None when baseline is 0)."""

    points: int
    pct: float | None


def course_baseline(scores: Sequence[tuple[date, int]], first_infusion_day: date | None) -> int | None:
    """The baseline of a course: the last score on or before the day of its first live infusion, else
    the first score (``scores`` oldest first; None when there is none).

    One definition for the huddle, the trend charts and the roster (whose SQL is held equal to this by
    ``tests/services/test_baseline_agreement.py``): the score the patient came in with, or, for a course
    started before any score, the earliest one.
    """
    if not scores:
        return None
    before = [score for day, score in scores if first_infusion_day is not None and day <= first_infusion_day]
    return before[-1] if before else scores[0][1]


def change_from_baseline(baseline: int, latest: int) -> Change:
    """Points and percent of baseline; a baseline of 0 has no percentage (division by zero is no change)."""
    points = latest - baseline
    pct = None if baseline == 0 else points * 100.0 / baseline
    return Change(points=points, pct=pct)


def _dropped_by_pct(baseline: int, latest: int, pct: float) -> bool | None:
    """Whether the drop from baseline is at least ``pct`` percent, exact in integers (None at baseline 0)."""
    if baseline == 0:
        return None
    return (baseline - latest) * 100 >= pct * baseline


def is_response(
    instrument: Instrument | str, baseline: int, latest: int, settings: ClinicPolicy
) -> bool | None:
    """Response against baseline, or None where the instrument defines none (GAD-7, C-SSRS).

    A percentage-based response cannot be judged from a baseline of 0 and is None too.
    """
    inst = _instrument(instrument)
    check_score(inst, baseline)
    check_score(inst, latest)
    if inst is Instrument.PHQ9:
        return _dropped_by_pct(baseline, latest, settings.phq9_response_pct)  # Kroenke 2001 / NCQA: ≥50%
    if inst is Instrument.MADRS:
        return _dropped_by_pct(baseline, latest, settings.madrs_response_pct)  # MADRS: ≥50%
    if inst is Instrument.NRS:
        return _dropped_by_pct(baseline, latest, settings.nrs_response_pct)  # IMMPACT moderate: ≥30%
    if inst is Instrument.PCL5:
        return baseline - latest >= settings.pcl5_response_points  # PCL-5: drop ≥10 points (secondary)
    return None  # GAD-7 has bands only; the C-SSRS is a risk code (clinical-reference.md "Decisions")


def is_remission(instrument: Instrument | str, latest: int, settings: ClinicPolicy) -> bool | None:
    """Remission of the latest score, or None where the instrument defines none (GAD-7, PCL-5, NRS)."""
    inst = _instrument(instrument)
    check_score(inst, latest)
    if inst is Instrument.PHQ9:
        return latest < settings.phq9_remission_below  # NCQA: PHQ-9 < 5
    if inst is Instrument.MADRS:
        return latest < settings.madrs_remission_below  # MADRS < 10 (some use ≤12), policy
    return None


def worsening_threshold(instrument: Instrument | str, settings: ClinicPolicy) -> int | None:
    """Points of rise that count as clinically meaningful worsening; None where no figure is agreed."""
    inst = _instrument(instrument)
    if inst is Instrument.PHQ9:
        return settings.phq9_worsening_points  # Löwe 2004: ≥5
    if inst is Instrument.GAD7:
        return settings.gad7_worsening_points  # Toussaint 2020 MID: ≥4 (secondary)
    if inst is Instrument.PCL5:
        return settings.pcl5_worsening_points  # PCL-5: ≥10 (secondary)
    if inst is Instrument.NRS:
        return settings.nrs_worsening_points  # IMMPACT: about 2 points
    if inst is Instrument.MADRS:
        return settings.madrs_worsening_points  # no agreed figure: empty by default
    return None


def is_worsening(instrument: Instrument | str, previous: int, latest: int, settings: ClinicPolicy) -> bool:
    """Clinically meaningful rise since the previous score; never for an instrument with no threshold."""
    threshold = worsening_threshold(instrument, settings)
    if threshold is None:
        return False
    return latest - previous >= threshold
