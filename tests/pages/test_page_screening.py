"""The screening queue page: the patient in a chair soonest is the first row, with the time shown."""

from __future__ import annotations

import json
from datetime import date, datetime, time

from sqlalchemy import select

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.services.downloads import LIST_VIEW
from kdash.services.screening_queue import screening_queue
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, Patient
from tests.pages.test_pages import clinic_db, page, text_of
from tests.seeded import Clinic, insert_patient
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


def _list_views(db: Database) -> list[dict[str, object]]:
    with db.read() as s:
        query = select(AuditEvent).where(AuditEvent.action == LIST_VIEW).order_by(AuditEvent.id)
        return [dict(json.loads(e.after_json or "{}")) for e in s.scalars(query)]


def test_a_long_queue_is_shown_a_page_at_a_time(clinic_db: tuple[Database, Clinic]) -> None:
    db, c = clinic_db
    with db.write() as s:
        for i in range(120):
            insert_patient(s, f"Q{i:04d}", first=f"Wren{i}", last="Queue")
    book(db, c.ids["not_screened"], datetime.combine(date.today(), time(23, 0)))
    order = [q.mrn for q in screening_queue(db, DEFAULT_SETTINGS, date.today())]
    at = page("screening.py")
    assert not at.exception
    body = text_of(at)
    assert "**122** patients wait for screening; showing 1–50 · page 1 of 3" in body
    first = list(at.dataframe[0].value["MRN"])
    assert first == order[:50]
    assert first[0] == "D0003"
    # One link per patient shown, not one per patient waiting.
    assert len(at.get("html")) == 50
    at.button(key="screening_next").click().run()
    assert not at.exception
    assert "showing 51–100 · page 2 of 3" in text_of(at)
    assert list(at.dataframe[0].value["MRN"]) == order[50:100]
    at.button(key="screening_next").click().run()
    assert "showing 101–122 · page 3 of 3" in text_of(at)
    assert list(at.dataframe[0].value["MRN"]) == order[100:]
    at.button(key="screening_prev").click().run()
    assert list(at.dataframe[0].value["MRN"]) == order[50:100]
    # The audit records the patients each page showed, and which page.
    views = _list_views(db)
    assert [v["patient_ids"] for v in views][:2] == [
        _ids(db, order[:50]),
        _ids(db, order[50:100]),
    ]
    assert [dict(v["filter"])["page"] for v in views][:3] == [1, 2, 3]  # type: ignore[call-overload]


def test_search_narrows_the_queue(clinic_db: tuple[Database, Clinic]) -> None:
    at = page("screening.py")
    at.text_input(key="screening_search").input("Carver, Sam").run()
    assert not at.exception
    assert list(at.dataframe[0].value["MRN"]) == ["D0003"]
    assert "**1** patient waits for screening; showing 1–1" in text_of(at)
    at.text_input(key="screening_search").input("nobody-here").run()
    assert "No patient in the queue matches this search" in text_of(at)


def _ids(db: Database, mrns: list[str]) -> list[int]:
    with db.read() as s:
        by_mrn = dict(s.execute(select(Patient.mrn, Patient.id).where(Patient.mrn.in_(mrns))).all())
    return [by_mrn[m] for m in mrns]
