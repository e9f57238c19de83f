"""A write shows on the very next page run, wherever it was made: pages cache, but never serve stale data.

The pages keep their data in ``st.cache_data`` for speed. A score or booking written by someone else
(another user's session clears only on its own writes; another app server or the command line not at
all) must still show on the next run, not after the cache's minute is up. Here the write goes through
the clinical services directly, as another server would, between two runs of the huddle page.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kdash.domain.access import Actor
from kdash.domain.vocab import Role
from kdash.services.booking import book_infusion
from kdash.services.scores import record_assessment
from kdash.storage.database import Database
from tests.apptest_support import make_app_db
from tests.seeded import Clinic, build_clinic

PAGES = Path(__file__).resolve().parents[2] / "pages"
PROVIDER = Actor("provider", Role.PROVIDER, "Dr A. Demo")
#: Another member of staff, writing from somewhere else.
NURSE = Actor("nurse", Role.NURSE, "Nurse B. Demo")


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Clinic]]:
    for db in make_app_db(tmp_path, monkeypatch, users=False):
        yield db, build_clinic(db, date.today())


def huddle_page(day: date) -> AppTest:
    at = AppTest.from_file(str(PAGES / "huddle.py"), default_timeout=30)
    at.session_state["kdash_actor"] = PROVIDER
    at.session_state["kdash_last_activity"] = time.time()
    at.session_state["huddle_day"] = day
    at.run()
    assert not at.exception
    return at


def captions(at: AppTest) -> str:
    """The page's markdown and captions as read (the huddle cards' score lines among them)."""
    return "\n".join(str(c.value).replace("\\", "") for c in [*at.markdown, *at.caption])


def infusions_shown(at: AppTest) -> int:
    """The count in the huddle's summary line ("Monday 07 December 2026 · 3 infusions · …")."""
    for block in at.markdown:
        found = re.search(r" · (\d+) infusions · ", str(block.value))
        if found:
            return int(found.group(1))
    return 0


def test_a_new_score_shows_on_the_next_run(clinic: tuple[Database, Clinic]) -> None:
    db, built = clinic
    today = date.today()
    before = captions(huddle_page(today))
    assert "PHQ-9 8 (" in before  # the on-course patient's latest score
    record_assessment(db, NURSE, built.ids["on_course"], "PHQ-9", 17, today, item9=0)
    after = captions(huddle_page(today))
    assert "PHQ-9 17 (" in after
    assert "PHQ-9 8 (" not in after


def test_a_new_booking_shows_on_the_next_run(clinic: tuple[Database, Clinic]) -> None:
    db, built = clinic
    day = date.today() + timedelta(days=3)
    while day.weekday() >= 5:  # the demo calendar opens Monday to Friday
        day += timedelta(days=1)
    assert infusions_shown(huddle_page(day)) == 0
    book_infusion(db, NURSE, built.courses["on_course"], datetime.combine(day, time_of_day(10, 0)))
    assert infusions_shown(huddle_page(day)) == 1
