"""Dashboard sessions: log in with a password, a cookie, and a CSRF token for writes."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from actors.decide import text
from api import deps
from api.accounts import verify_password
from api.auth import SESSION_COOKIE, secret_hash
from api.errors import TooManyAttempts
from api.routes import Authenticated, json_response
from api.schemas import parse_json, validate
from eventlog import Unauthorized

router = APIRouter()
SESSION_HOURS = 12


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginLimiter:
    """Failed logins per user and per address in a sliding window. Event-loop thread only."""

    def __init__(self, per_user: int = 5, per_address: int = 20, window: float = 300.0) -> None:
        self._limits = {"user": per_user, "address": per_address}
        self._window = window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] < time.monotonic() - self._window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)  # names tried once do not pile up
        return failures

    def check(self, name: str, address: str) -> None:
        for kind, value in (("user", name), ("address", address)):
            failures = self._recent((kind, value))
            if len(failures) >= self._limits[kind]:
                wait = int(failures[0] + self._window - time.monotonic()) + 1
                raise TooManyAttempts(
                    f"too many failed logins; try again in {wait} seconds", retry_after=wait
                )

    def fail(self, name: str, address: str) -> None:
        self._failures[("user", name)].append(time.monotonic())
        self._failures[("address", address)].append(time.monotonic())


limiter = LoginLimiter()


@router.post("/api/login", summary="Log in to the dashboard: sets a session cookie")
async def login(request: Request) -> Response:
    body = validate(LoginBody, parse_json(await request.body()))
    text("name", body.name, limit=64)
    text("password", body.password, limit=1024)
    address = request.client.host if request.client else "unknown"
    limiter.check(body.name, address)
    rt = deps.runtime(request)
    stored = await run_in_threadpool(rt.accounts.password_hash, body.name)
    if not await run_in_threadpool(verify_password, stored, body.password):
        limiter.fail(body.name, address)
        raise Unauthorized("wrong name or password")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
    await run_in_threadpool(rt.accounts.start_session, body.name, secret_hash(token), csrf, expires)
    await run_in_threadpool(rt.credentials.reload)
    caller = rt.credentials.by_session(token)[0]
    response = json_response({"name": caller.name, "role": caller.role, "csrf_token": csrf})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/api/logout", summary="End this dashboard session")
async def logout(request: Request, caller: Authenticated) -> Response:
    rt = deps.runtime(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is not None:
        await run_in_threadpool(rt.accounts.end_session, secret_hash(cookie))
        await run_in_threadpool(rt.credentials.reload)
    response = json_response({"name": caller.name, "logged_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/api/session", summary="The dashboard session's user and CSRF token")
async def session(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise Unauthorized("not logged in")
    caller, csrf = await run_in_threadpool(deps.runtime(request).credentials.by_session, cookie)
    return json_response({"name": caller.name, "role": caller.role, "csrf_token": csrf})
