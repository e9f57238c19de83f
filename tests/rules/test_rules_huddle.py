"""The morning huddle: each flag raised and not raised, readiness, order, summary, scores, JSON, speed."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import PatientContext, ScreeningItemRec
from kdash.domain.vocab import (
    FLAG_SEVERITY,
    MAX_INFUSIONS_PER_COURSE,
    CourseStatus,
    FlagCode,
    Indication,
    InfusionStatus,
    ScreeningResult,
    TrialOutcome,
)
from kdash.interchange.huddle_json import huddle_to_json
from kdash.rules.huddle import HuddleEntry, build_huddle, sort_entries
from tests.records import (
    DAY,
    calm_context,
    course,
    decision,
    infusion,
    items,
    replace_ctx,
    review,
    score,
    series,
)


def entry(ctx: PatientContext, s: ClinicPolicy = S) -> HuddleEntry:
    h = build_huddle(DAY, [ctx], s)
    assert len(h.entries) == 1
    return h.entries[0]


def codes(ctx: PatientContext, s: ClinicPolicy = S) -> set[FlagCode]:
    return {f.code for f in entry(ctx, s).flags}


def message(ctx: PatientContext, code: FlagCode) -> str:
    return next(f.message for f in entry(ctx).flags if f.code is code)


def with_today(ctx: PatientContext, **vitals: object) -> PatientContext:
    """The calm patient with the given fields on infusion 2 (the last one before today)."""
    c = ctx.courses[0]
    infs = list(c.infusions)
    infs[1] = infusion(2, infs[1].scheduled_at.date(), **vitals)  # type: ignore[arg-type]
    return replace_ctx(ctx, courses=(course(infs),))


def test_calm_patient_has_no_flag_and_is_ready() -> None:
    e = entry(calm_context())
    assert e.flags == ()
    assert e.ready is True


# --- SUICIDE_RISK -----------------------------------------------------------------------------------------


def test_item9_positive_raises_suicide_risk_and_blocks() -> None:
    ctx = calm_context()
    ctx = replace_ctx(ctx, assessments=(*ctx.assessments, score("PHQ-9", 9, DAY, item9=2)))
    e = entry(ctx)
    assert FlagCode.SUICIDE_RISK in {f.code for f in e.flags}
    assert "PHQ-9 item 9 answered 2" in message(ctx, FlagCode.SUICIDE_RISK)
    assert e.ready is False


def test_only_the_latest_phq9_item9_counts() -> None:
    ctx = calm_context()
    older = score("PHQ-9", 9, DAY - timedelta(days=20), item9=3)
    assert FlagCode.SUICIDE_RISK not in codes(replace_ctx(ctx, assessments=(older, *ctx.assessments)))


def test_cssrs_high_raises_and_lower_does_not() -> None:
    ctx = calm_context()
    high = replace_ctx(ctx, assessments=(*ctx.assessments, score("C-SSRS", 3, DAY)))
    assert "C-SSRS screener high risk" in message(high, FlagCode.SUICIDE_RISK)
    moderate = replace_ctx(ctx, assessments=(*ctx.assessments, score("C-SSRS", 2, DAY)))
    assert FlagCode.SUICIDE_RISK not in codes(moderate)


def test_review_after_the_score_shows_and_stops_blocking() -> None:
    ctx = calm_context()
    ctx = replace_ctx(
        ctx, assessments=(*ctx.assessments, score("PHQ-9", 9, DAY - timedelta(days=1), item9=1))
    )
    reviewed = replace_ctx(ctx, suicide_reviews=(review(DAY - timedelta(days=1)),))
    e = entry(reviewed)
    flag = next(f for f in e.flags if f.code is FlagCode.SUICIDE_RISK)
    assert "reviewed" in flag.message
    assert "safety plan" in flag.message
    assert e.ready is True
    # The card says which review made an urgent patient ready: date, reviewer and what was done.
    assert flag.cleared_by.startswith(f"reviewed {DAY - timedelta(days=1)} by ")
    assert flag.cleared_by.endswith(": safety plan")
    stale = replace_ctx(ctx, suicide_reviews=(review(DAY - timedelta(days=10)),))
    assert entry(stale).ready is False


# --- blood pressure ---------------------------------------------------------------------------------------


def test_bp_crisis_on_any_reading_of_the_latest_infusion() -> None:
    ctx = with_today(calm_context(), bp_pre_sys=130, bp_pre_dia=80, bp_peak_sys=186, bp_peak_dia=104)
    text = message(ctx, FlagCode.BP_CRISIS)
    assert text.startswith("BP 186/104 at last infusion (2025-02-24)'s peak")
    assert "180/120 crisis limit: do not infuse, call the provider" in text
    assert entry(ctx).ready is False


def test_bp_crisis_diastolic_alone_and_not_at_the_limit() -> None:
    assert FlagCode.BP_CRISIS in codes(with_today(calm_context(), bp_discharge_sys=150, bp_discharge_dia=121))
    at_limit = with_today(calm_context(), bp_pre_sys=180, bp_pre_dia=120)
    assert FlagCode.BP_CRISIS not in codes(at_limit)


def test_bp_crisis_only_on_the_latest_infusion_with_vitals() -> None:
    ctx = calm_context()
    c = ctx.courses[0]
    infs = list(c.infusions)
    infs[0] = infusion(1, infs[0].scheduled_at.date(), bp_peak_sys=200, bp_peak_dia=100)
    infs[1] = infusion(2, infs[1].scheduled_at.date(), bp_pre_sys=120, bp_pre_dia=80)
    assert FlagCode.BP_CRISIS not in codes(replace_ctx(ctx, courses=(course(infs),)))
    infs[1] = infusion(2, infs[1].scheduled_at.date())  # no vitals: infusion 1 is the latest with vitals
    assert FlagCode.BP_CRISIS in codes(replace_ctx(ctx, courses=(course(infs),)))


def test_bp_high_warns_without_blocking_and_not_with_crisis() -> None:
    high = with_today(calm_context(), bp_pre_sys=150, bp_pre_dia=85)
    e = entry(high)
    assert FlagCode.BP_HIGH in {f.code for f in e.flags}
    assert "Pre-dose BP 150/85" in message(high, FlagCode.BP_HIGH)
    assert e.ready is True
    assert any(r.startswith("Re-check") for r in e.readiness.reasons)
    both = with_today(calm_context(), bp_pre_sys=150, bp_pre_dia=95, bp_peak_sys=190, bp_peak_dia=100)
    assert codes(both) & {FlagCode.BP_HIGH, FlagCode.BP_CRISIS} == {FlagCode.BP_CRISIS}
    assert FlagCode.BP_HIGH not in codes(with_today(calm_context(), bp_pre_sys=140, bp_pre_dia=90))
    assert FlagCode.BP_HIGH in codes(with_today(calm_context(), bp_pre_sys=120, bp_pre_dia=91))


# --- screening --------------------------------------------------------------------------------------------


def test_not_cleared_blocks() -> None:
    ctx = replace_ctx(calm_context(), screening_decisions=())
    e = entry(ctx)
    assert FlagCode.NOT_CLEARED in {f.code for f in e.flags}
    assert e.screening.status.value == "needs_review"
    assert e.ready is False


def test_rescreen_due_after_twelve_months() -> None:
    old = DAY - timedelta(days=400)
    ctx = replace_ctx(calm_context(), screening_items=tuple(items(old)), screening_decisions=(decision(old),))
    assert FlagCode.RESCREEN_DUE in codes(ctx)
    assert FlagCode.RESCREEN_DUE not in codes(calm_context())


def test_rescreen_due_for_new_course_after_completed_one() -> None:
    ctx = calm_context()
    old_course = course(series(DAY - timedelta(days=200), 10), status=CourseStatus.COMPLETED, cid=9)
    new = course(
        [infusion(1, DAY, InfusionStatus.SCHEDULED, course_id=2)],
        number=2,
        cid=2,
        outcome=TrialOutcome.PENDING,
    )
    screened = DAY - timedelta(days=250)
    ctx = replace_ctx(
        ctx,
        courses=(old_course, new),
        screening_items=tuple(items(screened)),
        screening_decisions=(decision(screened),),
    )
    assert "Course 2 follows course 1" in message(ctx, FlagCode.RESCREEN_DUE)


# --- escort ---------------------------------------------------------------------------------------------


def test_no_escort_when_not_confirmed() -> None:
    ctx = calm_context()
    infs = list(ctx.courses[0].infusions)
    infs[2] = infusion(3, DAY, InfusionStatus.SCHEDULED, escort=None)
    unconfirmed = replace_ctx(ctx, courses=(course(infs),))
    e = entry(unconfirmed)
    assert FlagCode.NO_ESCORT in {f.code for f in e.flags}
    assert e.ready is False
    assert FlagCode.NO_ESCORT not in codes(ctx)


# --- trial ----------------------------------------------------------------------------------------------


def test_trial_outcome_missing_with_next_booked() -> None:
    ctx = calm_context()
    pending = replace_ctx(ctx, courses=(course(ctx.courses[0].infusions, outcome=TrialOutcome.PENDING),))
    text = message(pending, FlagCode.TRIAL_OUTCOME_MISSING)
    assert "outcome is still pending" in text
    assert "suggested: benefit" in text  # PHQ-9 20 → 10 after the trial
    assert entry(pending).ready is False


def test_no_trial_flag_on_the_trial_day_itself() -> None:
    ctx = calm_context()
    trial_today = course([infusion(1, DAY, InfusionStatus.SCHEDULED)], outcome=TrialOutcome.PENDING)
    found = codes(replace_ctx(ctx, courses=(trial_today,)))
    assert not found & {FlagCode.TRIAL_OUTCOME_MISSING, FlagCode.TRIAL_NO_BENEFIT}


def test_trial_no_benefit_yet_booked() -> None:
    ctx = calm_context()
    no = replace_ctx(ctx, courses=(course(ctx.courses[0].infusions, outcome=TrialOutcome.NO_BENEFIT),))
    assert "no benefit" in message(no, FlagCode.TRIAL_NO_BENEFIT)
    assert entry(no).ready is False


# --- course position ---------------------------------------------------------------------------------------


def _at_position(n: int) -> PatientContext:
    infs = [*series(DAY - timedelta(days=2 * n), n - 1), infusion(n, DAY, InfusionStatus.SCHEDULED)]
    return replace_ctx(calm_context(), courses=(course(infs),))


def test_course_position_flags() -> None:
    seen = {n: codes(_at_position(n)) for n in range(1, 12)}
    position_codes = {
        FlagCode.COURSE_NEARLY_COMPLETE,
        FlagCode.COURSE_FINAL_SESSION,
        FlagCode.COURSE_LIMIT_REACHED,
    }
    for n in range(1, 8):
        assert not seen[n] & position_codes, n
    assert seen[8] & position_codes == {FlagCode.COURSE_NEARLY_COMPLETE}
    assert seen[9] & position_codes == {FlagCode.COURSE_NEARLY_COMPLETE}
    assert seen[10] & position_codes == {FlagCode.COURSE_FINAL_SESSION}
    assert seen[11] & position_codes == {FlagCode.COURSE_LIMIT_REACHED}
    assert entry(_at_position(11)).ready is False
    assert "infusion 11 of course 1 — the maximum is 10" in message(
        _at_position(11), FlagCode.COURSE_LIMIT_REACHED
    )


def test_cancelled_infusions_do_not_move_the_position() -> None:
    infs = [
        *series(DAY - timedelta(days=30), 9),
        infusion(10, DAY - timedelta(days=1), InfusionStatus.CANCELLED),
        infusion(10, DAY, InfusionStatus.SCHEDULED),
    ]
    found = codes(replace_ctx(calm_context(), courses=(course(infs),)))
    assert FlagCode.COURSE_FINAL_SESSION in found
    assert FlagCode.COURSE_LIMIT_REACHED not in found


# --- scores ---------------------------------------------------------------------------------------------


def test_worsening_since_previous_score() -> None:
    ctx = calm_context()
    worse = replace_ctx(ctx, assessments=(*ctx.assessments, score("PHQ-9", 14, DAY, item9=0)))
    assert "PHQ-9 rose 5 points (9 on 2025-03-02 → 14 on 2025-03-03" in message(worse, FlagCode.WORSENING)
    small = replace_ctx(ctx, assessments=(*ctx.assessments, score("PHQ-9", 13, DAY, item9=0)))
    assert FlagCode.WORSENING not in codes(small)
    pain = replace_ctx(ctx, assessments=(*ctx.assessments, score("NRS", 8, DAY)))
    assert "NRS rose 2 points" in message(pain, FlagCode.WORSENING)
    madrs = replace_ctx(
        ctx,
        assessments=(*ctx.assessments, score("MADRS", 5, DAY - timedelta(days=3)), score("MADRS", 50, DAY)),
    )
    assert FlagCode.WORSENING not in codes(madrs)


def test_benefit_window_ending_between_10_and_12_weeks() -> None:
    ctx = calm_context()

    def after_gap(days: int) -> PatientContext:
        old = course(
            series(DAY - timedelta(days=days + 20), 10, first_number=1), status=CourseStatus.COMPLETED
        )
        old = course(
            [*old.infusions[:-1], infusion(10, DAY - timedelta(days=days))], status=CourseStatus.COMPLETED
        )
        new = course(
            [infusion(1, DAY, InfusionStatus.SCHEDULED)], number=2, cid=2, outcome=TrialOutcome.PENDING
        )
        return replace_ctx(ctx, courses=(old, new))

    assert FlagCode.BENEFIT_WINDOW_ENDING not in codes(after_gap(69))
    assert FlagCode.BENEFIT_WINDOW_ENDING in codes(after_gap(70))
    assert "ends 2025-03-17" in message(after_gap(70), FlagCode.BENEFIT_WINDOW_ENDING)
    assert FlagCode.BENEFIT_WINDOW_ENDING in codes(after_gap(84))
    assert FlagCode.BENEFIT_WINDOW_ENDING not in codes(after_gap(85))


def test_missing_baseline_and_same_day_counts() -> None:
    ctx = calm_context()
    trial_day = ctx.courses[0].infusions[0].scheduled_at.date()
    after_only = tuple(a for a in ctx.assessments if a.taken_on > trial_day)
    assert "No PHQ-9 score on or before the trial" in message(
        replace_ctx(ctx, assessments=after_only), FlagCode.MISSING_BASELINE
    )
    assert FlagCode.MISSING_BASELINE not in codes(ctx)  # PHQ-9 taken on the trial day is the baseline
    nrs_only = tuple(a for a in ctx.assessments if a.instrument == "NRS")
    assert FlagCode.MISSING_BASELINE in codes(replace_ctx(ctx, assessments=nrs_only))
    pain = calm_context(indication=Indication.CRPS)
    assert FlagCode.MISSING_BASELINE not in codes(replace_ctx(pain, assessments=nrs_only))


def test_assessment_due_window_is_seven_days_including_today() -> None:
    ctx = calm_context()
    base = tuple(a for a in ctx.assessments if a.taken_on < DAY - timedelta(days=1))

    def with_last(days_ago: int) -> PatientContext:
        return replace_ctx(ctx, assessments=(*base, score("GAD-7", 5, DAY - timedelta(days=days_ago))))

    assert FlagCode.ASSESSMENT_DUE not in codes(with_last(0))
    assert FlagCode.ASSESSMENT_DUE not in codes(with_last(6))
    assert FlagCode.ASSESSMENT_DUE in codes(with_last(7))
    assert "last: GAD-7 on 2025-02-24" in message(with_last(7), FlagCode.ASSESSMENT_DUE)
    cssrs_only = replace_ctx(ctx, assessments=(*base, score("C-SSRS", 0, DAY)))
    assert FlagCode.ASSESSMENT_DUE in codes(cssrs_only)


def test_scores_baseline_latest_and_judgement() -> None:
    ctx = calm_context()
    ctx = replace_ctx(
        ctx,
        assessments=(
            score("PHQ-9", 22, DAY - timedelta(days=30)),
            *ctx.assessments,
            score("GAD-7", 12, DAY),
            score("C-SSRS", 0, DAY),
        ),
    )
    scores = entry(ctx).scores
    assert set(scores) == {"PHQ-9", "NRS", "GAD-7"}
    phq = scores["PHQ-9"]
    assert (phq.baseline, phq.latest, phq.change_points, phq.band, phq.response, phq.remission) == (
        20,
        9,
        -11,
        "mild",
        True,
        False,
    )
    assert phq.change_pct == -55.0
    gad = scores["GAD-7"]  # only one score: it is its own baseline
    assert (gad.baseline, gad.change_points, gad.response, gad.remission, gad.band) == (
        12,
        0,
        None,
        None,
        "moderate",
    )


def test_future_records_are_ignored() -> None:
    ctx = calm_context()
    later = replace_ctx(
        ctx, assessments=(*ctx.assessments, score("PHQ-9", 27, DAY + timedelta(days=1), item9=3))
    )
    assert entry(later).flags == ()


# --- the day, its order and summary ------------------------------------------------------------------------


def test_patients_without_infusion_that_day_are_left_out() -> None:
    ctx = calm_context()
    moved = course(
        [*ctx.courses[0].infusions[:2], infusion(3, DAY + timedelta(days=1), InfusionStatus.SCHEDULED)]
    )
    cancelled = course([*ctx.courses[0].infusions[:2], infusion(3, DAY, InfusionStatus.CANCELLED)])
    h = build_huddle(DAY, [replace_ctx(ctx, courses=(moved,)), replace_ctx(ctx, courses=(cancelled,))], S)
    assert h.entries == ()
    assert h.summary.infusions == 0


def test_urgency_order_then_time_then_mrn() -> None:
    calm_early = calm_context(1, "T0003", hour=8)
    calm_late_b = calm_context(2, "T0002", hour=11)
    calm_late_a = calm_context(3, "T0001", hour=11)
    warn = with_today(calm_context(4, "T0004", hour=12), bp_pre_sys=150, bp_pre_dia=80)
    urgent = replace_ctx(calm_context(5, "T0005", hour=13), screening_decisions=())
    h = build_huddle(DAY, [calm_late_b, calm_early, urgent, calm_late_a, warn], S)
    assert [e.patient.mrn for e in h.entries] == ["T0005", "T0004", "T0003", "T0001", "T0002"]


def test_within_a_severity_chair_time_not_flag_count() -> None:
    # Two urgent flags at 10:00 do not jump ahead of one urgent flag at 08:00: the team meets the
    # patients in the order they sit down.
    two_urgent_late = replace_ctx(
        with_today(calm_context(1, "T0001", hour=10), bp_peak_sys=190), screening_decisions=()
    )
    one_urgent_early = replace_ctx(calm_context(2, "T0002", hour=8), screening_decisions=())
    warning_earliest = with_today(calm_context(3, "T0003", hour=7), bp_pre_sys=150)
    h = build_huddle(DAY, [two_urgent_late, warning_earliest, one_urgent_early], S)
    assert [e.patient.mrn for e in h.entries] == ["T0002", "T0001", "T0003"]
    assert not any(f.cleared_by for e in h.entries for f in e.flags)


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(6))))
def test_order_does_not_depend_on_input_order(order: list[int]) -> None:
    contexts = [
        calm_context(1, "T0001", hour=9),
        replace_ctx(calm_context(2, "T0002", hour=9), screening_decisions=()),
        with_today(calm_context(3, "T0003", hour=10), bp_pre_sys=150),
        calm_context(4, "T0004", hour=9),
        replace_ctx(calm_context(5, "T0005", hour=8), assessments=()),
        with_today(calm_context(6, "T0006", hour=10), bp_peak_sys=190),
    ]
    baseline = [e.patient.mrn for e in build_huddle(DAY, contexts, S).entries]
    shuffled = [e.patient.mrn for e in build_huddle(DAY, [contexts[i] for i in order], S).entries]
    assert shuffled == baseline
    entries = build_huddle(DAY, contexts, S).entries
    assert list(entries) == sort_entries(reversed(entries))


def test_flags_within_a_patient_most_severe_first() -> None:
    ctx = replace_ctx(calm_context(), screening_decisions=(), assessments=())
    e = entry(ctx)
    ranks = [("urgent", "warning", "info").index(FLAG_SEVERITY[f.code].value) for f in e.flags]
    assert ranks == sorted(ranks)
    assert len(e.flags) >= 3


def test_summary_chairs_per_hour_and_counts() -> None:
    contexts = [
        calm_context(1, "T0001", hour=8),
        calm_context(2, "T0002", hour=9),
        replace_ctx(calm_context(3, "T0003", hour=9), screening_decisions=()),
    ]
    s = build_huddle(DAY, contexts, S).summary
    loads = {load.hour: load.chairs_used for load in s.chairs_per_hour}
    assert loads == {8: 1, 9: 3, 10: 2, 11: 0, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0, 17: 0}
    assert (s.infusions, s.ready, s.not_ready) == (3, 2, 1)
    assert s.flag_counts[FlagCode.NOT_CLEARED] == 1
    assert s.flag_counts[FlagCode.BP_CRISIS] == 0
    short = ClinicPolicy(infusion_minutes=30, recovery_minutes=30)
    loads = {
        load.hour: load.chairs_used for load in build_huddle(DAY, contexts, short).summary.chairs_per_hour
    }
    assert (loads[9], loads[10]) == (2, 0)


def test_json_shape() -> None:
    ctx = with_today(calm_context(), bp_pre_sys=150, bp_pre_dia=95)
    data = huddle_to_json(build_huddle(DAY, [ctx], S))
    json.dumps(data)  # serialisable as is
    assert set(data) == {"date", "summary", "patients"}
    assert data["date"] == "2025-03-03"
    (p,) = data["patients"]
    assert set(p) == {
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
    assert p["course_max"] == MAX_INFUSIONS_PER_COURSE
    assert p["scheduled_at"] == "2025-03-03T09:00"
    assert p["flags"] == [{"code": "BP_HIGH", "severity": "warning", "message": p["flags"][0]["message"]}]
    assert set(p["scores"]["PHQ-9"]) == {
        "baseline",
        "latest",
        "change_points",
        "change_pct",
        "band",
        "response",
        "remission",
    }
    assert p["scores"]["NRS"]["change_pct"] == -14.3
    assert data["summary"]["flag_counts"]["BP_HIGH"] == 1
    assert data["summary"]["chairs_per_hour"][1] == {"hour": "09:00", "chairs_used": 1}


def test_screening_item_recorded_after_the_day_is_ignored() -> None:
    ctx = calm_context()
    later = ScreeningItemRec("pregnancy", ScreeningResult.YES, DAY + timedelta(days=2))
    assert entry(replace_ctx(ctx, screening_items=(*ctx.screening_items, later))).ready is True
