"""Screening status (each first-match branch of clinical-reference.md "Decisions") and re-screening due."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kdash.domain.policy import DEFAULT_SETTINGS as S
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import ScreeningItemRec
from kdash.domain.vocab import (
    SCREENING_ITEMS,
    CourseStatus,
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
    TrialOutcome,
)
from kdash.rules.screening import add_months, rescreen_due, screening_status
from tests.records import course, decision, infusion, items

D = date(2025, 1, 10)
YES, NO, UNKNOWN = ScreeningResult.YES, ScreeningResult.NO, ScreeningResult.UNKNOWN


def test_not_started_when_nothing_recorded() -> None:
    result = screening_status([], [], S)
    assert result.status is ScreeningStatus.NOT_STARTED
    assert result.reasons == ("No screening item recorded yet",)


def test_not_eligible_on_an_absolute_yes_even_when_cleared() -> None:
    result = screening_status(items(D, pregnancy=YES), [decision(D + timedelta(days=1))], S)
    assert result.status is ScreeningStatus.NOT_ELIGIBLE
    assert result.reasons == ("Absolute contraindication: Pregnancy or lactation",)


def test_not_eligible_wins_over_incomplete() -> None:
    partial = [r for r in items(D, ketamine_allergy=YES) if r.item != "consent_signed"]
    assert screening_status(partial, [], S).status is ScreeningStatus.NOT_ELIGIBLE


def test_not_eligible_by_provider_decision() -> None:
    result = screening_status(items(D), [decision(D, ScreeningDecision.NOT_ELIGIBLE)], S)
    assert result.status is ScreeningStatus.NOT_ELIGIBLE
    assert "decided not eligible" in result.reasons[0]


def test_incomplete_when_a_required_item_is_missing_or_not_yes() -> None:
    missing = [r for r in items(D) if r.item != "consent_signed"]
    result = screening_status(missing, [], S)
    assert result.status is ScreeningStatus.INCOMPLETE
    assert result.reasons == ("Required item not recorded: Informed consent signed",)
    result = screening_status(items(D, escort_arranged=NO), [decision(D)], S)
    assert result.status is ScreeningStatus.INCOMPLETE
    assert result.reasons == (
        "Required item not yet yes (no): A responsible adult will drive the patient home",
    )


def test_incomplete_when_a_contraindication_is_unanswered() -> None:
    result = screening_status([r for r in items(D) if r.item != "arrhythmia"], [], S)
    assert result.status is ScreeningStatus.INCOMPLETE
    assert result.reasons == ("Contraindication not answered: Significant arrhythmia",)


def test_needs_review_on_a_relative_yes_without_decision() -> None:
    result = screening_status(items(D, arrhythmia=YES), [], S)
    assert result.status is ScreeningStatus.NEEDS_REVIEW
    assert result.reasons[0].startswith("Relative contraindication: Significant arrhythmia")


def test_needs_review_on_unknown_contraindication() -> None:
    result = screening_status(items(D, pregnancy=UNKNOWN), [], S)
    assert result.status is ScreeningStatus.NEEDS_REVIEW
    assert "answered unknown: Pregnancy" in result.reasons[0]


def test_needs_review_when_all_answered_and_no_decision() -> None:
    result = screening_status(items(D), [decision(D, ScreeningDecision.PENDING)], S)
    assert result.status is ScreeningStatus.NEEDS_REVIEW
    assert result.reasons == ("All items answered; no provider decision recorded yet",)
    assert result.screened_on is None


def test_cleared_with_its_date() -> None:
    result = screening_status(items(D), [decision(D + timedelta(days=2))], S)
    assert result.status is ScreeningStatus.CLEARED
    assert result.screened_on == D + timedelta(days=2)


def test_cleared_after_relative_accepts_it_and_keeps_the_reason() -> None:
    result = screening_status(items(D, arrhythmia=YES), [decision(D + timedelta(days=1))], S)
    assert result.status is ScreeningStatus.CLEARED
    assert any("Significant arrhythmia" in r and "accepted" in r for r in result.reasons)


def test_cleared_before_a_new_relative_yes_does_not_accept_it() -> None:
    answers = [*items(D), ScreeningItemRec("active_substance_use", YES, D + timedelta(days=5))]
    result = screening_status(answers, [decision(D + timedelta(days=1))], S)
    assert result.status is ScreeningStatus.NEEDS_REVIEW


def test_same_day_decision_counts_as_after() -> None:
    assert screening_status(items(D, arrhythmia=YES), [decision(D)], S).status is ScreeningStatus.CLEARED


def test_latest_answer_per_item_counts() -> None:
    answers = [*items(D, pregnancy=YES), ScreeningItemRec("pregnancy", NO, D + timedelta(days=3))]
    assert screening_status(answers, [decision(D + timedelta(days=3))], S).status is ScreeningStatus.CLEARED
    answers = [*items(D), ScreeningItemRec("pregnancy", YES, D + timedelta(days=3))]
    assert (
        screening_status(answers, [decision(D + timedelta(days=1))], S).status is ScreeningStatus.NOT_ELIGIBLE
    )


def test_item_classes_come_from_settings() -> None:
    moved = ClinicPolicy(screening_item_classes={**S.screening_item_classes, "arrhythmia": "absolute"})
    assert (
        screening_status(items(D, arrhythmia=YES), [decision(D)], moved).status
        is ScreeningStatus.NOT_ELIGIBLE
    )


@given(st.dictionaries(st.sampled_from(list(SCREENING_ITEMS)), st.sampled_from(list(ScreeningResult))))
def test_status_always_has_reasons(answers: dict[str, ScreeningResult]) -> None:
    recs = [ScreeningItemRec(code, result, D) for code, result in answers.items()]
    result = screening_status(recs, [decision(D)], S)
    assert result.reasons
    if any(r is YES and S.item_class(c).value == "absolute" for c, r in answers.items()):
        assert result.status is ScreeningStatus.NOT_ELIGIBLE


# --- re-screening ---------------------------------------------------------------------------------------


def test_add_months_clamps() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)


def test_rescreen_due_after_twelve_months() -> None:
    screened = date(2024, 3, 3)
    assert rescreen_due(screened, [], date(2025, 3, 3), S).due is False
    late = rescreen_due(screened, [], date(2025, 3, 4), S)
    assert late.due is True
    assert "older than 12 months" in late.reasons[0]
    assert rescreen_due(screened, [], date(2024, 9, 4), ClinicPolicy(rescreen_after_months=6)).due is True


def test_rescreen_due_for_a_new_course_after_a_completed_one() -> None:
    first = course(
        [infusion(1, date(2025, 1, 6)), infusion(2, date(2025, 1, 8))], status=CourseStatus.COMPLETED
    )
    second = course([], number=2, cid=2)
    old = rescreen_due(date(2025, 1, 2), [first, second], date(2025, 3, 3), S)
    assert old.due is True
    assert "Course 2 follows course 1" in old.reasons[0]
    same_day = rescreen_due(date(2025, 1, 8), [first, second], date(2025, 3, 3), S)
    assert same_day.due is True
    fresh = rescreen_due(date(2025, 2, 20), [first, second], date(2025, 3, 3), S)
    assert fresh.due is False


def test_no_rescreen_within_the_first_course_or_without_screening() -> None:
    only = course([infusion(1, date(2025, 1, 6))])
    assert rescreen_due(date(2025, 1, 2), [only], date(2025, 3, 3), S).due is False
    assert rescreen_due(None, [only], date(2025, 3, 3), S).due is False


def test_a_stopped_course_also_calls_for_rescreening() -> None:
    first = course(
        [infusion(1, date(2025, 1, 6))], status=CourseStatus.STOPPED, outcome=TrialOutcome.NO_BENEFIT
    )
    second = course([], number=2, cid=2)
    assert rescreen_due(date(2025, 1, 2), [first, second], date(2025, 3, 3), S).due is True


def test_unknown_item_codes_are_ignored() -> None:
    answers = [*items(D), ScreeningItemRec("not_a_known_item", YES, D)]
    assert screening_status(answers, [decision(D)], S).status is ScreeningStatus.CLEARED
