"""The demo's symptom scores: baselines, the fall of responders, relapse after a course, item 9 and its
reviews."""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any

from kdash.demo.booking import PlannedInfusion
from kdash.demo.people import Person
from kdash.demo.rows import DemoRows
from kdash.demo.scenarios import (
    PatientSpec,
    ScenarioContext,
)
from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    AssessmentSource,
    Instrument,
    ScreeningStatus,
    SuicideReviewAction,
)

#: Baseline score ranges of an untreated, treatment-resistant patient (moderately severe to severe).
_BASELINE: dict[Instrument, tuple[int, int]] = {
    Instrument.PHQ9: (15, 24),
    Instrument.PCL5: (40, 66),
    Instrument.NRS: (6, 9),
    Instrument.GAD7: (10, 18),
    Instrument.MADRS: (26, 40),
}
_NOISE: dict[Instrument, int] = {
    Instrument.PHQ9: 1,
    Instrument.PCL5: 3,
    Instrument.NRS: 0,
    Instrument.GAD7: 1,
    Instrument.MADRS: 2,
}


def _level(response: str, rng: random.Random, pain: bool) -> tuple[float, float]:
    """(fraction of baseline after the trial, fraction at the end of the course) for a response type."""
    if response == "responder":
        after = rng.uniform(0.42, 0.6) if pain else rng.uniform(0.28, 0.42)
        return after, max(0.15, after - rng.uniform(0.05, 0.15))
    if response == "partial":
        after = rng.uniform(0.6, 0.78)
        return after, after - 0.05
    after = rng.uniform(0.92, 1.05)
    return after, after


def emit_scores(
    out: DemoRows,
    ctx: ScenarioContext,
    person: Person,
    spec: PatientSpec,
    courses: list[list[PlannedInfusion]],
) -> None:
    """Scores that behave like real ones: a baseline, a fall with each infusion for responders, flat for
    non-responders, a slow return after the course (a relapse about three months after the last one)."""
    rng = ctx.rng
    pid = person.row["id"]
    pain = person.indication.is_pain
    points: dict[int, float] = {}  # day -> fraction of baseline
    start = current = 1.0
    last_course_end: int | None = None
    for ci, (c, items) in enumerate(zip(spec.courses, courses, strict=True)):
        after, end = _level(c.response, rng, pain)
        trial = items[0].day
        lo = (last_course_end or trial - 30) + 1
        if not spec.no_baseline:
            base_day = min(trial - rng.randint(1, 7), ctx.today)
            if base_day >= lo:
                points[base_day] = start
        given = [it.day for it in items if it.day < ctx.today]
        current = start
        for n, day in enumerate(given, start=1):
            current = end + (after - end) * math.exp(-(n - 1) / 2)
            if n == 1 and day + 1 <= ctx.today:
                points[day + 1] = current  # the trial's follow-up, before infusion 2
            if n < len(given) and rng.random() > 0.12:
                points[given[n]] = current  # before the next infusion
        if not given:
            continue
        ended = items[-1].day < ctx.today
        nxt = courses[ci + 1][0].day - 8 if ci + 1 < len(courses) else ctx.today
        if ended:
            # Benefit lasts up to about three months (clinic page): the return starts at 10–14 weeks.
            onset = rng.randint(70, 95) if spec.relapse else rng.randint(120, 200)
            day, k = items[-1].day + 28, 0
            while day <= nxt and k < (1 if c.response == "none" else 6):
                rise = min(1.0, max(0.0, (day - items[-1].day - onset) / 28))
                points[day] = current + (start - current) * rise
                day, k = day + 28, k + 1
            start = rng.uniform(0.8, 1.0)
        last_course_end = items[-1].day
    if spec.recent_score and courses:
        points[min(ctx.today, ctx.sday - 1)] = current
    if not courses and spec.screening in (ScreeningStatus.NEEDS_REVIEW, ScreeningStatus.INCOMPLETE):
        assert spec.screened_ago is not None
        points[ctx.today - spec.screened_ago] = 1.0

    days = sorted(d for d in points if d <= ctx.today)
    if not days:
        return
    baseline = {inst: rng.randint(*_BASELINE[inst]) for inst in person.instruments}
    first_id = len(out.assessment) + 1
    rows: list[dict[str, Any]] = []
    for day in days:
        for inst in person.instruments:
            lo, hi = INSTRUMENT_RANGES[inst]
            noise = _NOISE[inst]
            score = round(baseline[inst] * points[day] + rng.randint(-noise, noise))
            rows.append(
                {
                    "id": 0,
                    "patient_id": pid,
                    "instrument": inst.value,
                    "score": min(hi, max(lo, score)),
                    "item9": 0 if inst is Instrument.PHQ9 else None,
                    "items_json": None,
                    "taken_on": date.fromordinal(day),
                    "source": AssessmentSource.DEMO.value,
                    "recorded_by": person.provider,
                }
            )
    for n, row in enumerate(rows):
        row["id"] = first_id + n
    out.assessment.extend(rows)
    phq = [r for r in rows if r["instrument"] == Instrument.PHQ9.value]
    if not phq:
        return
    latest = phq[-1]
    if spec.worsening and len(phq) >= 2:
        # A rise of 5 or more on the PHQ-9 is clinically meaningful worsening (Löwe 2004).
        latest["score"] = min(27, phq[-2]["score"] + rng.randint(5, 7))
        if latest["score"] - phq[-2]["score"] < 5:
            phq[-2]["score"] = latest["score"] - 5
    if spec.item9:
        latest["item9"] = spec.item9
        latest["score"] = max(latest["score"], spec.item9 + rng.randint(2, 4))
        if len(phq) >= 2 and not spec.worsening:  # a positive item 9 without a 5-point rise
            latest["score"] = max(spec.item9, min(latest["score"], phq[-2]["score"] + 4))
        if spec.item9_reviewed:
            _review(
                out, person, latest, SuicideReviewAction.SAFETY_PLAN, "No plan or intent; safety plan updated"
            )
    elif len(phq) > 2 and rng.random() < 0.1:
        # Item 9 is often positive at baseline; each one has its same-day review recorded.
        phq[0]["item9"] = 1
        phq[0]["score"] = max(phq[0]["score"], 8)
        _review(out, person, phq[0], SuicideReviewAction.CSSRS_ASKED, "C-SSRS screener low risk")


def _review(
    out: DemoRows, person: Person, row: dict[str, Any], action: SuicideReviewAction, note: str
) -> None:
    out.suicide_review.append(
        {
            "id": len(out.suicide_review) + 1,
            "patient_id": person.row["id"],
            "assessment_id": row["id"],
            "reviewed_on": row["taken_on"],
            "reviewed_by": person.provider,
            "action": action.value,
            "note": note,
        }
    )
