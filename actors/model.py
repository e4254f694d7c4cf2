"""A ticket's state and the pure fold that builds it: `evolve(state, event) -> state`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from actors.events import (
    CommentAdded,
    PriorityChanged,
    StatusChanged,
    SubjectChanged,
    TagAdded,
    TagRemoved,
    TicketAssigned,
    TicketClaimed,
    TicketEvent,
    TicketMoved,
    TicketOpened,
    TicketReleased,
    decode_ticket,
)
from eventlog import RecordedEvent

STATUSES = ("new", "open", "pending", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("open", "pending", "solved"),
    "open": ("pending", "solved"),
    "pending": ("open", "solved"),
    "solved": ("open", "closed"),
    "closed": ("open",),
}


@dataclass(frozen=True, slots=True)
class Comment:
    author: str
    body: str
    internal: bool
    from_requester: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    subject: str
    body: str
    requester: str
    queue: str
    status: str
    priority: str
    assignee: str | None
    tags: tuple[str, ...]
    comments: tuple[Comment, ...]
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    version: int


def stream_name(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


def ticket_id_of(stream: str) -> int | None:
    prefix, _, number = stream.partition("-")
    return int(number) if prefix == "ticket" and number.isdigit() else None


def evolve(state: Ticket | None, event: TicketEvent, *, version: int, at: datetime) -> Ticket:
    """The ticket after `event`, recorded at `at` as the ticket's `version`."""
    if isinstance(event, TicketOpened):
        return Ticket(
            id=event.ticket,
            subject=event.subject,
            body=event.body,
            requester=event.requester,
            queue=event.queue,
            status="new",
            priority=event.priority,
            assignee=None,
            tags=tuple(event.tags),
            comments=(),
            created_at=at,
            updated_at=at,
            first_response_at=None,
            version=version,
        )
    if state is None:
        raise ValueError(f"{type(event).__name__} before TicketOpened")
    return replace(state, version=version, updated_at=at, **_changes(state, event, at))


def _changes(state: Ticket, event: TicketEvent, at: datetime) -> dict[str, Any]:
    """The fields `event` changes (one `replace` per event: it is the fold's hot path)."""
    match event:
        case TicketClaimed(assignee=who) | TicketAssigned(assignee=who):
            return {"assignee": who}
        case TicketReleased():
            return {"assignee": None}
        case CommentAdded():
            comment = Comment(event.author, event.body, event.internal, event.from_requester, at)
            first_response = state.first_response_at
            if first_response is None and not event.internal and not event.from_requester:
                first_response = at
            return {"comments": (*state.comments, comment), "first_response_at": first_response}
        case StatusChanged(new=new):
            return {"status": new}
        case PriorityChanged(new=new):
            return {"priority": new}
        case SubjectChanged(new=new):
            return {"subject": new}
        case TicketMoved(new=new):
            return {"queue": new}
        case TagAdded(tag=tag):
            return {"tags": (*state.tags, tag)}
        case TagRemoved(tag=tag):
            return {"tags": tuple(t for t in state.tags if t != tag)}
    raise TypeError(f"not a ticket event: {event!r}")


def fold(state: Ticket | None, recorded: Iterable[RecordedEvent]) -> Ticket | None:
    """Apply recorded events of one ticket stream in version order."""
    for event in recorded:
        domain = decode_ticket(event.type, dict(event.data))
        state = evolve(state, domain, version=event.version, at=event.recorded_at)
    return state
