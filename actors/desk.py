"""The help desk: the one way in for ticket commands and reads, from any thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from actors.commands import AssignTicket, Caller, ClaimTicket, NextTicket, OpenTicket, TicketCommand
from actors.decide import queue_name
from actors.errors import AlreadyClaimed, NotWaiting, QueueEmpty, TicketClosed
from actors.messages import Execute, Outcome, Read
from actors.model import Ticket
from actors.registry import TicketRegistry
from actors.ticket import stored_outcome
from eventlog import EventStore, Forbidden, InvalidArgument, NotFound, VersionConflict

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
        store: EventStore,
        assignable: Callable[[str], bool],
        candidates: Callable[[str], Future[list[int]]] | None = None,
    ) -> None:
        self._registry = registry
        self._store = store
        self._assignable = assignable
        self._candidates = candidates
        # For the one blocking step of `next` that belongs to no ticket: its command_id check.
        self._lookups = ThreadPoolExecutor(max_workers=2, thread_name_prefix="snag-desk")

    def close(self) -> None:
        self._lookups.shutdown(wait=True, cancel_futures=True)

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

        A retry with the same command_id answers what the first try answered. Otherwise the
        queue view proposes candidates from memory, and each claim is decided by the
        ticket's own actor (refusing one that is taken or no longer waiting), so two agents
        pressing `next` at once always get different tickets. Runs by callbacks on the
        threads that complete each step, never waiting on one; once started it runs to the
        end even if the caller stops waiting (a retry with the command_id then finds it).
        """
        result: Future[Outcome] = Future()
        result.set_running_or_notify_cancel()
        candidates = self._candidates
        if candidates is None:
            raise RuntimeError("next needs the queue view")
        if caller.role == "integration":
            result.set_exception(
                Forbidden("integration tokens cannot take tickets", required_role="agent")
            )
            return result
        try:
            queue = queue_name(command.queue)
        except InvalidArgument as invalid:
            result.set_exception(invalid)
            return result

        def attempt(found: list[int], index: int) -> None:
            if index == len(found):
                result.set_exception(QueueEmpty(f"no unassigned ticket is waiting in {queue}"))
                return
            claim = ClaimTicket(found[index], waiting_only=True)
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
                    attempt(found, index + 1)
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

        def looked_up(future: Future[Outcome | None]) -> None:
            error = future.exception()
            if error is not None:
                result.set_exception(error)
            elif (stored := future.result()) is not None:
                result.set_result(stored)
            else:
                candidates(queue).add_done_callback(proposed)

        job = Execute(ClaimTicket(0), caller, command_id, request_hash)
        self._lookups.submit(stored_outcome, self._store, job).add_done_callback(looked_up)
        return result
