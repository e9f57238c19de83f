"""The small Streamlit layer every page shares: the page guard, login, logoff, badges, the database.

This is the only module of the ``kdash`` package that imports Streamlit, so the CLI, the tests of the
rules and the benchmark never load the UI.

Every page's first line is :func:`guard`: Streamlit runs a file in ``pages/`` directly on a freshly
started server (its legacy multipage mode) until some session has run ``st.navigation``, so the login
gate in ``app.py`` alone would let a deep link through.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from datetime import datetime
from typing import Any

import streamlit as st

from kdash.domain.access import ROLE_LABELS, Action, Actor, require
from kdash.domain.errors import DatabaseRefused
from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import Severity
from kdash.services.authentication import LoginError, authenticate
from kdash.services.refusals import refusing_database_errors
from kdash.storage.database import Database, open_database
from kdash.storage.policy_repo import load_policy
from kdash.ui.session_routes import COOKIE, END_PATH, SESSION_PATH

log = logging.getLogger("kdash.ui")

_ACTOR = "kdash_actor"
_LAST_ACTIVITY = "kdash_last_activity"
_LOGOFF_NOTICE = "kdash_logoff_notice"
_SESSION_ID = "kdash_session_id"
_HANDOFF = "kdash_session_handoff"
_COOKIE_SET = "kdash_session_cookie_set"
_CLEAR_COOKIE = "kdash_clear_session_cookie"

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


#: GFM turns bare ``https://…``, ``www.…`` and ``name@host`` into live links whatever is escaped; an
#: invisible WORD JOINER (U+2060) after the scheme or before the ``@`` keeps them text.
_AUTOLINK_START = re.compile(r"(?i)(https?|ftp|mailto|xmpp|www)(?=[:.])|(?=@)")


def md_escape(value: Any) -> str:
    """Text from the database made inert for Markdown (no links, images, emphasis or HTML).

    Links included: a stored ``https://…`` or ``www.…`` shows as text, never as a live link.
    """
    text = _AUTOLINK_START.sub(lambda m: (m.group(1) or "") + "\u2060", "" if value is None else str(value))
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
    """The signed-in user, or None (signed out, idle past the policy's minutes, or ended in another tab).

    A tab signed in through the form or single sign-on holds the id of its server-side session
    (:mod:`kdash.services.sessions`) and checks that row on every run, which also counts as activity;
    a tab that holds no session yet resumes the one its browser's HttpOnly cookie names (a refresh, a
    new tab). The role comes from the users table on each check, so a changed role applies at once.
    """
    from kdash.services.sessions import check_session, resume_session

    drop_stale_caches()
    actor = st.session_state.get(_ACTOR)
    session_id = st.session_state.get(_SESSION_ID)
    if actor is not None and session_id is not None:
        live = check_session(get_db(), int(session_id), settings(), datetime.now(), touch=True)
        if live is None:
            logout(notice=_end_notice(int(session_id)), end=False)
            return None
        st.session_state[_ACTOR] = live.actor
        st.session_state[_LAST_ACTIVITY] = time.time()
        st.session_state[_COOKIE_SET] = live.cookie_set
        return live.actor
    if actor is not None:
        # A session kept only in this tab (no row to check): the per-tab idle limit still applies.
        if _idle_seconds() > settings().idle_logoff_minutes * 60:
            logout(notice=_idle_notice())
            return None
        st.session_state[_LAST_ACTIVITY] = time.time()
        return actor  # type: ignore[no-any-return]
    token = _session_cookie()
    if token:
        live = resume_session(get_db(), token, settings(), datetime.now())
        if live is not None:
            st.session_state[_ACTOR] = live.actor
            st.session_state[_SESSION_ID] = live.session_id
            st.session_state[_LAST_ACTIVITY] = time.time()
            st.session_state[_COOKIE_SET] = True
            return live.actor
    return None


def _idle_seconds() -> float:
    return time.time() - float(st.session_state.get(_LAST_ACTIVITY, 0.0))


def _idle_notice() -> str:
    return f"You were signed out after {settings().idle_logoff_minutes} minutes without activity."


def _end_notice(session_id: int) -> str:
    from kdash.services.sessions import EndReason, end_reason

    reason = end_reason(get_db(), session_id)
    if reason == EndReason.IDLE:
        return _idle_notice()
    if reason == EndReason.EXPIRED:
        return f"Your sign-in ended after {settings().session_max_hours} hours. Sign in again to continue."
    if reason == EndReason.DISABLED:
        return "Your account was disabled. Ask an administrator if this is a mistake."
    return "You were signed out (in this or another tab)."


def _session_cookie() -> str:
    """The session token the browser sent with this tab's connection ("" when none or outside a server)."""
    try:
        return str(st.context.cookies.get(COOKIE) or "")
    except Exception:  # no request behind this run (AppTest, bare mode)
        return ""


def sign_in(actor: Actor) -> None:
    """Sign the user in here and open a server-side session that a refresh or a new tab resumes."""
    from kdash.services.sessions import start_session

    grant = start_session(get_db(), actor, settings(), datetime.now())
    st.session_state[_ACTOR] = actor
    st.session_state[_SESSION_ID] = grant.session_id
    st.session_state[_HANDOFF] = grant.handoff
    st.session_state[_COOKIE_SET] = False
    st.session_state[_LAST_ACTIVITY] = time.time()
    st.session_state.pop(_LOGOFF_NOTICE, None)


def logout(notice: str | None = None, *, end: bool = True) -> None:
    """Forget the user in this tab and (``end``) end the server-side session, which signs out every tab."""
    session_id = st.session_state.get(_SESSION_ID)
    if end and session_id is not None:
        from kdash.services.sessions import end_session

        end_session(get_db(), int(session_id), datetime.now())
    had_session = session_id is not None
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[_LOGOFF_NOTICE] = notice
    if had_session:
        st.session_state[_CLEAR_COOKIE] = True


def session_keeper() -> None:
    """After sign-in: have the browser store the session cookie; then watch for idle logoff.

    The cookie is set by an HTTP route (:mod:`kdash.ui.session_routes`): the page posts the one-time
    hand-off to it until the server says it was redeemed. The watch is a timer that checks the
    session without counting as activity, and reruns the whole app to the sign-in form when it has
    ended, so an unattended screen is cleared without anyone touching it (HIPAA 164.312(a)(2)(iii)).
    """
    handoff = st.session_state.get(_HANDOFF)
    if handoff and not st.session_state.get(_COOKIE_SET):
        _post_to(SESSION_PATH, body=str(handoff))
    elif handoff:
        st.session_state.pop(_HANDOFF, None)
    limit = settings().idle_logoff_minutes * 60
    st.fragment(_idle_check, run_every=idle_check_seconds(limit))()


def idle_check_seconds(limit_seconds: float) -> float:
    """How often a tab checks its session: a sixth of the idle limit, between 5 and 30 seconds.

    The screen is therefore cleared at most that long after the limit (10 s on a 1-minute policy).
    """
    return max(5.0, min(30.0, limit_seconds / 6))


def _idle_check() -> None:
    from kdash.services.sessions import check_session

    session_id = st.session_state.get(_SESSION_ID)
    if st.session_state.get(_ACTOR) is None:
        return
    if session_id is not None:
        ended = check_session(get_db(), int(session_id), settings(), datetime.now(), touch=False) is None
    else:
        ended = _idle_seconds() > settings().idle_logoff_minutes * 60
    if ended:
        st.rerun(scope="app")


def _post_to(route: str, *, body: str = "") -> None:
    """Post ``body`` (a URL-safe secret, never user data) to one of kdash's session routes."""
    from kdash.ui.links import base_path

    url = json.dumps(f"{base_path()}{route}")
    st.html(
        f"<script>fetch({url}, {{method: 'POST', body: {json.dumps(body)}, credentials: 'same-origin',"
        " headers: {'Content-Type': 'text/plain'}});</script>",
        unsafe_allow_javascript=True,
    )


def login_view() -> None:
    """The login form; on success the script reruns with the user signed in."""
    st.title("kdash")
    st.caption("Ketamine-infusion clinic dashboard. Sign in to continue.")
    if st.session_state.pop(_CLEAR_COOKIE, False):
        _post_to(END_PATH)
    notice = st.session_state.get(_LOGOFF_NOTICE)
    if notice:
        st.info(notice, icon=":material/schedule:")
    with st.form("login", clear_on_submit=False):
        username = st.text_input("User name", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            actor = refusing_database_errors(authenticate)(
                get_db(), username, password, settings(), datetime.now(), client=_client()
            )
        except LoginError as exc:
            st.error(str(exc), icon=":material/lock:")
            return
        except DatabaseRefused as exc:
            st.error(f"Not signed in: {exc}", icon=":material/block:")
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


# Re-exported so pages write ``ui.patient_link(...)``; the module imports md_escape from here lazily.
from kdash.ui.links import patient_address as patient_address  # noqa: E402
from kdash.ui.links import patient_link as patient_link  # noqa: E402
from kdash.ui.links import patient_link_column as patient_link_column  # noqa: E402
from kdash.ui.links import planner_address as planner_address  # noqa: E402
from kdash.ui.links import show_patient_link as show_patient_link  # noqa: E402
from kdash.ui.session_routes import session_routes as session_routes  # noqa: E402


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
