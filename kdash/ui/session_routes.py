"""The two HTTP routes that put the session token into an HttpOnly cookie and take it out again.

A Streamlit script talks to the browser over a websocket and cannot set a cookie, and a cookie that
page scripts could write they could also read. So ``app.py`` serves Streamlit through ``st.App`` with
these routes beside it, and the cookie is set by an ordinary HTTP response, through Starlette's own
``Response.set_cookie`` (the server Streamlit already runs on), with:

- ``HttpOnly``: no script in the page can read it (an injected script cannot steal the session);
- ``SameSite=Strict``: no other site's page can make the browser send it;
- ``Secure`` when the request came over TLS (directly, or through a proxy that says so);
- no ``Max-Age``: the browser forgets it when it closes; the server's row has its own limits.

``POST /_kdash/session`` takes the one-time hand-off made at sign-in (the request body), and
answers with the cookie holding a freshly minted token. ``POST /_kdash/session/end`` ends the session
the cookie names and deletes the cookie. Streamlit sends the cookie with its websocket handshake, where
``st.context.cookies`` reads it on a refresh or in a new tab.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kdash.services.sessions import end_session, redeem_handoff, resume_session
from kdash.storage.database import Database
from kdash.storage.policy_repo import load_policy
from kdash.ui.links import base_path

COOKIE: Final = "kdash_session"
SESSION_PATH: Final = "/_kdash/session"
END_PATH: Final = "/_kdash/session/end"
_NO_STORE: Final = {"Cache-Control": "no-store"}


def _over_tls(request: Request) -> bool:
    return request.url.scheme in {"https", "wss"}


def _db() -> Database:
    """The database the app uses (its engine is shared per process; the app has upgraded the schema)."""
    return Database()


def _redeem(handoff: str) -> str | None:
    return redeem_handoff(_db(), handoff, datetime.now())


def _end_named(token: str) -> None:
    db = _db()
    with db.read() as session:
        policy = load_policy(session)
    live = resume_session(db, token, policy, datetime.now())
    if live is not None:
        end_session(db, live.session_id, datetime.now())


async def _open(request: Request) -> Response:
    body = await request.body()
    handoff = body[:200].decode("ascii", errors="replace").strip()
    token = await run_in_threadpool(_redeem, handoff)
    if token is None:
        return Response(status_code=403, headers=_NO_STORE)
    response = Response(status_code=204, headers=_NO_STORE)
    response.set_cookie(
        COOKIE,
        token,
        path=base_path() or "/",
        secure=_over_tls(request),
        httponly=True,
        samesite="strict",
    )
    return response


async def _end(request: Request) -> Response:
    token = request.cookies.get(COOKIE, "")
    if token:
        await run_in_threadpool(_end_named, token)
    response = Response(status_code=204, headers=_NO_STORE)
    response.delete_cookie(
        COOKIE, path=base_path() or "/", secure=_over_tls(request), httponly=True, samesite="strict"
    )
    return response


def session_routes() -> list[BaseRoute]:
    """The routes ``app.py`` adds to Streamlit's server."""
    base = base_path()
    return [
        Route(f"{base}{SESSION_PATH}", _open, methods=["POST"]),
        Route(f"{base}{END_PATH}", _end, methods=["POST"]),
    ]
