"""One patient: identity, screening, courses (ten slots each), scores, infusion history, and the forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import streamlit as st

from kdash import ui
from kdash.domain.access import Action

actor = ui.guard(Action.VIEW_CLINICAL)

import pandas as pd  # noqa: E402

from kdash.domain.access import Actor, Forbidden  # noqa: E402
from kdash.domain.errors import NotFound, Refused, ValidationError  # noqa: E402
from kdash.domain.vocab import (  # noqa: E402
    INSTRUMENT_RANGES,
    MAX_INFUSIONS_PER_COURSE,
    SCREENING_ITEMS,
    CourseStatus,
    FlagCode,
    Indication,
    InfusionStatus,
    Instrument,
    ScreeningDecision,
    ScreeningResult,
    ScreeningStatus,
    Severity,
    Sex,
    SuicideReviewAction,
    TrialOutcome,
    values,
)
from kdash.services import clinical, patients, views  # noqa: E402
from kdash.ui import charts  # noqa: E402
from kdash.ui.presentation import flag_label, progress_text, when, words  # noqa: E402

_FLASH = "patient_flash"
_VIEWED = "patient_viewed"
STATUS_ICON = {
    ScreeningStatus.CLEARED: ":green[:material/verified: cleared]",
    ScreeningStatus.NEEDS_REVIEW: ":orange[:material/rate_review: needs review]",
    ScreeningStatus.INCOMPLETE: ":orange[:material/pending: incomplete]",
    ScreeningStatus.NOT_STARTED: ":red[:material/block: not started]",
    ScreeningStatus.NOT_ELIGIBLE: ":red[:material/block: not eligible]",
}


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def _detail(_url: str, patient_id: int, today: date, viewer: Actor) -> views.PatientDetail | None:
    return views.patient_detail(ui.get_db(), ui.settings(), patient_id, today, viewer)


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def _trend(_url: str, patient_id: int, viewer: Actor) -> views.PatientTrend | None:
    return views.patient_trend(ui.get_db(), ui.settings(), patient_id, viewer)


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def _search(_url: str, text: str) -> list[tuple[int, str]]:
    return views.search_patients(ui.get_db(), text)


def submit(action: Callable[..., Any], *args: Any, done: str, **kwargs: Any) -> Any:
    """Run a service; on success clear caches and rerun with ``done`` shown, else show why in words."""
    try:
        result = action(ui.get_db(), actor, *args, **kwargs)
    except ValidationError as exc:
        st.error(
            "Not saved. Please fix:\n" + "\n".join(f"- {ui.md_escape(p.message)}" for p in exc.problems),
            icon=":material/error:",
        )
        return None
    except (Refused, Forbidden, NotFound) as exc:
        st.error(f"Not saved: {ui.md_escape(exc)}", icon=":material/block:")
        return None
    ui.clear_caches()
    st.session_state[_FLASH] = done
    st.rerun()
    return result


def none_if_empty(value: Any) -> Any:
    return None if value in ("", None) else value


# --- choose the patient --------------------------------------------------------------------------------

db = ui.get_db()
today = date.today()
_ADDRESS = "patient_address_mrn"


def open_from_address() -> None:
    """Open the patient of ``/patient?mrn=<MRN>`` (once per address: a later search may move on)."""
    mrn = st.query_params.get("mrn")
    if not mrn or st.session_state.get(_ADDRESS) == mrn:
        return
    st.session_state[_ADDRESS] = mrn
    found = views.patient_id_by_mrn(db, mrn)
    if found is None:
        st.session_state.pop("patient_id", None)
        st.error(f"No patient has the MRN {ui.md_escape(mrn)}. Search for the patient below.")
    else:
        st.session_state["patient_id"] = found


open_from_address()

with st.expander("Find a patient", expanded=st.session_state.get("patient_id") is None):
    text = st.text_input("Name or MRN", key="patient_search", placeholder="e.g. Ashford or D0001")
    if text.strip():
        found = _search(db.url, text)
        if found:
            choice = st.selectbox(
                "Patients found", found, format_func=lambda o: o[1], key="patient_search_pick"
            )
            if st.button("Open this patient", key="patient_search_open", icon=":material/person:"):
                st.session_state["patient_id"] = choice[0]
                st.rerun()
        else:
            st.info("No patient matches. Check the spelling or search by MRN.")


def demographic_inputs(prefix: str, current: Any | None = None) -> dict[str, Any]:
    """The demographic and escort fields of a form, filled with ``current`` (a PatientRec) if given."""
    sexes, indications = values(Sex), values(Indication)
    c1, c2 = st.columns(2)
    got: dict[str, Any] = {
        "last_name": c1.text_input(
            "Last name", value=current.last_name if current else "", max_chars=120, key=prefix + "last"
        ),
        "first_name": c2.text_input(
            "First name", value=current.first_name if current else "", max_chars=120, key=prefix + "first"
        ),
        "date_of_birth": c1.date_input(
            "Date of birth",
            value=current.date_of_birth if current else None,
            min_value=date(1900, 1, 1),
            max_value=today,
            format="YYYY-MM-DD",
            key=prefix + "dob",
        ),
        "sex": c2.selectbox(
            "Sex",
            sexes,
            index=sexes.index(current.sex.value) if current else None,
            format_func=words,
            key=prefix + "sex",
        ),
        "indication": c1.selectbox(
            "Indication",
            indications,
            index=indications.index(current.indication.value) if current else None,
            format_func=lambda v: Indication(v).label,
            key=prefix + "indication",
        ),
        "provider": c2.text_input(
            "Provider", value=current.provider if current else "", max_chars=120, key=prefix + "provider"
        ),
        "escort_name": c1.text_input(
            "Escort name",
            value=(current.escort_name or "") if current else "",
            max_chars=120,
            key=prefix + "escort_name",
        ),
        "escort_phone": c2.text_input(
            "Escort phone",
            value=(current.escort_phone or "") if current else "",
            max_chars=40,
            key=prefix + "escort_phone",
        ),
    }
    return got


def add_patient_form() -> None:
    """A new patient: every field checked by the service; on success the new patient opens."""
    with st.form("form_add_patient", clear_on_submit=False):
        st.markdown("**Add a patient**")
        mrn = st.text_input("MRN", max_chars=64, key="f_add_mrn", placeholder="letters and digits")
        entered = demographic_inputs("f_add_")
        if st.form_submit_button("Add patient", type="primary"):
            try:
                new_id = patients.add_patient(db, actor, {"mrn": mrn, **entered})
            except ValidationError as exc:
                st.error(
                    "Not added. Please fix:\n"
                    + "\n".join(f"- {ui.md_escape(p.message)}" for p in exc.problems),
                    icon=":material/error:",
                )
                return
            except (Refused, Forbidden) as exc:
                st.error(f"Not added: {ui.md_escape(exc)}", icon=":material/block:")
                return
            ui.clear_caches()
            st.session_state["patient_id"] = new_id
            st.session_state[_FLASH] = "Patient added: record the screening next."
            st.rerun()


if actor.can(Action.EDIT_PATIENT):
    with st.expander("Add a patient", expanded=False):
        add_patient_form()

patient_id = st.session_state.get("patient_id")
if patient_id is None:
    st.title("Patient")
    st.info(
        "Search for a patient by name or MRN above, or open one from the morning huddle or the roster.",
        icon=":material/search:",
    )
    st.stop()

detail = _detail(db.url, int(patient_id), today, actor)
if detail is None:
    st.title("Patient")
    st.error("This patient does not exist or was deleted. Search for another one above.")
    st.stop()
assert detail is not None

if st.query_params.get("mrn") != detail.patient.mrn:
    # The address names the patient shown: a copied link, a refresh or Back opens the same one.
    st.query_params["mrn"] = detail.patient.mrn
st.session_state[_ADDRESS] = detail.patient.mrn

if st.session_state.get(_VIEWED) != detail.patient.id:
    clinical.record_patient_view(db, actor, detail.patient.id)
    st.session_state[_VIEWED] = detail.patient.id

p = detail.patient
st.title(ui.md_escape(p.name))
st.caption(
    f"MRN {ui.md_escape(p.mrn)} · born {p.date_of_birth:%Y-%m-%d} · {words(p.sex.value)} · "
    f"{ui.md_escape(p.indication.label)} · provider {ui.md_escape(p.provider)} · "
    f"status {words(p.status.value)}"
)
escort = (
    f"{ui.md_escape(p.escort_name)} ({ui.md_escape(p.escort_phone or 'no phone')})"
    if p.escort_name
    else ":orange[none recorded]"
)
st.markdown(f"**Escort home:** {escort}")
flash = st.session_state.pop(_FLASH, None)
if flash:
    st.success(flash, icon=":material/check_circle:")

current = detail.courses[-1] if detail.courses else None
m1, m2, m3, m4 = st.columns(4)
m1.metric("Screening", words(detail.screening.status.value))
if current is not None:
    done = sum(1 for s in current.slots if s.state == "done")
    booked = sum(1 for s in current.slots if s.state == "booked")
    m2.metric(f"Course {current.course.number}: done", progress_text(done))
    m3.metric("Booked", booked)
    m4.metric("Trial outcome", words(current.course.trial_outcome.value))
else:
    m2.metric("Course", "none yet")

if detail.flags_for is not None:
    ready = (
        ":green[:material/check_circle: **Ready**]"
        if detail.ready
        else ":red[:material/cancel: **Not ready**]"
    )
    st.markdown(f"**Next infusion {when(detail.flags_for)}:** {ready}")
    for flag in detail.flags:
        st.markdown(f"{ui.severity_badge(flag.severity, flag_label(flag.code))} {ui.md_escape(flag.message)}")

#: Open urgent flags a form on this page answers (a trial outcome to record, a suicide-risk review).
urgent_flags = [f for f in detail.flags if f.severity is Severity.URGENT]
_answers_urgent = any(
    f.code in (FlagCode.TRIAL_OUTCOME_MISSING, FlagCode.TRIAL_NO_BENEFIT, FlagCode.SUICIDE_RISK)
    for f in urgent_flags
)
tab_overview, tab_scores, tab_infusions, tab_record, tab_history = st.tabs(
    ["Screening & courses", "Scores", "Infusions", "Record", "Amendments"],
    # The next action first: an urgent flag a form answers opens the forms.
    default="Record" if _answers_urgent else None,
)

# --- screening and courses -----------------------------------------------------------------------------

with tab_overview:
    st.subheader("Screening")
    st.markdown(f"Status: {STATUS_ICON[detail.screening.status]}")
    for reason in (*detail.screening.reasons, *detail.rescreen_reasons):
        st.markdown(f"- {ui.md_escape(reason)}")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Item": row["meaning"],
                    "Class": row["class"],
                    "Answer": row["answer"] or "—",
                    "Recorded": row["recorded_on"],
                    "Note": row["note"] or "",
                }
                for row in detail.checklist
            ]
        ),
        hide_index=True,
        key="patient_checklist",
    )
    st.subheader("Courses")
    if not detail.courses:
        st.info("No course yet. Once the screening is cleared, a provider starts a course under Record.")
    for view in reversed(detail.courses):
        st.plotly_chart(charts.course_slots(view), key=f"patient_course_{view.course.id}")
        st.caption(charts.slot_legend())
        add = "can be booked" if view.can_add else "cannot be booked"
        st.markdown(
            f"Next infusion {add}: " + "; ".join(ui.md_escape(r) for r in view.add_reasons)
            if view.add_reasons
            else f"Next infusion {add}."
        )
        outcome = words(view.course.trial_outcome.value)
        by = (
            f" (recorded by {ui.md_escape(view.trial_outcome_by)} on {view.trial_outcome_on})"
            if view.trial_outcome_by
            else ""
        )
        st.markdown(
            f"Trial outcome: **{outcome}**{by} · "
            f"rule's suggestion: **{words(view.suggestion.outcome.value)}** — "
            + "; ".join(ui.md_escape(r) for r in view.suggestion.reasons)
        )

# --- scores ---------------------------------------------------------------------------------------------

with tab_scores:
    trend = _trend(db.url, p.id, actor)
    if trend is None or not trend.instruments:
        st.info("No scores yet. Record a baseline score under Record before the trial infusion.")
    else:
        for inst in trend.instruments:
            st.plotly_chart(
                charts.score_trend(inst, trend.infusions, title=f"{inst.instrument}: {p.name}"),
                key=f"patient_scores_{inst.instrument}",
            )
        rows = [
            {"Date": a.taken_on, "Instrument": a.instrument, "Score": a.score}
            | ({"Item 9": a.item9} if actor.can(Action.VIEW_SENSITIVE) else {})
            for a in sorted(
                detail.context.assessments, key=lambda a: (a.taken_on, a.instrument), reverse=True
            )
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="patient_scores_table")

# --- infusion history -----------------------------------------------------------------------------------

with tab_infusions:
    rows = []
    for view in detail.courses:
        for i in sorted(view.course.infusions, key=lambda i: i.scheduled_at):
            rows.append(
                {
                    "Course": view.course.number,
                    "No.": i.number,
                    "When": i.scheduled_at,
                    "Chair": i.chair,
                    "Status": charts.slot_status(i.status),
                    "Dose mg/kg": i.dose_mg_per_kg,
                    "BP before": f"{i.bp_pre_sys}/{i.bp_pre_dia}" if i.bp_pre_sys else "",
                    "BP ~40 min": f"{i.bp_peak_sys}/{i.bp_peak_dia}" if i.bp_peak_sys else "",
                    "BP discharge": f"{i.bp_discharge_sys}/{i.bp_discharge_dia}"
                    if i.bp_discharge_sys
                    else "",
                    "HR": i.heart_rate,
                    "SpO2": i.spo2,
                    "Escort": "yes" if i.escort_confirmed else "no",
                }
                | ({"Adverse events": i.adverse_events or ""} if actor.can(Action.VIEW_SENSITIVE) else {})
            )
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="patient_infusions")
    else:
        st.info("No infusions yet. Book the trial infusion under Record.")

# --- forms ----------------------------------------------------------------------------------------------

open_courses = [v for v in detail.courses if v.course.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE)]
all_infusions = [(v.course, i) for v in detail.courses for i in v.course.infusions]
scheduled = [(c, i) for c, i in all_infusions if i.status is InfusionStatus.SCHEDULED]
recordable = [
    (c, i)
    for c, i in all_infusions
    if i.status in (InfusionStatus.SCHEDULED, InfusionStatus.COMPLETED) and i.scheduled_at.date() <= today
]


def todays_infusion(pairs: list[tuple[Any, Any]]) -> int:
    """Which infusion "Record an infusion" opens on: today's (a scheduled one before a completed one),
    else the most recent — never the finished trial while today's infusion waits."""
    ranked = sorted(
        range(len(pairs)),
        key=lambda n: (
            pairs[n][1].scheduled_at.date() == today,
            pairs[n][1].status is InfusionStatus.SCHEDULED,
            pairs[n][1].scheduled_at,
        ),
    )
    return ranked[-1] if ranked else 0


def infusion_label(pair: tuple[Any, Any]) -> str:
    c, i = pair
    return (
        f"Course {c.number} · infusion {i.number} · {i.scheduled_at:%Y-%m-%d %H:%M} · "
        f"{charts.slot_status(i.status)}"
    )


def _roles_note() -> None:
    if not any(
        actor.can(a)
        for a in (
            Action.RECORD_ASSESSMENT,
            Action.RECORD_SCREENING_ITEM,
            Action.BOOK_INFUSION,
            Action.RECORD_INFUSION,
            Action.CANCEL_INFUSION,
        )
    ):
        st.info("Your role can view this record but not change it.")


def form_assessment() -> None:
    if actor.can(Action.RECORD_ASSESSMENT):
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
            taken = st.date_input("Date taken", value=today, key="f_assess_date", format="YYYY-MM-DD")
            reason = st.text_input(
                "Reason (only when changing a score already recorded that day)", key="f_assess_reason"
            )
            if st.form_submit_button("Save score", type="primary"):
                submit(
                    clinical.record_assessment,
                    p.id,
                    instrument,
                    None if score is None else int(score),
                    taken,
                    item9=None if item9 is None else int(item9),
                    reason=none_if_empty(reason),
                    done=f"{instrument} score saved.",
                )


def form_book() -> None:
    if actor.can(Action.BOOK_INFUSION):
        with st.form("form_book", clear_on_submit=False):
            st.markdown("**Book the next infusion**")
            if not open_courses:
                st.caption("No open course: a provider starts one first.")
            course_pick = st.selectbox(
                "Course",
                [v.course.id for v in open_courses],
                format_func=lambda cid: next(
                    f"Course {v.course.number} ({progress_text(v.live)} booked or done)"
                    for v in open_courses
                    if v.course.id == cid
                ),
                key="f_book_course",
            )
            day = st.date_input("Day", value=today + timedelta(days=1), key="f_book_day", format="YYYY-MM-DD")
            start = st.time_input("Start", value=time(9, 0), step=timedelta(minutes=30), key="f_book_time")
            escort_ok = st.checkbox("Escort home confirmed", key="f_book_escort")
            if st.form_submit_button("Book infusion", type="primary"):
                if course_pick is None:
                    st.error(
                        "Not saved: there is no open course to book on. A provider starts a new course first."
                    )
                else:
                    submit(
                        clinical.book_infusion,
                        course_pick,
                        datetime.combine(day, start),
                        escort_confirmed=escort_ok,
                        done=f"Infusion booked on {day:%Y-%m-%d} at {start:%H:%M}.",
                    )


def form_record_infusion() -> None:
    if actor.can(Action.RECORD_INFUSION):
        st.markdown("**Record an infusion**")
        if not recordable:
            st.caption("No infusion to record: only infusions booked for today or earlier can be recorded.")
        else:
            pair = st.selectbox(
                "Infusion",
                recordable,
                index=todays_infusion(recordable),
                format_func=infusion_label,
                key="f_rec_pick",
            )
            inf = pair[1]
            k = f"f_rec_{inf.id}_"
            if inf.status is InfusionStatus.SCHEDULED and detail.flags_for == today and detail.ready is False:
                blocking = [
                    r.removeprefix("Not ready: ") for r in detail.ready_reasons if r.startswith("Not ready")
                ]
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


def form_cancel() -> None:
    if actor.can(Action.CANCEL_INFUSION) and scheduled:
        with st.form("form_cancel", clear_on_submit=False):
            st.markdown("**Cancel a booking or record a no-show**")
            pair = st.selectbox("Booking", scheduled, format_func=infusion_label, key="f_cancel_pick")
            kind = st.radio("What happened", ["Cancelled", "No-show"], horizontal=True, key="f_cancel_kind")
            reason = st.text_input("Reason", key="f_cancel_reason")
            if st.form_submit_button("Save"):
                submit(
                    clinical.cancel_infusion,
                    pair[1].id,
                    reason,
                    no_show=kind == "No-show",
                    done=f"Infusion {pair[1].number} marked {kind.lower()}; its number is free again.",
                )


def form_screening_item() -> None:
    if actor.can(Action.RECORD_SCREENING_ITEM):
        with st.form("form_screening_item", clear_on_submit=False):
            st.markdown("**Record a screening item**")
            item = st.selectbox(
                "Item", list(SCREENING_ITEMS), format_func=lambda c: SCREENING_ITEMS[c][0], key="f_item_item"
            )
            result = st.radio("Answer", values(ScreeningResult), horizontal=True, key="f_item_result")
            on = st.date_input("Date", value=today, key="f_item_date", format="YYYY-MM-DD")
            note = st.text_input("Note", key="f_item_note")
            reason = st.text_input(
                "Reason (only when changing an answer given the same day)", key="f_item_reason"
            )
            if st.form_submit_button("Save screening item"):
                submit(
                    clinical.record_screening_item,
                    p.id,
                    item,
                    result,
                    on,
                    note=none_if_empty(note),
                    reason=none_if_empty(reason),
                    done=f"Screening item saved: {SCREENING_ITEMS[item][0]} = {result}.",
                )


def form_decision() -> None:
    if actor.can(Action.DECIDE_SCREENING):
        with st.form("form_decision", clear_on_submit=False):
            st.markdown("**Screening decision (provider)**")
            decision = st.radio(
                "Decision",
                values(ScreeningDecision),
                horizontal=True,
                key="f_dec_decision",
                format_func=words,
            )
            on = st.date_input("Date", value=today, key="f_dec_date", format="YYYY-MM-DD")
            note = st.text_input("Note (required for not eligible)", key="f_dec_note")
            reason = st.text_input(
                "Reason (only when changing a decision of the same day)", key="f_dec_reason"
            )
            if st.form_submit_button("Save decision"):
                submit(
                    clinical.record_screening_decision,
                    p.id,
                    decision,
                    on,
                    note=none_if_empty(note),
                    reason=none_if_empty(reason),
                    done=f"Screening decision saved: {words(decision)}.",
                )


def form_trial_outcome() -> None:
    if actor.can(Action.RECORD_TRIAL_OUTCOME) and detail.courses:
        view = detail.courses[-1]
        with st.form("form_trial", clear_on_submit=False):
            st.markdown(f"**Trial outcome, course {view.course.number} (provider)**")
            left, right = st.columns(2)
            outcome = left.radio(
                "Outcome",
                values(TrialOutcome),
                index=values(TrialOutcome).index(view.course.trial_outcome.value),
                horizontal=True,
                key=f"f_trial_outcome_{view.course.id}",
                format_func=words,
            )
            right.markdown(
                f"Rule's suggestion: **{words(view.suggestion.outcome.value)}**  \n"
                + "  \n".join(ui.md_escape(r) for r in view.suggestion.reasons)
            )
            reason = left.text_input("Reason (only when changing a recorded outcome)", key="f_trial_reason")
            if st.form_submit_button("Save trial outcome"):
                submit(
                    clinical.record_trial_outcome,
                    view.course.id,
                    outcome,
                    reason=none_if_empty(reason),
                    done=f"Trial outcome saved: {words(outcome)}.",
                )


def form_suicide_review() -> None:
    if actor.can(Action.REVIEW_SUICIDE_RISK):
        with st.form("form_suicide_review", clear_on_submit=False):
            st.markdown("**Suicide-risk review (positive PHQ-9 item 9 or high-risk C-SSRS)**")
            what = st.selectbox(
                "What was done", values(SuicideReviewAction), format_func=words, key="f_sr_action"
            )
            on = st.date_input("Date", value=today, key="f_sr_date", format="YYYY-MM-DD")
            note = st.text_area("Note", key="f_sr_note")
            if st.form_submit_button("Save review"):
                submit(
                    clinical.record_suicide_review,
                    p.id,
                    what,
                    on,
                    note=note,
                    done="Suicide-risk review saved.",
                )


def form_delete_score() -> None:
    if actor.can(Action.DELETE_RECORD) and detail.context.assessments:
        with st.form("form_delete_score", clear_on_submit=False):
            st.markdown("**Delete a score entered in error** (kept in the record with your reason)")
            scores = sorted(
                detail.context.assessments, key=lambda a: (a.taken_on, a.instrument), reverse=True
            )
            gone = st.selectbox(
                "Score",
                scores,
                format_func=lambda a: f"{a.taken_on:%Y-%m-%d} · {a.instrument} {a.score}",
                key="f_del_pick",
            )
            reason = st.text_input("Reason", key="f_del_reason")
            if st.form_submit_button("Delete score"):
                submit(
                    clinical.delete_assessment,
                    gone.id,
                    reason,
                    done=f"{gone.instrument} score of {gone.taken_on:%Y-%m-%d} deleted.",
                )


def form_new_course() -> None:
    if actor.can(Action.START_COURSE):
        with st.form("form_new_course", clear_on_submit=False):
            st.markdown("**Start a new course (needs a current screening)**")
            st.caption(
                f"A course holds the trial plus up to {MAX_INFUSIONS_PER_COURSE - 1} further infusions."
            )
            if st.form_submit_button("Start new course"):
                submit(clinical.start_course, p.id, done="New course started: book its trial infusion.")


def form_demographics() -> None:
    if not actor.can(Action.EDIT_PATIENT):
        return
    with st.form("form_demographics", clear_on_submit=False):
        st.markdown("**Demographics and escort home**")
        st.caption(
            "A value already on record is kept in Amendments with your reason; filling in an empty one "
            "(an escort not yet recorded) needs no reason. The MRN is the patient's address and stays."
        )
        entered = demographic_inputs("f_demo_", p)
        reason = st.text_input("Reason (only when changing a value already recorded)", key="f_demo_reason")
        if st.form_submit_button("Save demographics"):
            submit(
                patients.edit_patient,
                p.id,
                entered,
                reason=none_if_empty(reason),
                done="Demographics saved.",
            )


#: The forms that answer an open urgent flag: shown first, and the Record tab opens, while it is open.
URGENT_FORMS: dict[FlagCode, Callable[[], None]] = {
    FlagCode.TRIAL_OUTCOME_MISSING: form_trial_outcome,
    FlagCode.TRIAL_NO_BENEFIT: form_trial_outcome,
    FlagCode.SUICIDE_RISK: form_suicide_review,
}
ROUTINE_FORMS: tuple[Callable[[], None], ...] = (
    form_record_infusion,
    form_assessment,
    form_book,
    form_cancel,
    form_screening_item,
    form_decision,
    form_trial_outcome,
    form_suicide_review,
    form_delete_score,
    form_new_course,
    form_demographics,
)

with tab_record:
    _roles_note()
    first = list(dict.fromkeys(URGENT_FORMS[f.code] for f in urgent_flags if f.code in URGENT_FORMS))
    if first:
        st.markdown(
            ui.severity_badge(Severity.URGENT) + " The forms that answer the open urgent flag come first."
        )
    for form in (*first, *(f for f in ROUTINE_FORMS if f not in first)):
        form()


# --- amendments -----------------------------------------------------------------------------------------

with tab_history:
    if not detail.amendments:
        st.info("No value of this record has been amended.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": a.changed_at,
                        "Who": a.changed_by,
                        "Record": f"{a.entity} {a.entity_id}",
                        "Field": a.field,
                        "Old": a.old_value,
                        "New": a.new_value,
                        "Reason": a.reason,
                    }
                    for a in detail.amendments
                ]
            ),
            hide_index=True,
            key="patient_amendments",
        )
