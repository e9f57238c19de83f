"""The process-wide database handle, the clinic settings and the page caches."""

from __future__ import annotations

import threading

import streamlit as st

from kdash.domain.policy import ClinicPolicy
from kdash.storage.database import Database, open_database
from kdash.storage.policy_repo import load_policy


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
