"""Clinic settings: every threshold with its default and source; administrators change policy values."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from kdash import ui
from kdash.domain.access import Action
from kdash.domain.errors import Refused, ValidationError
from kdash.services.settings_admin import setting_rows, update_setting

actor = ui.guard(Action.VIEW_CLINICAL)
db = ui.get_db()
can_edit = actor.can(Action.EDIT_SETTINGS)

st.title("Clinic settings")
st.caption(
    "Every threshold kdash uses, with its default and where it comes from. Values marked **policy** are "
    "the clinic's own choice (no guideline fixes them)"
    + ("; you can change them below." if can_edit else "; an administrator can change them.")
)
flash = st.session_state.pop("settings_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


rows = setting_rows(db)
st.dataframe(
    [
        {
            "setting": r.label,
            "value": _show(r.value),
            "unit": r.unit,
            "default": _show(r.default),
            "source": r.source,
            "policy": "policy" if r.policy else "",
            "changed": r.changed,
            "changed by": r.updated_by or "",
        }
        for r in rows
    ],
    hide_index=True,
    # The setting and its source are the long columns; value and default get room for a clinic's name.
    column_config={
        "setting": st.column_config.TextColumn("setting", width=300),
        "value": st.column_config.TextColumn("value", width=135),
        "unit": st.column_config.TextColumn("unit", width=70),
        "default": st.column_config.TextColumn("default", width=135),
        "policy": st.column_config.TextColumn("policy", width=60),
        "changed": st.column_config.CheckboxColumn("changed from default", width=80),
    },
)

if can_edit:
    st.subheader("Change a policy value")
    policy_rows = {r.key: r for r in rows if r.policy}
    key = st.selectbox("Setting", list(policy_rows), format_func=lambda k: policy_rows[k].label)
    row = policy_rows[key]
    st.caption(f"Source: {ui.md_escape(row.source)} · default: {ui.md_escape(_show(row.default))}")
    with st.form(f"edit_{key}"):
        raw: Any
        if isinstance(row.default, bool):
            raw = st.checkbox("Value", value=bool(row.value))
        elif key == "open_weekdays":
            days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            raw = st.multiselect(
                "Open weekdays", list(range(7)), default=row.value, format_func=days.__getitem__
            )
        elif isinstance(row.default, dict | list):
            raw = st.text_area("Value (JSON)", value=json.dumps(row.value, indent=1))
        elif isinstance(row.default, float):
            raw = st.number_input("Value", value=float(row.value), step=1.0)
        elif isinstance(row.default, int) and row.value is not None:
            raw = st.number_input("Value", value=int(row.value), step=1)
        else:
            raw = st.text_input("Value (empty for none)", value="" if row.value is None else str(row.value))
        submitted = st.form_submit_button("Save", type="primary")
    if submitted:
        try:
            if isinstance(row.default, dict | list) and key != "open_weekdays":
                raw = json.loads(raw)
            update_setting(db, actor, key, raw)
        except json.JSONDecodeError:
            st.error("The value is not valid JSON.", icon=":material/error:")
        except ValidationError as exc:
            st.error(str(exc), icon=":material/error:")
        except Refused as exc:
            st.error(str(exc), icon=":material/block:")
        else:
            ui.clear_caches()
            st.session_state["settings_flash"] = f"{row.label} saved."
            st.rerun()
