"""List views are views of every record on them: one audit event per distinct list a session sees.

Finding 5 of the outside review (issue 20): the roster, courses and screening lists left nothing in the
audit trail. The rule (docs/security.md, "List views"): one ``view_list`` event per browser session for
each distinct page, filter and set of patients shown; a rerun of the same list writes nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from kdash.services.downloads import LIST_VIEW
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent
from tests.apptest_support import ACTORS, make_app_db, run_page
from tests.seeded import Clinic, build_clinic


@pytest.fixture
def clinic_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Clinic]]:
    for db in make_app_db(tmp_path, monkeypatch, users=False):
        yield db, build_clinic(db, date.today())


def _views(db: Database) -> list[AuditEvent]:
    with db.read() as s:
        query = select(AuditEvent).where(AuditEvent.action == LIST_VIEW).order_by(AuditEvent.id)
        return list(s.scalars(query))


def _after(event: AuditEvent) -> dict[str, object]:
    return dict(json.loads(event.after_json or "{}"))


@pytest.mark.parametrize("page", ["roster.py", "courses.py", "screening.py"])
def test_a_list_page_writes_one_event_and_a_rerun_none(page: str, clinic_db: tuple[Database, Clinic]) -> None:
    db, _ = clinic_db
    at = run_page(page, ACTORS["viewer"])
    assert not at.exception
    at.run()
    at.run()
    (event,) = _views(db)
    after = _after(event)
    assert event.username == "viewer"
    assert event.role == "read_only"
    assert event.entity == page.removesuffix(".py").replace("screening", "screening_queue")
    ids = after["patient_ids"]
    assert isinstance(ids, list)
    assert ids
    assert after["patients"] == len(ids)
    assert "filter" in after
    for name in ("Ashford", "Brook", "Carver", "Ellery", "D0001"):
        assert name not in (event.after_json or "")


def test_a_new_filter_is_a_new_view_and_the_search_text_is_not_recorded(
    clinic_db: tuple[Database, Clinic],
) -> None:
    db, clinic = clinic_db
    at = run_page("roster.py", ACTORS["provider"])
    at.text_input(key="roster_search").input("brook").run()
    assert not at.exception
    first, second = _views(db)
    assert _after(first)["patients"] > 1
    assert _after(second)["patients"] == 1
    assert _after(second)["filter"]["search_given"] is True  # type: ignore[index]
    assert "brook" not in (second.after_json or "").lower()
    at.run()
    assert len(_views(db)) == 2
    assert clinic.ids  # the clinic the lists were drawn from


def test_the_huddle_view_is_audited_once_per_day_with_its_patients(
    clinic_db: tuple[Database, Clinic],
) -> None:
    db, _ = clinic_db
    at = run_page("huddle.py", ACTORS["scheduler"])
    at.run()
    with db.read() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "view_huddle")))
    assert len(events) == 1
    assert len(_after(events[0])["patients"]) == 3  # type: ignore[arg-type]
