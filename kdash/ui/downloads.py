"""Download buttons and list-view audit for pages: the one way a page offers patient data as a file.

:func:`download` shows a download button only to a role with the ``export`` permission (others read one
line saying who may export). The file is built when the button is clicked: Streamlit (1.49 and later)
calls a callable passed as ``data`` when the browser asks for the file, on a thread of its own, and
``on_click="ignore"`` keeps the page from rerunning. The callable is a service call that checks the
permission and audits the download, so the audit trail holds one event per file handed out, not per
rerun of the page.

:func:`list_viewed` audits a list of patients once per distinct filter and list per browser session
(see docs/security.md, "List views").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import streamlit as st

from kdash.domain.access import ROLE_LABELS, Action, Actor, allowed_roles

__all__ = ["EXPORT_NOTE", "download", "list_viewed"]

_SEEN = "kdash_list_views_seen"


def _export_note() -> str:
    roles = [ROLE_LABELS[r].lower() for r in allowed_roles(Action.EXPORT)]
    return (
        "Downloads of patient data are for users with the export permission ("
        + " or ".join(roles)
        + "); ask one of them for a file."
    )


#: What a role without the export permission reads where a download would be.
EXPORT_NOTE = _export_note()


def download(
    actor: Actor,
    label: str,
    produce: Callable[[], bytes],
    *,
    file_name: str,
    mime: str,
    key: str,
    help: str | None = None,
    icon: str = ":material/download:",
) -> None:
    """A download button whose file ``produce`` builds on the click, for a role that may export.

    ``produce`` must be a service call that checks the ``export`` permission and audits the download
    (:func:`kdash.services.downloads.deliver` or an export service): it runs outside the page's script,
    so it must not read ``st.session_state``; pass it what it needs.
    """
    if not actor.can(Action.EXPORT):
        st.caption(f":material/lock: {EXPORT_NOTE}")
        return
    st.download_button(
        label,
        data=produce,
        file_name=file_name,
        mime=mime,
        key=key,
        help=help,
        icon=icon,
        on_click="ignore",
    )


def list_viewed(actor: Actor, page: str, filters: Mapping[str, object], patient_ids: Sequence[int]) -> None:
    """Audit ``actor`` seeing ``patient_ids`` on ``page`` under ``filters``, unless this browser session
    already recorded the same page, filters and patients (a rerun, or coming back to the same list)."""
    from kdash.services.downloads import record_list_view
    from kdash.ui import get_db

    fingerprint = json.dumps([page, dict(filters), list(patient_ids)], sort_keys=True, default=str)
    seen: set[str] = st.session_state.setdefault(_SEEN, set())
    if fingerprint in seen:
        return
    record_list_view(get_db(), actor, page, filters, patient_ids)
    seen.add(fingerprint)
