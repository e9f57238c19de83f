"""What-if planner: plan the rest of a course as scenarios, compare up to three, book one, see the chairs.

UI only. Planning and booking are kdash.services.booking; the data shaped for this page comes from
kdash.services.planning_view; every rule is kdash.planner.plan's (docs/planner.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from kdash import ui
from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound, Refused
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, Severity
from kdash.planner.plan import MAX_COMPARED, Plan, compare
from kdash.services.booking import PlanResult, SlotTaken, plan_for_mrn
from kdash.services.clinical import book_plan
from kdash.services.planning_view import (
    CADENCE_CHOICES,
    WEEKDAYS_CHOICE,
    CourseState,
    PatientChoice,
    ScenarioSpec,
    cadence_text,
    clinic_load,
    course_state,
    find_patients,
    heatmap_grid,
    over_capacity_lines,
    patient_by_mrn,
    patient_choice,
    slot_rows,
    timeline_rows,
    weeks_after,
)

actor = ui.guard(Action.PLAN)

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
LOAD_PICK = "planner_load_pick"

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


def _when(d: date | None) -> str:
    return f"{d:%a} {d.isoformat()}" if d else "—"


def _infusions(count: int) -> str:
    return f"{count} infusion" + ("" if count == 1 else "s")


def _covers_text(plan: Plan) -> str:
    """Whether the benefit window reaches the target: a word and an icon, colour only as a third cue."""
    if plan.target is None:
        return "No target date set."
    if plan.covers_target:
        return f":green[:material/check_circle: **Covers** the target {_when(plan.target)}]"
    return f":red[:material/cancel: **Does not cover** the target {_when(plan.target)}]"


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


def patient_options(
    query: str, matches: list[PatientChoice], current: PatientChoice | None
) -> tuple[list[PatientChoice], int]:
    """The patients the select offers and which one it shows, for what was typed.

    A search shows only its matches: the patient chosen before is offered again only if the search
    matches them too, so typing another patient's MRN can never leave the previous one selected. An
    exact MRN wins over the patient chosen before; an empty search offers the patient chosen before.
    """
    wanted = query.strip().lower()
    if not wanted:
        return ([current], 0) if current is not None else ([], 0)
    options = list(matches)
    exact = [i for i, p in enumerate(options) if p.mrn.lower() == wanted]
    if exact:
        return options, exact[0]
    if current is not None and current in options:
        return options, options.index(current)
    return options, 0


def choose_patient(who: Actor) -> PatientChoice | None:
    """Search by MRN or name; the patient linked (``?mrn=``) or chosen on another page is offered first."""
    db = ui.get_db()
    _patient_from_address(who)
    current = None
    if st.session_state.get(PATIENT) is not None:
        current = patient_choice(db, who, int(st.session_state[PATIENT]))
    query = st.text_input(
        "Find a patient by MRN or name", key=QUERY_KEY, placeholder="MRN, or part of a name"
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


def show_course_state(state: CourseState, *, just_booked: bool = False) -> None:
    st.subheader(f"Course {state.course_number} · {state.course_status}")
    cols = st.columns(5)
    cols[0].metric("Done", state.done)
    cols[1].metric("Booked", state.booked)
    cols[2].metric("Live of the course", state.of_ten, help=f"At most {MAX_INFUSIONS_PER_COURSE} per course")
    cols[3].metric("Trial outcome", state.trial_outcome.value.replace("_", " "))
    cols[4].metric("Screening", state.screening.value.replace("_", " "))
    if not state.can_add:
        why = "; ".join(ui.md_escape(r) for r in state.reasons)
        if just_booked:
            # The booking just made is what filled the course: news, not a refusal of what was asked.
            st.info(
                f"With this booking the course can take no more infusions: {why}.", icon=":material/info:"
            )
        else:
            st.error(f"Nothing more can be booked on this course now: {why}", icon=":material/block:")


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


def chair_use_chart(plan: Plan, warning_pct: float) -> go.Figure:
    """Chair use of the weeks the plan touches: existing bookings and the plan's part, per open day."""
    days = [d.day for d in plan.chair_use]
    existing = [
        100.0 * (d.used_minutes - d.added_minutes) / d.available_minutes if d.available_minutes else 0.0
        for d in plan.chair_use
    ]
    added = [
        100.0 * d.added_minutes / d.available_minutes if d.available_minutes else 0.0 for d in plan.chair_use
    ]
    hover = "%{x|%a %Y-%m-%d}: %{y:.0f}%<extra>%{fullData.name}</extra>"
    fig = go.Figure(
        [
            go.Bar(name="Existing bookings", x=days, y=existing, marker_color="#9aa5b1", hovertemplate=hover),
            go.Bar(
                name="This plan",
                x=days,
                y=added,
                marker_color="#1f77b4",
                marker_pattern_shape="/",
                hovertemplate=hover,
            ),
        ]
    )
    fig.add_hline(y=warning_pct, line_dash="dash", annotation_text=f"{warning_pct:g}% warning")
    fig.update_layout(
        title={"text": "Chair use of the weeks this plan touches", "font": {"size": 14}},
        barmode="stack",
        height=300,
        margin={"t": 60, "b": 10, "l": 10, "r": 10},
        xaxis={"tickformat": "%a %d %b", "type": "date"},
        yaxis={"title": "% of chair-hours", "range": [0, 105]},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return fig


def show_plan(plan: Plan, warning_pct: float) -> None:
    """One scenario's output: slots, course end, benefit window and target, moves, warnings, chair use."""
    if not plan.allowed:
        st.error(
            "**Refused: nothing can be booked.** " + " ".join(f"{ui.md_escape(r)}." for r in plan.reasons),
            icon=":material/block:",
        )
    else:
        for reason in plan.reasons:
            st.caption(ui.md_escape(reason))
        st.dataframe(slot_rows(plan), hide_index=True, width="stretch")
    cols = st.columns(3)
    cols[0].metric("Course ends", _when(plan.course_end))
    cols[1].metric("Benefit window to", _when(plan.benefit_until))
    cols[2].markdown(_covers_text(plan))
    moved = [s for s in plan.slots if s.moved]
    if moved:
        st.markdown("**Moves**")
        st.markdown("\n".join(f"- Infusion {s.number}: {ui.md_escape(s.moved)}" for s in moved))
    for warning in plan.warnings:
        st.markdown(ui.severity_badge(Severity.WARNING, warning))
    if plan.allowed and plan.chair_use:
        st.plotly_chart(chair_use_chart(plan, warning_pct), key=f"use_{plan.scenario}")


def sessions_note(asked: int | None, rest: int, live: int) -> tuple[int | None, str | None]:
    """The number of sessions to plan, and what to say beside the field about it.

    Empty asks for the rest of the course (``rest``) whatever the cadence. A number above what the
    course can still take is capped at ``rest`` (ten per course, docs/clinical-reference.md) and said;
    below one is refused (None: nothing is planned).
    """
    if asked is None:
        return rest, None
    if asked < 1:
        return None, "Refused: at least 1 session. Nothing is planned."
    if asked > rest:
        return rest, (
            f"Capped at {rest}: a course holds at most {MAX_INFUSIONS_PER_COURSE} infusions and this "
            f"one has {live}. Planning {rest}, not {asked}."
        )
    return asked, None


def start_note(asked: date, state: CourseState) -> tuple[date, str | None]:
    """The day the plan really starts, and what to say beside the date when it is not the one chosen."""
    earliest = state.earliest_start
    if earliest is None or asked >= earliest:
        return asked, None
    return earliest, (
        f"Starts {_when(earliest)}, the day after the course's last live infusion (not {_when(asked)})."
    )


def cover_note(cover_until: date | None, starts: date) -> tuple[date | None, str | None]:
    """The target to judge the benefit window against, or a refusal beside the field when it is
    before the plan starts (a window that ends after the start would otherwise 'cover' it)."""
    if cover_until is None or cover_until >= starts:
        return cover_until, None
    return (
        None,
        f"Refused: {_when(cover_until)} is before the plan starts ({_when(starts)}). No target is used.",
    )


@st.fragment
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


def timeline_chart(plans: list[Plan]) -> go.Figure:
    """One row per scenario: its infusions as marks, its benefit window as a bar, the target as a line."""
    fig = go.Figure()
    rows = timeline_rows(plans)
    for plan in plans:
        windows = [r for r in rows if r["scenario"] == plan.scenario and r["kind"] == "benefit window"]
        for w in windows:
            fig.add_trace(
                go.Scatter(
                    x=[w["start"], w["end"]],
                    y=[plan.scenario, plan.scenario],
                    mode="lines",
                    line={"width": 14, "color": "rgba(44,160,44,0.35)"},
                    name="Benefit window",
                    legendgroup="benefit",
                    showlegend=plan is plans[0],
                    hovertemplate="Benefit window to %{x|%a %Y-%m-%d}<extra></extra>",
                )
            )
        marks = [r for r in rows if r["scenario"] == plan.scenario and r["kind"] == "infusion"]
        fig.add_trace(
            go.Scatter(
                x=[m["start"] for m in marks],
                y=[plan.scenario] * len(marks),
                mode="markers",
                marker={"size": 11, "symbol": "diamond", "color": "#1f77b4"},
                name="Planned infusion",
                legendgroup="infusion",
                showlegend=plan is plans[0],
                hovertemplate="%{x|%a %Y-%m-%d %H:%M}<extra></extra>",
            )
        )
    targets = sorted({p.target for p in plans if p.target is not None})
    for target in targets:
        when = datetime.combine(target, datetime.min.time())
        fig.add_shape(type="line", x0=when, x1=when, y0=0, y1=1, yref="paper", line={"dash": "dot"})
        fig.add_annotation(x=when, y=1, yref="paper", text=f"target {target.isoformat()}", showarrow=False)
    fig.update_layout(
        title={"text": "Infusions and benefit window of each scenario", "font": {"size": 14}},
        height=160 + 60 * len(plans),
        margin={"t": 60, "b": 10, "l": 10, "r": 10},
        xaxis={"type": "date"},
        yaxis={"categoryorder": "array", "categoryarray": [p.scenario for p in reversed(plans)]},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return fig


def _compare_table(plans: list[Plan]) -> list[dict[str, Any]]:
    """compare()'s rows with dates in words and the target as a word and a mark."""
    rows = []
    for plan, row in zip(plans, compare(plans), strict=True):
        covers = row["covers_target"]
        rows.append(
            {
                "scenario": row["scenario"],
                "bookable": "yes" if plan.allowed and plan.slots else "no",
                "sessions": row["sessions"],
                "first": row["first"].strftime("%a %Y-%m-%d %H:%M") if row["first"] else "—",
                "last": row["last"].strftime("%a %Y-%m-%d %H:%M") if row["last"] else "—",
                "course end": _when(row["course_end"]),
                "benefit until": _when(row["benefit_until"]),
                "covers target": "—" if covers is None else ("✔ yes" if covers else "✘ no"),
                "moves": row["moves"],
                "warnings or why refused": "; ".join(row["warnings"]),
            }
        )
    return rows


def show_comparison() -> None:
    scenarios = _scenarios()
    st.subheader(f"Compare scenarios ({len(scenarios)} of {MAX_COMPARED})")
    if not scenarios:
        st.caption("Add a scenario above to compare it and book it.")
        return
    plans = [s.plan for s in scenarios]
    st.dataframe(_compare_table(plans), hide_index=True, width="stretch", key="pl_compare")
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
        f"Book {ui.md_escape(chosen.spec.name)} ({_infusions(count)})",
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
        f"Booked {ui.md_escape(booked['scenario'])}: {_infusions(len(booked['slots']))} "
        f"({'; '.join(ui.md_escape(s) for s in booked['slots'])}).",
        icon=":material/check_circle:",
    )
    if st.button("Open the patient's page", key="pl_open_patient", icon=":material/person:"):
        st.session_state.pop(BOOKED, None)
        st.session_state[PATIENT] = patient.patient_id
        st.switch_page("pages/patient.py", query_params={"mrn": patient.mrn})
    return True


# --- clinic what-if ----------------------------------------------------------------------------------


def clinic_whatif(who: Actor) -> None:
    st.subheader("Clinic what-if: chair use")
    settings = ui.settings()
    scenarios = _scenarios()
    c1, c2, c3 = st.columns(3)
    start = c1.date_input("From", value=date.today(), key="pl_load_from", format="YYYY-MM-DD")
    weeks = int(c2.number_input("Weeks", min_value=1, max_value=12, value=4, step=1, key="pl_load_weeks"))
    options = ["existing bookings only", *(s.spec.name for s in scenarios)]
    pick = st.session_state.pop(LOAD_PICK, None)
    if pick in options:
        st.session_state["pl_load_scenario"] = pick
    picked = c3.selectbox("Add the load of", options, index=len(options) - 1, key="pl_load_scenario")
    extra = next((s.plan.slots for s in scenarios if s.spec.name == picked), ())
    use = clinic_load(ui.get_db(), who, start, weeks_after(start, weeks), extra)
    if not use.days:
        st.info("The clinic is closed throughout this period.")
        return
    days, hours, z = heatmap_grid(use)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=days,
            y=hours,
            zmin=0,
            zmax=100,
            colorscale="Blues",
            colorbar={"title": "% used"},
            hovertemplate="%{x} %{y}: %{z:.0f}% of chair time<extra></extra>",
        )
    )
    fig.update_layout(
        height=380, margin={"t": 10, "b": 10, "l": 10, "r": 10}, yaxis={"autorange": "reversed"}
    )
    st.plotly_chart(fig, key="pl_heatmap")
    st.caption(
        f"{settings.chairs} chairs, {settings.open_hour:02d}:00–{settings.close_hour:02d}:00; "
        f"{'existing bookings' if not extra else f'existing bookings plus {ui.md_escape(picked)}'}."
    )
    lines = over_capacity_lines(use)
    if lines:
        st.markdown(f"**Days above {settings.capacity_warning_pct:g}% of chair-hours**")
        for line in lines:
            st.markdown(ui.severity_badge(Severity.WARNING, line))
    else:
        st.markdown(
            f":material/check_circle: No day above {settings.capacity_warning_pct:g}% of chair-hours."
        )


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
    clinic_whatif(who)


main(actor)
