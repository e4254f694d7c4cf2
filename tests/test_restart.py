"""`snag serve` as a real process: restarts and kill -9 lose nothing acknowledged."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
from conftest import SnagProcess
from test_cli_accounts import snag, token_of


@pytest.fixture
def token(database_url: str) -> str:
    done = snag(database_url, "user", "add", "alice", "--role", "agent")
    assert done.returncode == 0, done.stderr
    return token_of(done.stdout)


def client(process: SnagProcess, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=process.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_everything_survives_kill_9_and_retries_answer_verbatim(
    database_url: str, token: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    first = SnagProcess(database_url, log)
    with client(first, token) as alice:
        opened = alice.post("/api/commands", json={
            "command": "open", "subject": "VPN down", "body": "since 9", "requester": "erik@example.com",
            "command_id": "open-1",
        })  # fmt: skip
        assert opened.status_code == 201
        ticket = opened.json()["ticket"]["id"]
        claimed = alice.post(
            "/api/commands", json={"command": "claim", "ticket": ticket, "command_id": "claim-1"}
        )
        commented = alice.post("/api/commands", json={
            "command": "comment", "ticket": ticket, "body": "Looking", "command_id": "comment-1",
        })  # fmt: skip
        assert claimed.status_code == commented.status_code == 200
        before = alice.get(f"/api/tickets/{ticket}").json()
    first.kill()

    second = SnagProcess(database_url, log)
    try:
        with client(second, token) as alice:
            assert alice.get(f"/api/tickets/{ticket}").json() == before
            again = alice.post("/api/commands", json={
                "command": "open", "subject": "VPN down", "body": "since 9", "requester": "erik@example.com",
                "command_id": "open-1",
            })  # fmt: skip
            assert again.status_code == 201 and again.content == opened.content
            retry = alice.post(
                "/api/commands",
                json={"command": "claim", "ticket": ticket, "command_id": "claim-1"},
            )
            assert retry.content == claimed.content
            reused = alice.post(
                "/api/commands",
                json={"command": "release", "ticket": ticket, "command_id": "claim-1"},
            )
            assert reused.status_code == 422 and reused.json()["error"] == "command_id_reused"
            assert len(alice.get(f"/api/tickets/{ticket}/history").json()["events"]) == 4
    finally:
        second.stop()


def test_kill_9_under_load_loses_no_acknowledged_command(
    database_url: str, token: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    first = SnagProcess(database_url, log)
    with client(first, token) as alice:
        tickets = [
            alice.post("/api/commands", json={"command": "open", "subject": f"t{i}", "body": "", "requester": "r"}).json()["ticket"]["id"]
            for i in range(4)
        ]  # fmt: skip
    acknowledged: list[str] = []
    sent: list[tuple[int, str]] = []
    lock = threading.Lock()
    enough = threading.Event()

    def load(ticket: int) -> None:
        with client(first, token) as own:
            for n in range(200):
                command_id = f"load-{ticket}-{n}"
                with lock:
                    sent.append((ticket, command_id))
                try:
                    answer = own.post("/api/commands", json={
                        "command": "comment", "ticket": ticket, "body": command_id, "command_id": command_id,
                    })  # fmt: skip
                except httpx.TransportError:
                    return
                if answer.status_code == 200:
                    with lock:
                        acknowledged.append(command_id)
                        if len(acknowledged) >= 60:
                            enough.set()

    threads = [threading.Thread(target=load, args=(t,)) for t in tickets]
    for t in threads:
        t.start()
    assert enough.wait(timeout=120), "the load never reached 60 acknowledged commands"
    first.kill()
    for t in threads:
        t.join(timeout=60)

    second = SnagProcess(database_url, log)
    try:
        with client(second, token) as alice:
            logged: Counter[str] = Counter()
            for ticket in tickets:
                for event in alice.get(f"/api/tickets/{ticket}/history").json()["events"]:
                    if event["command_id"]:
                        logged[event["command_id"]] += 1
            missing = [c for c in acknowledged if c not in logged]
            assert missing == [], f"acknowledged but lost: {missing}"
            # Every command sent, retried with its id, is applied exactly once.
            for ticket, command_id in sent:
                retry = alice.post("/api/commands", json={
                    "command": "comment", "ticket": ticket, "body": command_id, "command_id": command_id,
                })  # fmt: skip
                assert retry.status_code == 200
            counts: Counter[str] = Counter()
            for ticket in tickets:
                for event in alice.get(f"/api/tickets/{ticket}/history").json()["events"]:
                    if event["command_id"]:
                        counts[event["command_id"]] += 1
            assert set(counts) == {c for _, c in sent}
            assert set(counts.values()) == {1}
    finally:
        second.stop()
