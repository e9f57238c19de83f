"""Screening work queue: patients not cleared, needing review, or due for re-screening; the patient whose
next infusion is soonest first."""

from __future__ import annotations

from datetime import date

import streamlit as st

from kdash import ui
from kdash.domain.access import Action

actor = ui.guard(Action.VIEW_CLINICAL)

from kdash.services import screening_queue as queue_service  # noqa: E402
from kdash.services.screening_queue import QueueRow, queue_page, screening_queue  # noqa: E402
from kdash.services.search import SEARCH_HELP  # noqa: E402
from kdash.ui.downloads import list_viewed  # noqa: E402
from kdash.ui.presentation import queue_frame, words  # noqa: E402

STATUSES = ["not_started", "incomplete", "needs_review", "not_eligible", "rescreen_due"]
PAGE_KEY = "screening_page"


@st.cache_data(ttl=60, max_entries=10, show_spinner="Loading the screening queue…")
def _queue(_url: str, today: date) -> list[QueueRow]:
    return screening_queue(ui.get_db(), ui.settings(), today)


def _turn(step: int) -> None:
    """Previous / next: move the page box before it is drawn."""
    st.session_state[PAGE_KEY] = max(1, int(st.session_state.get(PAGE_KEY, 1)) + step)


st.title("Screening queue")
st.caption(
    "Patients whose screening is not cleared, needs a provider's review, or is due again "
    "(older than the clinic's re-screening interval, or before a new course). The next booked infusion "
    "first, so a patient in a chair today is settled before dosing; then the longest waiting."
)
rows = _queue(ui.get_db().url, date.today())
f1, f2 = st.columns([3, 2])
chosen = f1.multiselect(
    "Show",
    STATUSES,
    default=[s for s in STATUSES if s != "not_eligible"],
    format_func=words,
    key="screening_status",
)
search = f2.text_input(
    "Search", key="screening_search", placeholder="MRN, Last, First or First Last", help=SEARCH_HELP
)
p1, p2, p3, p4 = st.columns([1, 1, 1, 4], vertical_alignment="bottom")
page_no = int(p1.number_input("Page", min_value=1, value=1, step=1, key=PAGE_KEY))
result = queue_page(rows, chosen, search, page=page_no, page_size=queue_service.PAGE_SIZE)
p2.button(
    "Previous",
    key="screening_prev",
    icon=":material/chevron_left:",
    on_click=_turn,
    args=(-1,),
    disabled=result.page <= 1,
    use_container_width=True,
)
p3.button(
    "Next",
    key="screening_next",
    icon=":material/chevron_right:",
    on_click=_turn,
    args=(1,),
    disabled=result.page >= result.pages,
    use_container_width=True,
)
counts = dict(result.counts)
st.markdown(" · ".join(f"{words(s)}: **{counts.get(s, 0)}**" for s in STATUSES))
shown = list(result.rows)
if not shown:
    if search.strip() and rows:
        st.info("No patient in the queue matches this search. Clear the search or show more statuses.")
    else:
        st.success(
            "Nothing waiting: every active patient shown here is cleared and current. New patients appear "
            "here until their screening is complete.",
            icon=":material/task_alt:",
        )
    st.stop()
p4.markdown(
    f"**{result.matching:,}** {'patient waits' if result.matching == 1 else 'patients wait'} for screening; "
    f"showing {result.first:,}–{result.last:,} · page {result.page} of {result.pages}"
)
if page_no > result.pages:
    st.caption(f"There are only {result.pages} pages: showing the last.")
list_viewed(
    actor,
    "screening_queue",
    {"statuses": chosen, "search_given": bool(search.strip()), "page": result.page},
    [r.patient_id for r in shown],
)

st.dataframe(
    queue_frame(shown),
    hide_index=True,
    key="screening_table",
    column_config={
        "Waiting since": st.column_config.DateColumn("Waiting since", format="YYYY-MM-DD"),
    },
)
st.markdown("**Open a patient to record items or a decision**")
# Real links to each patient's address: a click opens the patient, ctrl-click a new tab, Back returns.
for r in shown:
    ui.show_patient_link(r.name, r.mrn, prefix=f"{words(r.status)} · {r.mrn} · ")
