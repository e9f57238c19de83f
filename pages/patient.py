"""One patient: identity, screening, courses (ten slots each), scores, infusion history, and the forms.

The page opens on the next action (:mod:`kdash.ui.patient_record`): the Record tab, with the form that
answers an open urgent flag first, or today's infusion. The parts live in ``kdash.ui.patient_*``.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from kdash import ui
from kdash.domain.access import Action

actor = ui.guard(Action.VIEW_CLINICAL)

from kdash.ui import patient_sections as sections  # noqa: E402
from kdash.ui.patient_context import PatientPage  # noqa: E402
from kdash.ui.patient_edit import PATIENT, add_patient_section  # noqa: E402
from kdash.ui.patient_record import opens_on_record, record_tab  # noqa: E402

today = date.today()

sections.open_from_address()
sections.finder()
add_patient_section(actor, today)

patient_id = st.session_state.get(PATIENT)
if patient_id is None:
    st.title("Patient")
    st.info(
        "Search for a patient by name or MRN above, or open one from the morning huddle or the roster.",
        icon=":material/search:",
    )
    st.stop()

detail = sections.detail(int(patient_id), today, actor)
if detail is None:
    st.title("Patient")
    st.error("This patient does not exist or was deleted. Search for another one above.")
    st.stop()
assert detail is not None

sections.keep_address_and_audit(actor, detail)
just_saved = sections.header(detail)

ctx = PatientPage(actor, detail, today)
tab_overview, tab_scores, tab_infusions, tab_record, tab_history = st.tabs(
    ["Screening & courses", "Scores", "Infusions", "Record", "Amendments"],
    default="Record" if just_saved or opens_on_record(ctx) else None,
)
with tab_overview:
    sections.overview_tab(detail)
with tab_scores:
    sections.scores_tab(detail, actor)
with tab_infusions:
    sections.infusions_tab(detail, actor)
with tab_record:
    record_tab(ctx)
with tab_history:
    sections.amendments_tab(detail)
