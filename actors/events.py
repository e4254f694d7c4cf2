"""Every event Snag records, as frozen dataclasses named in the past tense."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from eventlog import NewEvent

# Tickets


@dataclass(frozen=True, slots=True)
class TicketOpened:
    ticket: int
    subject: str
    body: str
    requester: str
    queue: str
    priority: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TicketClaimed:
    assignee: str


@dataclass(frozen=True, slots=True)
class TicketAssigned:
    assignee: str
    previous: str | None


@dataclass(frozen=True, slots=True)
class TicketReleased:
    previous: str


@dataclass(frozen=True, slots=True)
class CommentAdded:
    author: str
    body: str
    internal: bool
    from_requester: bool


@dataclass(frozen=True, slots=True)
class StatusChanged:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class SubjectChanged:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class TicketMoved:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class TagAdded:
    tag: str


@dataclass(frozen=True, slots=True)
class TagRemoved:
    tag: str


# Accounts: these hold no secret; passwords and token hashes stay in their own tables.


@dataclass(frozen=True, slots=True)
class UserAdded:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class UserRevoked:
    name: str


@dataclass(frozen=True, slots=True)
class TokenIssued:
    name: str
    label: str
    token_id: int


@dataclass(frozen=True, slots=True)
class TokenRevoked:
    name: str
    token_id: int


TicketEvent = (
    TicketOpened
    | TicketClaimed
    | TicketAssigned
    | TicketReleased
    | CommentAdded
    | StatusChanged
    | PriorityChanged
    | SubjectChanged
    | TicketMoved
    | TagAdded
    | TagRemoved
)
AccountEvent = UserAdded | UserRevoked | TokenIssued | TokenRevoked
Event = TicketEvent | AccountEvent

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        TicketOpened,
        TicketClaimed,
        TicketAssigned,
        TicketReleased,
        CommentAdded,
        StatusChanged,
        PriorityChanged,
        SubjectChanged,
        TicketMoved,
        TagAdded,
        TagRemoved,
        UserAdded,
        UserRevoked,
        TokenIssued,
        TokenRevoked,
    )
}
ACCOUNT_EVENT_TYPES = frozenset({"UserAdded", "UserRevoked", "TokenIssued", "TokenRevoked"})


def encode(event: Event) -> NewEvent:
    data = asdict(event)
    return NewEvent(
        type(event).__name__, {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
    )


_FIELDS = {name: frozenset(f.name for f in fields(cls)) for name, cls in EVENT_TYPES.items()}


def decode(type_name: str, data: dict[str, Any]) -> Event:
    """The event class for a stored event; unknown fields (added later) are ignored."""
    names = _FIELDS[type_name]
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names
    }
    return EVENT_TYPES[type_name](**values)


def decode_ticket(type_name: str, data: dict[str, Any]) -> TicketEvent:
    event = decode(type_name, data)
    if isinstance(event, UserAdded | UserRevoked | TokenIssued | TokenRevoked):
        raise TypeError(f"{type_name} is not a ticket event")
    return event
