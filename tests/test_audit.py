"""The audit tool (`snag history`, `replay`, `activity`, `queue`, `verify`, `rebuild`,
`export`, `import`) as an auditor runs it: a real process against a real Postgres, its
answers checked against what the API answered at the time."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from conftest import ROOT, Server, command, fresh_database, open_ticket, wait_until
from psycopg.types.json import Jsonb

from actors import AddComment, Caller, ClaimTicket, OpenTicket, SetStatus, TagTicket
from actors.model import fold, stream_name
from api.audit_common import moment
from api.demo import seed
from api.runtime import Runtime, Settings
from eventlog import GENESIS_HASH, Metadata, RecordedEvent, migrate
from eventlog.records import canonical, chain_hash, expected_hash
from eventlog.store import COLUMNS, event_row
from projections import QueueList, summary

RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def snag(url: str, *args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def snag_json(url: str, *args: str) -> Any:
    done = snag(url, *args, "--json")
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def sql(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query.encode(), params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def other_database(admin_url: str) -> Iterator[str]:
    """A second empty database, to import into."""
    with fresh_database(admin_url) as url:
        yield url


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


# History and replay


@dataclass(frozen=True)
class Moment:
    at: datetime
    version: int
    ticket: dict[str, Any]
    history: list[dict[str, Any]]


def test_history_and_replay_equal_what_the_api_answered_then(
    server: Server, database_url: str
) -> None:
    alice = server.user("alice")
    bob = server.user("bob", "admin")
    mailer = server.user("mailer", "integration")
    ticket = open_ticket(mailer, subject="VPN drops [every] hour", priority="normal")["id"]
    moments: list[Moment] = []

    def remember() -> None:
        seen = bob.get(f"/api/tickets/{ticket}").json()
        history = bob.get(f"/api/tickets/{ticket}/history").json()["events"]
        moments.append(Moment(datetime.now(UTC), seen["version"], seen, history))

    remember()
    for client, name, fields in [
        (alice, "claim", {}),
        (alice, "comment", {"body": "Looking into it"}),
        (bob, "set_priority", {"priority": "urgent"}),
        (alice, "comment", {"body": "Same as last week", "internal": True}),
        (alice, "set_status", {"status": "pending"}),
        (mailer, "comment", {"body": "Still broken", "from_requester": True}),
        (alice, "set_status", {"status": "solved"}),
        (bob, "set_status", {"status": "open"}),
        (bob, "assign", {"assignee": "bob"}),
        (alice, "tag", {"tag": "vpn"}),
    ]:
        response = command(client, name, ticket, **fields)
        assert response.status_code == 200, response.text
        remember()

    for then in moments:
        by_version = snag_json(
            database_url, "replay", str(ticket), "--at-version", str(then.version)
        )
        assert by_version == then.ticket
        by_time = snag_json(database_url, "replay", str(ticket), "--as-of", iso(then.at))
        assert by_time == then.ticket
        history = snag(database_url, "history", str(ticket), "--as-of", iso(then.at), "--json")
        assert history.returncode == 0, history.stderr
        assert json_lines(history.stdout) == then.history

    # Who had it, asked in another zone's local time: the offset is honoured.
    middle = moments[5]
    local = middle.at.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    assert snag_json(database_url, "replay", str(ticket), "--as-of", local)["assignee"] == "alice"

    readable = snag(database_url, "replay", str(ticket))
    assert readable.returncode == 0, readable.stderr
    assert "VPN drops [every] hour" in readable.stdout  # not taken for markup
    assert "bob" in readable.stdout
    sentences = snag(database_url, "history", str(ticket)).stdout
    assert "bob changed priority normal -> urgent" in sentences
    assert "alice added an internal note" in sentences


def test_times_without_a_zone_are_local() -> None:
    assert moment("2026-01-02 10:42") == datetime(2026, 1, 2, 10, 42).astimezone()
    assert moment("2026-01-02T10:42:00Z") == datetime(2026, 1, 2, 10, 42, tzinfo=UTC)
    assert moment("2026-01-02") == datetime(2026, 1, 2).astimezone()


def test_activity_answers_what_a_user_did(server: Server, database_url: str) -> None:
    alice = server.user("alice")
    bob = server.user("bob")
    first = open_ticket(alice)["id"]
    second = open_ticket(bob)["id"]
    start = datetime.now(UTC)
    command(alice, "claim", second)
    command(bob, "claim", first)
    command(alice, "comment", second, body="on it")
    done = snag(database_url, "activity", "--by", "alice", "--since", iso(start), "--json")
    assert done.returncode == 0, done.stderr
    assert [(e["stream"], e["type"]) for e in json_lines(done.stdout)] == [
        (stream_name(second), "TicketClaimed"),
        (stream_name(second), "StatusChanged"),  # new -> open, with the claim
        (stream_name(second), "CommentAdded"),
    ]
    claims = snag(database_url, "activity", "--type", "TicketClaimed", "--json").stdout
    assert {e["by"] for e in json_lines(claims)} == {"alice", "bob"}
    table = snag(database_url, "activity", "--by", "bob", "--until", iso(start)).stdout
    assert "bob opened" in table and "claimed" not in table


# The queue as it was


def api_queue(client: httpx.Client, tickets: list[int], queue: str) -> list[dict[str, Any]]:
    """The queue list as the API showed it: every live ticket of the queue, most urgent
    then oldest first, built from the API's own ticket answers."""
    views = [client.get(f"/api/tickets/{t}").json() for t in tickets]
    live = [v for v in views if v["queue"] == queue and v["status"] in ("new", "open", "pending")]
    return sorted(live, key=lambda v: (RANK[v["priority"]], v["created_at"], v["id"]))


def as_row(view: dict[str, Any]) -> dict[str, Any]:
    last = view["comments"][-1]["at"] if view["comments"] else view["created_at"]
    keys = ("id", "subject", "requester", "queue", "status", "priority", "assignee", "tags")
    return {
        **{k: view[k] for k in keys},
        "created_at": view["created_at"],
        "updated_at": view["updated_at"],
        "last_activity": last,
        "version": view["version"],
    }


def test_queue_as_of_equals_the_list_the_api_showed_then(server: Server, database_url: str) -> None:
    alice = server.user("alice")
    admin = server.user("carol", "admin")
    tickets = [
        open_ticket(alice, subject=f"Problem {n}", priority=p, queue=q)["id"]
        for n, (p, q) in enumerate(
            [("normal", "support"), ("urgent", "support"), ("low", "support"), ("high", "billing")]
        )
    ]
    snapshots: list[tuple[datetime, int, list[dict[str, Any]]]] = []

    def remember() -> None:
        head = server.runtime.store.head_position()
        listed = [as_row(v) for v in api_queue(admin, tickets, "support")]
        if admin.get("/api/queues/support").status_code != 404:  # the live view's own list
            served: dict[str, Any] = {}

            def caught_up() -> bool:
                served.update(admin.get("/api/queues/support").json())
                return served.get("position", -1) >= head

            wait_until(caught_up, what="the live queue list to reach the log head")
            assert [t["id"] for t in served["tickets"]] == [r["id"] for r in listed]
        snapshots.append((datetime.now(UTC), head, listed))

    remember()
    steps = [
        ("claim", tickets[1], {}),
        ("set_status", tickets[0], {"status": "solved"}),
        ("move", tickets[3], {"queue": "support"}),
        ("set_status", tickets[0], {"status": "open"}),  # back from solved: reload
        ("comment", tickets[2], {"body": "any news?"}),
        ("set_priority", tickets[2], {"priority": "urgent"}),
        ("set_status", tickets[1], {"status": "solved"}),
        ("set_status", tickets[1], {"status": "closed"}),
    ]
    for name, ticket, fields in steps:
        assert command(alice, name, ticket, **fields).status_code == 200
        remember()

    store = server.runtime.store
    for at, head, expected in snapshots:
        shown = snag_json(database_url, "queue", "support", "--as-of", iso(at))
        assert shown["position"] == head
        assert shown["tickets"] == expected
        folded = QueueList()
        for event in store.read_after(0, limit=head):
            folded.apply(event, lambda t, p: fold(None, store.read_stream(stream_name(t), p)))
        assert shown["tickets"] == [summary(t) for t in folded.tickets(queue="support")]
    assert [t["id"] for t in snapshots[-1][2]] == [tickets[2], tickets[3], tickets[0]]
    readable = snag(database_url, "queue", "support", "--as-of", iso(snapshots[1][0]))
    assert "Problem 1" in readable.stdout and "alice" in readable.stdout


# Verify


def test_verify_passes_on_a_clean_log_and_on_demo_data(runtime: Runtime, database_url: str) -> None:
    empty = snag(database_url, "verify")
    assert empty.returncode == 0, empty.stderr
    assert "empty" in empty.stdout
    seed(runtime)
    head = runtime.store.head_position()
    report = snag_json(database_url, "verify")
    assert report["ok"] and report["problem"] is None
    assert report["events"] == head == report["head"]["position"]
    assert report["streams"] == len(sql(database_url, "SELECT DISTINCT stream FROM events"))
    readable = snag(database_url, "verify")
    assert readable.returncode == 0
    assert f"{head} events" in readable.stdout
    recorded = f"{report['head']['hash']}@{head}"
    assert recorded in readable.stdout
    assert snag(database_url, "verify", "--expect", recorded).returncode == 0


def small_log(runtime: Runtime) -> list[RecordedEvent]:
    """Three tickets and their events, through real commands."""
    desk = runtime.desk
    alice = Caller("alice", "agent")
    runtime.account_service.add_user("alice", "agent")
    runtime.credentials.reload()
    for n in range(3):
        desk.execute(OpenTicket(f"Ticket {n}", "body", "dana@example.com"), alice).result(10)
    for ticket in (1, 2, 3):
        desk.execute(ClaimTicket(ticket), alice).result(10)
        desk.execute(AddComment(ticket, f"reply to {ticket}"), alice).result(10)
    desk.execute(SetStatus(1, "solved"), alice).result(10)
    desk.execute(TagTicket(2, "vip"), alice).result(10)
    return runtime.store.read_after(0, limit=10_000)


def shift_up(url: str, first: int) -> None:
    """Move every event from `first` on up one position (two steps: positions are unique)."""
    sql(url, "UPDATE events SET position = position + 1000000 WHERE position >= %s", (first,))
    sql(url, "UPDATE events SET position = position - 999999 WHERE position > 1000000")


def swap(url: str, a: int, b: int) -> None:
    """Trade every column but the position between two events."""
    cols = "stream, version, type, data, by_user, command_id, correlation_id, recorded_at, hash"
    sql(url, "UPDATE events SET version = version + 1000000 WHERE position IN (%s, %s)", (a, b))
    sql(
        url,
        f"UPDATE events e SET ({cols}) = (o.stream, o.version - 1000000, o.type, o.data,"
        " o.by_user, o.command_id, o.correlation_id, o.recorded_at, o.hash)"
        " FROM events o WHERE (e.position, o.position) IN ((%s, %s), (%s, %s))",
        (a, b, b, a),
    )


def forged(log: list[RecordedEvent], position: int) -> RecordedEvent:
    """An event that was never recorded, hashed to follow the event before `position`."""
    model = log[position - 1]
    fake = replace(model, position=position, stream="ticket-3", version=99, by="mallory")
    return replace(fake, hash=expected_hash(fake, log[position - 2].hash))


def insert(url: str, e: RecordedEvent) -> None:
    sql(
        url,
        f"INSERT INTO events ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        event_row(e),
    )


def rehash_from(url: str, log: list[RecordedEvent], first: int) -> None:
    """Recompute every hash from `first` on, as a careful forger would."""
    rows = sql(url, f"SELECT {COLUMNS} FROM events ORDER BY position")
    previous = log[first - 2].hash if first > 1 else GENESIS_HASH
    for row in rows[first - 1 :]:
        e = RecordedEvent(*row)
        previous = expected_hash(e, previous)
        sql(url, "UPDATE events SET hash = %s WHERE position = %s", (previous, e.position))


Tamper = Callable[[str, list[RecordedEvent]], None]
TAMPERING: dict[str, tuple[Tamper, int, str, bool]] = {
    # name: (what is done, the position verify must name, the kind, needs --expect)
    "data": (
        lambda url, log: sql(
            url, "UPDATE events SET data = data || '{\"body\": \"edited\"}' WHERE position = 8"
        ),
        8, "edited", False,
    ),
    "by": (lambda url, log: sql(url, "UPDATE events SET by_user = 'bob' WHERE position = 7"), 7, "edited", False),
    "recorded_at": (
        lambda url, log: sql(
            url, "UPDATE events SET recorded_at = recorded_at - interval '1 hour' WHERE position = 5"
        ),
        5, "edited", False,
    ),
    "type": (lambda url, log: sql(url, "UPDATE events SET type = 'TicketReleased' WHERE position = 6"), 6, "edited", False),
    "delete_middle": (lambda url, log: sql(url, "DELETE FROM events WHERE position = 6"), 6, "deleted", False),
    "delete_last": (lambda url, log: sql(url, "DELETE FROM events WHERE position = %s", (len(log),)), -1, "deleted", True),
    "swap_adjacent": (lambda url, log: swap(url, 7, 8), 7, "swapped", False),
    "swap_apart": (lambda url, log: swap(url, 5, 10), 5, "swapped", False),
    "insert_rehashed": (lambda url, log: (shift_up(url, 8), insert(url, forged(log, 8))), 8, "inserted", False),
    "insert_unhashed": (
        lambda url, log: (shift_up(url, 8), insert(url, replace(forged(log, 8), hash="0" * 64))),
        8, "inserted", False,
    ),
    "rewrite_and_rehash": (
        lambda url, log: (
            sql(url, "UPDATE events SET by_user = 'bob' WHERE position = 7"),
            rehash_from(url, log, 7),
        ),
        -1, "rewritten", True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", TAMPERING)
def test_verify_names_the_first_tampered_event(
    runtime: Runtime, database_url: str, case: str
) -> None:
    log = small_log(runtime)
    head = f"{log[-1].hash}@{log[-1].position}"
    tamper, position, kind, needs_expect = TAMPERING[case]
    position = len(log) if position == -1 else position
    deleted_from = {e.position: e.stream for e in log}
    tamper(database_url, log)
    now_at = dict(sql(database_url, "SELECT position, stream FROM events"))

    plain = snag(database_url, "verify", "--json")
    if needs_expect:
        # Without a recorded head, a cut tail or a re-hashed log looks like a clean one.
        assert plain.returncode == 0, plain.stdout
        done = snag(database_url, "verify", "--expect", head, "--json")
    else:
        done = plain
    assert done.returncode == 1, done.stdout + done.stderr
    problem = orjson.loads(done.stdout)["problem"]
    assert (problem["kind"], problem["position"]) == (kind, position), problem
    if kind in ("edited", "swapped", "rewritten"):
        assert problem["stream"] == now_at[position]
    if case == "delete_middle":
        assert problem["stream"] == deleted_from[position]
    readable = snag(database_url, "verify", *(("--expect", head) if needs_expect else ()))
    assert readable.returncode == 1
    assert readable.stdout.startswith(f"TAMPERED: {kind} at position {position}")


# Rebuild


def test_rebuild_equals_the_live_servers_digest(server: Server, database_url: str) -> None:
    seed(server.runtime, tickets=120)
    desk, carol = server.runtime.desk, Caller("carol", "admin")
    ticket = orjson.loads(
        desk.execute(OpenTicket("Back again", "b", "x@example.com"), carol).result(10).body
    )["ticket"]["id"]
    desk.execute(SetStatus(ticket, "solved"), carol).result(10)
    desk.execute(SetStatus(ticket, "open"), carol).result(10)  # the live view reloads it
    head = server.runtime.store.head_position()
    health: dict[str, Any] = {}

    def caught_up() -> bool:
        health.update(httpx.get(f"{server.url}/healthz").json())
        live = health.get("projections", {}).get("queue_list", {})
        return health.get("position") == head and live.get("position") == head

    wait_until(caught_up, timeout=15, what="/healthz to report the queue list at the log head")
    rebuilt = snag_json(database_url, "rebuild")
    assert rebuilt["position"] == head
    ours = rebuilt["projections"]["queue_list"]
    live = health["projections"]["queue_list"]
    assert (ours["position"], ours["tickets"], ours["digest"]) == (
        live["position"],
        live["tickets"],
        live["digest"],
    )
    readable = snag(database_url, "rebuild").stdout
    assert ours["digest"] in readable and "queue_list" in readable


# Export and import


def test_export_then_import_round_trips(
    runtime: Runtime, database_url: str, other_database: str, tmp_path: Path
) -> None:
    seed(runtime, tickets=80)
    exported = tmp_path / "log.jsonl"
    with exported.open("w") as sink:
        done = snag(database_url, "export", stdout=sink)
    assert (done.returncode, done.stderr) == (0, "")  # no progress bar into a pipe
    lines = json_lines(exported.read_text())
    original = runtime.store.read_after(0, limit=100_000)
    assert [line["hash"] for line in lines] == [e.hash for e in original]
    assert lines[0] == {**original[0].shape(), "hash": original[0].hash}

    loaded = snag(other_database, "import", str(exported))
    assert loaded.returncode == 0, loaded.stderr
    assert f"imported {len(original)} events" in loaded.stdout
    assert snag_json(other_database, "verify")["head"] == snag_json(database_url, "verify")["head"]
    again = tmp_path / "again.jsonl"
    with again.open("w") as sink:
        snag(other_database, "export", stdout=sink)
    assert again.read_bytes() == exported.read_bytes()
    assert snag_json(other_database, "rebuild") == snag_json(database_url, "rebuild")
    for ticket in (1, 7, 40, 80):
        assert snag_json(other_database, "replay", str(ticket)) == snag_json(
            database_url, "replay", str(ticket)
        )

    users = snag(other_database, "user", "list").stdout
    assert "alice" in users and "mailer" in users
    refused = snag(other_database, "import", str(exported))
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"snag: the database already holds {len(original)} events (up to position"
        f" {len(original)}); import only into an empty database"
    )

    # The imported log goes on: the next ticket gets the next id, the chain stays whole.
    moved = Runtime(Settings(other_database))
    try:
        moved.account_service.add_token("alice", "after import")
        outcome = moved.desk.execute(
            OpenTicket("After import", "body", "dana@example.com"), Caller("alice", "agent")
        ).result(10)
    finally:
        moved.close()
    assert orjson.loads(outcome.body)["ticket"]["id"] == 81
    assert snag(other_database, "verify").returncode == 0


def test_import_refuses_a_broken_chain_and_a_bad_file(
    runtime: Runtime, database_url: str, other_database: str, tmp_path: Path
) -> None:
    small_log(runtime)
    exported = tmp_path / "log.jsonl"
    with exported.open("w") as sink:
        snag(database_url, "export", stdout=sink)
    lines = exported.read_text().splitlines()
    edited = orjson.loads(lines[4])
    edited["by"] = "mallory"
    lines[4] = orjson.dumps(edited).decode()
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n")
    done = snag(other_database, "import", str(tampered))
    assert done.returncode == 1
    assert done.stdout.startswith("TAMPERED: edited at position 5")
    assert sql(other_database, "SELECT count(*) FROM events") == [(0,)]

    broken = tmp_path / "broken.jsonl"
    broken.write_text(lines[0] + "\n" + '{"position": 2}\n')
    done = snag(other_database, "import", str(broken))
    assert done.returncode == 2
    assert done.stderr.startswith("snag: line 2 of the file is not an exported event")
    assert sql(other_database, "SELECT count(*) FROM events") == [(0,)]


# Bad input


def test_bad_input_gets_exit_code_2_and_one_line(
    runtime: Runtime, database_url: str, admin_url: str, other_database: str, tmp_path: Path
) -> None:
    small_log(runtime)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    cases: list[tuple[tuple[str, ...], str]] = [
        (("replay", "424242"), "there is no ticket 424242"),
        (("history", "424242"), "there is no ticket 424242"),
        (("history", "0"), "out of range"),
        (("replay", "1", "--as-of", "last tuesday"), "is not a time"),
        (("replay", "1", "--as-of", future), "is in the future"),
        (("replay", "1", "--as-of", "2001-01-01 10:42"), "ticket 1 did not exist yet"),
        (("replay", "1", "--at-version", "99"), "there is no version 99"),
        (("replay", "1", "--at-version", "1", "--as-of", "2020-01-01"), "not allowed with"),
        (("activity", "--type", "TicketStolen"), "there is no event type TicketStolen"),
        (("activity", "--since", "2020-01-02", "--until", "2020-01-01"), "--since is after --until"),
        (("activity", "--until", "32/13/2020"), "is not a time"),
        (("queue", "support", "--as-of", "soon"), "is not a time"),
        (("export", "--since", future), "is in the future"),
        (("verify", "--expect", "abc@12"), "is not DIGEST@POSITION"),
        (("import", str(tmp_path / "missing.jsonl")), "cannot read"),
    ]  # fmt: skip
    for args, message in cases:
        done = snag(database_url, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("snag: "), (args, done.stderr)
        assert message in lines[0], (args, lines[0])

    # A database without Snag's schema: refused, and left as it was (nothing migrates).
    for args in (("verify",), ("history", "1"), ("rebuild",), ("export",), ("queue", "x")):
        done = snag(other_database, *args)
        assert done.returncode == 2
        assert done.stderr.strip() == (
            "snag: the database has no current Snag schema; start `snag serve` against it once"
        )
    assert sql(other_database, "SELECT to_regclass('schema_migrations')") == [(None,)]

    unreachable = "postgresql://auditor:hunter22@127.0.0.1:1/snag"
    for args in (("verify",), ("replay", "1"), ("import", str(tmp_path / "x"))):
        (tmp_path / "x").write_text("")
        done = snag(unreachable, *args)
        assert done.returncode == 2
        assert "hunter22" not in done.stdout + done.stderr
        assert done.stderr.strip() == (
            "snag: cannot connect to the database at postgresql://auditor:***@127.0.0.1:1/snag"
        )


# Memory


def fill(url: str, count: int) -> str:
    """`count` valid events written straight in with COPY; returns the head hash."""
    with psycopg.connect(url) as conn:
        migrate(conn)
        previous = GENESIS_HASH
        at = datetime(2026, 1, 1, tzinfo=UTC)
        body = "The printer on the third floor prints every page twice. " * 4
        with conn.cursor() as cur, cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
            for position in range(1, count + 1):
                ticket, version = divmod(position - 1, 10)
                data: dict[str, Any]
                if version == 0:
                    kind = "TicketOpened"
                    data = {"ticket": ticket + 1, "subject": f"Printer {ticket}", "body": body,
                            "requester": "dana@example.com", "queue": "support",
                            "priority": "normal", "tags": []}  # fmt: skip
                else:
                    kind = "CommentAdded"
                    data = {"author": "alice", "body": body, "internal": False,
                            "from_requester": False}  # fmt: skip
                stream = stream_name(ticket + 1)
                recorded_at = at + timedelta(milliseconds=position)
                form = canonical(
                    position=position, stream=stream, version=version + 1, type=kind, data=data,
                    metadata=Metadata("alice"), recorded_at=recorded_at,
                )  # fmt: skip
                previous = chain_hash(previous, form)
                copy.write_row(
                    (position, stream, version + 1, kind, Jsonb(data), "alice", None, None,
                     recorded_at, previous)
                )  # fmt: skip
    return previous


def peak_rss_mb(url: str, args: list[str], output: Path) -> tuple[float, int]:
    """Run `snag *args` with stdout to `output`; its own peak RSS in MB, and its exit code."""
    with output.open("wb") as sink:
        child = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, child.returncode  # Linux reports KiB


def test_exporting_200k_events_grows_memory_by_less_than_50_mb(
    database_url: str, tmp_path: Path
) -> None:
    count = 200_000
    head = fill(database_url, count)
    baseline, code = peak_rss_mb(database_url, ["export", "--stream", "none"], tmp_path / "none")
    assert code == 0
    peak, code = peak_rss_mb(database_url, ["export"], tmp_path / "all.jsonl")
    assert code == 0
    with (tmp_path / "all.jsonl").open("rb") as exported:
        lines = sum(1 for _ in exported)
        last = orjson.loads(_last_line(tmp_path / "all.jsonl"))
    assert lines == count
    assert last["position"] == count and last["hash"] == head
    print(f"export of {count} events: peak RSS {peak:.0f} MB, baseline {baseline:.0f} MB")
    assert peak - baseline < 50


def _last_line(path: Path) -> bytes:
    with path.open("rb") as f:
        f.seek(-4096, os.SEEK_END)
        return f.read().splitlines()[-1]


def test_a_long_read_shows_its_progress_on_a_terminal(database_url: str) -> None:
    fill(database_url, 6000)
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "verify"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the child has exited
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert child.wait(timeout=60) == 0
    assert child.stdout is not None
    assert b"6000 events" in child.stdout.read()
    child.stdout.close()
    assert b"events/s" in shown and b"verifying" in shown
