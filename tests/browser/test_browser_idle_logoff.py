"""In Chromium against ``streamlit run``: idle logoff clears the screen without anyone touching it.

With the clinic's idle limit at one minute, a patient left open in the planner stays on screen while
the limit has not passed, and afterwards nothing of that patient is left in the page: the tab has
rerun to the sign-in form by itself (HIPAA 164.312(a)(2)(iii) asks for the session to end, not to wait
for the next click). A refresh then does not bring the session back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.apptest_support import PASSWORD
from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    IDLE,
    Server,
    browser,
    page,
    seed_staff,
    seeded_server,
)
from tests.seeded import seed_patient

MRN = "RT-IDLE-0001"
FAMILY, GIVEN = "Idlewild", "Beatrix"
IDLE_MINUTES = 1


def _seed(db_url: str) -> None:
    from kdash.storage.policy_repo import save_setting

    def fill(s: Any) -> None:
        seed_patient(s, MRN, GIVEN, FAMILY)
        save_setting(s, "idle_logoff_minutes", IDLE_MINUTES, "admin", datetime.now())

    seed_staff(db_url, fill)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with seeded_server(_seed, prefix="kdash-browser-idle-") as srv:
        yield srv


def _shows_patient(tab: object) -> bool:
    """Whether anything of the patient is in the DOM: text, markup or the value of a field."""
    found = tab.evaluate(  # type: ignore[attr-defined]
        """(needles) => {
            const html = document.documentElement.outerHTML;
            const values = [...document.querySelectorAll('input, textarea')].map((e) => e.value).join(' ');
            return needles.some((n) => html.includes(n) || values.includes(n));
        }""",
        [MRN, FAMILY, GIVEN],
    )
    return bool(found)


@pytest.mark.browser
def test_an_idle_screen_is_cleared_after_the_policy_minute(server: Server, page: object) -> None:  # noqa: F811
    from kdash import ui

    page.goto(server.url + ui.planner_address(MRN))  # type: ignore[attr-defined]
    page.get_by_label("User name").fill("provider")  # type: ignore[attr-defined]
    page.get_by_label("Password", exact=True).fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    signed_in_at = time.monotonic()
    page.get_by_text("Course 1").first.wait_for(state="visible")  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    assert _shows_patient(page)

    limit = IDLE_MINUTES * 60
    check_every = ui.idle_check_seconds(limit)
    # Before the limit: the patient is still there.
    time.sleep(max(0.0, limit - 8 - (time.monotonic() - signed_in_at)))
    assert _shows_patient(page)
    assert page.get_by_role("button", name="Sign out").count() == 1  # type: ignore[attr-defined]

    # After it (plus one timer period): the sign-in form, and nothing of the patient in the DOM.
    page.get_by_label("Password", exact=True).wait_for(  # type: ignore[attr-defined]
        state="visible", timeout=(check_every + 20) * 1000
    )
    cleared_after = time.monotonic() - signed_in_at
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    assert not _shows_patient(page)
    assert f"signed out after {IDLE_MINUTES} minutes" in page.inner_text("body")  # type: ignore[attr-defined]
    print(f"idle screen cleared {cleared_after:.1f} s after sign-in (limit {limit} s, timer {check_every} s)")
    assert limit <= cleared_after <= limit + check_every + 15

    page.reload()  # type: ignore[attr-defined]
    page.get_by_label("Password", exact=True).wait_for(state="visible")  # type: ignore[attr-defined]
    page.wait_for_selector(IDLE)  # type: ignore[attr-defined]
    assert page.get_by_role("button", name="Sign out").count() == 0  # type: ignore[attr-defined]
