"""The queue list: every ticket not yet solved, folded from the log into RAM.

A projection applies each event once, in log position order. Tickets are folded with
the same `evolve` the ticket actors use; a ticket leaves the list (and memory) when it is
solved or closed. When a ticket comes back (reopened), its earlier events are needed
again: `apply` asks `reload` for the ticket as of the event before, which the live view
answers from the database and the audit tool from its own read of the log.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import orjson

from actors.events import decode_ticket
from actors.model import Ticket, evolve, ticket_id_of
from eventlog import RecordedEvent, format_time

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
LIVE = frozenset({"new", "open", "pending"})

Reload = Callable[[int, int], Ticket | None]
"""(ticket id, position) -> the ticket as of that position, or None."""


def sort_key(ticket: Ticket) -> tuple[int, datetime, int]:
    """Most urgent first, then oldest first (raw times: formatting them made sorting slow)."""
    return (PRIORITY_RANK[ticket.priority], ticket.created_at, ticket.id)


def summary(ticket: Ticket) -> dict[str, Any]:
    """A row of the list (presence is added by the live view, not folded)."""
    last = ticket.comments[-1].at if ticket.comments else ticket.created_at
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "requester": ticket.requester,
        "queue": ticket.queue,
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "tags": list(ticket.tags),
        "created_at": format_time(ticket.created_at),
        "updated_at": format_time(ticket.updated_at),
        "last_activity": format_time(last),
        "version": ticket.version,
    }


class QueueList:
    """Not thread-safe: one owner (the queue-view actor, or a script) applies and reads."""

    def __init__(self) -> None:
        self.position = 0
        self._tickets: dict[int, Ticket] = {}
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def __len__(self) -> int:
        return len(self._tickets)

    def get(self, ticket_id: int) -> Ticket | None:
        return self._tickets.get(ticket_id)

    def apply(self, event: RecordedEvent, reload: Reload) -> tuple[Ticket | None, Ticket | None]:
        """Fold one event; returns the ticket's list entry (before, after), None when absent.

        Nothing changes when it raises (a failed `reload`, an unknown event type), so the
        same event can be applied again, or passed over with `skip`.
        """
        if event.position <= self.position:
            raise ValueError(f"event {event.position} is not after {self.position}")
        ticket_id = ticket_id_of(event.stream)
        if ticket_id is None:
            self.position = event.position
            return None, None
        before = self._tickets.get(ticket_id)
        state = before
        if state is None and event.version > 1:
            state = reload(ticket_id, event.position - 1)
        after = evolve(
            state,
            decode_ticket(event.type, dict(event.data)),
            version=event.version,
            at=event.recorded_at,
        )
        self.position = event.position
        if before is not None:
            self._count(before, -1)
            del self._tickets[ticket_id]
        if after.status in LIVE:
            self._tickets[ticket_id] = after
            self._count(after, +1)
            return before, after
        return before, None

    def skip(self, event: RecordedEvent) -> None:
        """Pass over an event this code cannot fold (say, a type a newer node wrote)."""
        self.position = max(self.position, event.position)

    def _count(self, ticket: Ticket, delta: int) -> None:
        by_status = self._counts[ticket.queue]
        by_status[ticket.status] += delta
        if not by_status[ticket.status]:
            del by_status[ticket.status]
        if not by_status:
            del self._counts[ticket.queue]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per queue, per status, how many tickets are listed."""
        return {queue: dict(sorted(s.items())) for queue, s in sorted(self._counts.items())}

    def tickets(
        self,
        *,
        queue: str | None = None,
        status: str | None = None,
        assignee: str | None = None,
        unassigned: bool = False,
        tag: str | None = None,
    ) -> list[Ticket]:
        """The matching tickets, most urgent then oldest first."""
        found: Iterable[Ticket] = self._tickets.values()
        if queue is not None:
            found = (t for t in found if t.queue == queue)
        if status is not None:
            found = (t for t in found if t.status == status)
        if unassigned:
            found = (t for t in found if t.assignee is None)
        elif assignee is not None:
            found = (t for t in found if t.assignee == assignee)
        if tag is not None:
            found = (t for t in found if tag in t.tags)
        return sorted(found, key=sort_key)

    def digest(self) -> str:
        """SHA-256 over every listed row and the counts, to compare two builds of the list."""
        rows = [summary(t) for t in sorted(self._tickets.values(), key=lambda t: t.id)]
        document = {"position": self.position, "tickets": rows, "counts": self.counts()}
        return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
