"""The queue list: every ticket not yet solved, folded from the log into RAM.

A projection applies each event once, in log position order. Tickets are folded with
the same `evolve` the ticket actors use; a ticket leaves the list when it is solved or
closed, and memory too once `LEFT_KEPT` more have left after it. When a ticket no longer
in memory changes again (reopened), its earlier events are needed: `apply` asks `reload`
for the ticket as of the event before, which the live view answers from the database and
the audit tool from its own read of the log.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import orjson

from actors.events import decode_ticket
from actors.model import Ticket, evolve, ticket_id_of
from eventlog import RecordedEvent, format_time

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
LIVE = frozenset({"new", "open", "pending"})
LEFT_KEPT = 10_000
"""How many tickets that left the list (solved, closed) are kept aside in memory."""

Reload = Callable[[int, int], Ticket | None]
"""(ticket id, position) -> the ticket as of that position, or None."""


Key = tuple[int, datetime, int]


def sort_key(ticket: Ticket) -> Key:
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
        # Sort keys kept in order per queue (and under None for all queues), so a page is
        # a bisect and a slice, not a sort of the whole queue on every request.
        self._order: dict[str | None, list[Key]] = defaultdict(list)
        # The last tickets to leave the list, kept aside (not listed) so the close or the
        # requester's reply that often follows a solve needs no read of the ticket's history.
        self._left: OrderedDict[int, Ticket] = OrderedDict()

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
            state = self._left.get(ticket_id)
            if state is None or state.version != event.version - 1:
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
            self._unorder(before)
            del self._tickets[ticket_id]
        self._left.pop(ticket_id, None)
        if after.status in LIVE:
            self._tickets[ticket_id] = after
            self._count(after, +1)
            self._reorder(after)
            return before, after
        self._left[ticket_id] = after
        if len(self._left) > LEFT_KEPT:
            self._left.popitem(last=False)
        return before, None

    def _reorder(self, ticket: Ticket) -> None:
        key = sort_key(ticket)
        for queue in (ticket.queue, None):
            bisect.insort(self._order[queue], key)

    def _unorder(self, ticket: Ticket) -> None:
        key = sort_key(ticket)
        for queue in (ticket.queue, None):
            keys = self._order[queue]
            del keys[bisect.bisect_left(keys, key)]
            if not keys:
                del self._order[queue]

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

    def matching(
        self,
        *,
        queue: str | None = None,
        status: str | None = None,
        assignee: str | None = None,
        unassigned: bool = False,
        tag: str | None = None,
        after: Key | None = None,
    ) -> Iterator[Ticket]:
        """The matching tickets, most urgent then oldest first, from after the key `after`."""
        keys = self._order.get(queue, [])
        start = bisect.bisect_right(keys, after) if after is not None else 0
        for _, _, ticket_id in itertools.islice(keys, start, None):
            t = self._tickets[ticket_id]
            if status is not None and t.status != status:
                continue
            if unassigned and t.assignee is not None:
                continue
            if assignee is not None and not unassigned and t.assignee != assignee:
                continue
            if tag is not None and tag not in t.tags:
                continue
            yield t

    def size(self, queue: str | None = None) -> int:
        """How many tickets one queue (None: all queues) lists."""
        return len(self._order.get(queue, []))

    def tickets(
        self,
        *,
        queue: str | None = None,
        status: str | None = None,
        assignee: str | None = None,
        unassigned: bool = False,
        tag: str | None = None,
    ) -> list[Ticket]:
        """All the matching tickets, most urgent then oldest first."""
        return list(
            self.matching(
                queue=queue, status=status, assignee=assignee, unassigned=unassigned, tag=tag
            )
        )

    def digest(self) -> str:
        """SHA-256 over every listed row and the counts, to compare two builds of the list."""
        rows = [summary(t) for t in sorted(self._tickets.values(), key=lambda t: t.id)]
        document = {"position": self.position, "tickets": rows, "counts": self.counts()}
        return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
