"""Patient addresses and links: one address per patient, and names that cannot become markup."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from kdash import ui
from kdash.ui.links import patient_link_html

HOSTILE_NAMES = [
    "[Evil](https://evil.example)",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ `code`",
    "Smith, Ann ](javascript:alert(1))",
    'O\'Brien & "Sons"',
    "![i](https://evil.example/x.png)",
    ":red-badge[fake]",
]


def _mrn_of(address: str) -> tuple[str, str]:
    parts = urlsplit(address)
    return parts.path, parse_qs(parts.query)["mrn"][0]


def test_addresses_name_the_page_and_quote_the_mrn() -> None:
    assert ui.patient_address("RT-0001") == "/patient?mrn=RT-0001"
    assert ui.planner_address("RT-0001") == "/planner?mrn=RT-0001"
    odd = "A&B 1/2?#"
    assert "&B" not in ui.patient_address(odd)
    assert "#" not in ui.patient_address(odd)
    assert _mrn_of(ui.patient_address(odd)) == ("/patient", odd)


def test_addresses_follow_the_servers_base_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit

    real = streamlit.get_option
    monkeypatch.setattr(
        streamlit, "get_option", lambda key: "/kdash/" if key == "server.baseUrlPath" else real(key)
    )
    assert ui.patient_address("RT-1") == "/kdash/patient?mrn=RT-1"


def _links(markdown: str) -> list[tuple[str, str]]:
    """(href, text) of every link CommonMark finds in ``markdown``."""
    found: list[tuple[str, str]] = []
    for block in MarkdownIt("commonmark").parseInline(markdown):
        href, text, inside = None, [], False
        for token in block.children or []:
            if token.type == "link_open":
                href, text, inside = str(token.attrGet("href")), [], True
            elif token.type == "link_close":
                # md_escape puts invisible word joiners (U+2060) where GFM would autolink; not shown.
                found.append((str(href), "".join(text).replace("\u2060", "")))
                inside = False
            elif inside:
                text.append(token.content)
    return found


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_markdown_link_is_one_link_whatever_the_name(name: str) -> None:
    links = _links(ui.patient_link(name, "RT-0001"))
    assert links == [("/patient?mrn=RT-0001", name)]


def test_markdown_link_to_the_planner() -> None:
    assert _links(ui.patient_link("Doe, Jane", "RT-7", planner=True)) == [("/planner?mrn=RT-7", "Doe, Jane")]


@settings(deadline=None)  # a busy test machine, not the code, sets the time of one example
@given(
    name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip),
    mrn=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20),
)
def test_any_name_and_mrn_give_exactly_one_link_to_that_patient(name: str, mrn: str) -> None:
    links = _links(ui.patient_link(name, mrn))
    assert len(links) == 1
    href, text = links[0]
    assert _mrn_of(href) == ("/patient", mrn)
    assert text.split() == name.split()


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.anchors: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.anchors.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_html_link_is_one_anchor_with_the_name_as_text(name: str) -> None:
    parser = _Anchors()
    parser.feed(patient_link_html(name, "RT 9&x"))
    assert parser.tags == ["a"]
    assert _mrn_of(str(parser.anchors[0]["href"])) == ("/patient", "RT 9&x")
    assert "target" not in parser.anchors[0]  # same tab: Back returns to the list
    assert "".join(parser.text) == name


def test_a_page_shows_the_link_as_an_anchor_and_escapes_the_name() -> None:
    def page() -> None:
        from kdash import ui

        ui.show_patient_link("<b>Doe</b>, Jane", "RT-0002", prefix="Open ")
        import streamlit as st

        st.markdown(ui.patient_link("[x](https://evil)", "RT-0003"))

    at = AppTest.from_function(page, default_timeout=30).run()
    assert not at.exception
    body = at.get("html")[0].proto.body
    assert '<a href="/patient?mrn=RT-0002"' in body
    assert "&lt;b&gt;Doe&lt;/b&gt;, Jane" in body
    assert _links(at.markdown[0].value) == [("/patient?mrn=RT-0003", "[x](https://evil)")]
