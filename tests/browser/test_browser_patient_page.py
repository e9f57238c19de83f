"""In Chromium: the patient page opens on the next action, and a provider adds a patient and corrects
an escort, the old value kept in Amendments.

- A provider opening a patient with an open suicide-risk flag lands on Record with the suicide-risk
  review as the first form; a nurse, who may not review, is told who must and finds today's infusion
  first.
- A provider adds a patient through the "Add a patient" form; the new patient opens.
- A provider corrects an escort with a reason; the header shows the new escort and the Amendments tab
  the old and the new value with the reason.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser_support import browser, clinic_server, login, page, screenshot, wait_idle

__all__ = ["browser", "clinic_server", "page"]  # fixtures used by name

pytestmark = pytest.mark.browser
#: Milliseconds an expectation waits (a busy shared machine renders slowly).
WAIT = 20_000


def _open(page: Any, url: str, mrn: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/patient?mrn={mrn}")
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=WAIT)


def _top(page: Any, text: str) -> float:
    found = page.get_by_text(text, exact=True).first
    found.wait_for(state="visible", timeout=WAIT)
    box = found.bounding_box()
    assert box is not None, f"{text!r} is not visible"
    return float(box["y"])


def test_the_page_opens_on_the_form_that_answers_the_urgent_flag(clinic_server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    server, seeded = clinic_server
    login(page, server.url, "provider", seeded["logins"]["provider"])
    _open(page, server.url, "D0005", "Ellery, Sam")
    expect(page.get_by_role("tab", name="Record")).to_have_attribute("aria-selected", "true", timeout=WAIT)
    expect(page.get_by_text("The forms that answer the open urgent flag come first.")).to_be_visible(
        timeout=WAIT
    )
    review = "Suicide-risk review (positive PHQ-9 item 9 or high-risk C-SSRS)"
    assert _top(page, review) < _top(page, "Record an infusion")
    screenshot(page, "patient-next-action-provider")


def test_a_nurse_is_told_who_must_answer_and_finds_todays_infusion_first(
    clinic_server: Any, page: Any
) -> None:
    from playwright.sync_api import expect

    server, seeded = clinic_server
    login(page, server.url, "nurse", seeded["logins"]["nurse"])
    _open(page, server.url, "D0005", "Ellery, Sam")
    expect(page.get_by_role("tab", name="Record")).to_have_attribute("aria-selected", "true", timeout=WAIT)
    expect(
        page.get_by_text("A provider must answer this first: Suicide risk (the suicide-risk review).")
    ).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("combobox", name="Infusion")).to_have_value(
        re.compile(r"· infusion 1 ·"), timeout=WAIT
    )
    assert _top(page, "Record an infusion") < _top(page, "Record a score")
    screenshot(page, "patient-next-action-nurse")


def _pick(page: Any, form: Any, label: str, option: str) -> None:
    form.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_a_provider_adds_a_patient_and_corrects_the_escort(clinic_server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    server, seeded = clinic_server
    login(page, server.url, "provider", seeded["logins"]["provider"])
    page.goto(f"{server.url}/patient")
    wait_idle(page)
    page.get_by_text("Add a patient", exact=True).first.click()
    form = page.get_by_test_id("stForm").filter(has_text="Add patient")
    form.get_by_label("MRN").fill("N0100")
    form.get_by_label("Last name").fill("Newcombe")
    form.get_by_label("First name").fill("Robin")
    for part, value in (("year", "1975"), ("month", "03"), ("day", "02")):
        form.get_by_role("spinbutton", name=f"{part}, Date of birth").press_sequentially(value)
    _pick(page, form, "Sex", "female")
    _pick(page, form, "Indication", "PTSD")
    form.get_by_label("Provider").fill("Dr A. Demo")
    form.get_by_label("Escort name").fill("Alex Escort")
    form.get_by_role("button", name="Add patient").click()
    wait_idle(page, "Patient added: record the screening next.")
    expect(page.get_by_role("heading", name="Newcombe, Robin")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("MRN N0100")).to_be_visible(timeout=WAIT)
    screenshot(page, "patient-added")

    # Correct the escort: a value on record changes only with a reason, and the old one is kept.
    page.get_by_role("tab", name="Record").click()
    demo = page.get_by_test_id("stForm").filter(has_text="Demographics and escort home")
    demo.get_by_label("Escort name").fill("Jo Escort")
    demo.get_by_label("Reason (only when changing a value already recorded)").fill("new escort")
    demo.get_by_role("button", name="Save demographics").click()
    wait_idle(page, "Demographics saved.")
    expect(page.get_by_text("Escort home: Jo Escort")).to_be_visible(timeout=WAIT)
    page.get_by_role("tab", name="Amendments").click()
    amendments = page.get_by_role("tabpanel", name="Amendments")
    expect(
        amendments.get_by_text("Latest: escort name changed from “Alex Escort” to “Jo Escort”")
    ).to_be_visible(timeout=WAIT)
    expect(amendments.get_by_text("because: new escort")).to_be_visible(timeout=WAIT)
    expect(amendments.get_by_test_id("stDataFrame")).to_be_visible(timeout=WAIT)
    screenshot(page, "patient-escort-amended")
