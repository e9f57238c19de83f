"""One address per patient: ``/patient?mrn=<MRN>`` and ``/planner?mrn=<MRN>``, and links to them.

A patient named on any page is a real link (an ``<a href>``) so staff can open it in a new tab with a
ctrl-click, copy it into a message, and come back with the browser's Back button. A button that
switches page in the script gives none of that.

The name is data: it is escaped for the renderer it goes to (Markdown or HTML), so a name such as
``[x](https://evil)`` or ``<img src=x>`` shows as those characters and never becomes a link or an
element of its own. The MRN is URL-quoted.
"""

from __future__ import annotations

import html
from typing import Any, Final
from urllib.parse import urlencode

import streamlit as st

#: The query parameter the patient and planner pages read.
MRN_PARAM: Final = "mrn"
PATIENT_PAGE: Final = "patient"
PLANNER_PAGE: Final = "planner"


def base_path() -> str:
    """The server's ``server.baseUrlPath`` as a prefix ("" or "/kdash"), for a clinic behind a proxy path."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def _address(page: str, mrn: str) -> str:
    return f"{base_path()}/{page}?{urlencode({MRN_PARAM: str(mrn)})}"


def patient_address(mrn: str) -> str:
    """The address of a patient's page, e.g. ``/patient?mrn=RT-0001`` (the MRN URL-quoted)."""
    return _address(PATIENT_PAGE, mrn)


def planner_address(mrn: str) -> str:
    """The address of the what-if planner opened on a patient, e.g. ``/planner?mrn=RT-0001``."""
    return _address(PLANNER_PAGE, mrn)


def _markdown_text(value: Any) -> str:
    # Imported here: kdash.ui imports this module for its re-exports.
    from kdash.ui import md_escape

    return md_escape(value)


def patient_link(name: Any, mrn: str, *, planner: bool = False) -> str:
    """Markdown for the patient's name as a link to their page (or the planner), to put in any text.

    Streamlit opens Markdown links in a new tab, so the page the user was on stays where it was.
    Use :func:`show_patient_link` for a link that opens in the same tab (Back returns).
    """
    address = planner_address(mrn) if planner else patient_address(mrn)
    label = _markdown_text(name) or _markdown_text(mrn)
    return f"[{label}]({address})"


def patient_link_html(name: Any, mrn: str, *, planner: bool = False) -> str:
    """An HTML ``<a href>`` for the patient's name: the name and the address escaped for HTML."""
    address = planner_address(mrn) if planner else patient_address(mrn)
    label = html.escape(str(name if name not in (None, "") else mrn))
    return f'<a href="{html.escape(address, quote=True)}" data-testid="kdash-patient-link">{label}</a>'


def show_patient_link(name: Any, mrn: str, *, planner: bool = False, prefix: str = "") -> None:
    """Render the patient's name as a plain link that opens in the same tab.

    A click loads the patient's address (Back returns to this page; the signed-in session is kept by
    its cookie), ctrl-click opens a new tab, and the address can be copied. ``prefix`` is plain text
    shown before the link (escaped too).
    """
    st.html(f"<span>{html.escape(prefix)}{patient_link_html(name, mrn, planner=planner)}</span>")


def patient_link_column(label: str = "Patient", *, help_text: str | None = None) -> Any:
    """A table column of patient addresses (from :func:`patient_address`) shown as their MRN, clickable."""
    return st.column_config.LinkColumn(label, help=help_text, display_text=rf"{MRN_PARAM}=(.*)$")
