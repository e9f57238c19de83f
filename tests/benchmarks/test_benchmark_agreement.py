"""The benchmark compares like with like: kdash, the naive way and the limit give the same answers.

A speed-up that changed an answer would be a bug, not a win; so on a small generated clinic (the demo
generator, as in the benchmark) each measured question is asked three ways and the answers must match
exactly, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from benchmarks import limit, naive
from benchmarks.clinic import DAY2, DAY2_INFUSIONS, TODAY, populate
from benchmarks.rawdb import RawDb
from kdash.domain.policy import ClinicPolicy
from kdash.interchange.huddle_json import huddle_to_json
from kdash.services.huddle import huddle_from_session as huddle_for_day
from kdash.services.roster import roster, roster_page
from kdash.services.trends import patient_trend
from kdash.storage.database import Database, make_engine
from kdash.storage.models import Patient
from kdash.storage.policy_repo import load_policy
from tests.conftest import pg_schema

#: Big enough for every demo scenario and a full D2, small enough to build in about a second.
PATIENTS = 240


@dataclass
class SmallClinic:
    db: Database
    raw: RawDb
    settings: ClinicPolicy
    day: date


def _open(url: str) -> Iterator[SmallClinic]:
    _, _, day = populate(url, PATIENTS, label="agreement clinic")
    engine = make_engine(url)
    db = Database(engine=engine)
    raw = RawDb(url)
    with db.read() as session:
        settings = load_policy(session)
    yield SmallClinic(db, raw, settings, day)
    raw.close()
    engine.dispose()


@pytest.fixture(scope="module")
def sqlite_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallClinic]:
    yield from _open(f"sqlite:///{tmp_path_factory.mktemp('agree') / 'clinic.db'}")


@pytest.fixture(scope="module")
def pg_clinic() -> Iterator[SmallClinic]:
    """The same clinic in a PostgreSQL schema of its own, dropped afterwards."""
    with pg_schema("kdash_agree") as url:
        yield from _open(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def clinic(request: pytest.FixtureRequest) -> SmallClinic:
    return request.getfixturevalue("sqlite_clinic" if request.param == "sqlite" else "pg_clinic")  # type: ignore[no-any-return]


def _days(c: SmallClinic) -> list[date]:
    # D (about 1% of the patients), D2 (the fixed full day) and the demo's schedule day, where the
    # generator puts one patient per huddle flag.
    return [c.day, DAY2, TODAY]


def _kdash_huddle(c: SmallClinic, day: date) -> dict[str, Any]:
    with c.db.read() as session:
        return huddle_to_json(huddle_for_day(session, day))


def test_huddle_same_answer_three_ways(clinic: SmallClinic) -> None:
    flags_seen: set[str] = set()
    for day in _days(clinic):
        ours = _kdash_huddle(clinic, day)
        assert ours["patients"], f"no one is booked on {day}: the comparison would prove nothing"
        assert limit.huddle(clinic.raw, day, clinic.settings) == ours
        assert naive.huddle(clinic.db.engine, day, clinic.settings) == ours
        flags_seen |= {code for code, n in ours["summary"]["flag_counts"].items() if n}
    # The schedule day carries the demo's flag scenarios: the answers compared are not all empty.
    assert len(flags_seen) >= 5


def test_fixed_day_holds_exactly_the_full_suite(sqlite_clinic: SmallClinic) -> None:
    ours = _kdash_huddle(sqlite_clinic, DAY2)
    assert ours["summary"]["infusions"] == DAY2_INFUSIONS


def test_roster_same_answer_three_ways(clinic: SmallClinic) -> None:
    ours = roster(clinic.db, clinic.settings, TODAY)
    assert len(ours) > 100
    # Flags come from the huddle rules for bookings in the next two weeks: some rows carry them.
    assert any(row.flags for row in ours)
    for how in ("window", "probe"):
        assert limit.roster(clinic.raw, clinic.settings, TODAY, series=how) == ours, how
    assert naive.roster(clinic.db.engine, clinic.settings, TODAY) == ours


def test_roster_page_same_answer_three_ways(clinic: SmallClinic) -> None:
    ours = roster_page(clinic.db, clinic.settings, TODAY)
    # The first page of a clinic bigger than a page, with flags on some of its rows.
    assert ours.matching > len(ours.rows) == 100
    assert any(row.flags for row in ours.rows)
    assert list(ours.rows) == roster(clinic.db, clinic.settings, TODAY)[:100]
    for how in ("window", "probe"):
        assert limit.roster_page(clinic.raw, clinic.settings, TODAY, series=how) == ours, how
    assert naive.roster_page(clinic.db.engine, clinic.settings, TODAY) == ours


def test_patient_trend_same_answer_three_ways(clinic: SmallClinic) -> None:
    with clinic.db.read() as session:
        ids = list(session.scalars(select(Patient.id).order_by(Patient.id).limit(12)))
    compared = 0
    for pid in ids:
        ours = patient_trend(clinic.db, clinic.settings, pid)
        assert limit.patient_trend(clinic.raw, clinic.settings, pid) == ours
        assert naive.patient_trend(clinic.db.engine, clinic.settings, pid) == ours
        compared += ours is not None and bool(ours.instruments)
    assert compared >= 5
