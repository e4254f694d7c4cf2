"""Checking the log's hash chain: pure, fed one event at a time in position order.

Each event's hash is sha256(previous hash + canonical form), the first chained from
GENESIS_HASH. Every event is checked against the hash *stored* on the event before it,
so one edit shows as one break, not as every event after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from eventlog import GENESIS_HASH, RecordedEvent, expected_hash


@dataclass(frozen=True, slots=True)
class Expected:
    """An earlier head an auditor recorded: `snag verify --expect DIGEST@POSITION`."""

    digest: str
    position: int

    def __str__(self) -> str:
        return f"{self.digest}@{self.position}"


@dataclass(frozen=True, slots=True)
class Break:
    """The first place the log stops being the log that was written."""

    kind: str
    """edited, deleted, inserted, swapped, rewritten or misordered"""
    position: int
    stream: str | None
    detail: str

    def __str__(self) -> str:
        where = f" ({self.stream})" if self.stream else ""
        return f"{self.kind} at position {self.position}{where}: {self.detail}"


def _hash(event: RecordedEvent, previous: str) -> str | None:
    try:
        return expected_hash(event, previous)
    except (TypeError, ValueError):  # data no canonical form can hold (a float, say)
        return None


class ChainCheck:
    """Keeps the first break. After one, `feed` asks for more events only while they can
    say more about it: the stream a deleted event came from, the event a moved one
    traded places with."""

    def __init__(self, expect: Expected | None = None) -> None:
        self.expect = expect
        self.events = 0
        self.versions: dict[str, int] = {}
        """Each stream's last version seen."""
        self.position = 0
        self.hash = GENESIS_HASH
        self.found: Break | None = None
        self._previous: RecordedEvent | None = None
        self._before_previous = GENESIS_HASH
        self._suspect: tuple[RecordedEvent, str] | None = None
        """An event that did not match, with the hash it should have chained from."""
        self._row_before = GENESIS_HASH
        self._naming_deleted = False

    def feed(self, event: RecordedEvent) -> bool:
        """Check the next event; False once more events cannot change the report."""
        self.events += 1
        if self.found is None:
            self._check(event)
        elif self._naming_deleted:
            self._name_deleted(event)
        elif self._suspect is not None:
            self._find_partner(event)
        self._row_before = event.hash
        self.versions[event.stream] = event.version
        return self.found is None or self._naming_deleted or self._suspect is not None

    def finish(self) -> Break | None:
        """The first break, once every event was fed (or `feed` said to stop)."""
        if self.found is None and self.expect and self.position < self.expect.position:
            first = self.position + 1
            return Break(
                "deleted",
                first,
                None,
                f"the log ends at position {self.position}, but the recorded head is at"
                f" {self.expect.position}: events {first}..{self.expect.position} were deleted",
            )
        return self.found

    def _check(self, event: RecordedEvent) -> None:
        if event.position <= self.position:
            self.found = Break(
                "misordered",
                event.position,
                event.stream,
                f"position {event.position} comes after position {self.position}",
            )
            return
        if event.position != self.position + 1:
            first, last = self.position + 1, event.position - 1
            missing = f"event {first} is" if first == last else f"events {first}..{last} are"
            self.found = Break("deleted", first, None, f"{missing} missing from the log")
            self._naming_deleted = True
            self._name_deleted(event)
            return
        if _hash(event, self.hash) == event.hash:
            expect = self.expect
            if expect and event.position == expect.position and event.hash != expect.digest:
                self.found = Break(
                    "rewritten",
                    event.position,
                    event.stream,
                    f"its hash is not the recorded digest {expect.digest[:12]}…: the log up"
                    f" to position {event.position} was rewritten and re-hashed",
                )
                return
            self._before_previous, self.hash = self.hash, event.hash
            self._previous = event
            self.position = event.position
            return
        previous = self._previous
        moved_down = replace(event, position=event.position - 1)
        if previous is not None and _hash(moved_down, self._before_previous) == event.hash:
            self.found = Break(
                "inserted",
                previous.position,
                previous.stream,
                "it was added to the log later: the events after it each moved up one position",
            )
            return
        self.found = Break(
            "edited",
            event.position,
            event.stream,
            f"its content no longer matches its hash (or event {event.position - 1} was"
            " edited and re-hashed)",
        )
        self._suspect = (event, self.hash)

    def _name_deleted(self, event: RecordedEvent) -> None:
        # The first stream whose versions jump lost the deleted event.
        last = self.versions.get(event.stream, 0)
        if event.version != last + 1 and self.found is not None:
            self.found = replace(
                self.found,
                stream=event.stream,
                detail=f"{self.found.detail}; {event.stream} jumps from version {last}"
                f" to {event.version}",
            )
            self._naming_deleted = False

    def _find_partner(self, event: RecordedEvent) -> None:
        # Does this later event belong where the suspect is, and the suspect here?
        assert self._suspect is not None
        assert self.found is not None
        suspect, chained_from = self._suspect
        if _hash(replace(event, position=suspect.position), chained_from) != event.hash:
            return
        adjacent = event.position == suspect.position + 1
        before_here = event.hash if adjacent else self._row_before
        if _hash(replace(suspect, position=event.position), before_here) == suspect.hash:
            self.found = Break(
                "swapped",
                suspect.position,
                suspect.stream,
                f"events {suspect.position} and {event.position} traded places",
            )
        elif adjacent:
            self.found = Break(
                "inserted",
                suspect.position,
                suspect.stream,
                "it was added to the log later: the events after it each moved up one position",
            )
        else:
            self.found = replace(
                self.found,
                detail=f"{self.found.detail}; event {event.position} belongs at position"
                f" {suspect.position}",
            )
        self._suspect = None
