"""The demo's screening rows: item answers and the provider's decision that give each screening status."""

from __future__ import annotations

from datetime import date

from kdash.demo.booking import PlannedInfusion
from kdash.demo.people import Person
from kdash.demo.rows import DemoRows
from kdash.demo.scenarios import (
    PatientSpec,
    ScenarioContext,
)
from kdash.domain.vocab import (
    SCREENING_ITEMS,
    ItemClass,
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
    Sex,
)

_REQUIRED_ITEMS = tuple(code for code, (_, cls, _) in SCREENING_ITEMS.items() if cls is ItemClass.REQUIRED)
_ABSOLUTE_ITEMS = tuple(code for code, (_, cls, _) in SCREENING_ITEMS.items() if cls is ItemClass.ABSOLUTE)
_RELATIVE_ITEMS = tuple(code for code, (_, cls, _) in SCREENING_ITEMS.items() if cls is ItemClass.RELATIVE)
_CONTRA_ITEMS = _ABSOLUTE_ITEMS + _RELATIVE_ITEMS


def _screen(
    out: DemoRows,
    ctx: ScenarioContext,
    person: Person,
    status: ScreeningStatus,
    day: int,
    *,
    accept_relative: bool = False,
) -> None:
    """One screening: item answers in the days up to ``day`` and the provider's decision on ``day``."""
    rng = ctx.rng
    pid, by = person.row["id"], person.provider
    answers: dict[str, ScreeningResult] = {}
    note: dict[str, str] = {}
    if status is ScreeningStatus.INCOMPLETE:
        for code in _REQUIRED_ITEMS[: rng.randint(1, len(_REQUIRED_ITEMS) - 1)]:
            answers[code] = ScreeningResult.YES
        for code in _CONTRA_ITEMS[: rng.randint(0, len(_CONTRA_ITEMS) - 1)]:
            answers[code] = ScreeningResult.NO
    else:
        answers = {code: ScreeningResult.YES for code in _REQUIRED_ITEMS}
        answers.update({code: ScreeningResult.NO for code in _CONTRA_ITEMS})
        if status is ScreeningStatus.NEEDS_REVIEW:
            code = rng.choice(_RELATIVE_ITEMS + _CONTRA_ITEMS[:1])
            answers[code] = ScreeningResult.YES if code in _RELATIVE_ITEMS else ScreeningResult.UNKNOWN
        elif status is ScreeningStatus.NOT_ELIGIBLE:
            options = [
                c for c in _ABSOLUTE_ITEMS if c != "pregnancy" or person.row["sex"] == Sex.FEMALE.value
            ]
            answers[rng.choice(options)] = ScreeningResult.YES
        elif accept_relative:
            code = rng.choice(_RELATIVE_ITEMS)
            answers[code] = ScreeningResult.YES
            note[code] = "stable on treatment; accepted by the provider"
    for code in SCREENING_ITEMS:  # vocabulary order: no dependence on dict building order above
        if code in answers:
            out.screening_item.append(
                {
                    "id": len(out.screening_item) + 1,
                    "patient_id": pid,
                    "item": code,
                    "result": answers[code].value,
                    "recorded_on": date.fromordinal(day - rng.randint(1, 10)),
                    "note": note.get(code),
                    "recorded_by": by,
                }
            )
    decision = {
        ScreeningStatus.CLEARED: ScreeningDecision.CLEARED,
        ScreeningStatus.NOT_ELIGIBLE: ScreeningDecision.NOT_ELIGIBLE,
    }.get(status)
    if decision is not None:
        out.screening_decision.append(
            {
                "id": len(out.screening_decision) + 1,
                "patient_id": pid,
                "decision": decision.value,
                "decided_on": date.fromordinal(day),
                "decided_by": by,
                "note": None,
            }
        )


def emit_screening(
    out: DemoRows,
    ctx: ScenarioContext,
    person: Person,
    spec: PatientSpec,
    courses: list[list[PlannedInfusion]],
) -> None:
    rng = ctx.rng
    if spec.screening is ScreeningStatus.NOT_STARTED:
        return
    if not courses:
        assert spec.screened_ago is not None
        _screen(out, ctx, person, spec.screening, ctx.today - spec.screened_ago)
        return
    first_trial = courses[0][0].day
    day = min(first_trial - rng.randint(5, 30), ctx.today)
    if spec.screening is not ScreeningStatus.CLEARED:
        day = min(first_trial, ctx.today) - rng.randint(0, 3)
    if spec.screening_old:
        # Re-screening is due when the screening is older than 12 months (clinical-reference.md "Decisions",
        # policy).
        day = min(day, ctx.today - rng.randint(380, 460))
    _screen(out, ctx, person, spec.screening, day, accept_relative=rng.random() < 0.1)
    if spec.rescreened and len(courses) > 1:
        last_end = courses[-2][-1].day
        trial = courses[-1][0].day
        again = max(last_end + 11, trial - rng.randint(3, 14))
        if again < trial:
            _screen(out, ctx, person, ScreeningStatus.CLEARED, again)
