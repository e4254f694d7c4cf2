"""The schema, as numbered migrations the program applies itself at start."""

from __future__ import annotations

from typing import Any

import psycopg

from eventlog.errors import SchemaMissing

MIGRATION_LOCK = 0x736E6167_0001
"""Advisory lock key: two processes starting at once migrate one after the other."""

MIGRATIONS: tuple[str, ...] = (
    # 1: the event log, command results, accounts.
    """
    CREATE TABLE events (
        position       bigint PRIMARY KEY CHECK (position > 0),
        stream         text NOT NULL,
        version        integer NOT NULL CHECK (version > 0),
        type           text NOT NULL,
        data           jsonb NOT NULL,
        by_user        text NOT NULL,
        command_id     text,
        correlation_id text,
        recorded_at    timestamptz NOT NULL,
        hash           text NOT NULL,
        UNIQUE (stream, version)
    );
    CREATE INDEX events_recorded_at ON events (recorded_at);
    CREATE SEQUENCE ticket_ids;
    CREATE TABLE commands (
        username     text NOT NULL,
        command_id   text NOT NULL,
        request_hash text NOT NULL,
        status       integer NOT NULL,
        response     bytea NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (username, command_id)
    );
    CREATE TABLE users (
        name          text PRIMARY KEY,
        role          text NOT NULL CHECK (role IN ('agent', 'admin', 'integration')),
        password_hash text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        revoked_at    timestamptz
    );
    CREATE TABLE tokens (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        username   text NOT NULL REFERENCES users (name),
        label      text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
    );
    """,
    # 2: dashboard sessions.
    """
    CREATE TABLE sessions (
        token_hash  text PRIMARY KEY,
        username    text NOT NULL REFERENCES users (name),
        csrf_token  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        ended_at    timestamptz
    );
    """,
)


def migrate(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """Apply every migration not yet applied; idempotent. Returns the schema version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        current = int(row[0]) if row else 0
        for number, sql in enumerate(MIGRATIONS, start=1):
            if number > current:
                conn.execute(sql.encode())
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))
    return len(MIGRATIONS)


def check(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Raise `SchemaMissing` unless the schema is current: read-only tools never migrate."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    version = 0
    if row and row[0]:
        found = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        version = int(found[0]) if found else 0
    conn.rollback()
    if version < len(MIGRATIONS):
        raise SchemaMissing(
            "the database has no current Snag schema; start `snag serve` against it once"
        )
