"""Request dependencies: the runtime, the caller, and waiting on an actor's answer."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import Future
from typing import TypeVar

from fastapi import Request

from actors import Caller, OutcomeUnknown
from api.auth import SESSION_COOKIE
from api.errors import CsrfRejected
from api.runtime import Runtime
from eventlog import Unauthorized

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CORRELATION_ID = re.compile(r"[\x21-\x7e]{1,128}")


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def caller(request: Request) -> Caller:
    """The caller, by `Authorization: Bearer <token>` or by session cookie.

    A cookie-authenticated write must repeat the session's CSRF token in `X-CSRF-Token`.
    """
    credentials = runtime(request).credentials
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use `Authorization: Bearer <token>`")
        return credentials.by_token(token.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise Unauthorized("send `Authorization: Bearer <token>`, or log in")
    who, csrf = credentials.by_session(cookie)
    if request.method not in SAFE_METHODS and not credentials.csrf_matches(
        csrf, request.headers.get("x-csrf-token")
    ):
        raise CsrfRejected("this write needs the session's X-CSRF-Token header")
    return who


def correlation_id(request: Request) -> str:
    given = request.headers.get("x-correlation-id")
    return given if given and _CORRELATION_ID.fullmatch(given) else uuid.uuid4().hex


async def answer(future: Future[T], timeout: float) -> T:
    """Await an actor's answer without blocking the loop; `OutcomeUnknown` after `timeout`."""
    try:
        return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
    except TimeoutError:
        future.cancel()  # succeeds only if the actor has not started on it
        raise OutcomeUnknown(
            "the ticket did not answer in time; retry with the same command_id"
        ) from None
