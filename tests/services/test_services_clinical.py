"""The clinical write services: saved with an audit event, refused in words with nothing written."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kdash.domain.access import Actor, Forbidden
from kdash.domain.errors import Refused, ValidationError
from kdash.domain.vocab import INSTRUMENT_RANGES, SCREENING_ITEMS, InfusionStatus, Instrument, ItemClass, Role
from kdash.services import clinical
from kdash.storage.database import Database
from kdash.storage.models import (
    Amendment,
    Assessment,
    AuditEvent,
    Course,
    Infusion,
    Patient,
    ScreeningDecisionRow,
    ScreeningItem,
    SuicideReview,
)
from tests.seeded import CLINIC_NOW as NOW
from tests.seeded import CLINIC_TODAY as TODAY
from tests.seeded import Clinic, build_clinic

PROVIDER = Actor("provider", Role.PROVIDER, "Dr A. Demo")
NURSE = Actor("nurse", Role.NURSE, "Nurse B. Demo")
SCHEDULER = Actor("scheduler", Role.SCHEDULER)
VIEWER = Actor("viewer", Role.READ_ONLY)


@pytest.fixture
def clinic(db: Database) -> tuple[Database, Clinic]:
    return db, build_clinic(db)


def _count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _events(db: Database, action: str, outcome: str = "ok") -> list[AuditEvent]:
    with db.read() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.outcome == outcome)
                .order_by(AuditEvent.id)
            )
        )


def _snapshot(db: Database) -> dict[str, int]:
    models = (Assessment, Infusion, Course, ScreeningItem, ScreeningDecisionRow, SuicideReview, Amendment)
    return {m.__name__: _count(db, m) for m in models}


def _problems(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


# --- assessments ------------------------------------------------------------------------------------------


def test_assessment_saved_with_audit(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    aid = clinical.record_assessment(db, NURSE, c.ids["on_course"], "PHQ-9", 6, TODAY, item9=0, now=NOW)
    with db.read() as s:
        row = s.get(Assessment, aid)
        assert row is not None
        assert (row.score, row.item9, row.recorded_by) == (6, 0, "nurse")
    [ev] = _events(db, "record_assessment")
    assert ev.patient_id == c.ids["on_course"]
    assert '"score": 6' in (ev.after_json or "")


@pytest.mark.parametrize(
    ("instrument", "score", "item9", "field", "words"),
    [
        ("PHQ-9", 28, 0, "score", "PHQ-9 score 28 is outside its range 0–27"),
        ("NRS", 11, None, "score", "NRS score 11 is outside its range 0–10"),
        ("PHQ-9", 10, None, "item9", "item 9"),
        ("PHQ-9", 10, 4, "item9", "PHQ-9 item 9 score 4 is outside 0–3"),
        ("GAD-7", 10, 1, "item9", "PHQ-9 only"),
        ("BDI", 10, None, "instrument", "'BDI' is not an instrument"),
    ],
)
def test_assessment_invalid_refused_nothing_written(
    clinic: tuple[Database, Clinic], instrument: str, score: int, item9: int | None, field: str, words: str
) -> None:
    db, c = clinic
    before = _snapshot(db)
    with pytest.raises(ValidationError) as exc:
        clinical.record_assessment(
            db, NURSE, c.ids["on_course"], instrument, score, TODAY, item9=item9, now=NOW
        )
    assert words in _problems(exc)[field]
    assert _snapshot(db) == before


def test_assessment_lists_every_problem_at_once(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with pytest.raises(ValidationError) as exc:
        clinical.record_assessment(
            db, NURSE, c.ids["on_course"], "PHQ-9", 30, TODAY + timedelta(days=1), item9=5, now=NOW
        )
    assert set(_problems(exc)) == {"score", "item9", "taken_on"}
    assert "in the future" in _problems(exc)["taken_on"]


def test_assessment_amendment_keeps_old_value_and_needs_reason(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    pid = c.ids["on_course"]
    aid = clinical.record_assessment(db, NURSE, pid, "PHQ-9", 6, TODAY, item9=0, now=NOW)
    with pytest.raises(ValidationError) as exc:
        clinical.record_assessment(db, NURSE, pid, "PHQ-9", 9, TODAY, item9=0, now=NOW)
    assert "give a reason to amend" in _problems(exc)["reason"]
    same = clinical.record_assessment(db, PROVIDER, pid, "PHQ-9", 9, TODAY, item9=0, reason="typo", now=NOW)
    assert same == aid
    with db.read() as s:
        assert s.get(Assessment, aid).score == 9  # type: ignore[union-attr]
        [am] = s.scalars(select(Amendment).where(Amendment.entity == "assessment")).all()
    assert (am.field, am.old_value, am.new_value, am.changed_by, am.reason) == (
        "score",
        "6",
        "9",
        "provider",
        "typo",
    )
    [ev] = _events(db, "amend_assessment")
    assert ev.reason == "typo"
    assert '"score": 6' in (ev.before_json or "")


def test_soft_delete_keeps_row_with_reason(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    aid = clinical.record_assessment(db, NURSE, c.ids["on_course"], "GAD-7", 9, TODAY, now=NOW)
    with pytest.raises(ValidationError):
        clinical.delete_assessment(db, PROVIDER, aid, "  ", now=NOW)
    with pytest.raises(Forbidden):
        clinical.delete_assessment(db, NURSE, aid, "entered twice", now=NOW)
    clinical.delete_assessment(db, PROVIDER, aid, "entered for the wrong patient", now=NOW)
    with db.read() as s:
        row = s.get(Assessment, aid)
        assert row is not None
        assert row.deleted_reason == "entered for the wrong patient"


def test_read_only_and_scheduler_cannot_record_scores(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    before = _snapshot(db)
    for actor in (VIEWER, SCHEDULER):
        with pytest.raises(Forbidden, match="may not record assessment"):
            clinical.record_assessment(db, actor, c.ids["on_course"], "PHQ-9", 6, TODAY, item9=0, now=NOW)
    assert _snapshot(db) == before
    assert len(_events(db, "record_assessment", "refused")) == 2


# --- screening ------------------------------------------------------------------------------------------


def test_screening_item_saved_and_amended(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    pid = c.ids["not_screened"]
    iid = clinical.record_screening_item(db, NURSE, pid, "consent_signed", "no", TODAY, now=NOW)
    assert _events(db, "record_screening_item")[0].entity_id == iid
    with pytest.raises(ValidationError, match="give a reason"):
        clinical.record_screening_item(db, NURSE, pid, "consent_signed", "yes", TODAY, now=NOW)
    clinical.record_screening_item(
        db, NURSE, pid, "consent_signed", "yes", TODAY, reason="signed now", now=NOW
    )
    with db.read() as s:
        [am] = s.scalars(select(Amendment)).all()
    assert (am.old_value, am.new_value) == ("no", "yes")


def test_screening_item_invalid_refused(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    before = _snapshot(db)
    with pytest.raises(ValidationError) as exc:
        clinical.record_screening_item(db, NURSE, c.ids["not_screened"], "astrology", "maybe", None, now=NOW)  # type: ignore[arg-type]
    assert set(_problems(exc)) == {"item", "result", "recorded_on"}
    assert _snapshot(db) == before


def test_screening_decision_provider_only_and_not_while_incomplete(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with pytest.raises(Forbidden):
        clinical.record_screening_decision(db, NURSE, c.ids["needs_review"], "cleared", TODAY, now=NOW)
    with pytest.raises(Refused, match="Screening cannot be cleared: it is not started"):
        clinical.record_screening_decision(db, PROVIDER, c.ids["not_screened"], "cleared", TODAY, now=NOW)
    with pytest.raises(ValidationError, match="why the patient is not eligible"):
        clinical.record_screening_decision(
            db, PROVIDER, c.ids["not_screened"], "not_eligible", TODAY, now=NOW
        )
    did = clinical.record_screening_decision(
        db, PROVIDER, c.ids["needs_review"], "cleared", TODAY, note="arrhythmia reviewed", now=NOW
    )
    with db.read() as s:
        row = s.get(ScreeningDecisionRow, did)
        assert row is not None
        assert (row.decision, row.decided_by) == ("cleared", "provider")
    assert _events(db, "record_screening_decision")[-1].outcome == "ok"


def test_suicide_review_saved_needs_note(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    pid = c.ids["suicide_risk"]
    with pytest.raises(ValidationError, match="Note is required"):
        clinical.record_suicide_review(db, PROVIDER, pid, "safety_plan", TODAY, note="", now=NOW)
    with pytest.raises(Forbidden):
        clinical.record_suicide_review(db, NURSE, pid, "safety_plan", TODAY, note="x", now=NOW)
    clinical.record_suicide_review(db, PROVIDER, pid, "safety_plan", TODAY, note="plan agreed", now=NOW)
    assert _count(db, SuicideReview) == 1
    assert len(_events(db, "record_suicide_review")) == 1


# --- booking ----------------------------------------------------------------------------------------------


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(TODAY + timedelta(days=days), time(hour, minute))


def test_book_next_number_and_earliest_free_chair(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    # Friday 08:00: nothing else booked -> chair 1; infusion 5 (1-4 taken).
    b = clinical.book_infusion(db, NURSE, c.courses["on_course"], _at(2, 8), now=NOW)
    assert (b.number, b.chair) == (5, 1)
    [ev] = _events(db, "book_infusion")
    assert '"number": 5' in (ev.after_json or "")


def test_booking_takes_the_next_chair_when_one_overlaps(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    # Today chairs 1 and 3 are held 08:00-10:00 and chair 2 10:00-12:00: 09:00 overlaps all three.
    clinical.record_trial_outcome(db, PROVIDER, c.courses["trial_pending"], "benefit", now=NOW)
    b = clinical.book_infusion(db, NURSE, c.courses["trial_pending"], _at(0, 9), now=NOW)
    assert (b.number, b.chair) == (2, 4)


def test_eleventh_infusion_refused_in_words(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    before = _snapshot(db)
    with pytest.raises(Refused) as exc:
        clinical.book_infusion(db, NURSE, c.courses["full_course"], _at(7, 9), now=NOW)
    assert "Course 1 already holds 10 infusions, the maximum per course" in str(exc.value)
    assert "start a new course" in str(exc.value)
    assert _snapshot(db) == before


def test_cancelled_infusion_frees_its_number(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    clinical.cancel_infusion(db, NURSE, c.infusions["tenth"], "patient unwell", now=NOW)
    b = clinical.book_infusion(db, NURSE, c.courses["full_course"], _at(7, 9), now=NOW)
    assert b.number == 10
    with db.read() as s:
        statuses = sorted(
            s.scalars(
                select(Infusion.status).where(
                    Infusion.course_id == c.courses["full_course"], Infusion.number == 10
                )
            )
        )
    assert statuses == ["cancelled", "scheduled"]


def test_second_infusion_needs_trial_benefit(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with pytest.raises(Refused, match="trial outcome is pending"):
        clinical.book_infusion(db, NURSE, c.courses["trial_pending"], _at(2, 8), now=NOW)


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (_at(3, 8), "not open on Saturdays"),
        (_at(2, 7), "start between 08:00 and 16:00"),
        (_at(2, 17), "start between 08:00 and 16:00"),
        (_at(1, 8), "leave at least 2 days between infusions"),
    ],
)
def test_booking_outside_calendar_refused(
    clinic: tuple[Database, Clinic], when: datetime, words: str
) -> None:
    db, c = clinic
    before = _snapshot(db)
    with pytest.raises(Refused, match=words):
        clinical.book_infusion(db, NURSE, c.courses["on_course"], when, now=NOW)
    assert _snapshot(db) == before


def test_booking_in_the_past_and_by_viewer_refused(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with pytest.raises(ValidationError, match="in the past"):
        clinical.book_infusion(db, NURSE, c.courses["on_course"], _at(-1, 9), now=NOW)
    with pytest.raises(Forbidden):
        clinical.book_infusion(db, VIEWER, c.courses["on_course"], _at(2, 9), now=NOW)


def test_full_chairs_refused(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with db.write() as s:
        course = s.get(Course, c.courses["trial_pending"])
        assert course is not None
        for chair in range(1, 5):
            s.add(Infusion(course_id=c.courses["suicide_risk"] if chair == 1 else course.id, number=chair + 1,
                           scheduled_at=_at(9, 9), chair=chair, status="scheduled"))  # fmt: skip
    with pytest.raises(Refused, match="All 4 chairs are taken"):
        clinical.book_infusion(db, NURSE, c.courses["on_course"], _at(9, 10), now=NOW)


# --- recording an infusion ------------------------------------------------------------------------------


def _vitals(**over: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        dose_mg_per_kg=0.5, premed_given=True, bp_pre_sys=130, bp_pre_dia=85, bp_peak_sys=145, bp_peak_dia=90,
        bp_discharge_sys=128, bp_discharge_dia=82, heart_rate=70, spo2=97, escort_confirmed=True,
        adverse_events="mild dissociation, resolved", discharged_at=datetime.combine(TODAY, time(10, 0)),
    )  # fmt: skip
    base.update(over)
    return base


def test_record_infusion_completes_it(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    later = datetime.combine(TODAY, time(10, 30))
    clinical.record_infusion(db, NURSE, c.infusions["today"], **_vitals(), now=later)  # type: ignore[arg-type]
    with db.read() as s:
        row = s.get(Infusion, c.infusions["today"])
        assert row is not None
        assert (row.status, row.bp_pre_sys, row.adverse_events) == (
            "completed",
            130,
            "mild dissociation, resolved",
        )
    [ev] = _events(db, "record_infusion")
    assert '"status": "completed"' in (ev.after_json or "")


def test_record_infusion_invalid_vitals_listed(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    later = datetime.combine(TODAY, time(10, 30))
    before = _snapshot(db)
    with pytest.raises(ValidationError) as exc:
        clinical.record_infusion(
            db, NURSE, c.infusions["today"],
            **_vitals(  # type: ignore[arg-type]
                bp_pre_sys=1300, bp_peak_dia=None, spo2=130, dose_mg_per_kg=5.5, escort_confirmed=False
            ),
            now=later,
        )  # fmt: skip
    problems = _problems(exc)
    assert "Pre-dose systolic BP 1300 mmHg is outside the plausible 50–300 mmHg" in problems["bp_pre_sys"]
    assert "Enter both numbers of the 40-minute blood pressure" in problems["bp_peak_dia"]
    assert "SpO2 130 % is outside the plausible 50–100 %" in problems["spo2"]
    assert "Dose 5.5 mg/kg is outside the plausible 0.05–5 mg/kg" in problems["dose_mg_per_kg"]
    assert "Confirm the escort before discharge" in problems["escort_confirmed"]
    assert _snapshot(db) == before
    with db.read() as s:
        assert s.get(Infusion, c.infusions["today"]).status == "scheduled"  # type: ignore[union-attr]


def test_completed_infusion_amended_with_reason(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    iid = c.infusions["trial_done"]
    with db.read() as s:
        row = s.get(Infusion, iid)
        assert row is not None
        kept = {f: getattr(row, f) for f in clinical.INFUSION_RECORD_FIELDS}
    kept["bp_pre_sys"] = 150
    with pytest.raises(ValidationError, match="give a reason"):
        clinical.record_infusion(db, NURSE, iid, **kept, now=NOW)
    clinical.record_infusion(db, NURSE, iid, **kept, reason="transcription error", now=NOW)
    with db.read() as s:
        [am] = s.scalars(select(Amendment)).all()
    assert (am.field, am.old_value, am.new_value) == ("bp_pre_sys", "128", "150")


def test_future_infusion_cannot_be_recorded(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    b = clinical.book_infusion(db, NURSE, c.courses["on_course"], _at(2, 8), now=NOW)
    with pytest.raises(Refused, match="record it on the day"):
        clinical.record_infusion(db, NURSE, b.infusion_id, **_vitals(discharged_at=None), now=NOW)  # type: ignore[arg-type]


def test_cancel_and_no_show(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with pytest.raises(ValidationError, match="Reason is required"):
        clinical.cancel_infusion(db, NURSE, c.infusions["today"], "", now=NOW)
    with pytest.raises(Refused, match="a no-show can only be recorded after the booked time"):
        clinical.cancel_infusion(db, NURSE, c.infusions["trial_today"], "did not come", no_show=True, now=NOW)
    clinical.cancel_infusion(
        db, NURSE, c.infusions["today"], "did not come", no_show=True, now=datetime.combine(TODAY, time(9))
    )
    with db.read() as s:
        row = s.get(Infusion, c.infusions["today"])
        assert row is not None
        assert (row.status, row.cancel_reason) == (
            InfusionStatus.NO_SHOW.value,
            "did not come",
        )
    with pytest.raises(Refused, match="only a scheduled infusion"):
        clinical.cancel_infusion(db, NURSE, c.infusions["today"], "again", now=NOW)
    assert len(_events(db, "no_show_infusion")) == 1


# --- trial outcome and new course ---------------------------------------------------------------------


def test_trial_outcome_saved_with_suggestion(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with pytest.raises(Forbidden):
        clinical.record_trial_outcome(db, NURSE, c.courses["trial_pending"], "benefit", now=NOW)
    result = clinical.record_trial_outcome(db, PROVIDER, c.courses["trial_pending"], "benefit", now=NOW)
    assert result.suggestion.outcome.value == "benefit"
    assert any("PHQ-9 18 before the trial, 7 after" in r for r in result.suggestion.reasons)
    with db.read() as s:
        course = s.get(Course, c.courses["trial_pending"])
        assert course is not None
        assert (course.trial_outcome, course.trial_outcome_by, course.trial_outcome_on) == (
            "benefit",
            "provider",
            TODAY,
        )
    with pytest.raises(ValidationError, match="already benefit: give a reason"):
        clinical.record_trial_outcome(db, PROVIDER, c.courses["trial_pending"], "no_benefit", now=NOW)
    clinical.record_trial_outcome(
        db, PROVIDER, c.courses["trial_pending"], "no_benefit", reason="relapse", now=NOW
    )
    with db.read() as s:
        [am] = s.scalars(select(Amendment)).all()
        assert (am.old_value, am.new_value, am.reason) == ("benefit", "no_benefit", "relapse")


def test_trial_outcome_before_the_trial_refused(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with pytest.raises(Refused, match="has not been given yet"):
        clinical.record_trial_outcome(db, PROVIDER, c.courses["suicide_risk"], "benefit", now=NOW)
    with pytest.raises(ValidationError, match="is not one of benefit"):
        clinical.record_trial_outcome(db, PROVIDER, c.courses["suicide_risk"], "great", now=NOW)


def test_new_course_needs_current_screening_and_no_open_course(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    with pytest.raises(Refused, match="Course 1 is still active"):
        clinical.start_course(db, PROVIDER, c.ids["on_course"], now=NOW)
    with pytest.raises(Refused, match="A new course needs a current screening. Screening has not started"):
        clinical.start_course(db, PROVIDER, c.ids["not_screened"], now=NOW)
    with pytest.raises(Forbidden):
        clinical.start_course(db, NURSE, c.ids["on_course"], now=NOW)
    # Close course 1 of the full course, then: the screening predates its last infusion -> re-screen.
    with db.write() as s:
        course = s.get(Course, c.courses["full_course"])
        assert course is not None
        course.status = "completed"
    with pytest.raises(Refused, match="re-screen before the new course"):
        clinical.start_course(db, PROVIDER, c.ids["full_course"], now=NOW)
    # A fresh screening after today's tenth infusion clears the way the next day.
    tomorrow = NOW + timedelta(days=1)
    with db.write() as s:
        s.get(Infusion, c.infusions["tenth"]).status = "completed"  # type: ignore[union-attr]
    for item in (
        "history_reviewed",
        "prior_treatment_failure",
        "consent_signed",
        "escort_arranged",
        "baseline_scores",
    ):
        clinical.record_screening_item(
            db, NURSE, c.ids["full_course"], item, "yes", tomorrow.date(), now=tomorrow
        )
    contraindications = [
        code for code, (_, cls, _) in SCREENING_ITEMS.items() if cls is not ItemClass.REQUIRED
    ]
    for item in contraindications:
        clinical.record_screening_item(
            db, NURSE, c.ids["full_course"], item, "no", tomorrow.date(), now=tomorrow
        )
    clinical.record_screening_decision(
        db, PROVIDER, c.ids["full_course"], "cleared", tomorrow.date(), now=tomorrow
    )
    new = clinical.start_course(db, PROVIDER, c.ids["full_course"], now=tomorrow)
    assert new.number == 2
    assert len(_events(db, "start_course")) == 1


def test_view_patient_is_audited(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    clinical.record_patient_view(db, VIEWER, c.ids["on_course"], now=NOW)
    [ev] = _events(db, "view_patient")
    assert (ev.username, ev.patient_id) == ("viewer", c.ids["on_course"])


def test_two_nurses_booking_the_last_place_at_once(clinic: tuple[Database, Clinic]) -> None:
    """The cap holds under simultaneous writers: one booking takes infusion 10, the other is refused."""
    import threading

    db, c = clinic
    clinical.cancel_infusion(db, NURSE, c.infusions["tenth"], "moved", now=NOW)  # nine live: one place left
    results: list[object] = []
    barrier = threading.Barrier(2)

    def book(days: int) -> None:
        barrier.wait()
        try:
            results.append(clinical.book_infusion(db, NURSE, c.courses["full_course"], _at(days, 9), now=NOW))
        except Refused as exc:
            results.append(exc)

    threads = [threading.Thread(target=book, args=(d,)) for d in (7, 14)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    booked = [r for r in results if isinstance(r, clinical.Booking)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(booked) == 1
    assert booked[0].number == 10
    assert len(refused) == 1
    assert "already holds 10 infusions" in str(refused[0])
    with db.read() as s:
        live = s.scalar(
            select(func.count())
            .select_from(Infusion)
            .where(
                Infusion.course_id == c.courses["full_course"],
                Infusion.status.in_(["scheduled", "completed"]),
            )
        )
    assert live == 10


def test_two_bookings_racing_for_the_last_chair(clinic: tuple[Database, Clinic]) -> None:
    """Chair bookings hold under simultaneous writers: the last free chair goes to one of them."""
    import threading

    db, c = clinic
    clinical.record_trial_outcome(db, PROVIDER, c.courses["trial_pending"], "benefit", now=NOW)
    when = _at(9, 9)
    with db.write() as s:
        for chair in range(1, 4):
            s.add(
                Infusion(
                    course_id=c.courses["suicide_risk"],
                    number=chair + 1,
                    scheduled_at=when,
                    chair=chair,
                    status="scheduled",
                )
            )
    results: list[object] = []
    barrier = threading.Barrier(2)

    def book(course_id: int) -> None:
        barrier.wait()
        try:
            results.append(clinical.book_infusion(db, NURSE, course_id, when, now=NOW))
        except Refused as exc:
            results.append(exc)

    threads = [threading.Thread(target=book, args=(c.courses[k],)) for k in ("on_course", "trial_pending")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    booked = [r for r in results if isinstance(r, clinical.Booking)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert [b.chair for b in booked] == [4]
    assert len(refused) == 1
    assert "All 4 chairs are taken" in str(refused[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    instrument=st.sampled_from([i for i in Instrument if i is not Instrument.PHQ9]),
    score=st.integers(min_value=-5, max_value=100),
    days_ago=st.integers(min_value=0, max_value=3000),
)
def test_score_saved_exactly_when_inside_its_range(
    sqlite_db: Database, instrument: Instrument, score: int, days_ago: int
) -> None:
    """Property: a score is stored if and only if it lies in its instrument's published range."""
    with sqlite_db.read() as s:
        pid = s.scalar(select(Patient.id).limit(1))
    if pid is None:
        pid = build_clinic(sqlite_db).ids["on_course"]
    low, high = INSTRUMENT_RANGES[instrument]
    taken = TODAY - timedelta(days=days_ago)
    if low <= score <= high:
        aid = clinical.record_assessment(
            sqlite_db, NURSE, pid, instrument.value, score, taken, reason="re-entry", now=NOW
        )
        with sqlite_db.read() as s:
            assert s.get(Assessment, aid).score == score  # type: ignore[union-attr]
    else:
        with pytest.raises(ValidationError, match=f"{instrument.value} score {score} is outside its range"):
            clinical.record_assessment(
                sqlite_db, NURSE, pid, instrument.value, score, taken, reason="re-entry", now=NOW
            )
