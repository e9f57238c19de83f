"""Instrument scoring: every band edge, the clinical-reference.md tables value by value, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import INSTRUMENT_RANGES, Instrument
from kdash.rules.instruments import (
    ScoreOutOfRange,
    change_from_baseline,
    check_item9,
    check_score,
    is_remission,
    is_response,
    is_worsening,
    severity_band,
)

# clinical-reference.md "Instruments", written out band by band.
TABLES: dict[str, list[tuple[range, str]]] = {
    "PHQ-9": [
        (range(0, 5), "minimal"),
        (range(5, 10), "mild"),
        (range(10, 15), "moderate"),
        (range(15, 20), "moderately severe"),
        (range(20, 28), "severe"),
    ],
    "GAD-7": [
        (range(0, 5), "minimal"),
        (range(5, 10), "mild"),
        (range(10, 15), "moderate"),
        (range(15, 22), "severe"),
    ],
    "MADRS": [
        (range(0, 7), "normal"),
        (range(7, 20), "mild"),
        (range(20, 35), "moderate"),
        (range(35, 61), "severe"),
    ],
    "NRS": [
        (range(0, 1), "none"),
        (range(1, 4), "mild"),
        (range(4, 7), "moderate"),
        (range(7, 11), "severe"),
    ],
    "PCL-5": [(range(0, 33), "below threshold"), (range(33, 81), "probable PTSD")],
    "C-SSRS": [
        (range(0, 1), "no risk"),
        (range(1, 2), "low"),
        (range(2, 3), "moderate"),
        (range(3, 4), "high"),
    ],
}

CASES = [(inst, value, band) for inst, rows in TABLES.items() for r, band in rows for value in r]


@pytest.mark.parametrize(("instrument", "value", "band"), CASES)
def test_band_table_value_by_value(instrument: str, value: int, band: str) -> None:
    assert severity_band(instrument, value, S) == band


@pytest.mark.parametrize(
    ("instrument", "edges"),
    [
        (
            "PHQ-9",
            [
                (4, "minimal"),
                (5, "mild"),
                (9, "mild"),
                (10, "moderate"),
                (14, "moderate"),
                (15, "moderately severe"),
                (19, "moderately severe"),
                (20, "severe"),
                (27, "severe"),
            ],
        ),
        (
            "GAD-7",
            [
                (4, "minimal"),
                (5, "mild"),
                (9, "mild"),
                (10, "moderate"),
                (14, "moderate"),
                (15, "severe"),
                (21, "severe"),
            ],
        ),
        (
            "MADRS",
            [(6, "normal"), (7, "mild"), (19, "mild"), (20, "moderate"), (34, "moderate"), (35, "severe")],
        ),
        (
            "NRS",
            [
                (0, "none"),
                (1, "mild"),
                (3, "mild"),
                (4, "moderate"),
                (6, "moderate"),
                (7, "severe"),
                (10, "severe"),
            ],
        ),
        ("PCL-5", [(32, "below threshold"), (33, "probable PTSD")]),
    ],
)
def test_band_edges(instrument: str, edges: list[tuple[int, str]]) -> None:
    assert [severity_band(instrument, v, S) for v, _ in edges] == [b for _, b in edges]


def test_nrs_zero_is_none() -> None:
    """NRS bands in the sources start at 1: kdash calls 0 "none" (docs/clinical-decisions.md)."""
    assert severity_band(Instrument.NRS, 0, S) == "none"


def test_pcl5_cutoff_follows_settings() -> None:
    assert severity_band("PCL-5", 31, ClinicPolicy(pcl5_probable_ptsd=31)) == "probable PTSD"
    assert severity_band("PCL-5", 31, S) == "below threshold"


@pytest.mark.parametrize(
    ("instrument", "value", "message"),
    [
        ("PHQ-9", 31, "PHQ-9 score 31 is outside 0–27"),
        ("PHQ-9", -1, "PHQ-9 score -1 is outside 0–27"),
        ("GAD-7", 22, "GAD-7 score 22 is outside 0–21"),
        ("PCL-5", 81, "PCL-5 score 81 is outside 0–80"),
        ("MADRS", 61, "MADRS score 61 is outside 0–60"),
        ("NRS", 11, "NRS score 11 is outside 0–10"),
        ("C-SSRS", 4, "C-SSRS score 4 is outside 0–3"),
    ],
)
def test_out_of_range_is_refused_with_its_range(instrument: str, value: int, message: str) -> None:
    with pytest.raises(ScoreOutOfRange) as err:
        check_score(instrument, value)
    assert str(err.value) == message
    with pytest.raises(ValueError, match="outside"):
        severity_band(instrument, value, S)


def test_item9_range() -> None:
    assert [check_item9(v) for v in range(4)] == [0, 1, 2, 3]
    with pytest.raises(ScoreOutOfRange, match="PHQ-9 item 9 score 4 is outside 0–3"):
        check_item9(4)


def test_unknown_instrument_is_named() -> None:
    with pytest.raises(ValueError, match="Unknown instrument 'BDI'"):
        check_score("BDI", 3)


def test_change_from_baseline() -> None:
    c = change_from_baseline(20, 9)
    assert (c.points, c.pct) == (-11, -55.0)
    z = change_from_baseline(0, 4)
    assert (z.points, z.pct) == (4, None)


@pytest.mark.parametrize(
    ("instrument", "baseline", "latest", "expected"),
    [
        ("PHQ-9", 20, 10, True),  # exactly 50 %
        ("PHQ-9", 20, 11, False),  # 45 %
        ("PHQ-9", 0, 0, None),  # no percentage from a baseline of 0
        ("MADRS", 30, 15, True),
        ("MADRS", 30, 16, False),
        ("NRS", 10, 7, True),  # exactly 30 %
        ("NRS", 10, 8, False),  # 20 %
        ("NRS", 7, 5, False),  # 28.6 %
        ("PCL-5", 50, 40, True),  # drop of 10 points
        ("PCL-5", 50, 41, False),
        ("GAD-7", 20, 2, None),  # bands only
        ("C-SSRS", 3, 0, None),
    ],
)
def test_response(instrument: str, baseline: int, latest: int, expected: bool | None) -> None:
    assert is_response(instrument, baseline, latest, S) is expected


@pytest.mark.parametrize(
    ("instrument", "latest", "expected"),
    [
        ("PHQ-9", 4, True),
        ("PHQ-9", 5, False),
        ("MADRS", 9, True),
        ("MADRS", 10, False),
        ("GAD-7", 0, None),
        ("PCL-5", 0, None),
        ("NRS", 0, None),
    ],
)
def test_remission(instrument: str, latest: int, expected: bool | None) -> None:
    assert is_remission(instrument, latest, S) is expected


@pytest.mark.parametrize(
    ("instrument", "previous", "latest", "expected"),
    [
        ("PHQ-9", 8, 13, True),
        ("PHQ-9", 8, 12, False),
        ("GAD-7", 5, 9, True),
        ("GAD-7", 5, 8, False),
        ("PCL-5", 30, 40, True),
        ("PCL-5", 30, 39, False),
        ("NRS", 4, 6, True),
        ("NRS", 4, 5, False),
        ("MADRS", 0, 60, False),  # no agreed figure: never worsening by default
    ],
)
def test_worsening(instrument: str, previous: int, latest: int, expected: bool) -> None:
    assert is_worsening(instrument, previous, latest, S) is expected


def test_madrs_worsening_once_the_clinic_sets_a_figure() -> None:
    assert is_worsening("MADRS", 10, 16, ClinicPolicy(madrs_worsening_points=6)) is True


def test_thresholds_come_from_settings() -> None:
    strict = ClinicPolicy(phq9_response_pct=60.0, phq9_remission_below=3, nrs_worsening_points=1)
    assert is_response("PHQ-9", 20, 10, strict) is False
    assert is_remission("PHQ-9", 4, strict) is False
    assert is_worsening("NRS", 4, 5, strict) is True


@st.composite
def instrument_and_score(draw: st.DrawFn) -> tuple[Instrument, int]:
    inst = draw(st.sampled_from(list(Instrument)))
    low, high = INSTRUMENT_RANGES[inst]
    return inst, draw(st.integers(low, high))


@given(instrument_and_score())
def test_band_defined_over_the_whole_range(pair: tuple[Instrument, int]) -> None:
    inst, value = pair
    assert isinstance(severity_band(inst, value, S), str)


@given(st.sampled_from(list(Instrument)), st.data())
def test_band_is_monotone(inst: Instrument, data: st.DataObject) -> None:
    low, high = INSTRUMENT_RANGES[inst]
    a = data.draw(st.integers(low, high))
    b = data.draw(st.integers(a, high))
    order = [band for _, band in TABLES[inst.value]]
    assert order.index(severity_band(inst, a, S)) <= order.index(severity_band(inst, b, S))


@given(st.sampled_from(list(Instrument)), st.integers(-1000, 1000))
def test_out_of_range_always_refused(inst: Instrument, value: int) -> None:
    low, high = INSTRUMENT_RANGES[inst]
    if low <= value <= high:
        assert check_score(inst, value) == value
    else:
        with pytest.raises(ScoreOutOfRange):
            check_score(inst, value)


@given(st.integers(0, 27), st.integers(0, 27))
def test_phq9_response_matches_percent(baseline: int, latest: int) -> None:
    pct = change_from_baseline(baseline, latest).pct
    result = is_response("PHQ-9", baseline, latest, S)
    if pct is None:
        assert result is None
    else:
        assert result is (-pct >= 50.0 - 1e-9)


def test_nrs_bands_follow_the_clinic_setting() -> None:
    from kdash.domain.policy import DEFAULT_SETTINGS
    from kdash.rules.instruments import band_table, severity_band

    assert band_table("NRS", DEFAULT_SETTINGS) == [
        (0, 0, "none"),
        (1, 3, "mild"),
        (4, 6, "moderate"),
        (7, 10, "severe"),
    ]
    stricter = DEFAULT_SETTINGS.with_overrides({"nrs_band_starts": [1, 5, 8]})
    assert severity_band("NRS", 4, stricter) == "mild"
    assert severity_band("NRS", 7, stricter) == "moderate"
    assert severity_band("NRS", 4, DEFAULT_SETTINGS) == "moderate"


def test_band_table_covers_every_score_once() -> None:
    from kdash.domain.policy import DEFAULT_SETTINGS
    from kdash.domain.vocab import INSTRUMENT_RANGES
    from kdash.rules.instruments import band_table

    for instrument, (low, high) in INSTRUMENT_RANGES.items():
        table = band_table(instrument, DEFAULT_SETTINGS)
        covered = [s for lo, hi, _ in table for s in range(lo, hi + 1)]
        assert covered == list(range(low, high + 1)), instrument


def test_each_indication_has_one_main_instrument() -> None:
    from kdash.domain.vocab import Indication
    from kdash.rules.course import trial_instruments
    from kdash.rules.instruments import indications_by_main_instrument, main_instrument

    assert main_instrument(Indication.PTSD) is Instrument.PCL5
    assert main_instrument("depression") is Instrument.PHQ9
    assert main_instrument(Indication.BIPOLAR_DEPRESSION) is Instrument.PHQ9
    assert all(main_instrument(i) is Instrument.NRS for i in Indication if i.is_pain)
    table = indications_by_main_instrument()
    assert sorted(i for found in table.values() for i in found) == sorted(Indication)
    for inst, found in table.items():
        assert all(main_instrument(i) is inst for i in found)
    # The trial is judged first on the main instrument (PTSD: PCL-5, then PHQ-9).
    assert all(trial_instruments(i)[0] is main_instrument(i) for i in Indication)
    assert trial_instruments(Indication.PTSD) == (Instrument.PCL5, Instrument.PHQ9)
