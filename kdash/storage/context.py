"""The rules' view of one patient or many, for the patient page, the roster and the write services.

Loading is :func:`kdash.storage.patient_records.load_contexts` (one query per table over an ``IN`` list of
ids), asked for every record up to the end of time rather than up to a huddle day, in chunks so that a
clinic of thousands stays under the databases' bound-parameter limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import PatientContext
from kdash.storage import patient_records
from kdash.storage.id_chunks import chunks


def load_contexts(
    session: Session, patient_ids: Sequence[int], *, settings: ClinicPolicy | None = None
) -> dict[int, PatientContext]:
    """Every record of each patient (deleted scores left out), keyed by patient id.

    With ``settings``, the stored screening judgement replaces the answers where it holds (the rules
    then read it instead of judging the answers again); without, every answer is read.
    """
    out: dict[int, PatientContext] = {}
    for chunk in chunks(sorted(set(patient_ids))):
        for ctx in patient_records.load_contexts(session, date.max, chunk, settings=settings):
            out[ctx.patient.id] = ctx
    return out


def load_context(session: Session, patient_id: int) -> PatientContext | None:
    return load_contexts(session, [patient_id]).get(patient_id)
