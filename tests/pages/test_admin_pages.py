"""The Audit, Users and Settings pages: what an administrator does there, and what others cannot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.services.authentication import authenticate
from kdash.storage.audit_chain import record
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent, Setting, User
from tests.apptest_support import ACTORS, by_label, make_app_db, run_page
from tests.seeded import seed_patient


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    yield from make_app_db(tmp_path, monkeypatch)


def _actions(db: Database) -> list[tuple[str, str, str]]:
    with db.read() as s:
        return [
            (e.username, e.action, e.outcome) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_audit_page_filters_by_patient_and_exports_neutralised_csv(app_db: Database) -> None:
    with app_db.write() as s:
        pid, _ = seed_patient(s, "MRN-AUD-1")
        other, _ = seed_patient(s, "MRN-AUD-2")
        record(s, ACTORS["provider"], "view_patient", patient_id=pid, reason="=cmd|' /C calc'!A0")
        record(s, ACTORS["nurse"], "view_patient", patient_id=other)
    at = run_page("audit.py", ACTORS["admin"])
    assert not at.exception
    assert len(at.dataframe[0].value) == 2
    by_label(at.text_input, "Patient MRN").set_value("MRN-AUD-1")
    at.button[0].click().run()  # the filter form's "Show"
    frame = at.dataframe[0].value
    assert list(frame["Patient MRN"]) == ["MRN-AUD-1"]
    assert list(frame["User"]) == ["provider"]
    assert list(frame["Action"]) == ["View patient"]

    by_label(at.button, "Prepare CSV export").click().run()
    assert not at.exception
    csv_text = at.session_state["audit_csv"]
    assert "MRN-AUD-1" in csv_text
    assert "MRN-AUD-2" not in csv_text
    assert "'=cmd|' /C calc'!A0" in csv_text
    assert ("admin", "export_audit", "ok") in _actions(app_db)


def test_audit_page_shows_events_in_words_not_json(app_db: Database) -> None:
    with app_db.write() as s:
        pid, _ = seed_patient(s, "MRN-AUD-3")
        record(
            s,
            ACTORS["nurse"],
            "amend_infusion",
            patient_id=pid,
            entity="infusion",
            entity_id=7,
            before={"dose_mg_per_kg": 0.5, "escort_confirmed": None},
            after={"dose_mg_per_kg": 0.6, "escort_confirmed": True},
        )
    at = run_page("audit.py", ACTORS["admin"])
    assert not at.exception
    row = at.dataframe[0].value.iloc[0]
    assert row["Action"] == "Amend infusion"
    assert row["Record"] == "infusion 7"
    assert row["What changed"] == "dose mg per kg: 0.5 → 0.6; escort confirmed: — → yes"
    assert "{" not in " ".join(str(v) for v in row)
    assert "None" not in [str(v) for v in row]


def test_audit_page_verifies_the_chain(app_db: Database) -> None:
    with app_db.write() as s:
        record(s, ACTORS["provider"], "view_patient")
    at = run_page("audit.py", ACTORS["admin"])
    next(b for b in at.button if b.label == "Verify the trail").click().run()
    assert any("intact" in s.value for s in at.success)


def test_non_admins_cannot_open_audit_or_users(app_db: Database) -> None:
    for page in ("audit.py", "users.py"):
        for who in ("provider", "nurse", "scheduler", "viewer"):
            at = run_page(page, ACTORS[who])
            assert not at.exception
            assert at.error
            assert "may not" in at.error[0].value
            assert len(at.dataframe) == 0


def test_users_page_adds_a_user_with_the_password_policy(app_db: Database) -> None:
    at = run_page("users.py", ACTORS["admin"])
    assert not at.exception
    assert sorted(at.dataframe[0].value["user name"]) == sorted(ACTORS)

    def fill(name: str, password: str) -> None:
        by_label(at.text_input, "User name").set_value(name)
        by_label(at.text_input, "Display name").set_value("New Nurse")
        by_label(at.selectbox, "Role").set_value("nurse")
        by_label(at.text_input, "Password").set_value(password)
        by_label(at.text_input, "Repeat the password").set_value(password)
        next(b for b in at.button if b.label == "Add user").click().run()

    fill("nurse.new", "short")
    assert any("at least 12 characters" in e.value for e in at.error)
    with app_db.read() as s:
        assert s.scalar(select(User).where(User.username == "nurse.new")) is None

    fill("nurse.new", "a-good-long-password")
    assert not at.exception
    assert any("nurse.new added" in m.value for m in at.success)
    assert (
        authenticate(app_db, "nurse.new", "a-good-long-password", DEFAULT_SETTINGS, _now()).role.value
        == "nurse"
    )
    assert ("admin", "add_user", "ok") in _actions(app_db)


def test_users_page_disables_and_changes_role(app_db: Database) -> None:
    at = run_page("users.py", ACTORS["admin"])
    at.selectbox(key="user_to_change").set_value("nurse").run()
    next(b for b in at.button if b.label == "Disable").click().run()
    assert not at.exception
    at.selectbox(key="user_to_change").set_value("scheduler").run()
    by_label(at.selectbox, "New role").set_value("read_only")
    next(b for b in at.button if b.label == "Change role").click().run()
    with app_db.read() as s:
        users = {u.username: u for u in s.scalars(select(User))}
    assert users["nurse"].active is False
    assert users["scheduler"].role == "read_only"
    actions = _actions(app_db)
    assert ("admin", "disable_user", "ok") in actions
    assert ("admin", "change_role", "ok") in actions


def test_settings_page_lists_every_setting_read_only_for_a_provider(app_db: Database) -> None:
    from kdash.domain.policy import describe

    at = run_page("settings.py", ACTORS["provider"])
    assert not at.exception
    frame = at.dataframe[0].value
    assert len(frame) == len(describe())
    assert set(frame["policy"]) == {"policy", ""}
    assert not [b for b in at.button if b.label == "Save"]


def test_admin_changes_a_policy_value_with_validation(app_db: Database) -> None:
    at = run_page("settings.py", ACTORS["admin"])
    by_label(at.selectbox, "Setting").set_value("idle_logoff_minutes").run()
    by_label(at.number_input, "Value").set_value(0)
    next(b for b in at.button if b.label == "Save").click().run()
    assert any("from 1 to 120" in e.value for e in at.error)
    with app_db.read() as s:
        assert s.scalars(select(Setting)).all() == []

    by_label(at.number_input, "Value").set_value(10)
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception
    with app_db.read() as s:
        assert s.get(Setting, "idle_logoff_minutes").value_json == "10"
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "edit_setting")).one()
    assert (ev.username, ev.before_json, ev.after_json) == (
        "admin",
        '{"idle_logoff_minutes": 15}',
        '{"idle_logoff_minutes": 10}',
    )


def _now():  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.now()
