"""Ticket actors against real Postgres: passivation, rehydration, races, and two nodes."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import orjson
import pytest
from conftest import wait_until

from actors import (
    AddComment,
    Caller,
    ClaimTicket,
    Helpdesk,
    OpenTicket,
    Outcome,
    SetPriority,
    TagTicket,
    TicketRegistry,
)
from actors.views import ticket_view
from api.runtime import Runtime, Settings
from eventlog import EventStore, migrate, open_pool

ALICE = Caller("alice", "agent")
BOB = Caller("bob", "agent")


def result(future: Future[Outcome]) -> dict[str, object]:
    body: dict[str, object] = orjson.loads(future.result(timeout=30).body)
    return body


def opened(desk: Helpdesk) -> int:
    ticket = result(desk.execute(OpenTicket("Printer on fire", "Help", "dana@example.com"), ALICE))[
        "ticket"
    ]
    assert isinstance(ticket, dict)
    return int(ticket["id"])


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url, idle_timeout=0.2)


def test_an_idle_actor_is_passivated_and_rehydrates_to_the_same_state(runtime: Runtime) -> None:
    desk = runtime.desk
    ticket = opened(desk)
    result(desk.execute(ClaimTicket(ticket), ALICE))
    result(desk.execute(AddComment(ticket, "On it"), ALICE))
    result(desk.execute(AddComment(ticket, "Known bug", internal=True), ALICE))
    result(desk.execute(TagTicket(ticket, "printer"), ALICE))
    before = ticket_view(desk.read(ticket).result(timeout=30), "admin")
    wait_until(lambda: runtime.registry.live() == 0, what="the idle actor to stop")
    after = ticket_view(desk.read(ticket).result(timeout=30), "admin")
    assert after == before


def test_commands_racing_passivation_are_never_lost(database_url: str) -> None:
    """With a zero idle time the reaper stops actors constantly, mid-stream of commands."""
    pool = open_pool(database_url)
    with pool.connection() as conn:
        migrate(conn)
    store = EventStore(pool)
    registry = TicketRegistry(store, idle_timeout=0.0)
    registry.start()
    desk = Helpdesk(registry, store, lambda name: True)
    try:
        ticket = opened(desk)
        futures = [desk.execute(TagTicket(ticket, f"t{i}"), ALICE) for i in range(200)]
        for future in futures:
            future.result(timeout=60)
        state = desk.read(ticket).result(timeout=30)
        assert len(state.tags) == 200
        assert state.version == 201
    finally:
        registry.stop()
        desk.close()
        pool.close()


def test_one_live_actor_per_ticket_under_concurrent_senders(runtime: Runtime) -> None:
    desk = runtime.desk
    tickets = [opened(desk) for _ in range(3)]
    barrier = threading.Barrier(12)
    futures: list[Future[Outcome]] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        barrier.wait()
        for n in range(10):
            future = desk.execute(TagTicket(tickets[index % 3], f"tag-{index}-{n}"), ALICE)
            with lock:
                futures.append(future)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for future in futures:
        future.result(timeout=60)
    assert runtime.registry.live() <= 3
    for ticket in tickets:
        assert desk.read(ticket).result(timeout=30).version == 41


def test_two_nodes_on_one_database_serialize_through_the_version_check(
    runtime: Runtime, database_url: str
) -> None:
    """Another process's actor for the same ticket: the database's version check decides."""
    other = Runtime(Settings(database_url))
    try:
        ticket = opened(runtime.desk)
        # Both nodes load the ticket, then write alternately from stale memory.
        runtime.desk.read(ticket).result(timeout=30)
        other.desk.read(ticket).result(timeout=30)
        priorities = ["high", "low", "urgent", "normal"]
        for i, priority in enumerate(priorities * 3):
            node = runtime if i % 2 == 0 else other
            result(node.desk.execute(SetPriority(ticket, priority), ALICE))
        claims = [
            runtime.desk.execute(ClaimTicket(ticket), ALICE),
            other.desk.execute(ClaimTicket(ticket), BOB),
        ]
        outcomes = []
        for future in claims:
            try:
                outcomes.append(future.result(timeout=30).status)
            except Exception as exc:
                outcomes.append(type(exc).__name__)
        assert sorted(map(str, outcomes)) == ["200", "AlreadyClaimed"]
        events = runtime.store.read_stream(f"ticket-{ticket}")
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        assert runtime.desk.read(ticket).result(timeout=30).version == len(events)
    finally:
        other.close()


def test_a_live_actor_sees_what_another_node_wrote(database_url: str) -> None:
    """Reads stay right with two nodes: each follows the log and reloads a moved stream."""
    first = Runtime(Settings(database_url, idle_timeout=600))  # no passivation in between
    other = Runtime(Settings(database_url))
    try:
        ticket = opened(first.desk)
        assert first.desk.read(ticket).result(timeout=30).priority == "normal"
        result(other.desk.execute(SetPriority(ticket, "urgent"), BOB))
        wait_until(
            lambda: first.desk.read(ticket).result(timeout=30).priority == "urgent",
            what="the first node's actor to see the second node's change",
        )
        assert first.registry.live() == 1
    finally:
        other.close()
        first.close()


def test_credentials_fail_closed_when_a_reload_fails(runtime: Runtime, database_url: str) -> None:
    from api.auth import CredentialCache
    from eventlog import AccountStore, DatabaseUnavailable

    pool = open_pool(database_url)
    cache = CredentialCache(AccountStore(pool))
    token = runtime.account_service.add_user("alice", "agent")
    cache.reload()
    assert cache.by_token(token).name == "alice"
    revoked = runtime.store.read_stream("user-alice")
    pool.close()  # the database is gone for this cache when the account event arrives
    cache.on_events(revoked)
    with pytest.raises(DatabaseUnavailable):
        cache.by_token(token)
