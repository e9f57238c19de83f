"""The per-client sign-in throttle: failed attempts from one client, counted in this process.

The per-account limit is the database's lockout (:mod:`kdash.services.authentication`), which every
app server shares. It cannot hold back one client guessing across many names, or across names that are
no account; this throttle does (NIST SP 800-63B §5.2.2 asks verifiers to limit failed attempts; OWASP's
Authentication Cheat Sheet names per-account and per-source limits). A throttled attempt gets the same
answer as a wrong password and its password is not checked. Counts live in memory: a restart forgets
them, which the shared lockout does not.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from kdash.domain.policy import ClinicPolicy


class LoginThrottle:
    """Sliding-window counts of failed sign-ins by client (an address or a browser session)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str | None, settings: ClinicPolicy, now: datetime) -> bool:
        """True when this client failed the policy's number of times within the policy's window."""
        if not client:
            return False
        window = timedelta(minutes=settings.login_throttle_minutes)
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                return False
            while times and times[0] <= now - window:
                times.popleft()
            if not times:
                del self._failures[client]
                return False
            return len(times) >= settings.login_throttle_failures

    def failed(self, client: str | None, now: datetime) -> None:
        if not client:
            return
        with self._lock:
            self._failures.setdefault(client, deque(maxlen=1000)).append(now)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()


#: The process's throttle, shared by every session of this app server.
THROTTLE = LoginThrottle()
