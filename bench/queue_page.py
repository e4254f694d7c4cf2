"""Queue pages from RAM with 10,000 open tickets: `GET /api/queues/support?limit=100`,
plain, filtered and from a cursor, one request at a time.

Target: under 5 ms of server time per page.

    python bench/queue_page.py                         # 10,000 tickets, about a minute
    python bench/queue_page.py --tickets 20000 --rounds 5

The tickets go straight into the log with `EventStore.append`, `--batch` tickets per
call (opened; some claimed and moved on to open or pending; a tenth tagged `vip`),
then the server starts and folds them. It runs as `bench/timed_server.py`: `snag serve`
plus a `Server-Timing` header, the application's time for each answer ("server"). The
client's time ("client") adds HTTP parsing on both sides and loopback. Afterwards the
same list is folded in this process and the queue-view actor's own work for each page
(`QueueViewActor._tickets`, and in it the filter and sort `QueueList.tickets`) is timed
directly, to show where the server's time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from harness import (
    RawConnection,
    Server,
    add_user,
    fresh_database,
    machine,
    median,
    percentile,
    table,
)
from harness import parser as harness_parser

from actors.events import StatusChanged, TagAdded, TicketClaimed, TicketOpened, encode
from actors.model import stream_name
from actors.queue_view import ListTickets, QueueViewActor
from eventlog import EventStore, Metadata, StreamWrite, open_pool

AGENT = "bench-agent"
PRIORITIES = (("urgent", 5), ("high", 15), ("normal", 60), ("low", 20))
_SERVER_TIMING = re.compile(rb"server-timing: app;dur=([0-9.]+)", re.IGNORECASE)


def ticket_events(ticket: int, rng: random.Random) -> tuple[object, ...]:
    priority = rng.choices([p for p, _ in PRIORITIES], [w for _, w in PRIORITIES])[0]
    tags = ("vip",) if rng.random() < 0.1 else ()
    events: list[object] = [
        TicketOpened(
            ticket,
            f"Printer {ticket} prints every page twice",
            "It started on Monday. " * 5,
            f"user{ticket % 997}@example.com",
            "support",
            priority,
            tags,
        )
    ]
    roll = rng.random()
    if roll < 0.5:
        assignee = AGENT if rng.random() < 0.2 else rng.choice(("alice", "bob", "carol"))
        events += [TicketClaimed(assignee), StatusChanged("new", "open")]
        if roll < 0.15:
            events.append(StatusChanged("open", "pending"))
    if rng.random() < 0.05:
        events.append(TagAdded("printer"))
    return tuple(events)


def load(url: str, count: int, batch: int) -> float:
    """`count` tickets into the log through `EventStore.append`; returns the seconds it took."""
    rng = random.Random(42)
    pool = open_pool(url, min_size=1, max_size=2)
    began = time.perf_counter()
    try:
        store = EventStore(pool)
        for first in range(1, count + 1, batch):
            writes = [
                StreamWrite(
                    stream_name(ticket),
                    0,
                    tuple(encode(e) for e in ticket_events(ticket, rng)),  # type: ignore[arg-type]
                )
                for ticket in range(first, min(first + batch, count + 1))
            ]
            store.append(writes, Metadata("bench-loader"))
        with pool.connection() as conn:
            conn.execute("SELECT setval('ticket_ids', %s)", (count,))
    finally:
        pool.close()
    return time.perf_counter() - began


Variant = tuple[str, str]


async def deep_cursor(conn: RawConnection, pages: int) -> str:
    """The cursor `pages` pages into the queue (or the last one there is)."""
    cursor = None
    for _ in range(pages):
        path = "/api/queues/support?limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, body = await conn.call("GET", path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        following = orjson.loads(body)["next_cursor"]
        if following is None:
            break
        cursor = following
    if cursor is None:
        raise RuntimeError("the queue has a single page")
    return str(cursor)


async def time_pages(
    conn: RawConnection, variants: list[Variant], rounds: int, requests: int
) -> dict[str, list[tuple[list[float], list[float]]]]:
    """Per variant, per round: (server ms, client ms) of each request."""
    results: dict[str, list[tuple[list[float], list[float]]]] = {name: [] for name, _ in variants}
    for path in (p for _, p in variants):  # warm-up
        for _ in range(10):
            await conn.call("GET", path)
    for number in range(rounds):
        for name, path in variants if number % 2 == 0 else variants[::-1]:
            server: list[float] = []
            client: list[float] = []
            for _ in range(requests):
                sent = time.perf_counter()
                status, body = await conn.call("GET", path)
                client.append((time.perf_counter() - sent) * 1000)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}: {body[:200]!r}")
                found = _SERVER_TIMING.search(conn.last_head)
                if found is None:
                    raise RuntimeError("no Server-Timing header: is this timed_server.py?")
                server.append(float(found.group(1)))
            results[name].append((server, client))
    return results


def in_process(
    url: str, queries: dict[str, ListTickets], repeat: int
) -> list[tuple[str, float, float, float]]:
    """Fold the log here and time the queue-view actor's work for each query directly:
    (name, total ms, of which `QueueList.tickets` ms, tickets matched)."""
    pool = open_pool(url, min_size=1, max_size=2)
    try:
        store = EventStore(pool)
        view = unstarted_view(store)
        position = 0
        while batch := store.read_after(position, 5000):
            for event in batch:
                view._list.apply(event, view._reload)
            position = batch[-1].position
        rows = []
        for name, query in queries.items():
            total = _best_median(lambda q=query: view._tickets(q), repeat)
            sort = _best_median(lambda q=query: filter_and_sort(view, q), repeat)
            matched = orjson.loads(view._tickets(query))["total"]
            rows.append((name, total, sort, matched))
        return rows
    finally:
        pool.close()


def unstarted_view(store: EventStore) -> QueueViewActor:
    """A queue-view actor that is never started: its methods run on this thread."""
    try:
        return QueueViewActor(store)
    except TypeError:  # later versions also take the runtime's `closing` flag
        return QueueViewActor(store, threading.Event())  # type: ignore[call-arg]


def filter_and_sort(view: QueueViewActor, q: ListTickets) -> object:
    return view._list.tickets(
        queue=q.queue, status=q.status, assignee=q.assignee, unassigned=q.unassigned, tag=q.tag
    )


def _best_median(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return median(times)


async def run(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    with fresh_database(args.admin_url, "queue") as url:
        token = add_user(url, AGENT, "agent")
        seconds = load(url, args.tickets, args.batch)
        print(f"loaded {args.tickets:,} tickets in {seconds:.1f} s ({args.batch} per append)")
        timed = [sys.executable, str(Path(__file__).with_name("timed_server.py"))]
        began = time.perf_counter()
        with Server(url, timed) as server:
            print(f"server ready (log folded) in {time.perf_counter() - began:.1f} s")
            conn = await RawConnection.open(server.base, {"Authorization": f"Bearer {token}"})
            try:
                cursor = await deep_cursor(conn, args.cursor_page)
                variants = [
                    ("first page", "/api/queues/support?limit=100"),
                    ("filtered: status=open&tag=vip", "/api/queues/support?limit=100&status=open&tag=vip"),
                    ("filtered: assignee=me", "/api/queues/support?limit=100&assignee=me"),
                    (f"cursor (page {args.cursor_page + 1})", f"/api/queues/support?limit=100&cursor={cursor}"),
                ]  # fmt: skip
                results = await time_pages(conn, variants, args.rounds, args.requests)
            finally:
                await conn.close()
        queries = {
            "first page": ListTickets(queue="support", limit=100),
            "filtered: status=open&tag=vip": ListTickets(
                queue="support", status="open", tag="vip", limit=100
            ),
            "filtered: assignee=me": ListTickets(queue="support", assignee=AGENT, limit=100),
            f"cursor (page {args.cursor_page + 1})": ListTickets(
                queue="support", limit=100, cursor=cursor
            ),
        }
        direct = in_process(url, queries, repeat=max(20, args.requests // 5))
    report(results, direct, args)
    return 0


def report(
    results: dict[str, list[tuple[list[float], list[float]]]],
    direct: list[tuple[str, float, float, float]],
    args: argparse.Namespace,
) -> None:
    rows = []
    for name, rounds in results.items():
        server_all = [x for s, _ in rounds for x in s]
        client_all = [x for _, c in rounds for x in c]
        rows.append(
            (
                name,
                median([median(s) for s, _ in rounds]),
                median([percentile(s, 99) for s, _ in rounds]),
                max(server_all),
                median([median(c) for _, c in rounds]),
                median([percentile(c, 99) for _, c in rounds]),
                len(client_all),
            )
        )
    print()
    print(
        f"{args.tickets:,} open tickets; {args.rounds} rounds of {args.requests} sequential"
        " requests per variant; ms; medians over rounds of each round's median and p99"
    )
    print(
        table(
            (
                "page",
                "server p50",
                "server p99",
                "server max",
                "client p50",
                "client p99",
                "requests",
            ),
            rows,
        )
    )
    print()
    print("the queue-view actor's own work, in this process (median ms):")
    print(
        table(
            ("page", "QueueViewActor._tickets", "of which QueueList.tickets", "matching tickets"),
            [(n, t, s, int(m)) for n, t, s, m in direct],
        )
    )
    worst = max(r[1] for r in rows)
    print(f"\nworst server p50 {worst:.2f} ms; target < 5 ms: {'met' if worst < 5 else 'MISSED'}")


def main() -> int:
    parser = harness_parser(__doc__)
    parser.add_argument("--tickets", type=int, default=10_000, help="open tickets in the queue")
    parser.add_argument("--batch", type=int, default=1000, help="tickets per EventStore.append")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per variant, alternating")
    parser.add_argument("--requests", type=int, default=100, help="requests per variant and round")
    parser.add_argument(
        "--cursor-page", type=int, default=50, help="how deep the cursor variant starts"
    )
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
