"""A session closes only with the pre-dose blood pressure, the dose and a confirmed escort (Spravato REMS
style session notes); a diastolic at or above its systolic is refused. Each case leaves the booking as it
was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from kdash.domain.access import Actor
from kdash.domain.errors import ValidationError
from kdash.domain.vocab import Role
from kdash.services import clinical
from kdash.storage.database import Database
from kdash.storage.models import Infusion
from tests.seeded import seed_cleared_patient

NURSE = Actor("nurse.jo", Role.NURSE)
GIVEN = datetime(2026, 12, 8, 9, 0)
AFTER = datetime(2026, 12, 8, 11, 0)
GOOD: dict[str, Any] = {
    "dose_mg_per_kg": 0.5,
    "premed_given": True,
    "bp_pre_sys": 124,
    "bp_pre_dia": 78,
    "escort_confirmed": True,
    "discharged_at": AFTER,
}


@pytest.fixture
def infusion_id(sqlite_db: Database) -> int:
    with sqlite_db.write() as s:
        course_id = seed_cleared_patient(s, "DIS-1", trial_given_on=datetime(2026, 12, 1, 9))
    booking = clinical.book_infusion(sqlite_db, NURSE, course_id, GIVEN, now=datetime(2026, 12, 7, 9))
    return booking.infusion_id


def _status(db: Database, infusion_id: int) -> str:
    with db.read() as s:
        return s.scalars(select(Infusion.status).where(Infusion.id == infusion_id)).one()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bp_pre_sys": None, "bp_pre_dia": None}, "bp_pre_sys"),
        ({"dose_mg_per_kg": None}, "dose_mg_per_kg"),
        ({"escort_confirmed": None}, "escort_confirmed"),
        ({"escort_confirmed": False}, "escort_confirmed"),
        ({"bp_pre_dia": 124}, "bp_pre_dia"),
    ],
    ids=["no-pre-dose-bp", "no-dose", "escort-unknown", "no-escort", "diastolic-equals-systolic"],
)
def test_discharge_is_refused_without_what_the_session_needs(
    sqlite_db: Database, infusion_id: int, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        clinical.record_infusion(sqlite_db, NURSE, infusion_id, **{**GOOD, **change}, now=AFTER)
    assert field in {p.field for p in info.value.problems}
    assert _status(sqlite_db, infusion_id) == "scheduled"


def test_discharge_with_everything_completes_the_session(sqlite_db: Database, infusion_id: int) -> None:
    clinical.record_infusion(sqlite_db, NURSE, infusion_id, **GOOD, now=AFTER)
    assert _status(sqlite_db, infusion_id) == "completed"


def test_a_diastolic_one_below_the_systolic_is_accepted(sqlite_db: Database, infusion_id: int) -> None:
    clinical.record_infusion(sqlite_db, NURSE, infusion_id, **{**GOOD, "bp_pre_dia": 123}, now=AFTER)
    assert _status(sqlite_db, infusion_id) == "completed"
