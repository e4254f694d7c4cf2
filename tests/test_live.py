"""The live queue view over real HTTP: lists from RAM, SSE fan-out, resume, reset, slow clients."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import httpx
import psycopg
import pytest
from conftest import Server, command, open_ticket, wait_until
from sse import EventStream

from api.runtime import Settings
from eventlog import Metadata, NewEvent, StreamWrite


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url, resume_window=50, send_timeout=1.0)


def token(server: Server, name: str, role: str = "agent") -> tuple[str, httpx.Client]:
    secret = server.runtime.account_service.add_user(name, role)
    server.runtime.credentials.reload()
    return secret, server.client(secret)


def ids(body: dict[str, Any]) -> list[int]:
    return [row["id"] for row in body["tickets"]]


def test_queue_lists_filter_sort_count_and_page_from_memory(
    server: Server, database_url: str
) -> None:
    _, alice = token(server, "alice")
    _, bob = token(server, "bob")
    low = open_ticket(alice, priority="low", tags=["printer"])["id"]
    old_normal = open_ticket(alice)["id"]
    urgent = open_ticket(alice, priority="urgent")["id"]
    new_normal = open_ticket(alice, tags=["printer"])["id"]
    billing = open_ticket(alice, queue="billing", priority="high")["id"]
    solved = open_ticket(alice)["id"]
    command(alice, "claim", old_normal)
    command(bob, "claim", new_normal)
    command(alice, "set_status", solved, status="solved")
    head = server.runtime.store.head_position()

    def caught_up() -> bool:
        return alice.get("/api/queues/support").json()["position"] >= head

    wait_until(caught_up, what="the queue view to apply every event")
    with psycopg.connect(database_url) as locker:
        # Every table locked: a route that ran SQL would hang here.
        locker.execute(
            "LOCK TABLE events, commands, users, tokens, sessions IN ACCESS EXCLUSIVE MODE"
        )
        support = alice.get("/api/queues/support", timeout=5).json()
        assert ids(support) == [urgent, old_normal, new_normal, low]
        assert support["counts"] == {"new": 2, "open": 2}
        assert support["position"] == head
        row = support["tickets"][0]
        assert {
            "id",
            "subject",
            "requester",
            "queue",
            "status",
            "priority",
            "assignee",
            "tags",
            "created_at",
            "updated_at",
            "last_activity",
            "presence",
        } <= set(row)
        queues = alice.get("/api/queues", timeout=5).json()["queues"]
        assert {q["name"]: q["counts"] for q in queues} == {
            "billing": {"new": 1},
            "support": {"new": 2, "open": 2},
        }
        assert ids(alice.get("/api/queues/support", params={"status": "open"}).json()) == [
            old_normal,
            new_normal,
        ]
        assert ids(alice.get("/api/queues/support", params={"assignee": "me"}).json()) == [
            old_normal
        ]
        assert ids(bob.get("/api/queues/support", params={"assignee": "me"}).json()) == [new_normal]
        assert ids(alice.get("/api/queues/support", params={"assignee": "bob"}).json()) == [
            new_normal
        ]
        assert ids(alice.get("/api/queues/support", params={"assignee": "none"}).json()) == [
            urgent,
            low,
        ]
        assert ids(alice.get("/api/queues/support", params={"tag": "printer"}).json()) == [
            new_normal,
            low,
        ]
        assert ids(alice.get("/api/tickets", params={"assignee": "none"}).json()) == [
            urgent,
            billing,
            low,
        ]
        first = alice.get("/api/queues/support", params={"limit": 3}).json()
        assert ids(first) == [urgent, old_normal, new_normal]
        second = alice.get(
            "/api/queues/support", params={"limit": 3, "cursor": first["next_cursor"]}
        ).json()
        assert ids(second) == [low] and second["next_cursor"] is None
        locker.rollback()
    bad = alice.get("/api/queues/support", params={"cursor": "garbage"})
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    assert alice.get("/api/queues/support", params={"status": "solved"}).status_code == 422


def test_two_subscribers_see_a_claim(server: Server) -> None:
    alice_token, alice = token(server, "alice")
    bob_token, _ = token(server, "bob")
    ticket = open_ticket(alice)["id"]
    position = alice.get("/api/queues/support").json()["position"]
    watchers = [
        EventStream(server.url, t, {"queue": "support", "after": position})
        for t in (alice_token, bob_token)
    ]
    try:
        started = time.monotonic()
        claimed = command(alice, "claim", ticket)
        assert claimed.status_code == 200
        for stream in watchers:
            frame = stream.next(event="ticket")
            while frame.data["assignee"] is None:
                frame = stream.next(event="ticket")
            assert frame.data["id"] == ticket and frame.data["assignee"] == "alice"
            assert int(frame.id or 0) > position
        print(
            f"claim seen by both subscribers {1000 * (time.monotonic() - started):.1f} ms after it was sent"
        )
    finally:
        for stream in watchers:
            stream.close()


def test_resume_with_last_event_id_delivers_exactly_the_missed_changes(server: Server) -> None:
    secret, alice = token(server, "alice")
    ticket = open_ticket(alice)["id"]
    start = alice.get("/api/queues/support").json()["position"]
    first = EventStream(server.url, secret, {"queue": "support", "after": start})
    for n in range(3):
        command(alice, "tag", ticket, tag=f"k{n}")
    seen = first.take(3)
    first.close()
    last_id = seen[-1].id
    assert last_id is not None
    for n in range(4):
        command(alice, "tag", ticket, tag=f"m{n}")
    # The browser resends its original URL (the old `after`) with Last-Event-ID: the header wins.
    resumed = EventStream(
        server.url, secret, {"queue": "support", "after": start}, headers={"Last-Event-ID": last_id}
    )
    try:
        missed = resumed.take(4)
        assert [f.data["tags"][-1] for f in missed] == ["m0", "m1", "m2", "m3"]
        positions = [int(f.id or 0) for f in missed]
        assert positions == sorted(positions) and positions[0] > int(last_id)
        with pytest.raises(AssertionError):
            resumed.next(timeout=0.5, event="ticket")
    finally:
        resumed.close()


def test_a_position_older_than_the_window_gets_reset(server: Server) -> None:
    secret, alice = token(server, "alice")
    ticket = open_ticket(alice)["id"]
    for n in range(60):  # the window in these tests is 50 changes
        command(alice, "tag", ticket, tag=f"t{n}")
    wait_until(
        lambda: alice.get("/api/queues/support").json()["position"] >= 60,
        what="the view to catch up",
    )
    stream = EventStream(server.url, secret, {"queue": "support", "after": 1})
    try:
        frame = stream.next(event="reset")
        assert frame.id is None
        assert stream.ended()
    finally:
        stream.close()


def test_a_client_that_never_reads_is_dropped_while_another_gets_all_5000_changes(
    server: Server,
) -> None:
    secret, alice = token(server, "alice")
    tickets = [open_ticket(alice)["id"] for _ in range(50)]
    position = alice.get("/api/queues/support").json()["position"]
    wait_until(
        lambda: alice.get("/api/queues/support").json()["position"] >= position, what="catch up"
    )
    reader = EventStream(server.url, secret, {"queue": "support", "after": position})
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # loopback buffers megabytes
    host, port = server.url.removeprefix("http://").split(":")
    stalled.connect((host, int(port)))
    stalled.sendall(
        f"GET /api/stream?queue=support&after={position} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {secret}\r\n\r\n".encode()
    )
    wait_until(lambda: server.runtime.hub.subscribers == 2, what="both streams to subscribe")
    try:
        store = server.runtime.store
        for ticket in tickets:  # 5,000 changes: 100 tags on each of 50 tickets, a ticket per append
            events = tuple(
                NewEvent("TagAdded", {"tag": f"tag-{n:03d}-{'x' * 200}"}) for n in range(100)
            )
            store.append([StreamWrite(f"ticket-{ticket}", 1, events)], Metadata("alice"))
        frames = reader.take(5000, timeout=60)
        assert [int(f.id or 0) for f in frames] == list(range(position + 1, position + 5001))
        wait_until(
            lambda: server.runtime.hub.subscribers == 1,
            timeout=30,
            what="the stalled client to be dropped",
        )
    finally:
        reader.close()
        stalled.close()


def test_the_event_feed_pages_and_streams_without_internal_notes_for_integrations(
    server: Server,
) -> None:
    _, alice = token(server, "alice")
    mailer_token, mailer = token(server, "mailer", "integration")
    ticket = open_ticket(alice)["id"]
    start = server.runtime.store.head_position()
    stream = EventStream(server.url, mailer_token, {"feed": "events", "after": start})
    try:
        command(alice, "comment", ticket, body="INTERNAL secret", internal=True)
        command(alice, "comment", ticket, body="public answer")
        frame = stream.next(event="event")
        assert frame.data["data"]["body"] == "public answer"
        assert int(frame.id or 0) == start + 2
    finally:
        stream.close()
    page = mailer.get("/api/events", params={"after": 0, "limit": 1000}).json()
    assert "INTERNAL" not in str(page)
    assert page["next_after"] == server.runtime.store.head_position()
    agent_page = alice.get("/api/events", params={"after": start, "limit": 1}).json()
    assert [e["position"] for e in agent_page["events"]] == [start + 1]
    assert agent_page["next_after"] == start + 1


def test_next_gives_twenty_agents_twenty_different_tickets(server: Server) -> None:
    _, opener = token(server, "opener")
    clients = [token(server, f"agent{i:02d}")[1] for i in range(21)]
    for n in range(20):
        open_ticket(opener, priority=["low", "normal", "high", "urgent"][n % 4])
    wait_until(
        lambda: len(opener.get("/api/queues/support").json()["tickets"]) == 20, what="the view"
    )
    barrier = threading.Barrier(20)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def press(client: httpx.Client) -> None:
        barrier.wait()
        answer = command(client, "next", queue="support")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=press, args=(c,)) for c in clients[:20]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 20
    taken = {a.json()["ticket"]["id"] for a in answers}
    assert len(taken) == 20
    for a in answers:
        assert a.json()["ticket"]["assignee"] != "opener"
    last = command(clients[20], "next", queue="support")
    assert last.status_code == 409 and last.json()["error"] == "queue_empty"


def test_next_takes_the_most_urgent_oldest_and_integrations_cannot(server: Server) -> None:
    _, alice = token(server, "alice")
    _, mailer = token(server, "mailer", "integration")
    open_ticket(alice, priority="high")
    oldest_urgent = open_ticket(alice, priority="urgent")["id"]
    open_ticket(alice, priority="urgent")
    wait_until(
        lambda: len(alice.get("/api/queues/support").json()["tickets"]) == 3, what="the view"
    )
    took = command(alice, "next", queue="support")
    assert took.status_code == 200 and took.json()["ticket"]["id"] == oldest_urgent
    assert command(mailer, "next", queue="support").status_code == 403
    assert command(alice, "next", queue="empty-queue").json()["error"] == "queue_empty"


def test_presence_shows_viewers_and_replies_then_clears(server: Server) -> None:
    alice_token, alice = token(server, "alice")
    bob_token, bob = token(server, "bob")
    ticket = open_ticket(alice)["id"]
    watching = EventStream(server.url, alice_token, {"queue": "support"})
    page = EventStream(server.url, bob_token, {"ticket": ticket})
    try:
        frame = watching.next(event="presence")
        assert frame.id is None
        assert frame.data == {"ticket": ticket, "presence": [{"name": "bob", "state": "viewing"}]}
        assert (
            bob.post("/api/presence", json={"ticket": ticket, "state": "replying"}).status_code
            == 200
        )
        assert watching.next(event="presence").data["presence"] == [
            {"name": "bob", "state": "replying"}
        ]
        row = alice.get("/api/queues/support").json()["tickets"][0]
        assert row["presence"] == [{"name": "bob", "state": "replying"}]
        page.close()
        assert watching.next(event="presence").data["presence"] == []
    finally:
        watching.close()
        page.close()


def test_a_ticket_page_follows_its_ticket_after_it_is_solved(server: Server) -> None:
    secret, alice = token(server, "alice")
    ticket = open_ticket(alice)["id"]
    command(alice, "set_status", ticket, status="solved")
    page = EventStream(server.url, secret, {"ticket": ticket})
    try:
        command(alice, "comment", ticket, body="one more thing")
        command(alice, "set_status", ticket, status="closed")
        assert page.next(event="event").data["type"] == "CommentAdded"
        assert page.next(event="event").data["data"] == {"old": "solved", "new": "closed"}
    finally:
        page.close()


def test_next_with_a_command_id_applies_once(server: Server) -> None:
    _, alice = token(server, "alice")
    only = open_ticket(alice)["id"]
    wait_until(lambda: alice.get("/api/queues/support").json()["total"] == 1, what="the view")
    first = command(alice, "next", queue="support", command_id="next-1")
    assert first.status_code == 200 and first.json()["ticket"]["id"] == only
    again = command(alice, "next", queue="support", command_id="next-1")
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["snag-position"] == first.headers["snag-position"]
    bad = alice.post(
        "/api/commands",
        content=json.dumps({"command": "next", "queue": "\ud800"}),
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "queue"
    assert "<" not in command(alice, "next", queue="<script>").text
