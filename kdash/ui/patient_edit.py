"""The patient page's write helpers and its patient forms: add a patient, correct demographics and the
escort (amended with a reason through :mod:`kdash.services.patients`, never overwritten)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from kdash import ui
from kdash.domain.access import Action, Actor, Forbidden
from kdash.domain.errors import NotFound, Refused, ValidationError
from kdash.domain.records import PatientRec
from kdash.domain.vocab import Indication, Sex, values
from kdash.services import patients
from kdash.ui.presentation import words

#: Session-state keys the patient page shares with its forms.
FLASH = "patient_flash"
PATIENT = "patient_id"


def submit(actor: Actor, action: Callable[..., Any], *args: Any, done: str, **kwargs: Any) -> Any:
    """Run a service; on success clear caches and rerun with ``done`` shown, else show why in words."""
    try:
        result = action(ui.get_db(), actor, *args, **kwargs)
    except ValidationError as exc:
        st.error(
            "Not saved. Please fix:\n" + "\n".join(f"- {ui.md_escape(p.message)}" for p in exc.problems),
            icon=":material/error:",
        )
        return None
    except (Refused, Forbidden, NotFound) as exc:
        st.error(f"Not saved: {ui.md_escape(exc)}", icon=":material/block:")
        return None
    ui.clear_caches()
    st.session_state[FLASH] = done
    st.rerun()
    return result


def none_if_empty(value: Any) -> Any:
    return None if value in ("", None) else value


def demographic_inputs(prefix: str, today: date, current: PatientRec | None = None) -> dict[str, Any]:
    """The demographic and escort fields of a form, filled with ``current`` if given."""
    sexes, indications = values(Sex), values(Indication)
    c1, c2 = st.columns(2)
    got: dict[str, Any] = {
        "last_name": c1.text_input(
            "Last name", value=current.last_name if current else "", max_chars=120, key=prefix + "last"
        ),
        "first_name": c2.text_input(
            "First name", value=current.first_name if current else "", max_chars=120, key=prefix + "first"
        ),
        "date_of_birth": c1.date_input(
            "Date of birth",
            value=current.date_of_birth if current else None,
            min_value=date(1900, 1, 1),
            max_value=today,
            format="YYYY-MM-DD",
            key=prefix + "dob",
        ),
        "sex": c2.selectbox(
            "Sex",
            sexes,
            index=sexes.index(current.sex.value) if current else None,
            format_func=words,
            key=prefix + "sex",
        ),
        "indication": c1.selectbox(
            "Indication",
            indications,
            index=indications.index(current.indication.value) if current else None,
            format_func=lambda v: Indication(v).label,
            key=prefix + "indication",
        ),
        "provider": c2.text_input(
            "Provider", value=current.provider if current else "", max_chars=120, key=prefix + "provider"
        ),
        "escort_name": c1.text_input(
            "Escort name",
            value=(current.escort_name or "") if current else "",
            max_chars=120,
            key=prefix + "escort_name",
        ),
        "escort_phone": c2.text_input(
            "Escort phone",
            value=(current.escort_phone or "") if current else "",
            max_chars=40,
            key=prefix + "escort_phone",
        ),
    }
    return got


def add_patient_form(actor: Actor, today: date) -> None:
    """A new patient: every field checked by the service; on success the new patient opens."""
    with st.form("form_add_patient", clear_on_submit=False):
        st.markdown("**Add a patient**")
        mrn = st.text_input("MRN", max_chars=64, key="f_add_mrn", placeholder="letters and digits")
        entered = demographic_inputs("f_add_", today)
        if st.form_submit_button("Add patient", type="primary"):
            try:
                new_id = patients.add_patient(ui.get_db(), actor, {"mrn": mrn, **entered})
            except ValidationError as exc:
                st.error(
                    "Not added. Please fix:\n"
                    + "\n".join(f"- {ui.md_escape(p.message)}" for p in exc.problems),
                    icon=":material/error:",
                )
                return
            except (Refused, Forbidden) as exc:
                st.error(f"Not added: {ui.md_escape(exc)}", icon=":material/block:")
                return
            ui.clear_caches()
            st.session_state[PATIENT] = new_id
            st.session_state[FLASH] = "Patient added: record the screening next."
            st.rerun()


def add_patient_section(actor: Actor, today: date) -> None:
    """The "Add a patient" expander, for the roles that may add one."""
    if actor.can(Action.EDIT_PATIENT):
        with st.expander("Add a patient", expanded=False):
            add_patient_form(actor, today)


def demographics_form(actor: Actor, patient: PatientRec, today: date) -> None:
    """Correct demographics and the escort home: a changed value is amended with a reason."""
    if not actor.can(Action.EDIT_PATIENT):
        return
    with st.form("form_demographics", clear_on_submit=False):
        st.markdown("**Demographics and escort home**")
        st.caption(
            "A value already on record is kept in Amendments with your reason; filling in an empty one "
            "(an escort not yet recorded) needs no reason. The MRN is the patient's address and stays."
        )
        entered = demographic_inputs("f_demo_", today, patient)
        reason = st.text_input("Reason (only when changing a value already recorded)", key="f_demo_reason")
        if st.form_submit_button("Save demographics"):
            submit(
                actor,
                patients.edit_patient,
                patient.id,
                entered,
                reason=none_if_empty(reason),
                done="Demographics saved.",
            )
