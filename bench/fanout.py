"""A claim seen on 1,000 live screens: delay from sending the command to each
subscriber's `event: ticket` frame of `/api/stream?queue=support`.

Target: p99 under 50 ms with 1,000 subscribers.

    python bench/fanout.py                          # 1,000 subscribers, under a minute
    python bench/fanout.py --subscribers 100,1000 --claims 20

One asyncio process holds every subscriber on a raw non-blocking socket. Each socket
has SO_TIMESTAMPNS set, so besides the moment this process got round to reading a
frame ("client-observed") the kernel's arrival time of its bytes is known ("arrival"),
which the client's own event-loop backlog (1,000 sockets become readable at once)
does not inflate. One agent then claims and releases tickets in turn, one command at
a time: the next command is sent once every subscriber has seen the previous one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import resource
import socket
import struct
import time
from dataclasses import dataclass, field

import orjson
from harness import (
    CpuMeter,
    RawConnection,
    Server,
    add_user,
    dbname_of,
    fresh_database,
    machine,
    median,
    percentile,
    py_spy,
    table,
)
from harness import parser as harness_parser

_FRAME_END = re.compile(rb"\r?\n\r?\n")
_TIMESPEC = struct.Struct("@ll")
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux's option (and control message) for receive timestamps as a timespec; Python
does not name it."""


@dataclass
class Expectation:
    """The frame every subscriber waits for: `ticket` with this assignee."""

    ticket: int
    assignee: str | None
    sent_ns: int
    seen: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Sample:
    arrival_ms: float
    observed_ms: float


class Subscriber:
    """One SSE stream on a raw socket: dechunks, splits frames, matches the expectation."""

    def __init__(self, sock: socket.socket, bench: Fanout) -> None:
        self.sock = sock
        self._bench = bench
        self._raw = b""
        self._body = b""
        self._headers_done = False
        self.status = 0
        self.ready = asyncio.get_running_loop().create_future()
        self.matched_for: Expectation | None = None

    def readable(self) -> None:
        try:
            data, ancillary, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(_TIMESPEC.size))
        except BlockingIOError:
            return
        except OSError as exc:
            self._closed(exc)
            return
        observed = time.time_ns()
        if not data:
            self._closed(EOFError("the server closed the stream"))
            return
        arrival = observed
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanos = _TIMESPEC.unpack(value[: _TIMESPEC.size])
                arrival = seconds * 1_000_000_000 + nanos
        self._raw += data
        if not self._headers_done:
            head, found, rest = self._raw.partition(b"\r\n\r\n")
            if not found:
                return
            self.status = int(head[9:12])
            self._headers_done = True
            self._raw = rest
            if not self.ready.done():
                self.ready.set_result(self.status)
            if self.status != 200:
                self._bench.loop.remove_reader(self.sock.fileno())  # not a stream: no frames
                return
        self._dechunk()
        self._frames(arrival, observed)

    def _dechunk(self) -> None:
        while True:
            size_line, found, rest = self._raw.partition(b"\r\n")
            if not found:
                return
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            self._body += rest[:size]
            self._raw = rest[size + 2 :]

    def _frames(self, arrival: int, observed: int) -> None:
        while True:
            found = _FRAME_END.search(self._body)
            if found is None:
                return
            frame, self._body = self._body[: found.start()], self._body[found.end() :]
            if b"event: ticket" in frame:
                self._bench.on_ticket_frame(self, frame, arrival, observed)

    def _closed(self, exc: BaseException) -> None:
        self._bench.lost += 1
        self._bench.loop.remove_reader(self.sock.fileno())
        if not self.ready.done():
            self.ready.set_exception(exc)


class Fanout:
    def __init__(self, base: str, token: str) -> None:
        self.loop = asyncio.get_running_loop()
        host, port = base.removeprefix("http://").split(":")
        self._address = (host, int(port))
        self._request = (
            f"GET /api/stream?queue=support HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        self.subscribers: list[Subscriber] = []
        self.expecting: Expectation | None = None
        self.samples: list[Sample] = []
        self.lost = 0

    async def subscribe(self, count: int, parallel: int = 64) -> None:
        gate = asyncio.Semaphore(parallel)

        async def one() -> None:
            async with gate:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                await self.loop.sock_connect(sock, self._address)
                await self.loop.sock_sendall(sock, self._request)
                sub = Subscriber(sock, self)
                self.subscribers.append(sub)
                self.loop.add_reader(sock.fileno(), sub.readable)
                status = await asyncio.wait_for(sub.ready, 30)
                if status != 200:
                    raise RuntimeError(f"/api/stream answered {status}")

        await asyncio.gather(*(one() for _ in range(count)))

    def on_ticket_frame(self, sub: Subscriber, frame: bytes, arrival: int, observed: int) -> None:
        want = self.expecting
        if want is None or sub.matched_for is want:
            return
        data = frame.split(b"data: ", 1)[1]
        row = orjson.loads(data)
        if row.get("id") != want.ticket or row.get("assignee") != want.assignee:
            return
        sub.matched_for = want
        self.samples.append(Sample((arrival - want.sent_ns) / 1e6, (observed - want.sent_ns) / 1e6))
        want.seen += 1
        if want.seen == len(self.subscribers) - self.lost:
            want.done.set()

    def close(self) -> None:
        for sub in self.subscribers:
            with contextlib.suppress(ValueError, OSError):
                self.loop.remove_reader(sub.sock.fileno())
            sub.sock.close()
        self.subscribers.clear()


@dataclass
class Round:
    subscribers: int
    samples: list[Sample] = field(default_factory=list)
    last_per_op: list[float] = field(default_factory=list)
    command_ms: list[float] = field(default_factory=list)
    missed: int = 0
    server_cpu_per_op_ms: float = 0.0

    def arrival(self, p: float) -> float:
        return percentile([s.arrival_ms for s in self.samples], p)

    def observed(self, p: float) -> float:
        return percentile([s.observed_ms for s in self.samples], p)


async def measure(
    base: str, token: str, tickets: list[int], count: int, args: argparse.Namespace, meter: CpuMeter
) -> list[Round]:
    """Rounds of claim/release pairs with `count` subscribers connected throughout."""
    bench = Fanout(base, token)
    began = time.perf_counter()
    rounds: list[Round] = []
    try:
        await bench.subscribe(count)
        print(f"{count} subscribers connected in {time.perf_counter() - began:.1f} s")
        conn = await RawConnection.open(base, {"Authorization": f"Bearer {token}"})
        try:
            for number in range(args.rounds):
                rounds.append(await one_round(bench, conn, tickets, count, args, meter))
                done = rounds[-1]
                print(
                    f"  round {number + 1}: arrival p50 {done.arrival(50):6.1f}"
                    f"  p99 {done.arrival(99):6.1f}  max {done.arrival(100):6.1f} ms"
                )
        finally:
            await conn.close()
    finally:
        bench.close()
    return rounds


async def one_round(
    bench: Fanout,
    conn: RawConnection,
    tickets: list[int],
    count: int,
    args: argparse.Namespace,
    meter: CpuMeter,
) -> Round:
    result = Round(count)
    lost = bench.lost
    operations = 0
    before = meter.sample()
    for n in range(args.claims):
        ticket = tickets[n % len(tickets)]
        for command, assignee in (("claim", "bench-agent"), ("release", None)):
            body = orjson.dumps({"command": command, "ticket": ticket})
            sent = time.time_ns()
            bench.expecting = want = Expectation(ticket, assignee, sent)
            mark = len(bench.samples)
            status, answer = await conn.call("POST", "/api/commands", body)
            result.command_ms.append((time.time_ns() - sent) / 1e6)
            if status != 200:
                raise RuntimeError(f"{command} answered {status}: {answer[:200]!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(want.done.wait(), args.timeout)
            result.missed += len(bench.subscribers) - bench.lost - want.seen
            mine = bench.samples[mark:]
            result.samples.extend(mine)
            operations += 1
            if mine:
                arrivals = sorted(s.arrival_ms for s in mine)
                result.last_per_op.append(arrivals[-1])
                if args.verbose:
                    print(
                        f"    {command:7} ticket {ticket}: first {arrivals[0]:6.1f}"
                        f"  median {median(arrivals):6.1f}  last {arrivals[-1]:6.1f} ms"
                        f"  (command answered after {result.command_ms[-1]:.1f} ms)"
                    )
            await asyncio.sleep(args.pause)  # let trailing frames drain before the next
    server_cpu, _ = meter.spent(before, meter.sample())
    result.server_cpu_per_op_ms = server_cpu / max(operations, 1) * 1000
    result.missed += bench.lost - lost
    return result


def raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < needed:
            raise SystemExit(f"the open-files limit allows {target} sockets; {needed} needed")


async def run(args: argparse.Namespace) -> int:
    counts = [int(x) for x in args.subscribers.split(",")]
    raise_open_files(max(counts) + 256)
    print(f"machine: {machine()}")
    rounds: list[Round] = []
    with fresh_database(args.admin_url, "fanout") as url:
        token = add_user(url, "bench-agent", "agent")
        with Server(url) as server:
            conn = await RawConnection.open(server.base, {"Authorization": f"Bearer {token}"})
            tickets = []
            for n in range(args.tickets):
                body = {"command": "open", "subject": f"Fan-out {n}", "body": "x",
                        "requester": "dana@example.com"}  # fmt: skip
                status, answer = await conn.call("POST", "/api/commands", orjson.dumps(body))
                if status != 201:
                    raise RuntimeError(f"open answered {status}")
                tickets.append(int(orjson.loads(answer)["ticket"]["id"]))
            await conn.close()
            meter = CpuMeter(server.pid, args.admin_url, dbname_of(url))
            for count in counts:
                spy = args.py_spy if count == counts[-1] else None
                with py_spy(server.pid, spy):
                    rounds.extend(await measure(server.base, token, tickets, count, args, meter))
    report(rounds, args)
    return 0


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    rows = []
    for count in dict.fromkeys(r.subscribers for r in rounds):
        mine = [r for r in rounds if r.subscribers == count and r.samples]
        if not mine:
            rows.append((count, "no frame arrived"))
            continue
        rows.append(
            (
                count,
                len(mine),
                sum(len(r.samples) for r in mine),
                median([r.arrival(50) for r in mine]),
                median([r.arrival(99) for r in mine]),
                median([r.arrival(100) for r in mine]),
                max(r.arrival(100) for r in mine),
                median([r.observed(50) for r in mine]),
                median([r.observed(99) for r in mine]),
                median([x for r in mine for x in r.last_per_op]),
                median([x for r in mine for x in r.command_ms]),
                median([r.server_cpu_per_op_ms for r in mine]),
                sum(r.missed for r in mine),
            )
        )
    print()
    print(
        f"{args.rounds} rounds of {args.claims} claims and {args.claims} releases; ms from"
        " sending the command; percentiles per round, then the median over rounds"
    )
    print(
        table(
            (
                "subscribers",
                "rounds",
                "frames",
                "arrival p50",
                "arrival p99",
                "arrival max",
                "worst max",
                "observed p50",
                "observed p99",
                "last subscriber",
                "command RTT",
                "server CPU ms/command",
                "missed",
            ),
            rows,
        )
    )
    for row in rows:
        if len(row) > 4:
            verdict = "met" if float(row[4]) < 50 else "MISSED"
            print(f"{row[0]} subscribers: arrival p99 {row[4]:.1f} ms; target < 50 ms: {verdict}")


def main() -> int:
    parser = harness_parser(__doc__)
    parser.add_argument(
        "--subscribers", default="1000", help="subscriber counts to measure, comma-separated"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per subscriber count")
    parser.add_argument("--claims", type=int, default=10, help="claim/release pairs per round")
    parser.add_argument("--tickets", type=int, default=5, help="tickets to claim in turn")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait per command")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between commands")
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record the server with py-spy during the last count's rounds (collapsed stacks)",
    )
    parser.add_argument("--verbose", action="store_true", help="print each command's delays")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
