"""Audit log (administrators): who did what to which record, filtered, verified, exported."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import streamlit as st

from kdash import ui
from kdash.domain.access import Action
from kdash.services.audit_log import (
    AuditFilter,
    export_events,
    filter_choices,
    list_events,
    verify_audit_chain,
)
from kdash.ui.presentation import EMPTY, audit_action, audit_change, when, words

actor = ui.guard(Action.VIEW_AUDIT)
db = ui.get_db()

st.title("Audit log")
st.caption(
    "Every sign-in, change, refused action and opening of a patient record, newest first. "
    "The trail is append-only and chained with a key kept outside the database: verify it below."
)

users, actions = filter_choices(db, actor)

ANY = "(anyone)"
ALL = "(all actions)"
with st.form("audit_filter"):
    c1, c2, c3 = st.columns(3)
    who = c1.selectbox("User", [ANY, *users])
    action = c2.selectbox("Action", [ALL, *actions], format_func=lambda a: a if a == ALL else audit_action(a))
    mrn = c3.text_input("Patient MRN", max_chars=64)
    c4, c5, c6 = st.columns(3)
    since = c4.date_input("From", value=date.today() - timedelta(days=30), format="YYYY-MM-DD")
    until = c5.date_input("To", value=date.today(), format="YYYY-MM-DD")
    limit = c6.number_input("At most rows", min_value=10, max_value=100_000, value=1000, step=100)
    st.form_submit_button("Show", type="primary")

if isinstance(since, date) and isinstance(until, date) and since > until:
    st.error("'From' is after 'To'.", icon=":material/error:")
    st.stop()

flt = AuditFilter(
    username=None if who == ANY else who,
    patient_mrn=mrn.strip() or None,
    action=None if action == ALL else action,
    since=since if isinstance(since, date) else None,
    until=until if isinstance(until, date) else None,
    limit=int(limit),
)
rows = list_events(db, actor, flt)

st.subheader(f"{len(rows)} events")
st.dataframe(
    [
        {
            "When": when(r.occurred_at),
            "User": r.username,
            "Role": words(r.role).capitalize() if r.role else EMPTY,
            "Action": audit_action(r.action),
            "Outcome": words(r.outcome),
            "Patient MRN": r.patient_mrn or EMPTY,
            "Record": f"{words(r.entity)} {r.entity_id or ''}".strip() if r.entity else EMPTY,
            "Reason": r.reason or EMPTY,
            "What changed": audit_change(r.before, r.after),
        }
        for r in rows
    ],
    hide_index=True,
    # Short columns sized to their content, so the MRN reads whole and "What changed" starts on a tablet.
    column_config={
        "When": st.column_config.TextColumn("When", width=160),
        "User": st.column_config.TextColumn("User", width=85),
        "Role": st.column_config.TextColumn("Role", width=80),
        "Action": st.column_config.TextColumn("Action", width=115),
        "Outcome": st.column_config.TextColumn("Outcome", width=70),
        "Patient MRN": st.column_config.TextColumn("Patient MRN", width=115),
        "Record": st.column_config.TextColumn("Record", width=95),
        "Reason": st.column_config.TextColumn("Reason", width=110),
        "What changed": st.column_config.TextColumn("What changed", width=400),
    },
)

left, right = st.columns(2)
with left:
    if st.button("Prepare CSV export", icon=":material/download:"):
        text, count = export_events(db, actor, dataclasses.replace(flt, limit=None))
        st.session_state["audit_csv"] = text
        st.session_state["audit_csv_count"] = count
    if "audit_csv" in st.session_state:
        st.download_button(
            f"Download {st.session_state['audit_csv_count']} events (CSV)",
            st.session_state["audit_csv"],
            file_name=f"kdash-audit-{date.today().isoformat()}.csv",
            mime="text/csv",
        )
        st.caption("Cells that a spreadsheet would run as a formula are prefixed with a quote.")
with right:
    if st.button("Verify the trail", icon=":material/verified:"):
        checked, problems = verify_audit_chain(db, actor)
        if problems:
            st.error(
                f"The trail is broken: {len(problems)} problem(s) in {checked} events.",
                icon=":material/gpp_bad:",
            )
            st.dataframe(
                [
                    {"event": str(p.event_id) if p.event_id else "whole trail", "problem": p.problem}
                    for p in problems
                ],
                hide_index=True,
            )
        else:
            st.success(f"The trail is intact: {checked} events checked.", icon=":material/verified_user:")
