"""The database itself refuses records that can never be true, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import current_revision, head_revision, upgrade
from kdash.storage.models import Assessment, Base, Course, Infusion, Patient


def _patient(session, mrn: str = "DEMO-000001") -> Patient:
    p = Patient(
        mrn=mrn,
        first_name="Test",
        last_name="Patient",
        date_of_birth=date(1980, 1, 1),
        sex="female",
        indication="depression",
        provider="Dr Demo",
        status="active",
    )
    session.add(p)
    session.flush()
    return p


def _course(session, patient: Patient, number: int = 1) -> Course:
    c = Course(
        patient_id=patient.id,
        number=number,
        indication="depression",
        trial_outcome="benefit",
        status="active",
    )
    session.add(c)
    session.flush()
    return c


def _infusion(course: Course, number: int, status: str = "scheduled", **kw) -> Infusion:
    return Infusion(
        course_id=course.id, number=number, scheduled_at=datetime(2026, 1, number, 9), status=status, **kw
    )


def test_upgrade_creates_every_table_and_twice_changes_nothing(any_url: str) -> None:
    engine = make_engine(any_url)
    assert upgrade(engine) == (None, head_revision())
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert upgrade(engine) == (head_revision(), head_revision())
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.parametrize("number", [0, 11, -1, 99])
def test_infusion_number_outside_1_to_10_refused(db: Database, number: int) -> None:
    with pytest.raises(IntegrityError, match="number_1_to_10"), db.write() as s:
        course = _course(s, _patient(s))
        s.add(
            Infusion(
                course_id=course.id, number=number, scheduled_at=datetime(2026, 1, 1, 9), status="scheduled"
            )
        )
        s.flush()


def test_two_live_infusions_with_one_number_refused(db: Database) -> None:
    with pytest.raises(IntegrityError, match="uq_infusion_live_number|UNIQUE"), db.write() as s:
        course = _course(s, _patient(s))
        s.add(_infusion(course, 3))
        s.add(_infusion(course, 3, status="completed"))
        s.flush()


def test_cancelled_infusion_frees_its_number(db: Database) -> None:
    with db.write() as s:
        course = _course(s, _patient(s))
        s.add(_infusion(course, 2, status="cancelled"))
        s.add(_infusion(course, 2, status="no_show"))
        s.add(_infusion(course, 2, status="scheduled"))
    with db.read() as s:
        assert s.scalar(select(Infusion.id).where(Infusion.status == "scheduled")) is not None


def test_eleventh_live_infusion_impossible(db: Database) -> None:
    with db.write() as s:
        course = _course(s, _patient(s))
        for n in range(1, 11):
            s.add(_infusion(course, n, status="completed"))
        course_id = course.id
    with pytest.raises(IntegrityError), db.write() as s:
        # No free number is left: 1..10 are taken and 11 breaks the range check.
        for n in range(1, 12):
            s.add(
                Infusion(
                    course_id=course_id, number=n, scheduled_at=datetime(2026, 2, 1, 9), status="scheduled"
                )
            )
            s.flush()


def test_one_chair_cannot_hold_two_live_bookings_at_one_start(db: Database) -> None:
    with pytest.raises(IntegrityError), db.write() as s:
        c1 = _course(s, _patient(s, "DEMO-1"))
        c2 = _course(s, _patient(s, "DEMO-2"))
        s.add(
            Infusion(
                course_id=c1.id, number=1, scheduled_at=datetime(2026, 3, 2, 8), chair=1, status="scheduled"
            )
        )
        s.add(
            Infusion(
                course_id=c2.id, number=1, scheduled_at=datetime(2026, 3, 2, 8), chair=1, status="scheduled"
            )
        )
        s.flush()


@pytest.mark.parametrize(
    ("instrument", "score"),
    [("PHQ-9", 28), ("PHQ-9", -1), ("GAD-7", 22), ("PCL-5", 81), ("MADRS", 61), ("NRS", 11), ("C-SSRS", 4)],
)
def test_score_outside_instrument_range_refused(db: Database, instrument: str, score: int) -> None:
    with pytest.raises(IntegrityError, match="score_in_range"), db.write() as s:
        p = _patient(s)
        s.add(Assessment(patient_id=p.id, instrument=instrument, score=score, taken_on=date(2026, 1, 1)))
        s.flush()


@pytest.mark.parametrize(("instrument", "score"), [("PHQ-9", 27), ("PHQ-9", 0), ("NRS", 10), ("PCL-5", 80)])
def test_score_at_range_edge_accepted(db: Database, instrument: str, score: int) -> None:
    with db.write() as s:
        p = _patient(s)
        s.add(Assessment(patient_id=p.id, instrument=instrument, score=score, taken_on=date(2026, 1, 1)))


def test_item9_only_on_phq9_and_0_to_3(db: Database) -> None:
    with pytest.raises(IntegrityError, match="item9"), db.write() as s:
        p = _patient(s)
        s.add(Assessment(patient_id=p.id, instrument="PHQ-9", score=10, item9=4, taken_on=date(2026, 1, 1)))
        s.flush()
    with pytest.raises(IntegrityError, match="item9"), db.write() as s:
        p = _patient(s)
        s.add(Assessment(patient_id=p.id, instrument="GAD-7", score=10, item9=1, taken_on=date(2026, 1, 1)))
        s.flush()


def test_unknown_instrument_and_indication_refused(db: Database) -> None:
    with pytest.raises(IntegrityError, match="instrument_valid|score_in_range"), db.write() as s:
        p = _patient(s)
        s.add(Assessment(patient_id=p.id, instrument="BPI", score=3, taken_on=date(2026, 1, 1)))
        s.flush()
    with pytest.raises(IntegrityError, match="indication_valid"), db.write() as s:
        s.add(
            Patient(
                mrn="X",
                first_name="A",
                last_name="B",
                date_of_birth=date(1990, 1, 1),
                sex="male",
                indication="migraine",
                provider="Dr",
                status="active",
            )
        )
        s.flush()


def test_orphans_refused(db: Database) -> None:
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(Infusion(course_id=424242, number=1, scheduled_at=datetime(2026, 1, 1, 9), status="scheduled"))
        s.flush()
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(Assessment(patient_id=424242, instrument="NRS", score=3, taken_on=date(2026, 1, 1)))
        s.flush()


def test_duplicate_mrn_refused(db: Database) -> None:
    with pytest.raises(IntegrityError, match="mrn|UNIQUE"), db.write() as s:
        _patient(s, "DEMO-7")
        _patient(s, "DEMO-7")


def test_failed_write_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(IntegrityError), db.write() as s:
        _patient(s, "DEMO-OK")
        s.add(Assessment(patient_id=999999, instrument="NRS", score=3, taken_on=date(2026, 1, 1)))
        s.flush()
    with db.read() as s:
        assert s.scalars(select(Patient)).all() == []


def test_migrated_schema_matches_the_models(any_url: str) -> None:
    """Every table, column and index the models declare is what the migrations build (and no more)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(any_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
