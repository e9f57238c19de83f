"""Add a patient, and correct a patient's demographics and escort home: one function each.

The fields are checked by the same parser as a ``patients.csv`` row of an import
(:func:`kdash.interchange.rows.parse_patient`), so a form and an import accept and refuse the same
values in the same words. Both write through :func:`kdash.storage.amendments.record_or_amend`: a new
patient is recorded and audited; a changed value already on record is kept as an amendment with the
reason given (nothing is overwritten), and filling an empty field (an escort not yet recorded, which the
huddle's NO_ESCORT flag asks staff to confirm) is recording, not amending.

The MRN identifies the patient in every file and link (``/patient?mrn=``): it is set when the patient is
added and not changed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from kdash.domain.access import Action, Actor
from kdash.domain.errors import NotFound, Problem, ValidationError
from kdash.domain.vocab import PatientStatus
from kdash.interchange.rows import RowInvalid, parse_patient
from kdash.services.guard import authorize
from kdash.services.refusals import refusing_database_errors
from kdash.storage.amendments import record_or_amend
from kdash.storage.database import Database
from kdash.storage.demo_patients import holds_demo_patients
from kdash.storage.models import Patient

__all__ = ["DEMOGRAPHIC_FIELDS", "add_patient", "edit_patient"]

#: The fields a person may correct, with the words the forms use for them.
DEMOGRAPHIC_FIELDS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "indication": "Indication",
    "provider": "Provider",
    "escort_name": "Escort name",
    "escort_phone": "Escort phone",
}


def _cell(value: Any) -> str:
    """A form value as the text cell the import parser reads (a date in ISO 8601, empty for None)."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _checked(fields: Mapping[str, Any], *, with_mrn: bool) -> dict[str, Any]:
    """The parsed values of ``fields`` (missing ones as empty), or every problem in words."""
    names = (["mrn"] if with_mrn else []) + list(DEMOGRAPHIC_FIELDS)
    cells = {name: _cell(fields.get(name)) for name in names}
    if not with_mrn:
        cells["mrn"] = "X"  # the parser needs one; the stored MRN is kept
    try:
        row = parse_patient(cells, None)[0]
    except RowInvalid as exc:
        raise ValidationError(
            [Problem(col, f"{DEMOGRAPHIC_FIELDS.get(col, col.upper())} {msg}") for col, msg in exc.errors]
        ) from exc
    values = {k: v for k, v in row.values.items() if k in DEMOGRAPHIC_FIELDS}
    if with_mrn:
        values["mrn"] = row.mrn
    return values


@refusing_database_errors
def add_patient(db: Database, actor: Actor, fields: Mapping[str, Any], *, now: datetime | None = None) -> int:
    """Add a patient (provider); returns the new id. An MRN already on record, even of a deleted
    patient, is refused: a second record would split one person's history."""
    moment = now or datetime.now()
    authorize(db, actor, Action.EDIT_PATIENT, audit_as="add_patient", now=moment)
    values = _checked(fields, with_mrn=True)
    with db.write() as session:
        taken = session.scalar(
            select(Patient.id).where(func.lower(Patient.mrn) == str(values["mrn"]).lower()).limit(1)
        )
        if taken is not None:
            raise ValidationError(
                Problem("mrn", f"MRN {values['mrn']} is already on record: open that patient instead.")
            )
        new = Patient(**values, status=PatientStatus.ACTIVE.value)
        written = record_or_amend(
            session,
            actor,
            entity="patient",
            existing=None,
            values=values,
            create=lambda: new,
            patient_id=lambda: new.id,
            now=moment,
            reason=None,
            record_action="add_patient",
        )
        session.flush()
        return int(written.row.id)


@refusing_database_errors
def edit_patient(
    db: Database,
    actor: Actor,
    patient_id: int,
    fields: Mapping[str, Any],
    *,
    reason: str | None,
    now: datetime | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Correct demographics or the escort (provider); returns ``{field: (old, new)}`` of what changed.

    Every field of :data:`DEMOGRAPHIC_FIELDS` is given (the form shows them all). A value already on
    record that changes needs ``reason`` and is kept as an amendment; nothing changed writes nothing.
    """
    moment = now or datetime.now()
    authorize(db, actor, Action.EDIT_PATIENT, patient_id, audit_as="edit_patient", now=moment)
    values = _checked(fields, with_mrn=False)
    why = (reason or "").strip() or None
    with db.write() as session:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.deleted_at is not None:
            raise NotFound("This patient does not exist or was deleted.")
        written = record_or_amend(
            session,
            actor,
            entity="patient",
            existing=patient,
            values=values,
            create=lambda: None,
            patient_id=patient_id,
            now=moment,
            reason=why,
            record_action="edit_patient",
            amend_action="amend_patient",
            reason_needed="A value already on record changes: say briefly why (e.g. 'spelling corrected').",
        )
        return written.changes


def demo_clinic_loaded(db: Database) -> bool:
    """Whether the synthetic demo clinic's patients are in the database (``seed --demo`` asks)."""
    with db.read() as session:
        return holds_demo_patients(session)
