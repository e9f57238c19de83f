"""Morning huddle: who is booked on a day, most urgent first, with flags, progress and readiness.

Laid out for a ten-second look: the patient list starts in the first screen (at 1440×900 and on a
1024×768 tablet); the flag counts above it are filters that narrow the list; the chairs chart sits below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import streamlit as st

from kdash import ui
from kdash.domain.access import Action, Actor

actor = ui.guard(Action.VIEW_CLINICAL)

from kdash.domain.vocab import FLAG_SEVERITY, SEVERITY_RANK, FlagCode  # noqa: E402
from kdash.rules.huddle import Huddle, HuddleEntry  # noqa: E402
from kdash.services.downloads import FileContent, deliver  # noqa: E402
from kdash.services.huddle import read_huddle, record_huddle_view  # noqa: E402
from kdash.ui import charts  # noqa: E402  (after the guard: nothing loads before the login check)
from kdash.ui.downloads import download  # noqa: E402
from kdash.ui.links import patient_link  # noqa: E402
from kdash.ui.presentation import course_progress, flag_label, ready_because  # noqa: E402

#: The patient page by absolute path: found the same way whichever script started the app.
PATIENT_PAGE = str(Path(__file__).with_name("patient.py"))
FLAG_FILTER = "huddle_flag_filter"


def _sheet(huddle: Huddle) -> Callable[[], bytes]:
    """The printable huddle sheet (PDF), built and audited when its download is clicked."""
    db, clinic = ui.get_db(), ui.settings().clinic_name

    def build() -> FileContent:
        from kdash.interchange.pdf.huddle_sheet import huddle_pdf

        pdf = huddle_pdf(huddle, clinic_name=clinic)
        return FileContent(pdf, tuple(e.patient.id for e in huddle.entries))

    return lambda: deliver(db, actor, what="huddle_sheet", fmt="pdf", build=build)


@st.cache_data(ttl=60, max_entries=30, show_spinner=False)
def _huddle(_url: str, day: date, viewer: Actor) -> Huddle:
    return read_huddle(ui.get_db(), day, ui.settings(), viewer)


def _flag_option(code: FlagCode, n: int) -> str:
    """A flag count as a filter button: severity icon and word, the flag's words, the count."""
    _, icon, word = ui.SEVERITY_STYLE[FLAG_SEVERITY[code]]
    return f"{icon} {word}: {flag_label(code)} · {n}"


def _card(entry: HuddleEntry) -> None:
    """One patient: time, name, course progress and readiness on the first line, then the flags.

    The name is a link to ``/patient?mrn=`` (ctrl-click or copy it); "Open patient" opens the patient in
    this tab and keeps the huddle's day for the way back.
    """
    patient = entry.patient
    ready = (
        ":green[:material/check_circle: **Ready**]"
        if entry.ready
        else ":red[:material/cancel: **Not ready**]"
    )
    with st.container(border=True):
        head, action = st.columns([4, 1], vertical_alignment="center")
        head.markdown(
            f"**{entry.scheduled_at:%H:%M}** · **{patient_link(patient.name, patient.mrn)}** · "
            f"MRN {ui.md_escape(patient.mrn)} · {ui.md_escape(patient.indication.label)} · "
            f"course {entry.course.number}: {course_progress(entry.course)} · {ready}"
        )
        with action:
            if st.button("Open patient", key=f"huddle_open_{patient.id}", icon=":material/person:"):
                st.session_state["patient_id"] = patient.id
                st.switch_page(PATIENT_PAGE)
        because = ready_because(entry.flags) if entry.ready else ""
        lines = []
        if because:
            lines.append(f":green[:material/verified_user:] **Ready because** {ui.md_escape(because)}")
        for flag in entry.flags:
            lines.append(
                f"{ui.severity_badge(flag.severity, flag_label(flag.code))} {ui.md_escape(flag.message)}"
            )
        if not entry.flags:
            lines.append("No flags.")
        scores = " · ".join(
            f"{code} {s.latest} ({s.band}, baseline {s.baseline})" for code, s in entry.scores.items()
        )
        if scores:
            lines.append(f":gray[{ui.md_escape(scores)}]")
        st.markdown("  \n".join(lines))


# Less empty space above the title: the patient list must start in the first screen on a tablet. A fixed
# style with no data in it.
st.html("<style>.stMainBlockContainer { padding-top: 3.5rem; }</style>")

# The day picked last in this session: coming back from a patient opened from the huddle shows the same
# day again (Streamlit forgets a widget's value once another page has run).
if "huddle_day" not in st.session_state:
    st.session_state["huddle_day"] = st.session_state.get("huddle_day_chosen", date.today())

with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
    st.title("Morning huddle", width="content")
    day = st.date_input("Day", key="huddle_day", format="YYYY-MM-DD", width=160)
    st.session_state["huddle_day_chosen"] = day
    huddle = _huddle(ui.get_db().url, day, actor)
    if st.session_state.get("huddle_viewed") != day:  # each person's view of a day is audited once
        record_huddle_view(ui.get_db(), actor, huddle)
        st.session_state["huddle_viewed"] = day
    if huddle.entries:
        download(
            actor,
            "Huddle sheet (PDF)",
            _sheet(huddle),
            file_name=f"huddle-{day.isoformat()}.pdf",
            mime="application/pdf",
            icon=":material/print:",
            key="huddle_pdf",
        )
summary = huddle.summary

if not huddle.entries:
    st.info(
        f"No infusions are booked on {day:%A %d %B %Y}. Pick another day above, or book infusions from a "
        "patient's page.",
        icon=":material/event_busy:",
    )
    st.stop()

st.markdown(
    f"**{day:%A %d %B %Y}** · {summary.infusions} infusions · "
    f":green[:material/check_circle: {summary.ready} ready] · "
    f":red[:material/cancel: {summary.not_ready} not ready]"
)
raised = sorted(
    ((code, n) for code, n in summary.flag_counts.items() if n),
    key=lambda cn: (SEVERITY_RANK[FLAG_SEVERITY[cn[0]]], list(FlagCode).index(cn[0])),
)
counts = dict(raised)
if raised:
    picked = st.pills(
        "Flags today (patients) — pick one or more to show only those patients",
        [code for code, _ in raised],
        format_func=lambda code: _flag_option(code, counts[code]),
        selection_mode="multi",
        key=FLAG_FILTER,
    )
else:
    picked = []
    st.caption("No flags raised today.")

shown = [e for e in huddle.entries if not picked or any(e.has(code) for code in picked)]
if picked:
    st.markdown(
        f"**{len(shown)} of {len(huddle.entries)} patients** with "
        f"{' or '.join(flag_label(c) for c in picked)} · most urgent first, then by chair time"
    )
else:
    st.markdown(f"**All {len(shown)} patients** · most urgent first, then by chair time")
for entry in shown:
    _card(entry)

st.divider()
st.plotly_chart(charts.chairs_per_hour(summary.chairs_per_hour, summary.chairs), key="huddle_chairs")
