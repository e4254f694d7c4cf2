"""The queue list fold: unit tests, and the live projection against one rebuilt from the log."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from conftest import fresh_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors import (
    AddComment,
    Caller,
    ClaimTicket,
    MoveTicket,
    OpenTicket,
    ReleaseTicket,
    SetPriority,
    SetStatus,
    TagTicket,
    Ticket,
    fold,
)
from actors.events import (
    CommentAdded,
    PriorityChanged,
    StatusChanged,
    TagAdded,
    TicketClaimed,
    TicketEvent,
    TicketOpened,
    encode,
)
from actors.model import stream_name
from actors.queue_view import Describe
from api.runtime import Runtime, Settings
from eventlog import DatabaseUnavailable, RecordedEvent, SnagError
from projections import QueueList, queue_list
from projections.queue_list import summary

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Log:
    """An in-memory log for unit tests of the fold."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.versions: dict[int, int] = {}

    def add(self, ticket: int, *events: TicketEvent) -> list[RecordedEvent]:
        added = []
        for event in events:
            version = self.versions.get(ticket, 0) + 1
            self.versions[ticket] = version
            new = encode(event)
            position = len(self.events) + 1
            recorded = RecordedEvent(
                position, stream_name(ticket), version, new.type, dict(new.data), "alice",
                None, None, T0 + timedelta(minutes=position), "h",
            )  # fmt: skip
            self.events.append(recorded)
            added.append(recorded)
        return added

    def reload(self, ticket: int, position: int) -> Ticket | None:
        return fold(
            None,
            (e for e in self.events if e.stream == stream_name(ticket) and e.position <= position),
        )


def feed(view: QueueList, log: Log, events: list[RecordedEvent]) -> None:
    for event in events:
        view.apply(event, log.reload)


def opened(
    ticket: int, priority: str = "normal", queue: str = "support", tags: tuple[str, ...] = ()
) -> TicketEvent:
    return TicketOpened(
        ticket, f"subject {ticket}", "body", "dana@example.com", queue, priority, tags
    )


def test_rows_sort_by_priority_then_age_and_filter() -> None:
    log, view = Log(), QueueList()
    feed(view, log, log.add(1, opened(1, "low")))
    feed(view, log, log.add(2, opened(2, "urgent")))
    feed(view, log, log.add(3, opened(3, "normal", tags=("vip",))))
    feed(view, log, log.add(4, opened(4, "urgent", queue="billing")))
    feed(view, log, log.add(3, TicketClaimed("bob"), StatusChanged("new", "open"), TagAdded("x")))
    assert [t.id for t in view.tickets(queue="support")] == [2, 3, 1]
    assert [t.id for t in view.tickets()] == [2, 4, 3, 1]
    assert [t.id for t in view.tickets(assignee="bob")] == [3]
    assert [t.id for t in view.tickets(unassigned=True, queue="support")] == [2, 1]
    assert [t.id for t in view.tickets(tag="vip")] == [3]
    assert [t.id for t in view.tickets(status="open")] == [3]
    assert view.counts() == {"billing": {"new": 1}, "support": {"new": 2, "open": 1}}
    assert summary(view.get(3))["tags"] == ["vip", "x"]  # type: ignore[arg-type]


def test_tickets_kept_aside_come_back_without_a_reload() -> None:
    log, view = Log(), QueueList()
    feed(view, log, log.add(1, opened(1)))
    feed(view, log, log.add(1, StatusChanged("new", "solved")))

    def never(ticket: int, position: int) -> Ticket | None:
        raise AssertionError("the ticket was kept aside; no reload needed")

    _, after = view.apply(log.add(1, StatusChanged("solved", "open"))[0], never)
    assert after is not None and after.version == 3


@pytest.mark.parametrize("kept", [0, 10_000])
def test_solved_tickets_leave_and_reopened_ones_come_back_whole(
    kept: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_list, "LEFT_KEPT", kept)
    log, view = Log(), QueueList()
    feed(view, log, log.add(1, opened(1), CommentAdded("alice", "hi", False, False)))
    before, after = view.apply(log.add(1, StatusChanged("new", "solved"))[0], log.reload)
    assert before is not None and after is None
    assert len(view) == 0 and view.counts() == {}
    before, after = view.apply(log.add(1, StatusChanged("solved", "open"))[0], log.reload)
    assert before is None and after is not None
    assert after.subject == "subject 1" and len(after.comments) == 1 and after.version == 4


def test_events_must_come_in_position_order() -> None:
    log, view = Log(), QueueList()
    events = log.add(1, opened(1))
    feed(view, log, events)
    with pytest.raises(ValueError, match="not after"):
        view.apply(events[0], log.reload)


def test_the_digest_changes_with_the_list() -> None:
    log, view = Log(), QueueList()
    feed(view, log, log.add(1, opened(1)))
    first = view.digest()
    feed(view, log, log.add(1, PriorityChanged("normal", "high")))
    assert view.digest() != first


# The live projection equals one rebuilt from the log, after a random run of commands.

AGENTS = [Caller("alice", "agent"), Caller("bob", "agent"), Caller("carol", "admin")]
command_steps = st.lists(
    st.tuples(
        st.sampled_from(
            ["open", "claim", "release", "comment", "status", "priority", "move", "tag"]
        ),
        st.integers(0, 7),
        st.integers(0, 2),
        st.sampled_from(["new", "open", "pending", "solved", "closed"]),
        st.sampled_from(["low", "normal", "high", "urgent"]),
    ),
    min_size=5,
    max_size=40,
)


@pytest.fixture(scope="module")
def shared_runtime(admin_url: str) -> Iterator[Runtime]:
    """One database for every example: each example keeps adding to the same log."""
    with fresh_database(admin_url) as url:
        runtime = Runtime(Settings(url))
        runtime.account_service.add_user("bob", "agent")
        runtime.account_service.add_user("alice", "agent")
        runtime.credentials.reload()
        yield runtime
        runtime.close()


def run(runtime: Runtime, steps: list[tuple[str, int, int, str, str]]) -> None:
    tickets: list[int] = []
    for kind, pick, who, status, priority in steps:
        caller = AGENTS[who]
        if kind == "open" or not tickets:
            answer = runtime.desk.execute(OpenTicket("s", "b", "r", priority=priority), caller)
            tickets.append(orjson.loads(answer.result(timeout=30).body)["ticket"]["id"])
            continue
        ticket = tickets[pick % len(tickets)]
        command: Any = {
            "claim": ClaimTicket(ticket),
            "release": ReleaseTicket(ticket),
            "comment": AddComment(ticket, "reply", from_requester=who == 2),
            "status": SetStatus(ticket, status),
            "priority": SetPriority(ticket, priority),
            "move": MoveTicket(ticket, ["support", "billing"][pick % 2]),
            "tag": TagTicket(ticket, f"t{pick}"),
        }[kind]
        with contextlib.suppress(SnagError):  # a rule said no: that is part of a random run
            runtime.desk.execute(command, caller).result(timeout=30)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=command_steps)
def test_live_projection_equals_a_rebuild_from_the_log(
    shared_runtime: Runtime, steps: list[Any]
) -> None:
    runtime = shared_runtime
    run(runtime, steps)
    head = runtime.store.head_position()
    assert runtime.tailer.wait_for(head, timeout=30)
    describe = Describe()
    runtime.queue_view.tell(describe)
    live = describe.reply.result(timeout=30)["queue_list"]
    rebuilt = QueueList()

    def reload(ticket: int, position: int) -> Ticket | None:
        return fold(None, runtime.store.read_stream(stream_name(ticket), up_to=position))

    for event in runtime.store.read_after(0, limit=1_000_000):
        rebuilt.apply(event, reload)
    assert live["position"] == rebuilt.position == head
    assert live["digest"] == rebuilt.digest()
    assert live["tickets"] == len(rebuilt)


def test_a_failed_reload_changes_nothing_so_the_event_can_be_applied_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queue_list, "LEFT_KEPT", 0)  # nothing kept aside: reopening reloads
    log, view = Log(), QueueList()
    feed(view, log, log.add(1, opened(1)))
    feed(view, log, log.add(1, StatusChanged("new", "solved")))
    reopen = log.add(1, StatusChanged("solved", "open"))[0]

    def down(ticket: int, position: int) -> Ticket | None:
        raise DatabaseUnavailable("down")

    with pytest.raises(DatabaseUnavailable):
        view.apply(reopen, down)
    assert view.position == reopen.position - 1
    before, after = view.apply(reopen, log.reload)
    assert before is None and after is not None and after.status == "open"


def test_an_event_that_cannot_be_folded_can_be_passed_over() -> None:
    log, view = Log(), QueueList()
    feed(view, log, log.add(1, opened(1)))
    alien = RecordedEvent(2, "ticket-1", 2, "TicketTeleported", {}, "x", None, None, T0, "h")
    with pytest.raises(KeyError):
        view.apply(alien, log.reload)
    view.skip(alien)
    assert view.position == 2 and len(view) == 1
