"""Users (administrators): list accounts, add one, disable, unlock, change role, set a password."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from kdash import ui
from kdash.domain.access import ROLE_LABELS, Action
from kdash.domain.errors import NotFound, Refused
from kdash.domain.vocab import Role
from kdash.services import users as svc
from kdash.ui.presentation import EMPTY, when

actor = ui.guard(Action.MANAGE_USERS)
db = ui.get_db()
settings = ui.settings()

st.title("Users")
st.caption(
    "Each person has their own account (no shared logins). Accounts are disabled, never deleted, so the "
    "audit trail keeps its names. Every change here is recorded in the audit log."
)

flash = st.session_state.pop("users_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

now = datetime.now()
rows = svc.list_users(db, actor)
st.dataframe(
    [
        {
            "user name": r.username,
            "display name": r.display_name,
            "role": ROLE_LABELS[Role(r.role)],
            "active": r.active,
            "locked": r.locked(now),
            "failed logins": r.failed_logins,
            "last login": when(r.last_login_at) if r.last_login_at else "never",
            "single sign-on": r.sso,
            "e-mail": r.email or EMPTY,
        }
        for r in rows
    ],
    hide_index=True,
)

role_options = [r.value for r in Role]


def _role_label(value: str) -> str:
    return ROLE_LABELS[Role(value)]


tab_add, tab_change = st.tabs(["Add a user", "Change a user"])

with tab_add, st.form("add_user", clear_on_submit=True):
    username = st.text_input("User name", max_chars=64, help="Letters, digits, . _ - @ (no spaces)")
    display = st.text_input("Display name", max_chars=120)
    email = st.text_input("E-mail (for single sign-on)", max_chars=255)
    role = st.selectbox("Role", role_options, format_func=_role_label)
    sso_only = st.checkbox("Single sign-on only (no password)")
    pw1 = st.text_input(
        "Password", type="password", help=f"At least {settings.password_min_length} characters"
    )
    pw2 = st.text_input("Repeat the password", type="password")
    if st.form_submit_button("Add user", type="primary"):
        if not sso_only and pw1 != pw2:
            st.error("The two passwords differ.", icon=":material/error:")
        else:
            try:
                row = svc.add_user(
                    db,
                    actor,
                    username,
                    role,
                    None if sso_only else pw1,
                    settings,
                    display_name=display,
                    email=email,
                )
            except (ValueError, Refused) as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.session_state["users_flash"] = f"User {row.username} added."
                st.rerun()

with tab_change:
    names = [r.username for r in rows]
    if not names:
        st.info("No users yet.")
    else:
        chosen = st.selectbox("User", names, key="user_to_change")
        current = next(r for r in rows if r.username == chosen)
        st.markdown(
            f"**{ui.md_escape(current.display_name)}** · {_role_label(current.role)} · "
            + ("active" if current.active else "disabled")
            + (" · locked" if current.locked(now) else "")
        )

        def _do(fn, done: str) -> None:  # type: ignore[no-untyped-def]
            try:
                fn()
            except (ValueError, NotFound, Refused) as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.session_state["users_flash"] = f"User {chosen} {done}."
                st.rerun()

        c1, c2, c3 = st.columns(3)
        if current.active:
            if c1.button("Disable", icon=":material/block:"):
                _do(lambda: svc.disable_user(db, actor, chosen), "disabled")
        elif c1.button("Enable", icon=":material/check:"):
            _do(lambda: svc.enable_user(db, actor, chosen), "enabled")
        if c2.button("Unlock", icon=":material/lock_open:", disabled=not current.locked(now)):
            _do(lambda: svc.unlock_user(db, actor, chosen), "unlocked")
        with st.form("change_role"):
            new_role = st.selectbox(
                "New role", role_options, index=role_options.index(current.role), format_func=_role_label
            )
            if st.form_submit_button("Change role"):
                _do(lambda: svc.change_role(db, actor, chosen, new_role), f"is now {_role_label(new_role)}")
        with st.form("set_password", clear_on_submit=True):
            p1 = st.text_input("New password", type="password")
            p2 = st.text_input("Repeat the new password", type="password")
            if st.form_submit_button("Set password"):
                if p1 != p2:
                    st.error("The two passwords differ.", icon=":material/error:")
                else:
                    _do(lambda: svc.set_password(db, actor, chosen, p1, settings), "has a new password")
