"""Symptom trends: one patient's scores against bands and targets, and the clinic's outcomes."""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st

from kdash import ui
from kdash.domain.access import Action, Actor

actor = ui.guard(Action.VIEW_CLINICAL)

import pandas as pd  # noqa: E402

from kdash.rules.outcomes import outcome_stats  # noqa: E402
from kdash.rules.roster_row import RosterRow  # noqa: E402
from kdash.rules.trends import PatientTrend  # noqa: E402
from kdash.services.clinical import record_patient_view  # noqa: E402
from kdash.services.downloads import FileContent, deliver  # noqa: E402
from kdash.services.patient_detail import search_patients  # noqa: E402
from kdash.services.roster import roster  # noqa: E402
from kdash.services.search import SEARCH_HELP  # noqa: E402
from kdash.services.trends import patient_trend  # noqa: E402
from kdash.ui import charts  # noqa: E402
from kdash.ui.downloads import download  # noqa: E402
from kdash.ui.presentation import csv_bytes, indication_label, trend_frame  # noqa: E402


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def _trend(_url: str, patient_id: int, viewer: Actor) -> PatientTrend | None:
    return patient_trend(ui.get_db(), ui.settings(), patient_id, viewer)


@st.cache_data(ttl=60, max_entries=10, show_spinner="Loading the clinic's outcomes…")
def _roster(_url: str, today: date) -> list[RosterRow]:
    return roster(ui.get_db(), ui.settings(), today)


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def _search(_url: str, text: str) -> list[tuple[int, str]]:
    return search_patients(ui.get_db(), text)


st.title("Symptom trends")
db = ui.get_db()
tab_patient, tab_clinic = st.tabs(["One patient", "Clinic outcomes"])

with tab_patient:
    text = st.text_input(
        "Find a patient", key="trends_search", placeholder="MRN, Last, First or First Last", help=SEARCH_HELP
    )
    if text.strip():
        found = _search(db.url, text)
        if found:
            pick = st.selectbox("Patients found", found, format_func=lambda o: o[1], key="trends_pick")
            if st.button("Show this patient", key="trends_show"):
                st.session_state["patient_id"] = pick[0]
        else:
            st.info("No patient matches. Check the spelling or search by MRN.")
    pid = st.session_state.get("patient_id")
    trend = _trend(db.url, int(pid), actor) if pid is not None else None
    if trend is None:
        st.info("Search for a patient above, or open one from the huddle or roster first.")
    else:
        if st.session_state.get("patient_viewed") != trend.patient.id:
            record_patient_view(db, actor, trend.patient.id)
            st.session_state["patient_viewed"] = trend.patient.id
        st.subheader(f"{ui.md_escape(trend.patient.name)} · MRN {ui.md_escape(trend.patient.mrn)}")
        if not trend.instruments:
            st.info("No scores recorded yet. Record a baseline score on the patient's page.")
        for inst in trend.instruments:
            st.plotly_chart(
                charts.score_trend(inst, trend.infusions, title=f"{inst.instrument}: {trend.patient.name}"),
                key=f"trends_{inst.instrument}",
            )
        st.caption(
            "Shaded: severity bands. Lines: baseline (the last score on or before the first infusion), the "
            "score that would count as response, and remission where the instrument defines one. "
            "Triangles: completed infusions."
        )
        if trend.instruments:
            points = [(i.instrument, d, v) for i in trend.instruments for d, v in i.points]
            scores = FileContent(csv_bytes(trend_frame(points)), (trend.patient.id,))
            download(
                actor,
                "Download these scores (CSV)",
                partial(deliver, db, actor, what="patient_scores", fmt="csv", build=lambda: scores),
                file_name=f"kdash-scores-{trend.patient.mrn}.csv",
                mime="text/csv",
                key="trends_download_patient",
                help="Each chart's camera button saves it as a PNG picture.",
            )

with tab_clinic:
    rows = _roster(db.url, date.today())
    c1, c2 = st.columns(2)
    inds = c1.multiselect(
        "Indication", sorted({r.indication for r in rows}), format_func=indication_label, key="trends_ind"
    )
    provs = c2.multiselect("Provider", sorted({r.provider for r in rows}), key="trends_provider")
    chosen = [r for r in rows if (not inds or r.indication in inds) and (not provs or r.provider in provs)]
    stats = outcome_stats(chosen)
    if not stats.changes:
        st.info(
            "No patient in this selection has a completed infusion with a baseline and a later score yet. "
            "Clear a filter, or record scores after infusions."
        )
    else:
        st.markdown(
            f"**{len(stats.changes)}** patients with a completed infusion, a baseline and a later score of "
            "their main instrument (pain NRS for pain, PCL-5 for PTSD, else PHQ-9)."
        )
        st.plotly_chart(charts.rates(stats, "indication"), key="trends_rates_indication")
        st.plotly_chart(charts.rates(stats, "infusions"), key="trends_rates_infusions")
        st.plotly_chart(charts.change_distribution(stats), key="trends_changes")
        rates_table = pd.DataFrame(
            [
                {
                    "Indication": r.group,
                    "Patients": r.patients,
                    "Responders": charts.rate_words(r.response_rate, r.patients),
                    "In remission": charts.rate_words(r.remission_rate, r.remission_defined),
                }
                for r in stats.by_indication
            ]
        )
        st.dataframe(rates_table, hide_index=True, key="trends_rates_table")
        rates = FileContent(csv_bytes(rates_table), tuple(r.patient_id for r in chosen))
        download(
            actor,
            "Download the rates by indication (CSV)",
            partial(deliver, db, actor, what="outcome_rates", fmt="csv", build=lambda: rates),
            file_name=f"kdash-outcomes-{date.today():%Y-%m-%d}.csv",
            mime="text/csv",
            key="trends_download_rates",
            help="Each chart's camera button saves it as a PNG picture.",
        )
