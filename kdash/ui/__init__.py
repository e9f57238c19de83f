"""The small Streamlit layer every page shares: the page guard, login, logoff, badges, the database.

This is the only module of the ``kdash`` package that imports Streamlit, so the CLI, the tests of the
rules and the benchmark never load the UI.

Every page's first line is :func:`guard`: Streamlit runs a file in ``pages/`` directly on a freshly
started server (its legacy multipage mode) until some session has run ``st.navigation``, so the login
gate in ``app.py`` alone would let a deep link through.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

import streamlit as st

from kdash.domain.access import ROLE_LABELS, Action, Actor, require
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import Severity
from kdash.services.authentication import LoginError, authenticate
from kdash.storage.database import Database, open_database
from kdash.storage.policy_repo import load_policy

log = logging.getLogger("kdash.ui")

_ACTOR = "kdash_actor"
_LAST_ACTIVITY = "kdash_last_activity"
_LOGOFF_NOTICE = "kdash_logoff_notice"

#: Severity shown the same way on every page: a word and an icon, with colour only as a third cue
#: (colour-blind staff, black-and-white print).
SEVERITY_STYLE: dict[Severity, tuple[str, str, str]] = {
    Severity.URGENT: ("red", ":material/error:", "Urgent"),
    Severity.WARNING: ("orange", ":material/warning:", "Warning"),
    Severity.INFO: ("blue", ":material/info:", "Info"),
}


@st.cache_resource(show_spinner=False)
def get_db() -> Database:
    """The process-wide database handle; the schema is upgraded on first use."""
    return open_database()


def settings() -> ClinicPolicy:
    """Clinic settings, cached briefly: they change rarely and every page reads them."""
    return _settings_cached(get_db().url)


@st.cache_data(ttl=60, show_spinner=False)
def _settings_cached(url: str) -> ClinicPolicy:
    with get_db().read() as session:
        return load_policy(session)


def clear_caches() -> None:
    """After a write: no page may show stale data."""
    st.cache_data.clear()


_seen_versions: dict[str, int] = {}
_seen_lock = threading.Lock()


def drop_stale_caches() -> None:
    """Empty the data caches when the database changed since this server last looked.

    The caches' time-to-live alone would let a page show data up to a minute old after a write made
    elsewhere (another user's session clears only on its own writes, another app server or the command
    line not at all). One cheap version read per page run closes that gap
    (:func:`kdash.storage.freshness.data_version`).
    """
    from kdash.storage.freshness import data_version

    db = get_db()
    version = data_version(db)
    with _seen_lock:
        last = _seen_versions.get(db.url)
        _seen_versions[db.url] = version
    if last is not None and last != version:
        st.cache_data.clear()


def md_escape(value: Any) -> str:
    """Text from the database made inert for Markdown (no links, images, emphasis or HTML)."""
    text = "" if value is None else str(value)
    out = []
    for ch in text:
        if ch in "\\`*_{}[]()<>#+-.!|~:$&\"'=":
            out.append("\\" + ch)
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def severity_badge(severity: Severity | str, text: str | None = None) -> str:
    """Markdown for a severity badge: icon + word (+ optional escaped text), colour as a third cue."""
    sev = Severity(severity)
    colour, icon, word = SEVERITY_STYLE[sev]
    label = f"{icon} {word}" + (f": {md_escape(text)}" if text else "")
    return f":{colour}-badge[{label}]"


def current_actor() -> Actor | None:
    """The signed-in user, or None (also after the idle timeout, which signs the user out)."""
    drop_stale_caches()
    actor = st.session_state.get(_ACTOR)
    if actor is None:
        return None
    last = st.session_state.get(_LAST_ACTIVITY, 0.0)
    idle_limit = settings().idle_logoff_minutes * 60
    if time.time() - last > idle_limit:
        logout(notice=f"You were signed out after {settings().idle_logoff_minutes} minutes without activity.")
        return None
    st.session_state[_LAST_ACTIVITY] = time.time()
    return actor  # type: ignore[no-any-return]


def sign_in(actor: Actor) -> None:
    st.session_state[_ACTOR] = actor
    st.session_state[_LAST_ACTIVITY] = time.time()
    st.session_state.pop(_LOGOFF_NOTICE, None)


def logout(notice: str | None = None) -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[_LOGOFF_NOTICE] = notice


def login_view() -> None:
    """The login form; on success the script reruns with the user signed in."""
    st.title("kdash")
    st.caption("Ketamine-infusion clinic dashboard. Sign in to continue.")
    notice = st.session_state.get(_LOGOFF_NOTICE)
    if notice:
        st.info(notice, icon=":material/schedule:")
    with st.form("login", clear_on_submit=False):
        username = st.text_input("User name", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            actor = authenticate(get_db(), username, password, settings(), datetime.now(), client=_client())
        except LoginError as exc:
            st.error(str(exc), icon=":material/lock:")
            return
        sign_in(actor)
        st.rerun()
    _sso_option()


def _client() -> str | None:
    """Who is signing in, for the per-client throttle: the address, else this browser session."""
    address = st.context.ip_address
    if address:
        return f"ip:{address}"
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return f"session:{ctx.session_id}" if ctx is not None else None


def _sso_option() -> None:
    """Single sign-on through ``st.login`` when an OpenID Connect provider is configured."""
    try:
        configured = "auth" in st.secrets
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):  # no secrets file
        configured = False
    if not configured:
        return
    user = getattr(st, "user", None)
    if user is not None and user.get("is_logged_in"):
        from kdash.services.authentication import actor_for_oidc

        with get_db().write() as session:
            actor = actor_for_oidc(session, str(user.get("sub", "")), user.get("email"))
        if actor is None:
            st.error("Your single sign-on account is not a kdash user. Ask an administrator to add you.")
            return
        sign_in(actor)
        st.rerun()
    if st.button("Sign in with single sign-on", key="sso_login"):
        st.login()


def guard(action: Action = Action.VIEW_CLINICAL) -> Actor:
    """First line of every page: stop unless a signed-in user whose role allows ``action`` is here."""
    actor = current_actor()
    if actor is None:
        login_view()
        st.stop()
    assert actor is not None
    if not actor.can(action):
        try:
            require(actor, action)
        except PermissionError as exc:
            st.error(str(exc), icon=":material/block:")
        st.stop()
    return actor


def role_label(actor: Actor) -> str:
    return ROLE_LABELS[actor.role]


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
