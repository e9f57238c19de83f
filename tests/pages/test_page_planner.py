"""The what-if planner page through Streamlit's AppTest: choose, plan, compare, book, and the guard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from kdash.demo.first_run import load_demo_clinic
from kdash.domain.access import Actor
from kdash.domain.errors import NotFound, Refused
from kdash.domain.vocab import InfusionStatus, Role, TrialOutcome
from kdash.planner.plan import PlannedSlot
from kdash.services.booking import book_plan
from kdash.services.planning_view import course_state
from kdash.storage.database import Database
from kdash.storage.models import Closure, Infusion, Patient
from kdash.storage.policy_repo import save_setting
from tests.apptest_support import make_app_db
from tests.seeded import add_patient

SCHEDULER = Actor("sched", Role.SCHEDULER, "Scheduler")
TODAY = date.today()
#: A Monday at least a week ahead, so every plan is in the future whatever day the suite runs.
START = TODAY + timedelta(days=7 + (7 - TODAY.weekday()) % 7)
TRIAL_AT = datetime.combine(TODAY - timedelta(days=3), datetime.min.time()).replace(hour=9)
SCREENED_ON = TODAY - timedelta(days=30)


@pytest.fixture
def page_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The database the page opens; settings are cached per process, so each test starts from its own."""
    yield from make_app_db(tmp_path, monkeypatch, users=False)


def patient(db: Database, mrn: str, **kw: Any) -> tuple[int, int]:
    kw.setdefault("trial_at", TRIAL_AT)
    return add_patient(db, mrn, screened_on=SCREENED_ON, **kw)


def open_page(actor: Actor = SCHEDULER) -> AppTest:
    at = AppTest.from_file("../../pages/planner.py", default_timeout=30)
    at.session_state["kdash_actor"] = actor
    at.session_state["kdash_last_activity"] = time.time()
    return at.run()


def by_label(widgets: Any, label: str) -> Any:
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}"
    return found[0]


def choose(at: AppTest, query: str) -> AppTest:
    by_label(at.text_input, "Find a patient by MRN or name").input(query).run()
    return at


def plan(at: AppTest, cadence: str, *, sessions: int | None = None, start: date = START) -> AppTest:
    at.date_input(key="pl_start").set_value(start).run()
    at.selectbox(key="pl_cadence").set_value(cadence).run()
    if sessions is not None:
        at.number_input(key="pl_sessions").set_value(sessions).run()
    return at


def plain(at: AppTest) -> str:
    """Every text element of the page, with the Markdown escapes removed."""
    parts = [
        e.value
        for kind in ("markdown", "error", "warning", "success", "caption", "info")
        for e in at.get(kind)
    ]
    return " ".join(str(p) for p in parts).replace("\\", "")


def slot_table(at: AppTest) -> list[dict[str, Any]]:
    frames = [d.value for d in at.dataframe if "infusion" in d.value.columns]
    assert frames, "no slot table on the page"
    return frames[0].to_dict("records")  # type: ignore[no-any-return]


def compare_table(at: AppTest) -> Any:
    frames = [d.value for d in at.dataframe if "scenario" in d.value.columns]
    assert frames, "no comparison table on the page"
    return frames[0]


def button_labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def booked(db: Database, course_id: int) -> list[tuple[int, datetime, int | None]]:
    with db.read() as s:
        rows = s.execute(
            select(Infusion.number, Infusion.scheduled_at, Infusion.chair)
            .where(Infusion.course_id == course_id, Infusion.status == InfusionStatus.SCHEDULED.value)
            .order_by(Infusion.number)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_page_renders_and_asks_for_a_patient(page_db: Database) -> None:
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "What-if planner"
    assert "Search for a patient" in plain(at)


def test_choosing_a_patient_and_a_cadence_shows_dated_timed_slots_with_chairs(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    assert not at.exception
    # The course state: the trial is done, nothing booked, 1 of 10.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Course 1"] == "1 done · 0 booked · of 10"
    assert metrics["Trial outcome"] == "benefit"
    plan(at, "twice-weekly", sessions=3)
    rows = slot_table(at)
    assert [r["infusion"] for r in rows] == [2, 3, 4]
    # Twice weekly is Monday and Thursday, from the chosen Monday.
    assert [r["day"] for r in rows] == [
        f"{d:%a} {d.isoformat()}" for d in (START, START + timedelta(days=3), START + timedelta(days=7))
    ]
    assert all(r["time"] == "08:00–09:30" or r["time"].startswith("08:00") for r in rows)
    assert {r["chair"] for r in rows} == {1}
    ends = {m.label: m.value for m in at.metric}
    last = START + timedelta(days=7)
    assert ends["Course ends"] == f"{last:%a} {last.isoformat()}"
    assert ends["Benefit window to"].endswith((last + timedelta(days=84)).isoformat())
    assert any(e.type == "plotly_chart" for e in at.main)


def test_a_target_date_says_whether_the_benefit_window_covers_it(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = plan(choose(open_page(), "SYN-0001"), "weekly", sessions=1)
    at.date_input(key="pl_cover").set_value(START + timedelta(days=200)).run()
    assert "Does not cover the target" in plain(at).replace("**", "")
    at.date_input(key="pl_cover").set_value(START + timedelta(days=30)).run()
    assert "Covers the target" in plain(at).replace("**", "")


def test_chosen_weekdays_plan_on_those_days(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = plan(choose(open_page(), "SYN-0001"), "chosen weekdays", sessions=3)
    at.multiselect(key="pl_days").set_value([1, 4]).run()  # Tue, Fri
    assert [r["day"][:3] for r in slot_table(at)] == ["Tue", "Fri", "Tue"]


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"cleared": False}, "not cleared"),
        ({"outcome": TrialOutcome.NO_BENEFIT}, "no benefit"),
        ({"outcome": TrialOutcome.PENDING}, "pending"),
    ],
)
def test_a_refused_patient_shows_why_and_offers_nothing_to_book(
    page_db: Database, kw: dict[str, Any], words: str
) -> None:
    patient(page_db, "SYN-0009", **kw)
    at = plan(choose(open_page(), "SYN-0009"), "weekly", sessions=2)
    assert not at.exception
    text = plain(at).lower().replace("_", " ")
    assert "refused: nothing can be booked" in text.replace("**", "")
    assert words in text
    assert not [d for d in at.dataframe if "infusion" in d.value.columns]
    at.button(key="pl_add").click().run()
    assert not any(label.startswith("Book ") for label in button_labels(at))


def add_scenario(at: AppTest, cadence: str, sessions: int) -> AppTest:
    plan(at, cadence, sessions=sessions)
    at.button(key="pl_add").click().run()
    assert not at.exception
    return at


def test_two_scenarios_are_compared_side_by_side(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    add_scenario(at, "induction", 5)
    add_scenario(at, "weekly", 2)
    table = compare_table(at)
    assert list(table["scenario"]) == ["Scenario A", "Scenario B"]
    assert list(table["sessions"]) == [5, 2]
    assert any(e.type == "plotly_chart" for e in at.main)
    assert "Compare scenarios (2 of 3)" in [h.value for h in at.subheader]
    # Removing one leaves the other.
    at.button(key="pl_remove_0").click().run()
    assert list(compare_table(at)["scenario"]) == ["Scenario B"]


def test_at_most_three_scenarios(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    for cadence in ("induction", "weekly", "twice-weekly"):
        add_scenario(at, cadence, 2)
    assert at.button(key="pl_add").disabled
    assert len(compare_table(at)) == 3


def test_booking_a_scenario_writes_its_infusions(page_db: Database) -> None:
    _, course_id = patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    add_scenario(at, "weekly", 3)
    add_scenario(at, "twice-weekly", 2)
    at.radio(key="pl_book_choice").set_value("Scenario A").run()
    at.button(key="pl_book").click().run()
    assert not at.exception
    rows = booked(page_db, course_id)
    assert [(n, when.date()) for n, when, _ in rows] == [
        (2, START),
        (3, START + timedelta(days=7)),
        (4, START + timedelta(days=14)),
    ]
    assert all(chair is not None for *_, chair in rows)
    assert "Booked Scenario A: 3 infusions" in plain(at)
    assert "Open the patient's page" in button_labels(at)
    assert {m.label: m.value for m in at.metric}["Course 1"] == "1 done · 3 booked · of 10"
    assert not [b for b in at.button if b.key == "pl_book"]  # the comparison was cleared


def test_a_slot_taken_meanwhile_books_nothing_and_names_it(page_db: Database) -> None:
    _, course_id = patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    add_scenario(at, "weekly", 2)
    # Meanwhile another patient's trial takes exactly the first slot's chair and time.
    _, other = patient(page_db, "SYN-0002", trial_at=None)
    first = START
    slot_start = datetime.combine(first, datetime.min.time()).replace(hour=8)
    taken = PlannedSlot(1, slot_start, slot_start + timedelta(minutes=90), 1, first)
    book_plan(page_db, SCHEDULER, other, [taken])
    at.button(key="pl_book").click().run()
    assert not at.exception
    assert booked(page_db, course_id) == []
    text = plain(at)
    assert "Nothing was booked" in text
    assert f"infusion 2 on {first:%a} {first.isoformat()} 08:00, chair 1" in text
    assert "the chair was booked meanwhile" in text


def test_a_patient_chosen_on_another_page_is_preselected(page_db: Database) -> None:
    patient_id, _ = patient(page_db, "SYN-0003")
    at = AppTest.from_file("../../pages/planner.py", default_timeout=30)
    at.session_state["kdash_actor"] = SCHEDULER
    at.session_state["kdash_last_activity"] = time.time()
    at.session_state["patient_id"] = patient_id
    at.run()
    assert not at.exception
    assert by_label(at.selectbox, "Patient").value.mrn == "SYN-0003"
    assert {m.label for m in at.metric} >= {"Course 1", "Trial outcome", "Screening"}


def charts(at: AppTest) -> list[str]:
    """The Plotly figures on the page, as their JSON specs."""
    return [str(e.proto.spec) for e in at.main if e.type == "plotly_chart"]


def test_the_clinic_what_if_shows_the_heatmap_and_names_days_over_capacity(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    with page_db.write() as s:
        # One two-hour chair time on four chairs over ten hours is 5%: a 3% line makes it "over".
        save_setting(s, "capacity_warning_pct", 3.0, "admin", datetime.now())
    at = choose(open_page(), "SYN-0001")
    at.date_input(key="pl_load_from").set_value(START).run()
    assert any('"heatmap"' in spec for spec in charts(at))
    assert "No day above 3% of chair-hours" in plain(at)
    add_scenario(at, "weekly", 2)
    assert at.selectbox(key="pl_load_scenario").value == "Scenario A"
    text = plain(at)
    assert f"{START:%a} {START.isoformat()}: 5% of chair-hours used" in text
    assert "2.0 h of it from the scenario" in text
    week_two = START + timedelta(days=7)
    assert f"{week_two:%a} {week_two.isoformat()}: 5%" in text
    at.selectbox(key="pl_load_scenario").set_value("existing bookings only").run()
    assert "No day above 3% of chair-hours" in plain(at)


def test_a_closure_moves_a_slot_and_the_page_says_so_in_words(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    with page_db.write() as s:
        s.add(Closure(day=START, reason="Training day"))
    at = plan(choose(open_page(), "SYN-0001"), "weekly", sessions=2)
    rows = slot_table(at)
    tuesday = START + timedelta(days=1)
    assert rows[0]["day"] == f"Tue {tuesday.isoformat()}"
    assert rows[0]["note"].startswith(f"moved from Mon {START.isoformat()} to Tue {tuesday.isoformat()}")
    text = plain(at)
    assert f"Infusion 2: moved from Mon {START.isoformat()}" in text
    assert "the clinic is closed that day (closure)" in text
    assert "Warning: infusion 2 moved" in text


def test_a_provider_may_plan_and_book(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = choose(open_page(Actor("doc", Role.PROVIDER, "Doctor")), "SYN-0001")
    add_scenario(at, "weekly", 1)
    assert "Book Scenario A (1 infusion)" in button_labels(at)


@pytest.mark.parametrize("role", [Role.READ_ONLY, Role.NURSE, Role.ADMIN])
def test_roles_without_the_plan_permission_are_refused_by_the_guard(page_db: Database, role: Role) -> None:
    patient(page_db, "SYN-0001")
    at = open_page(Actor("someone", role, "Someone"))
    assert not at.exception
    assert "plan" in at.error[0].value.lower()
    assert not at.text_input
    assert not at.title


def test_the_demo_clinic_plans_and_refuses_its_patients(page_db: Database) -> None:
    """On the synthetic demo clinic (busy chairs, closures, every course stage) the page plans and refuses."""
    load_demo_clinic(page_db)
    with page_db.read() as s:
        patients = [(p.id, p.mrn) for p in s.scalars(select(Patient).order_by(Patient.mrn))]
    states = {}
    for pid, mrn in patients:
        try:
            states[mrn] = course_state(page_db, SCHEDULER, pid)
        except (Refused, NotFound):
            continue  # screening only: no course yet
    plannable = next(m for m, st_ in states.items() if st_.can_add and st_.live < 9)
    refused = next(m for m, st_ in states.items() if not st_.can_add)

    at = plan(choose(open_page(), plannable), "twice-weekly", sessions=2)
    assert not at.exception
    rows = slot_table(at)
    assert len(rows) == 2
    assert all(r["day"][:3] in {"Mon", "Thu"} or r["note"].startswith("moved") for r in rows)
    add_scenario(at, "twice-weekly", 2)
    assert "Book Scenario A (2 infusions)" in button_labels(at)

    at = plan(choose(open_page(), refused), "weekly", sessions=2)
    assert not at.exception
    assert "Refused: nothing can be booked" in plain(at).replace("**", "")
    for reason in states[refused].reasons:
        assert reason in plain(at)


def test_a_patient_without_a_course_is_told_to_start_one(page_db: Database) -> None:
    with page_db.write() as s:
        s.add(
            Patient(
                mrn="SYN-0500",
                first_name="Test",
                last_name="Screening only",
                date_of_birth=date(1980, 1, 1),
                sex="female",
                indication="depression",
                provider="Dr Synthetic",
            )
        )
    at = choose(open_page(), "SYN-0500")
    assert not at.exception
    assert "no course yet" in plain(at)
    assert not [w for w in at.selectbox if w.key == "pl_cadence"]


def test_after_booking_the_link_opens_the_patients_page_with_the_bookings(page_db: Database) -> None:
    """Through app.py's navigation, as in the app: book, then open the patient's page from the planner."""
    patient_id, course_id = patient(page_db, "SYN-0001")
    at = AppTest.from_file("../../app.py", default_timeout=30)
    at.session_state["kdash_actor"] = SCHEDULER
    at.session_state["kdash_last_activity"] = time.time()
    at.run()
    at.switch_page("pages/planner.py").run()
    choose(at, "SYN-0001")
    add_scenario(at, "weekly", 2)
    at.button(key="pl_book").click().run()
    assert len(booked(page_db, course_id)) == 2
    at.button(key="pl_open_patient").click().run()
    assert not at.exception
    assert at.session_state["patient_id"] == patient_id
    assert at.title[0].value.replace("\\", "") == "Patient SYN-0001, Test"  # title text is Markdown-escaped
    assert {m.label: m.value for m in at.metric}["Course 1"] == "1 done · 2 booked · of 10"


# --- the patient shown is the one searched or linked -------------------------------------------------


def patient_select(at: AppTest) -> Any:
    return by_label(at.selectbox, "Patient")


def test_typing_another_patients_mrn_switches_the_patient_and_books_for_them(page_db: Database) -> None:
    """The reported error: search, pick one patient, type another's MRN; the Book button was the first's."""
    _, first_course = patient(page_db, "SYN-0001")
    _, second_course = patient(page_db, "SYN-0002", trial_chair=2)
    at = choose(open_page(), "Patient SYN")
    assert [o for o in patient_select(at).options] == [
        "Patient SYN-0001, Test · SYN-0001",
        "Patient SYN-0002, Test · SYN-0002",
    ]
    assert patient_select(at).value.mrn == "SYN-0001"
    choose(at, "SYN-0002")
    assert patient_select(at).value.mrn == "SYN-0002"
    assert at.query_params["mrn"] in ("SYN-0002", ["SYN-0002"])
    add_scenario(at, "weekly", 2)
    at.button(key="pl_book").click().run()
    assert not at.exception
    assert booked(page_db, first_course) == []
    assert len(booked(page_db, second_course)) == 2


def test_a_search_that_matches_no_one_shows_no_patient(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    add_scenario(at, "weekly", 2)
    choose(at, "SYN-9999")
    assert "No patient matches." in plain(at)
    assert not [w for w in at.selectbox if w.label == "Patient"]
    assert not [b for b in at.button if b.key == "pl_book"]
    assert not at.metric


def test_the_address_opens_the_linked_patient(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    # An MRN that merely starts the same way is not the one linked.
    patient(page_db, "SYN-00010", trial_chair=2)
    at = AppTest.from_file("../../pages/planner.py", default_timeout=30)
    at.session_state["kdash_actor"] = SCHEDULER
    at.session_state["kdash_last_activity"] = time.time()
    at.query_params["mrn"] = "SYN-0001"
    at.run()
    assert not at.exception
    assert patient_select(at).value.mrn == "SYN-0001"
    assert by_label(at.text_input, "Find a patient by MRN or name").value == "SYN-0001"


# --- sessions, start, cover-until, after a booking ---------------------------------------------------


@pytest.mark.parametrize("cadence", ["induction", "twice-weekly", "weekly", "booster"])
def test_the_default_is_the_rest_of_the_course_for_every_cadence(page_db: Database, cadence: str) -> None:
    patient(page_db, "SYN-0001")  # the trial showed benefit: 1 of 10 live, 9 to go
    at = plan(choose(open_page(), "SYN-0001"), cadence)
    assert not at.exception
    assert [r["infusion"] for r in slot_table(at)] == list(range(2, 11))
    assert at.number_input(key="pl_sessions").value is None
    assert at.number_input(key="pl_sessions").proto.placeholder == "rest of the course: 9"


def test_two_cadences_give_different_plans_by_default(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    twice = [r["day"] for r in slot_table(plan(at, "twice-weekly"))]
    weekly = [r["day"] for r in slot_table(plan(at, "weekly"))]
    assert len(twice) == len(weekly) == 9
    assert twice != weekly


def test_sessions_above_the_cap_are_capped_and_said_beside_the_field(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = plan(choose(open_page(), "SYN-0001"), "weekly", sessions=12)
    assert len(slot_table(at)) == 9
    assert (
        "Capped at 9: a course holds at most 10 infusions and this one has 1 done or booked. "
        "Planning 9, not 12." in plain(at)
    )
    # At the cap: planned as asked, nothing said.
    at.number_input(key="pl_sessions").set_value(9).run()
    assert len(slot_table(at)) == 9
    assert "Capped" not in plain(at)
    # Then a number below it: planned with the new value, never the old one.
    at.number_input(key="pl_sessions").set_value(4).run()
    assert len(slot_table(at)) == 4


def test_sessions_below_one_are_refused_beside_the_field(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = plan(choose(open_page(), "SYN-0001"), "weekly", sessions=0)
    assert "Refused: at least 1 session. Nothing is planned." in plain(at)
    assert not [d for d in at.dataframe if "infusion" in d.value.columns]
    at.number_input(key="pl_sessions").set_value(1).run()
    assert len(slot_table(at)) == 1


def test_a_start_before_the_last_live_infusion_is_moved_and_said_beside_the_date(page_db: Database) -> None:
    patient(page_db, "SYN-0001")  # trial three days ago
    day_after_trial = TRIAL_AT.date() + timedelta(days=1)
    at = plan(
        choose(open_page(), "SYN-0001"), "weekly", sessions=1, start=TRIAL_AT.date() - timedelta(days=2)
    )
    said = f"Starts {day_after_trial:%a} {day_after_trial.isoformat()}, the day after the course's last"
    assert said in plain(at)
    # On the earliest day itself nothing is moved and nothing is said.
    at.date_input(key="pl_start").set_value(day_after_trial).run()
    assert "the day after the course's last infusion done or booked (not" not in plain(at)


def test_a_cover_until_before_the_start_is_refused_beside_its_field(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = plan(choose(open_page(), "SYN-0001"), "weekly", sessions=1)
    at.date_input(key="pl_cover").set_value(START - timedelta(days=1)).run()
    text = plain(at).replace("**", "")
    assert f"is before the plan starts ({START:%a} {START.isoformat()}). No target is used." in text
    assert "Covers the target" not in text
    # On the start day itself it is a target, and the window covers it.
    at.date_input(key="pl_cover").set_value(START).run()
    text = plain(at).replace("**", "")
    assert "No target is used" not in text
    assert "Covers the target" in text


def test_after_booking_the_page_shows_what_was_booked_and_no_stale_refusal(page_db: Database) -> None:
    _, course_id = patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    plan(at, "twice-weekly")
    at.button(key="pl_add").click().run()
    at.button(key="pl_book").click().run()
    assert not at.exception
    assert len(booked(page_db, course_id)) == 9
    assert "Booked Scenario A: 9 infusions" in plain(at)
    assert not at.error
    assert "nothing more to plan" in plain(at)


def test_the_search_reads_last_first_and_first_last_as_every_page_does(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    patient(page_db, "SYN-0002", trial_chair=2)
    for typed in ("Patient SYN-0002, Test", "Test Patient SYN-0002", "0002"):
        at = choose(open_page(), typed)
        assert not at.exception
        assert patient_select(at).options == ["Patient SYN-0002, Test · SYN-0002"], typed


def test_the_course_reads_done_booked_of_ten_and_no_internal_words(page_db: Database) -> None:
    patient(page_db, "SYN-0001")
    at = choose(open_page(), "SYN-0001")
    body = plain(at) + " ".join(f"{m.label} {m.value}" for m in at.metric)
    assert "1 done · 0 booked · of 10" in body
    for internal in ("Live", " live ", "of_ten", "needs_review", "not_started"):
        assert internal not in body.replace("SYN-0001", ""), internal
