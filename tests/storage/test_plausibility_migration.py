"""Migration 0007 holds stored readings to the plausibility limits, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import text

from kdash.storage.database import make_engine
from kdash.storage.migrate import downgrade, upgrade

_ROWS = (
    "INSERT INTO patient (id, mrn, first_name, last_name, date_of_birth, sex, indication, provider, status)"
    " VALUES (1, 'M-1', 'T', 'P', :born, 'female', 'depression', 'Dr', 'active')",
    "INSERT INTO course (id, patient_id, number, indication, trial_outcome, status)"
    " VALUES (1, 1, 1, 'depression', 'benefit', 'active')",
)


def _infusion(conn, number: int, **readings: float) -> None:
    cols = ", ".join(["id", "course_id", "number", "scheduled_at", "status", *readings])
    marks = ", ".join([":id", "1", ":number", ":at", "'completed'", *(f":{k}" for k in readings)])
    conn.execute(
        text(f"INSERT INTO infusion ({cols}) VALUES ({marks})"),
        {"id": number, "number": number, "at": datetime(2026, 1, number, 9), **readings},
    )


def test_stored_outlier_stops_the_upgrade_naming_the_infusion(any_url: str) -> None:
    """A systolic of 45 the old form accepted is not changed by the migration: the upgrade says which."""
    engine = make_engine(any_url)
    upgrade(engine, "0006")
    with engine.begin() as conn:
        for sql in _ROWS:
            conn.execute(text(sql), {"born": date(1980, 1, 1)})
        _infusion(conn, 1, bp_pre_sys=120, bp_pre_dia=80, dose_mg_per_kg=0.5)
        _infusion(conn, 2, bp_pre_sys=45, bp_pre_dia=30)
    with pytest.raises(RuntimeError, match=r"1 infusion record\(s\) .* ids 2\. Amend them"):
        upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE infusion SET bp_pre_sys = 50 WHERE id = 2"))
    upgrade(engine)
    with pytest.raises(Exception, match="(?i)check"), engine.begin() as conn:
        conn.execute(text("UPDATE infusion SET dose_mg_per_kg = 5.01 WHERE id = 1"))
    downgrade(engine, "0006")
    with engine.begin() as conn:  # the old check only wanted a positive dose
        conn.execute(text("UPDATE infusion SET dose_mg_per_kg = 5.01 WHERE id = 1"))
    engine.dispose()
