"""What the log stores: new events going in, recorded events coming out, and their hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Metadata:
    by: str
    command_id: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class StreamWrite:
    """Events for one stream; `expected_version` is the stream's version before them (0: new)."""

    stream: str
    expected_version: int
    events: tuple[NewEvent, ...]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    stream: str
    version: int
    type: str
    data: Mapping[str, Any]
    by: str
    command_id: str | None
    correlation_id: str | None
    recorded_at: datetime
    hash: str

    def shape(self) -> dict[str, Any]:
        """The one public event shape: API, history, SSE and export."""
        return {
            "position": self.position,
            "stream": self.stream,
            "version": self.version,
            "type": self.type,
            "data": dict(self.data),
            "by": self.by,
            "at": format_time(self.recorded_at),
            "command_id": self.command_id,
            "correlation_id": self.correlation_id,
        }


def format_time(at: datetime) -> str:
    """UTC with microseconds and a `Z`: `2026-12-03T15:53:00.000001Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _no_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("event data may not hold floats: their text form is not canonical")
    if isinstance(value, Mapping):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _no_floats(item)


def canonical(
    *,
    position: int,
    stream: str,
    version: int,
    type: str,
    data: Mapping[str, Any],
    metadata: Metadata,
    recorded_at: datetime,
) -> bytes:
    """The canonical form that the hash covers: sorted keys, no whitespace, UTF-8."""
    _no_floats(data)
    document = {
        "position": position,
        "stream": stream,
        "version": version,
        "type": type,
        "data": data,
        "metadata": {
            "by": metadata.by,
            "command_id": metadata.command_id,
            "correlation_id": metadata.correlation_id,
        },
        "recorded_at": format_time(recorded_at),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def chain_hash(previous_hash: str, canonical_form: bytes) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + canonical_form).hexdigest()


def expected_hash(event: RecordedEvent, previous_hash: str) -> str:
    """The hash `event` must carry if it follows `previous_hash` untouched."""
    form = canonical(
        position=event.position,
        stream=event.stream,
        version=event.version,
        type=event.type,
        data=event.data,
        metadata=Metadata(event.by, event.command_id, event.correlation_id),
        recorded_at=event.recorded_at,
    )
    return chain_hash(previous_hash, form)
