"""At most one live ticket actor per ticket in this process, and their passivation."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import pykka

from actors.messages import Refresh
from actors.model import ticket_id_of
from actors.ticket import TicketActor
from eventlog import DatabaseUnavailable, EventStore, RecordedEvent

logger = logging.getLogger(__name__)


class TicketRegistry:
    """A dict of live ticket actors (not Pykka's registry, whose lookups are linear).

    Any thread may call `send`; a reaper thread stops actors idle for `idle_timeout`
    seconds. Critical section: `send` puts the message in the inbox while holding the
    lock, and the reaper removes an actor and queues its stop message under the same
    lock. So every message sent to an actor precedes its stop message and is handled;
    a later `send` finds no entry and starts a fresh actor. An actor that died anyway
    (its `tell` raises `ActorDeadError`) is replaced and the message sent again.
    """

    def __init__(self, store: EventStore, idle_timeout: float = 600.0) -> None:
        self._store = store
        self._idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._actors: dict[int, pykka.ActorRef[TicketActor]] = {}
        self._last_used: dict[int, float] = {}
        self._stopping = threading.Event()
        self._closed = False
        # A daemon: it holds no work of its own, and `stop()` ends it on a clean shutdown.
        self._reaper = threading.Thread(
            target=self._reap_loop, name="snag-ticket-reaper", daemon=True
        )

    def start(self) -> None:
        self._reaper.start()

    def send(self, ticket_id: int, message: Any) -> None:
        with self._lock:
            if self._closed:
                raise DatabaseUnavailable("the server is shutting down; try again shortly")
            while True:
                ref = self._actors.get(ticket_id)
                if ref is None:
                    ref = TicketActor.start(ticket_id, self._store, self)
                    self._actors[ticket_id] = ref
                try:
                    ref.tell(message)
                except pykka.ActorDeadError:
                    del self._actors[ticket_id]
                    continue
                self._last_used[ticket_id] = time.monotonic()
                return

    def send_new(self, message: Any) -> None:
        """Hand an `OpenTicket` to an unborn actor, which `adopt`s itself once it has an id."""
        if self._closed:
            raise DatabaseUnavailable("the server is shutting down; try again shortly")
        TicketActor.start(None, self._store, self).tell(message)

    def adopt(self, ticket_id: int, ref: pykka.ActorRef[TicketActor]) -> bool:
        """Register a new ticket's actor; False if one already serves it (then `ref` stops)."""
        with self._lock:
            if ticket_id in self._actors or self._closed:
                return False
            self._actors[ticket_id] = ref
            self._last_used[ticket_id] = time.monotonic()
            return True

    def on_events(self, events: Sequence[RecordedEvent]) -> None:
        """A log subscriber (the tailer's thread): a live actor whose stream moved on, maybe
        by another node, reloads before its next use."""
        with self._lock:
            for event in events:
                ticket_id = ticket_id_of(event.stream)
                ref = self._actors.get(ticket_id) if ticket_id is not None else None
                if ref is not None:
                    with contextlib.suppress(pykka.ActorDeadError):
                        ref.tell(Refresh(event.version))

    def forget(self, ticket_id: int, ref: pykka.ActorRef[TicketActor]) -> None:
        """Stop `ref`, the actor of a ticket that does not exist, after what it was sent."""
        with self._lock:
            if self._actors.get(ticket_id) is ref:
                self._stop(ticket_id)

    def live(self) -> int:
        with self._lock:
            return len(self._actors)

    def reap(self) -> int:
        """Stop every actor idle for longer than the idle timeout; returns how many."""
        deadline = time.monotonic() - self._idle_timeout
        with self._lock:
            idle = [t for t, used in self._last_used.items() if used <= deadline]
            for ticket_id in idle:
                self._stop(ticket_id)
        if idle:
            logger.debug("passivated %d ticket actors", len(idle))
        return len(idle)

    def _stop(self, ticket_id: int) -> None:
        ref = self._actors.pop(ticket_id, None)
        self._last_used.pop(ticket_id, None)
        if ref is not None:
            ref.stop(block=False)

    def _reap_loop(self) -> None:
        interval = max(0.05, min(self._idle_timeout / 4, 30.0))
        while not self._stopping.wait(interval):
            self.reap()

    def stop(self) -> None:
        """Stop the reaper and every actor, after each has handled what it was sent."""
        self._stopping.set()
        if self._reaper.is_alive():
            self._reaper.join()
        with self._lock:
            self._closed = True
            refs = list(self._actors.values())
            self._actors.clear()
            self._last_used.clear()
        for ref in refs:
            ref.stop(block=True, timeout=30)
