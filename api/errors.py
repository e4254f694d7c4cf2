"""Errors of the HTTP edge, and the one place that maps Snag's errors to HTTP."""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from actors import (
    AlreadyClaimed,
    CommandIdReused,
    InvalidTransition,
    OutcomeUnknown,
    QueueEmpty,
    TicketClosed,
)
from actors.errors import NotWaiting
from eventlog import (
    CommandAlreadyRecorded,
    DatabaseUnavailable,
    Forbidden,
    InvalidArgument,
    NotFound,
    SchemaMissing,
    SnagError,
    Unauthorized,
    VersionConflict,
)

logger = logging.getLogger(__name__)


# HTTP edge


class InvalidJSON(SnagError):
    """The body is not valid UTF-8 JSON."""

    code = "invalid_json"


class UnsupportedMediaType(SnagError):
    """The body is not declared as JSON."""

    code = "unsupported_media_type"


class PayloadTooLarge(SnagError):
    """The body is over the size limit."""

    code = "payload_too_large"


class UnknownCommand(SnagError):
    """The `command` field names no command."""

    code = "unknown_command"


class CsrfRejected(SnagError):
    """A cookie-authenticated write came without the session's CSRF token."""

    code = "csrf_rejected"


class TooManyAttempts(SnagError):
    """Too many failed logins; wait before trying again."""

    code = "too_many_attempts"


STATUS: dict[type[SnagError], int] = {
    InvalidJSON: 400,
    Unauthorized: 401,
    Forbidden: 403,
    CsrfRejected: 403,
    NotFound: 404,
    VersionConflict: 409,
    AlreadyClaimed: 409,
    InvalidTransition: 409,
    TicketClosed: 409,
    QueueEmpty: 409,
    NotWaiting: 409,
    CommandAlreadyRecorded: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    InvalidArgument: 422,
    UnknownCommand: 422,
    CommandIdReused: 422,
    TooManyAttempts: 429,
    DatabaseUnavailable: 503,
    OutcomeUnknown: 503,
    SchemaMissing: 503,
}


def status_of(error: SnagError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(code: str, message: str, **details: Any) -> bytes:
    return orjson.dumps({"error": code, "message": message, **details})


def error_response(error: SnagError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    if isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.details.get("retry_after", 60))}
    return Response(
        error_body(error.code, error.message, **error.details),
        status_code=status_of(error),
        media_type="application/json",
        headers=headers,
    )


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|\d{1,6}")


def _field(loc: tuple[Any, ...]) -> str:
    # A field name comes from the client: show it only when it looks like one.
    parts = (str(p) if _NAME.fullmatch(str(p)) else "(unnamed field)" for p in loc)
    return ".".join(parts) or "body"


def invalid_argument(errors: list[Any]) -> InvalidArgument:
    """The first pydantic error as an `InvalidArgument` naming its field; input never echoed."""
    first = errors[0]
    field = _field(tuple(p for p in first["loc"] if p not in ("body", "query", "path")))
    if first["type"] == "extra_forbidden":
        return InvalidArgument(field, f"{field} is not an argument of this command")
    if first["type"] == "missing":
        return InvalidArgument(field, f"{field} is required")
    return InvalidArgument(field, f"{field}: {first['msg']}")


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(SnagError)
    async def snag_error(request: Request, exc: SnagError) -> Response:
        if status_of(exc) >= 500:
            logger.warning("%s %s answered %s: %s", request.method, request.url.path, exc.code, exc)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(invalid_argument(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = {
            404: f"there is nothing at {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }.get(exc.status_code, str(exc.detail))
        return Response(error_body(code, message), exc.status_code, media_type="application/json")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return Response(
            error_body("internal_error", "something went wrong inside Snag; it was logged"),
            500,
            media_type="application/json",
        )
