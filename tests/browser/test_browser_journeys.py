"""A provider's morning in the real app: huddle → flagged patient → record the infusion and a score."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.browser_support import (  # noqa: F401  (fixtures are used by name)
    Server,
    browser,
    clinic_server,
    login,
    page,
    screenshot,
    wait_idle,
)

pytestmark = pytest.mark.browser


def test_huddle_to_patient_record_infusion_and_score(clinic_server: tuple[Server, dict], page) -> None:  # noqa: F811
    from playwright.sync_api import expect

    if datetime.now().hour < 8 or (datetime.now().hour == 8 and datetime.now().minute < 2):
        pytest.skip("the test clinic's infusions today start at 08:00: a discharge before then is refused")
    server, seeded = clinic_server
    login(page, server.url, "provider", seeded["logins"]["provider"])

    # The huddle is the default page: the flagged patient is first, with the urgent badge.
    wait_idle(page, "most urgent first, then by chair time")
    expect(page.get_by_text("Ellery, Sam").first).to_be_visible()
    expect(page.get_by_text("Urgent: Suicide risk").first).to_be_visible()
    screenshot(page, "journey-1-huddle")

    card = (
        page.locator('[data-testid="stVerticalBlock"]')
        .filter(has_text="Ellery, Sam")
        .filter(has=page.get_by_role("button", name="Open patient"))
        .last
    )
    card.get_by_role("button", name="Open patient").click()
    wait_idle(page, "Escort home:")
    expect(page.get_by_role("heading", name="Ellery, Sam")).to_be_visible()
    done = page.locator('[data-testid="stMetric"]').filter(has_text="Course 1")
    expect(done).to_contain_text("0 done · 1 booked · of 10")
    screenshot(page, "journey-2-patient")

    # Record today's trial infusion: vitals, dose, escort, discharge → the course goes 0 → 1 done.
    page.get_by_role("tab", name="Record").click()
    page.get_by_label("Dose (mg/kg)").fill("0.5")
    page.get_by_label("Systolic before dosing").fill("132")
    page.get_by_label("Diastolic before dosing").fill("84")
    page.get_by_label("Heart rate").fill("74")
    page.get_by_role("checkbox", name="Escort confirmed", exact=True).check(force=True)
    page.get_by_role("checkbox", name="Discharged (completes the infusion)").check(force=True)
    page.get_by_role("button", name="Save infusion record").click()
    wait_idle(page, "Infusion 1 recorded.")
    expect(done).to_contain_text("1 done · 0 booked · of 10")
    screenshot(page, "journey-3-infusion-recorded")

    # Record a PHQ-9 and see the chart's latest score change.
    page.get_by_role("tab", name="Record").click()
    page.get_by_label("Total score").fill("12")
    page.get_by_label("PHQ-9 item 9 (0–3; PHQ-9 only)").fill("0")
    page.get_by_role("button", name="Save score").click()
    wait_idle(page, "PHQ-9 score saved.")
    page.get_by_role("tab", name="Scores").click()
    today = datetime.now().strftime("%Y-%m-%d")
    expect(page.get_by_text(f"latest 12 on {today}").first).to_be_visible()
    screenshot(page, "journey-4-score-chart")


def test_invalid_score_refused_in_the_browser(clinic_server: tuple[Server, dict], page) -> None:  # noqa: F811
    from playwright.sync_api import expect

    server, seeded = clinic_server
    login(page, server.url, "nurse", seeded["logins"]["nurse"])
    page.get_by_role("link", name="Roster").click()
    wait_idle(page, "Open a patient from this page")
    page.get_by_role("button", name="Open patient").click()
    wait_idle(page, "Escort home:")
    page.get_by_role("tab", name="Record").click()
    page.get_by_label("Total score").fill("40")
    page.get_by_label("PHQ-9 item 9 (0–3; PHQ-9 only)").fill("0")
    page.get_by_role("button", name="Save score").click()
    wait_idle(page, "Not saved. Please fix:")
    expect(page.get_by_text("PHQ-9 score 40 is outside its range 0–27").first).to_be_visible()
    screenshot(page, "journey-5-refused")


@pytest.mark.parametrize(
    ("link", "expect_text"),
    [
        ("Roster", "Open a patient from this page"),
        ("Screening", "Screening queue"),
        ("Courses", "Active courses"),
        ("Symptom trends", "Clinic outcomes"),
    ],
)
def test_each_clinical_page_loads_in_the_browser(
    clinic_server: tuple[Server, dict],  # noqa: F811
    page,  # noqa: F811
    link: str,
    expect_text: str,
) -> None:
    from playwright.sync_api import expect

    server, seeded = clinic_server
    login(page, server.url, "viewer", seeded["logins"]["viewer"])
    page.get_by_role("link", name=link).click()
    wait_idle(page, expect_text)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    if link == "Symptom trends":
        page.get_by_role("tab", name="Clinic outcomes").click()
        expect(page.get_by_text("Response and remission by indication").first).to_be_visible()
    screenshot(page, f"page-{link.lower().replace(' ', '-')}")
