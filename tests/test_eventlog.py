"""Integration tests of the event log against a real PostgreSQL.

Each test gets its own empty database (the `database_url` fixture), migrated here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg_pool
import pytest
from conftest import wait_until, with_dbname

import eventlog
from eventlog import (
    GENESIS_HASH,
    CommandAlreadyRecorded,
    CommandRecord,
    DatabaseUnavailable,
    EventStore,
    LogTailer,
    Metadata,
    NewEvent,
    RecordedEvent,
    SchemaMissing,
    SnagError,
    StreamWrite,
    VersionConflict,
    expected_hash,
)
from eventlog.records import canonical, chain_hash
from eventlog.store import append_in

ALICE = Metadata("alice", command_id="c-1", correlation_id="r-1")


def write(stream: str, expected_version: int, *types: str, **data: Any) -> StreamWrite:
    events = tuple(NewEvent(t, {"n": i, **data}) for i, t in enumerate(types))
    return StreamWrite(stream, expected_version, events)


@pytest.fixture
def pool(database_url: str) -> Iterator[psycopg_pool.ConnectionPool]:
    pool = eventlog.open_pool(database_url)
    with pool.connection() as conn:
        eventlog.migrate(conn)
    yield pool
    pool.close()


@pytest.fixture
def store(pool: psycopg_pool.ConnectionPool) -> EventStore:
    return EventStore(pool)


class Collector:
    """A tailer subscriber that keeps every position delivered, in delivery order."""

    def __init__(self) -> None:
        self.positions: list[int] = []

    def __call__(self, events: Sequence[RecordedEvent]) -> None:
        self.positions.extend(e.position for e in events)


@pytest.fixture
def tail(database_url: str) -> Iterator[tuple[LogTailer, Collector]]:
    tailer = LogTailer(database_url, poll_interval=0.2)
    collector = Collector()
    tailer.subscribe(collector)
    tailer.start()
    yield tailer, collector
    tailer.stop()


def waiting_appenders(conn: Any) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()
    return int(row[0])


# Positions, versions, atomicity


def test_positions_are_global_and_versions_per_stream(store: EventStore) -> None:
    first = store.append([write("ticket-1", 0, "A")], ALICE)
    second = store.append([write("ticket-2", 0, "B", "C")], ALICE)
    third = store.append([write("ticket-1", 1, "D")], ALICE)

    assert [(e.position, e.stream, e.version) for e in first + second + third] == [
        (1, "ticket-1", 1),
        (2, "ticket-2", 1),
        (3, "ticket-2", 2),
        (4, "ticket-1", 2),
    ]
    assert store.head_position() == 4
    assert [(e.by, e.command_id, e.correlation_id) for e in third] == [("alice", "c-1", "r-1")]


def test_several_streams_in_one_append(store: EventStore) -> None:
    recorded = store.append([write("a", 0, "A1", "A2"), write("b", 0, "B1")], ALICE)

    assert [(e.position, e.stream, e.version, e.type) for e in recorded] == [
        (1, "a", 1, "A1"),
        (2, "a", 2, "A2"),
        (3, "b", 1, "B1"),
    ]
    assert store.read_after(0) == recorded


def test_wrong_expected_version_is_a_conflict_and_writes_nothing(store: EventStore) -> None:
    store.append([write("a", 0, "A1", "A2")], ALICE)

    for wrong in (0, 1, 3):
        with pytest.raises(VersionConflict) as refused:
            store.append([write("a", wrong, "X")], ALICE)
        assert refused.value.current_version == 2
        assert refused.value.details["current_version"] == 2

    assert [e.type for e in store.read_stream("a")] == ["A1", "A2"]
    assert store.head_position() == 2


def test_a_conflict_in_one_stream_writes_no_stream(store: EventStore) -> None:
    store.append([write("b", 0, "B1")], ALICE)

    with pytest.raises(VersionConflict) as refused:
        store.append([write("a", 0, "A1", "A2"), write("b", 0, "B2")], ALICE)

    assert refused.value.current_version == 1
    assert store.read_stream("a") == []
    assert store.head_position() == 1
    # The positions the refused append would have taken are still free.
    [event] = store.append([write("a", 0, "A1")], ALICE)
    assert event.position == 2


def test_concurrent_appends_to_one_stream_have_one_winner(store: EventStore) -> None:
    barrier = threading.Barrier(8)
    outcomes: list[object] = []

    def appender(n: int) -> None:
        barrier.wait()
        try:
            store.append([write("ticket-9", 0, f"T{n}")], ALICE)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert outcomes.count("ok") == 1
    conflicts = [o for o in outcomes if o != "ok"]
    assert all(isinstance(c, VersionConflict) for c in conflicts), conflicts
    assert all(c.current_version == 1 for c in conflicts if isinstance(c, VersionConflict))
    assert len(store.read_stream("ticket-9")) == 1


# Reading


def test_read_stream_and_read_after(store: EventStore) -> None:
    store.append([write("a", 0, "A1")], ALICE)
    store.append([write("b", 0, "B1")], ALICE)
    store.append([write("a", 1, "A2", "A3")], ALICE)
    store.append([write("b", 1, "B2")], ALICE)

    assert [(e.version, e.type) for e in store.read_stream("a")] == [
        (1, "A1"),
        (2, "A2"),
        (3, "A3"),
    ]
    assert [e.type for e in store.read_stream("a", up_to=3)] == ["A1", "A2"]
    assert store.read_stream("nothing") == []

    assert [e.position for e in store.read_after(0)] == [1, 2, 3, 4, 5]
    assert [e.type for e in store.read_after(2)] == ["A2", "A3", "B2"]
    assert [e.position for e in store.read_after(1, limit=2)] == [2, 3]
    assert store.read_after(5) == []


def test_data_comes_back_as_written(store: EventStore) -> None:
    data = {"zeta": 1, "a": [1, "two", None, True], "nested": {"y": "é ✓ 😀", "x": 2**62}}
    [written] = store.append([StreamWrite("a", 0, (NewEvent("T", data),))], ALICE)

    [read] = store.read_stream("a")
    assert read == written
    assert dict(read.data) == data


def test_recorded_at_is_utc_and_follows_position(store: EventStore) -> None:
    before = datetime.now(UTC)
    for n in range(5):
        store.append([write(f"s{n}", 0, "A", "B")], ALICE)
    after = datetime.now(UTC)

    events = store.read_after(0)
    times = [e.recorded_at for e in events]
    assert all(t.utcoffset() == timedelta(0) for t in times)
    assert times == sorted(times)
    # Separate appends are separate moments.
    assert len(set(times)) == 5
    # Allow a little clock skew between this process and the server.
    assert before - timedelta(seconds=5) <= times[0] <= times[-1] <= after + timedelta(seconds=5)
    assert eventlog.format_time(times[0]).endswith("Z")


def test_a_float_in_data_is_refused_and_nothing_written(store: EventStore) -> None:
    for data in ({"price": 1.5}, {"items": [1, {"weight": 2.0}]}):
        with pytest.raises((TypeError, ValueError, SnagError)):
            store.append([StreamWrite("a", 0, (NewEvent("T", data),))], ALICE)
    assert store.head_position() == 0


# The hash chain


def test_every_event_chains_to_the_one_before(store: EventStore) -> None:
    store.append(
        [StreamWrite("a", 0, (NewEvent("T", {"b": 1, "a": "x", "ccc": {"z": 1, "y": 2}}),))], ALICE
    )
    store.append([write("b", 0, "B1", "B2"), write("c", 0, "C1")], Metadata("bob"))
    store.append([write("a", 1, "A2", text="naïve ☕")], ALICE)

    previous = GENESIS_HASH
    events = store.read_after(0)
    assert len(events) == 5
    for event in events:
        assert len(event.hash) == 64
        assert event.hash == expected_hash(event, previous)
        previous = event.hash


def test_a_tampered_event_breaks_the_chain(
    store: EventStore, pool: psycopg_pool.ConnectionPool
) -> None:
    store.append([write("a", 0, "A1", "A2", "A3")], ALICE)
    with pool.connection() as conn:
        conn.execute("UPDATE events SET data = '{\"n\": 99}' WHERE position = 2")

    first, second, third = store.read_after(0)
    assert first.hash == expected_hash(first, GENESIS_HASH)
    assert second.hash != expected_hash(second, first.hash)
    assert third.hash == expected_hash(third, second.hash)


CANONICAL_ARGS: dict[str, Any] = {
    "position": 7,
    "stream": "ticket-42",
    "version": 3,
    "type": "CommentAdded",
    "data": {"body": "Café ✓", "author": "alice", "extra": {"z": [1, 2], "a": None}},
    "metadata": Metadata("alice", "cmd-1", None),
    "recorded_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
}


def test_canonical_form() -> None:
    form = canonical(**CANONICAL_ARGS)
    text = form.decode("utf-8")

    # Sorted keys at every level and no whitespace: re-encoding that way changes nothing.
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    # UTF-8, not \u escapes.
    assert "Café ✓".encode() in form
    assert b"\\u" not in form
    document = json.loads(text)
    for key in ("position", "stream", "version", "type", "data"):
        assert document[key] == CANONICAL_ARGS[key]
    assert "2026-01-02T03:04:05.000006Z" in text
    assert '"alice"' in text
    assert '"cmd-1"' in text


def test_canonical_form_ignores_key_order_and_time_zone() -> None:
    reordered = {
        **CANONICAL_ARGS,
        "data": {"extra": {"a": None, "z": [1, 2]}, "author": "alice", "body": "Café ✓"},
        "recorded_at": datetime(2026, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
    }
    assert canonical(**reordered) == canonical(**CANONICAL_ARGS)


@pytest.mark.parametrize(
    "data", [{"x": 1.0}, {"x": [0.5]}, {"x": {"y": float("nan")}}], ids=["top", "list", "nested"]
)
def test_canonical_form_refuses_floats(data: dict[str, Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical(**{**CANONICAL_ARGS, "data": data})


@pytest.mark.parametrize(
    "change",
    [
        {"position": 8},
        {"stream": "ticket-43"},
        {"version": 4},
        {"type": "TicketClaimed"},
        {"data": {"body": "other"}},
        {"metadata": Metadata("bob", "cmd-1", None)},
        {"metadata": Metadata("alice", "cmd-2", None)},
        {"metadata": Metadata("alice", "cmd-1", "corr")},
        {"recorded_at": datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC)},
    ],
)
def test_the_hash_covers_every_field(change: dict[str, Any]) -> None:
    original = chain_hash(GENESIS_HASH, canonical(**CANONICAL_ARGS))
    assert chain_hash(GENESIS_HASH, canonical(**{**CANONICAL_ARGS, **change})) != original
    assert chain_hash("f" * 64, canonical(**CANONICAL_ARGS)) != original


# Schema


def test_migrate_is_idempotent(database_url: str) -> None:
    with eventlog.connect(database_url) as conn:
        with pytest.raises(SchemaMissing):
            eventlog.check_schema(conn)
        version = eventlog.migrate(conn)
        conn.execute(
            "INSERT INTO events VALUES (1, 's', 1, 'T', '{}', 'u', NULL, NULL, now(), 'h')"
        )
        conn.commit()

        assert eventlog.migrate(conn) == version
        assert eventlog.migrate(conn) == version
        eventlog.check_schema(conn)
        row = conn.execute("SELECT count(*) FROM events").fetchone()
        assert row is not None
        assert row[0] == 1


def test_concurrent_migrations(database_url: str) -> None:
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            with eventlog.connect(database_url) as conn:
                eventlog.migrate(conn)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []


# Connecting


def test_open_pool_fails_at_once_without_the_password(caplog: pytest.LogCaptureFixture) -> None:
    url = "postgresql://u:secret@127.0.0.1:1/x"
    start = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as refused:
        eventlog.open_pool(url)
    elapsed = time.monotonic() - start

    assert "secret" not in str(refused.value)
    assert "secret" not in caplog.text
    # Nothing listens on port 1: the refusal is known at once, not after a pool timeout.
    assert elapsed < 5, f"open_pool took {elapsed:.1f}s to give up"


def test_open_pool_on_a_missing_database(admin_url: str) -> None:
    url = with_dbname(admin_url, "snag_no_such_database")
    start = time.monotonic()
    with pytest.raises(DatabaseUnavailable):
        eventlog.open_pool(url)
    assert time.monotonic() - start < 5


def test_connect_fails_with_snags_error() -> None:
    with pytest.raises(DatabaseUnavailable) as refused:
        eventlog.connect("postgresql://u:secret@127.0.0.1:1/x")
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("postgresql://u:secret@db.example:5432/snag", "postgresql://u:***@db.example:5432/snag"),
        (
            "postgresql://u:p%40ss@db.example/snag?sslmode=require",
            "postgresql://u:***@db.example/snag?sslmode=require",
        ),
        ("postgresql://u@db.example/snag", "postgresql://u@db.example/snag"),
        ("postgresql:///snag?host=/tmp&password=secret", None),
        ("host=db user=u password=secret dbname=snag", None),
        ("host=db user=u password='se cret' dbname=snag", None),
    ],
)
def test_redact(url: str, safe: str | None) -> None:
    redacted = eventlog.redact(url)
    if safe is not None:
        assert redacted == safe
    for secret in ("secret", "p%40ss", "se cret", "cret"):
        assert secret not in redacted
    assert "db" in redacted or "/tmp" in redacted


# Command records


def test_command_record_is_stored_with_its_events(store: EventStore) -> None:
    seen: list[list[RecordedEvent]] = []

    def render(events: list[RecordedEvent]) -> tuple[int, bytes]:
        seen.append(events)
        return 201, json.dumps({"positions": [e.position for e in events]}).encode()

    record = CommandRecord("alice", "cmd-1", "h" * 64, render)
    recorded = store.append([write("a", 0, "A1", "A2")], ALICE, record)

    assert seen == [recorded]
    stored = store.stored_response("alice", "cmd-1")
    assert stored is not None
    assert (stored.request_hash, stored.status) == ("h" * 64, 201)
    assert stored.body == b'{"positions": [1, 2]}'
    assert store.stored_response("bob", "cmd-1") is None
    assert store.stored_response("alice", "cmd-2") is None


def test_a_recorded_command_id_is_not_recorded_twice(store: EventStore) -> None:
    def render(events: list[RecordedEvent]) -> tuple[int, bytes]:
        return 200, b"first"

    store.append([write("a", 0, "A1")], ALICE, CommandRecord("alice", "cmd-1", "h1", render))

    with pytest.raises(CommandAlreadyRecorded):
        store.append(
            [write("b", 0, "B1")],
            ALICE,
            CommandRecord("alice", "cmd-1", "h2", lambda events: (200, b"second")),
        )

    assert store.head_position() == 1
    assert store.read_stream("b") == []
    stored = store.stored_response("alice", "cmd-1")
    assert stored is not None
    assert (stored.request_hash, stored.body) == ("h1", b"first")
    # Another user may use the same id.
    store.append([write("b", 0, "B1")], ALICE, CommandRecord("bob", "cmd-1", "h3", render))


def test_a_failing_render_writes_nothing(store: EventStore) -> None:
    def render(events: list[RecordedEvent]) -> tuple[int, bytes]:
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        store.append([write("a", 0, "A1")], ALICE, CommandRecord("alice", "cmd-1", "h", render))
    assert store.head_position() == 0
    assert store.stored_response("alice", "cmd-1") is None


# The gap-free tail


def test_tailer_delivers_every_position_once_in_order_under_concurrent_appends(
    store: EventStore, tail: tuple[LogTailer, Collector]
) -> None:
    tailer, collector = tail
    threads_count, rounds = 8, 25
    events_per_round = {0: 3, 1: 3, 2: 1}
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def appender(n: int) -> None:
        try:
            barrier.wait()
            for r in range(rounds):
                if r % 3 == 0:
                    store.append([write(f"t{n}-{r}", 0, "A", "B", "C")], ALICE)
                elif r % 3 == 1:
                    store.append(
                        [write(f"t{n}-{r}a", 0, "A"), write(f"t{n}-{r}b", 0, "A", "B")], ALICE
                    )
                else:
                    store.append([write(f"t{n}-{r}", 0, "A")], ALICE)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []

    head = store.head_position()
    assert head == threads_count * sum(events_per_round[r % 3] for r in range(rounds))
    assert tailer.wait_for(head, timeout=10), f"tailer stuck at {tailer.position} of {head}"
    assert collector.positions == list(range(1, head + 1))
    assert [e.position for e in store.read_after(0, limit=10_000)] == list(range(1, head + 1))


def test_tailer_never_passes_an_uncommitted_lower_position(
    database_url: str, store: EventStore, tail: tuple[LogTailer, Collector]
) -> None:
    tailer, collector = tail
    store.append([write("before", 0, "A")], ALICE)
    assert tailer.wait_for(1, timeout=10)

    appended, commit = threading.Event(), threading.Event()
    held: list[RecordedEvent] = []
    done: list[int] = []
    errors: list[BaseException] = []

    def holder() -> None:
        try:
            with eventlog.connect(database_url) as conn:
                held.extend(append_in(conn, [write("held", 0, "H")], ALICE))
                appended.set()
                commit.wait(timeout=20)
                conn.commit()
        except BaseException as exc:
            errors.append(exc)
            appended.set()

    def appender(n: int) -> None:
        try:
            [event] = store.append([write(f"other-{n}", 0, "O")], ALICE)
            done.append(event.position)
        except BaseException as exc:
            errors.append(exc)

    hold = threading.Thread(target=holder)
    hold.start()
    others = [threading.Thread(target=appender, args=(n,)) for n in range(3)]
    try:
        assert appended.wait(timeout=10)
        assert errors == []
        assert [e.position for e in held] == [2]
        for t in others:
            t.start()
        with eventlog.connect(database_url, autocommit=True) as probe:
            wait_until(
                lambda: waiting_appenders(probe) == 3 or len(done) == 3,
                what="the other appenders to block or finish",
            )
        # While position 2 is uncommitted, nothing after it may be visible or delivered.
        assert store.read_after(1) == []
        assert done == []
        assert collector.positions == [1]
        assert tailer.position == 1
    finally:
        commit.set()
        hold.join(timeout=30)
        for t in others:
            if t.ident is not None:
                t.join(timeout=30)

    assert errors == []
    assert sorted(done) == [3, 4, 5]
    assert tailer.wait_for(5, timeout=10)
    assert collector.positions == [1, 2, 3, 4, 5]


def test_tailer_wakes_on_notify_without_polling(database_url: str, store: EventStore) -> None:
    tailer = LogTailer(database_url, poll_interval=3)
    collector = Collector()
    tailer.subscribe(collector)
    tailer.start()
    try:
        for n in range(1, 21):
            store.append([write(f"s{n}", 0, "A")], ALICE)
            # Well before the next poll: only the NOTIFY can have woken it.
            assert tailer.wait_for(n, timeout=1.5), f"position {n} not delivered by NOTIFY"
    finally:
        tailer.stop()
    assert collector.positions == list(range(1, 21))


def test_tailer_starts_after_a_position(database_url: str, store: EventStore) -> None:
    store.append([write("a", 0, "A1", "A2", "A3")], ALICE)
    tailer = LogTailer(database_url, start_after=2, poll_interval=0.2)
    collector = Collector()
    tailer.subscribe(collector)
    tailer.start()
    try:
        store.append([write("a", 3, "A4")], ALICE)
        assert tailer.wait_for(4, timeout=10)
    finally:
        tailer.stop()
    assert collector.positions == [3, 4]


def test_stop_ends_the_tailer_promptly(database_url: str, store: EventStore) -> None:
    tailer = LogTailer(database_url, poll_interval=30)
    tailer.start()
    with eventlog.connect(database_url, autocommit=True) as probe:
        # Once its first read is done, the tailer has nothing to read and waits for a NOTIFY.
        wait_until(
            lambda: tailer_is_waiting(probe),
            what="the tailer to finish its first read",
        )

    start = time.monotonic()
    tailer.stop()
    elapsed = time.monotonic() - start

    # A stop() that returns when its join times out leaves the thread running.
    assert elapsed < 3, f"stop() took {elapsed:.1f}s while the tailer waited for a NOTIFY"


def tailer_is_waiting(conn: Any) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND state = 'idle'"
        " AND query LIKE '%FROM events WHERE position > %'"
    ).fetchone()
    return bool(row[0])
