"""The help desk: the one way in for ticket commands and reads, from any thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from actors.commands import AssignTicket, Caller, OpenTicket, TicketCommand
from actors.messages import Execute, Outcome, Read
from actors.model import Ticket
from actors.registry import TicketRegistry
from eventlog import InvalidArgument


class Helpdesk:
    """Routes each command to its ticket's actor and returns the future of its answer.

    Never blocks: callers on the asyncio loop await the future with `asyncio.wrap_future`,
    scripts call `.result(timeout)`. `assignable(name)` says whether a user may be
    given tickets (an active agent or admin); it must answer from memory.
    """

    def __init__(self, registry: TicketRegistry, assignable: Callable[[str], bool]) -> None:
        self._registry = registry
        self._assignable = assignable

    def execute(
        self,
        command: OpenTicket | TicketCommand,
        caller: Caller,
        *,
        command_id: str | None = None,
        request_hash: str = "",
        correlation_id: str | None = None,
    ) -> Future[Outcome]:
        job = Execute(command, caller, command_id, request_hash, correlation_id)
        if isinstance(command, AssignTicket) and not self._assignable(command.assignee):
            job.reply.set_exception(
                InvalidArgument("assignee", "assignee must be an active agent or admin")
            )
        elif isinstance(command, OpenTicket):
            self._registry.send_new(job)
        else:
            self._registry.send(command.ticket, job)
        return job.reply

    def read(self, ticket_id: int) -> Future[Ticket]:
        message = Read()
        self._registry.send(ticket_id, message)
        return message.reply
