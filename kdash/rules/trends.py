"""A patient's score trends as the chart draws them: each instrument's points, baseline, the rule's
response and remission lines and its bands. Pure: the lines and bands are read off the instrument rules
score by score, so the chart can never disagree with them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import PatientRec
from kdash.domain.vocab import INSTRUMENT_RANGES, InfusionStatus, Instrument
from kdash.rules.instruments import course_baseline, is_remission, is_response, severity_band


@dataclass(frozen=True, slots=True)
class Band:
    name: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class InstrumentTrend:
    instrument: str
    points: tuple[tuple[date, int], ...]
    baseline: int | None
    response_line: float | None
    remission_line: float | None
    bands: tuple[Band, ...]
    range: tuple[int, int]


@dataclass(frozen=True, slots=True)
class PatientTrend:
    patient: PatientRec
    instruments: tuple[InstrumentTrend, ...]
    infusions: tuple[tuple[datetime, int, int], ...]  # (when, course number, infusion number), completed


def bands(instrument: Instrument | str, settings: ClinicPolicy) -> tuple[Band, ...]:
    """Contiguous score ranges of one band name, read off the rule for every score of the range."""
    inst = Instrument(instrument)
    lo, hi = INSTRUMENT_RANGES[inst]
    out: list[Band] = []
    for score in range(lo, hi + 1):
        name = severity_band(inst, score, settings)
        if out and out[-1].name == name:
            out[-1] = Band(name, out[-1].low, score)
        else:
            out.append(Band(name, score, score))
    return tuple(out)


def _response_line(inst: Instrument, baseline: int, settings: ClinicPolicy) -> float | None:
    """The score at which the latest would count as response, found by asking the rule."""
    lo, _ = INSTRUMENT_RANGES[inst]
    best = None
    for score in range(baseline, lo - 1, -1):
        if is_response(inst, baseline, score, settings):
            best = score
            break
    return None if best is None else float(best)


def _remission_line(inst: Instrument, settings: ClinicPolicy) -> float | None:
    lo, hi = INSTRUMENT_RANGES[inst]
    top = None
    for score in range(lo, hi + 1):
        r = is_remission(inst, score, settings)
        if r is None:
            return None
        if r:
            top = score
    return None if top is None else float(top)


def assemble_trend(
    patient: PatientRec,
    scores: Sequence[tuple[str, date, int]],
    live: Sequence[tuple[datetime, str, int, int]],
    settings: ClinicPolicy,
) -> PatientTrend:
    """The chart's data from the patient, their live scores (oldest first) and their live infusions
    (start, status, course number, infusion number). Pure: the benchmark's hand-written query feeds it
    the same way, so both answers are shaped by one piece of code."""
    first_day = min(r[0] for r in live).date() if live else None
    groups: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for instrument, taken_on, score in scores:
        groups[instrument].append((taken_on, score))
    trends = []
    for inst in Instrument:
        pts = groups.get(inst.value)
        if not pts:
            continue
        baseline = course_baseline(pts, first_day)
        assert baseline is not None  # pts is not empty
        trends.append(
            InstrumentTrend(
                instrument=inst.value,
                points=tuple(pts),
                baseline=baseline,
                response_line=_response_line(inst, baseline, settings),
                remission_line=_remission_line(inst, settings),
                bands=bands(inst, settings),
                range=INSTRUMENT_RANGES[inst],
            )
        )
    infusions = tuple(
        sorted(
            (at, course_number, number)
            for at, status, course_number, number in live
            if status == InfusionStatus.COMPLETED.value
        )
    )
    return PatientTrend(patient, tuple(trends), infusions)
