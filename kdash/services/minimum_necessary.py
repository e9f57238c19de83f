"""Minimum necessary (HIPAA 164.502(b)): what a role without ``view_sensitive`` does not see.

The scheduler books infusions and chairs, checks the escort and needs to know whether a patient's
screening is cleared and whether the patient is ready; it does not need the answers behind a suicide-risk
flag. For a role without :attr:`~kdash.domain.access.Action.VIEW_SENSITIVE` every read service that
takes the actor hands back its records with these withheld:

- PHQ-9 item 9 answers (``item9`` is empty);
- suicide-risk details: C-SSRS scores, suicide-risk reviews, and the words of a SUICIDE_RISK flag (the
  flag stays, so the scheduler sees that the patient is not ready and why in general terms: a
  clinician must review first);
- adverse events of infusions, and amendments of any of these fields.

The choice is written in docs/security.md ("Minimum necessary") and pinned by
``tests/security/test_minimum_necessary.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from kdash.domain.access import Action, Actor
from kdash.domain.records import AssessmentRec, CourseRec, InfusionRec, PatientContext
from kdash.domain.vocab import FlagCode, Instrument
from kdash.rules.course import ready_to_infuse
from kdash.rules.flags import Flag
from kdash.rules.huddle import Huddle, HuddleEntry

#: kdash.services.patient_detail's PatientDetail and kdash.rules.trends' PatientTrend (typed generically:
#: patient_detail imports this module).
_T = TypeVar("_T")

__all__ = [
    "SENSITIVE_FIELDS",
    "SENSITIVE_INSTRUMENTS",
    "WITHHELD",
    "context_for",
    "detail_for",
    "flags_for",
    "huddle_for",
    "sees_sensitive",
    "trend_for",
]

#: Instruments whose scores are suicide-risk details.
SENSITIVE_INSTRUMENTS = frozenset({Instrument.CSSRS.value})
#: Fields whose values (and amendments) are withheld.
SENSITIVE_FIELDS = frozenset({"item9", "adverse_events"})
#: What a SUICIDE_RISK flag says to a role that may not see its details.
WITHHELD = "a clinician must review this patient before dosing (details are for clinical staff)"


def sees_sensitive(actor: Actor | None) -> bool:
    """Whether ``actor`` sees item 9 answers, suicide-risk details and adverse events (None: a caller
    inside kdash that passes no actor, such as an export already limited by its own permission)."""
    return actor is None or actor.can(Action.VIEW_SENSITIVE)


def _flag(flag: Flag) -> Flag:
    if flag.code is not FlagCode.SUICIDE_RISK:
        return flag
    return replace(flag, message=WITHHELD, cleared_by="reviewed" if flag.cleared_by else "")


def flags_for(actor: Actor | None, flags: tuple[Flag, ...]) -> tuple[Flag, ...]:
    return flags if sees_sensitive(actor) else tuple(_flag(f) for f in flags)


def _assessments(rows: tuple[AssessmentRec, ...]) -> tuple[AssessmentRec, ...]:
    return tuple(replace(a, item9=None) for a in rows if a.instrument not in SENSITIVE_INSTRUMENTS)


def _infusion(infusion: InfusionRec) -> InfusionRec:
    return replace(infusion, adverse_events=None) if infusion.adverse_events is not None else infusion


def _course(course: CourseRec) -> CourseRec:
    return replace(course, infusions=tuple(_infusion(i) for i in course.infusions))


def context_for(actor: Actor | None, ctx: PatientContext) -> PatientContext:
    if sees_sensitive(actor):
        return ctx
    return replace(
        ctx,
        courses=tuple(_course(c) for c in ctx.courses),
        assessments=_assessments(ctx.assessments),
        suicide_reviews=(),
    )


def _entry(entry: HuddleEntry) -> HuddleEntry:
    flags = tuple(_flag(f) for f in entry.flags)
    return replace(
        entry,
        course=_course(entry.course),
        infusion=_infusion(entry.infusion),
        flags=flags,
        readiness=ready_to_infuse(flags),
        scores={k: v for k, v in entry.scores.items() if k not in SENSITIVE_INSTRUMENTS},
    )


def huddle_for(actor: Actor | None, huddle: Huddle) -> Huddle:
    if sees_sensitive(actor):
        return huddle
    return replace(huddle, entries=tuple(_entry(e) for e in huddle.entries))


def _course_view(view: Any) -> Any:
    slots = tuple(
        replace(
            s,
            infusion=_infusion(s.infusion) if s.infusion is not None else None,
            freed=tuple(_infusion(i) for i in s.freed),
        )
        for s in view.slots
    )
    return replace(view, course=_course(view.course), slots=slots)


def detail_for(actor: Actor | None, detail: _T) -> _T:
    """A :class:`kdash.services.patient_detail.PatientDetail` as ``actor`` may see it."""
    if sees_sensitive(actor):
        return detail
    d: Any = detail
    flags = tuple(_flag(f) for f in d.flags)
    redacted: _T = replace(
        d,
        context=context_for(actor, d.context),
        courses=tuple(_course_view(v) for v in d.courses),
        flags=flags,
        ready_reasons=ready_to_infuse(flags).reasons if d.ready is not None else d.ready_reasons,
        amendments=tuple(
            a for a in d.amendments if a.field not in SENSITIVE_FIELDS and a.entity != "suicide_review"
        ),
    )
    return redacted


def trend_for(actor: Actor | None, trend: _T) -> _T:
    """A :class:`kdash.rules.trends.PatientTrend` as ``actor`` may see it (no C-SSRS chart)."""
    if sees_sensitive(actor):
        return trend
    t: Any = trend
    redacted: _T = replace(
        t, instruments=tuple(i for i in t.instruments if i.instrument not in SENSITIVE_INSTRUMENTS)
    )
    return redacted
