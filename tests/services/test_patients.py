"""Adding a patient and correcting demographics or the escort: validated, amended (never overwritten),
audited, and refused to roles that may not edit a patient."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kdash.domain.access import Actor, Forbidden
from kdash.domain.errors import ValidationError
from kdash.domain.vocab import Role
from kdash.services.patients import add_patient, edit_patient
from kdash.storage.database import Database
from kdash.storage.models import Amendment, AuditEvent, Patient

PROVIDER = Actor("doc", Role.PROVIDER, "Dr Doc")
NURSE = Actor("nurse", Role.NURSE, "Nurse")
NOW = datetime(2026, 12, 1, 9, 0)

FIELDS: dict[str, Any] = {
    "mrn": "NEW-0001",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "date_of_birth": date(1980, 5, 17),
    "sex": "female",
    "indication": "depression",
    "provider": "Dr Doc",
    "escort_name": None,
    "escort_phone": None,
}


def fields(**changed: Any) -> dict[str, Any]:
    return {**FIELDS, **changed}


def problems(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


def events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_new_patient_is_recorded_and_audited(db: Database) -> None:
    pid = add_patient(db, PROVIDER, FIELDS, now=NOW)
    with db.read() as s:
        p = s.get_one(Patient, pid)
        assert (p.mrn, p.last_name, p.date_of_birth, p.status) == (
            "NEW-0001",
            "Lovelace",
            date(1980, 5, 17),
            "active",
        )
    [event] = events(db, "add_patient")
    assert (event.patient_id, event.username) == (pid, "doc")


def test_every_wrong_field_is_said_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(ValidationError) as exc:
        add_patient(db, PROVIDER, fields(mrn="", first_name=" ", sex="x", date_of_birth=None), now=NOW)
    assert set(problems(exc)) == {"mrn", "first_name", "sex", "date_of_birth"}
    assert problems(exc)["first_name"].startswith("First name")
    with db.read() as s:
        assert s.scalars(select(Patient)).all() == []


def test_a_birth_date_in_the_future_is_refused(db: Database) -> None:
    with pytest.raises(ValidationError) as exc:
        add_patient(db, PROVIDER, fields(date_of_birth=date(2999, 1, 1)), now=NOW)
    assert "date_of_birth" in problems(exc)


def test_an_mrn_already_on_record_is_refused(db: Database) -> None:
    add_patient(db, PROVIDER, FIELDS, now=NOW)
    with pytest.raises(ValidationError) as exc:
        add_patient(db, PROVIDER, fields(mrn="new-0001", last_name="Other"), now=NOW)
    assert "already on record" in problems(exc)["mrn"]


def test_filling_in_the_escort_is_recording_not_amending(db: Database) -> None:
    pid = add_patient(db, PROVIDER, FIELDS, now=NOW)
    changes = edit_patient(
        db, PROVIDER, pid, fields(escort_name="Sam Escort", escort_phone="555-0100"), reason=None, now=NOW
    )
    assert changes == {"escort_name": (None, "Sam Escort"), "escort_phone": (None, "555-0100")}
    with db.read() as s:
        assert s.scalars(select(Amendment)).all() == []
    assert len(events(db, "edit_patient")) == 1


def test_changing_a_recorded_value_needs_a_reason_and_keeps_the_old_one(db: Database) -> None:
    pid = add_patient(db, PROVIDER, fields(escort_name="Sam Escort"), now=NOW)
    with pytest.raises(ValidationError) as exc:
        edit_patient(
            db, PROVIDER, pid, fields(last_name="King", escort_name="Kim Escort"), reason=" ", now=NOW
        )
    assert "say briefly why" in problems(exc)["reason"]
    with db.read() as s:
        assert s.get_one(Patient, pid).last_name == "Lovelace"
    edit_patient(
        db, PROVIDER, pid, fields(last_name="King", escort_name="Kim Escort"), reason="married name", now=NOW
    )
    with db.read() as s:
        p = s.get_one(Patient, pid)
        assert (p.last_name, p.escort_name) == ("King", "Kim Escort")
        kept = {(a.field, a.old_value, a.new_value, a.reason) for a in s.scalars(select(Amendment))}
    assert kept == {
        ("last_name", "Lovelace", "King", "married name"),
        ("escort_name", "Sam Escort", "Kim Escort", "married name"),
    }
    [event] = events(db, "amend_patient")
    assert event.patient_id == pid


def test_nothing_changed_writes_nothing(db: Database) -> None:
    pid = add_patient(db, PROVIDER, FIELDS, now=NOW)
    assert edit_patient(db, PROVIDER, pid, FIELDS, reason=None, now=NOW) == {}
    assert events(db, "edit_patient") == []
    assert events(db, "amend_patient") == []


def test_a_nurse_may_not_add_or_edit_a_patient_and_the_refusal_is_audited(db: Database) -> None:
    pid = add_patient(db, PROVIDER, FIELDS, now=NOW)
    with pytest.raises(Forbidden):
        add_patient(db, NURSE, fields(mrn="NEW-0002"), now=NOW)
    with pytest.raises(Forbidden):
        edit_patient(db, NURSE, pid, fields(last_name="X"), reason="x", now=NOW)
    refused = [e for e in events(db, "add_patient") + events(db, "edit_patient") if e.outcome != "ok"]
    assert len(refused) == 2


@settings(max_examples=40, deadline=None)
@given(name=st.text(max_size=130))
def test_any_name_is_either_stored_exactly_or_refused_in_words(name: str) -> None:
    from kdash.services.patients import _checked

    said: list[str] = []
    values: dict[str, Any] = {}
    try:
        values = _checked(fields(first_name=name), with_mrn=True)
    except ValidationError as exc:
        said = [p.message for p in exc.problems]
    if said:
        assert all(m.startswith("First name") for m in said)
    else:
        assert values["first_name"].strip()
        assert len(values["first_name"]) <= 120
