"""Every threshold tested at both sides, every flag's severity and the flag order pinned.

Each of these was a surviving mutant of the clinical core: a changed limit (140 → 141, 30 % → 29 %,
"ends below 10" → "ends at or below 10"), a changed severity, or flags sorted another way, and no test
failed. The figures come from the clinic's policy (kdash.domain.policy), with their sources cited there.
"""

from __future__ import annotations

import pytest

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.domain.vocab import FLAG_SEVERITY, FlagCode, Instrument, Severity, TrialOutcome
from kdash.rules.course import _judge
from kdash.rules.flags import Flag, severity_counts, sort_flags
from kdash.rules.instruments import is_remission, is_response, is_worsening
from tests.records import calm_context
from tests.rules.test_rules_huddle import codes, with_today

# --- blood pressure before dosing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sys", "dia", "flagged"),
    [
        (S.bp_high_systolic, 80, False),
        (S.bp_high_systolic + 1, 80, True),
        (120, S.bp_high_diastolic, False),
        (120, S.bp_high_diastolic + 1, True),
    ],
)
def test_bp_high_starts_one_above_the_policy_figure(sys: int, dia: int, flagged: bool) -> None:
    got = codes(with_today(calm_context(), bp_pre_sys=sys, bp_pre_dia=dia))
    assert (FlagCode.BP_HIGH in got) is flagged
    assert FlagCode.BP_CRISIS not in got


@pytest.mark.parametrize(
    ("sys", "dia", "crisis"),
    [
        (S.bp_crisis_systolic, 80, False),
        (S.bp_crisis_systolic + 1, 80, True),
        (150, S.bp_crisis_diastolic, False),
        (150, S.bp_crisis_diastolic + 1, True),
    ],
)
def test_bp_crisis_starts_one_above_the_policy_figure(sys: int, dia: int, crisis: bool) -> None:
    got = codes(with_today(calm_context(), bp_pre_sys=sys, bp_pre_dia=dia))
    assert (FlagCode.BP_CRISIS in got) is crisis
    if crisis:
        assert FlagCode.BP_HIGH not in got  # the crisis replaces the warning


# --- response, remission, worsening ----------------------------------------------------------------


def test_nrs_response_at_30_percent_and_not_at_29() -> None:
    assert S.nrs_response_pct == 30
    assert is_response(Instrument.NRS, 10, 7, S) is True  # 30 %
    assert is_response(Instrument.NRS, 100 // 10, 8, S) is False  # 20 %
    # 29 % on a scale of 0–10 needs a finer policy: the rule is exact in integers.
    finer = S.with_overrides({"nrs_response_pct": 29.0})
    assert is_response(Instrument.NRS, 10, 7, finer) is True
    stricter = S.with_overrides({"nrs_response_pct": 31.0})
    assert is_response(Instrument.NRS, 10, 7, stricter) is False


@pytest.mark.parametrize(("latest", "response"), [(10, True), (11, False)])
def test_phq9_response_at_half_the_baseline(latest: int, response: bool) -> None:
    assert is_response(Instrument.PHQ9, 20, latest, S) is response


@pytest.mark.parametrize(
    ("latest", "remission"), [(S.phq9_remission_below - 1, True), (S.phq9_remission_below, False)]
)
def test_phq9_remission_below_the_policy_figure(latest: int, remission: bool) -> None:
    assert is_remission(Instrument.PHQ9, latest, S) is remission


@pytest.mark.parametrize(
    ("rise", "worse"), [(S.phq9_worsening_points, True), (S.phq9_worsening_points - 1, False)]
)
def test_phq9_worsening_at_the_policy_rise(rise: int, worse: bool) -> None:
    assert is_worsening(Instrument.PHQ9, 10, 10 + rise, S) is worse


# --- the trial ---------------------------------------------------------------------------------------


def test_trial_ends_below_10_is_benefit_and_at_10_is_not() -> None:
    below = S.trial_phq9_benefit_below
    assert below == 10
    # From 15, neither ending is a 50 % drop: only "ends below 10" can make it a benefit.
    assert _judge(Instrument.PHQ9, 15, below - 1, S)[0] is TrialOutcome.BENEFIT
    assert _judge(Instrument.PHQ9, 15, below, S)[0] is TrialOutcome.NO_BENEFIT


@pytest.mark.parametrize(("after", "outcome"), [(7, TrialOutcome.BENEFIT), (8, TrialOutcome.NO_BENEFIT)])
def test_trial_nrs_benefit_at_30_percent(after: int, outcome: TrialOutcome) -> None:
    assert _judge(Instrument.NRS, 10, after, S)[0] is outcome


@pytest.mark.parametrize(
    ("drop", "outcome"),
    [
        (S.trial_pcl5_benefit_points, TrialOutcome.BENEFIT),
        (S.trial_pcl5_benefit_points - 1, TrialOutcome.NO_BENEFIT),
    ],
)
def test_trial_pcl5_benefit_at_the_policy_drop(drop: int, outcome: TrialOutcome) -> None:
    assert _judge(Instrument.PCL5, 50, 50 - drop, S)[0] is outcome


# --- severities and order ----------------------------------------------------------------------------

PINNED_SEVERITY = {
    FlagCode.SUICIDE_RISK: Severity.URGENT,
    FlagCode.BP_CRISIS: Severity.URGENT,
    FlagCode.BP_HIGH: Severity.WARNING,
    FlagCode.NOT_CLEARED: Severity.URGENT,
    FlagCode.RESCREEN_DUE: Severity.WARNING,
    FlagCode.NO_ESCORT: Severity.WARNING,
    FlagCode.TRIAL_OUTCOME_MISSING: Severity.URGENT,
    FlagCode.TRIAL_NO_BENEFIT: Severity.URGENT,
    FlagCode.COURSE_LIMIT_REACHED: Severity.URGENT,
    FlagCode.COURSE_FINAL_SESSION: Severity.INFO,
    FlagCode.COURSE_NEARLY_COMPLETE: Severity.INFO,
    FlagCode.WORSENING: Severity.WARNING,
    FlagCode.BENEFIT_WINDOW_ENDING: Severity.INFO,
    FlagCode.MISSING_BASELINE: Severity.WARNING,
    FlagCode.ASSESSMENT_DUE: Severity.INFO,
}


@pytest.mark.parametrize("code", list(FlagCode))
def test_every_flag_has_its_pinned_severity(code: FlagCode) -> None:
    assert FLAG_SEVERITY[code] is PINNED_SEVERITY[code]
    assert Flag(code, "x").severity is PINNED_SEVERITY[code]


def test_flags_sort_urgent_then_warning_then_info_then_vocabulary_order() -> None:
    flags = [Flag(code, code.value) for code in reversed(list(FlagCode))]
    ordered = [f.code for f in sort_flags(flags)]
    assert ordered == [
        FlagCode.SUICIDE_RISK,
        FlagCode.BP_CRISIS,
        FlagCode.NOT_CLEARED,
        FlagCode.TRIAL_OUTCOME_MISSING,
        FlagCode.TRIAL_NO_BENEFIT,
        FlagCode.COURSE_LIMIT_REACHED,
        FlagCode.BP_HIGH,
        FlagCode.RESCREEN_DUE,
        FlagCode.NO_ESCORT,
        FlagCode.WORSENING,
        FlagCode.MISSING_BASELINE,
        FlagCode.COURSE_FINAL_SESSION,
        FlagCode.COURSE_NEARLY_COMPLETE,
        FlagCode.BENEFIT_WINDOW_ENDING,
        FlagCode.ASSESSMENT_DUE,
    ]
    assert severity_counts(flags) == (6, 5, 4)


def test_only_a_blocking_urgent_flag_blocks() -> None:
    assert Flag(FlagCode.SUICIDE_RISK, "x").blocks is True
    assert Flag(FlagCode.SUICIDE_RISK, "x", blocking=False).blocks is False
    assert Flag(FlagCode.BP_HIGH, "x").blocks is False
    assert Flag(FlagCode.ASSESSMENT_DUE, "x").blocks is False


# --- which reading the BP flags judge, and what they say ---------------------------------------------


def _message(ctx: object, code: FlagCode) -> str:
    from tests.rules.test_rules_huddle import entry

    return next(f.message for f in entry(ctx).flags if f.code is code)  # type: ignore[arg-type]


def test_todays_pre_dose_reading_is_judged_and_said_to_be_today() -> None:
    from tests.records import course, infusion
    from tests.rules.test_rules_huddle import replace_ctx

    ctx = calm_context()
    infs = list(ctx.courses[0].infusions)
    today = infs[2]
    infs[2] = infusion(
        3,
        today.scheduled_at.date(),
        status=today.status,
        hour=today.scheduled_at.hour,
        bp_pre_sys=150,
        bp_pre_dia=85,
    )
    assert _message(replace_ctx(ctx, courses=(course(infs),)), FlagCode.BP_HIGH) == (
        "Pre-dose BP 150/85 today — above 140/90: re-check before dosing, consider delaying"
    )


def test_last_infusions_reading_is_named_with_its_date() -> None:
    assert _message(with_today(calm_context(), bp_pre_sys=150, bp_pre_dia=85), FlagCode.BP_HIGH) == (
        "Pre-dose BP 150/85 at last infusion (2025-02-24) — above 140/90: re-check before dosing, "
        "consider delaying"
    )


def test_a_crisis_names_every_reading_above_the_limit() -> None:
    ctx = with_today(calm_context(), bp_pre_sys=185, bp_pre_dia=85, bp_discharge_sys=190, bp_discharge_dia=80)
    assert _message(ctx, FlagCode.BP_CRISIS) == (
        "BP 185/85 at last infusion (2025-02-24)'s pre-dose; BP 190/80 at last infusion (2025-02-24)'s "
        "discharge — above the 180/120 crisis limit: do not infuse, call the provider"
    )
