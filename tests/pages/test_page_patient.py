"""The patient page organised around the next action: opened from its address, today's infusion first,
the forms that answer an open urgent flag first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from streamlit.proto.Block_pb2 import Block as BlockProto

from kdash.storage.database import Database
from kdash.storage.models import Amendment, AuditEvent
from tests.pages.test_pages import NURSE, PROVIDER, VIEWER, clinic_db, count, page, text_of
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
    assert "The forms that answer the open urgent flag come first." in text_of(at)


def test_without_an_urgent_flag_todays_infusion_comes_first(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["on_course"])
    order = form_order(at)
    assert order[0] == "Record an infusion"
    assert order.index("Suicide-risk review") > order.index("Record a score")
    assert "The forms that answer the open urgent flag come first." not in text_of(at)


# --- add a patient, correct demographics and the escort ----------------------------------------------


def test_a_provider_adds_a_patient_and_it_opens(clinic_db: tuple[Database, Clinic]) -> None:
    db, _c = clinic_db
    at = page("patient.py", PROVIDER)
    at.text_input(key="f_add_mrn").input("N0100")
    at.text_input(key="f_add_last").input("Newcombe")
    at.text_input(key="f_add_first").input("Robin")
    at.date_input(key="f_add_dob").set_value(date(1975, 3, 2))
    at.selectbox(key="f_add_sex").set_value("female")
    at.selectbox(key="f_add_indication").set_value("ptsd")
    at.text_input(key="f_add_provider").input("Dr A. Demo")
    at.button(key="FormSubmitter:form_add_patient-Add patient").click().run()
    assert not at.exception
    assert at.title[0].value == "Newcombe, Robin"
    assert "Patient added" in text_of(at)
    assert count(db, AuditEvent, AuditEvent.action == "add_patient") == 1


def test_adding_with_missing_fields_says_each_and_adds_nothing(clinic_db: tuple[Database, Clinic]) -> None:
    db, _c = clinic_db
    at = page("patient.py", PROVIDER)
    at.text_input(key="f_add_mrn").input("N0101")
    at.button(key="FormSubmitter:form_add_patient-Add patient").click().run()
    assert not at.exception
    said = "\n".join(e.value for e in at.error).replace("\\", "")
    assert "Not added" in said
    for words in ("Last name", "First name", "Date of birth", "Sex", "Indication", "Provider"):
        assert words in said
    assert count(db, AuditEvent, AuditEvent.action == "add_patient") == 0


def test_the_escort_is_corrected_with_a_reason_and_kept_in_amendments(
    clinic_db: tuple[Database, Clinic],
) -> None:
    db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["on_course"])
    at.text_input(key="f_demo_escort_name").input("Jo Escort")
    at.button(key="FormSubmitter:form_demographics-Save demographics").click().run()
    assert "say briefly why" in "\n".join(e.value for e in at.error)
    assert count(db, Amendment) == 0
    at.text_input(key="f_demo_reason").input("new escort")
    at.button(key="FormSubmitter:form_demographics-Save demographics").click().run()
    assert not at.exception
    assert "Demographics saved." in text_of(at)
    assert "Jo Escort" in text_of(at)
    assert "Latest: **escort name** changed from “Alex Escort” to “Jo Escort” by provider" in text_of(at)
    assert "because: new escort" in text_of(at)
    with db.read() as s:
        [kept] = s.scalars(select(Amendment)).all()
    assert (kept.field, kept.old_value, kept.new_value, kept.reason) == (
        "escort_name", "Alex Escort", "Jo Escort", "new escort",
    )  # fmt: skip


def test_a_nurse_neither_adds_nor_edits_a_patient(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["on_course"])
    keys = {w.key for w in at.text_input}
    assert "f_add_mrn" not in keys
    assert "f_demo_last" not in keys


# --- the tab the page opens on --------------------------------------------------------------------------


def opened_tab(at: object) -> str:
    """The label of the tab the page opens on (the tab container's default)."""
    for node in at._tree:  # type: ignore[attr-defined]
        proto = getattr(node, "proto", None)
        if isinstance(proto, BlockProto) and proto.WhichOneof("type") == "tab_container":
            labels = [child.label for child in node.children.values()]
            return str(labels[proto.tab_container.default_tab_index])
    raise AssertionError("no tabs on the page")


def test_the_page_opens_on_record_when_todays_infusion_waits(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["on_course"])
    assert opened_tab(at) == "Record"
    assert form_order(at)[0] == "Record an infusion"
    # Nothing booked today and no urgent flag: the record opens on its overview.
    assert opened_tab(page("patient.py", NURSE, patient_id=c.ids["trial_pending"])) == "Screening & courses"
    # A role that cannot record an infusion has nothing to do on Record.
    assert opened_tab(page("patient.py", VIEWER, patient_id=c.ids["on_course"])) == "Screening & courses"


def test_a_nurse_is_told_which_urgent_flag_a_provider_must_answer(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["suicide_risk"])
    assert not at.exception
    body = text_of(at)
    assert "A provider must answer this first: Suicide risk (the suicide-risk review)." in body
    assert "The forms that answer the open urgent flag come first." not in body
    assert opened_tab(at) == "Record"  # today's trial waits: the nurse's own next action
    assert form_order(at)[0] == "Record an infusion"


def test_after_a_save_the_page_stays_on_record(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["trial_pending"])
    assert opened_tab(at) == "Screening & courses"
    at.number_input(key="f_assess_score").set_value(6)
    at.number_input(key="f_assess_item9").set_value(0)
    at.button(key="FormSubmitter:form_assessment-Save score").click().run()
    assert "PHQ-9 score saved." in text_of(at)
    assert opened_tab(at) == "Record"
