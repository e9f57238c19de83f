"""Record or amend: the one way a clinical value is written, by a form or by an import.

A value already on record is never overwritten silently. Changing it leaves an
:class:`~kdash.storage.models.Amendment` row per field (old value, new value, who, when, why) and one
audit event with the values before and after; a new record is inserted and audited. The forms
(:mod:`kdash.services.screening_records`, :mod:`kdash.services.scores`,
:mod:`kdash.services.infusions`) and the importers (:mod:`kdash.interchange.store`) both call
:func:`record_or_amend`, so the same change reads the same in the amendment history whichever way it
came in (:func:`amendment_text`: a boolean is "yes"/"no", a date ISO 8601).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from kdash.domain.access import Actor
from kdash.domain.errors import Problem, ValidationError
from kdash.storage import audit_chain
from kdash.storage.models import Amendment

#: A patient id, or a function giving it once the new record is flushed (a patient imported together
#: with its records has no id before).
PatientRef = int | None | Callable[[], int | None]


def amendment_text(value: Any) -> str | None:
    """How a value reads in the amendment history: yes/no, ISO dates, numbers as written; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def changes_to(row: Any, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{field: (stored, new)}`` for each value of ``values`` that differs from ``row``'s."""
    return {k: (getattr(row, k), v) for k, v in values.items() if getattr(row, k) != v}


def keep_old_values(
    session: Session,
    actor: Actor,
    *,
    entity: str,
    entity_id: int,
    patient_id: int | None,
    changes: Mapping[str, tuple[Any, Any]],
    reason: str,
    now: datetime,
) -> None:
    """One :class:`Amendment` row per changed field: the old and new value in :func:`amendment_text`."""
    for name, (old, new) in changes.items():
        session.add(
            Amendment(
                entity=entity,
                entity_id=entity_id,
                patient_id=patient_id,
                field=name,
                old_value=amendment_text(old),
                new_value=amendment_text(new),
                changed_by=actor.username,
                changed_at=now,
                reason=reason,
            )
        )


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`record_or_amend` did: the record, whether it is new, and the fields it changed."""

    row: Any
    created: bool
    changes: dict[str, tuple[Any, Any]]


@dataclass
class NewRecords:
    """New records added to the session but not yet flushed: an import inserts them in batches.

    :meth:`write` flushes them in one go (SQLAlchemy batches the INSERTs of one flush) and then writes
    each one's audit event, which needs the id the flush gave it.
    """

    pending: list[tuple[Any, str, str, PatientRef, dict[str, Any], str | None]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pending)

    def write(self, session: Session, actor: Actor, now: datetime) -> None:
        if not self.pending:
            return
        session.flush()
        for row, action, entity, patient, after, reason in self.pending:
            audit_chain.record(
                session, actor, action, patient_id=_resolve(patient), entity=entity, entity_id=row.id,
                after=after, reason=reason, now=now,
            )  # fmt: skip
        self.pending.clear()


def _resolve(patient: PatientRef) -> int | None:
    return patient() if callable(patient) else patient


def record_or_amend(
    session: Session,
    actor: Actor,
    *,
    entity: str,
    existing: Any | None,
    values: Mapping[str, Any],
    create: Callable[[], Any],
    patient_id: PatientRef,
    now: datetime,
    reason: str | None,
    record_action: str,
    record_after: Mapping[str, Any] | None = None,
    record_reason: str | None = None,
    amend_action: str | None = None,
    amend: bool = True,
    reason_needed: str = "This is already recorded: give a reason to amend it.",
    batch: NewRecords | None = None,
) -> Written:
    """Insert a new record, or change ``existing`` to ``values`` keeping every old value.

    Without ``existing``, ``create()`` makes the new row; it is added, flushed and audited as
    ``record_action`` with ``record_after`` (default: ``values``), or left in ``batch`` for the caller
    to write with many others. With ``existing``, the changed fields are set; when ``amend`` (the record
    is final: a completed infusion, an answer already given) each changed value that was on record is
    kept as an amendment, which needs a ``reason`` (:class:`ValidationError` on ``reason`` with
    ``reason_needed`` otherwise); filling an empty field is recording, not amending. The audit event is
    ``amend_action`` (default ``amend_<entity>``) when something was amended, else ``record_action``.
    Nothing changed: nothing is written.
    """
    if existing is None:
        row = create()
        session.add(row)
        after = dict(values if record_after is None else record_after)
        if batch is not None:
            batch.pending.append((row, record_action, entity, patient_id, after, record_reason))
        else:
            NewRecords([(row, record_action, entity, patient_id, after, record_reason)]).write(
                session, actor, now
            )
        return Written(row, True, {})
    changes = changes_to(existing, values)
    if not changes:
        return Written(existing, False, {})
    recorded = {k: v for k, v in changes.items() if v[0] is not None} if amend else {}
    if recorded and reason is None:
        raise ValidationError(Problem("reason", reason_needed))
    patient = _resolve(patient_id)
    if recorded:
        assert reason is not None
        keep_old_values(
            session, actor, entity=entity, entity_id=existing.id, patient_id=patient, changes=recorded,
            reason=reason, now=now,
        )  # fmt: skip
    for name, (_, new) in changes.items():
        setattr(existing, name, new)
    session.flush()
    audit_chain.record(
        session, actor, (amend_action or f"amend_{entity}") if recorded else record_action,
        patient_id=patient, entity=entity, entity_id=existing.id,
        before={k: old for k, (old, _) in changes.items()}, after={k: new for k, (_, new) in changes.items()},
        reason=reason, now=now,
    )  # fmt: skip
    return Written(existing, False, changes)
