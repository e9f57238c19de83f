"""Clinic settings stored as JSON overrides over the defaults of :mod:`kdash.domain.policy`."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.domain.policy import DEFAULT_SETTINGS, ClinicPolicy
from kdash.storage.models import Closure, Setting


def load_policy(session: Session) -> ClinicPolicy:
    overrides = {row.key: json.loads(row.value_json) for row in session.scalars(select(Setting))}
    return DEFAULT_SETTINGS.with_overrides(overrides)


def save_setting(session: Session, key: str, value: Any, username: str, now: datetime) -> tuple[Any, Any]:
    """Store one override; returns (old value, new value) for the audit trail."""
    known = {f.name: f for f in dataclasses.fields(ClinicPolicy)}
    if key not in known:
        raise ValueError(f"There is no setting called {key!r}.")
    old = getattr(load_policy(session), key)
    row = session.get(Setting, key)
    encoded = json.dumps(value)
    if row is None:
        session.add(Setting(key=key, value_json=encoded, updated_by=username, updated_at=now))
    else:
        row.value_json, row.updated_by, row.updated_at = encoded, username, now
    session.flush()
    return old, value


def load_closures(session: Session) -> dict[Any, str]:
    return {row.day: row.reason for row in session.scalars(select(Closure).order_by(Closure.day))}
