"""Table downloads: CSV a spreadsheet opens as text, never as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from kdash.ui.presentation import csv_bytes, trend_frame


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_formula_cells_are_neutralised_and_lists_flattened() -> None:
    frame = pd.DataFrame(
        [
            {"Name": "=cmd|' /C calc'!A0", "Trend": [20, 12, 9], "Score": 9},
            {"Name": "Plain", "Trend": [], "Score": 3},
        ]
    )
    rows = _rows(csv_bytes(frame))
    assert rows[0] == ["Name", "Trend", "Score"]
    assert rows[1] == ["'=cmd|' /C calc'!A0", "20 12 9", "9"]
    assert rows[2] == ["Plain", "", "3"]


@given(st.text(max_size=40))
def test_no_text_cell_starts_like_a_formula(text: str) -> None:
    rows = _rows(csv_bytes(pd.DataFrame([{"Note": text}])))
    assert len(rows) == 2  # a line break inside the cell never splits the row
    assert not rows[1][0].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_trend_frame_columns() -> None:
    frame = trend_frame([("PHQ-9", date(2026, 11, 1), 18), ("PHQ-9", date(2026, 11, 8), 9)])
    assert list(frame.columns) == ["Instrument", "Date", "Score"]
    assert frame["Score"].tolist() == [18, 9]
