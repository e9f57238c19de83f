"""The cap of ten at its edge: the tenth may be booked, never an eleventh; the trial gates the rest.

Surviving mutants showed infusion 11 treated as free, a no-benefit trial that refused nothing, and a
course not closed at its tenth; each is pinned here on the pure rule.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, CourseStatus, InfusionStatus, TrialOutcome
from kdash.rules.course import can_add_infusion, live_count, next_free_number
from tests.records import DAY, course, infusion


def _course_with(n: int, outcome: TrialOutcome = TrialOutcome.BENEFIT, **kw: object):  # type: ignore[no-untyped-def]
    return course([infusion(i, DAY + timedelta(days=2 * i)) for i in range(1, n + 1)], outcome=outcome, **kw)  # type: ignore[arg-type]


def test_the_tenth_may_be_booked_and_the_eleventh_never() -> None:
    assert MAX_INFUSIONS_PER_COURSE == 10
    nine = _course_with(9)
    decision = can_add_infusion(nine)
    assert decision.allowed
    assert decision.number == 10
    ten = _course_with(10)
    assert live_count(ten) == 10
    assert next_free_number(ten) is None
    refused = can_add_infusion(ten)
    assert not refused.allowed
    assert refused.number is None
    assert "already holds 10 infusions" in refused.reasons[0]


def test_a_cancelled_infusion_frees_its_number_and_does_not_count() -> None:
    infs = [infusion(i, DAY + timedelta(days=2 * i)) for i in range(1, 11)]
    infs[4] = infusion(5, DAY + timedelta(days=10), status=InfusionStatus.CANCELLED)
    c = course(infs)
    assert live_count(c) == 9
    assert next_free_number(c) == 5
    assert can_add_infusion(c).number == 5


@pytest.mark.parametrize(
    ("outcome", "allowed"),
    [(TrialOutcome.BENEFIT, True), (TrialOutcome.NO_BENEFIT, False), (TrialOutcome.PENDING, False)],
)
def test_only_a_benefit_trial_opens_infusion_two(outcome: TrialOutcome, allowed: bool) -> None:
    decision = can_add_infusion(_course_with(1, outcome))
    assert decision.allowed is allowed
    if outcome is TrialOutcome.NO_BENEFIT:
        assert "no benefit" in decision.reasons[0]


@pytest.mark.parametrize("status", [CourseStatus.COMPLETED, CourseStatus.STOPPED])
def test_a_closed_course_takes_no_infusion(status: CourseStatus) -> None:
    decision = can_add_infusion(_course_with(3, status=status))
    assert not decision.allowed
    assert status.value in decision.reasons[0]


def test_the_trial_needs_no_outcome_yet() -> None:
    decision = can_add_infusion(course([], outcome=TrialOutcome.PENDING))
    assert decision.allowed
    assert decision.number == 1
