"""Connections to PostgreSQL: the pool, driver-error translation and URL redaction."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg
import psycopg_pool
from psycopg.types.json import set_json_loads

from eventlog.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

POOL_TIMEOUT = 2.0
"""Seconds a caller waits for a connection: an outage answers 503 quickly, not after 30 s."""


def redact(url: str) -> str:
    """The URL with any password replaced by `***`, safe to print."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            user = parts.username or ""
            parts = parts._replace(netloc=f"{user}:***@{host}")
        url = urlunsplit(parts)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", url)


def _configure(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    set_json_loads(orjson.loads, conn)  # event data is parsed on every fold: the fast parser
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


def open_pool(
    url: str, *, min_size: int = 2, max_size: int = 10
) -> psycopg_pool.ConnectionPool[psycopg.Connection[tuple[Any, ...]]]:
    """Open a pool, failing at once (`DatabaseUnavailable`) when the database cannot be reached."""
    # One direct attempt first: a refused connection or a FATAL answer is known in
    # milliseconds, where the pool would keep retrying until its open timeout.
    connect(url).close()
    pool = psycopg_pool.ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        timeout=POOL_TIMEOUT,
        configure=_configure,
        name="snag",
    )
    try:
        pool.open(wait=True, timeout=10.0)
    except (psycopg_pool.PoolTimeout, psycopg.Error) as exc:
        pool.close()
        raise DatabaseUnavailable(f"cannot connect to the database at {redact(url)}") from exc
    return pool


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
    """One connection outside the pool (the tailer's LISTEN, the audit tool's cursors)."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=5)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot connect to the database at {redact(url)}") from exc
    set_json_loads(orjson.loads, conn)
    conn.execute("SET TIME ZONE 'UTC'")
    if not autocommit:
        conn.commit()
    return conn


@contextmanager
def translated() -> Iterator[None]:
    """Turn an outage (driver or pool) into `DatabaseUnavailable`."""
    try:
        yield
    except (psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed) as exc:
        raise DatabaseUnavailable("the database is unavailable; try again shortly") from exc
    except psycopg.OperationalError as exc:
        logger.warning("database operation failed: %s", exc)
        raise DatabaseUnavailable("the database is unavailable; try again shortly") from exc
