"""The huddle's JSON summary, pinned whole: the counts the charge nurse reads at the top of the sheet.

A count under another name, a ready patient counted as not ready, or a score without a percentage
(a baseline of 0) breaking the export would each be seen by whoever reads the JSON.
"""

from __future__ import annotations

import json
from datetime import timedelta

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.interchange.huddle_json import CSV_COLUMNS, huddle_to_json, huddle_to_rows
from kdash.rules.huddle import build_huddle
from tests.records import DAY, calm_context, replace_ctx, score
from tests.rules.test_rules_huddle import with_today


def _three_patients() -> dict[str, object]:
    high_bp = with_today(calm_context(), bp_pre_sys=150, bp_pre_dia=95)
    not_cleared = replace_ctx(calm_context(pid=2, mrn="T0002", hour=11), screening_decisions=())
    from_zero = replace_ctx(
        calm_context(pid=3, mrn="T0003"),
        assessments=(score("GAD-7", 0, DAY - timedelta(days=20)), score("GAD-7", 4, DAY)),
    )
    return huddle_to_json(build_huddle(DAY, [high_bp, not_cleared, from_zero], S))


def test_the_summary_counts_each_thing_under_its_name() -> None:
    summary = _three_patients()["summary"]
    assert isinstance(summary, dict)
    counts = {k: v for k, v in summary.items() if k not in ("chairs_per_hour", "flag_counts")}
    assert counts == {"infusions": 3, "ready": 2, "not_ready": 1, "chairs": 4}
    assert [(h["hour"], h["chairs_used"]) for h in summary["chairs_per_hour"]] == [
        ("08:00", 0), ("09:00", 2), ("10:00", 2), ("11:00", 1), ("12:00", 1),
        ("13:00", 0), ("14:00", 0), ("15:00", 0), ("16:00", 0), ("17:00", 0),
    ]  # fmt: skip
    raised = {code: n for code, n in summary["flag_counts"].items() if n}
    assert raised == {"BP_HIGH": 1, "NOT_CLEARED": 1, "WORSENING": 1, "MISSING_BASELINE": 1}
    assert len(summary["flag_counts"]) == 15  # every flag, raised or not


def test_a_score_from_a_baseline_of_zero_has_no_percentage() -> None:
    data = _three_patients()
    json.dumps(data)
    patients = {p["mrn"]: p for p in data["patients"]}  # type: ignore[attr-defined]
    assert patients["T0003"]["scores"]["GAD-7"] == {
        "baseline": 0,
        "latest": 4,
        "change_points": 4,
        "change_pct": None,
        "band": "minimal",
        "response": None,
        "remission": None,
    }


def test_the_csv_row_of_a_patient_with_two_flags() -> None:
    ctx = with_today(calm_context(), bp_pre_sys=150, bp_pre_dia=95)
    ctx = replace_ctx(
        ctx, assessments=(*ctx.assessments, score("PHQ-9", 15, DAY, item9=0), score("GAD-7", 3, DAY))
    )
    not_cleared = replace_ctx(calm_context(pid=2, mrn="T0002", hour=11), screening_decisions=())
    rows = huddle_to_rows(build_huddle(DAY, [ctx, not_cleared], S))
    assert [r["mrn"] for r in rows] == ["T0002", "T0001"]  # the urgent one first
    assert list(rows[1]) == list(CSV_COLUMNS)
    assert rows[1] == {
        "date": "2025-03-03",
        "scheduled_at": "2025-03-03T09:00",
        "mrn": "T0001",
        "name": "Patient1, Test",
        "infusion_number": 3,
        "course_number": 1,
        "course_max": 10,
        "screening_status": "cleared",
        "ready": "yes",
        "urgent": 0,
        "warnings": 2,
        "infos": 0,
        "flags": "BP_HIGH;WORSENING",
        "messages": (
            "Pre-dose BP 150/95 at last infusion (2025-02-24) — above 140/90: re-check before dosing, "
            "consider delaying | PHQ-9 rose 6 points (9 on 2025-03-02 → 15 on 2025-03-03; worsening "
            "from 5) — clinically meaningful worsening: tell the provider"
        ),
        "PHQ-9 baseline": 20,
        "PHQ-9 latest": 15,
        "PHQ-9 band": "moderately severe",
        "GAD-7 baseline": 3,
        "GAD-7 latest": 3,
        "GAD-7 band": "minimal",
        "PCL-5 baseline": "",
        "PCL-5 latest": "",
        "PCL-5 band": "",
        "MADRS baseline": "",
        "MADRS latest": "",
        "MADRS band": "",
        "NRS baseline": 7,
        "NRS latest": 6,
        "NRS band": "moderate",
    }
    assert (rows[0]["ready"], rows[0]["urgent"], rows[0]["flags"]) == ("no", 1, "NOT_CLEARED")
