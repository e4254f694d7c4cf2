"""Messages a ticket actor takes, each carrying the future its answer goes to.

The future is a `concurrent.futures.Future`: an asyncio caller awaits it through
`asyncio.wrap_future`, which copies the result into the event loop with
`loop.call_soon_threadsafe`, so no thread of the loop ever blocks on an actor.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field

from actors.commands import Caller, OpenTicket, TicketCommand
from actors.model import Ticket


@dataclass(frozen=True, slots=True)
class Outcome:
    """A command's answer: the HTTP status and JSON body, and the last event's position."""

    status: int
    body: bytes
    position: int | None = None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Execute:
    command: OpenTicket | TicketCommand
    caller: Caller
    command_id: str | None = None
    request_hash: str = ""
    correlation_id: str | None = None
    reply: Future[Outcome] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class Read:
    reply: Future[Ticket] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class Refresh:
    """The log holds `version` of this ticket: reload if that is newer than what you have."""

    version: int
