"""The what-if planner's clinic view: chair use per day and hour, with or without a scenario's load."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import streamlit as st

from kdash import ui
from kdash.domain.access import Actor
from kdash.domain.vocab import Severity
from kdash.planner.plan import PlannedSlot
from kdash.services.planning_view import clinic_load, heatmap_grid, over_capacity_lines, weeks_after
from kdash.ui.planner_views import load_heatmap

#: Session-state key: the scenario whose load to show next (the newest one added to the comparison).
LOAD_PICK = "planner_load_pick"


def clinic_whatif(who: Actor, scenarios: Sequence[tuple[str, Sequence[PlannedSlot]]]) -> None:
    """Chair use per day and hour from a day for some weeks: existing bookings, plus one compared
    scenario's infusions (``scenarios``: each one's name and slots), and the days over the warning."""
    st.subheader("Clinic what-if: chair use")
    settings = ui.settings()
    c1, c2, c3 = st.columns(3)
    start = c1.date_input("From", value=date.today(), key="pl_load_from", format="YYYY-MM-DD")
    weeks = int(c2.number_input("Weeks", min_value=1, max_value=12, value=4, step=1, key="pl_load_weeks"))
    options = ["existing bookings only", *(name for name, _slots in scenarios)]
    pick = st.session_state.pop(LOAD_PICK, None)
    if pick in options:
        st.session_state["pl_load_scenario"] = pick
    picked = c3.selectbox("Add the load of", options, index=len(options) - 1, key="pl_load_scenario")
    extra = next((slots for name, slots in scenarios if name == picked), ())
    use = clinic_load(ui.get_db(), who, start, weeks_after(start, weeks), extra)
    if not use.days:
        st.info("The clinic is closed throughout this period.")
        return
    days, hours, z = heatmap_grid(use)
    st.plotly_chart(load_heatmap(days, hours, z), key="pl_heatmap")
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
