"""The cookie routes: the hand-off buys one HttpOnly, SameSite=Strict cookie (Secure over TLS), once.

Driven as ASGI calls, without a browser, against a migrated SQLite database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from starlette.routing import Router

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.services.sessions import EndReason, end_reason, resume_session, start_session
from kdash.storage.database import Database
from kdash.ui.session_routes import COOKIE, END_PATH, SESSION_PATH, session_routes
from tests.apptest_support import ACTORS, make_app_db


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    yield from make_app_db(tmp_path, monkeypatch)


def _post(path: str, body: bytes = b"", *, scheme: str = "http", cookie: str = "") -> tuple[int, list[str]]:
    """POST to the routes; (status, Set-Cookie headers)."""
    headers = [(b"content-type", b"text/plain")]
    if cookie:
        headers.append((b"cookie", f"{COOKIE}={cookie}".encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "scheme": scheme,
        "headers": headers,
        "query_string": b"",
        "server": ("kdash.test", 443 if scheme == "https" else 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "http_version": "1.1",
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    asyncio.run(Router(routes=session_routes())(scope, receive, send))  # type: ignore[arg-type]
    start = sent[0]
    cookies = [v.decode() for k, v in start["headers"] if k == b"set-cookie"]  # type: ignore[attr-defined]
    return int(start["status"]), cookies  # type: ignore[call-overload]


def _attributes(header: str) -> tuple[str, dict[str, str]]:
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    morsel = jar[COOKIE]
    flags = {k.lower(): str(v) for k, v in morsel.items() if v}
    return morsel.value, flags


def test_a_handoff_buys_an_httponly_strict_cookie_once(app_db: Database) -> None:
    grant = start_session(app_db, ACTORS["nurse"], DEFAULT_SETTINGS, datetime.now())
    status, cookies = _post(SESSION_PATH, grant.handoff.encode())
    assert status == 204
    token, flags = _attributes(cookies[0])
    assert flags["httponly"]
    assert flags["samesite"].lower() == "strict"
    assert flags["path"] == "/"
    assert "secure" not in flags  # plain HTTP (a test or a server behind no TLS)
    assert "max-age" not in flags  # the browser drops it when it closes
    live = resume_session(app_db, token, DEFAULT_SETTINGS, datetime.now())
    assert live is not None
    assert live.session_id == grant.session_id
    # The same hand-off a second time buys nothing.
    assert _post(SESSION_PATH, grant.handoff.encode()) == (403, [])


def test_the_cookie_is_secure_over_tls(app_db: Database) -> None:
    grant = start_session(app_db, ACTORS["nurse"], DEFAULT_SETTINGS, datetime.now())
    status, cookies = _post(SESSION_PATH, grant.handoff.encode(), scheme="https")
    assert status == 204
    assert "secure" in _attributes(cookies[0])[1]


def test_a_made_up_handoff_gets_no_cookie(app_db: Database) -> None:
    assert _post(SESSION_PATH, b"made-up") == (403, [])
    assert _post(SESSION_PATH, b"") == (403, [])


def test_ending_deletes_the_cookie_and_ends_the_session(app_db: Database) -> None:
    grant = start_session(app_db, ACTORS["nurse"], DEFAULT_SETTINGS, datetime.now())
    _, cookies = _post(SESSION_PATH, grant.handoff.encode())
    token = _attributes(cookies[0])[0]
    status, cleared = _post(END_PATH, cookie=token)
    assert status == 204
    value, flags = _attributes(cleared[0])
    assert value == ""
    assert flags["max-age"] == "0"
    assert end_reason(app_db, grant.session_id) == EndReason.SIGN_OUT
    assert resume_session(app_db, token, DEFAULT_SETTINGS, datetime.now()) is None
