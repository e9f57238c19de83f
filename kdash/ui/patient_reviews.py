"""The patient page's screening and provider forms: screening items and decisions, the trial outcome,
the suicide-risk review, deleting a score entered in error, starting a course."""

from __future__ import annotations

import streamlit as st

from kdash import ui
from kdash.domain.access import Action
from kdash.domain.vocab import (
    MAX_INFUSIONS_PER_COURSE,
    SCREENING_ITEMS,
    ScreeningDecision,
    ScreeningResult,
    SuicideReviewAction,
    TrialOutcome,
    values,
)
from kdash.services import clinical
from kdash.ui.patient_context import PatientPage
from kdash.ui.patient_edit import none_if_empty, submit
from kdash.ui.presentation import words


def form_screening_item(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.RECORD_SCREENING_ITEM):
        with st.form("form_screening_item", clear_on_submit=False):
            st.markdown("**Record a screening item**")
            item = st.selectbox(
                "Item", list(SCREENING_ITEMS), format_func=lambda c: SCREENING_ITEMS[c][0], key="f_item_item"
            )
            result = st.radio("Answer", values(ScreeningResult), horizontal=True, key="f_item_result")
            on = st.date_input("Date", value=ctx.today, key="f_item_date", format="YYYY-MM-DD")
            note = st.text_input("Note", key="f_item_note")
            reason = st.text_input(
                "Reason (only when changing an answer given the same day)", key="f_item_reason"
            )
            if st.form_submit_button("Save screening item"):
                submit(
                    ctx.actor,
                    clinical.record_screening_item,
                    ctx.patient.id,
                    item,
                    result,
                    on,
                    note=none_if_empty(note),
                    reason=none_if_empty(reason),
                    done=f"Screening item saved: {SCREENING_ITEMS[item][0]} = {result}.",
                )


def form_decision(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.DECIDE_SCREENING):
        with st.form("form_decision", clear_on_submit=False):
            st.markdown("**Screening decision (provider)**")
            decision = st.radio(
                "Decision",
                values(ScreeningDecision),
                horizontal=True,
                key="f_dec_decision",
                format_func=words,
            )
            on = st.date_input("Date", value=ctx.today, key="f_dec_date", format="YYYY-MM-DD")
            note = st.text_input("Note (required for not eligible)", key="f_dec_note")
            reason = st.text_input(
                "Reason (only when changing a decision of the same day)", key="f_dec_reason"
            )
            if st.form_submit_button("Save decision"):
                submit(
                    ctx.actor,
                    clinical.record_screening_decision,
                    ctx.patient.id,
                    decision,
                    on,
                    note=none_if_empty(note),
                    reason=none_if_empty(reason),
                    done=f"Screening decision saved: {words(decision)}.",
                )


def form_trial_outcome(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.RECORD_TRIAL_OUTCOME) and ctx.detail.courses:
        view = ctx.detail.courses[-1]
        with st.form("form_trial", clear_on_submit=False):
            st.markdown(f"**Trial outcome, course {view.course.number} (provider)**")
            left, right = st.columns(2)
            outcome = left.radio(
                "Outcome",
                values(TrialOutcome),
                index=values(TrialOutcome).index(view.course.trial_outcome.value),
                horizontal=True,
                key=f"f_trial_outcome_{view.course.id}",
                format_func=words,
            )
            right.markdown(
                f"Rule's suggestion: **{words(view.suggestion.outcome.value)}**  \n"
                + "  \n".join(ui.md_escape(r) for r in view.suggestion.reasons)
            )
            reason = left.text_input("Reason (only when changing a recorded outcome)", key="f_trial_reason")
            if st.form_submit_button("Save trial outcome"):
                submit(
                    ctx.actor,
                    clinical.record_trial_outcome,
                    view.course.id,
                    outcome,
                    reason=none_if_empty(reason),
                    done=f"Trial outcome saved: {words(outcome)}.",
                )


def form_suicide_review(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.REVIEW_SUICIDE_RISK):
        with st.form("form_suicide_review", clear_on_submit=False):
            st.markdown("**Suicide-risk review (positive PHQ-9 item 9 or high-risk C-SSRS)**")
            what = st.selectbox(
                "What was done", values(SuicideReviewAction), format_func=words, key="f_sr_action"
            )
            on = st.date_input("Date", value=ctx.today, key="f_sr_date", format="YYYY-MM-DD")
            note = st.text_area("Note", key="f_sr_note")
            if st.form_submit_button("Save review"):
                submit(
                    ctx.actor,
                    clinical.record_suicide_review,
                    ctx.patient.id,
                    what,
                    on,
                    note=note,
                    done="Suicide-risk review saved.",
                )


def form_delete_score(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.DELETE_RECORD) and ctx.detail.context.assessments:
        with st.form("form_delete_score", clear_on_submit=False):
            st.markdown("**Delete a score entered in error** (kept in the record with your reason)")
            scores = sorted(
                ctx.detail.context.assessments, key=lambda a: (a.taken_on, a.instrument), reverse=True
            )
            gone = st.selectbox(
                "Score",
                scores,
                format_func=lambda a: f"{a.taken_on:%Y-%m-%d} · {a.instrument} {a.score}",
                key="f_del_pick",
            )
            reason = st.text_input("Reason", key="f_del_reason")
            if st.form_submit_button("Delete score"):
                submit(
                    ctx.actor,
                    clinical.delete_assessment,
                    gone.id,
                    reason,
                    done=f"{gone.instrument} score of {gone.taken_on:%Y-%m-%d} deleted.",
                )


def form_new_course(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.START_COURSE):
        with st.form("form_new_course", clear_on_submit=False):
            st.markdown("**Start a new course (needs a current screening)**")
            st.caption(
                f"A course holds the trial plus up to {MAX_INFUSIONS_PER_COURSE - 1} further infusions."
            )
            if st.form_submit_button("Start new course"):
                submit(
                    ctx.actor,
                    clinical.start_course,
                    ctx.patient.id,
                    done="New course started: book its trial infusion.",
                )
