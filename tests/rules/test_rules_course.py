"""Course rules: the trial, the cap of ten, numbering, suggested trial outcome, ready to infuse."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.domain.records import CourseRec
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    CourseStatus,
    FlagCode,
    Indication,
    InfusionStatus,
    TrialOutcome,
)
from kdash.rules.course import (
    can_add_infusion,
    can_start_course,
    live_count,
    next_free_number,
    ready_to_infuse,
    suggest_trial_outcome,
)
from kdash.rules.flags import Flag
from kdash.rules.screening import RescreenDecision, screening_status
from tests.records import course, decision, infusion, items, score, series

D = date(2025, 1, 6)
CLEARED = screening_status(items(D), [decision(D)], S)
NOT_CLEARED = screening_status(items(D), [], S)


def test_first_infusion_is_the_trial() -> None:
    result = can_add_infusion(course([], outcome=TrialOutcome.PENDING), CLEARED)
    assert (result.allowed, result.number) == (True, 1)
    assert "trial" in result.reasons[0]


def test_second_infusion_needs_benefit() -> None:
    trial_done = [infusion(1, D)]
    pending = can_add_infusion(course(trial_done, outcome=TrialOutcome.PENDING), CLEARED)
    assert pending.allowed is False
    assert "trial outcome is pending" in pending.reasons[0]
    refused = can_add_infusion(course(trial_done, outcome=TrialOutcome.NO_BENEFIT), CLEARED)
    assert refused.allowed is False
    assert "no benefit" in refused.reasons[0]
    not_given = can_add_infusion(
        course([infusion(1, D, InfusionStatus.SCHEDULED)], outcome=TrialOutcome.PENDING)
    )
    assert "not been given yet" in not_given.reasons[0]
    ok = can_add_infusion(course(trial_done, outcome=TrialOutcome.BENEFIT), CLEARED)
    assert (ok.allowed, ok.number) == (True, 2)


def test_an_eleventh_is_refused_with_the_reason() -> None:
    full = course(series(D, 10))
    result = can_add_infusion(full, CLEARED)
    assert result.allowed is False
    assert result.number is None
    assert result.reasons[0].startswith("Course 1 already holds 10 infusions, the maximum per course")


def test_cancelled_and_no_show_free_their_number() -> None:
    infs = [*series(D, 9), infusion(10, D + timedelta(days=30), InfusionStatus.CANCELLED)]
    c = course(infs)
    assert live_count(c) == 9
    assert next_free_number(c) == 10
    assert can_add_infusion(c, CLEARED).allowed is True
    gap = course([infusion(1, D), infusion(2, D, InfusionStatus.NO_SHOW), infusion(3, D + timedelta(days=2))])
    assert next_free_number(gap) == 2


def test_not_cleared_or_ended_course_refused() -> None:
    assert can_add_infusion(course([], outcome=TrialOutcome.PENDING), NOT_CLEARED).allowed is False
    ended = can_add_infusion(course([infusion(1, D)], status=CourseStatus.COMPLETED), CLEARED)
    assert ended.allowed is False
    assert "completed" in ended.reasons[0]


def test_new_course_needs_a_current_screening() -> None:
    done = course(series(D, 10), status=CourseStatus.COMPLETED)
    ok = can_start_course([done], CLEARED, RescreenDecision(False, ()))
    assert (ok.allowed, ok.number) == (True, 2)
    stale = can_start_course([done], CLEARED, RescreenDecision(True, ("Screening is older than 12 months",)))
    assert stale.allowed is False
    assert can_start_course([done], NOT_CLEARED, RescreenDecision(False, ())).allowed is False
    still_open = can_start_course([course([infusion(1, D)])], CLEARED, RescreenDecision(False, ()))
    assert "still active" in still_open.reasons[0]


@given(st.lists(st.sampled_from(list(InfusionStatus)), max_size=14), st.sampled_from(list(TrialOutcome)))
def test_adding_never_makes_more_than_ten_live(statuses: list[InfusionStatus], outcome: TrialOutcome) -> None:
    infs = []
    for n, status in enumerate(statuses):
        c = course(infs, outcome=outcome)
        number = next_free_number(c)
        if status in (InfusionStatus.SCHEDULED, InfusionStatus.COMPLETED):
            decision_ = can_add_infusion(c, CLEARED)
            if not decision_.allowed:
                continue
            assert decision_.number == number
            infs.append(infusion(decision_.number or 0, D + timedelta(days=2 * n), status))
        else:
            infs.append(infusion(number or 99, D + timedelta(days=2 * n), status))
        assert live_count(course(infs)) <= MAX_INFUSIONS_PER_COURSE
        live_numbers = [i.number for i in infs if i.is_live]
        assert len(live_numbers) == len(set(live_numbers))


# --- suggested trial outcome (clinical-reference.md "Judging the trial infusion") ------------------


def _trial_course(indication: Indication = Indication.DEPRESSION) -> CourseRec:
    return course(
        [infusion(1, D), infusion(2, D + timedelta(days=3), InfusionStatus.SCHEDULED)],
        outcome=TrialOutcome.PENDING,
        indication=indication,
    )


def test_phq9_half_drop_is_benefit() -> None:
    scores = [score("PHQ-9", 20, D), score("PHQ-9", 10, D + timedelta(days=1))]
    assert suggest_trial_outcome(_trial_course(), scores, S).outcome is TrialOutcome.BENEFIT


def test_phq9_ending_below_ten_is_benefit() -> None:
    scores = [score("PHQ-9", 12, D), score("PHQ-9", 9, D + timedelta(days=1))]
    assert suggest_trial_outcome(_trial_course(), scores, S).outcome is TrialOutcome.BENEFIT


def test_phq9_small_drop_is_no_benefit() -> None:
    scores = [score("PHQ-9", 20, D), score("PHQ-9", 11, D + timedelta(days=1))]
    result = suggest_trial_outcome(_trial_course(), scores, S)
    assert result.outcome is TrialOutcome.NO_BENEFIT
    assert "PHQ-9 20 before the trial, 11 after" in result.reasons[0]


def test_same_day_score_is_baseline_and_window_ends_on_infusion_two() -> None:
    c = _trial_course()
    # Same day as the trial: baseline. Day 4 (after infusion 2 on day 3): outside the window.
    scores = [score("PHQ-9", 20, D), score("PHQ-9", 5, D + timedelta(days=4))]
    assert suggest_trial_outcome(c, scores, S).outcome is TrialOutcome.PENDING
    on_day_two = [score("PHQ-9", 20, D), score("PHQ-9", 18, D + timedelta(days=3))]
    assert suggest_trial_outcome(c, on_day_two, S).outcome is TrialOutcome.NO_BENEFIT


def test_first_score_after_the_trial_judges() -> None:
    scores = [
        score("PHQ-9", 20, D - timedelta(days=2)),
        score("PHQ-9", 18, D + timedelta(days=1)),
        score("PHQ-9", 4, D + timedelta(days=2)),
    ]
    assert suggest_trial_outcome(_trial_course(), scores, S).outcome is TrialOutcome.NO_BENEFIT


def test_pending_without_baseline_or_without_trial() -> None:
    only_after = [score("PHQ-9", 5, D + timedelta(days=1))]
    result = suggest_trial_outcome(_trial_course(), only_after, S)
    assert result.outcome is TrialOutcome.PENDING
    assert "no baseline" in result.reasons[0]
    not_given = course([infusion(1, D, InfusionStatus.SCHEDULED)], outcome=TrialOutcome.PENDING)
    assert suggest_trial_outcome(not_given, only_after, S).outcome is TrialOutcome.PENDING


def test_ptsd_pcl5_ten_point_drop_or_phq9() -> None:
    c = _trial_course(Indication.PTSD)
    pcl = [score("PCL-5", 50, D), score("PCL-5", 40, D + timedelta(days=1))]
    assert suggest_trial_outcome(c, pcl, S).outcome is TrialOutcome.BENEFIT
    pcl_small = [score("PCL-5", 50, D), score("PCL-5", 41, D + timedelta(days=1))]
    assert suggest_trial_outcome(c, pcl_small, S).outcome is TrialOutcome.NO_BENEFIT
    both = [*pcl_small, score("PHQ-9", 20, D), score("PHQ-9", 8, D + timedelta(days=1))]
    assert suggest_trial_outcome(c, both, S).outcome is TrialOutcome.BENEFIT


def test_pain_nrs_thirty_percent() -> None:
    c = _trial_course(Indication.CRPS)
    assert (
        suggest_trial_outcome(c, [score("NRS", 10, D), score("NRS", 7, D + timedelta(days=1))], S).outcome
        is TrialOutcome.BENEFIT
    )
    assert (
        suggest_trial_outcome(c, [score("NRS", 10, D), score("NRS", 8, D + timedelta(days=1))], S).outcome
        is TrialOutcome.NO_BENEFIT
    )
    # A PHQ-9 does not judge a pain trial.
    assert (
        suggest_trial_outcome(c, [score("PHQ-9", 20, D), score("PHQ-9", 2, D + timedelta(days=1))], S).outcome
        is TrialOutcome.PENDING
    )


# --- ready to infuse -------------------------------------------------------------------------------------


def test_ready_with_no_flags() -> None:
    result = ready_to_infuse([])
    assert result.ready is True
    assert "OK: Escort confirmed" in result.reasons


def test_urgent_flag_blocks_warning_does_not() -> None:
    assert ready_to_infuse([Flag(FlagCode.BP_CRISIS, "BP 190/100")]).ready is False
    high = ready_to_infuse([Flag(FlagCode.BP_HIGH, "Pre-dose BP 150/95")])
    assert high.ready is True
    assert "Re-check: Pre-dose BP 150/95" in high.reasons


def test_no_escort_blocks_though_a_warning() -> None:
    assert ready_to_infuse([Flag(FlagCode.NO_ESCORT, "Escort not confirmed")]).ready is False


def test_reviewed_suicide_risk_no_longer_blocks() -> None:
    reviewed = ready_to_infuse([Flag(FlagCode.SUICIDE_RISK, "item 9 = 1, reviewed", blocking=False)])
    assert reviewed.ready is True
    assert any(r.startswith("Shown, not blocking") for r in reviewed.reasons)
    assert ready_to_infuse([Flag(FlagCode.SUICIDE_RISK, "item 9 = 1")]).ready is False


def test_pain_baseline_zero_stays_pending() -> None:
    c = _trial_course(Indication.FIBROMYALGIA)
    result = suggest_trial_outcome(c, [score("NRS", 0, D), score("NRS", 0, D + timedelta(days=1))], S)
    assert result.outcome is TrialOutcome.PENDING
    assert "no pain at baseline" in result.reasons[0]
