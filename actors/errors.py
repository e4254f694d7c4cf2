"""Ticket-rule errors, extending Snag's hierarchy (`eventlog.errors.SnagError`)."""

from __future__ import annotations

from collections.abc import Sequence

from eventlog.errors import OutcomeUnknown, SnagError

__all__ = [
    "AlreadyClaimed",
    "CommandIdReused",
    "InvalidTransition",
    "NotWaiting",
    "OutcomeUnknown",
    "QueueEmpty",
    "TicketClosed",
]


class InvalidTransition(SnagError):
    """The ticket's status cannot move to the one asked for."""

    code = "invalid_transition"

    def __init__(self, ticket: int, old: str, new: str, allowed: Sequence[str]) -> None:
        super().__init__(f"ticket {ticket} cannot move from {old} to {new}", allowed=list(allowed))


class AlreadyClaimed(SnagError):
    """Someone else holds the ticket."""

    code = "already_claimed"

    def __init__(self, ticket: int, assignee: str) -> None:
        super().__init__(f"ticket {ticket} is already assigned to {assignee}", assignee=assignee)


class TicketClosed(SnagError):
    """A closed ticket takes no command but reopening."""

    code = "ticket_closed"

    def __init__(self, ticket: int) -> None:
        super().__init__(f"ticket {ticket} is closed; only set_status open is possible")


class NotWaiting(SnagError):
    """The ticket is no longer waiting for an agent (solved or closed)."""

    code = "not_waiting"


class QueueEmpty(SnagError):
    """No unassigned ticket is waiting in the queue."""

    code = "queue_empty"


class CommandIdReused(SnagError):
    """The command_id was used before with a different body."""

    code = "command_id_reused"
