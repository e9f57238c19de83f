"""The read views the pages show, on both databases (window functions and FILTER differ by dialect)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import FlagCode
from kdash.rules.outcomes import outcome_stats
from kdash.services.active_courses import active_courses
from kdash.services.patient_detail import patient_detail, search_patients
from kdash.services.roster import roster
from kdash.services.screening_queue import screening_queue
from kdash.services.trends import patient_trend
from kdash.storage.database import Database
from tests.seeded import CLINIC_TODAY as TODAY
from tests.seeded import Clinic, build_clinic


@pytest.fixture
def clinic(db: Database) -> tuple[Database, Clinic]:
    return db, build_clinic(db)


def test_roster_rows(clinic: tuple[Database, Clinic]) -> None:
    db, _ = clinic
    rows = {r.mrn: r for r in roster(db, DEFAULT_SETTINGS, TODAY)}
    assert list(rows) == ["D0001", "D0002", "D0003", "D0004", "D0005", "D0006"]
    a = rows["D0001"]
    assert (a.live, a.completed, a.instrument, a.baseline, a.latest, a.band) == (4, 3, "PHQ-9", 20, 8, "mild")
    assert a.series == (20, 12, 10, 9, 8)
    assert a.change_pct == pytest.approx(-60.0)
    assert a.response is True
    assert a.remission is False
    b = rows["D0002"]
    assert (b.live, b.instrument, b.latest, b.band) == (10, "NRS", 3, "mild")
    assert [f.code for f in b.flags] == [FlagCode.COURSE_FINAL_SESSION]
    assert rows["D0005"].urgent == 1
    assert rows["D0003"].screening_status == "not_started"
    assert rows["D0003"].course_number is None
    assert rows["D0004"].screening_status == "needs_review"


def test_roster_flags_only_for_bookings_in_the_window(clinic: tuple[Database, Clinic]) -> None:
    db, _ = clinic
    later = {r.mrn: r for r in roster(db, DEFAULT_SETTINGS, TODAY - timedelta(days=30), flag_days=3)}
    # From 30 days back, today's bookings are four weeks out: no flags yet, but the next infusion shows.
    assert later["D0005"].flags == ()
    assert later["D0005"].next_infusion is not None


def test_screening_queue_and_courses(clinic: tuple[Database, Clinic]) -> None:
    db, _c = clinic
    queue = screening_queue(db, DEFAULT_SETTINGS, TODAY)
    assert [(q.mrn, q.status) for q in queue] == [("D0004", "needs_review"), ("D0003", "not_started")]
    # A year on, every cleared screening is due again.
    year_on = screening_queue(db, DEFAULT_SETTINGS, TODAY + timedelta(days=400))
    assert {q.mrn for q in year_on if q.status == "rescreen_due"} == {"D0001", "D0002", "D0005", "D0006"}
    courses = {r.mrn: r for r in active_courses(db, TODAY)}
    assert (courses["D0002"].live, courses["D0002"].completed) == (10, 9)
    assert courses["D0002"].expected_end == TODAY
    assert courses["D0006"].next_booking is None


def test_patient_detail_slots_and_flags(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    detail = patient_detail(db, DEFAULT_SETTINGS, c.ids["suicide_risk"], TODAY)
    assert detail is not None
    assert [s.state for s in detail.courses[0].slots] == ["booked"] + ["free"] * 9
    assert detail.ready is False
    assert FlagCode.SUICIDE_RISK in {f.code for f in detail.flags}
    assert patient_detail(db, DEFAULT_SETTINGS, 999_999, TODAY) is None


def test_trend_lines_come_from_the_rules(clinic: tuple[Database, Clinic]) -> None:
    db, c = clinic
    trend = patient_trend(db, DEFAULT_SETTINGS, c.ids["on_course"])
    assert trend is not None
    [phq] = trend.instruments
    assert phq.baseline == 20
    assert phq.response_line == 10  # a 50% drop from 20 (Kroenke 2001 / NCQA)
    assert phq.remission_line == 4  # remission below 5 (NCQA)
    assert next((b.name, b.low, b.high) for b in phq.bands) == ("minimal", 0, 4)
    assert len(trend.infusions) == 3


def test_outcome_stats(clinic: tuple[Database, Clinic]) -> None:
    db, _ = clinic
    stats = outcome_stats(roster(db, DEFAULT_SETTINGS, TODAY))
    by = {r.group: r for r in stats.by_indication}
    assert (
        by["Treatment-resistant depression"].patients,
        by["Treatment-resistant depression"].responders,
    ) == (2, 2)
    assert by["CRPS"].remission_rate is None  # the NRS defines no remission
    assert len(stats.changes) == 3


def test_search_patients(clinic: tuple[Database, Clinic]) -> None:
    db, _ = clinic
    assert [label for _, label in search_patients(db, "d000")][:2] == [
        "Ashford, Sam · D0001",
        "Brook, Sam · D0002",
    ]
    assert [label for _, label in search_patients(db, "Sam Ellery")] == ["Ellery, Sam · D0005"]
    assert search_patients(db, "nobody") == []


def test_roster_and_screening_queue_of_a_demo_clinic_cover_every_active_patient(db: Database) -> None:
    """One roster row per active patient, by name; every patient whose screening is not cleared is queued.

    How fast these answer at 500 and 50,000 patients is the benchmark's (``roster_all`` and
    ``screening_queue`` in benchmarks/run.py, docs/performance.md), not a timed test's.
    """
    from datetime import date

    from sqlalchemy import func, select

    from kdash.demo import clinic as demo
    from kdash.domain.vocab import PatientStatus
    from kdash.storage.models import Patient

    today = date(2026, 3, 2)
    demo.load(db, demo.generate(300, 7, today))
    with db.read() as session:
        active = session.scalar(
            select(func.count()).select_from(Patient).where(Patient.status == PatientStatus.ACTIVE.value)
        )
    rows = roster(db, DEFAULT_SETTINGS, today)
    assert len(rows) == active > 200
    assert len({r.mrn for r in rows}) == len(rows)
    queue = screening_queue(db, DEFAULT_SETTINGS, today)
    queued = {q.mrn for q in queue}
    assert queued <= {r.mrn for r in rows}
    not_cleared = {r.mrn for r in rows if r.screening_status != "cleared"}
    assert not_cleared
    assert not_cleared <= queued
