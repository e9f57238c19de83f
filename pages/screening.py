"""Screening work queue: patients not cleared, needing review, or due for re-screening; the patient whose
next infusion is soonest first."""

from __future__ import annotations

from datetime import date

import streamlit as st

from kdash import ui
from kdash.domain.access import Action

actor = ui.guard(Action.VIEW_CLINICAL)

from kdash.services.screening_queue import QueueRow, screening_queue  # noqa: E402
from kdash.ui.downloads import list_viewed  # noqa: E402
from kdash.ui.presentation import queue_frame, words  # noqa: E402

STATUSES = ["not_started", "incomplete", "needs_review", "not_eligible", "rescreen_due"]


@st.cache_data(ttl=60, max_entries=10, show_spinner=False)
def _queue(_url: str, today: date) -> list[QueueRow]:
    return screening_queue(ui.get_db(), ui.settings(), today)


st.title("Screening queue")
st.caption(
    "Patients whose screening is not cleared, needs a provider's review, or is due again "
    "(older than the clinic's re-screening interval, or before a new course). The next booked infusion "
    "first, so a patient in a chair today is settled before dosing; then the longest waiting."
)
rows = _queue(ui.get_db().url, date.today())
chosen = st.multiselect(
    "Show",
    STATUSES,
    default=[s for s in STATUSES if s != "not_eligible"],
    format_func=words,
    key="screening_status",
)
shown = [r for r in rows if r.status in chosen]
counts = {s: sum(1 for r in rows if r.status == s) for s in STATUSES}
st.markdown(" · ".join(f"{words(s)}: **{n}**" for s, n in counts.items()))
if not shown:
    st.success(
        "Nothing waiting: every active patient shown here is cleared and current. New patients appear here "
        "until their screening is complete.",
        icon=":material/task_alt:",
    )
    st.stop()
list_viewed(actor, "screening_queue", {"statuses": chosen}, [r.patient_id for r in shown])

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
