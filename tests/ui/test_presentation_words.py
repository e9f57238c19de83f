"""The words every page shows: flags, course progress, audit events, empty cells."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from kdash.domain.vocab import FLAG_WORDS, FlagCode, Severity
from kdash.rules.flags import Flag
from kdash.ui.presentation import (
    EMPTY,
    audit_action,
    audit_change,
    flag_label,
    flag_words,
    progress_words,
    ready_because,
)


def test_every_flag_has_words_and_no_code_shows() -> None:
    assert set(FLAG_WORDS) == set(FlagCode)
    for code in FlagCode:
        label = flag_label(code)
        assert "_" not in label
        assert label[0].isupper()
    assert flag_label("BP_CRISIS") == "Blood pressure crisis"
    assert flag_words([Flag(FlagCode.NO_ESCORT, "x"), Flag(FlagCode.COURSE_NEARLY_COMPLETE, "y")]) == (
        "No escort, Course nearly complete"
    )
    assert flag_words([]) == EMPTY


def test_progress_reads_done_booked_of_ten() -> None:
    assert progress_words(4, 2) == "4 done · 2 booked · of 10"
    assert progress_words(0, 0) == "0 done · 0 booked · of 10"


def test_ready_because_names_only_cleared_urgent_flags() -> None:
    cleared = Flag(
        FlagCode.SUICIDE_RISK, "m", blocking=False, cleared_by="reviewed 2026-12-03 by Dr X: safety plan"
    )
    assert cleared.severity is Severity.URGENT
    assert ready_because([cleared]) == "Suicide risk — reviewed 2026-12-03 by Dr X: safety plan"
    assert ready_because([Flag(FlagCode.SUICIDE_RISK, "m")]) == ""  # still blocking: not ready at all
    assert ready_because([Flag(FlagCode.NO_ESCORT, "m")]) == ""


def test_audit_action_and_change_in_words() -> None:
    assert audit_action("record_trial_outcome") == "Record trial outcome"
    before = json.dumps({"trial_outcome": "pending", "note": None})
    after = json.dumps({"trial_outcome": "benefit", "note": "better sleep"})
    assert audit_change(before, after) == "trial outcome: pending → benefit; note: — → better sleep"
    assert audit_change(None, None) == EMPTY
    assert audit_change(json.dumps({"a": 1}), None) == "a: 1 (removed)"
    assert audit_change(None, json.dumps({"rows": 3, "codes": ["x", "y"], "ok": False})) == (
        "rows: 3; codes: x, y; ok: no"
    )


SCALARS = st.none() | st.booleans() | st.integers() | st.text(alphabet="abc xyz0123", max_size=8)
FIELDS = st.dictionaries(st.from_regex(r"[a-z]{1,6}(_[a-z]{1,6})?", fullmatch=True), SCALARS, max_size=5)


@given(before=FIELDS, after=FIELDS)
def test_audit_change_names_every_field_without_json(before: dict, after: dict) -> None:
    text = audit_change(json.dumps(before) if before else None, json.dumps(after) if after else None)
    for key in {*before, *after}:
        assert f"{key.replace('_', ' ')}: " in text
    assert not any(ch in text for ch in '{}"')
    assert "None" not in text
    if not before and not after:
        assert text == EMPTY
