"""What a caller sees of tickets and events: the JSON shapes, with internal notes
hidden from integration tokens in every read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from actors.model import Ticket
from eventlog import RecordedEvent, format_time


def sees_internal(role: str) -> bool:
    return role != "integration"


def ticket_view(ticket: Ticket, role: str) -> dict[str, Any]:
    internal = sees_internal(role)
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "body": ticket.body,
        "requester": ticket.requester,
        "queue": ticket.queue,
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "tags": list(ticket.tags),
        "comments": [
            {
                "author": c.author,
                "body": c.body,
                "internal": c.internal,
                "from_requester": c.from_requester,
                "at": format_time(c.at),
            }
            for c in ticket.comments
            if internal or not c.internal
        ],
        "created_at": format_time(ticket.created_at),
        "updated_at": format_time(ticket.updated_at),
        "first_response_at": (
            format_time(ticket.first_response_at) if ticket.first_response_at else None
        ),
        "version": ticket.version,
    }


def is_internal(event: RecordedEvent) -> bool:
    return event.type == "CommentAdded" and bool(event.data.get("internal"))


def event_views(events: Iterable[RecordedEvent], role: str) -> list[dict[str, Any]]:
    internal = sees_internal(role)
    return [e.shape() for e in events if internal or not is_internal(e)]
