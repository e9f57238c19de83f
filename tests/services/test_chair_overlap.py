"""A chair holds one patient for the chair time: in the booking path, the import and the database.

The clinic's chair time is 120 minutes by default (60 infusion + 60 recovery; docs/clinical-reference.md
"Planning decisions"): two live bookings of one chair 30 minutes apart overlap; one ending at 10:00 and
one starting at 10:00 do not. Each case runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from kdash.cli.main import main
from kdash.domain.errors import Refused
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.interchange.rows import ImportRefused
from kdash.services.clinical import book_infusion
from kdash.services.interchange import import_path
from kdash.services.slots import ChairHold, chair_clashes
from kdash.storage.database import Database, make_engine
from kdash.storage.models import Infusion
from kdash.storage.policy_repo import save_setting
from tests.interchange_support import snapshot
from tests.seeded import seed_patient

DAY = datetime(2026, 12, 14)  # a Monday
NOW = datetime(2026, 12, 6, 18, 0)
CHAIR_MINUTES = DEFAULT_SETTINGS.chair_minutes

PATIENTS = (
    "mrn,first_name,last_name,date_of_birth,sex,indication,provider,status\n"
    "T-1,Ada,Lovelace,1970-05-01,female,depression,Dr. Who,active\n"
    "T-2,Ben,Okri,1965-02-03,male,crps,Dr. Who,active\n"
)
COURSES = (
    "mrn,course,indication,trial_outcome,status,started_on\n"
    "T-1,1,depression,benefit,active,2026-12-01\n"
    "T-2,1,crps,benefit,active,2026-12-01\n"
)
INFUSIONS = "mrn,course,number,scheduled_at,status,chair\n"


def _folder(tmp_path: Path, infusions: str, name: str = "in") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file, content in (("patients", PATIENTS), ("courses", COURSES), ("infusions", infusions)):
        (folder / f"{file}.csv").write_text(content, encoding="utf-8")
    return folder


def _courses(db: Database) -> tuple[int, int]:
    with db.write() as s:
        _, c1 = seed_patient(s, "DB-1")
        _, c2 = seed_patient(s, "DB-2")
    assert c1 is not None
    assert c2 is not None
    return c1, c2


def _insert(db: Database, course_id: int, at: datetime, chair: int = 1, number: int = 1, **kw: object) -> int:
    with db.write() as s:
        row = Infusion(
            course_id=course_id, number=number, scheduled_at=at, chair=chair, status="scheduled", **kw
        )
        s.add(row)
        s.flush()
        return row.id


def _live_count(db: Database) -> int:
    with db.read() as s:
        return int(
            s.scalar(select(func.count()).select_from(Infusion).where(Infusion.status == "scheduled")) or 0
        )


# --- the rule ----------------------------------------------------------------------------------------


def _hold(start: int, until: int, where: str, *, chair: int = 1, stored: bool = False) -> ChairHold:
    return ChairHold(chair, DAY + timedelta(minutes=start), DAY + timedelta(minutes=until), where, stored)


def test_the_rule_half_open_and_per_chair() -> None:
    a = _hold(480, 600, "a", stored=True)
    assert chair_clashes([a, _hold(600, 720, "b")]) == []  # ends at 10:00, next starts at 10:00
    assert chair_clashes([a, _hold(480, 600, "c", chair=2)]) == []
    late = _hold(599, 719, "d")
    assert chair_clashes([a, late]) == [(a, late)]


def test_the_rule_blames_the_new_hold_not_the_stored_one() -> None:
    new = _hold(450, 570, "file line 2")
    stored = _hold(480, 600, "the database", stored=True)
    assert chair_clashes([new, stored]) == [(stored, new)]
    one, two = _hold(480, 600, "line 2"), _hold(500, 620, "line 3")
    assert chair_clashes([two, one]) == [(two, one)]  # both new: the later in input order is refused


# --- the database ------------------------------------------------------------------------------------


def test_database_refuses_a_second_booking_thirty_minutes_later(db: Database) -> None:
    c1, c2 = _courses(db)
    _insert(db, c1, DAY.replace(hour=8))
    with pytest.raises(IntegrityError):
        _insert(db, c2, DAY.replace(hour=8, minute=30))
    with pytest.raises(IntegrityError):
        _insert(db, c2, DAY.replace(hour=6, minute=1))  # ends at 08:01, inside the first
    assert _live_count(db) == 1


def test_database_accepts_back_to_back_other_chairs_and_cancelled(db: Database) -> None:
    c1, c2 = _courses(db)
    first = _insert(db, c1, DAY.replace(hour=8))
    _insert(db, c2, DAY.replace(hour=10))  # 08:00 + 120 min = 10:00: free again
    _insert(db, c2, DAY.replace(hour=8, minute=30), chair=2, number=2)
    with db.write() as s:
        s.get_one(Infusion, first).status = "cancelled"
    _insert(db, c1, DAY.replace(hour=8), number=2)  # the cancelled booking holds nothing
    with db.read() as s:
        held = s.scalars(select(Infusion.chair_until).where(Infusion.id == first)).one()
    assert held == DAY.replace(hour=10)


def test_database_refuses_moving_or_reviving_a_booking_onto_a_held_chair(db: Database) -> None:
    c1, c2 = _courses(db)
    _insert(db, c1, DAY.replace(hour=8))
    other = _insert(db, c2, DAY.replace(hour=12))
    with pytest.raises(IntegrityError), db.write() as s:
        s.get_one(Infusion, other).scheduled_at = DAY.replace(hour=9)
    with db.write() as s:
        row = s.get_one(Infusion, other)
        row.status = "cancelled"
    _insert(db, c2, DAY.replace(hour=9), chair=2, number=2)
    with pytest.raises(IntegrityError), db.write() as s:
        s.get_one(Infusion, other).chair = 2
        s.get_one(Infusion, other).scheduled_at = DAY.replace(hour=10)
        s.get_one(Infusion, other).status = "scheduled"


def test_a_booking_keeps_the_chair_time_it_was_booked_with(db: Database) -> None:
    c1, c2 = _courses(db)
    _insert(db, c1, DAY.replace(hour=8))  # holds 08:00–10:00
    with db.write() as s:
        save_setting(s, "recovery_minutes", 30, "admin", NOW)  # chair time now 90 minutes
    with pytest.raises(IntegrityError):
        _insert(db, c2, DAY.replace(hour=9, minute=30))
    _insert(db, c2, DAY.replace(hour=10))


def test_sqlite_schema_keeps_its_overlap_triggers(sqlite_db: Database) -> None:
    with sqlite_db.read() as s:
        names = set(s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert {"tr_infusion_chair_overlap_insert", "tr_infusion_chair_overlap_update"} <= names


def _race(writers: list[object]) -> list[object]:
    """Run the callables at once; returns each one's result or exception."""
    barrier = threading.Barrier(len(writers))
    results: list[object] = [None] * len(writers)

    def run(i: int, fn: object) -> None:
        barrier.wait()
        try:
            results[i] = fn()  # type: ignore[operator]
        except Exception as exc:  # the outcome under test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_raw_writers_leave_no_overlap(any_url: str) -> None:
    """Writers that skip every service check: the database alone keeps the chair to one patient."""
    engine = make_engine(any_url)
    from kdash.storage.migrate import upgrade

    upgrade(engine)
    db = Database(engine=engine)
    courses = []
    with db.write() as s:
        for i in range(6):
            _, course = seed_patient(s, f"RACE-{i}")
            courses.append(course)
    results = _race(
        [
            (lambda c=c, m=m: _insert(db, c, DAY.replace(hour=8) + timedelta(minutes=m)))
            for c, m in zip(courses, (0, 15, 30, 45, 60, 90), strict=True)
        ]
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert all(isinstance(r, int | IntegrityError) for r in results), results
    assert _live_count(db) == 1
    engine.dispose()


def test_concurrent_service_bookings_of_one_chair_book_one(db: Database) -> None:
    from kdash.domain.access import Actor
    from kdash.domain.vocab import Role
    from tests.seeded import seed_cleared_patient

    with db.write() as s:
        courses = [
            seed_cleared_patient(s, f"SVC-{i}", trial_given_on=datetime(2026, 11, 23 + i, 8))
            for i in range(4)
        ]
    actor = Actor("sched", Role.SCHEDULER)
    starts = (
        DAY.replace(hour=8),
        DAY.replace(hour=8, minute=30),
        DAY.replace(hour=9),
        DAY.replace(hour=9, minute=30),
    )
    results = _race(
        [
            (lambda c=c, at=at: book_infusion(db, actor, c, at, chair=1, now=NOW))
            for c, at in zip(courses, starts, strict=True)
        ]
    )
    booked = [r for r in results if not isinstance(r, Exception)]
    assert len(booked) == 1, results
    assert all(isinstance(r, Refused) for r in results if isinstance(r, Exception)), results


# --- the import --------------------------------------------------------------------------------------


def test_import_refuses_a_chair_held_thirty_minutes_earlier_by_another_patient(
    db: Database, tmp_path: Path
) -> None:
    c1, _ = _courses(db)
    _insert(db, c1, DAY.replace(hour=8))
    before = snapshot(db)
    folder = _folder(tmp_path, INFUSIONS + "T-1,1,1,2026-12-14T08:30,scheduled,1\n")
    with pytest.raises(ImportRefused) as info:
        import_path(db, folder, now=NOW)
    assert [str(p) for p in info.value.problems] == [
        "infusions.csv:2: chair: chair 1 is held 2026-12-14 08:00–10:00 by another live booking, in the "
        f"database; a chair holds one patient for the chair time ({CHAIR_MINUTES} minutes): choose another "
        "chair or time"
    ]
    assert snapshot(db) == before


def test_import_of_a_chair_held_at_the_same_start_is_a_located_error(
    any_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(any_url)
    from kdash.storage.migrate import upgrade

    upgrade(engine)
    db = Database(engine=engine)
    c1, _ = _courses(db)
    _insert(db, c1, DAY.replace(hour=8))
    before = snapshot(db)
    folder = _folder(tmp_path, INFUSIONS + "T-2,1,1,2026-12-14T08:00,scheduled,1\n")
    assert main(["import", str(folder), "--db", any_url]) == 2
    err = capsys.readouterr().err
    assert "infusions.csv:2: chair: chair 1 is held 2026-12-14 08:00–10:00" in err
    assert "Traceback" not in err
    assert "IntegrityError" not in err
    assert snapshot(db) == before
    engine.dispose()


def test_import_refuses_two_rows_of_the_file_sharing_a_chair(db: Database, tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        INFUSIONS
        + "T-1,1,1,2026-12-14T08:00,scheduled,2\n"
        + "T-2,1,1,2026-12-14T09:59,scheduled,2\n"
        + "T-2,1,2,2026-12-16T10:00,scheduled,2\n",
    )
    with pytest.raises(ImportRefused) as info:
        import_path(db, folder, now=NOW)
    assert [str(p) for p in info.value.problems] == [
        "infusions.csv:3: chair: chair 2 is held 2026-12-14 08:00–10:00 by another live booking, in "
        f"infusions.csv:2; a chair holds one patient for the chair time ({CHAIR_MINUTES} minutes): choose "
        "another chair or time"
    ]
    assert _live_count(db) == 0


def test_import_accepts_back_to_back_and_a_cancelled_row_freeing_the_chair(
    db: Database, tmp_path: Path
) -> None:
    c1, _ = _courses(db)
    _insert(db, c1, DAY.replace(hour=8))
    folder = _folder(
        tmp_path,
        INFUSIONS
        + "T-1,1,1,2026-12-14T10:00,scheduled,1\n"  # right after the stored booking
        + "T-2,1,1,2026-12-14T08:30,cancelled,1\n",  # a cancelled row holds no chair
    )
    # Read back after the day, the rows are records (held to the chairs, not to the booking-time
    # screening gate, which this import's unscreened patients would not pass).
    after = DAY + timedelta(days=1)
    import_path(db, folder, now=after)
    assert _live_count(db) == 2
    import_path(db, folder, now=after)  # re-import: the rows do not clash with themselves
    assert _live_count(db) == 2
