"""Fragments whose clicks count as activity.

A click inside an ``st.fragment`` reruns only that fragment, not the page: the page's guard
(:func:`kdash.ui.guard`), which checks the signed-in session and counts the run as activity, does not
run. A nurse working for a quarter of an hour inside the planner's scenario editor would then be
signed out as idle while typing, and a session ended in another tab would still answer the fragment.

:func:`fragment` is ``st.fragment`` with that check put back: each rerun of the fragment alone first
checks the session and touches its idle clock (:func:`kdash.ui.current_actor`); when the session has
ended, the whole app reruns to the sign-in form instead of running the fragment. The idle watch's own
timer (:func:`kdash.ui.session_keeper`) is a plain ``st.fragment`` and never counts as activity.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

P = ParamSpec("P")


def in_fragment_rerun() -> bool:
    """Whether this script run reruns fragments only (a click inside one), not the whole page."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def still_signed_in() -> bool:
    """Check the session for a fragment's rerun and count it as activity; False once it has ended."""
    from kdash import ui

    return ui.current_actor() is not None


def fragment(func: Callable[P, None]) -> Callable[P, None]:
    """``st.fragment`` whose reruns count as the user's activity and stop once the session has ended."""

    @functools.wraps(func)
    def checked(*args: P.args, **kwargs: P.kwargs) -> None:
        # A full page run has been through the page's guard already; only a fragment's own rerun skips it.
        if in_fragment_rerun() and not still_signed_in():
            st.rerun(scope="app")
        func(*args, **kwargs)

    return st.fragment(checked)
