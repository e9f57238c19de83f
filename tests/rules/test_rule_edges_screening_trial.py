"""Edges of the screening, score, trial and blood-pressure rules that a changed rule would cross.

Each test sits at the point where a slightly different rule gives a different answer a nurse would
see: an "unknown" required item read as yes, the earlier of two answers given the same day, worsening
that waits for a third score, the oldest score taken as baseline, a trial flag before the trial is given,
today's own blood pressure ignored.
"""

from __future__ import annotations

from datetime import timedelta

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.domain.records import PatientContext, ScreeningItemRec
from kdash.domain.vocab import (
    FlagCode,
    InfusionStatus,
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
    TrialOutcome,
)
from kdash.rules.course import suggest_trial_outcome
from kdash.rules.screening import latest_answers, latest_decision, screening_status
from tests.records import DAY, calm_context, course, decision, infusion, items, replace_ctx, score
from tests.rules.test_rules_huddle import codes, entry, message

YES, NO, UNKNOWN = ScreeningResult.YES, ScreeningResult.NO, ScreeningResult.UNKNOWN
D = DAY - timedelta(days=30)

# --- a required item answered "unknown" is not a yes ---------------------------------------------------


def test_a_required_item_answered_unknown_keeps_the_screening_incomplete_even_when_cleared() -> None:
    result = screening_status(items(D, consent_signed=UNKNOWN), [decision(D)], S)
    assert result.status is ScreeningStatus.INCOMPLETE
    assert result.reasons == ("Required item not yet yes (unknown): Informed consent signed",)
    assert screening_status(items(D), [decision(D)], S).status is ScreeningStatus.CLEARED


def test_the_huddle_blocks_a_patient_whose_required_item_is_unknown() -> None:
    ctx = replace_ctx(calm_context(), screening_items=tuple(items(D, escort_arranged=UNKNOWN)))
    assert FlagCode.NOT_CLEARED in codes(ctx)
    assert entry(ctx).ready is False
    assert FlagCode.NOT_CLEARED not in codes(calm_context())


# --- on the same day, the answer given later wins ----------------------------------------------------


def test_a_later_answer_on_the_same_day_replaces_the_earlier_one() -> None:
    corrected = [*items(D, pregnancy=YES), ScreeningItemRec("pregnancy", NO, D)]
    assert latest_answers(corrected)["pregnancy"].result is NO
    assert screening_status(corrected, [decision(D)], S).status is ScreeningStatus.CLEARED
    reversed_ = [*items(D), ScreeningItemRec("pregnancy", YES, D)]
    assert screening_status(reversed_, [decision(D)], S).status is ScreeningStatus.NOT_ELIGIBLE


def test_an_earlier_day_answer_listed_later_does_not_replace_a_newer_one() -> None:
    answers = [
        ScreeningItemRec("pregnancy", NO, D + timedelta(days=1)),
        ScreeningItemRec("pregnancy", YES, D),
    ]
    assert latest_answers(answers)["pregnancy"].result is NO


def test_a_later_provider_decision_on_the_same_day_wins() -> None:
    same_day = [decision(D, ScreeningDecision.NOT_ELIGIBLE), decision(D)]
    assert latest_decision(same_day) is same_day[1]
    assert screening_status(items(D), same_day, S).status is ScreeningStatus.CLEARED
    back = [decision(D), decision(D, ScreeningDecision.NOT_ELIGIBLE)]
    assert screening_status(items(D), back, S).status is ScreeningStatus.NOT_ELIGIBLE
    older_last = [decision(D + timedelta(days=1)), decision(D, ScreeningDecision.NOT_ELIGIBLE)]
    assert screening_status(items(D), older_last, S).status is ScreeningStatus.CLEARED


# --- worsening needs two scores, not three --------------------------------------------------------------


def _two_phq9(first: int, second: int) -> PatientContext:
    ctx = calm_context()
    others = tuple(a for a in ctx.assessments if a.instrument != "PHQ-9")
    return replace_ctx(
        ctx,
        assessments=(
            *others,
            score("PHQ-9", first, DAY - timedelta(days=14), item9=0),
            score("PHQ-9", second, DAY, item9=0),
        ),
    )


def test_worsening_is_flagged_from_just_two_scores() -> None:
    rise = S.phq9_worsening_points
    assert FlagCode.WORSENING in codes(_two_phq9(8, 8 + rise))
    assert FlagCode.WORSENING not in codes(_two_phq9(8, 8 + rise - 1))


def test_one_score_alone_is_never_worsening() -> None:
    ctx = calm_context()
    others = tuple(a for a in ctx.assessments if a.instrument != "PHQ-9")
    alone = replace_ctx(ctx, assessments=(*others, score("PHQ-9", 27, DAY, item9=0)))
    assert FlagCode.WORSENING not in codes(alone)


# --- the baseline is the latest score on or before the trial, not the oldest ----------------------------


def _trial_with_scores(*phq9: tuple[int, int]) -> PatientContext:
    """A course whose trial was given 14 days ago; PHQ-9 ``(days after the trial, score)``."""
    ctx = calm_context()
    trial_day = DAY - timedelta(days=14)
    pending = course(ctx.courses[0].infusions, outcome=TrialOutcome.PENDING)
    scores = tuple(score("PHQ-9", value, trial_day + timedelta(days=d), item9=0) for d, value in phq9)
    return replace_ctx(ctx, courses=(pending,), assessments=scores)


def test_the_trial_is_judged_from_the_latest_score_before_it() -> None:
    # 16 a week before, 20 on the trial day, 10 two days after: 50 % down from 20 (not 37.5 % from 16).
    ctx = _trial_with_scores((-7, 16), (0, 20), (2, 10))
    suggestion = suggest_trial_outcome(ctx.courses[0], ctx.assessments, S)
    assert suggestion.outcome is TrialOutcome.BENEFIT
    assert suggestion.reasons[0].startswith("PHQ-9 20 before the trial, 10 after")
    summary = entry(ctx).scores["PHQ-9"]
    assert (summary.baseline, summary.response) == (20, True)


def test_the_first_score_after_the_trial_judges_it() -> None:
    # 20 on the trial day, 15 two days after, 5 five days after (both before infusion 2 on day 7).
    ctx = _trial_with_scores((0, 20), (2, 15), (5, 5))
    suggestion = suggest_trial_outcome(ctx.courses[0], ctx.assessments, S)
    assert suggestion.outcome is TrialOutcome.NO_BENEFIT
    assert suggestion.reasons[0].startswith("PHQ-9 20 before the trial, 15 after")


# --- no trial flag before the trial has been given ------------------------------------------------------


def _trial_and_next(trial_status: InfusionStatus, outcome: TrialOutcome) -> PatientContext:
    infs = [infusion(1, DAY, trial_status), infusion(2, DAY + timedelta(days=3), InfusionStatus.SCHEDULED)]
    return replace_ctx(calm_context(), courses=(course(infs, outcome=outcome),))


def test_no_trial_flag_while_the_trial_is_only_booked_even_with_the_next_infusion_booked() -> None:
    for outcome in (TrialOutcome.PENDING, TrialOutcome.NO_BENEFIT):
        found = codes(_trial_and_next(InfusionStatus.SCHEDULED, outcome))
        assert not found & {FlagCode.TRIAL_OUTCOME_MISSING, FlagCode.TRIAL_NO_BENEFIT}, outcome


def test_trial_flags_once_the_trial_is_given_and_the_next_is_booked() -> None:
    given_pending = _trial_and_next(InfusionStatus.COMPLETED, TrialOutcome.PENDING)
    assert "infusion 2 is booked" in message(given_pending, FlagCode.TRIAL_OUTCOME_MISSING)
    given_no = _trial_and_next(InfusionStatus.COMPLETED, TrialOutcome.NO_BENEFIT)
    assert "yet infusion 2 is booked" in message(given_no, FlagCode.TRIAL_NO_BENEFIT)


def test_no_suggestion_before_the_trial_is_given() -> None:
    ctx = _trial_and_next(InfusionStatus.SCHEDULED, TrialOutcome.PENDING)
    suggestion = suggest_trial_outcome(ctx.courses[0], ctx.assessments, S)
    assert suggestion.outcome is TrialOutcome.PENDING
    assert suggestion.reasons == ("The trial infusion has not been given yet",)


# --- today's vitals count for the blood-pressure flags ----------------------------------------------------


def _today_with(**vitals: int) -> PatientContext:
    ctx = calm_context()
    infs = list(ctx.courses[0].infusions)
    today = infs[2]
    infs[2] = infusion(3, today.scheduled_at.date(), status=today.status, **vitals)  # type: ignore[arg-type]
    return replace_ctx(ctx, courses=(course(infs),))


def test_todays_crisis_reading_blocks_the_infusion() -> None:
    ctx = _today_with(bp_pre_sys=S.bp_crisis_systolic + 1, bp_pre_dia=90)
    said = message(ctx, FlagCode.BP_CRISIS)
    assert said.startswith(f"BP {S.bp_crisis_systolic + 1}/90 at today's infusion")
    assert entry(ctx).ready is False
    assert FlagCode.BP_CRISIS not in codes(_today_with(bp_pre_sys=S.bp_crisis_systolic, bp_pre_dia=90))


def test_todays_normal_reading_replaces_a_high_one_from_last_time() -> None:
    ctx = _today_with(bp_pre_sys=S.bp_high_systolic, bp_pre_dia=S.bp_high_diastolic)
    infs = list(ctx.courses[0].infusions)
    infs[1] = infusion(2, infs[1].scheduled_at.date(), bp_pre_sys=S.bp_high_systolic + 10, bp_pre_dia=80)
    found = codes(replace_ctx(ctx, courses=(course(infs),)))
    assert FlagCode.BP_HIGH not in found
