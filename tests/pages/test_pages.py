"""Each clinical page through Streamlit's AppTest on a small synthetic clinic built around today."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from kdash.domain.access import Actor
from kdash.domain.vocab import Role
from kdash.storage.database import Database
from kdash.storage.models import (
    Assessment,
    AuditEvent,
    Course,
    Infusion,
    ScreeningDecisionRow,
    ScreeningItem,
    SuicideReview,
)
from tests.apptest_support import make_app_db
from tests.seeded import Clinic, build_clinic

PAGES = Path(__file__).resolve().parents[2] / "pages"
PROVIDER = Actor("provider", Role.PROVIDER, "Dr A. Demo")
NURSE = Actor("nurse", Role.NURSE, "Nurse B. Demo")
VIEWER = Actor("viewer", Role.READ_ONLY, "Viewer")


@pytest.fixture
def clinic_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Clinic]]:
    for db in make_app_db(tmp_path, monkeypatch, users=False):
        yield db, build_clinic(db, date.today())


def page(name: str, actor: Actor = PROVIDER, **state: object) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=30)
    at.session_state["kdash_actor"] = actor
    at.session_state["kdash_last_activity"] = time.time()
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def plain(text: object) -> str:
    """Markdown as read: escaped characters without their backslashes."""
    return str(text).replace("\\", "")


def text_of(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "title", "subheader", "info", "error", "success", "warning"):
        parts += [plain(el.value) for el in getattr(at, kind)]
    return "\n".join(parts)


def errors(at: AppTest) -> str:
    return "\n".join(plain(e.value) for e in at.error)


def charts(at: AppTest) -> int:
    return sum(1 for el in at.main if getattr(el, "type", "") == "plotly_chart")


def count(db: Database, model: type, *where: object) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- huddle -----------------------------------------------------------------------------------------------


def test_huddle_lists_todays_patients_most_urgent_first(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("huddle.py")
    assert not at.exception
    body = text_of(at)
    assert "Ellery" in body
    assert "Ashford" in body
    assert "Brook" in body
    assert body.index("Ellery") < body.index("Ashford")  # SUICIDE_RISK (urgent) before no flags
    assert "Suicide risk" in body
    assert "Not ready" in body
    # Course progress in the one wording every page uses: done, booked, of ten.
    assert "course 1: 3 done · 1 booked · of 10" in body
    # Each name is a link to the patient's own address (ctrl-click, copy, Back).
    assert "[Ellery, Sam](/patient?mrn=D0005)" in body
    assert charts(at) == 1
    assert len(at.get("download_button")) == 1  # the printable huddle sheet
    # The chairs chart sits below the patient list: the list starts in the first screen.
    kinds = [getattr(el, "type", "") for el in at.main]
    cards = [i for i, el in enumerate(at.main) if "Ellery" in plain(getattr(el, "value", ""))]
    assert cards
    assert kinds.index("plotly_chart") > max(cards)


def test_huddle_flag_count_narrows_the_list(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("huddle.py")
    pills = at.pills(key="huddle_flag_filter")
    assert "SUICIDE_RISK" in pills.options or any("Suicide risk" in str(o) for o in pills.options)
    assert "All 3 patients" in text_of(at)
    pills.set_value(["SUICIDE_RISK"]).run()
    assert not at.exception
    body = text_of(at)
    assert "1 of 3 patients** with Suicide risk" in body
    assert "Ellery" in body
    assert "Ashford" not in body
    assert "Brook" not in body
    at.pills(key="huddle_flag_filter").set_value([]).run()
    assert "Ashford" in text_of(at)


def test_huddle_within_a_severity_follows_chair_time(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("huddle.py")
    body = text_of(at)
    # Ellery (urgent) first; Brook (info only, 10:00) before Ashford (no flag, 08:00).
    assert body.index("Ellery") < body.index("Brook") < body.index("Ashford")


def test_huddle_urgent_and_ready_says_which_review_cleared_it(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    with db.write() as s:
        s.add(
            SuicideReview(
                patient_id=c.ids["suicide_risk"],
                reviewed_on=date.today(),
                reviewed_by="Dr X",
                action="safety_plan",
            )
        )
    at = page("huddle.py")
    assert not at.exception
    body = text_of(at)
    assert f"Ready because** Suicide risk — reviewed {date.today()} by Dr X: safety plan" in body
    assert "Not ready" not in body


def test_huddle_names_flags_in_words_never_codes(clinic_db: tuple[Database, Clinic]) -> None:
    body = text_of(page("huddle.py"))
    assert "Urgent: Suicide risk" in body
    assert "SUICIDE_RISK" not in body
    assert "COURSE_FINAL_SESSION" not in body


def test_huddle_other_day_is_empty_with_next_step(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("huddle.py")
    at.date_input(key="huddle_day").set_value(date.today() - timedelta(days=1)).run()
    assert not at.exception
    assert "No infusions are booked" in text_of(at)


CLINICAL_PAGES = ("huddle.py", "roster.py", "patient.py", "screening.py", "courses.py", "trends.py")
NAV_SCRIPT = """
import streamlit as st
from pathlib import Path
folder = Path({folder!r})
st.navigation([st.Page(folder / name, default=(n == 0)) for n, name in enumerate({pages!r})]).run()
"""


def app(actor: Actor = PROVIDER) -> AppTest:
    """The clinical pages under one navigation, signed in: needed wherever a page switches to another."""
    script = NAV_SCRIPT.format(folder=str(PAGES), pages=[p for p in CLINICAL_PAGES if (PAGES / p).exists()])
    at = AppTest.from_string(script, default_timeout=30)
    at.session_state["kdash_actor"] = actor
    at.session_state["kdash_last_activity"] = time.time()
    return at.run()


def test_huddle_button_opens_patient(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = app()
    assert not at.exception
    at.button(key=f"huddle_open_{c.ids['suicide_risk']}").click().run()
    assert not at.exception
    assert at.session_state["patient_id"] == c.ids["suicide_risk"]
    assert "Ellery" in next(t.value for t in at.title)


def test_page_refuses_without_login(clinic_db: tuple[Database, Clinic]) -> None:
    at = AppTest.from_file(str(PAGES / "huddle.py"), default_timeout=30).run()
    assert not at.exception
    assert "Sign in" in [b.label for b in at.button]
    assert "Morning huddle" not in text_of(at)


# --- patient ----------------------------------------------------------------------------------------------


def test_patient_page_without_patient_says_what_to_do(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("patient.py")
    assert not at.exception
    assert "Search for a patient by name or MRN" in text_of(at)


def test_patient_search_opens_patient_and_audits_view(clinic_db: tuple[Database, Clinic]) -> None:
    db, _c = clinic_db
    at = page("patient.py")
    at.text_input(key="patient_search").input("D0001").run()
    at.button(key="patient_search_open").click().run()
    assert not at.exception
    assert at.title[0].value == "Ashford, Sam"
    assert count(db, AuditEvent, AuditEvent.action == "view_patient") == 1
    assert charts(at) >= 2  # the course's ten slots and the PHQ-9 trend


def test_patient_page_shows_flags_and_suggestion(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", patient_id=c.ids["suicide_risk"])
    assert not at.exception
    body = text_of(at)
    assert "Suicide risk" in body
    assert "Not ready" in body
    assert "Not ready to infuse today: PHQ-9 item 9 answered 2" in body
    at = page("patient.py", patient_id=c.ids["trial_pending"])
    assert "Rule's suggestion: **benefit**" in text_of(at)


def test_assessment_form_saves_and_refuses(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    pid = c.ids["on_course"]
    at = page("patient.py", patient_id=pid)
    before = count(db, Assessment)
    at.selectbox(key="f_assess_instrument").set_value("PHQ-9")
    at.number_input(key="f_assess_score").set_value(31)
    at.number_input(key="f_assess_item9").set_value(1)
    at.button(key="FormSubmitter:form_assessment-Save score").click().run()
    assert not at.exception
    assert "PHQ-9 score 31 is outside its range 0–27" in errors(at)
    assert count(db, Assessment) == before
    at.number_input(key="f_assess_score").set_value(6)
    at.button(key="FormSubmitter:form_assessment-Save score").click().run()
    assert not at.exception
    assert count(db, Assessment) == before + 1
    assert "PHQ-9 score saved." in [s.value for s in at.success]


def test_record_infusion_form_completes_todays_infusion(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    iid = c.infusions["today"]
    at = page("patient.py", patient_id=c.ids["on_course"])
    assert at.metric[1].value == "3 done · 1 booked · of 10"
    k = f"f_rec_{iid}_"
    pick = at.selectbox(key="f_rec_pick")
    pick.select_index(next(n for n, o in enumerate(pick.options) if "infusion 4" in o)).run()
    at.number_input(key=k + "bp_pre_sys").set_value(400)
    at.number_input(key=k + "bp_pre_dia").set_value(80)
    at.checkbox(key=k + "discharged").check()
    at.button(key=f"FormSubmitter:form_record_{iid}-Save infusion record").click().run()
    assert not at.exception
    assert "Pre-dose systolic BP 400 mmHg is outside the plausible 50–300 mmHg" in errors(at)
    assert "The dose given (mg/kg) is required before discharge" in errors(at)
    with db.read() as s:
        assert s.get(Infusion, iid).status == "scheduled"  # type: ignore[union-attr]
    at.number_input(key=k + "bp_pre_sys").set_value(130)
    at.number_input(key=k + "dose").set_value(0.5)
    at.checkbox(key=k + "escort").check()
    out = (datetime.now() - timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    if out < time_of_day(8, 0):
        pytest.skip("the clinic's infusion today starts at 08:00: run after 08:01 to discharge it")
    at.time_input(key=k + "out").set_value(out)
    at.button(key=f"FormSubmitter:form_record_{iid}-Save infusion record").click().run()
    assert not at.exception
    with db.read() as s:
        assert s.get(Infusion, iid).status == "completed"  # type: ignore[union-attr]
    assert at.metric[1].value == "4 done · 0 booked · of 10"


# --- every page, every role ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLINICAL_PAGES)
@pytest.mark.parametrize("actor", [PROVIDER, NURSE, VIEWER], ids=lambda a: a.role.value)
def test_every_page_renders(clinic_db: tuple[Database, Clinic], name: str, actor: Actor) -> None:
    _db, c = clinic_db
    at = page(name, actor, patient_id=c.ids["on_course"])
    assert not at.exception, name


def test_viewer_sees_no_forms(clinic_db: tuple[Database, Clinic]) -> None:
    _db, c = clinic_db
    at = page("patient.py", VIEWER, patient_id=c.ids["on_course"])
    assert "Your role can view this record but not change it." in text_of(at)
    assert not [b for b in at.button if "FormSubmitter" in (b.key or "")]


# --- roster -----------------------------------------------------------------------------------------------


def roster_rows(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["MRN"])


def test_roster_filters_and_search(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("roster.py")
    assert not at.exception
    assert roster_rows(at) == ["D0001", "D0002", "D0003", "D0004", "D0005", "D0006"]
    frame = at.dataframe[0].value
    assert frame.set_index("MRN").loc["D0002", "Progress"] == "9 done · 1 booked · of 10"
    assert list(frame.set_index("MRN").loc["D0001", "Trend"]) == [20, 12, 10, 9, 8]
    at.toggle(key="roster_urgent").set_value(True).run()
    assert roster_rows(at) == ["D0005"]
    at.toggle(key="roster_urgent").set_value(False)
    at.multiselect(key="roster_screening").set_value(["needs_review", "not_started"]).run()
    assert roster_rows(at) == ["D0003", "D0004"]
    at.multiselect(key="roster_screening").set_value([])
    at.text_input(key="roster_search").input("brook").run()
    assert roster_rows(at) == ["D0002"]
    at.text_input(key="roster_search").input("nobody").run()
    assert "No patient matches these filters" in text_of(at)


def test_roster_pages_of_one_hundred(clinic_db: tuple[Database, Clinic]) -> None:
    db, _ = clinic_db
    from kdash.storage.models import Patient

    with db.write() as s:
        for n in range(150):
            s.add(
                Patient(
                    mrn=f"Z{n:04d}",
                    first_name="Pat",
                    last_name=f"Zz{n:04d}",
                    date_of_birth=date(1990, 1, 1),
                    sex="unknown",
                    indication="depression",
                    provider="Dr Other",
                    status="active",
                )
            )
    at = page("roster.py")
    assert len(roster_rows(at)) == 100
    at.number_input(key="roster_page").set_value(2).run()
    assert len(roster_rows(at)) == 56
    assert "**156** of 156 active patients match · page 2 of 2" in text_of(at)


# --- screening queue and courses ------------------------------------------------------------------------


def test_screening_queue_oldest_first_with_what_is_missing(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("screening.py")
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["MRN"]) == ["D0004", "D0003"]
    assert "Significant arrhythmia" in frame["What is missing"].iloc[0]
    at.multiselect(key="screening_status").set_value(["not_started"]).run()
    assert list(at.dataframe[0].value["MRN"]) == ["D0003"]
    at.multiselect(key="screening_status").set_value(["rescreen_due"]).run()
    assert "Nothing waiting" in text_of(at)


@pytest.mark.parametrize("text", ["Ellery, Sam", "Sam Ellery", "ellery", "D0005", "0005", "ELL, s"])
def test_roster_search_takes_every_shape_of_a_name(clinic_db: tuple[Database, Clinic], text: str) -> None:
    at = page("roster.py")
    at.text_input(key="roster_search").set_value(text).run()
    assert not at.exception
    assert roster_rows(at) == ["D0005"]


def test_roster_shows_flags_in_words_and_dashes_for_nothing(clinic_db: tuple[Database, Clinic]) -> None:
    frame = page("roster.py").dataframe[0].value.set_index("MRN")
    flags = " ".join(frame["Flags"])
    assert "Suicide risk" in flags
    assert "_" not in flags  # no code such as NO_ESCORT or SUICIDE_RISK
    cells = [str(v) for v in frame.drop(columns=["Trend"]).to_numpy().ravel()]
    assert "None" not in cells
    assert "nan" not in cells
    assert "—" in cells  # a patient without a course or a score shows a dash


def test_courses_page_progress_and_filter(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("courses.py")
    assert not at.exception
    frame = at.dataframe[0].value
    assert dict(zip(frame["MRN"], frame["Progress"], strict=True)) == {
        "D0001": "3 done · 1 booked · of 10",
        "D0002": "9 done · 1 booked · of 10",
        "D0005": "0 done · 1 booked · of 10",
        "D0006": "1 done · 0 booked · of 10",
    }
    assert "None" not in frame.astype(str).to_numpy().tolist().__str__()
    assert "Holding ten" not in text_of(at)
    assert charts(at) == 1
    at.multiselect(key="courses_outcome").set_value(["pending"]).run()
    assert sorted(at.dataframe[0].value["MRN"]) == ["D0005", "D0006"]


# --- trends -------------------------------------------------------------------------------------------


def test_trends_patient_and_clinic(clinic_db: tuple[Database, Clinic]) -> None:
    db, _c = clinic_db
    at = page("trends.py")
    assert not at.exception
    assert "Search for a patient above" in text_of(at)
    assert charts(at) == 3  # the clinic tab: rates by indication, by infusions, change distribution
    at.text_input(key="trends_search").input("Brook").run()
    at.button(key="trends_show").click().run()
    assert not at.exception
    assert charts(at) == 4  # plus the patient's NRS
    assert count(db, AuditEvent, AuditEvent.action == "view_patient") == 1
    at.multiselect(key="trends_ind").set_value(["fibromyalgia"]).run()
    assert "No patient in this selection" in text_of(at)


def test_trends_show_n_beside_every_rate_and_never_draw_response_red(
    clinic_db: tuple[Database, Clinic],
) -> None:
    import json

    _, clinic = clinic_db
    at = page("trends.py", patient_id=clinic.ids["on_course"])
    assert not at.exception
    table = at.dataframe[0].value
    for column in ("Responders", "In remission"):
        assert all(v == "—" or " % of " in v for v in table[column]), list(table[column])
    figures = [json.loads(el.proto.spec) for el in at.main if getattr(el, "type", "") == "plotly_chart"]
    rates = [f for f in figures if "Response and remission" in str(f["layout"]["title"])]
    assert rates
    for trace in rates[0]["data"]:
        assert all(" % of " in t or t == "—" for t in trace["text"])
    lines = [
        t for f in figures for t in f["data"] if str(t.get("name", "")).startswith("Response at or below")
    ]
    assert lines  # the patient's chart draws the response line
    for line in lines:
        colour = line["line"]["color"].lower()
        assert colour == "#2e7d32"  # green: never the default red (#ef553b)


# --- the other forms: saved when valid, refused with the service's words and nothing written --------------


def submit_form(at: AppTest, form: str, label: str) -> AppTest:
    return at.button(key=f"FormSubmitter:{form}-{label}").click().run()


def test_screening_item_form(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["not_screened"])
    at.selectbox(key="f_item_item").set_value("consent_signed")
    at.radio(key="f_item_result").set_value("yes")
    at.date_input(key="f_item_date").set_value(date.today() + timedelta(days=2))
    submit_form(at, "form_screening_item", "Save screening item")
    assert "is in the future" in errors(at)
    assert count(db, ScreeningItem) == count(
        db, ScreeningItem, ScreeningItem.patient_id != c.ids["not_screened"]
    )
    at.date_input(key="f_item_date").set_value(date.today())
    submit_form(at, "form_screening_item", "Save screening item")
    assert not at.exception
    assert count(db, ScreeningItem, ScreeningItem.patient_id == c.ids["not_screened"]) == 1
    assert "Screening item saved" in text_of(at)


def test_screening_decision_form(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["not_screened"])
    at.radio(key="f_dec_decision").set_value("cleared")
    submit_form(at, "form_decision", "Save decision")
    assert "Screening cannot be cleared: it is not started" in errors(at)
    assert count(db, ScreeningDecisionRow, ScreeningDecisionRow.patient_id == c.ids["not_screened"]) == 0
    at = page("patient.py", PROVIDER, patient_id=c.ids["needs_review"])
    at.radio(key="f_dec_decision").set_value("cleared")
    at.text_input(key="f_dec_note").input("arrhythmia reviewed with cardiology")
    submit_form(at, "form_decision", "Save decision")
    assert not at.exception
    assert count(db, ScreeningDecisionRow, ScreeningDecisionRow.patient_id == c.ids["needs_review"]) == 1
    assert "Status: :green[:material/verified: cleared]" in text_of(at)


def test_book_form(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["full_course"])
    before = count(db, Infusion)
    at.date_input(key="f_book_day").set_value(date.today() + timedelta(days=7))
    submit_form(at, "form_book", "Book infusion")
    assert "Course 1 already holds 10 infusions, the maximum per course" in errors(at)
    assert count(db, Infusion) == before
    # A weekday at least two days after today's infusion, inside opening hours.
    day = date.today() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    at = page("patient.py", NURSE, patient_id=c.ids["on_course"])
    at.date_input(key="f_book_day").set_value(day)
    at.time_input(key="f_book_time").set_value(time_of_day(7, 0))
    submit_form(at, "form_book", "Book infusion")
    assert "start between 08:00 and 16:00" in errors(at)
    at.time_input(key="f_book_time").set_value(time_of_day(9, 0))
    submit_form(at, "form_book", "Book infusion")
    assert not at.exception
    assert count(db, Infusion) == before + 1
    assert f"Infusion booked on {day:%Y-%m-%d} at 09:00." in text_of(at)


def test_cancel_form(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = page("patient.py", NURSE, patient_id=c.ids["suicide_risk"])
    submit_form(at, "form_cancel", "Save")
    assert "Reason is required" in errors(at)
    assert count(db, Infusion, Infusion.status == "cancelled") == 0
    at.text_input(key="f_cancel_reason").input("patient asked to postpone")
    submit_form(at, "form_cancel", "Save")
    assert not at.exception
    assert count(db, Infusion, Infusion.status == "cancelled") == 1
    assert "its number is free again" in text_of(at)


def test_trial_outcome_form_shows_suggestion_and_saves(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    cid = c.courses["trial_pending"]
    at = page("patient.py", PROVIDER, patient_id=c.ids["trial_pending"])
    assert "Rule's suggestion: **benefit**" in text_of(at)
    at.radio(key=f"f_trial_outcome_{cid}").set_value("benefit")
    submit_form(at, "form_trial", "Save trial outcome")
    assert not at.exception
    with db.read() as s:
        assert s.get(Course, cid).trial_outcome == "benefit"  # type: ignore[union-attr]
    at.radio(key=f"f_trial_outcome_{cid}").set_value("no_benefit")
    submit_form(at, "form_trial", "Save trial outcome")
    assert "The trial outcome is already benefit: give a reason to amend it" in errors(at)
    with db.read() as s:
        assert s.get(Course, cid).trial_outcome == "benefit"  # type: ignore[union-attr]


def test_suicide_review_form(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["suicide_risk"])
    submit_form(at, "form_suicide_review", "Save review")
    assert "Note is required" in errors(at)
    assert count(db, SuicideReview) == 0
    at.text_area(key="f_sr_note").input("safety plan agreed, no intent")
    submit_form(at, "form_suicide_review", "Save review")
    assert not at.exception
    assert count(db, SuicideReview) == 1
    assert "Suicide-risk review saved." in text_of(at)


def test_new_course_form(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["on_course"])
    before = count(db, Course)
    submit_form(at, "form_new_course", "Start new course")
    assert "Course 1 is still active" in errors(at)
    assert count(db, Course) == before


def test_delete_score_form(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    at = page("patient.py", PROVIDER, patient_id=c.ids["trial_pending"])
    submit_form(at, "form_delete_score", "Delete score")
    assert "Reason is required" in errors(at)
    assert count(db, Assessment, Assessment.deleted_at.is_not(None)) == 0
    at.text_input(key="f_del_reason").input("entered for the wrong patient")
    submit_form(at, "form_delete_score", "Delete score")
    assert not at.exception
    assert count(db, Assessment, Assessment.deleted_at.is_not(None)) == 1
    assert "score of" in text_of(at)
    assert "deleted." in text_of(at)
    nurse = page("patient.py", NURSE, patient_id=c.ids["trial_pending"])
    assert not [b for b in nurse.button if "form_delete_score" in (b.key or "")]


def test_roster_download_is_the_filtered_roster_as_csv(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("roster.py")
    at.text_input(key="roster_search").input("brook").run()
    download = at.get("download_button")
    assert len(download) == 1
    assert "Download the 1 matching patients (CSV)" in download[0].proto.label


def test_trends_offer_score_and_rates_downloads(clinic_db: tuple[Database, Clinic]) -> None:
    _, clinic = clinic_db
    at = page("trends.py", patient_id=clinic.ids["on_course"])
    assert not at.exception
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Download these scores (CSV)" in labels
    assert "Download the rates by indication (CSV)" in labels


def test_one_patient_reads_the_same_progress_on_huddle_roster_courses_and_patient(
    clinic_db: tuple[Database, Clinic],
) -> None:
    _db, clinic = clinic_db
    # Ashford, Sam (D0001): three infusions given and today's booked, in course 1.
    words = "3 done · 1 booked · of 10"
    huddle_lines = [line for line in text_of(page("huddle.py")).splitlines() if "MRN D0001" in line]
    assert len(huddle_lines) == 1
    assert "Ashford, Sam](/patient?mrn=D0001)" in huddle_lines[0]
    assert f"course 1: {words}" in huddle_lines[0]
    roster = page("roster.py").dataframe[0].value.set_index("MRN")
    assert roster.loc["D0001", "Progress"] == words
    courses = page("courses.py").dataframe[0].value.set_index("MRN")
    assert courses.loc["D0001", "Progress"] == words
    header = page("patient.py", NURSE, patient_id=clinic.ids["on_course"]).metric
    assert [(m.label, m.value) for m in header if m.label.startswith("Course")] == [("Course 1", words)]
