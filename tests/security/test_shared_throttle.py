"""The per-client sign-in throttle is kept in the database: app servers sharing it agree on a client.

Before, each server counted in its own memory: a client behind a load balancer could make the policy's
number of guesses on every server, and a restart forgot them. Here two other processes (two app servers)
each see half of one client's failures; a third holds the client back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import Role
from kdash.services.authentication import REFUSED, LoginError, authenticate
from kdash.services.users import create_user
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import LoginFailure

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 9, 0)
RIGHT = "the-right-password-42"
CLIENT = "ip:203.0.113.9"
POLICY = ClinicPolicy(login_throttle_failures=6, login_throttle_minutes=15)

#: One app server's process: fail ``n`` sign-ins of CLIENT under unknown names.
SERVER = """
import sys
from datetime import datetime
from kdash.domain.policy import ClinicPolicy
from kdash.services.authentication import LoginError, authenticate
from kdash.storage.database import Database, make_engine

url, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = Database(engine=make_engine(url))
policy = ClinicPolicy(login_throttle_failures=6, login_throttle_minutes=15)
for i in range(first, first + n):
    try:
        authenticate(
            db, f"guess{i}", "not-the-password", policy, datetime(2026, 11, 24, 9, 0), client=sys.argv[4]
        )
    except LoginError:
        pass
db.engine.dispose()
"""


def _server(url: str, first: int, n: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(
        [sys.executable, "-c", SERVER, url, str(first), str(n), CLIENT],
        check=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture
def db(any_url: str) -> Database:
    engine = make_engine(any_url)
    upgrade(engine)
    database = Database(engine=engine)
    with database.write() as s:
        create_user(s, "dr.a", Role.PROVIDER, RIGHT, POLICY)
    return database


def test_two_servers_count_one_clients_failures_together(db: Database, any_url: str) -> None:
    half = POLICY.login_throttle_failures // 2
    _server(any_url, 0, half)
    _server(any_url, half, POLICY.login_throttle_failures - half)
    # Three failures on each of two servers: together the policy's six, so a third holds the client back.
    with pytest.raises(LoginError, match=f"^{REFUSED}$"):
        authenticate(db, "dr.a", RIGHT, POLICY, NOW, client=CLIENT)
    # Another client is not held back, and the window passes.
    assert authenticate(db, "dr.a", RIGHT, POLICY, NOW, client="ip:198.51.100.7").username == "dr.a"
    later = NOW + timedelta(minutes=POLICY.login_throttle_minutes, seconds=1)
    assert authenticate(db, "dr.a", RIGHT, POLICY, later, client=CLIENT).username == "dr.a"
    with db.read() as s:
        stored = s.scalars(select(LoginFailure.client_hash)).all()
    assert len(stored) == POLICY.login_throttle_failures + 1  # the held-back attempt counts too
    assert all("203.0.113.9" not in h for h in stored)  # no address in clear
    db.engine.dispose()


def test_one_failure_fewer_than_the_policy_does_not_hold_back(db: Database, any_url: str) -> None:
    _server(any_url, 0, POLICY.login_throttle_failures - 1)
    assert authenticate(db, "dr.a", RIGHT, POLICY, NOW, client=CLIENT).username == "dr.a"
    db.engine.dispose()
