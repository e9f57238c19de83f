"""The huddle's flags of one patient on one day, each from its rule: suicide risk, blood pressure, the
course (trial, position in the ten, benefit window), and the scores (worsening, missing baseline,
assessment due). Pure; thresholds from :class:`ClinicPolicy`, codes and severities from the vocabulary.
:mod:`kdash.rules.huddle` gathers them into the day's huddle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import (
    AssessmentRec,
    CourseRec,
    InfusionRec,
    PatientContext,
    SuicideReviewRec,
)
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    FlagCode,
    InfusionStatus,
    Instrument,
    TrialOutcome,
)
from kdash.rules.course import (
    suggest_trial_outcome,
    trial_infusion,
    trial_instruments,
)
from kdash.rules.flags import Flag
from kdash.rules.instruments import (
    SYMPTOM_INSTRUMENTS,
    is_worsening,
    worsening_threshold,
)

#: C-SSRS screener code for high risk (docs/clinical-reference.md, Decisions: yes to question 4 or 5,
#: or behaviour in the past 3 months); it raises SUICIDE_RISK.
#: A code of the screener, not a tunable threshold.
CSSRS_HIGH_RISK = 3

_SYMPTOM_CODES: frozenset[str] = frozenset(i.value for i in SYMPTOM_INSTRUMENTS)


def _bp(sys: int | None, dia: int | None) -> str:
    return f"{'?' if sys is None else sys}/{'?' if dia is None else dia}"


def _above(sys: int | None, dia: int | None, sys_limit: int, dia_limit: int) -> bool:
    """Systolic above OR diastolic above (ACC/AHA: "and/or"), a missing half never counts."""
    return (sys is not None and sys > sys_limit) or (dia is not None and dia > dia_limit)


def suicide_flag(
    groups: dict[str, list[AssessmentRec]], reviews: Sequence[SuicideReviewRec], day: date
) -> Flag | None:
    triggers: list[tuple[date, str]] = []
    phq = groups.get(Instrument.PHQ9.value)
    if phq and phq[-1].item9 is not None and phq[-1].item9 > 0:
        triggers.append((phq[-1].taken_on, f"PHQ-9 item 9 answered {phq[-1].item9} on {phq[-1].taken_on}"))
    cssrs = groups.get(Instrument.CSSRS.value)
    if cssrs and cssrs[-1].score >= CSSRS_HIGH_RISK:
        triggers.append((cssrs[-1].taken_on, f"C-SSRS screener high risk on {cssrs[-1].taken_on}"))
    if not triggers:
        return None
    since = max(d for d, _ in triggers)
    what = " and ".join(t for _, t in triggers)
    done = [r for r in reviews if since <= r.reviewed_on <= day]
    if done:
        review = max(done, key=lambda r: r.reviewed_on)
        action = review.action.value.replace("_", " ")
        return Flag(
            FlagCode.SUICIDE_RISK,
            f"{what} — reviewed {review.reviewed_on} by {review.reviewed_by} ({action}); "
            "ask how the patient is today",
            blocking=False,
            cleared_by=f"reviewed {review.reviewed_on} by {review.reviewed_by}: {action}",
        )
    return Flag(
        FlagCode.SUICIDE_RISK,
        f"{what} — no review recorded since: a provider must review today (safety plan, C-SSRS) "
        "before infusing",
    )


def bp_flags(ctx: PatientContext, today: InfusionRec, settings: ClinicPolicy) -> list[Flag]:
    earlier = [
        i for c in ctx.courses for i in c.infusions if i.scheduled_at <= today.scheduled_at and i.has_vitals
    ]
    if not earlier:
        return []
    latest = max(earlier, key=lambda i: i.scheduled_at)
    when = "today's infusion" if latest is today else f"last infusion ({latest.scheduled_at.date()})"
    readings = (
        ("pre-dose", latest.bp_pre_sys, latest.bp_pre_dia),
        ("peak", latest.bp_peak_sys, latest.bp_peak_dia),
        ("discharge", latest.bp_discharge_sys, latest.bp_discharge_dia),
    )
    # ACC/AHA 2017: above 180/120 is a hypertensive crisis; do-not-infuse is clinic policy.
    crisis = [
        f"BP {_bp(s, d)} at {when}'s {label}"
        for label, s, d in readings
        if _above(s, d, settings.bp_crisis_systolic, settings.bp_crisis_diastolic)
    ]
    if crisis:
        return [
            Flag(
                FlagCode.BP_CRISIS,
                f"{'; '.join(crisis)} — above the {settings.bp_crisis_systolic}/"
                f"{settings.bp_crisis_diastolic} crisis limit: do not infuse, call the provider",
            )
        ]
    # Spravato label: pre-dose above 140/90, consider delaying — on the latest pre-dose reading.
    with_pre = [i for i in earlier if i.bp_pre_sys is not None or i.bp_pre_dia is not None]
    if not with_pre:
        return []
    pre = max(with_pre, key=lambda i: i.scheduled_at)
    if _above(pre.bp_pre_sys, pre.bp_pre_dia, settings.bp_high_systolic, settings.bp_high_diastolic):
        pre_when = "today" if pre is today else f"at last infusion ({pre.scheduled_at.date()})"
        return [
            Flag(
                FlagCode.BP_HIGH,
                f"Pre-dose BP {_bp(pre.bp_pre_sys, pre.bp_pre_dia)} {pre_when} — above "
                f"{settings.bp_high_systolic}/{settings.bp_high_diastolic}: re-check before dosing, "
                "consider delaying",
            )
        ]
    return []


def course_flags(
    course: CourseRec,
    today: InfusionRec,
    position: int,
    assessments: Sequence[AssessmentRec],
    settings: ClinicPolicy,
) -> list[Flag]:
    flags: list[Flag] = []
    cap = MAX_INFUSIONS_PER_COURSE  # clinic rule: the trial plus up to nine further
    if position > cap:
        flags.append(
            Flag(
                FlagCode.COURSE_LIMIT_REACHED,
                f"Today's would be infusion {position} of course {course.number} — the maximum is {cap} "
                "per course: do not infuse; a new course needs re-screening",
            )
        )
    elif position == cap:
        flags.append(
            Flag(
                FlagCode.COURSE_FINAL_SESSION,
                f"Today is infusion {cap} of {cap}, the last of course {course.number}: talk about what "
                "comes after the course",
            )
        )
    elif position >= cap - 2:
        flags.append(
            Flag(
                FlagCode.COURSE_NEARLY_COMPLETE,
                f"Today is infusion {position} of {cap} in course {course.number}: "
                f"{cap - position} left after today",
            )
        )
    trial = trial_infusion(course)
    booked_after_trial = (
        [i for i in course.infusions if i.is_live and i is not trial and i.scheduled_at > trial.scheduled_at]
        if trial is not None
        else []
    )
    if trial is not None and trial.status is InfusionStatus.COMPLETED and booked_after_trial:
        nxt = min(booked_after_trial, key=lambda i: i.scheduled_at)
        if course.trial_outcome is TrialOutcome.PENDING:
            suggestion = suggest_trial_outcome(course, assessments, settings)
            hint = suggestion.outcome.value.replace("_", " ")
            detail = f" ({suggestion.reasons[0]})" if suggestion.reasons else ""
            flags.append(
                Flag(
                    FlagCode.TRIAL_OUTCOME_MISSING,
                    f"Trial given {trial.scheduled_at.date()} but its outcome is still pending, and infusion "
                    f"{nxt.number} is booked: the provider must record the outcome first "
                    f"(suggested: {hint}{detail})",
                )
            )
        elif course.trial_outcome is TrialOutcome.NO_BENEFIT:
            flags.append(
                Flag(
                    FlagCode.TRIAL_NO_BENEFIT,
                    f"Trial outcome recorded as no benefit, yet infusion {nxt.number} is booked: do not "
                    "infuse; ask the provider",
                )
            )
    return flags


def score_flags(
    groups: dict[str, list[AssessmentRec]],
    ctx: PatientContext,
    course: CourseRec,
    today: InfusionRec,
    day: date,
    settings: ClinicPolicy,
) -> list[Flag]:
    flags: list[Flag] = []
    rises: list[str] = []
    for inst in SYMPTOM_INSTRUMENTS:
        scores = groups.get(inst)
        if scores and len(scores) >= 2:
            prev, last = scores[-2], scores[-1]
            if is_worsening(inst, prev.score, last.score, settings):
                rises.append(
                    f"{inst.value} rose {last.score - prev.score} points ({prev.score} on {prev.taken_on} → "
                    f"{last.score} on {last.taken_on}; worsening from {worsening_threshold(inst, settings)})"
                )
    if rises:
        flags.append(
            Flag(
                FlagCode.WORSENING, "; ".join(rises) + " — clinically meaningful worsening: tell the provider"
            )
        )

    # Benefit lasts up to about three months after each session (clinic page; ASRA up to 12 weeks).
    given = [
        i.scheduled_at.date()
        for c in ctx.courses
        for i in c.infusions
        if i.status is InfusionStatus.COMPLETED and i.scheduled_at.date() < day
    ]
    if given:
        last_given = max(given)
        ago = (day - last_given).days
        if settings.benefit_window_warn_from_weeks * 7 <= ago <= settings.benefit_window_warn_to_weeks * 7:
            ends = last_given + timedelta(days=settings.benefit_window_days)
            flags.append(
                Flag(
                    FlagCode.BENEFIT_WINDOW_ENDING,
                    f"Last infusion {last_given}, {ago // 7} weeks ago: its benefit window "
                    f"({settings.benefit_window_days // 7} weeks) ends {ends}",
                )
            )

    wanted = trial_instruments(course.indication)
    trial = trial_infusion(course)
    trial_day = (trial or today).scheduled_at.date()
    if not any(a.taken_on <= trial_day for inst in wanted for a in groups.get(inst, ())):
        names = " or ".join(i.value for i in wanted)
        flags.append(
            Flag(
                FlagCode.MISSING_BASELINE,
                f"No {names} score on or before the trial ({trial_day}): without a baseline the trial "
                "cannot be judged",
            )
        )

    # Measurement-based care: a score due in the N days up to and including the infusion day (policy, 7).
    window_start = day - timedelta(days=settings.assessment_due_days - 1)
    recent = [a for code in _SYMPTOM_CODES for a in groups.get(code, ()) if a.taken_on >= window_start]
    if not recent:
        symptom = [a for code in _SYMPTOM_CODES for a in groups.get(code, ())]
        last_text = ""
        if symptom:
            last = max(symptom, key=lambda a: a.taken_on)
            last_text = f" (last: {last.instrument} on {last.taken_on})"
        flags.append(
            Flag(
                FlagCode.ASSESSMENT_DUE,
                f"No symptom score in the {settings.assessment_due_days} days up to today{last_text}: "
                f"ask for a {wanted[0].value} before dosing",
            )
        )
    return flags
