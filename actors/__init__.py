"""The ticket domain: commands, events, the pure decide/evolve functions, and the actors."""

from actors.commands import (
    AddComment,
    AssignTicket,
    Caller,
    ClaimTicket,
    Command,
    MoveTicket,
    NextTicket,
    OpenTicket,
    ReleaseTicket,
    SetPriority,
    SetStatus,
    SetSubject,
    TagTicket,
    TicketCommand,
    UntagTicket,
)
from actors.decide import decide, decide_open
from actors.desk import Helpdesk
from actors.errors import (
    AlreadyClaimed,
    CommandIdReused,
    InvalidTransition,
    OutcomeUnknown,
    QueueEmpty,
    TicketClosed,
)
from actors.messages import Outcome
from actors.model import PRIORITIES, STATUSES, TRANSITIONS, Comment, Ticket, evolve, fold
from actors.registry import TicketRegistry

__all__ = [
    "PRIORITIES",
    "STATUSES",
    "TRANSITIONS",
    "AddComment",
    "AlreadyClaimed",
    "AssignTicket",
    "Caller",
    "ClaimTicket",
    "Command",
    "CommandIdReused",
    "Comment",
    "Helpdesk",
    "InvalidTransition",
    "MoveTicket",
    "NextTicket",
    "OpenTicket",
    "Outcome",
    "OutcomeUnknown",
    "QueueEmpty",
    "ReleaseTicket",
    "SetPriority",
    "SetStatus",
    "SetSubject",
    "TagTicket",
    "Ticket",
    "TicketClosed",
    "TicketCommand",
    "TicketRegistry",
    "UntagTicket",
    "decide",
    "decide_open",
    "evolve",
    "fold",
]
