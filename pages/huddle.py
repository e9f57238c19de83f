"""Morning huddle: who is booked on a day, most urgent first, with flags, progress and readiness."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from kdash import ui
from kdash.domain.access import Action

actor = ui.guard(Action.VIEW_CLINICAL)

from kdash.domain.vocab import FLAG_SEVERITY, SEVERITY_RANK  # noqa: E402
from kdash.rules.huddle import Huddle  # noqa: E402
from kdash.storage.patient_records import huddle_for_day  # noqa: E402
from kdash.ui import charts  # noqa: E402  (after the guard: nothing loads before the login check)
from kdash.ui.presentation import flag_label, progress_text  # noqa: E402

#: The patient page by absolute path: found the same way whichever script started the app.
PATIENT_PAGE = str(Path(__file__).with_name("patient.py"))


@st.cache_data(ttl=60, max_entries=30, show_spinner=False)
def _sheet(_url: str, day: date) -> bytes | None:
    """The printable huddle sheet (PDF), or None where its fonts are not installed."""
    from kdash.interchange.pdf.huddle_sheet import huddle_pdf

    try:
        return huddle_pdf(_huddle(_url, day), clinic_name=ui.settings().clinic_name)
    except OSError:
        return None


@st.cache_data(ttl=60, max_entries=30, show_spinner=False)
def _huddle(_url: str, day: date) -> Huddle:
    with ui.get_db().read() as session:
        return huddle_for_day(session, day, ui.settings())


st.title("Morning huddle")
# The day picked last in this session: coming back from a patient opened from the huddle shows the same
# day again (Streamlit forgets a widget's value once another page has run).
if "huddle_day" not in st.session_state:
    st.session_state["huddle_day"] = st.session_state.get("huddle_day_chosen", date.today())
day = st.date_input("Day", key="huddle_day", format="YYYY-MM-DD")
st.session_state["huddle_day_chosen"] = day
huddle = _huddle(ui.get_db().url, day)
summary = huddle.summary

st.subheader(f"{day:%A %d %B %Y}")
if not huddle.entries:
    st.info(
        f"No infusions are booked on {day:%A %d %B %Y}. Pick another day above, or book infusions from a "
        "patient's page.",
        icon=":material/event_busy:",
    )
    st.stop()

c1, c2, c3, c4 = st.columns(4)
c1.metric("Infusions", summary.infusions)
c2.metric("Ready", summary.ready)
c3.metric("Not ready", summary.not_ready)
sheet = _sheet(ui.get_db().url, day)
if sheet is not None:
    c4.download_button(
        "Huddle sheet (PDF)",
        data=sheet,
        file_name=f"huddle-{day.isoformat()}.pdf",
        mime="application/pdf",
        icon=":material/print:",
        key="huddle_pdf",
    )

left, right = st.columns([3, 2])
with left:
    st.plotly_chart(charts.chairs_per_hour(summary.chairs_per_hour, summary.chairs), key="huddle_chairs")
with right:
    st.markdown("**Flags today** (patients)")
    raised = sorted(
        ((code, n) for code, n in summary.flag_counts.items() if n),
        key=lambda cn: (SEVERITY_RANK[FLAG_SEVERITY[cn[0]]], cn[0].value),
    )
    if raised:
        for code, n in raised:
            st.markdown(f"{ui.severity_badge(FLAG_SEVERITY[code], flag_label(code))} × {n}")
    else:
        st.markdown("No flags raised.")

st.subheader("Patients, most urgent first")
for entry in huddle.entries:
    patient = entry.patient
    with st.container(border=True):
        head, action = st.columns([5, 1])
        ready = (
            ":green[:material/check_circle: **Ready**]"
            if entry.ready
            else ":red[:material/cancel: **Not ready**]"
        )
        head.markdown(
            f"**{entry.scheduled_at:%H:%M}** · **{ui.md_escape(patient.name)}** · "
            f"MRN {ui.md_escape(patient.mrn)} · "
            f"{ui.md_escape(patient.indication.label)} · course {entry.course.number}, infusion "
            f"**{progress_text(entry.position)}** · {ready}"
        )
        if action.button("Open patient", key=f"huddle_open_{patient.id}", icon=":material/person:"):
            st.session_state["patient_id"] = patient.id
            st.switch_page(PATIENT_PAGE)
        if entry.flags:
            for flag in entry.flags:
                not_blocking = " (reviewed, not blocking)" if not flag.blocking else ""
                st.markdown(
                    f"{ui.severity_badge(flag.severity, flag_label(flag.code))} "
                    f"{ui.md_escape(flag.message)}{not_blocking}"
                )
        else:
            st.markdown("No flags.")
        scores = " · ".join(
            f"{code} {s.latest} ({s.band}, baseline {s.baseline})" for code, s in entry.scores.items()
        )
        if scores:
            st.caption(ui.md_escape(scores))
