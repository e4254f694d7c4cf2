"""Users, API tokens and dashboard sessions. Secrets live in these tables; the log gets
the events (which hold none), written in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import psycopg_pool

from eventlog.database import translated
from eventlog.errors import InvalidArgument, NotFound
from eventlog.records import Metadata, NewEvent, RecordedEvent, StreamWrite
from eventlog.store import append_in


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    active: bool
    has_password: bool
    tokens: int


@dataclass(frozen=True, slots=True)
class Credentials:
    """Everything the server needs to check a request without a query."""

    users: dict[str, tuple[str, bool]]
    """name -> (role, active)"""
    tokens: dict[str, str]
    """SHA-256 of each live token -> user name"""
    sessions: dict[str, tuple[str, str, datetime]]
    """SHA-256 of each live session -> (user name, CSRF token, expiry)"""


def user_stream(name: str) -> str:
    return f"user-{name}"


class AccountStore:
    def __init__(self, pool: psycopg_pool.ConnectionPool) -> None:
        self.pool = pool

    def _version(self, conn: psycopg.Connection[tuple[Any, ...]], name: str) -> int:
        row = conn.execute(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream = %s", (user_stream(name),)
        ).fetchone()
        return int(row[0]) if row else 0

    def add_user(
        self,
        name: str,
        role: str,
        password_hash: str | None,
        events: tuple[NewEvent, ...],
        metadata: Metadata,
    ) -> list[RecordedEvent]:
        with translated(), self.pool.connection() as conn:
            inserted = conn.execute(
                "INSERT INTO users (name, role, password_hash) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING RETURNING 1",
                (name, role, password_hash),
            ).fetchone()
            if inserted is None:
                raise InvalidArgument("name", f"a user named {name!r} exists already")
            return append_in(conn, [StreamWrite(user_stream(name), 0, events)], metadata)

    def add_token(
        self,
        name: str,
        label: str,
        token_hash: str,
        event: Callable[[int], NewEvent],
        metadata: Metadata,
    ) -> int:
        """Store a token and record `event(token_id)`. Returns the token's id."""
        with translated(), self.pool.connection() as conn:
            self._require_active(conn, name)
            row = conn.execute(
                "INSERT INTO tokens (username, label, token_hash) VALUES (%s, %s, %s) RETURNING id",
                (name, label, token_hash),
            ).fetchone()
            assert row is not None
            token_id = int(row[0])
            write = StreamWrite(user_stream(name), self._version(conn, name), (event(token_id),))
            append_in(conn, [write], metadata)
        return token_id

    def revoke_user(self, name: str, event: NewEvent, metadata: Metadata) -> None:
        with translated(), self.pool.connection() as conn:
            self._require_active(conn, name)
            conn.execute("UPDATE users SET revoked_at = now() WHERE name = %s", (name,))
            conn.execute(
                "UPDATE tokens SET revoked_at = now() WHERE username = %s AND revoked_at IS NULL",
                (name,),
            )
            conn.execute(
                "UPDATE sessions SET ended_at = now() WHERE username = %s AND ended_at IS NULL",
                (name,),
            )
            write = StreamWrite(user_stream(name), self._version(conn, name), (event,))
            append_in(conn, [write], metadata)

    def revoke_token(self, name: str, token_id: int, event: NewEvent, metadata: Metadata) -> None:
        with translated(), self.pool.connection() as conn:
            row = conn.execute(
                "UPDATE tokens SET revoked_at = now()"
                " WHERE id = %s AND username = %s AND revoked_at IS NULL RETURNING 1",
                (token_id, name),
            ).fetchone()
            if row is None:
                raise NotFound(f"{name} has no live token {token_id}")
            write = StreamWrite(user_stream(name), self._version(conn, name), (event,))
            append_in(conn, [write], metadata)

    def _require_active(self, conn: psycopg.Connection[tuple[Any, ...]], name: str) -> None:
        row = conn.execute(
            "SELECT revoked_at IS NULL FROM users WHERE name = %s", (name,)
        ).fetchone()
        if row is None:
            raise NotFound(f"there is no user named {name!r}")
        if not row[0]:
            raise InvalidArgument("name", f"{name} is revoked")

    def users(self) -> list[User]:
        with translated(), self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT u.name, u.role, u.revoked_at IS NULL, u.password_hash IS NOT NULL,"
                " count(t.id) FILTER (WHERE t.revoked_at IS NULL)"
                " FROM users u LEFT JOIN tokens t ON t.username = u.name"
                " GROUP BY u.name ORDER BY u.name"
            ).fetchall()
        return [User(r[0], r[1], bool(r[2]), bool(r[3]), int(r[4])) for r in rows]

    def password_hash(self, name: str) -> str | None:
        with translated(), self.pool.connection() as conn:
            row = conn.execute(
                "SELECT password_hash FROM users WHERE name = %s AND revoked_at IS NULL", (name,)
            ).fetchone()
        return str(row[0]) if row and row[0] else None

    def credentials(self) -> Credentials:
        with translated(), self.pool.connection() as conn:
            users = {
                str(r[0]): (str(r[1]), bool(r[2]))
                for r in conn.execute("SELECT name, role, revoked_at IS NULL FROM users")
            }
            tokens = {
                str(r[0]): str(r[1])
                for r in conn.execute(
                    "SELECT token_hash, username FROM tokens WHERE revoked_at IS NULL"
                )
            }
            sessions = {
                str(r[0]): (str(r[1]), str(r[2]), r[3])
                for r in conn.execute(
                    "SELECT token_hash, username, csrf_token, expires_at FROM sessions"
                    " WHERE ended_at IS NULL AND expires_at > now()"
                )
            }
        return Credentials(users, tokens, sessions)

    def session(self, token_hash: str) -> tuple[str, str, datetime] | None:
        """A live session's (user name, CSRF token, expiry), by the hash of its cookie."""
        with translated(), self.pool.connection() as conn:
            row = conn.execute(
                "SELECT username, csrf_token, expires_at FROM sessions"
                " WHERE token_hash = %s AND ended_at IS NULL AND expires_at > now()",
                (token_hash,),
            ).fetchone()
        return (str(row[0]), str(row[1]), row[2]) if row else None

    def start_session(
        self, name: str, token_hash: str, csrf_token: str, expires_at: datetime
    ) -> None:
        with translated(), self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, username, csrf_token, expires_at)"
                " VALUES (%s, %s, %s, %s)",
                (token_hash, name, csrf_token, expires_at),
            )

    def end_session(self, token_hash: str) -> None:
        with translated(), self.pool.connection() as conn:
            conn.execute(
                "UPDATE sessions SET ended_at = now() WHERE token_hash = %s AND ended_at IS NULL",
                (token_hash,),
            )
