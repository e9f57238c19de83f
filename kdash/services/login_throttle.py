"""The per-client sign-in throttle: failed attempts from one client, counted in the database.

The per-account limit is the database's lockout (:mod:`kdash.services.authentication`). It cannot hold
back one client guessing across many names, or across names that are no account; this throttle does
(NIST SP 800-63B §5.2.2 asks verifiers to limit failed attempts; OWASP's Authentication Cheat Sheet names
per-account and per-source limits). A throttled attempt gets the same answer as a wrong password and its
password is not checked.

Each failure is a ``login_failure`` row (migration ``0013``): the SHA-256 of the client (an address or a
browser session, so the table holds no address in clear) and the time. Every app server reads and
writes the same rows, so several servers behind one load balancer agree on a client's count, and a
restart forgets nothing. Rows older than the longest window the settings allow are deleted as new
failures of the same client arrive.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kdash.domain.policy import ClinicPolicy
from kdash.storage.models import LoginFailure

__all__ = ["KEEP", "blocked", "client_key", "failed"]

#: How long a failure is kept: the longest throttle window the clinic settings accept (one day).
KEEP = timedelta(days=1)


def client_key(client: str) -> str:
    return hashlib.sha256(client.encode("utf-8")).hexdigest()


def blocked(session: Session, client: str | None, settings: ClinicPolicy, now: datetime) -> bool:
    """True when this client failed the policy's number of times within the policy's window."""
    if not client:
        return False
    since = now - timedelta(minutes=settings.login_throttle_minutes)
    count = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.client_hash == client_key(client), LoginFailure.failed_at > since)
    )
    return int(count or 0) >= settings.login_throttle_failures


def failed(session: Session, client: str | None, now: datetime) -> None:
    """Count one failed sign-in of ``client`` inside the caller's write transaction."""
    if not client:
        return
    key = client_key(client)
    session.execute(
        delete(LoginFailure).where(LoginFailure.client_hash == key, LoginFailure.failed_at <= now - KEEP)
    )
    session.add(LoginFailure(client_hash=key, failed_at=now.replace(tzinfo=None)))
