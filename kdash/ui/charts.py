"""Plotly figures for the pages, built from the views' plain data (no Streamlit here).

Every chart has a title, axis labels, hover text and a legend where there is more than one series; band
colours are a second cue beside the band names written on the chart (colour-blind staff, grey print).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, InfusionStatus
from kdash.rules.huddle import HourLoad
from kdash.rules.outcomes import OutcomeStats
from kdash.rules.trends import InstrumentTrend
from kdash.services.active_courses import CourseRow
from kdash.services.patient_detail import CourseView

#: Band shading from light to darker with severity (one hue: readable when printed in grey).
_BAND_COLOURS = ["#eef5ee", "#fbf4dc", "#fbe3c8", "#f8cfc0", "#f1b3b3"]
_SLOT_COLOURS = {"done": "#2e7d32", "booked": "#1565c0", "free": "#e0e0e0", "freed": "#9e9e9e"}
#: Score trend lines: the scores dark blue, baseline grey, response green, remission teal; never red.
_LINE_COLOURS = {"score": "#1a3d7c", "baseline": "#616161", "response": "#2e7d32", "remission": "#00796b"}
_SLOT_WORDS = {"done": "done", "booked": "booked", "free": "free"}


def plotly_text(value: object) -> str:
    """Text made inert for Plotly, which renders a subset of HTML in titles, names, labels and hover
    text (``<a href>``, ``<b>``, ``<span style>``, ``<br>``): ``&``, ``<`` and ``>`` become entities,
    which Plotly shows as the characters. A patient's name with a link in it stays text."""
    return html.escape(str(value), quote=False)


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 320) -> go.Figure:
    """Titles here never carry markup of their own: every one is escaped, whatever data it holds."""
    fig.update_layout(
        title=plotly_text(title),
        xaxis_title=plotly_text(x),
        yaxis_title=plotly_text(y),
        height=height,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def chairs_per_hour(loads: Sequence[HourLoad], chairs: int) -> go.Figure:
    hours = [f"{load.hour:02d}:00" for load in loads]
    used = [load.chairs_used for load in loads]
    fig = go.Figure(
        go.Bar(
            x=hours,
            y=used,
            name="Chairs in use",
            text=used,
            textposition="outside",
            hovertemplate="%{x}: %{y} of " + str(chairs) + " chairs<extra></extra>",
        )
    )
    fig.add_hline(
        y=chairs, line_dash="dot", annotation_text=f"{chairs} chairs", annotation_position="top left"
    )
    fig.update_yaxes(range=[0, max([chairs, *used]) + 1], dtick=1)
    return _layout(fig, "Chairs in use per hour", "Hour", "Chairs", height=260)


def course_slots(view: CourseView) -> go.Figure:
    """The ten places of a course as a row of labelled boxes: done, booked, free, with freed history."""
    fig = go.Figure()
    for state in ("done", "booked", "free"):
        xs, texts, hovers = [], [], []
        for slot in view.slots:
            if slot.state != state:
                continue
            xs.append(slot.number)
            inf = slot.infusion
            label = f"{slot.number}<br>{_SLOT_WORDS[state]}"
            hover = f"Infusion {slot.number}: {_SLOT_WORDS[state]}"
            if inf is not None:
                label += f"<br>{inf.scheduled_at:%d %b}"
                hover += f" — {inf.scheduled_at:%Y-%m-%d %H:%M}"
            for old in slot.freed:
                hover += f"<br>earlier {old.status.value.replace('_', '-')} on {old.scheduled_at:%Y-%m-%d}"
            texts.append(label)
            hovers.append(hover)
        if xs:
            fig.add_trace(
                go.Bar(
                    x=xs,
                    y=[1] * len(xs),
                    name=_SLOT_WORDS[state],
                    marker_color=_SLOT_COLOURS[state],
                    text=texts,
                    textposition="inside",
                    insidetextanchor="middle",
                    hovertext=hovers,
                    hoverinfo="text",
                )
            )
    freed = [s for s in view.slots for _ in s.freed]
    if freed:
        fig.add_trace(
            go.Scatter(
                x=[s.number for s in freed],
                y=[1.08] * len(freed),
                mode="markers",
                marker={"symbol": "x", "size": 10, "color": _SLOT_COLOURS["freed"]},
                name="cancelled / no-show (number freed)",
                hovertext=[
                    f"Infusion {s.number}: "
                    + ", ".join(
                        f"{o.status.value.replace('_', '-')} {o.scheduled_at:%Y-%m-%d}" for o in s.freed
                    )
                    for s in freed
                ],
                hoverinfo="text",
            )
        )
    fig.update_xaxes(tickmode="array", tickvals=list(range(1, MAX_INFUSIONS_PER_COURSE + 1)))
    fig.update_yaxes(visible=False, range=[0, 1.2])
    fig.update_layout(bargap=0.08, showlegend=True)
    title = (
        f"Course {view.course.number}: {view.live} / {MAX_INFUSIONS_PER_COURSE} infusions "
        f"(trial outcome: {view.course.trial_outcome.value.replace('_', ' ')})"
    )
    return _layout(fig, title, "Infusion number", "", height=220)


def score_trend(
    trend: InstrumentTrend, infusions: Sequence[tuple[datetime, int, int]], *, title: str | None = None
) -> go.Figure:
    """One instrument over time: bands shaded, baseline, response and remission lines, infusion markers.

    Scattergl keeps long series fast (WebGL).
    """
    fig = go.Figure()
    lo, hi = trend.range
    dates = [d for d, _ in trend.points]
    first = min([*dates, *(i[0].date() for i in infusions)]) - timedelta(days=3)
    last = max([*dates, *(i[0].date() for i in infusions)]) + timedelta(days=3)
    for n, band in enumerate(trend.bands):
        fig.add_hrect(
            y0=band.low - 0.5 if band.low > lo else lo,
            y1=band.high + 0.5 if band.high < hi else hi,
            fillcolor=_BAND_COLOURS[min(n, len(_BAND_COLOURS) - 1)],
            opacity=0.7,
            line_width=0,
            layer="below",
            annotation_text=plotly_text(band.name),
            annotation_position="right",
            annotation_font_size=10,
        )
    fig.add_trace(
        go.Scattergl(
            x=dates,
            y=[s for _, s in trend.points],
            mode="lines+markers",
            name=trend.instrument,
            line={"color": _LINE_COLOURS["score"]},
            marker={"color": _LINE_COLOURS["score"]},
            hovertemplate="%{x|%Y-%m-%d}: " + trend.instrument + " %{y}<extra></extra>",
        )
    )
    # Each line its own colour and dash, fixed: a response is good news and is never drawn red (the
    # plot's default second colour), and the dash tells the lines apart in grey print.
    lines: list[tuple[float | None, str, str, str]] = [
        (
            None if trend.baseline is None else float(trend.baseline),
            "Baseline",
            "solid",
            _LINE_COLOURS["baseline"],
        ),
        (trend.response_line, "Response at or below", "dash", _LINE_COLOURS["response"]),
        (trend.remission_line, "Remission at or below", "dot", _LINE_COLOURS["remission"]),
    ]
    for y, name, dash, colour in lines:
        if y is None:
            continue
        fig.add_trace(
            go.Scattergl(
                x=[first, last],
                y=[y, y],
                mode="lines",
                line={"dash": dash, "width": 1.5, "color": colour},
                name=f"{name} {y:g}",
                hovertemplate=f"{name} {y:g}<extra></extra>",
            )
        )
    if infusions:
        fig.add_trace(
            go.Scattergl(
                x=[i[0] for i in infusions],
                y=[hi] * len(infusions),
                mode="markers",
                marker={"symbol": "triangle-down", "size": 10},
                name="Infusion",
                hovertext=[f"Course {c}, infusion {n}: {at:%Y-%m-%d %H:%M}" for at, c, n in infusions],
                hoverinfo="text",
            )
        )
    fig.update_yaxes(range=[lo - 0.5, hi + 0.5])
    fig.update_xaxes(range=[first, last])
    last_day, last_score = trend.points[-1]
    heading = f"{title or trend.instrument + ' over time'} — latest {last_score} on {last_day:%Y-%m-%d}"
    return _layout(fig, heading, "Date", f"{trend.instrument} score", height=360)


def course_progress(rows: Sequence[CourseRow]) -> go.Figure:
    """How far open courses have got: number of courses by live infusions (0–10)."""
    counts = [0] * (MAX_INFUSIONS_PER_COURSE + 1)
    completed = [0] * (MAX_INFUSIONS_PER_COURSE + 1)
    for r in rows:
        counts[min(r.live, MAX_INFUSIONS_PER_COURSE)] += 1
        completed[min(r.completed, MAX_INFUSIONS_PER_COURSE)] += 1
    xs = list(range(MAX_INFUSIONS_PER_COURSE + 1))
    fig = go.Figure(
        [
            go.Bar(
                x=xs, y=counts, name="Booked or done", hovertemplate="%{y} courses with %{x} booked or done"
            ),
            go.Bar(
                x=xs, y=completed, name="Done", hovertemplate="%{y} courses with %{x} done<extra></extra>"
            ),
        ]
    )
    fig.update_xaxes(dtick=1)
    return _layout(fig, "Open courses by number of infusions", "Infusions in the course", "Courses")


def rate_words(rate: float | None, n: int) -> str:
    """A rate with the number of patients it is of: ``100 % of 4``; "—" where it is not defined."""
    return "—" if rate is None or n == 0 else f"{rate:.0f} % of {n}"


def rates(stats: OutcomeStats, by: str) -> go.Figure:
    rows = stats.by_indication if by == "indication" else stats.by_infusions
    groups = [plotly_text(r.group) for r in rows]
    fig = go.Figure(
        [
            go.Bar(
                x=groups,
                y=[r.response_rate for r in rows],
                name="Responders %",
                text=[rate_words(r.response_rate, r.patients) for r in rows],
                textposition="outside",
                customdata=[[r.responders, r.patients] for r in rows],
                hovertemplate="%{x}: %{y:.0f}% responders (%{customdata[0]} of %{customdata[1]})"
                "<extra></extra>",
            ),
            go.Bar(
                x=groups,
                y=[r.remission_rate or 0 for r in rows],
                name="Remission %",
                text=[rate_words(r.remission_rate, r.remission_defined) for r in rows],
                textposition="outside",
                customdata=[[r.remitters, r.remission_defined] for r in rows],
                hovertemplate="%{x}: %{y:.0f}% in remission (%{customdata[0]} of %{customdata[1]})"
                "<extra></extra>",
            ),
        ]
    )
    fig.update_yaxes(range=[0, 115])
    x_title = "Indication" if by == "indication" else "Infusions completed in the current course"
    return _layout(fig, f"Response and remission by {by.replace('_', ' ')}", x_title, "% of patients")


def change_distribution(stats: OutcomeStats) -> go.Figure:
    fig = go.Figure()
    groups: dict[str, list[Any]] = {}
    for row in stats.changes:
        groups.setdefault(f"{row['indication']} ({row['instrument']})", []).append(row["change_pct"])
    for name, values in sorted(groups.items()):
        fig.add_trace(
            go.Box(y=values, name=plotly_text(name), boxpoints="all", jitter=0.4, hovertemplate="%{y:.0f}%")
        )
    fig.add_hline(y=0, line_dash="dot")
    return _layout(
        fig, "Change from baseline by indication", "Indication (instrument)", "Change %", height=380
    )


def slot_legend() -> str:
    return "done = given · booked = scheduled · free = number still open · x = cancelled or no-show (freed)"


def slot_status(status: InfusionStatus) -> str:
    return status.value.replace("_", "-")
