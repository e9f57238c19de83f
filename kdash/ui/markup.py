"""Database text made inert for Markdown, and the severity badge every page shows."""

from __future__ import annotations

import re
from typing import Any

from kdash.domain.vocab import Severity

#: Severity shown the same way on every page: a word and an icon, with colour only as a third cue
#: (colour-blind staff, black-and-white print).
SEVERITY_STYLE: dict[Severity, tuple[str, str, str]] = {
    Severity.URGENT: ("red", ":material/error:", "Urgent"),
    Severity.WARNING: ("orange", ":material/warning:", "Warning"),
    Severity.INFO: ("blue", ":material/info:", "Info"),
}


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
