"""The append-only event log in PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import psycopg_pool
from psycopg.types.json import Jsonb

from eventlog.database import translated
from eventlog.errors import CommandAlreadyRecorded, OutcomeUnknown, VersionConflict
from eventlog.records import (
    GENESIS_HASH,
    Metadata,
    RecordedEvent,
    StreamWrite,
    canonical,
    chain_hash,
)

logger = logging.getLogger(__name__)

APPEND_LOCK = 0x736E6167_0002
"""Advisory lock key that serializes appends, so positions become visible in order."""

NOTIFY_CHANNEL = "snag_events"

Connection = psycopg.Connection[tuple[Any, ...]]

COLUMNS = (
    "position, stream, version, type, data, by_user, command_id, correlation_id, recorded_at, hash"
)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command's first successful response, stored in the transaction of its events.

    `render` runs inside that transaction, on the appending thread, with the events as
    recorded (positions and times known), and returns the status and body to keep.
    """

    username: str
    command_id: str
    request_hash: str
    render: Callable[[list[RecordedEvent]], tuple[int, bytes]]


def _row_to_event(row: tuple[Any, ...]) -> RecordedEvent:
    return RecordedEvent(*row)


def event_row(e: RecordedEvent) -> tuple[Any, ...]:
    """An event as the values of `COLUMNS`, for INSERT and COPY."""
    return (
        e.position, e.stream, e.version, e.type, Jsonb(e.data), e.by,
        e.command_id, e.correlation_id, e.recorded_at, e.hash,
    )  # fmt: skip


def append_in(
    conn: Connection,
    writes: Sequence[StreamWrite],
    metadata: Metadata,
) -> list[RecordedEvent]:
    """Append inside the caller's open transaction. Raises `VersionConflict`.

    Critical section: the advisory lock is held until the transaction ends, and every
    position is taken inside it, so a transaction with a lower position always commits
    before one with a higher position starts: a tailer reading `position > n` can never
    see n + 2 before n + 1. The lock also orders `recorded_at` with positions.
    """
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
    for write in writes:
        row = conn.execute(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream = %s", (write.stream,)
        ).fetchone()
        current = int(row[0]) if row else 0
        if current != write.expected_version:
            raise VersionConflict(write.stream, current, write.expected_version)
    head = conn.execute(
        "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
    ).fetchone()
    position, previous = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    now_row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert now_row is not None
    recorded_at: datetime = now_row[0]

    recorded: list[RecordedEvent] = []
    for write in writes:
        for offset, new in enumerate(write.events, start=1):
            position += 1
            version = write.expected_version + offset
            form = canonical(
                position=position,
                stream=write.stream,
                version=version,
                type=new.type,
                data=new.data,
                metadata=metadata,
                recorded_at=recorded_at,
            )
            previous = chain_hash(previous, form)
            recorded.append(
                RecordedEvent(
                    position,
                    write.stream,
                    version,
                    new.type,
                    dict(new.data),
                    metadata.by,
                    metadata.command_id,
                    metadata.correlation_id,
                    recorded_at,
                    previous,
                )
            )
    with conn.cursor() as cur:
        try:
            cur.executemany(
                f"INSERT INTO events ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [event_row(e) for e in recorded],
            )
        except psycopg.errors.UniqueViolation as exc:
            # Only a writer that bypassed the lock can get here; the constraint still holds.
            raise VersionConflict(writes[0].stream, -1, writes[0].expected_version) from exc
    if recorded:
        conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(position)))
    return recorded


class EventStore:
    """The event log. Safe to call from any thread; every call borrows a pooled connection."""

    def __init__(self, pool: psycopg_pool.ConnectionPool) -> None:
        self.pool = pool

    def append(
        self,
        writes: Sequence[StreamWrite],
        metadata: Metadata,
        command: CommandRecord | None = None,
    ) -> list[RecordedEvent]:
        """Append atomically. Raises `VersionConflict`, `CommandAlreadyRecorded`,
        `DatabaseUnavailable` (then the outcome is unknown if it came while committing)."""
        with translated(), self.pool.connection() as conn:
            recorded = append_in(conn, writes, metadata)
            if command is not None:
                status, body = command.render(recorded)
                row = conn.execute(
                    "INSERT INTO commands (username, command_id, request_hash, status, response)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                    (command.username, command.command_id, command.request_hash, status, body),
                ).fetchone()
                if row is None:
                    raise CommandAlreadyRecorded(f"command {command.command_id} already recorded")
            try:
                conn.commit()
            except psycopg.OperationalError as exc:
                # The COMMIT may have landed with its acknowledgement lost.
                raise OutcomeUnknown(
                    "the database went away while committing; retry with the same command_id"
                ) from exc
        return recorded

    def stored_response(self, username: str, command_id: str) -> StoredResponse | None:
        with translated(), self.pool.connection() as conn:
            row = conn.execute(
                "SELECT request_hash, status, response FROM commands"
                " WHERE username = %s AND command_id = %s",
                (username, command_id),
            ).fetchone()
        return StoredResponse(row[0], int(row[1]), bytes(row[2])) if row else None

    def next_ticket_id(self) -> int:
        with translated(), self.pool.connection() as conn:
            row = conn.execute("SELECT nextval('ticket_ids')").fetchone()
        assert row is not None
        return int(row[0])

    def read_stream(self, stream: str, up_to: int | None = None) -> list[RecordedEvent]:
        """The stream's events in version order; with `up_to`, only those at or before that position."""
        with translated(), self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM events WHERE stream = %s AND position <= %s ORDER BY version",
                (stream, up_to if up_to is not None else 2**63 - 1),
            ).fetchall()
        return [_row_to_event(r) for r in rows]

    def read_after(self, position: int, limit: int = 1000) -> list[RecordedEvent]:
        with translated(), self.pool.connection() as conn:
            return read_after_in(conn, position, limit)

    def head_position(self) -> int:
        with translated(), self.pool.connection() as conn:
            row = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        return int(row[0]) if row else 0


def read_after_in(conn: Connection, position: int, limit: int) -> list[RecordedEvent]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM events WHERE position > %s ORDER BY position LIMIT %s",
        (position, limit),
    ).fetchall()
    conn.commit()
    return [_row_to_event(r) for r in rows]


def iterate_log(conn: Connection, query: str, params: Sequence[Any]) -> Iterator[RecordedEvent]:
    """Stream events through a server-side cursor; `query` selects the standard columns."""
    with conn.cursor(name="snag_log_reader") as cur:
        cur.itersize = 2000
        cur.execute(query, params)
        for row in cur:
            yield _row_to_event(row)


SELECT_EVENTS = f"SELECT {COLUMNS} FROM events"
