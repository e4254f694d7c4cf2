"""Where a durable command's CPU goes, without HTTP: the companion of http_commands.py.

    python bench/command_cost.py                    # about 40 seconds

Two measurements in this process, on a fresh database:

1. `EventStore.append` alone (one tag event per call, on tickets spread over the
   threads), from 1 and from 32 threads: the log's own ceiling, since every append takes
   the same advisory lock until its commit.
2. A `Runtime` (ticket actors, log tailer, queue-view actor: everything `snag serve`
   runs but HTTP) taking `tag`/`untag` commands through `Helpdesk.execute`, 1 and 32 in
   flight. The process's CPU per command is split by stage with thread CPU clocks
   around a few product functions, wrapped here at run time (the product code is not
   changed): the ticket actor's turn, the append within it, the tailer's reads, and the
   queue-view actor's turn.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
from harness import fresh_database, machine, median, table
from harness import parser as harness_parser

import eventlog.store
import eventlog.tail
from actors import Caller
from actors.commands import OpenTicket, TagTicket, UntagTicket
from actors.events import TagAdded, TagRemoved, TicketOpened, encode
from actors.queue_view import QueueViewActor
from actors.ticket import TicketActor
from api.runtime import Runtime, Settings
from eventlog import EventStore, Metadata, StreamWrite, migrate, open_pool

_runs = itertools.count(1)
thread_cpu: Counter[str] = Counter()
calls: Counter[str] = Counter()


def timed(owner: Any, name: str, label: str) -> None:
    """Wrap `owner.name` to add the calling thread's CPU time to `thread_cpu[label]`."""
    original = getattr(owner, name, None)
    if original is None:
        print(f"(no {name} in this version: {label} not measured)")
        return

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            thread_cpu[label] += time.thread_time() - started
            calls[label] += 1

    setattr(owner, name, wrapper)


def append_ceiling(url: str, tickets: int, threads: int, seconds: float) -> tuple[float, float]:
    """(appends/s, process CPU µs per append) of bare `EventStore.append` calls."""
    pool = open_pool(url, max_size=10)
    try:
        with pool.connection() as conn:
            migrate(conn)
        store = EventStore(pool)
        base = 1_000_000 * next(_runs)  # streams of their own, apart from the other runs
        ids = range(base + 1, base + tickets + 1)
        store.append(
            [
                StreamWrite(f"ticket-{i}", 0, (encode(TicketOpened(i, "s", "b", "r", "support", "normal", ())),))
                for i in ids
            ],
            Metadata("bench"),
        )  # fmt: skip
        versions = dict.fromkeys(ids, 1)
        done = [0] * threads
        deadline = time.perf_counter() + seconds

        def work(slot: int) -> None:
            mine = list(ids)[slot::threads]
            while time.perf_counter() < deadline:
                for ticket in mine:
                    version = versions[ticket]
                    event = TagAdded("b") if version % 2 else TagRemoved("b")
                    store.append(
                        [StreamWrite(f"ticket-{ticket}", version, (encode(event),))],
                        Metadata("bench"),
                    )
                    versions[ticket] = version + 1
                    done[slot] += 1

        cpu, began = time.process_time(), time.perf_counter()
        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        total = sum(done)
        return total / (time.perf_counter() - began), (time.process_time() - cpu) / total * 1e6
    finally:
        pool.close()


def commands(
    rt: Runtime, tickets: list[int], in_flight: int, seconds: float
) -> tuple[float, float, dict[str, float]]:
    """(commands/s, process CPU µs per command, CPU µs per command by stage)."""
    who = Caller("bench-agent", "agent")
    tagged = dict.fromkeys(tickets, False)
    counter = iter(range(10**9))

    def send() -> Any:
        ticket = tickets[next(counter) % len(tickets)]
        command = UntagTicket(ticket, "b") if tagged[ticket] else TagTicket(ticket, "b")
        tagged[ticket] = not tagged[ticket]
        return rt.desk.execute(command, who)

    for _ in range(len(tickets)):  # warm-up: every actor loaded
        send().result(10)
    thread_cpu.clear()
    calls.clear()
    cpu, began = time.process_time(), time.perf_counter()
    pending = [send() for _ in range(in_flight)]
    done = 0
    while pending:
        pending.pop(0).result(10)
        done += 1
        if time.perf_counter() - began < seconds:
            pending.append(send())
    elapsed = time.perf_counter() - began
    spent = time.process_time() - cpu
    stages = {label: value / done * 1e6 for label, value in thread_cpu.items()}
    stages.update({f"{label} (calls per command)": calls[label] / done for label in calls})
    return done / elapsed, spent / done * 1e6, stages


def open_tickets(rt: Runtime, count: int) -> list[int]:
    who = Caller("bench-agent", "agent")
    futures = [
        rt.desk.execute(OpenTicket("Bench", "body", "r@example.com"), who) for _ in range(count)
    ]
    return [int(orjson.loads(f.result(30).body)["ticket"]["id"]) for f in futures]


def run(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    ceiling = []
    with fresh_database(args.admin_url, "cost") as url:
        for threads in (1, 32):
            rates = [
                append_ceiling(url, args.tickets, threads, args.seconds) for _ in range(args.rounds)
            ]
            ceiling.append((threads, median([r for r, _ in rates]), median([c for _, c in rates])))
    stages: list[tuple[str, Callable[[], None]]] = [
        ("ticket actor turn", lambda: timed(TicketActor, "on_receive", "ticket actor turn")),
        ("  EventStore.append", lambda: timed(EventStore, "append", "  EventStore.append")),
        ("    append_in", lambda: timed(eventlog.store, "append_in", "    append_in")),
        ("tailer reads", lambda: timed(eventlog.tail, "read_after_in", "tailer reads")),
        ("queue-view actor turn", lambda: timed(QueueViewActor, "on_receive", "queue-view actor turn")),
    ]  # fmt: skip
    for _, wrap in stages:
        wrap()
    results = []
    with fresh_database(args.admin_url, "cost") as url:
        rt = Runtime(Settings(url))
        try:
            rt.account_service.add_user("bench-agent", "agent")
            rt.credentials.reload()
            tickets = open_tickets(rt, args.tickets)
            for in_flight in (1, 32):
                rounds = [
                    commands(rt, tickets, in_flight, args.seconds) for _ in range(args.rounds)
                ]
                results.append((in_flight, rounds))
        finally:
            rt.close()
    print()
    print("EventStore.append alone (one event per call), median of rounds:")
    print(table(("threads", "appends/s", "process CPU µs/append"), ceiling))
    print()
    print("tag/untag through Helpdesk.execute (no HTTP), median of rounds:")
    labels = [label for label, _ in stages]
    header = ("in flight", "commands/s", "process CPU µs/cmd", *(f"{label.strip()} µs" for label in labels), "tailer reads per cmd")  # fmt: skip
    rows = []
    for in_flight, rounds in results:
        rows.append(
            (
                in_flight,
                median([r for r, _, _ in rounds]),
                median([c for _, c, _ in rounds]),
                *(median([s.get(label, 0.0) for _, _, s in rounds]) for label in labels),
                median([s.get("tailer reads (calls per command)", 0.0) for _, _, s in rounds]),
            )
        )
    print(table(header, rows))
    return 0


def main() -> int:
    parser = harness_parser(__doc__)
    parser.add_argument("--tickets", type=int, default=300, help="tickets to spread commands over")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measurement")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
