"""Who has which ticket open, and who is replying: per process, in RAM, never in the log.

Times are `time.monotonic()` seconds passed in by the owner, so the rules stay testable.
"""

from __future__ import annotations

from dataclasses import dataclass

REPLYING_FOR = 20.0
"""Seconds a `replying` signal lasts unless the page renews it."""


@dataclass
class _Person:
    pages: int = 0
    replying_until: float = 0.0


class Presence:
    """Not thread-safe: one owner (the queue-view actor) signals and reads."""

    def __init__(self) -> None:
        self._tickets: dict[int, dict[str, _Person]] = {}

    def people(self, ticket: int, now: float) -> list[dict[str, str]]:
        """`[{"name", "state": "viewing" | "replying"}]`, by name."""
        people = self._tickets.get(ticket, {})
        return [
            {"name": name, "state": "replying" if p.replying_until > now else "viewing"}
            for name, p in sorted(people.items())
            if p.pages > 0 or p.replying_until > now
        ]

    def signal(
        self, ticket: int, name: str, now: float, pages: int = 0, replying: bool | None = None
    ) -> None:
        """`pages` +1 when a ticket page opens, -1 when it closes; `replying` from the reply box.

        Closing a person's last page of the ticket ends their replying too.
        """
        people = self._tickets.setdefault(ticket, {})
        person = people.setdefault(name, _Person())
        person.pages = max(0, person.pages + pages)
        if replying is not None:
            person.replying_until = now + REPLYING_FOR if replying else 0.0
        if person.pages == 0 and (pages < 0 or person.replying_until <= now):
            del people[name]
        if not people:
            del self._tickets[ticket]

    def expire(self, now: float) -> list[int]:
        """End lapsed replying signals; returns the tickets whose presence changed."""
        changed = []
        for ticket, people in list(self._tickets.items()):
            lapsed = [n for n, p in people.items() if 0 < p.replying_until <= now]
            for name in lapsed:
                people[name].replying_until = 0.0
                if people[name].pages == 0:
                    del people[name]
            if not people:
                del self._tickets[ticket]
            if lapsed:
                changed.append(ticket)
        return changed
