"""The pure decision: `decide(state, command, caller) -> events`, raising domain errors."""

from __future__ import annotations

import re

from actors.commands import (
    AddComment,
    AssignTicket,
    Caller,
    ClaimTicket,
    MoveTicket,
    OpenTicket,
    ReleaseTicket,
    SetPriority,
    SetStatus,
    SetSubject,
    TagTicket,
    TicketCommand,
    UntagTicket,
)
from actors.errors import AlreadyClaimed, InvalidTransition, NotWaiting, TicketClosed
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
)
from actors.model import PRIORITIES, STATUSES, TRANSITIONS, Ticket
from eventlog import Forbidden, InvalidArgument, NotFound, VersionConflict

QUEUE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
BODY_LIMIT = 20_000


def text(field: str, value: str, *, limit: int, allow_empty: bool = False) -> str:
    """Check free text: no NUL, no lone surrogate, not blank unless allowed, at most `limit`."""
    if "\x00" in value:
        raise InvalidArgument(field, f"{field} may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(field, f"{field} is not valid Unicode text") from None
    stripped = value.strip()
    if not stripped and not allow_empty:
        raise InvalidArgument(field, f"{field} may not be empty")
    if len(stripped) > limit:
        raise InvalidArgument(field, f"{field} is longer than {limit} characters")
    return stripped


def queue_name(value: str) -> str:
    if not QUEUE_NAME.fullmatch(value):
        raise InvalidArgument(
            "queue",
            "queue must be 1-40 lowercase letters, digits, '-' or '_', starting with a letter or digit",
        )
    return value


def choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidArgument(field, f"{field} must be one of: {', '.join(allowed)}")
    return value


def decide_open(ticket_id: int, command: OpenTicket) -> list[TicketEvent]:
    tags: list[str] = []
    for tag in command.tags:
        checked = text("tags", tag, limit=50)
        if checked not in tags:
            tags.append(checked)
    return [
        TicketOpened(
            ticket=ticket_id,
            subject=text("subject", command.subject, limit=200),
            body=text("body", command.body, limit=BODY_LIMIT, allow_empty=True),
            requester=text("requester", command.requester, limit=200),
            queue=queue_name(command.queue),
            priority=choice("priority", command.priority, PRIORITIES),
            tags=tuple(tags),
        )
    ]


def _may_reassign(state: Ticket, caller: Caller) -> None:
    if caller.role == "admin" or caller.name == state.assignee:
        return
    who = f"its assignee ({state.assignee}) or an admin" if state.assignee else "an admin"
    raise Forbidden(f"only {who} may change who holds ticket {state.id}", required_role="admin")


def _set_status(state: Ticket, new: str) -> list[TicketEvent]:
    choice("status", new, STATUSES)
    if new == state.status:
        return []
    allowed = TRANSITIONS[state.status]
    if new not in allowed:
        raise InvalidTransition(state.id, state.status, new, allowed)
    return [StatusChanged(state.status, new)]


def decide(state: Ticket | None, command: TicketCommand, caller: Caller) -> list[TicketEvent]:
    """The events `command` causes on `state`; [] when it changes nothing.

    Raises NotFound, VersionConflict (when `expected_version` is stale, checked first),
    TicketClosed, Forbidden, AlreadyClaimed, InvalidTransition or InvalidArgument.
    The assignee of `AssignTicket` is checked against the accounts by the caller.
    """
    if state is None:
        raise NotFound(f"there is no ticket {command.ticket}")
    if command.expected_version is not None and command.expected_version != state.version:
        raise VersionConflict(f"ticket-{state.id}", state.version, command.expected_version)
    if state.status == "closed" and not (
        isinstance(command, SetStatus) and command.status == "open"
    ):
        raise TicketClosed(state.id)

    match command:
        case ClaimTicket():
            if caller.role == "integration":
                raise Forbidden("integration tokens cannot claim tickets", required_role="agent")
            if state.assignee == caller.name:
                return []
            if state.assignee is not None:
                raise AlreadyClaimed(state.id, state.assignee)
            if command.waiting_only and state.status not in ("new", "open", "pending"):
                raise NotWaiting(f"ticket {state.id} is {state.status}")
            events: list[TicketEvent] = [TicketClaimed(caller.name)]
            if state.status == "new":
                events.append(StatusChanged("new", "open"))
            return events
        case ReleaseTicket():
            if state.assignee is None:
                return []
            _may_reassign(state, caller)
            return [TicketReleased(state.assignee)]
        case AssignTicket(assignee=assignee):
            _may_reassign(state, caller)
            if assignee == state.assignee:
                return []
            events = [TicketAssigned(assignee, state.assignee)]
            if state.status == "new":
                events.append(StatusChanged("new", "open"))
            return events
        case AddComment():
            if command.internal and command.from_requester:
                raise InvalidArgument("internal", "a requester's reply cannot be an internal note")
            if command.internal and caller.role == "integration":
                raise Forbidden(
                    "integration tokens cannot write internal notes", required_role="agent"
                )
            body = text("body", command.body, limit=BODY_LIMIT)
            author = state.requester if command.from_requester else caller.name
            events = [CommentAdded(author, body, command.internal, command.from_requester)]
            if command.from_requester and state.status in ("pending", "solved"):
                events.append(StatusChanged(state.status, "open"))
            return events
        case SetStatus(status=status):
            return _set_status(state, status)
        case SetPriority(priority=priority):
            choice("priority", priority, PRIORITIES)
            return [] if priority == state.priority else [PriorityChanged(state.priority, priority)]
        case SetSubject():
            subject = text("subject", command.subject, limit=200)
            return [] if subject == state.subject else [SubjectChanged(state.subject, subject)]
        case MoveTicket():
            queue = queue_name(command.queue)
            return [] if queue == state.queue else [TicketMoved(state.queue, queue)]
        case TagTicket():
            tag = text("tag", command.tag, limit=50)
            return [] if tag in state.tags else [TagAdded(tag)]
        case UntagTicket():
            tag = text("tag", command.tag, limit=50)
            return [TagRemoved(tag)] if tag in state.tags else []
    raise TypeError(f"not a ticket command: {command!r}")
