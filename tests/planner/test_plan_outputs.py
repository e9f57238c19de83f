"""What the planner shows: the terminal text, the comparison table's rows and the JSON, word for word.

A scheduler reads these (the CLI's text, the planner page's table, another system's JSON): a lost line,
a changed label or a swapped field is a change they see, so each output is pinned whole.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from kdash.planner.plan import MAX_COMPARED, Plan, PlannedSlot, compare, format_plan, plan_to_json

TRIAL_DAY = date(2025, 3, 3)  # a Monday


def _slot(number: int, day: int, chair: int, moved: str | None = None) -> PlannedSlot:
    start = datetime(2025, 3, day, 8, 30)
    return PlannedSlot(
        number=number,
        start=start,
        end=start.replace(hour=10, minute=30),
        chair=chair,
        cadence_date=start.date(),
        moved=moved,
    )


ALLOWED = Plan(
    allowed=True,
    reasons=(),
    slots=(_slot(2, 5, 3), _slot(3, 7, 1, moved="moved from Thu 2025-03-06: clinic closed")),
    course_end=date(2025, 3, 7),
    benefit_until=date(2025, 5, 30),
    covers_target=False,
    warnings=("Fri 2025-03-07 is above 90% of chair time",),
    scenario="Induction",
    target=date(2025, 6, 1),
)

REFUSED = Plan(
    allowed=False,
    reasons=("Screening is incomplete", "Trial outcome is pending"),
    slots=(),
    course_end=None,
    benefit_until=None,
    covers_target=None,
    warnings=("never shown for a refused plan",),
    scenario="Weekly",
)


def test_the_terminal_text_of_an_allowed_plan() -> None:
    assert format_plan(ALLOWED).split("\n") == [
        "Scenario: Induction",
        "Allowed: yes",
        "Slots:",
        "  #2  Wed 2025-03-05 08:30-10:30 chair 3",
        "  #3  Fri 2025-03-07 08:30-10:30 chair 1  (moved from Thu 2025-03-06: clinic closed)",
        "Course end: 2025-03-07",
        "Benefit until: 2025-05-30",
        "Covers 2025-06-01: no",
        "Warnings:",
        "  - Fri 2025-03-07 is above 90% of chair time",
    ]


def test_the_terminal_text_of_a_refused_plan_gives_every_reason() -> None:
    plain = Plan(
        allowed=False,
        reasons=REFUSED.reasons,
        slots=(),
        course_end=None,
        benefit_until=None,
        covers_target=None,
        warnings=(),
        scenario="Weekly",
    )
    assert format_plan(plain).split("\n") == [
        "Scenario: Weekly",
        "Allowed: no",
        "  - Screening is incomplete",
        "  - Trial outcome is pending",
    ]


def test_a_covered_target_says_yes() -> None:
    covered = dataclasses.replace(ALLOWED, covers_target=True)
    assert "Covers 2025-06-01: yes" in format_plan(covered).split("\n")


def test_the_comparison_rows_side_by_side() -> None:
    assert compare([ALLOWED, REFUSED]) == [
        {
            "scenario": "Induction",
            "sessions": 2,
            "first": datetime(2025, 3, 5, 8, 30),
            "last": datetime(2025, 3, 7, 8, 30),
            "course_end": date(2025, 3, 7),
            "benefit_until": date(2025, 5, 30),
            "covers_target": False,
            "moves": 1,
            "warnings": ["Fri 2025-03-07 is above 90% of chair time"],
        },
        {
            "scenario": "Weekly",
            "sessions": 0,
            "first": None,
            "last": None,
            "course_end": None,
            "benefit_until": None,
            "covers_target": None,
            "moves": 0,
            "warnings": ["Screening is incomplete", "Trial outcome is pending"],
        },
    ]


def test_at_most_three_scenarios_are_compared() -> None:
    assert MAX_COMPARED == 3
    assert len(compare([ALLOWED] * 3)) == 3
    with pytest.raises(ValueError, match="at most 3 scenarios can be compared"):
        compare([ALLOWED] * 4)


def test_the_json_of_a_plan() -> None:
    assert plan_to_json(ALLOWED, "SYN0001") == {
        "mrn": "SYN0001",
        "allowed": True,
        "reasons": [],
        "slots": [
            {"number": 2, "start": "2025-03-05T08:30:00", "end": "2025-03-05T10:30:00", "chair": 3},
            {"number": 3, "start": "2025-03-07T08:30:00", "end": "2025-03-07T10:30:00", "chair": 1},
        ],
        "course_end": "2025-03-07",
        "benefit_until": "2025-05-30",
        "covers_target": False,
        "warnings": ["Fri 2025-03-07 is above 90% of chair time"],
    }
    refused = plan_to_json(REFUSED, "SYN0002")
    assert (refused["allowed"], refused["reasons"], refused["course_end"], refused["benefit_until"]) == (
        False,
        ["Screening is incomplete", "Trial outcome is pending"],
        None,
        None,
    )


def test_the_comparison_names_the_first_and_the_last_of_three_slots() -> None:
    three = dataclasses.replace(ALLOWED, slots=(_slot(2, 5, 3), _slot(3, 7, 1), _slot(4, 10, 2)))
    (row,) = compare([three])
    assert (row["first"], row["last"], row["sessions"]) == (
        datetime(2025, 3, 5, 8, 30),
        datetime(2025, 3, 10, 8, 30),
        3,
    )
