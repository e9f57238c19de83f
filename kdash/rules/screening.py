"""Screening status and re-screening due, by clinical-reference.md "Decisions".

Status is decided first-match-wins over the latest answer per item and the latest provider decision, and
every reason is given in words so the nurse and the provider see *why* (a relative contraindication the
provider accepted stays listed beside ``cleared``).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import CourseRec, ScreeningAssessment, ScreeningDecisionRec, ScreeningItemRec
from kdash.domain.vocab import (
    SCREENING_ITEMS,
    CourseStatus,
    ItemClass,
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
)

#: Course statuses after which a new course counts as "a new course after a completed one".
ENDED_COURSE_STATUSES: frozenset[CourseStatus] = frozenset({CourseStatus.COMPLETED, CourseStatus.STOPPED})


def _label(code: str) -> str:
    return SCREENING_ITEMS[code][0] if code in SCREENING_ITEMS else code


_CODES: tuple[str, ...] = tuple(SCREENING_ITEMS)
_classes_cache: list[tuple[dict[str, str], dict[str, ItemClass]]] = []


def item_classes(settings: ClinicPolicy) -> dict[str, ItemClass]:
    """Each item's class under ``settings`` (policy: the clinic may move an item), computed once per
    settings object's mapping since the huddle asks for every patient."""
    mapping = settings.screening_item_classes
    if _classes_cache and _classes_cache[0][0] is mapping:
        return _classes_cache[0][1]
    classes = {code: settings.item_class(code) for code in _CODES}
    _classes_cache[:] = [(mapping, classes)]
    return classes


def latest_answers(items: Sequence[ScreeningItemRec]) -> dict[str, ScreeningItemRec]:
    """The latest answer per item (by date; on the same date the one given later in the list)."""
    latest: dict[str, ScreeningItemRec] = {}
    for rec in items:
        current = latest.get(rec.item)
        if current is None or rec.recorded_on >= current.recorded_on:
            latest[rec.item] = rec
    return latest


def latest_decision(decisions: Sequence[ScreeningDecisionRec]) -> ScreeningDecisionRec | None:
    """The latest provider decision that decides (``pending`` is the absence of a decision)."""
    found: ScreeningDecisionRec | None = None
    for rec in decisions:
        if rec.decision is ScreeningDecision.PENDING:
            continue
        if found is None or rec.decided_on >= found.decided_on:
            found = rec
    return found


def screening_status(
    items: Sequence[ScreeningItemRec],
    decisions: Sequence[ScreeningDecisionRec],
    settings: ClinicPolicy,
) -> ScreeningAssessment:
    """Status by clinical-reference.md "Decisions", screening status, first match wins.

    not_started (no item recorded) · not_eligible (an absolute contraindication yes, or the provider
    decided not eligible) · incomplete (a required item not yet yes, or a contraindication unanswered) ·
    needs_review (a relative yes or a contraindication unknown with no provider decision on or after it;
    or all answered and no decision) · cleared (the provider decided cleared).
    """
    decision = latest_decision(decisions)
    screened_on = decision.decided_on if decision else None
    answers = {code: rec for code, rec in latest_answers(items).items() if code in SCREENING_ITEMS}
    if not answers:
        return ScreeningAssessment(
            ScreeningStatus.NOT_STARTED, ("No screening item recorded yet",), screened_on
        )

    codes = _CODES
    classes = item_classes(settings)

    absolute_yes = [
        f"Absolute contraindication: {_label(c)}"
        for c in codes
        if classes[c] is ItemClass.ABSOLUTE and c in answers and answers[c].result is ScreeningResult.YES
    ]
    if decision is not None and decision.decision is ScreeningDecision.NOT_ELIGIBLE:
        absolute_yes.append(f"Provider {decision.decided_by} decided not eligible on {decision.decided_on}")
    if absolute_yes:
        return ScreeningAssessment(ScreeningStatus.NOT_ELIGIBLE, tuple(absolute_yes), screened_on)

    missing: list[str] = []
    for c in codes:
        rec = answers.get(c)
        if classes[c] is ItemClass.REQUIRED:
            if rec is None:
                missing.append(f"Required item not recorded: {_label(c)}")
            elif rec.result is not ScreeningResult.YES:
                missing.append(f"Required item not yet yes ({rec.result.value}): {_label(c)}")
        elif rec is None:
            missing.append(f"Contraindication not answered: {_label(c)}")
    if missing:
        return ScreeningAssessment(ScreeningStatus.INCOMPLETE, tuple(missing), screened_on)

    # Everything is answered: relative contraindications and unknown answers wait for a provider decision
    # recorded on or after them; a later "cleared" accepts them and they stay listed.
    open_points: list[str] = []
    accepted: list[str] = []
    for c in codes:
        rec = answers[c]
        if classes[c] is ItemClass.REQUIRED:
            continue
        if rec.result is ScreeningResult.YES:
            what = f"Relative contraindication: {_label(c)}"
        elif rec.result is ScreeningResult.UNKNOWN:
            what = f"Contraindication answered unknown: {_label(c)}"
        else:
            continue
        if decision is not None and decision.decided_on >= rec.recorded_on:
            accepted.append(f"{what} (accepted by {decision.decided_by} on {decision.decided_on})")
        else:
            open_points.append(f"{what} (no provider decision since {rec.recorded_on})")
    if open_points:
        return ScreeningAssessment(ScreeningStatus.NEEDS_REVIEW, tuple(open_points + accepted), screened_on)
    if decision is None:
        return ScreeningAssessment(
            ScreeningStatus.NEEDS_REVIEW,
            ("All items answered; no provider decision recorded yet", *accepted),
            screened_on,
        )
    return ScreeningAssessment(
        ScreeningStatus.CLEARED,
        (f"Cleared by {decision.decided_by} on {decision.decided_on}", *accepted),
        screened_on,
    )


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (29 Feb + 12 months = 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class RescreenDecision:
    due: bool
    reasons: tuple[str, ...]


def rescreen_due(
    screened_on: date | None,
    courses: Sequence[CourseRec],
    on: date,
    settings: ClinicPolicy,
    current_course: CourseRec | None = None,
) -> RescreenDecision:
    """Whether re-screening is due on ``on`` (clinical-reference.md "Decisions", re-screening due).

    Due when the screening is older than ``settings.rescreen_after_months`` (policy, 12), or when the
    current course (default: the highest-numbered) follows an ended course and the screening is not
    later than that earlier course's last live infusion. A patient never screened is not "re-screening
    due": the screening status (NOT_CLEARED) says that.
    """
    if screened_on is None:
        return RescreenDecision(False, ())
    reasons: list[str] = []
    expires = add_months(screened_on, settings.rescreen_after_months)
    if on > expires:
        reasons.append(
            f"Screening of {screened_on} is older than {settings.rescreen_after_months} months "
            f"(expired {expires})"
        )
    current = current_course or (max(courses, key=lambda c: c.number) if courses else None)
    if current is not None:
        earlier = [c for c in courses if c.number < current.number and c.status in ENDED_COURSE_STATUSES]
        if earlier:
            previous = max(earlier, key=lambda c: c.number)
            live = previous.live_infusions
            if live:
                last = max(i.scheduled_at for i in live).date()
                if screened_on <= last:
                    reasons.append(
                        f"Course {current.number} follows course {previous.number} (last infusion {last}) "
                        f"and the screening of {screened_on} is not later: re-screen before the new course"
                    )
    return RescreenDecision(bool(reasons), tuple(reasons))
