"""The screening queue page: the patient in a chair soonest is the first row, with the time shown."""

from __future__ import annotations

from datetime import date, datetime, time

from kdash.storage.database import Database
from tests.pages.test_pages import clinic_db, page
from tests.seeded import Clinic
from tests.services.test_screening_queue_order import book

__all__ = ["clinic_db"]  # the fixture, used by name


def test_a_patient_in_a_chair_today_is_the_first_row(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    book(db, c.ids["not_screened"], datetime.combine(date.today(), time(23, 0)))
    at = page("screening.py")
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["MRN"]) == ["D0003", "D0004"]
    assert (
        frame["Next infusion"].iloc[0] == f"{datetime.combine(date.today(), time(23, 0)):%a %Y-%m-%d} 23:00"
    )
    assert frame["Next infusion"].iloc[1] == "not booked"
    # Each patient is a real link to their address.
    links = [str(h.proto.body) for h in at.get("html")]
    assert any('href="/patient?mrn=D0003"' in link and "Carver, Sam" in link for link in links)
    assert "The next booked infusion first" in at.caption[0].value
