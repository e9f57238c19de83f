"""Downloads of patient data: only roles with the export permission, each file one audit event.

Finding 5 of the outside review (issue 20): read-only and scheduler users downloaded the roster CSV, the
huddle sheet and per-patient score CSVs with nothing in the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from kdash.domain.access import Forbidden
from kdash.services.downloads import DOWNLOAD, FileContent, deliver
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent
from kdash.ui.downloads import EXPORT_NOTE
from tests.apptest_support import ACTORS, make_app_db, run_page
from tests.seeded import Clinic, build_clinic

NO_EXPORT = ("viewer", "scheduler", "nurse")
EXPORT = ("provider", "admin")


@pytest.fixture
def clinic_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Clinic]]:
    for db in make_app_db(tmp_path, monkeypatch, users=False):
        yield db, build_clinic(db, date.today())


def _events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _captions(at: AppTest) -> str:
    return "\n".join(str(c.value) for c in at.caption)


def _pages(clinic: Clinic) -> list[tuple[str, dict[str, object]]]:
    return [
        ("roster.py", {}),
        ("huddle.py", {}),
        ("trends.py", {"patient_id": clinic.ids["on_course"]}),
    ]


@pytest.mark.parametrize("role", NO_EXPORT)
def test_roles_without_export_see_no_download_and_who_may(
    role: str, clinic_db: tuple[Database, Clinic]
) -> None:
    _, clinic = clinic_db
    for name, state in _pages(clinic):
        at = run_page(name, ACTORS[role], state=state)
        assert not at.exception, name
        assert len(at.get("download_button")) == 0, f"{role} offered a download on {name}"
        assert EXPORT_NOTE in _captions(at), name
    assert "provider or administrator" in EXPORT_NOTE


@pytest.mark.parametrize("role", EXPORT)
def test_roles_with_export_are_offered_the_downloads(role: str, clinic_db: tuple[Database, Clinic]) -> None:
    db, clinic = clinic_db
    expected = {"roster.py": 1, "huddle.py": 1, "trends.py": 2}
    for name, state in _pages(clinic):
        at = run_page(name, ACTORS[role], state=state)
        assert not at.exception, name
        assert len(at.get("download_button")) == expected[name], name
        assert EXPORT_NOTE not in _captions(at)
    # Offering the button hands out nothing: the file is built (and audited) on the click only.
    assert _events(db, DOWNLOAD) == []


@pytest.mark.parametrize("role", NO_EXPORT)
def test_the_service_refuses_a_download_and_audits_the_refusal(
    role: str, clinic_db: tuple[Database, Clinic]
) -> None:
    db, clinic = clinic_db
    built: list[bool] = []

    def build() -> FileContent:
        built.append(True)
        return FileContent(b"mrn\nD0001\n", (clinic.ids["on_course"],))

    with pytest.raises(Forbidden):
        deliver(db, ACTORS[role], what="roster", fmt="csv", build=build)
    assert built == []
    (event,) = _events(db, DOWNLOAD)
    assert event.outcome == "refused"
    assert event.username == role
    assert event.entity == "roster"


@pytest.mark.parametrize("role", EXPORT)
def test_each_download_is_one_event_naming_what_format_and_how_many(
    role: str, clinic_db: tuple[Database, Clinic]
) -> None:
    db, clinic = clinic_db
    ids = (clinic.ids["on_course"], clinic.ids["suicide_risk"])
    data = deliver(
        db, ACTORS[role], what="roster", fmt="csv", build=lambda: FileContent(b"Ashford, Sam\n", ids)
    )
    assert data == b"Ashford, Sam\n"
    (event,) = _events(db, DOWNLOAD)
    assert (event.outcome, event.username, event.entity) == ("ok", role, "roster")
    after = json.loads(event.after_json or "{}")
    assert after["format"] == "csv"
    assert after["patients"] == 2
    assert after["patient_ids"] == sorted(ids)
    assert "Ashford" not in (event.after_json or "") + (event.reason or "")
    deliver(db, ACTORS[role], what="patient_scores", fmt="csv", build=lambda: FileContent(b"x", ids[:1]))
    second = _events(db, DOWNLOAD)[1]
    assert second.patient_id == ids[0]  # one patient's file is found under that patient in the trail


def test_audit_trail_export_needs_the_export_permission(clinic_db: tuple[Database, Clinic]) -> None:
    from kdash.services.audit_log import AuditFilter, export_events

    db, _ = clinic_db
    text, _ = export_events(db, ACTORS["admin"], AuditFilter())
    assert text.startswith("id,")
    with pytest.raises(Forbidden):
        export_events(db, ACTORS["viewer"], AuditFilter())
