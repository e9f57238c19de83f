"""Which patients belong to the synthetic demo clinic: every demo MRN starts with ``DEMO-``.

A demo account (its password is public) may not sign in to a database that also holds real patients;
the sign-in service asks :func:`holds_real_patients`. Kept in storage, below both the services and the
demo package, so that neither has to import the other.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from kdash.storage.models import Patient

#: Every demo patient's MRN starts with this (``kdash.demo.people``); any other MRN is a real patient.
DEMO_MRN_PREFIX = "DEMO-"


def holds_real_patients(session: Session) -> bool:
    """True when some patient is not one of the synthetic demo clinic's."""
    real = exists().where(Patient.mrn.not_like(f"{DEMO_MRN_PREFIX}%"))
    return bool(session.scalar(select(real)))


def holds_demo_patients(session: Session) -> bool:
    """True when the synthetic demo clinic (or part of it) is loaded."""
    return bool(session.scalar(select(exists().where(Patient.mrn.like(f"{DEMO_MRN_PREFIX}%")))))
