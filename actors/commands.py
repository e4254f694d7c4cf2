"""Commands a caller sends to a ticket, as frozen dataclasses named in the imperative.

`expected_version`, when given, must equal the ticket's version before the command.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OpenTicket:
    subject: str
    body: str
    requester: str
    queue: str = "support"
    priority: str = "normal"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimTicket:
    ticket: int
    expected_version: int | None = None
    waiting_only: bool = False
    """Refuse (`NotWaiting`) unless the ticket is unassigned and new, open or pending: `next` uses it."""


@dataclass(frozen=True, slots=True)
class ReleaseTicket:
    ticket: int
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class AssignTicket:
    ticket: int
    assignee: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class AddComment:
    ticket: int
    body: str
    internal: bool = False
    from_requester: bool = False
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class SetStatus:
    ticket: int
    status: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class SetPriority:
    ticket: int
    priority: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class SetSubject:
    ticket: int
    subject: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class MoveTicket:
    ticket: int
    queue: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class TagTicket:
    ticket: int
    tag: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class UntagTicket:
    ticket: int
    tag: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class NextTicket:
    """Claim the most urgent, oldest unassigned ticket of a queue."""

    queue: str


TicketCommand = (
    ClaimTicket
    | ReleaseTicket
    | AssignTicket
    | AddComment
    | SetStatus
    | SetPriority
    | SetSubject
    | MoveTicket
    | TagTicket
    | UntagTicket
)
Command = OpenTicket | TicketCommand | NextTicket


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sends a command: a user name and a role (`agent`, `admin`, `integration`)."""

    name: str
    role: str
