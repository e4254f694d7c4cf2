"""The help desk: the one way in for ticket commands and reads, from any thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pykka

from actors.commands import AssignTicket, Caller, ClaimTicket, NextTicket, OpenTicket, TicketCommand
from actors.errors import AlreadyClaimed, NotWaiting, QueueEmpty, TicketClosed
from actors.messages import Execute, Outcome, Read
from actors.model import Ticket
from actors.queue_view import Candidates
from actors.registry import TicketRegistry
from eventlog import Forbidden, InvalidArgument, NotFound, VersionConflict

_TAKEN = (AlreadyClaimed, NotWaiting, TicketClosed, NotFound, VersionConflict)


class Helpdesk:
    """Routes each command to its ticket's actor and returns the future of its answer.

    Never blocks: callers on the asyncio loop await the future with `asyncio.wrap_future`,
    scripts call `.result(timeout)`. `assignable(name)` says whether a user may be
    given tickets (an active agent or admin); it must answer from memory.
    """

    def __init__(
        self,
        registry: TicketRegistry,
        assignable: Callable[[str], bool],
        queue_view: pykka.ActorRef[Any] | None = None,
    ) -> None:
        self._registry = registry
        self._assignable = assignable
        self._queue_view = queue_view

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

    def next(
        self,
        command: NextTicket,
        caller: Caller,
        *,
        command_id: str | None = None,
        request_hash: str = "",
        correlation_id: str | None = None,
    ) -> Future[Outcome]:
        """Claim the most urgent, oldest unassigned ticket of the queue.

        The queue view proposes candidates from memory; each claim is decided by the
        ticket's own actor (refusing one that is taken or no longer waiting), so two
        agents pressing `next` at once always get different tickets. Runs by callbacks
        on the threads that complete each step, never waiting on one.
        """
        result: Future[Outcome] = Future()
        if caller.role == "integration":
            result.set_exception(
                Forbidden("integration tokens cannot take tickets", required_role="agent")
            )
            return result
        if self._queue_view is None:
            raise RuntimeError("next needs the queue view")
        ask = Candidates(command.queue)
        self._queue_view.tell(ask)

        def attempt(candidates: list[int], index: int) -> None:
            if index == len(candidates):
                result.set_exception(
                    QueueEmpty(f"no unassigned ticket is waiting in {command.queue}")
                )
                return
            claim = ClaimTicket(candidates[index], waiting_only=True)
            future = self.execute(
                claim,
                caller,
                command_id=command_id,
                request_hash=request_hash,
                correlation_id=correlation_id,
            )

            def done(future: Future[Outcome]) -> None:
                error = future.exception()
                if isinstance(error, _TAKEN):
                    attempt(candidates, index + 1)
                elif error is not None:
                    result.set_exception(error)
                else:
                    result.set_result(future.result())

            future.add_done_callback(done)

        def proposed(future: Future[list[int]]) -> None:
            error = future.exception()
            if error is not None:
                result.set_exception(error)
            else:
                attempt(future.result(), 0)

        ask.reply.add_done_callback(proposed)
        return result
