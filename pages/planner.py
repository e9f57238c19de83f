"""What-if planner: plan the rest of a course as scenarios, compare up to three, book one, see the chairs.

UI only. Planning and booking are kdash.services.booking; the data shaped for this page comes from
kdash.services.planning_view; every rule is kdash.planner.plan's (docs/planner.md).
"""

from __future__ import annotations

from kdash import ui
from kdash.domain.access import Action

actor = ui.guard(Action.PLAN)

import time  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import streamlit as st  # noqa: E402

from kdash.domain.access import Actor  # noqa: E402
from kdash.domain.errors import NotFound, Refused  # noqa: E402
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE  # noqa: E402
from kdash.planner.plan import MAX_COMPARED, Plan  # noqa: E402
from kdash.services.booking import PlanResult, SlotTaken, plan_for_mrn  # noqa: E402
from kdash.services.clinical import book_plan  # noqa: E402
from kdash.services.planning_view import (  # noqa: E402
    CADENCE_CHOICES,
    WEEKDAYS_CHOICE,
    CourseState,
    PatientChoice,
    ScenarioSpec,
    cadence_text,
    course_state,
    find_patients,
    patient_by_mrn,
    patient_choice,
)
from kdash.services.search import SEARCH_HELP  # noqa: E402
from kdash.ui.activity import fragment  # noqa: E402
from kdash.ui.planner_load import LOAD_PICK, clinic_whatif  # noqa: E402
from kdash.ui.planner_views import (  # noqa: E402
    show_course_state,
    show_plan,
    timeline_chart,
)
from kdash.ui.planner_words import (  # noqa: E402
    compare_rows,
    cover_note,
    infusions_word,
    patient_options,
    sessions_note,
    start_note,
)

# Session-state keys of this page ("patient_id" is shared with the other pages).
PATIENT = "patient_id"
SCENARIOS = "planner_scenarios"
SCENARIOS_OF = "planner_scenarios_patient"
PLAN_CACHE = "planner_plan_cache"
BOOKED = "planner_booked"
NAME_KEY = "pl_name"
QUERY_KEY = "pl_query"
ADDRESS_MRN = "planner_address_mrn"
NEXT_NAME = "planner_next_name"

_PLAN_CACHE_SIZE = 20
_PLAN_FRESH_SECONDS = 300
_WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Scenario:
    """A scenario kept for comparison: what was asked, the plan drawn, and for which course."""

    spec: ScenarioSpec
    plan: Plan
    course_id: int
    patient_id: int


def _scenarios() -> list[Scenario]:
    return st.session_state.setdefault(SCENARIOS, [])  # type: ignore[no-any-return]


def _fresh_name() -> str:
    taken = {s.spec.name for s in _scenarios()}
    for letter in "ABCDEFGHIJ":
        if f"Scenario {letter}" not in taken:
            return f"Scenario {letter}"
    return f"Scenario {len(taken) + 1}"


# --- patient and course ------------------------------------------------------------------------------


def _patient_from_address(who: Actor) -> None:
    """Open the patient of ``/planner?mrn=<MRN>`` once per address, as if searched by that MRN.

    The search box then holds the MRN, so the one patient shown, planned and booked is the one linked.
    """
    mrn = st.query_params.get("mrn")
    if not mrn or st.session_state.get(ADDRESS_MRN) == mrn:
        return
    st.session_state[ADDRESS_MRN] = mrn
    found = patient_by_mrn(ui.get_db(), who, mrn)
    st.session_state[QUERY_KEY] = mrn
    if found is not None:
        st.session_state[PATIENT] = found.patient_id


def _address_to(patient: PatientChoice) -> None:
    """Keep the address on the patient shown: a copied link, a refresh or Back opens the same one."""
    if st.query_params.get("mrn") != patient.mrn:
        st.query_params["mrn"] = patient.mrn
    st.session_state[ADDRESS_MRN] = patient.mrn


def choose_patient(who: Actor) -> PatientChoice | None:
    """Search by MRN or name; the patient linked (``?mrn=``) or chosen on another page is offered first."""
    db = ui.get_db()
    _patient_from_address(who)
    current = None
    if st.session_state.get(PATIENT) is not None:
        current = patient_choice(db, who, int(st.session_state[PATIENT]))
    query = st.text_input(
        "Find a patient by MRN or name",
        key=QUERY_KEY,
        placeholder='MRN, "Last, First" or part of a name',
        help=SEARCH_HELP,
    )
    matches = find_patients(db, who, query) if query.strip() else []
    options, index = patient_options(query, matches, current)
    if not options:
        st.info(
            "No patient matches." if query.strip() else "Search for a patient to plan their course.",
            icon=":material/search:",
        )
        return None
    chosen: PatientChoice = st.selectbox(
        "Patient",
        options,
        index=index,
        format_func=lambda p: p.label,
        # The options are part of the key: a new search starts a new select on its best match.
        key="pl_patient_" + "|".join(p.mrn for p in options),
    )
    st.session_state[PATIENT] = chosen.patient_id
    _address_to(chosen)
    if st.session_state.get(SCENARIOS_OF) != chosen.patient_id:
        # Scenarios belong to one patient: a new patient starts a new comparison.
        st.session_state[SCENARIOS] = []
        st.session_state[SCENARIOS_OF] = chosen.patient_id
        st.session_state[NEXT_NAME] = True
    return chosen


# --- one plan ----------------------------------------------------------------------------------------


def _plan(who: Actor, patient: PatientChoice, spec: ScenarioSpec) -> PlanResult:
    """The plan for ``spec``, drawn once per distinct input (each drawing is an audited read)."""
    cache: dict[tuple[Any, ...], PlanResult] = st.session_state.setdefault(PLAN_CACHE, {})
    # Re-planned every few minutes too, so a preview left open sees other users' bookings.
    key = (patient.patient_id, spec, int(time.time() // _PLAN_FRESH_SECONDS))
    if key not in cache:
        if len(cache) >= _PLAN_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = plan_for_mrn(
            ui.get_db(),
            who,
            patient.mrn,
            spec.start,
            spec.cadence,
            sessions=spec.sessions,
            cover_until=spec.cover_until,
            preferred_time=spec.preferred_time,
            scenario=spec.name,
        )
    return cache[key]


@fragment
def scenario_editor(who: Actor, patient: PatientChoice, state: CourseState) -> None:
    """The scenario controls; changing one reruns only this part of the page."""
    settings = ui.settings()
    if st.session_state.pop(NEXT_NAME, False) or NAME_KEY not in st.session_state:
        st.session_state[NAME_KEY] = _fresh_name()
    rest = state.rest_of_course
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Scenario name", key=NAME_KEY, max_chars=40)
    asked_start = c1.date_input(
        "Start", value=date.today() + timedelta(days=1), key="pl_start", format="YYYY-MM-DD"
    )
    start, start_said = start_note(asked_start, state)
    if start_said:
        c1.markdown(f":orange[:material/event_repeat: {start_said}]")
    choice = c2.selectbox("Cadence", CADENCE_CHOICES, key="pl_cadence")
    weekdays: list[int] = []
    if choice == WEEKDAYS_CHOICE:
        weekdays = c2.multiselect(
            "Weekdays",
            list(range(7)),
            default=[0, 2, 4],
            format_func=lambda d: _WEEKDAY_LABELS[d],
            key="pl_days",
        )
    # No min or max on the widget: the browser would keep the old value and plan with it; the page
    # caps or refuses the number typed and says so beside the field.
    asked_sessions = c3.number_input(
        "Sessions",
        value=None,
        step=1,
        key="pl_sessions",
        placeholder=f"rest of the course: {rest}",
        help=(
            f"Empty: the rest of the course, up to {MAX_INFUSIONS_PER_COURSE} infusions, whatever the "
            "cadence."
        ),
    )
    sessions, sessions_said = sessions_note(
        int(asked_sessions) if asked_sessions is not None else None, rest, state.live
    )
    if sessions_said:
        c3.markdown(
            f":red[:material/block: {sessions_said}]"
            if sessions is None
            else f":orange[:material/vertical_align_top: {sessions_said}]"
        )
    asked_cover = c2.date_input("Cover until (optional)", value=None, key="pl_cover", format="YYYY-MM-DD")
    cover_until, cover_said = cover_note(asked_cover, start)
    if cover_said:
        c2.markdown(f":red[:material/block: {cover_said}]")
    preferred = c3.time_input("Preferred time (optional)", value=None, key="pl_time", step=1800)
    if sessions is None:
        return
    if rest == 0:
        st.info("The course holds its ten infusions: nothing more to plan on it.", icon=":material/info:")
        return
    try:
        cadence = cadence_text(choice, weekdays)
    except ValueError as exc:
        st.warning(str(exc).capitalize() + ".", icon=":material/warning:")
        return
    spec = ScenarioSpec(
        name=(name or "").strip() or _fresh_name(),
        start=asked_start,
        cadence=cadence,
        sessions=sessions,
        cover_until=cover_until,
        preferred_time=preferred,
    )
    try:
        result = _plan(who, patient, spec)
    except (Refused, NotFound) as exc:
        st.error(ui.md_escape(str(exc)), icon=":material/block:")
        return
    except ValueError as exc:
        st.warning(ui.md_escape(str(exc)), icon=":material/warning:")
        return
    show_plan(result.plan, settings.capacity_warning_pct)
    full = len(_scenarios()) >= MAX_COMPARED
    if st.button(
        "Add to comparison",
        key="pl_add",
        icon=":material/add:",
        disabled=full,
        help=f"Up to {MAX_COMPARED} scenarios side by side" if full else None,
    ):
        taken = {s.spec.name for s in _scenarios()}
        if spec.name in taken:
            spec = replace(spec, name=_fresh_name())
        plan = replace(result.plan, scenario=spec.name)
        _scenarios().append(Scenario(spec, plan, result.inputs.course.id, patient.patient_id))
        st.session_state[NEXT_NAME] = True
        st.session_state[LOAD_PICK] = spec.name  # the clinic what-if shows the newest scenario's load
        st.rerun()


# --- compare and book --------------------------------------------------------------------------------


def show_comparison() -> None:
    scenarios = _scenarios()
    st.subheader(f"Compare scenarios ({len(scenarios)} of {MAX_COMPARED})")
    if not scenarios:
        st.caption("Add a scenario above to compare it and book it.")
        return
    plans = [s.plan for s in scenarios]
    st.dataframe(compare_rows(plans), hide_index=True, width="stretch", key="pl_compare")
    st.plotly_chart(timeline_chart(plans), key="pl_timeline")
    cols = st.columns(len(scenarios))
    for i, (col, scenario) in enumerate(zip(cols, scenarios, strict=True)):
        if col.button(
            f"Remove {ui.md_escape(scenario.spec.name)}", key=f"pl_remove_{i}", icon=":material/delete:"
        ):
            del scenarios[i]
            st.rerun()


def book_section(who: Actor, patient: PatientChoice, state: CourseState) -> None:
    if not who.can(Action.BOOK_INFUSION):
        st.caption(
            "Your role can plan but not book; a scheduler, nurse or provider books the chosen scenario."
        )
        return
    # Only scenarios drawn for the patient shown and their current course: never book for another.
    bookable = [
        s
        for s in _scenarios()
        if s.patient_id == patient.patient_id
        and s.course_id == state.course_id
        and s.plan.allowed
        and s.plan.slots
    ]
    if not bookable:
        if _scenarios():
            st.caption("No compared scenario can be booked (refused or without slots).")
        return
    names = [s.spec.name for s in bookable]
    chosen_name = st.radio(
        "Scenario to book", names, horizontal=True, key="pl_book_choice", format_func=ui.md_escape
    )
    chosen = bookable[names.index(chosen_name)] if chosen_name in names else bookable[0]
    count = len(chosen.plan.slots)
    if st.button(
        f"Book {ui.md_escape(chosen.spec.name)} ({infusions_word(count)})",
        type="primary",
        key="pl_book",
        icon=":material/event_available:",
    ):
        try:
            book_plan(ui.get_db(), who, chosen.course_id, chosen.plan)
        except SlotTaken as exc:
            st.error(ui.md_escape(str(exc)), icon=":material/event_busy:")
            return
        except Refused as exc:
            st.error("Nothing was booked: " + ui.md_escape(str(exc)), icon=":material/block:")
            return
        except NotFound:
            st.error("Nothing was booked: the course no longer exists.", icon=":material/block:")
            return
        ui.clear_caches()
        st.session_state[BOOKED] = {
            "patient_id": patient.patient_id,
            "scenario": chosen.spec.name,
            "slots": [f"{s.start:%a %Y-%m-%d %H:%M}, chair {s.chair}" for s in chosen.plan.slots],
        }
        st.session_state[SCENARIOS] = []
        st.session_state[PLAN_CACHE] = {}
        st.session_state[NEXT_NAME] = True
        st.rerun()


def show_booked(patient: PatientChoice) -> bool:
    """What was just booked for the patient shown (True when there is something to show)."""
    booked = st.session_state.get(BOOKED)
    if not booked or booked["patient_id"] != patient.patient_id:
        return False
    st.success(
        f"Booked {ui.md_escape(booked['scenario'])}: {infusions_word(len(booked['slots']))} "
        f"({'; '.join(ui.md_escape(s) for s in booked['slots'])}).",
        icon=":material/check_circle:",
    )
    if st.button("Open the patient's page", key="pl_open_patient", icon=":material/person:"):
        st.session_state.pop(BOOKED, None)
        st.session_state[PATIENT] = patient.patient_id
        st.switch_page("pages/patient.py", query_params={"mrn": patient.mrn})
    return True


# --- the page ----------------------------------------------------------------------------------------


def main(who: Actor) -> None:
    st.title("What-if planner")
    st.caption(
        "Try start dates and cadences for the rest of a course: where the infusions would fall, when the "
        "benefit window ends, and what it does to the chairs. Nothing is booked until you book a scenario."
    )
    patient = choose_patient(who)
    if patient is None:
        return
    just_booked = show_booked(patient)
    try:
        state = course_state(ui.get_db(), who, patient.patient_id)
    except (Refused, NotFound) as exc:
        st.info(ui.md_escape(str(exc)), icon=":material/info:")
        return
    show_course_state(state, just_booked=just_booked)
    st.subheader("Scenario")
    scenario_editor(who, patient, state)
    show_comparison()
    book_section(who, patient, state)
    clinic_whatif(who, [(s.spec.name, s.plan.slots) for s in _scenarios()])


main(actor)
