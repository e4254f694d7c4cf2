"""Fan-out of changes to Server-Sent Events subscribers, with a window for resuming."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from projections.changes import Change, PresenceChange

logger = logging.getLogger(__name__)

RECENT = 10_000
"""How many recent changes a reconnecting client can resume from."""
SUBSCRIBER_QUEUE = 1_000
"""Batches of frames a subscriber may have waiting; a client this far behind is dropped.
A client that stops reading is also dropped when one write to it takes too long (the
stream's send timeout), since uvicorn would otherwise wait on it forever."""


class ResumeTooOld(Exception):
    """The position asked for is older than the changes kept in memory."""


@dataclass(frozen=True, slots=True)
class Topic:
    """What a stream follows: one queue, all queues, one ticket's page, or the event feed."""

    kind: str  # "queue", "all", "ticket" or "events"
    queue: str | None = None
    ticket: int | None = None
    internal: bool = True
    """whether the subscriber may see internal notes"""

    def frame(self, change: Change) -> bytes | None:
        match self.kind:
            case "queue":
                return change.queues.get(self.queue or "")
            case "all":
                return change.all_queues
            case "ticket":
                if change.ticket != self.ticket:
                    return None
                return change.event if self.internal else change.public_event
            case _:
                return change.event if self.internal else change.public_event

    def wants(self, presence: PresenceChange) -> bool:
        if self.kind == "queue":
            return presence.queue == self.queue
        if self.kind == "ticket":
            return presence.ticket == self.ticket
        return self.kind == "all"


@dataclass(eq=False)
class Subscription:
    topic: Topic
    after: int
    queue: asyncio.Queue[tuple[bytes, ...]] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE)
    )
    dropped: bool = False

    def offer(self, data: tuple[bytes, ...]) -> bool:
        """Queue frames without waiting; False (and dropped) when the client is too slow."""
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.dropped = True  # the queue is full, so the stream's next read sees this
            return False
        return True


def _frames(sub: Subscription, changes: Iterable[Change]) -> tuple[bytes, ...]:
    found = (sub.topic.frame(c) for c in changes if c.position > sub.after)
    return tuple(f for f in found if f is not None)


class Hub:
    """Runs on the event loop's thread only: the queue-view actor calls `publish` through
    `loop.call_soon_threadsafe`, in log order, and routes subscribe and unsubscribe there
    too, so a resume replays from `recent` and joins the live flow with no gap."""

    def __init__(self, recent: int = RECENT) -> None:
        self._recent: deque[Change] = deque(maxlen=recent)
        self._base = 0
        self._position = 0
        self._subscribers: set[Subscription] = set()

    def start_after(self, position: int) -> None:
        """Changes from here on are published; older positions cannot be resumed."""
        self._base = self._position = position

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, changes: Sequence[Change] | PresenceChange) -> None:
        """Hand a batch of changes (in log order), or a presence change, to every subscriber."""
        if isinstance(changes, PresenceChange):
            for sub in list(self._subscribers):
                if sub.topic.wants(changes) and not sub.offer((changes.frame,)):
                    self._drop(sub)
            return
        if not changes:
            return
        for change in changes:
            if len(self._recent) == self._recent.maxlen:
                self._base = self._recent[0].position
            self._recent.append(change)
        self._position = changes[-1].position
        first = changes[0].position
        shared: dict[Topic, tuple[bytes, ...]] = {}  # each topic's frames, built once per batch
        for sub in list(self._subscribers):
            if sub.after < first:
                frames = shared.get(sub.topic)
                if frames is None:
                    frames = shared[sub.topic] = _frames(sub, changes)
            else:
                frames = _frames(sub, changes)
            if frames and not sub.offer(frames):
                self._drop(sub)

    def _drop(self, sub: Subscription) -> None:
        logger.info(
            "dropped a %s stream that fell %d frames behind", sub.topic.kind, SUBSCRIBER_QUEUE
        )
        self._subscribers.discard(sub)

    def subscribe(self, topic: Topic, after: int | None) -> Subscription:
        """Follow `topic` from after `after` (None: from now). Raises `ResumeTooOld`."""
        if after is None:
            after = self._position
        elif after < self._base:
            raise ResumeTooOld(after)
        sub = Subscription(topic, after)
        frames = _frames(sub, self._recent)
        if frames:
            sub.offer(frames)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
