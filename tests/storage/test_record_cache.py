"""Records kept in the process are never stale: every write gives exactly its patient a new token.

The huddle, the roster's flags and the patient page reuse a patient's records while the patient's
version token is unchanged (:mod:`kdash.storage.record_cache`). So every kind of write the pages make
must change the token of the patient written — and only that patient's, or the cache would reload
everyone — in the same transaction; and after each, the records served (some from the cache) must equal
records read afresh, and the huddle must equal a huddle built without the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from kdash.domain.access import Actor
from kdash.domain.vocab import FlagCode, Role
from kdash.interchange.huddle_json import huddle_to_json
from kdash.rules.huddle import build_huddle
from kdash.services import clinical
from kdash.services.huddle import huddle_from_session as huddle_for_day
from kdash.storage import record_cache
from kdash.storage.database import Database
from kdash.storage.models import Assessment, Infusion, Patient, PatientVersion
from kdash.storage.patient_records import load_records
from kdash.storage.policy_repo import load_policy
from tests.seeded import seed_cleared_patient

NURSE = Actor("nurse.jo", Role.NURSE)
PROVIDER = Actor("dr.demo", Role.PROVIDER)
NOW = datetime(2026, 12, 4, 7, 0)
DAY = date(2026, 12, 7)


def _tokens(db: Database) -> dict[int, str]:
    with db.read() as s:
        return {
            pid: token for pid, token in s.execute(select(PatientVersion.patient_id, PatientVersion.token))
        }


def _ids(db: Database) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(Patient.id).order_by(Patient.id)))


def _cached_equals_fresh(db: Database) -> None:
    ids = _ids(db)
    with db.read() as s:
        assert record_cache.records(s, ids, load_records) == load_records(s, ids)


def _huddle_equals_uncached(db: Database, day: date) -> None:
    with db.read() as s:
        settings = load_policy(s)
        cached = huddle_to_json(huddle_for_day(s, day, settings))
        record_cache.clear()
        fresh = huddle_to_json(huddle_for_day(s, day, settings))
    assert cached == fresh


@pytest.fixture
def clinic(db: Database) -> tuple[Database, list[int], list[int]]:
    """Three cleared patients with a trial given (course ids), records read once into the cache."""
    record_cache.clear()
    with db.write() as s:
        courses = [
            seed_cleared_patient(s, f"MRN-RC-{n}", trial_given_on=datetime(2026, 11, 23 + n, 9))
            for n in range(3)
        ]
    ids = _ids(db)
    _cached_equals_fresh(db)
    return db, ids, courses


def _infusion(db: Database, course_id: int) -> int:
    with db.read() as s:
        found = s.scalar(
            select(Infusion.id).where(Infusion.course_id == course_id, Infusion.status == "scheduled")
        )
    assert found is not None
    return found


def _score(db: Database, patient_id: int) -> int:
    with db.read() as s:
        found = s.scalar(select(Assessment.id).where(Assessment.patient_id == patient_id))
    assert found is not None
    return found


WRITES: list[tuple[str, Callable[[Database, int, int], Any]]] = [
    (
        "book",
        lambda db, pid, cid: clinical.book_infusion(db, NURSE, cid, datetime(2026, 12, 7, 9), True, now=NOW),
    ),
    (
        "score",
        lambda db, pid, cid: clinical.record_assessment(
            db, NURSE, pid, "PHQ-9", 12, date(2026, 12, 3), 1, now=NOW
        ),
    ),
    (
        "review",
        lambda db, pid, cid: clinical.record_suicide_review(
            db, PROVIDER, pid, "safety_plan", date(2026, 12, 3), note="safety plan made", now=NOW
        ),
    ),
    (
        "answer",
        lambda db, pid, cid: clinical.record_screening_item(
            db, NURSE, pid, "arrhythmia", "yes", date(2026, 12, 3), now=NOW
        ),
    ),
    (
        "outcome",
        lambda db, pid, cid: clinical.record_trial_outcome(
            db, PROVIDER, cid, "no_benefit", reason="no change", now=NOW
        ),
    ),
]


@pytest.mark.parametrize(("kind", "write"), WRITES, ids=[k for k, _ in WRITES])
def test_each_write_changes_only_its_patients_token(
    clinic: tuple[Database, list[int], list[int]], kind: str, write: Callable[[Database, int, int], Any]
) -> None:
    db, ids, courses = clinic
    before = _tokens(db)
    assert set(before) == set(ids)  # every patient has a token from the start
    write(db, ids[1], courses[1])
    after = _tokens(db)
    assert after[ids[1]] != before[ids[1]], kind
    assert {p: t for p, t in after.items() if p != ids[1]} == {p: t for p, t in before.items() if p != ids[1]}
    _cached_equals_fresh(db)


def test_infusion_session_cancel_and_score_deletion_reach_the_huddle(
    clinic: tuple[Database, list[int], list[int]],
) -> None:
    db, ids, courses = clinic
    for cid in courses:
        clinical.book_infusion(db, NURSE, cid, datetime(2026, 12, 7, 9), None, now=NOW)
    _huddle_equals_uncached(db, DAY)  # fills the cache for the day
    clinical.record_infusion(
        db,
        NURSE,
        _infusion(db, courses[0]),
        dose_mg_per_kg=0.5,
        premed_given=True,
        bp_pre_sys=185,
        bp_pre_dia=95,
        escort_confirmed=True,
        now=datetime(2026, 12, 7, 10, 30),
    )
    _huddle_equals_uncached(db, DAY)
    with db.read() as s:
        crisis = huddle_for_day(s, DAY, load_policy(s))
    assert any(f.code is FlagCode.BP_CRISIS for e in crisis.entries for f in e.flags)
    clinical.cancel_infusion(db, NURSE, _infusion(db, courses[1]), "patient unwell", now=NOW)
    _huddle_equals_uncached(db, DAY)
    clinical.record_assessment(db, NURSE, ids[2], "PHQ-9", 20, date(2026, 12, 3), 2, now=NOW)
    _huddle_equals_uncached(db, DAY)
    clinical.delete_assessment(db, PROVIDER, _score(db, ids[2]), "entered for the wrong patient", now=NOW)
    _huddle_equals_uncached(db, DAY)
    _cached_equals_fresh(db)


def test_a_patient_written_outside_kdash_is_read_every_time(
    clinic: tuple[Database, list[int], list[int]],
) -> None:
    db, ids, _ = clinic
    with db.write() as s:  # as a row inserted by hand in a SQL console: no token
        s.execute(PatientVersion.__table__.delete().where(PatientVersion.patient_id == ids[0]))
    with db.read() as s:
        first = record_cache.records(s, [ids[0]], load_records)
    with db.engine.begin() as conn:  # a change the write hooks never see
        conn.execute(
            Patient.__table__.update().where(Patient.id == ids[0]).values(escort_name="Someone Else")
        )
    with db.read() as s:
        second = record_cache.records(s, [ids[0]], load_records)
    assert first[ids[0]].patient.escort_name != second[ids[0]].patient.escort_name == "Someone Else"


def test_huddle_with_cache_equals_the_rules_on_fresh_records(
    clinic: tuple[Database, list[int], list[int]],
) -> None:
    db, _, courses = clinic
    for cid in courses:
        clinical.book_infusion(db, NURSE, cid, datetime(2026, 12, 7, 9), True, now=NOW)
    with db.read() as s:
        settings = load_policy(s)
        first = huddle_to_json(huddle_for_day(s, DAY, settings))
        again = huddle_to_json(huddle_for_day(s, DAY, settings))  # every record from the cache
        from kdash.storage.patient_records import load_contexts

        record_cache.clear()
        plain = huddle_to_json(build_huddle(DAY, load_contexts(s, DAY), settings))
    assert first == again == plain
    assert len(first["patients"]) == 3
