"""Who is signed in: the page guard, the login form, single sign-on, sign-out and idle logoff."""

from __future__ import annotations

import json
import time
from datetime import datetime

import streamlit as st

from kdash.domain.access import ROLE_LABELS, Action, Actor, require
from kdash.domain.errors import DatabaseRefused
from kdash.services.authentication import LoginError, authenticate
from kdash.services.refusals import refusing_database_errors
from kdash.ui.resources import drop_stale_caches, get_db, settings
from kdash.ui.session_routes import COOKIE, END_PATH, SESSION_PATH

_ACTOR = "kdash_actor"
_LAST_ACTIVITY = "kdash_last_activity"
_LOGOFF_NOTICE = "kdash_logoff_notice"
_SESSION_ID = "kdash_session_id"
_HANDOFF = "kdash_session_handoff"
_COOKIE_SET = "kdash_session_cookie_set"
_CLEAR_COOKIE = "kdash_clear_session_cookie"


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
