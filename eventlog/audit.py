"""The log as the audit tool reads it: filtered reads through a server-side cursor, one
consistent snapshot per command, and `import` into an empty database.

A reader's connection is REPEATABLE READ and READ ONLY: every query of one command sees
the same log, and no command but `import` can write (so they all run on a read replica).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

from eventlog.database import connect, translated
from eventlog.errors import InvalidArgument
from eventlog.records import RecordedEvent
from eventlog.schema import check, migrate
from eventlog.store import APPEND_LOCK, COLUMNS, SELECT_EVENTS, Connection, event_row, iterate_log

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which events to read; every bound is inclusive and every field optional."""

    since: datetime | None = None
    until: datetime | None = None
    up_to_position: int | None = None
    stream: str | None = None
    by: str | None = None
    types: tuple[str, ...] = ()


def _where(selected: LogFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("recorded_at >= %s", selected.since),
        ("recorded_at <= %s", selected.until),
        ("position <= %s", selected.up_to_position),
        ("stream = %s", selected.stream),
        ("by_user = %s", selected.by),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if selected.types:
        clauses.append("type = ANY(%s)")
        params.append(list(selected.types))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _migrate_and_lock_empty(conn: Connection) -> None:
    migrate(conn)
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
    row = conn.execute("SELECT count(*), max(position) FROM events").fetchone()
    _require_empty(row)


class _OwnConnection:
    """A connection of its own, prepared on open and closed on exit (closing it rolls back
    whatever was not committed)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @classmethod
    def _connect(cls, url: str, prepare: Callable[[Connection], None]) -> Self:
        conn = connect(url)
        try:
            with translated():
                prepare(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()


def _read_only_snapshot(conn: Connection) -> None:
    check(conn)
    conn.execute(
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
    )
    conn.commit()


class AuditLog(_OwnConnection):
    """One read-only snapshot of the log. Used by one thread, for one command."""

    @classmethod
    def open(cls, url: str) -> Self:
        """Raises `DatabaseUnavailable` (URL shown without its password) or `SchemaMissing`."""
        return cls._connect(url, _read_only_snapshot)

    def head(self) -> tuple[int, str] | None:
        """The last event's position and hash; None for an empty log."""
        with translated():
            row = self._conn.execute(
                "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
            ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def position_at(self, moment: datetime) -> int:
        """The last position recorded at or before `moment` (0: none)."""
        with translated():
            row = self._conn.execute(
                "SELECT coalesce(max(position), 0) FROM events WHERE recorded_at <= %s", (moment,)
            ).fetchone()
        return int(row[0]) if row else 0

    def stream(
        self, stream: str, *, up_to_position: int | None = None, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events in version order, up to a position and/or a version."""
        with translated():
            rows = self._conn.execute(
                f"{SELECT_EVENTS} WHERE stream = %s AND position <= %s AND version <= %s"
                " ORDER BY version",
                (stream, up_to_position or 2**63 - 1, up_to_version or 2**31 - 1),
            ).fetchall()
        return [RecordedEvent(*row) for row in rows]

    def count(self, selected: LogFilter = LogFilter()) -> int:
        where, params = _where(selected)
        with translated():
            row = self._conn.execute(f"SELECT count(*) FROM events{where}", params).fetchone()
        return int(row[0]) if row else 0

    def streams(self) -> int:
        with translated():
            row = self._conn.execute("SELECT count(DISTINCT stream) FROM events").fetchone()
        return int(row[0]) if row else 0

    def events(self, selected: LogFilter = LogFilter()) -> Iterator[RecordedEvent]:
        """The selected events in position order, streamed through a server-side cursor:
        memory stays flat however long the log. Other calls may interleave with it."""
        where, params = _where(selected)
        with translated():
            yield from iterate_log(self._conn, f"{SELECT_EVENTS}{where} ORDER BY position", params)


# Import


@dataclass(frozen=True, slots=True)
class ImportedUser:
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


def event_from_shape(shape: Any) -> RecordedEvent:
    """The inverse of `RecordedEvent.shape()` plus `hash`, as `export` writes it.

    Raises `InvalidArgument` naming the first field that is missing or of the wrong type.
    """

    if not isinstance(shape, dict):
        raise InvalidArgument("event", "an event is a JSON object")

    def field(name: str, kind: type, *, optional: bool = False) -> Any:
        value = shape.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise InvalidArgument(name, f"{name} is missing or not a {_kind_name(kind)}")
        return value

    at = field("at", str)
    try:
        recorded_at = datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidArgument(
            "at", f"at is not a UTC time like 2026-12-03T15:53:00.000001Z: {at!r}"
        ) from None
    return RecordedEvent(
        position=field("position", int),
        stream=field("stream", str),
        version=field("version", int),
        type=field("type", str),
        data=field("data", dict),
        by=field("by", str),
        command_id=field("command_id", str, optional=True),
        correlation_id=field("correlation_id", str, optional=True),
        recorded_at=recorded_at,
        hash=field("hash", str),
    )


_KIND_NAMES: dict[type, str] = {int: "whole number", str: "string", dict: "JSON object"}


def _kind_name(kind: type) -> str:
    return _KIND_NAMES.get(kind, "value")


def _require_empty(row: tuple[Any, ...] | None) -> None:
    if row and int(row[0]):
        raise InvalidArgument(
            "database",
            f"the database already holds {row[0]} events (up to position {row[1]});"
            " import only into an empty database",
        )


class LogImport(_OwnConnection):
    """Loads a whole exported log into an empty database, in one transaction.

    `open` migrates the schema (the one audit command that writes), takes the append lock
    so no server appends meanwhile, and refuses a database that already holds events.
    Nothing is kept unless `commit` is called.
    """

    @classmethod
    def open(cls, url: str) -> Self:
        return cls._connect(url, _migrate_and_lock_empty)

    def events(self, events: Iterable[RecordedEvent]) -> int:
        """COPY the events in as they are: positions, times and hashes kept."""
        count = 0
        with (
            translated(),
            self._conn.cursor() as cur,
            cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy,
        ):
            for e in events:
                copy.write_row(event_row(e))
                count += 1
        return count

    def users(self, users: Sequence[ImportedUser]) -> None:
        """Recreate account rows from the log, without passwords or tokens (never in it)."""
        with translated():
            self._conn.cursor().executemany(
                "INSERT INTO users (name, role, created_at, revoked_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE"
                " SET role = excluded.role, revoked_at = excluded.revoked_at",
                [(u.name, u.role, u.created_at, u.revoked_at) for u in users],
            )

    def ticket_ids_from(self, last_ticket_id: int) -> None:
        """The next ticket opened gets `last_ticket_id + 1`."""
        if last_ticket_id > 0:
            with translated():
                self._conn.execute("SELECT setval('ticket_ids', %s)", (last_ticket_id,))

    def commit(self) -> None:
        with translated():
            self._conn.commit()
