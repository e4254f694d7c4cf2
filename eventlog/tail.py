"""Following the log: a thread that hands every new event, in position order, to subscribers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from eventlog.database import connect
from eventlog.errors import DatabaseUnavailable
from eventlog.records import RecordedEvent
from eventlog.store import NOTIFY_CHANNEL, read_after_in

logger = logging.getLogger(__name__)

STOP_CHECK = 0.2
"""Seconds between looks at the stop flag while waiting for a notification."""

Subscriber = Callable[[Sequence[RecordedEvent]], None]


class LogTailer:
    """Reads everything after the last position it delivered, whoever wrote it.

    Runs in its own thread. It wakes on the NOTIFY that every append sends inside its
    transaction (so at once after any commit, from this process or another node or the
    command line) and polls every `poll_interval` seconds in case a notification was
    missed while reconnecting. Subscribers run on the tailer's thread, in order; one
    that raises is logged and does not stop the others.
    """

    def __init__(
        self,
        url: str,
        start_after: int = 0,
        *,
        poll_interval: float = 1.0,
        batch: int = 1000,
    ) -> None:
        self._url = url
        self._position = start_after
        self._poll_interval = poll_interval
        self._batch = batch
        self._subscribers: list[Subscriber] = []
        self._stopping = threading.Event()
        self._caught_up = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="snag-log-tailer")

    @property
    def position(self) -> int:
        return self._position

    def subscribe(self, subscriber: Subscriber) -> None:
        """Add before `start()`: a subscriber sees every event after `start_after`."""
        self._subscribers.append(subscriber)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every event up to `position` was delivered; False on timeout."""
        with self._caught_up:
            return self._caught_up.wait_for(lambda: self._position >= position, timeout)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                with connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    backoff = 0.1
                    self._follow(conn)
            except (DatabaseUnavailable, psycopg.Error) as exc:
                logger.warning("log tailer cannot read the log (%s); retrying", exc)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _follow(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        while not self._stopping.is_set():
            events = read_after_in(conn, self._position, self._batch)
            if events:
                self._deliver(events)
                continue
            self._wait(conn)

    def _wait(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        """Until a NOTIFY, `poll_interval`, or `stop()`: waits in short slices to see the latter."""
        deadline = time.monotonic() + self._poll_interval
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for _ in conn.notifies(timeout=min(remaining, STOP_CHECK), stop_after=1):
                return

    def _deliver(self, events: Sequence[RecordedEvent]) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(events)
            except Exception:
                logger.exception("log subscriber %r failed", subscriber)
        with self._caught_up:
            self._position = events[-1].position
            self._caught_up.notify_all()
