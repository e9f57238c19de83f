"""The what-if planner's displays: the course's state, one plan, and the charts (chair use of a plan,
the scenarios' timeline, the clinic's load)."""

from __future__ import annotations

from datetime import datetime

import plotly.graph_objects as go
import streamlit as st

from kdash import ui
from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, Severity
from kdash.planner.plan import Plan
from kdash.services.planning_view import CourseState, slot_rows, timeline_rows
from kdash.ui.planner_words import covers_text, when_day
from kdash.ui.presentation import words


def show_course_state(state: CourseState, *, just_booked: bool = False) -> None:
    """The course's progress in the words every page uses (done, booked, of ten), its trial outcome and
    screening, and why nothing more can be booked when that is so."""
    st.subheader(f"Course {state.course_number} · {words(state.course_status)}")
    cols = st.columns([2, 1, 1])
    cols[0].metric(
        f"Course {state.course_number}",
        state.progress,
        help=f"Done and booked infusions both count toward the {MAX_INFUSIONS_PER_COURSE} of a course.",
    )
    cols[1].metric("Trial outcome", words(state.trial_outcome.value))
    cols[2].metric("Screening", words(state.screening.value))
    if not state.can_add:
        why = "; ".join(ui.md_escape(r) for r in state.reasons)
        if just_booked:
            # The booking just made is what filled the course: news, not a refusal of what was asked.
            st.info(
                f"With this booking the course can take no more infusions: {why}.", icon=":material/info:"
            )
        else:
            st.error(f"Nothing more can be booked on this course now: {why}", icon=":material/block:")


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
    cols[0].metric("Course ends", when_day(plan.course_end))
    cols[1].metric("Benefit window to", when_day(plan.benefit_until))
    cols[2].markdown(covers_text(plan))
    moved = [s for s in plan.slots if s.moved]
    if moved:
        st.markdown("**Moves**")
        st.markdown("\n".join(f"- Infusion {s.number}: {ui.md_escape(s.moved)}" for s in moved))
    for warning in plan.warnings:
        st.markdown(ui.severity_badge(Severity.WARNING, warning))
    if plan.allowed and plan.chair_use:
        st.plotly_chart(chair_use_chart(plan, warning_pct), key=f"use_{plan.scenario}")


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


def load_heatmap(days: list[str], hours: list[str], z: list[list[float]]) -> go.Figure:
    """The clinic's chair use per day and hour, 0–100 % (the hover says the number in words)."""
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
    return fig
