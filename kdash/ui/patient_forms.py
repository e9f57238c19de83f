"""The patient page's nursing forms: record today's infusion, record a score, book, cancel.

"Record an infusion" opens on today's infusion (:func:`kdash.ui.patient_context.todays_infusion`).
Each form writes through one service function (:mod:`kdash.services.clinical`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import streamlit as st

from kdash import ui
from kdash.domain.access import Action
from kdash.domain.vocab import INSTRUMENT_RANGES, InfusionStatus, Instrument, values
from kdash.services import clinical
from kdash.ui.patient_context import PatientPage, infusion_label, todays_infusion
from kdash.ui.patient_edit import none_if_empty, submit
from kdash.ui.presentation import course_progress


def form_assessment(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.RECORD_ASSESSMENT):
        with st.form("form_assessment", clear_on_submit=False):
            st.markdown("**Record a score**")
            instrument = st.selectbox(
                "Instrument",
                values(Instrument),
                key="f_assess_instrument",
                format_func=lambda v: (
                    f"{v} ({INSTRUMENT_RANGES[Instrument(v)][0]}–{INSTRUMENT_RANGES[Instrument(v)][1]})"
                ),
            )
            score = st.number_input("Total score", step=1, value=None, key="f_assess_score")
            item9 = st.number_input(
                "PHQ-9 item 9 (0–3; PHQ-9 only)", step=1, value=None, key="f_assess_item9"
            )
            taken = st.date_input("Date taken", value=ctx.today, key="f_assess_date", format="YYYY-MM-DD")
            reason = st.text_input(
                "Reason (only when changing a score already recorded that day)", key="f_assess_reason"
            )
            if st.form_submit_button("Save score", type="primary"):
                submit(
                    ctx.actor,
                    clinical.record_assessment,
                    ctx.patient.id,
                    instrument,
                    None if score is None else int(score),
                    taken,
                    item9=None if item9 is None else int(item9),
                    reason=none_if_empty(reason),
                    done=f"{instrument} score saved.",
                )


def form_book(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.BOOK_INFUSION):
        with st.form("form_book", clear_on_submit=False):
            st.markdown("**Book the next infusion**")
            if not ctx.open_courses:
                st.caption("No open course: a provider starts one first.")
            course_pick = st.selectbox(
                "Course",
                [v.course.id for v in ctx.open_courses],
                format_func=lambda cid: next(
                    f"Course {v.course.number} ({course_progress(v.course)})"
                    for v in ctx.open_courses
                    if v.course.id == cid
                ),
                key="f_book_course",
            )
            day = st.date_input(
                "Day", value=ctx.today + timedelta(days=1), key="f_book_day", format="YYYY-MM-DD"
            )
            start = st.time_input("Start", value=time(9, 0), step=timedelta(minutes=30), key="f_book_time")
            escort_ok = st.checkbox("Escort home confirmed", key="f_book_escort")
            if st.form_submit_button("Book infusion", type="primary"):
                if course_pick is None:
                    st.error(
                        "Not saved: there is no open course to book on. A provider starts a new course first."
                    )
                else:
                    submit(
                        ctx.actor,
                        clinical.book_infusion,
                        course_pick,
                        datetime.combine(day, start),
                        escort_confirmed=escort_ok,
                        done=f"Infusion booked on {day:%Y-%m-%d} at {start:%H:%M}.",
                    )


def form_record_infusion(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.RECORD_INFUSION):
        st.markdown("**Record an infusion**")
        if not ctx.recordable:
            st.caption("No infusion to record: only infusions booked for today or earlier can be recorded.")
        else:
            pair = st.selectbox(
                "Infusion",
                ctx.recordable,
                index=todays_infusion(ctx.recordable, ctx.today),
                format_func=infusion_label,
                key="f_rec_pick",
            )
            inf = pair[1]
            k = f"f_rec_{inf.id}_"
            d = ctx.detail
            if inf.status is InfusionStatus.SCHEDULED and d.flags_for == ctx.today and d.ready is False:
                why = d.ready_reasons
                blocking = [r.removeprefix("Not ready: ") for r in why if r.startswith("Not ready")]
                st.warning(
                    "Not ready to infuse today: "
                    + "; ".join(ui.md_escape(r) for r in blocking)
                    + ". Resolve this before dosing.",
                    icon=":material/warning:",
                )
            with st.form(f"form_record_{inf.id}", clear_on_submit=False):
                c1, c2, c3 = st.columns(3)
                dose = c1.number_input("Dose (mg/kg)", value=inf.dose_mg_per_kg, step=0.05, key=k + "dose")
                premed = c2.checkbox("Premedication given", value=bool(inf.premed_given), key=k + "premed")
                escort_ok = c3.checkbox(
                    "Escort confirmed", value=bool(inf.escort_confirmed), key=k + "escort"
                )
                bp: dict[str, Any] = {}
                for label, sys_f, dia_f, col in (
                    ("before dosing", "bp_pre_sys", "bp_pre_dia", c1),
                    ("at ~40 min", "bp_peak_sys", "bp_peak_dia", c2),
                    ("before discharge", "bp_discharge_sys", "bp_discharge_dia", c3),
                ):
                    bp[sys_f] = col.number_input(
                        f"Systolic {label}", value=getattr(inf, sys_f), step=1, key=k + sys_f
                    )
                    bp[dia_f] = col.number_input(
                        f"Diastolic {label}", value=getattr(inf, dia_f), step=1, key=k + dia_f
                    )
                hr = c1.number_input("Heart rate", value=inf.heart_rate, step=1, key=k + "hr")
                spo2 = c2.number_input("SpO2 %", value=inf.spo2, step=1, key=k + "spo2")
                aes = st.text_area(
                    "Adverse events (none: leave empty)", value=inf.adverse_events or "", key=k + "aes"
                )
                discharged = st.checkbox(
                    "Discharged (completes the infusion)",
                    value=inf.discharged_at is not None,
                    key=k + "discharged",
                )
                default_time = (inf.discharged_at or datetime.now()).time().replace(second=0, microsecond=0)
                out_time = st.time_input("Discharge time", value=default_time, key=k + "out")
                reason = st.text_input("Reason (only when changing a recorded infusion)", key=k + "reason")
                if st.form_submit_button("Save infusion record", type="primary"):
                    submit(
                        ctx.actor,
                        clinical.record_infusion,
                        inf.id,
                        dose_mg_per_kg=none_if_empty(dose),
                        premed_given=premed,
                        escort_confirmed=escort_ok,
                        heart_rate=None if hr is None else int(hr),
                        spo2=None if spo2 is None else int(spo2),
                        adverse_events=none_if_empty(aes),
                        discharged_at=datetime.combine(inf.scheduled_at.date(), out_time)
                        if discharged
                        else None,
                        reason=none_if_empty(reason),
                        done=f"Infusion {inf.number} recorded.",
                        **{f: None if v is None else int(v) for f, v in bp.items()},
                    )


def form_cancel(ctx: PatientPage) -> None:
    if ctx.actor.can(Action.CANCEL_INFUSION) and ctx.scheduled:
        with st.form("form_cancel", clear_on_submit=False):
            st.markdown("**Cancel a booking or record a no-show**")
            pair = st.selectbox("Booking", ctx.scheduled, format_func=infusion_label, key="f_cancel_pick")
            kind = st.radio("What happened", ["Cancelled", "No-show"], horizontal=True, key="f_cancel_kind")
            reason = st.text_input("Reason", key="f_cancel_reason")
            if st.form_submit_button("Save"):
                submit(
                    ctx.actor,
                    clinical.cancel_infusion,
                    pair[1].id,
                    reason,
                    no_show=kind == "No-show",
                    done=f"Infusion {pair[1].number} marked {kind.lower()}; its number is free again.",
                )
