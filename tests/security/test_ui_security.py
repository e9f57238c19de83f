"""The UI's own defences: every page guards itself, idle sessions end, stored text cannot inject HTML.

Each page file is run directly (as Streamlit's legacy multipage mode does for a deep link on a freshly
started server), so a page that forgot its guard would show its content here.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from kdash import ui
from kdash.domain.access import Actor
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import InfusionStatus, Role
from kdash.services.users import create_user
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, Infusion
from kdash.storage.policy_repo import save_setting
from tests.apptest_support import (
    ACTORS,
    HOSTILE,
    make_app_db,
    page_files,
    run_app,
    run_page,
    shows_login_form,
)
from tests.seeded import seed_patient

SECRET_MRN = "MRN-SECRET-4711"
SECRET_NAME = "Zebediah"
#: Element kinds whose text Streamlit renders as Markdown (and, with unsafe_allow_html, as HTML).
MARKDOWN_KINDS = (
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "error",
    "info",
    "success",
    "warning",
)


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    yield from make_app_db(tmp_path, monkeypatch)


def _all_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in (*MARKDOWN_KINDS, "text", "code", "json", "html", "metric", "exception"):
        for el in at.get(kind):
            parts.append(str(getattr(el, "value", "")))
    for kind in ("dataframe", "table"):
        for el in at.get(kind):
            parts.append(el.value.to_csv())
    return "\n".join(parts)


@pytest.mark.parametrize("page", page_files())
def test_anonymous_visitor_sees_only_the_login_form(page: str, app_db: Database) -> None:
    with app_db.write() as s:
        seed_patient(s, SECRET_MRN, SECRET_NAME, SECRET_NAME)
    at = run_page(page)
    assert not at.exception
    assert shows_login_form(at)
    assert len(at.dataframe) == 0
    assert len(at.table) == 0
    text = _all_text(at)
    assert SECRET_MRN not in text
    assert SECRET_NAME not in text


def test_anonymous_visitor_of_the_app_sees_only_the_login_form(app_db: Database) -> None:
    with app_db.write() as s:
        seed_patient(s, SECRET_MRN, SECRET_NAME, SECRET_NAME)
    at = run_app()
    assert not at.exception
    assert shows_login_form(at)
    assert SECRET_MRN not in _all_text(at)


def test_idle_session_is_signed_out_after_the_policy_minutes(app_db: Database) -> None:
    stale = time.time() - (DEFAULT_SETTINGS.idle_logoff_minutes * 60 + 5)
    at = run_page("settings.py", ACTORS["provider"], last_activity=stale)
    assert not at.exception
    assert shows_login_form(at)
    notices = [i.value for i in at.info]
    assert any(f"signed out after {DEFAULT_SETTINGS.idle_logoff_minutes} minutes" in n for n in notices)
    assert len(at.dataframe) == 0
    assert "kdash_actor" not in at.session_state


def test_active_session_stays_signed_in(app_db: Database) -> None:
    recent = time.time() - (DEFAULT_SETTINGS.idle_logoff_minutes * 60 - 30)
    at = run_page("settings.py", ACTORS["provider"], last_activity=recent)
    assert not at.exception
    assert not shows_login_form(at)
    assert [t.value for t in at.title] == ["Clinic settings"]


def test_idle_limit_follows_the_clinic_policy_setting(app_db: Database) -> None:
    from datetime import datetime

    with app_db.write() as s:
        save_setting(s, "idle_logoff_minutes", 5, "admin", datetime.now())
    six_minutes_ago = time.time() - 6 * 60
    at = run_page("settings.py", ACTORS["provider"], last_activity=six_minutes_ago)
    assert shows_login_form(at)
    assert any("signed out after 5 minutes" in i.value for i in at.info)


#: What the red-team run put in a patient's name: Plotly drew the link and the 300-px bold text.
PLOTLY_PAYLOAD = '<a href="https://evil.example/">Open</a><b style="font-size:300px">X</b>'
#: Tags the data asked for and a chart must never draw (Plotly's subset of HTML, and an image).
_CHART_TAG = re.compile(r"<\s*(a|b|i|span|img|sub|sup|em)\b", re.IGNORECASE)


def _seed_hostile(db: Database) -> int:
    """Hostile text in every free-text field a page may show; returns the patient to open."""
    from kdash.storage.models import Assessment

    today_9 = datetime.combine(date.today(), datetime.min.time()).replace(hour=9)
    with db.write() as s:
        patient_id, course_id = seed_patient(s, "MRN-XSS-1", PLOTLY_PAYLOAD, HOSTILE, escort=HOSTILE)
        for weeks, score in ((6, 19), (1, 12)):  # a trend, so the patient's chart is drawn
            s.add(
                Assessment(
                    patient_id=patient_id,
                    instrument="PHQ-9",
                    score=score,
                    taken_on=date.today() - timedelta(weeks=weeks),
                    source=HOSTILE,
                )
            )
        _, other_course = seed_patient(
            s, "=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0", HOSTILE, escort="=cmd|' /C calc'!A0"
        )
        for number, course in enumerate((course_id, other_course), start=1):
            s.add(
                Infusion(
                    course_id=course,
                    number=1,
                    scheduled_at=today_9,
                    chair=number,
                    status=InfusionStatus.SCHEDULED.value,
                    adverse_events=HOSTILE,
                )
            )
        create_user(s, "aaa.hostile", Role.NURSE, None, DEFAULT_SETTINGS, display_name=HOSTILE)
        record(s, ACTORS["provider"], "view_patient", reason=HOSTILE)
    return patient_id


#: A "<" that Markdown would read as the start of an HTML tag (md_escape writes "\\<").
_UNESCAPED_TAG = re.compile(r"(?<!\\)<\s*img", re.IGNORECASE)


def _assert_no_live_html(at: AppTest) -> None:
    for kind in MARKDOWN_KINDS:
        for el in at.get(kind):
            value = str(el.value)
            assert not _UNESCAPED_TAG.search(value), f"unescaped HTML in a {kind}: {value!r}"
            if getattr(el.proto, "allow_html", False):
                assert "img src" not in value, f"stored text inside unsafe_allow_html {kind}: {value!r}"
    for el in at.get("html"):
        assert "<img" not in str(getattr(el, "value", el.proto)), "stored text inside st.html"
    for el in at.get("plotly_chart"):
        for text in _strings(json.loads(el.proto.spec)):
            assert not _CHART_TAG.search(text), f"a chart would draw markup from the data: {text!r}"


def _strings(node: object) -> Iterator[str]:
    """Every string in a chart's JSON (titles, names, labels, hover text), at any depth."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


@pytest.mark.parametrize("page", page_files())
@pytest.mark.parametrize("who", ["admin", "provider", "nurse", "scheduler"])  # read-only sees a subset
def test_hostile_names_render_as_text_on_every_page(page: str, who: str, app_db: Database) -> None:
    """Also the charts: Plotly renders a subset of HTML in titles, names and hover text."""
    patient_id = _seed_hostile(app_db)
    # Pages that show one patient find it in session state (as after "Open this patient").
    at = run_page(page, ACTORS[who], state={"patient_id": patient_id})
    assert not at.exception, [e.value for e in at.exception]
    _assert_no_live_html(at)


def test_hostile_display_name_in_the_sidebar_is_escaped(app_db: Database) -> None:
    _seed_hostile(app_db)
    at = run_app(Actor("aaa.hostile", Role.NURSE, HOSTILE))
    assert not at.exception
    _assert_no_live_html(at)
    captions = [c.value for c in at.sidebar.caption]
    assert any(ui.md_escape(HOSTILE) in c for c in captions)


def test_users_page_shows_a_hostile_display_name_escaped(app_db: Database) -> None:
    _seed_hostile(app_db)
    at = run_page("users.py", ACTORS["admin"])
    at.selectbox(key="user_to_change").set_value("aaa.hostile").run()
    assert not at.exception
    _assert_no_live_html(at)
    assert any(ui.md_escape(HOSTILE) in m.value for m in at.markdown)


def test_md_escape_leaves_no_markup() -> None:
    escaped = ui.md_escape(HOSTILE + "[x](javascript:alert(1)) **b** `c`")
    assert not _UNESCAPED_TAG.search(escaped)
    for bad in ("](", "**", "`c`"):
        assert bad not in escaped


def test_refused_page_visits_leave_the_trail_intact(app_db: Database) -> None:
    run_page("audit.py", ACTORS["scheduler"])
    with app_db.read() as s:
        assert s.scalars(select(AuditEvent)).all() == []  # a page refusal is shown, not a service call
