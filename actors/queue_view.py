"""The queue-view actor: the read models in RAM, fed by the log, and presence."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pykka

from actors.model import Ticket, fold, stream_name, ticket_id_of
from actors.views import is_internal
from eventlog import DatabaseUnavailable, EventStore, RecordedEvent, format_time
from projections import QueueList, sort_key, summary
from projections.changes import Change, PresenceChange, frame
from projections.presence import Presence
from projections.queue_list import Key

logger = logging.getLogger(__name__)

# Messages


@dataclass(frozen=True, slots=True)
class Apply:
    events: Sequence[RecordedEvent]


@dataclass(frozen=True, slots=True)
class Attach:
    """Hand every later change to `publish` on `loop`, after calling `start_after(position)`."""

    publish: Callable[[Sequence[Change] | PresenceChange], None]
    start_after: Callable[[int], None]
    loop: asyncio.AbstractEventLoop
    reply: Future[int] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class ListTickets:
    queue: str | None = None
    status: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    tag: str | None = None
    limit: int = 100
    cursor: str | None = None
    reply: Future[bytes] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class ListQueues:
    reply: Future[bytes] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Unassigned tickets of a queue, most urgent and oldest first, for `next`."""

    queue: str
    reply: Future[list[int]] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class Describe:
    """Position, size and digest of each read model, to compare with `snag rebuild`."""

    reply: Future[dict[str, Any]] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class PresenceSignal:
    """`name` opened (+1) or closed (-1) a ticket page, or is replying (`replying=True`)."""

    ticket: int
    name: str
    viewers: int = 0
    replying: bool | None = None


@dataclass(frozen=True, slots=True)
class ExpirePresence:
    now: float


def encode_cursor(ticket: Ticket) -> str:
    rank, created, ticket_id = sort_key(ticket)
    return f"{rank}.{format_time(created)}.{ticket_id}"


def decode_cursor(cursor: str) -> tuple[int, datetime, int]:
    """The sort key a cursor names; the route has checked its form."""
    rank, _, rest = cursor.partition(".")
    created, _, ticket_id = rest.rpartition(".")
    at = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(rank), at, int(ticket_id)


class QueueViewActor(pykka.ThreadingActor):
    """Owns the queue list and who-is-where presence, in RAM, for this process.

    Runs on its own thread: every message is handled there, one at a time. The log
    tailer's thread tells it each batch of events in position order, so whichever node
    wrote an event, it is applied once. Once attached to the event loop, each change is
    encoded here, off the loop, and handed over with `loop.call_soon_threadsafe`. Reads
    are answered from memory, as bytes, through the message's future. Nothing escapes
    `on_receive`: a told message that raised would stop the actor.
    """

    def __init__(self, store: EventStore, closing: threading.Event) -> None:
        super().__init__()
        self._store = store
        self._list = QueueList()
        self._presence = Presence()
        self._closing = closing
        self._publish: Callable[[Sequence[Change] | PresenceChange], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._digest: tuple[int, str] = (-1, "")

    def on_receive(self, message: Any) -> None:
        try:
            self._handle(message)
        except Exception as exc:
            reply = getattr(message, "reply", None)
            if isinstance(reply, Future) and not reply.done():
                reply.set_exception(exc)
            else:
                logger.exception("queue view failed on %s", type(message).__name__)

    def _handle(self, message: Any) -> None:
        match message:
            case Apply(events=events):
                changes = [self._apply(event) for event in events]
                if self._publish is not None and self._loop is not None:
                    # One hand-over per batch: the loop sees a burst as a few items, not thousands.
                    self._loop.call_soon_threadsafe(self._publish, changes)
            case Attach():
                self._publish, self._loop = message.publish, message.loop
                self._loop.call_soon_threadsafe(message.start_after, self._list.position)
                message.reply.set_result(self._list.position)
            case ListTickets():
                message.reply.set_result(self._tickets(message))
            case ListQueues():
                counts = self._list.counts()
                queues = [
                    {"name": queue, "counts": by_status, "total": sum(by_status.values())}
                    for queue, by_status in counts.items()
                ]
                message.reply.set_result(
                    orjson.dumps({"queues": queues, "position": self._list.position})
                )
            case Candidates(queue=queue):
                found = self._list.tickets(queue=queue, unassigned=True)
                message.reply.set_result([t.id for t in found[:200]])
            case Describe():
                message.reply.set_result(self._describe())
            case PresenceSignal():
                self._signal(message)
            case ExpirePresence(now=now):
                self._expire(now)

    @property
    def position(self) -> int:
        return self._list.position

    def _reload(self, ticket_id: int, position: int) -> Ticket | None:
        return fold(None, self._store.read_stream(stream_name(ticket_id), up_to=position))

    def _apply(self, event: RecordedEvent) -> Change:
        """Fold one event, whatever happens: a failed read of a reopened ticket's history is
        retried until the database answers; an event this code cannot fold (a type from a
        newer node) is logged and passed over, so the events after it still arrive."""
        delay = 0.1
        before = after = None
        while not self._closing.is_set():
            try:
                before, after = self._list.apply(event, self._reload)
                break
            except DatabaseUnavailable:
                logger.warning("queue view waits for the database to apply %s", event.position)
                self._closing.wait(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                logger.exception("queue view passes over event %s (%s)", event.position, event.type)
                self._list.skip(event)
                break
        if self._publish is None:
            return Change(event.position)  # catching up at start: nobody to encode for yet
        return self._change(event, before, after)

    def _row(self, ticket: Ticket) -> dict[str, Any]:
        row = summary(ticket)
        row["presence"] = self._people(ticket.id)
        return row

    def _change(self, event: RecordedEvent, before: Ticket | None, after: Ticket | None) -> Change:
        position = event.position
        full = frame("event", event.shape(), position)
        public = None if is_internal(event) else full
        ticket_id = ticket_id_of(event.stream)
        if ticket_id is None or (before is None and after is None):
            return Change(position, ticket_id, event=full, public_event=public)
        removed = frame("ticket", {"id": ticket_id, "removed": True}, position)
        row = frame("ticket", self._row(after), position) if after else None
        queues: dict[str, bytes] = {}
        if before is not None and (after is None or after.queue != before.queue):
            queues[before.queue] = removed
        if after is not None and row is not None:
            queues[after.queue] = row
        return Change(
            position, ticket_id, queues, all_queues=row or removed, event=full, public_event=public
        )

    def _tickets(self, query: ListTickets) -> bytes:
        def found(after: Key | None = None) -> Iterator[Ticket]:
            return self._list.matching(
                queue=query.queue,
                status=query.status,
                assignee=query.assignee,
                unassigned=query.unassigned,
                tag=query.tag,
                after=after,
            )

        after = decode_cursor(query.cursor) if query.cursor is not None else None
        page = list(itertools.islice(found(after), query.limit + 1))
        more = len(page) > query.limit
        page = page[: query.limit]
        filtered = query.status or query.assignee or query.unassigned or query.tag
        total = sum(1 for _ in found()) if filtered else self._list.size(query.queue)
        counts = self._list.counts()
        body = {
            "tickets": [self._row(t) for t in page],
            "counts": counts.get(query.queue, {}) if query.queue else counts,
            "total": total,
            "position": self._list.position,
            "next_cursor": encode_cursor(page[-1]) if more else None,
        }
        return orjson.dumps(body)

    def _describe(self) -> dict[str, Any]:
        position = self._list.position
        if self._digest[0] != position:
            self._digest = (position, self._list.digest())
        return {
            "queue_list": {
                "position": position,
                "tickets": len(self._list),
                "digest": self._digest[1],
            }
        }

    # Presence

    def _people(self, ticket_id: int) -> list[dict[str, str]]:
        return self._presence.people(ticket_id, time.monotonic())

    def _signal(self, signal: PresenceSignal) -> None:
        self._presence.signal(
            signal.ticket, signal.name, time.monotonic(), signal.viewers, signal.replying
        )
        self._announce(signal.ticket)

    def _expire(self, now: float) -> None:
        for ticket_id in self._presence.expire(now):
            self._announce(ticket_id)

    def _announce(self, ticket_id: int) -> None:
        if self._publish is None or self._loop is None:
            return
        ticket = self._list.get(ticket_id)
        data = {"ticket": ticket_id, "presence": self._people(ticket_id)}
        change = PresenceChange(
            ticket_id, ticket.queue if ticket else None, frame("presence", data)
        )
        self._loop.call_soon_threadsafe(self._publish, change)
