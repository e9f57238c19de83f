"""Roster: every active patient with course progress, main score, trend, next infusion and flags."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import streamlit as st

from kdash import ui
from kdash.domain.access import Action

actor = ui.guard(Action.VIEW_CLINICAL)

from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, CourseStatus, Indication, ScreeningStatus, values  # noqa: E402
from kdash.services.downloads import FileContent, deliver  # noqa: E402
from kdash.services.roster import (  # noqa: E402
    NO_COURSE,
    PAGE_SIZE,
    RosterFilters,
    RosterPage,
    roster,
    roster_overview,
    roster_page,
)
from kdash.services.search import SEARCH_HELP  # noqa: E402
from kdash.ui.downloads import download, list_viewed  # noqa: E402
from kdash.ui.presentation import csv_bytes, indication_label, roster_frame, words  # noqa: E402

PATIENT_PAGE = str(Path(__file__).with_name("patient.py"))
COURSE_STATES = [*values(CourseStatus), NO_COURSE]


@st.cache_data(ttl=60, max_entries=50, show_spinner="Loading the roster…")
def _page(_url: str, today: date, filters: RosterFilters, page_no: int) -> RosterPage:
    """One page as the database cuts it; cached per filters and page, emptied by any write (ui.py)."""
    return roster_page(ui.get_db(), ui.settings(), today, filters, page=page_no)


@st.cache_data(ttl=60, max_entries=2, show_spinner=False)
def _overview(_url: str) -> tuple[int, tuple[str, ...]]:
    return roster_overview(ui.get_db())


def _csv(filters: RosterFilters, today: date) -> Callable[[], bytes]:
    """Every matching patient as CSV, built and audited only when the download is asked for."""
    db, settings = ui.get_db(), ui.settings()

    def build() -> FileContent:
        rows = roster(db, settings, today, filters=filters)
        data = csv_bytes(roster_frame(rows).drop(columns=["patient_id", "urgent"]))
        return FileContent(data, tuple(r.patient_id for r in rows))

    return lambda: deliver(db, actor, what="roster", fmt="csv", build=build)


st.title("Roster")
today = date.today()
url = ui.get_db().url
total, all_providers = _overview(url)
if not total:
    st.info("No active patients yet. Import patients under Import / export, or load the demo clinic.")
    st.stop()

with st.container(border=True):
    f1, f2, f3 = st.columns(3)
    providers = f1.multiselect("Provider", list(all_providers), key="roster_provider")
    indications = f2.multiselect(
        "Indication", values(Indication), format_func=indication_label, key="roster_indication"
    )
    course_states = f3.multiselect("Course status", COURSE_STATES, key="roster_course_status")
    f4, f5, f6 = st.columns(3)
    screening = f4.multiselect(
        "Screening status", values(ScreeningStatus), format_func=words, key="roster_screening"
    )
    search = f5.text_input(
        "Search", key="roster_search", placeholder="MRN, Last, First or First Last", help=SEARCH_HELP
    )
    f6.write("")
    urgent_only = f6.toggle("Only patients with an urgent flag", key="roster_urgent")

filters = RosterFilters(
    providers=tuple(providers),
    indications=tuple(indications),
    course_statuses=tuple(course_states),
    screening=tuple(screening),
    search=search.strip(),
    urgent_only=urgent_only,
)
p1, p2 = st.columns([1, 3])
page_no = int(p1.number_input("Page", min_value=1, value=1, step=1, key="roster_page"))
result = _page(url, today, filters, page_no)
p2.markdown(
    f"**{result.matching}** of {result.total} active patients match · page {result.page} of "
    f"{result.pages} ({PAGE_SIZE} a page)"
)
shown = list(result.rows)
if page_no > result.pages:
    st.caption(f"There are only {result.pages} pages: showing the last.")

if not shown:
    st.info("No patient matches these filters. Clear a filter or the search to see more.")
    st.stop()
list_viewed(
    actor,
    "roster",
    {
        "providers": filters.providers,
        "indications": filters.indications,
        "course_statuses": filters.course_statuses,
        "screening": filters.screening,
        "search_given": bool(filters.search),  # the text itself may be a name: not recorded
        "urgent_only": filters.urgent_only,
        "page": result.page,
    },
    [r.patient_id for r in shown],
)

frame = roster_frame(shown)
st.dataframe(
    frame.drop(columns=["patient_id", "urgent"]),
    hide_index=True,
    key="roster_table",
    # Widths that keep who, flags, progress and the next infusion in the first screen at 1024 px.
    column_config={
        "MRN": st.column_config.TextColumn("MRN", width=110),
        "Name": st.column_config.TextColumn("Name", width=150),
        "Flags": st.column_config.TextColumn(
            "Flags", width=260, help="Huddle flags for a booking in the next 14 days"
        ),
        "Progress": st.column_config.TextColumn(
            "Progress",
            width=165,
            help=f"Current course: infusions done, booked, of the {MAX_INFUSIONS_PER_COURSE} it may hold",
        ),
        "Next infusion": st.column_config.TextColumn("Next infusion", width=165),
        "Score": st.column_config.TextColumn("Score", width=65),
        "Latest": st.column_config.TextColumn("Latest", width=60),
        "Band": st.column_config.TextColumn("Band", width=120),
        "Change %": st.column_config.TextColumn("Change %", width=80, help="Main score against baseline"),
        # Navy like the patient's score line: red would read as an alarm on a score that falls (improves).
        "Trend": st.column_config.LineChartColumn(
            "Trend", width=100, color="#1a3d7c", help="Main score, last ten (oldest left)"
        ),
    },
)

download(
    actor,
    f"Download the {result.matching} matching patients (CSV)",
    _csv(filters, today),
    file_name=f"kdash-roster-{today:%Y-%m-%d}.csv",
    mime="text/csv",
    key="roster_download",
)

o1, o2 = st.columns([3, 1])
choice = o1.selectbox(
    "Open a patient from this page",
    [(r.patient_id, f"{r.name} · {r.mrn}") for r in shown],
    format_func=lambda o: o[1],
    key="roster_open_pick",
)
o2.write("")
if o2.button("Open patient", key="roster_open", icon=":material/person:"):
    st.session_state["patient_id"] = choice[0]
    st.switch_page(PATIENT_PAGE)
