"""The patient page's reading parts: which patient (address or search), the header, and the tabs that
only show the record (screening and courses, scores, infusions, amendments)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from kdash import ui
from kdash.domain.access import Action, Actor
from kdash.domain.vocab import ScreeningStatus
from kdash.rules.trends import PatientTrend
from kdash.services import clinical
from kdash.services.patient_detail import PatientDetail, patient_detail, patient_id_by_mrn, search_patients
from kdash.services.search import SEARCH_HELP
from kdash.services.trends import patient_trend
from kdash.ui import charts
from kdash.ui.patient_edit import FLASH, PATIENT
from kdash.ui.presentation import course_progress, flag_label, when, words

_ADDRESS = "patient_address_mrn"
_VIEWED = "patient_viewed"
STATUS_ICON = {
    ScreeningStatus.CLEARED: ":green[:material/verified: cleared]",
    ScreeningStatus.NEEDS_REVIEW: ":orange[:material/rate_review: needs review]",
    ScreeningStatus.INCOMPLETE: ":orange[:material/pending: incomplete]",
    ScreeningStatus.NOT_STARTED: ":red[:material/block: not started]",
    ScreeningStatus.NOT_ELIGIBLE: ":red[:material/block: not eligible]",
}


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def _detail(_url: str, patient_id: int, today: date, viewer: Actor) -> PatientDetail | None:
    return patient_detail(ui.get_db(), ui.settings(), patient_id, today, viewer)


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def _trend(_url: str, patient_id: int, viewer: Actor) -> PatientTrend | None:
    return patient_trend(ui.get_db(), ui.settings(), patient_id, viewer)


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def _search(_url: str, text: str) -> list[tuple[int, str]]:
    return search_patients(ui.get_db(), text)


def detail(patient_id: int, today: date, viewer: Actor) -> PatientDetail | None:
    """The patient's record as ``viewer``'s role may see it (kdash.services.minimum_necessary)."""
    return _detail(ui.get_db().url, patient_id, today, viewer)


def open_from_address() -> None:
    """Open the patient of ``/patient?mrn=<MRN>`` (once per address: a later search may move on)."""
    mrn = st.query_params.get("mrn")
    if not mrn or st.session_state.get(_ADDRESS) == mrn:
        return
    st.session_state[_ADDRESS] = mrn
    found = patient_id_by_mrn(ui.get_db(), mrn)
    if found is None:
        st.session_state.pop(PATIENT, None)
        st.error(f"No patient has the MRN {ui.md_escape(mrn)}. Search for the patient below.")
    else:
        st.session_state[PATIENT] = found


def finder() -> None:
    """The "Find a patient" box: open while no patient is open."""
    with st.expander("Find a patient", expanded=st.session_state.get(PATIENT) is None):
        text = st.text_input(
            "Name or MRN", key="patient_search", placeholder="e.g. Ashford or D0001", help=SEARCH_HELP
        )
        if text.strip():
            found = _search(ui.get_db().url, text)
            if found:
                choice = st.selectbox(
                    "Patients found", found, format_func=lambda o: o[1], key="patient_search_pick"
                )
                if st.button("Open this patient", key="patient_search_open", icon=":material/person:"):
                    st.session_state[PATIENT] = choice[0]
                    st.rerun()
            else:
                st.info("No patient matches. Check the spelling or search by MRN.")


def keep_address_and_audit(actor: Actor, detail: PatientDetail) -> None:
    """The address names the patient shown (a copied link, a refresh or Back opens the same one), and
    each opening of a patient is audited once."""
    if st.query_params.get("mrn") != detail.patient.mrn:
        st.query_params["mrn"] = detail.patient.mrn
    st.session_state[_ADDRESS] = detail.patient.mrn
    if st.session_state.get(_VIEWED) != detail.patient.id:
        clinical.record_patient_view(ui.get_db(), actor, detail.patient.id)
        st.session_state[_VIEWED] = detail.patient.id


def header(detail: PatientDetail) -> bool:
    """Name, identity, escort, screening, course progress (the words every page uses) and the flags.

    True when a form has just saved (its confirmation is shown here): the page then stays on Record.
    """
    p = detail.patient
    st.title(ui.md_escape(p.name))
    st.caption(
        f"MRN {ui.md_escape(p.mrn)} · born {p.date_of_birth:%Y-%m-%d} · {words(p.sex.value)} · "
        f"{ui.md_escape(p.indication.label)} · provider {ui.md_escape(p.provider)} · "
        f"status {words(p.status.value)}"
    )
    escort = (
        f"{ui.md_escape(p.escort_name)} ({ui.md_escape(p.escort_phone or 'no phone')})"
        if p.escort_name
        else ":orange[:material/warning: none recorded]"
    )
    st.markdown(f"**Escort home:** {escort}")
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    current = detail.courses[-1] if detail.courses else None
    m1, m2, m3 = st.columns([1, 2, 1])
    m1.metric("Screening", words(detail.screening.status.value))
    if current is not None:
        m2.metric(f"Course {current.course.number}", course_progress(current.course))
        m3.metric("Trial outcome", words(current.course.trial_outcome.value))
    else:
        m2.metric("Course", "none yet")
    if detail.flags_for is not None:
        ready = (
            ":green[:material/check_circle: **Ready**]"
            if detail.ready
            else ":red[:material/cancel: **Not ready**]"
        )
        st.markdown(f"**Next infusion {when(detail.flags_for)}:** {ready}")
        for flag in detail.flags:
            st.markdown(
                f"{ui.severity_badge(flag.severity, flag_label(flag.code))} {ui.md_escape(flag.message)}"
            )
    return bool(flash)


def overview_tab(detail: PatientDetail) -> None:
    st.subheader("Screening")
    st.markdown(f"Status: {STATUS_ICON[detail.screening.status]}")
    for reason in (*detail.screening.reasons, *detail.rescreen_reasons):
        st.markdown(f"- {ui.md_escape(reason)}")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Item": row["meaning"],
                    "Class": row["class"],
                    "Answer": row["answer"] or "—",
                    "Recorded": row["recorded_on"],
                    "Note": row["note"] or "",
                }
                for row in detail.checklist
            ]
        ),
        hide_index=True,
        key="patient_checklist",
    )
    st.subheader("Courses")
    if not detail.courses:
        st.info("No course yet. Once the screening is cleared, a provider starts a course under Record.")
    for view in reversed(detail.courses):
        st.plotly_chart(charts.course_slots(view), key=f"patient_course_{view.course.id}")
        st.caption(charts.slot_legend())
        add = "can be booked" if view.can_add else "cannot be booked"
        st.markdown(
            f"Next infusion {add}: " + "; ".join(ui.md_escape(r) for r in view.add_reasons)
            if view.add_reasons
            else f"Next infusion {add}."
        )
        outcome = words(view.course.trial_outcome.value)
        by = (
            f" (recorded by {ui.md_escape(view.trial_outcome_by)} on {view.trial_outcome_on})"
            if view.trial_outcome_by
            else ""
        )
        st.markdown(
            f"Trial outcome: **{outcome}**{by} · "
            f"rule's suggestion: **{words(view.suggestion.outcome.value)}** — "
            + "; ".join(ui.md_escape(r) for r in view.suggestion.reasons)
        )


def scores_tab(detail: PatientDetail, viewer: Actor) -> None:
    p = detail.patient
    trend = _trend(ui.get_db().url, p.id, viewer)
    if trend is None or not trend.instruments:
        st.info("No scores yet. Record a baseline score under Record before the trial infusion.")
        return
    for inst in trend.instruments:
        st.plotly_chart(
            charts.score_trend(inst, trend.infusions, title=f"{inst.instrument}: {p.name}"),
            key=f"patient_scores_{inst.instrument}",
        )
    rows = [
        {"Date": a.taken_on, "Instrument": a.instrument, "Score": a.score}
        | ({"Item 9": a.item9} if viewer.can(Action.VIEW_SENSITIVE) else {})
        for a in sorted(detail.context.assessments, key=lambda a: (a.taken_on, a.instrument), reverse=True)
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="patient_scores_table")


def infusions_tab(detail: PatientDetail, viewer: Actor) -> None:
    rows = []
    for view in detail.courses:
        for i in sorted(view.course.infusions, key=lambda i: i.scheduled_at):
            rows.append(
                {
                    "Course": view.course.number,
                    "No.": i.number,
                    "When": i.scheduled_at,
                    "Chair": i.chair,
                    "Status": charts.slot_status(i.status),
                    "Dose mg/kg": i.dose_mg_per_kg,
                    "BP before": f"{i.bp_pre_sys}/{i.bp_pre_dia}" if i.bp_pre_sys else "",
                    "BP ~40 min": f"{i.bp_peak_sys}/{i.bp_peak_dia}" if i.bp_peak_sys else "",
                    "BP discharge": f"{i.bp_discharge_sys}/{i.bp_discharge_dia}"
                    if i.bp_discharge_sys
                    else "",
                    "HR": i.heart_rate,
                    "SpO2": i.spo2,
                    "Escort": "yes" if i.escort_confirmed else "no",
                }
                | ({"Adverse events": i.adverse_events or ""} if viewer.can(Action.VIEW_SENSITIVE) else {})
            )
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="patient_infusions")
    else:
        st.info("No infusions yet. Book the trial infusion under Record.")


def latest_amendment(detail: PatientDetail) -> str:
    """The most recent correction in words (Markdown, values escaped), or "" when there is none."""
    if not detail.amendments:
        return ""
    a = max(detail.amendments, key=lambda a: a.changed_at)
    return (
        f"Latest: **{words(a.field)}** changed from “{ui.md_escape(a.old_value or '—')}” to "
        f"“{ui.md_escape(a.new_value or '—')}” by {ui.md_escape(a.changed_by)} on "
        f"{a.changed_at:%Y-%m-%d %H:%M}, because: {ui.md_escape(a.reason)}"
    )


def amendments_tab(detail: PatientDetail) -> None:
    if not detail.amendments:
        st.info("No value of this record has been amended.")
        return
    st.markdown(latest_amendment(detail))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": a.changed_at,
                    "Who": a.changed_by,
                    "Record": f"{a.entity} {a.entity_id}",
                    "Field": a.field,
                    "Old": a.old_value,
                    "New": a.new_value,
                    "Reason": a.reason,
                }
                for a in detail.amendments
            ]
        ),
        hide_index=True,
        key="patient_amendments",
    )
