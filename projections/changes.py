"""Changes to the read models, encoded once as Server-Sent Events frames for every subscriber.

A change carries a frame per audience: the subscribers of one queue, of all queues, of one
ticket's page, and of the raw event feed (with and without internal notes). Only changes
that follow the log have an `id:` (the log position), so a browser's last event id always
means a position; presence frames have none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson


def frame(event: str, data: Any, position: int | None = None) -> bytes:
    head = f"id: {position}\n" if position is not None else ""
    return f"{head}event: {event}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"


@dataclass(frozen=True, slots=True)
class Change:
    """What one log event changed, as frames; every position gets one, framed or not."""

    position: int
    ticket: int | None = None
    queues: Mapping[str, bytes] = field(default_factory=dict)
    """queue name -> the frame its subscribers get (the row, or `{"id", "removed": true}`)"""
    all_queues: bytes | None = None
    event: bytes | None = None
    """the raw event, for the ticket page and the event feed"""
    public_event: bytes | None = None
    """the same for integration tokens: None when the event is an internal note"""


@dataclass(frozen=True, slots=True)
class PresenceChange:
    ticket: int
    queue: str | None
    frame: bytes
