"""The patient page organised around the next action: opened from its address, today's infusion first,
the forms that answer an open urgent flag first."""

from __future__ import annotations

from sqlalchemy import select

from kdash.storage.database import Database
from kdash.storage.models import AuditEvent
from tests.pages.test_pages import NURSE, PROVIDER, clinic_db, count, page, text_of
from tests.seeded import Clinic

__all__ = ["clinic_db"]  # the fixture, used by name

#: The headings of the Record tab's forms, as the page writes them.
HEADINGS = (
    "**Record an infusion**",
    "**Record a score**",
    "**Book the next infusion**",
    "**Trial outcome",
    "**Suicide-risk review",
)


def form_order(at: object) -> list[str]:
    """The Record tab's form headings in the order a person reads them."""
    found = []
    for el in at.markdown:  # type: ignore[attr-defined]
        for heading in HEADINGS:
            if str(el.value).startswith(heading):
                found.append(heading.strip("*"))
    return found


def test_the_address_opens_the_patient_and_the_view_is_audited(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = page("patient.py", NURSE)
    at.query_params["mrn"] = "D0001"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Ashford, Sam"
    assert at.session_state["patient_id"] == c.ids["on_course"]
    with db.read() as s:
        views = s.scalars(select(AuditEvent).where(AuditEvent.action == "view_patient")).all()
    assert [(v.patient_id, v.username) for v in views] == [(c.ids["on_course"], "nurse")]
    # Reruns of the same page do not audit the same view again.
    at.run()
    assert count(db, AuditEvent, AuditEvent.action == "view_patient") == 1


def test_an_address_with_an_unknown_mrn_opens_no_patient(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["on_course"])
    at.query_params["mrn"] = "D000"  # a part of an MRN is not an MRN
    at.run()
    assert not at.exception
    assert "No patient has the MRN D000" in text_of(at)
    assert at.title[0].value == "Patient"


def test_choosing_a_patient_puts_them_in_the_address(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["full_course"])
    assert at.query_params["mrn"] in ("D0002", ["D0002"])


def test_record_an_infusion_opens_on_todays_infusion_not_the_finished_trial(
    clinic_db: tuple[Database, Clinic],
) -> None:
    _db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["on_course"])
    assert "infusion 4" in at.selectbox(key="f_rec_pick").format_func(at.selectbox(key="f_rec_pick").value)
    # With nothing today, the most recent infusion.
    at = page("patient.py", PROVIDER, patient_id=c.ids["trial_pending"])
    assert "infusion 1" in at.selectbox(key="f_rec_pick").format_func(at.selectbox(key="f_rec_pick").value)


def test_an_open_suicide_risk_flag_puts_its_review_first(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["suicide_risk"])
    assert not at.exception
    order = form_order(at)
    assert order[0] == "Suicide-risk review"
    assert "The forms that answer it come first." in text_of(at)


def test_without_an_urgent_flag_todays_infusion_comes_first(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["on_course"])
    order = form_order(at)
    assert order[0] == "Record an infusion"
    assert order.index("Suicide-risk review") > order.index("Record a score")
    assert "The forms that answer it come first." not in text_of(at)
