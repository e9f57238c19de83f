"""The patient page's Record tab, ordered by the next action.

- While an urgent flag blocks the next infusion and a form answers it (the trial outcome, the
  suicide-risk review), that form comes first for whoever may fill it in, and the page opens on this
  tab. Someone who may not (a nurse) is told who must, and which flag waits.
- Otherwise, when an infusion is booked for today and the user may record it, the page opens here too
  and "Record an infusion" comes first, on today's infusion.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from kdash import ui
from kdash.domain.access import Action
from kdash.domain.vocab import FlagCode, InfusionStatus, Severity
from kdash.rules.flags import Flag
from kdash.ui.patient_context import PatientPage
from kdash.ui.patient_edit import demographics_form
from kdash.ui.patient_forms import form_assessment, form_book, form_cancel, form_record_infusion
from kdash.ui.patient_reviews import (
    form_decision,
    form_delete_score,
    form_new_course,
    form_screening_item,
    form_suicide_review,
    form_trial_outcome,
)
from kdash.ui.presentation import flag_label

Form = Callable[[PatientPage], None]

#: The forms that answer an urgent flag, with the permission each needs and what it is called.
URGENT_FORMS: dict[FlagCode, tuple[Form, Action, str]] = {
    FlagCode.TRIAL_OUTCOME_MISSING: (form_trial_outcome, Action.RECORD_TRIAL_OUTCOME, "trial outcome"),
    FlagCode.TRIAL_NO_BENEFIT: (form_trial_outcome, Action.RECORD_TRIAL_OUTCOME, "trial outcome"),
    FlagCode.SUICIDE_RISK: (form_suicide_review, Action.REVIEW_SUICIDE_RISK, "suicide-risk review"),
}


def _demographics(ctx: PatientPage) -> None:
    demographics_form(ctx.actor, ctx.patient, ctx.today)


ROUTINE_FORMS: tuple[Form, ...] = (
    form_record_infusion,
    form_assessment,
    form_book,
    form_cancel,
    form_screening_item,
    form_decision,
    form_trial_outcome,
    form_suicide_review,
    form_delete_score,
    form_new_course,
    _demographics,
)


def open_urgent(ctx: PatientPage) -> list[Flag]:
    """The patient's urgent flags that still block the next infusion and that a form here answers."""
    return [f for f in ctx.detail.flags if f.blocks and f.code in URGENT_FORMS]


def urgent_forms(ctx: PatientPage) -> list[Form]:
    """The forms answering an open urgent flag that this user may fill in (each once)."""
    return list(
        dict.fromkeys(
            URGENT_FORMS[f.code][0] for f in open_urgent(ctx) if ctx.actor.can(URGENT_FORMS[f.code][1])
        )
    )


def infusion_today(ctx: PatientPage) -> bool:
    """An infusion booked for today still waits to be recorded."""
    return any(
        i.status is InfusionStatus.SCHEDULED and i.scheduled_at.date() == ctx.today
        for _c, i in ctx.all_infusions
    )


def opens_on_record(ctx: PatientPage) -> bool:
    """Whether the page opens on the Record tab: the next action is one of its forms."""
    if urgent_forms(ctx):
        return True
    return infusion_today(ctx) and ctx.actor.can(Action.RECORD_INFUSION)


def forms_in_order(ctx: PatientPage) -> list[Form]:
    first = urgent_forms(ctx)
    return [*first, *(f for f in ROUTINE_FORMS if f not in first)]


def _roles_note(ctx: PatientPage) -> None:
    if not any(
        ctx.actor.can(a)
        for a in (
            Action.RECORD_ASSESSMENT,
            Action.RECORD_SCREENING_ITEM,
            Action.BOOK_INFUSION,
            Action.RECORD_INFUSION,
            Action.CANCEL_INFUSION,
        )
    ):
        st.info("Your role can view this record but not change it.")


def _urgent_note(ctx: PatientPage) -> None:
    if urgent_forms(ctx):
        st.markdown(
            ui.severity_badge(Severity.URGENT) + " The forms that answer the open urgent flag come first."
        )
        return
    waiting = list(dict.fromkeys((flag_label(f.code), URGENT_FORMS[f.code][2]) for f in open_urgent(ctx)))
    if waiting:
        what = "; ".join(f"{flag} (the {form})" for flag, form in waiting)
        st.markdown(
            ui.severity_badge(Severity.URGENT)
            + f" A provider must answer this first: {ui.md_escape(what)}. Do not dose until they have."
        )


def record_tab(ctx: PatientPage) -> None:
    """The Record tab: who may change what, the urgent note, then the forms in next-action order."""
    _roles_note(ctx)
    _urgent_note(ctx)
    for form in forms_in_order(ctx):
        form(ctx)
