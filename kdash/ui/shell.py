"""What frames every page: the sidebar, the first-run and demo-clinic offers, the navigation
switch at start-up and the audit-trail alarm."""

from __future__ import annotations

import logging

import streamlit as st

from kdash.domain.access import Action, Actor
from kdash.ui.markup import md_escape
from kdash.ui.resources import clear_caches, get_db, settings
from kdash.ui.signin import logout, role_label

log = logging.getLogger("kdash.ui")

#: Below this window width (a 1024 px tablet, a half-screen window) the sidebar starts collapsed, so the
#: page keeps its full width; Streamlit's own "auto" only collapses it on phones. A fixed script with no
#: data in it; once per browser tab, so a sidebar the user opens again stays open.
_COLLAPSE_NARROW_SIDEBAR = """<script>
(function () {
  var KEY = "kdash-sidebar-narrow-collapsed";
  if (window.innerWidth > 1200 || window.sessionStorage.getItem(KEY)) { return; }
  window.sessionStorage.setItem(KEY, "1");
  var tries = 40;
  (function collapse() {
    var bar = document.querySelector('[data-testid="stSidebar"]');
    var button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (bar && button && bar.getAttribute("data-collapsed") === "false") { button.click(); return; }
    if (tries-- > 0) { window.setTimeout(collapse, 50); }
  })();
})();
</script>"""


def sidebar(actor: Actor) -> None:
    """Clinic name, who is signed in, and the sign-out button, the same on every page."""
    with st.sidebar:
        st.html(_COLLAPSE_NARROW_SIDEBAR, unsafe_allow_javascript=True, width="content")
        st.markdown(f"**{md_escape(settings().clinic_name)}**")
        st.caption(f"Signed in as {md_escape(actor.display_name or actor.username)} · {role_label(actor)}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            logout(notice="You signed out.")
            st.rerun()


def first_run_view() -> None:
    """On an empty database (no users, no patients): say which command loads the demo clinic.

    Nothing here creates accounts: a button that did let any visitor of a fresh server make the demo
    administrator (with its published password) and sign in as it.
    """
    from kdash.demo.first_run import EMPTY_DATABASE_HELP, database_is_empty

    if database_is_empty(get_db()):
        st.info(EMPTY_DATABASE_HELP, icon=":material/info:")


def demo_clinic_offer(actor: Actor) -> None:
    """For a signed-in administrator of a database without patients: load the demo clinic."""
    from sqlalchemy import exists, select

    from kdash.demo.first_run import load_demo_clinic
    from kdash.storage.models import Patient

    if not actor.can(Action.MANAGE_USERS):
        return
    db = get_db()
    with db.read() as session:
        if session.scalar(select(exists().where(Patient.id.is_not(None)))):
            return
    st.info("This database holds no patients yet.", icon=":material/info:")
    if st.button("Load the demo clinic", key="load_demo"):
        bar = st.progress(0.0, text="Loading the demo clinic…")

        def show(fraction: float, text: str) -> None:
            bar.progress(fraction, text=text)

        logins = load_demo_clinic(db, actor, progress=show)
        bar.empty()
        clear_caches()
        st.success("Demo clinic loaded. Its demo accounts (refused once real patients are added):")
        st.table([{"user name": u, "role": r, "password": p} for u, r, p in logins])


def serve_navigation_only() -> None:
    """At server start: every request goes through ``app.py``'s navigation and login gate.

    On a freshly started server Streamlit runs a file of ``pages/`` directly for a deep link (its
    legacy multipage mode) until some session has called ``st.navigation``, which then switches the
    mode off for the process (``PagesManager.uses_pages_directory``, see streamlit/streamlit pull
    request 10276). The pages' own guards keep that safe, but a deep link such as ``/patient?mrn=X``
    would then open without the menu and the sign-out button. Setting the flag as ``st.navigation``
    would, before the first request, gives every visitor the same app.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


@st.cache_resource(show_spinner=False)
def _audit_check_at_start(url: str) -> tuple[str, ...]:
    """The audit trail checked once per app server start: missing triggers and a broken chain."""
    from kdash.services.audit_log import audit_problems

    checked, problems = audit_problems(get_db())
    if problems:
        # A log line an operator's monitoring can catch; problems name event ids, never PHI.
        log.error(
            "AUDIT TRAIL FAILS VERIFICATION at start-up: %d problem(s) in %d events: %s",
            len(problems),
            checked,
            "; ".join(f"event {p.event_id}: {p.problem}" if p.event_id else p.problem for p in problems[:10]),
        )
    return tuple(p.problem if not p.event_id else f"event {p.event_id}: {p.problem}" for p in problems)


def audit_alarm(actor: Actor | None) -> None:
    """The start-up check of the audit trail (run by the first visit, logged once), and for
    administrators a banner on every page while it fails."""
    problems = _audit_check_at_start(get_db().url)
    if problems and actor is not None and actor.can(Action.VIEW_AUDIT):
        st.error(
            f"The audit trail failed its check when this server started ({len(problems)} problem(s)). "
            + md_escape("; ".join(problems[:3]))
            + " Run `python -m kdash audit verify` for the full list.",
            icon=":material/gpp_bad:",
        )
