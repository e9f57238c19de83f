"""Active courses: progress toward ten, trial outcome, next booking and expected end."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from kdash import ui
from kdash.domain.access import Action

actor = ui.guard(Action.VIEW_CLINICAL)

from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, TrialOutcome, values  # noqa: E402
from kdash.services.active_courses import CourseRow, active_courses  # noqa: E402
from kdash.ui import charts  # noqa: E402
from kdash.ui.downloads import list_viewed  # noqa: E402
from kdash.ui.presentation import courses_frame, indication_label, words  # noqa: E402

PATIENT_PAGE = str(Path(__file__).with_name("patient.py"))


@st.cache_data(ttl=60, max_entries=10, show_spinner=False)
def _courses(_url: str, today: date) -> list[CourseRow]:
    return active_courses(ui.get_db(), today)


st.title("Active courses")
rows = _courses(ui.get_db().url, date.today())
if not rows:
    st.info("No open course. A provider starts a course from a patient's page once screening is cleared.")
    st.stop()

c1, c2 = st.columns(2)
indications = c1.multiselect(
    "Indication", sorted({r.indication for r in rows}), format_func=indication_label, key="courses_indication"
)
outcomes = c2.multiselect("Trial outcome", values(TrialOutcome), format_func=words, key="courses_outcome")
shown = [
    r
    for r in rows
    if (not indications or r.indication in indications) and (not outcomes or r.trial_outcome in outcomes)
]
m1, m2, m3 = st.columns(3)
m1.metric("Open courses", len(shown))
m2.metric("Trial outcome pending", sum(1 for r in shown if r.trial_outcome == TrialOutcome.PENDING.value))
m3.metric(
    f"All {MAX_INFUSIONS_PER_COURSE} done or booked",
    sum(1 for r in shown if r.live >= MAX_INFUSIONS_PER_COURSE),
    help="Courses with no place left: every infusion a course may hold is done or booked",
)
if not shown:
    st.info("No open course matches these filters. Clear a filter to see more.")
    st.stop()
list_viewed(
    actor, "courses", {"indications": indications, "trial_outcomes": outcomes}, [r.patient_id for r in shown]
)

st.dataframe(
    courses_frame(shown),
    hide_index=True,
    key="courses_table",
    # Fixed widths: the course columns that matter fit a tablet; the rest scrolls sideways.
    column_config={
        "MRN": st.column_config.TextColumn("MRN", width=110),
        "Name": st.column_config.TextColumn("Name", width=150),
        "Indication": st.column_config.TextColumn("Indication", width=150),
        "Course": st.column_config.NumberColumn("Course", width=65),
        "Status": st.column_config.TextColumn("Status", width=75),
        "Progress": st.column_config.TextColumn(
            "Progress",
            width=165,
            help=f"Infusions done, booked, of the {MAX_INFUSIONS_PER_COURSE} a course may hold",
        ),
        "Trial outcome": st.column_config.TextColumn("Trial outcome", width=105),
        "Next booking": st.column_config.TextColumn("Next booking", width=165),
        "Expected end": st.column_config.TextColumn(
            "Expected end", width=165, help="Date of the course's last booked or done infusion"
        ),
    },
)
o1, o2 = st.columns([3, 1])
choice = o1.selectbox(
    "Open a patient",
    [(r.patient_id, f"{r.name} · {r.mrn} · course {r.number}") for r in shown],
    format_func=lambda o: o[1],
    key="courses_open_pick",
)
o2.write("")
if o2.button("Open patient", key="courses_open", icon=":material/person:"):
    st.session_state["patient_id"] = choice[0]
    st.switch_page(PATIENT_PAGE)

# The overview chart after the list: on a tablet the courses themselves come first.
st.plotly_chart(charts.course_progress(shown), key="courses_chart")
