"""`python -m kdash import data/example && python -m kdash huddle --date 2026-12-07 --format json`.

The example folder is the documented import format's worked example; its clinic day is built so that
each patient raises the flags named here. The JSON has the shape of docs/huddle-json.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_FLAGS = {
    "KD-1001": {"SUICIDE_RISK"},
    "KD-1002": {"BP_CRISIS"},
    "KD-1003": {"BP_HIGH"},
    "KD-1004": {"NO_ESCORT"},
    "KD-1005": {"ASSESSMENT_DUE"},
    "KD-1006": {"COURSE_FINAL_SESSION"},
    "KD-1007": {"WORSENING", "COURSE_NEARLY_COMPLETE"},
    "KD-1008": {"MISSING_BASELINE", "ASSESSMENT_DUE"},
    "KD-1009": {"ASSESSMENT_DUE"},
}
PATIENT_KEYS = {
    "mrn",
    "name",
    "scheduled_at",
    "infusion_number",
    "course_number",
    "course_max",
    "screening_status",
    "ready",
    "flags",
    "scores",
}
SCORE_KEYS = {"baseline", "latest", "change_points", "change_pct", "band", "response", "remission"}


def _kdash(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdash", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_example_import_then_huddle_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'example.db'}"
    imported = _kdash("import", "data/example", "--db", url)
    assert imported.returncode == 0, imported.stderr
    shown = _kdash("huddle", "--date", "2026-12-07", "--format", "json", "--db", url)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)

    assert set(data) == {"date", "summary", "patients"}
    assert data["date"] == "2026-12-07"
    assert data["summary"]["infusions"] == len(EXPECTED_FLAGS)
    flags = {p["mrn"]: {f["code"] for f in p["flags"]} for p in data["patients"]}
    assert flags == EXPECTED_FLAGS
    for patient in data["patients"]:
        assert set(patient) == PATIENT_KEYS
        assert patient["course_max"] == 10
        for flag in patient["flags"]:
            assert flag["severity"] in {"urgent", "warning", "info"}
            assert flag["message"]
        for code, score in patient["scores"].items():
            assert code in {"PHQ-9", "GAD-7", "PCL-5", "MADRS", "NRS"}
            assert set(score) == SCORE_KEYS
    by_mrn = {p["mrn"]: p for p in data["patients"]}
    # The patients with an urgent flag lead the list, in chair time (then MRN), as the team walks the
    # chairs; then the warnings. (Every booking of the day passed the booking rules when imported, so a
    # booking with screening not cleared or a trial outcome missing cannot be part of it.)
    assert [p["mrn"] for p in data["patients"]][:4] == ["KD-1001", "KD-1002", "KD-1003", "KD-1004"]
    assert by_mrn["KD-1006"]["infusion_number"] == 10
    assert by_mrn["KD-1006"]["ready"] is True
    assert by_mrn["KD-1001"]["ready"] is False
    assert by_mrn["KD-1009"]["screening_status"] == "cleared"  # a relative yes the provider accepted
