"""The ticket actor: one per live ticket, the only writer of its stream in this process."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
import pykka

from actors.commands import OpenTicket
from actors.decide import decide, decide_open
from actors.errors import CommandIdReused, OutcomeUnknown
from actors.events import encode
from actors.messages import Execute, Outcome, Read, Refresh
from actors.model import Ticket, fold, stream_name
from actors.views import event_views, ticket_view
from eventlog import (
    CommandAlreadyRecorded,
    CommandRecord,
    DatabaseUnavailable,
    EventStore,
    Metadata,
    NotFound,
    RecordedEvent,
    SnagError,
    StreamWrite,
    VersionConflict,
)

if TYPE_CHECKING:
    from actors.registry import TicketRegistry

logger = logging.getLogger(__name__)

CONFLICT_RETRIES = 5


class _StaleState(Exception):
    """The append met a newer version of the stream than this actor's state."""


def stored_outcome(store: EventStore, job: Execute) -> Outcome | None:
    """The answer stored for the job's command_id, if any; `CommandIdReused` if its body differs."""
    if job.command_id is None:
        return None
    stored = store.stored_response(job.caller.name, job.command_id)
    if stored is None:
        return None
    if stored.request_hash != job.request_hash:
        raise CommandIdReused(
            f"command_id {job.command_id!r} was used before for a different command",
            command_id=job.command_id,
        )
    events = orjson.loads(stored.body).get("events") or [{}]
    return Outcome(stored.status, stored.body, events[-1].get("position"), replayed=True)


class TicketActor(pykka.ThreadingActor):
    """Owns one ticket's state in RAM and the order of its commands.

    Runs on its own (non-daemon) thread: `on_receive` and everything it calls, including
    the blocking reads and appends to PostgreSQL, run there, one message at a time.
    Other threads only put messages in its inbox, through `TicketRegistry`, and wait on
    the message's future. Every failure goes to that future, never out of `on_receive`,
    since an exception escaping a told message would stop the actor.

    The database is the authority: the state is loaded lazily from the stream, and an
    append that meets `VersionConflict` (another node or an older actor of this ticket
    wrote first) reloads the stream and decides again.

    With `ticket_id=None` the actor is unborn: it takes one `OpenTicket`, draws the id
    from the database, and registers itself under it once the ticket exists.
    """

    def __init__(self, ticket_id: int | None, store: EventStore, registry: TicketRegistry) -> None:
        super().__init__()
        self._id = ticket_id
        self._store = store
        self._registry = registry
        self._state: Ticket | None = None
        self._loaded = False

    def on_receive(self, message: Any) -> None:
        if isinstance(message, Execute):
            if message.reply.set_running_or_notify_cancel():
                self._answer(message)
            elif self._id is None:
                self.stop()  # the caller gave up before an unborn actor started
        elif isinstance(message, Refresh):
            if self._state is not None and self._state.version < message.version:
                self._loaded = False  # another node wrote: read the stream before the next use
        elif isinstance(message, Read) and message.reply.set_running_or_notify_cancel():
            try:
                message.reply.set_result(self._read())
            except Exception as exc:  # noqa: BLE001 (every failure goes to the caller)
                self._loaded = False
                message.reply.set_exception(exc)

    def _answer(self, job: Execute) -> None:
        try:
            job.reply.set_result(self._execute(job))
        except Exception as exc:
            if isinstance(exc, NotFound):
                self._forget()
            elif not isinstance(exc, SnagError):
                logger.exception("ticket %s failed on %r", self._id, job.command)
            if isinstance(exc, DatabaseUnavailable | OutcomeUnknown) or not isinstance(
                exc, SnagError
            ):
                self._loaded = False  # the outcome may be unknown: read the stream again
            job.reply.set_exception(exc)
        finally:
            if self._id is None:
                self.stop()  # an unborn actor whose ticket never came to be

    def _read(self) -> Ticket:
        state = self._current()
        if state is None:
            self._forget()
            raise NotFound(f"there is no ticket {self._id}")
        return state

    def _forget(self) -> None:
        if self._id is not None:
            self._registry.forget(self._id, self.actor_ref)

    def _current(self) -> Ticket | None:
        if not self._loaded and self._id is not None:
            self._state = fold(None, self._store.read_stream(stream_name(self._id)))
            self._loaded = True
        return self._state

    def _execute(self, job: Execute) -> Outcome:
        replay = stored_outcome(self._store, job)
        if replay is not None:
            return replay
        for _ in range(CONFLICT_RETRIES):
            try:
                return self._attempt(job)
            except _StaleState:
                # Someone else wrote this stream since we loaded it: reload and decide again,
                # which also checks a caller's `expected_version` against the fresh state.
                self._loaded = False
            except CommandAlreadyRecorded:
                replay = stored_outcome(self._store, job)
                assert replay is not None
                return replay
        raise OutcomeUnknown(
            f"ticket {self._id} kept changing under this command; nothing was applied"
        )

    def _attempt(self, job: Execute) -> Outcome:
        if isinstance(job.command, OpenTicket):
            ticket_id = self._store.next_ticket_id()
            state: Ticket | None = None
            events = decide_open(ticket_id, job.command)
            status = 201
        else:
            ticket_id = job.command.ticket
            state = self._current()
            events = decide(state, job.command, job.caller)
            status = 200
        write = StreamWrite(
            stream_name(ticket_id), state.version if state else 0, tuple(encode(e) for e in events)
        )
        rendered: list[bytes] = []

        def render(recorded: list[RecordedEvent]) -> tuple[int, bytes]:
            after = fold(state, recorded)
            assert after is not None
            body = {
                "ticket": ticket_view(after, job.caller.role),
                "events": event_views(recorded, job.caller.role),
            }
            rendered.append(orjson.dumps(body))
            return status, rendered[-1]

        metadata = Metadata(job.caller.name, job.command_id, job.correlation_id)
        record = (
            CommandRecord(job.caller.name, job.command_id, job.request_hash, render)
            if job.command_id is not None
            else None
        )
        try:
            recorded = self._store.append([write], metadata, record) if events or record else []
        except VersionConflict as conflict:
            raise _StaleState from conflict
        if record is None:
            render(recorded)
        self._state = fold(state, recorded)
        self._loaded = True
        if self._id is None:
            self._id = ticket_id
            if not self._registry.adopt(ticket_id, self.actor_ref):
                self._id = None  # another actor already serves the new ticket: this one stops
        return Outcome(status, rendered[-1], recorded[-1].position if recorded else None)
