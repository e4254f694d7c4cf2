"""Snag's error hierarchy: one base class, grouped by layer.

Storage and general errors live here, in the lowest layer, so every package can
raise them; ticket-rule errors extend the hierarchy in `actors.errors`, and the
HTTP edge maps every class to a status code in one place (`api.errors`).
"""

from __future__ import annotations

from typing import Any, ClassVar


class SnagError(Exception):
    """Base class of every error Snag raises on purpose."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


# Storage


class VersionConflict(SnagError):
    """The stream's version is not the one the writer expected."""

    code = "version_conflict"

    def __init__(self, stream: str, current_version: int, expected_version: int) -> None:
        super().__init__(
            f"{stream} is at version {current_version}, not {expected_version}",
            current_version=current_version,
        )
        self.stream = stream
        self.current_version = current_version


class DatabaseUnavailable(SnagError):
    """PostgreSQL cannot be reached or failed while answering."""

    code = "database_unavailable"


class OutcomeUnknown(SnagError):
    """The command may or may not have been applied (no answer in time, or the commit's
    acknowledgement was lost); a retry with the same command_id settles it."""

    code = "outcome_unknown"


class CommandAlreadyRecorded(SnagError):
    """Another request recorded the same command_id first."""

    code = "command_id_recorded"


class SchemaMissing(SnagError):
    """The database has no Snag schema, or an older one, and this command may not migrate."""

    code = "schema_missing"


# General


class NotFound(SnagError):
    """The thing asked for does not exist."""

    code = "not_found"


class InvalidArgument(SnagError):
    """An argument is malformed or out of range; `field` names it."""

    code = "invalid_argument"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field = field


class Unauthorized(SnagError):
    """No valid credentials came with the request."""

    code = "unauthorized"


class Forbidden(SnagError):
    """The caller's role may not do this."""

    code = "forbidden"
