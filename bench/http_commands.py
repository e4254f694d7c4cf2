"""Durable commands over HTTP against a trivial endpoint, on one `snag serve`.

Target: `POST /api/commands` (each one a PostgreSQL transaction) at no less than half the
rate of `GET /api/me` (authentication and a small JSON answer), both driven by the same
asyncio client with the same number of requests in flight: an `httpx.AsyncClient` per
connection, or with `--client raw` a minimal HTTP/1.1 client that spends far less CPU,
so that on a small machine the server rather than the load generator sets the pace.

    python bench/http_commands.py                 # under a minute
    python bench/http_commands.py --rounds 5 --seconds 10 [--client raw]

A fresh database is created and dropped; one agent is added with `snag user add`, the
server opens `--tickets` tickets through the API, then rounds of `me` and `commands`
alternate (the order flips every round). Commands are `tag`/`untag` of one tag, spread
round-robin over the tickets so that concurrent commands hit different tickets; each
ticket alternates, so every command appends one event. Also shown: CPU time per request
of the server process and of its PostgreSQL backends, which the shared machine's load
disturbs less than the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import orjson
from harness import (
    Connection,
    CpuMeter,
    Server,
    add_user,
    connect,
    dbname_of,
    fresh_database,
    machine,
    median,
    percentile,
    table,
)
from harness import parser as harness_parser

TAG = "bench"


@dataclass
class Round:
    kind: str
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    db_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


Send = Callable[[Connection], Awaitable[str | None]]
"""One request; None when it went as expected, else a word for what went wrong."""


async def get_me(conn: Connection) -> str | None:
    status, _ = await conn.call("GET", "/api/me")
    return None if status == 200 else f"me {status}"


class TagToggler:
    """Tags and untags tickets round-robin: each command changes its ticket."""

    def __init__(self, tickets: list[int]) -> None:
        self._tickets = tickets
        self._next = itertools.count()
        self._tagged = dict.fromkeys(tickets, False)

    async def __call__(self, conn: Connection) -> str | None:
        ticket = self._tickets[next(self._next) % len(self._tickets)]
        command = "untag" if self._tagged[ticket] else "tag"
        self._tagged[ticket] = not self._tagged[ticket]
        body = orjson.dumps({"command": command, "ticket": ticket, "tag": TAG})
        status, answer = await conn.call("POST", "/api/commands", body)
        if status != 200:
            return f"{command} {status} {orjson.loads(answer).get('error')}"
        if len(orjson.loads(answer)["events"]) != 1:
            return f"{command} appended no event"
        return None


async def drive(connections: list[Connection], send: Send, kind: str, seconds: float) -> Round:
    """One worker per connection sends requests back to back until `seconds` have passed."""
    result = Round(kind)
    loop = asyncio.get_running_loop()
    start = loop.time()
    deadline = start + seconds
    cpu = time.process_time()

    async def worker(conn: Connection) -> None:
        while loop.time() < deadline:
            sent = time.perf_counter()
            try:
                failure = await send(conn)
            except (OSError, EOFError, httpx.HTTPError) as exc:
                failure = type(exc).__name__
            result.latencies.append(time.perf_counter() - sent)
            result.requests += 1
            if failure is not None:
                result.failures[failure] += 1

    await asyncio.gather(*(worker(c) for c in connections))
    result.seconds = loop.time() - start
    result.client_cpu = time.process_time() - cpu
    return result


async def open_tickets(connections: list[Connection], count: int) -> list[int]:
    numbers = iter(range(count))
    opened: list[int] = []

    async def worker(conn: Connection) -> None:
        for n in numbers:
            body = {
                "command": "open",
                "subject": f"Bench ticket {n}",
                "body": "The printer prints every page twice.",
                "requester": f"user{n}@example.com",
            }
            status, answer = await conn.call("POST", "/api/commands", orjson.dumps(body))
            if status != 201:
                raise RuntimeError(f"open answered {status}: {answer[:200]!r}")
            opened.append(int(orjson.loads(answer)["ticket"]["id"]))

    await asyncio.gather(*(worker(c) for c in connections))
    return sorted(opened)


async def run(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}; client: {args.client}")
    with fresh_database(args.admin_url, "http") as url:
        token = add_user(url, "bench-agent", "agent")
        with Server(url) as server:
            meter = CpuMeter(server.pid, args.admin_url, dbname_of(url))
            headers = {"Authorization": f"Bearer {token}"}
            connections = [
                await connect(args.client, server.base, headers) for _ in range(args.concurrency)
            ]
            try:
                began = time.perf_counter()
                tickets = await open_tickets(connections, args.tickets)
                print(
                    f"opened {len(tickets)} tickets in {time.perf_counter() - began:.1f} s;"
                    f" {args.rounds} rounds of {args.seconds:g} s, {args.concurrency} in flight"
                )
                kinds: dict[str, Send] = {"me": get_me, "commands": TagToggler(tickets)}
                for kind, send in kinds.items():  # warm-up: connections, caches, actors
                    await drive(connections, send, kind, args.warmup)
                rounds: list[Round] = []
                for n in range(args.rounds):
                    order = ["me", "commands"] if n % 2 == 0 else ["commands", "me"]
                    for kind in order:
                        before = meter.sample()
                        done = await drive(connections, kinds[kind], kind, args.seconds)
                        done.server_cpu, done.db_cpu = meter.spent(before, meter.sample())
                        rounds.append(done)
                        print(
                            f"  round {n + 1} {kind:8} {done.rate:8,.0f} req/s"
                            f"  p50 {percentile(done.latencies, 50) * 1000:6.1f} ms"
                            f"  failures {sum(done.failures.values())}"
                        )
            finally:
                for conn in connections:
                    await conn.close()
    return report(rounds)


def report(rounds: list[Round]) -> int:
    rows = []
    rates: dict[str, float] = {}
    for kind in ("me", "commands"):
        mine = [r for r in rounds if r.kind == kind]
        latencies = [x for r in mine for x in r.latencies]
        requests = sum(r.requests for r in mine)
        rates[kind] = median([r.rate for r in mine])
        rows.append(
            (
                "GET /api/me" if kind == "me" else "POST /api/commands tag/untag",
                rates[kind],
                min(r.rate for r in mine),
                max(r.rate for r in mine),
                percentile(latencies, 50) * 1000,
                percentile(latencies, 99) * 1000,
                sum(r.client_cpu for r in mine) / requests * 1e6,
                sum(r.server_cpu for r in mine) / requests * 1e6,
                sum(r.db_cpu for r in mine) / requests * 1e6,
                sum(sum(r.failures.values()) for r in mine),
            )
        )
    print()
    print(
        table(
            (
                "request",
                "median req/s",
                "min",
                "max",
                "p50 ms",
                "p99 ms",
                "client CPU µs/req",
                "server CPU µs/req",
                "PG CPU µs/req",
                "failures",
            ),
            rows,
        )
    )
    me = [r.rate for r in rounds if r.kind == "me"]
    commands = [r.rate for r in rounds if r.kind == "commands"]
    paired = median([c / m for c, m in zip(commands, me, strict=True)])
    ratio = rates["commands"] / rates["me"]
    verdict = "met" if ratio >= 0.5 else "MISSED"
    print(
        f"\ncommands / me: {ratio:.2f} (ratio of medians), {paired:.2f} (median of per-round"
        f" ratios); target >= 0.50: {verdict}"
    )
    failures = Counter[str]()
    for r in rounds:
        failures.update(r.failures)
    for what, count in failures.most_common(5):
        print(f"  failure: {what} x{count}")
    return 0


def main() -> int:
    parser = harness_parser(__doc__)
    parser.add_argument("--tickets", type=int, default=300, help="tickets to spread commands over")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind, alternating")
    parser.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="httpx.AsyncClient per connection, or a minimal HTTP/1.1 client (less client CPU)",
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per kind")
    args = parser.parse_args()
    if args.tickets < args.concurrency:
        parser.error("--tickets must be at least --concurrency, so commands hit different tickets")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
