"""Replay of a long log: read every event through the event log's server-side cursor,
and fold them all into the queue list as `snag rebuild` does.

Target: 100,000 events/s.

    python bench/replay.py                          # 100,000 events, about a minute
    python bench/replay.py --events 1000000 --rounds 3 --profile

The log is written straight in with COPY (positions, canonical forms and hash chain
computed here with `eventlog.records`, as `tests/test_audit.py` does), so the events
are valid for `snag verify`. Tickets overlap in time: about `--live` of them are open at
once, each living through a claim, replies, notes, tags, a priority change, pending and
solved; some are reopened by the requester (the queue list then reloads their history)
and some closed. Measured, in alternating rounds: (a) reading the log
(`AuditLog.events`, the cursor `snag export`, `verify` and `rebuild` use); (b) reading
and folding into `QueueList` with the `reload` and `foldable` of `snag rebuild`; and
once, `snag rebuild --json` as a child process, start-up included (and with `--serve`,
`snag serve` until it answers, which folds the log before it listens). `--profile` adds a
cProfile of (b) over the first `--profile-events` events, and reads once more with
orjson as the jsonb loader to show what JSON parsing costs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
import psycopg
from harness import (
    ROOT,
    Server,
    child_env,
    fresh_database,
    machine,
    median,
    table,
)
from harness import parser as harness_parser
from psycopg.types.json import Jsonb, set_json_loads

from actors.events import (
    CommentAdded,
    PriorityChanged,
    StatusChanged,
    TagAdded,
    TicketClaimed,
    TicketOpened,
    TicketReleased,
    encode,
)
from actors.model import Ticket, stream_name
from api.audit_common import foldable, reloader
from eventlog import GENESIS_HASH, Metadata, migrate
from eventlog.audit import AuditLog, LogFilter
from eventlog.records import canonical, chain_hash
from projections import QueueList

COLUMNS = (
    "position, stream, version, type, data, by_user, command_id, correlation_id, recorded_at, hash"
)
AGENTS = ("alice", "bob", "carol", "dave")
REPLY = "Thanks for the report. We have restarted the print spooler; please try again. " * 2


def lifecycle(ticket: int, rng: random.Random) -> Iterator[tuple[object, str]]:
    """One ticket's events with who did each, as a helpdesk would record them."""
    agent = rng.choice(AGENTS)
    requester = f"user{ticket % 5000}@example.com"
    yield (
        TicketOpened(ticket, f"Printer {ticket} prints every page twice", REPLY, requester,
                     rng.choice(("support", "support", "billing")),
                     rng.choice(("low", "normal", "normal", "high")), ()),
        "mailer",
    )  # fmt: skip
    yield TicketClaimed(agent), agent
    yield StatusChanged("new", "open"), agent
    yield CommentAdded(agent, REPLY, False, False), agent
    yield TagAdded("printer"), agent
    yield CommentAdded(requester, "Still prints twice.", False, True), "mailer"
    yield CommentAdded(agent, "Asked facilities to swap the tray.", True, False), agent
    if rng.random() < 0.3:
        yield PriorityChanged("normal", "high"), agent
    yield StatusChanged("open", "pending"), agent
    yield CommentAdded(requester, "Better now, thanks.", False, True), "mailer"
    yield StatusChanged("pending", "open"), "mailer"
    yield StatusChanged("open", "solved"), agent
    roll = rng.random()
    if roll < 0.05:  # reopened: the queue list must reload the ticket's history
        yield CommentAdded(requester, "It is back.", False, True), "mailer"
        yield StatusChanged("solved", "open"), "mailer"
        yield TicketReleased(agent), agent
        yield StatusChanged("open", "solved"), "mailer"
    elif roll < 0.5:
        yield StatusChanged("solved", "closed"), agent


def generate(count: int, live: int, seed: int) -> Iterator[tuple[str, int, object, str]]:
    """`count` events (stream, version, event, by) with about `live` tickets open at once."""
    rng = random.Random(seed)
    running: list[tuple[int, Iterator[tuple[object, str]], list[int]]] = []
    next_ticket = 1
    produced = 0
    while produced < count:
        while len(running) < live:
            running.append((next_ticket, lifecycle(next_ticket, rng), [0]))
            next_ticket += 1
        index = rng.randrange(len(running))
        ticket, events, version = running[index]
        step = next(events, None)
        if step is None:
            running[index] = running[-1]
            running.pop()
            continue
        version[0] += 1
        produced += 1
        yield stream_name(ticket), version[0], step[0], step[1]


def fill(url: str, count: int, live: int, seed: int = 7) -> tuple[float, str]:
    """Write `count` events with COPY; returns the seconds taken and the head hash."""
    began = time.perf_counter()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    previous = GENESIS_HASH
    with psycopg.connect(url) as conn:
        migrate(conn)
        with conn.cursor() as cur, cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
            for position, (stream, version, event, by) in enumerate(
                generate(count, live, seed), start=1
            ):
                new = encode(event)  # type: ignore[arg-type]
                correlation = f"{position:032x}"
                recorded_at = at + timedelta(milliseconds=position)
                form = canonical(
                    position=position, stream=stream, version=version, type=new.type,
                    data=new.data, metadata=Metadata(by, None, correlation),
                    recorded_at=recorded_at,
                )  # fmt: skip
                previous = chain_hash(previous, form)
                copy.write_row(
                    (position, stream, version, new.type, Jsonb(new.data), by, None, correlation,
                     recorded_at, previous)
                )  # fmt: skip
        conn.execute("ANALYZE events")
    return time.perf_counter() - began, previous


def read_all(url: str, loads: Any = None) -> tuple[int, float]:
    """(events, seconds) reading the whole log through `AuditLog.events`."""
    with AuditLog.open(url) as log:
        if loads is not None:
            set_json_loads(loads, log._conn)  # what a faster jsonb loader would give
        began = time.perf_counter()
        count = sum(1 for _ in log.events())
        return count, time.perf_counter() - began


@dataclass
class Rebuilt:
    events: int
    seconds: float
    digest: str
    reloads: int
    reload_seconds: float


def rebuild(url: str, limit: int | None = None) -> Rebuilt:
    """`snag rebuild`'s loop, in this process, counting the queue list's reloads."""
    projection = QueueList()
    reloads = [0, 0.0]
    with AuditLog.open(url) as log:
        began = time.perf_counter()
        position = (log.head() or (0, ""))[0]
        reload = reloader(log)

        def counted(ticket_id: int, at: int) -> Ticket | None:
            started = time.perf_counter()
            try:
                return reload(ticket_id, at)
            finally:
                reloads[0] += 1
                reloads[1] += time.perf_counter() - started

        count = 0
        for event in islice(log.events(LogFilter(up_to_position=position)), limit):
            with foldable(event):
                projection.apply(event, counted)
            count += 1
        seconds = time.perf_counter() - began
    return Rebuilt(count, seconds, projection.digest(), int(reloads[0]), reloads[1])


def rebuild_cli(url: str, spy: str | None = None) -> tuple[float, str]:
    """`snag rebuild --json` as a child process (under py-spy, writing to `spy`, if given)."""
    command = [sys.executable, "-m", "api.cli", "rebuild", "--json"]
    if spy is not None:
        spy_bin = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        command = [spy_bin, "record", "--rate", "250", "--format", "raw", "-o", spy, "--", *command]
    began = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=ROOT, env=child_env(url), capture_output=True, check=True, timeout=3600,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    output = b"\n".join(x for x in done.stdout.splitlines() if not x.startswith(b"py-spy>"))
    return seconds, orjson.loads(output)["projections"]["queue_list"]["digest"]


def profile(url: str, events: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    rebuild(url, events)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(18)
    return out.getvalue()


def run(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    with fresh_database(args.admin_url, "replay") as url:
        seconds, _ = fill(url, args.events, args.live)
        print(f"filled {args.events:,} events with COPY in {seconds:.1f} s"
              f" ({args.events / seconds:,.0f} events/s)")  # fmt: skip
        reads: list[float] = []
        folds: list[float] = []
        last: Rebuilt | None = None
        for number in range(args.rounds):
            order = ("read", "fold") if number % 2 == 0 else ("fold", "read")
            for kind in order:
                if kind == "read":
                    count, spent = read_all(url)
                    reads.append(count / spent)
                else:
                    last = rebuild(url)
                    count = last.events
                    folds.append(count / last.seconds)
                if count != args.events:
                    raise RuntimeError(f"read {count} events, expected {args.events}")
            print(f"  round {number + 1}: read {reads[-1]:,.0f} events/s,"
                  f" read + fold {folds[-1]:,.0f} events/s")  # fmt: skip
        assert last is not None
        cli_seconds, cli_digest = rebuild_cli(url, args.py_spy)
        spied = " (under py-spy)" if args.py_spy else ""
        if cli_digest != last.digest:
            raise RuntimeError("snag rebuild built a different queue list than this process")
        rows = [
            ("(a) read: AuditLog.events (server-side cursor)", median(reads), min(reads), max(reads)),
            ("(b) read + fold into QueueList (rebuild loop)", median(folds), min(folds), max(folds)),
            (f"    snag rebuild --json, process start included{spied}", args.events / cli_seconds, "", ""),
        ]  # fmt: skip
        if args.serve:
            began = time.perf_counter()
            with Server(url):
                started = time.perf_counter() - began
            rows.append(("    snag serve until /healthz (folds the log first)", args.events / started, "", ""))  # fmt: skip
        fold_only = 1 / (1 / median(folds) - 1 / median(reads))
        extra = ""
        if args.profile:
            count, spent = read_all(url, orjson.loads)
            rows.append(("    (a) with orjson as the jsonb loader, once", count / spent, "", ""))
            extra = profile(url, min(args.profile_events, args.events))
    print()
    print(f"{args.events:,} events; {args.rounds} rounds, alternating; events/s")
    print(table(("measurement", "median", "min", "max"), rows))
    print(f"fold alone (from the medians): {fold_only:,.0f} events/s")
    print(
        f"the last rebuild reloaded a ticket's history {last.reloads:,} times"
        f" ({last.reloads / last.events * 1000:.1f} per 1,000 events), spending"
        f" {last.reload_seconds:.1f} s of {last.seconds:.1f} s there"
    )
    verdict = "met" if median(folds) >= 100_000 else "MISSED"
    print(f"rebuild {median(folds):,.0f} events/s; target 100,000 events/s: {verdict}")
    if extra:
        print(f"\ncProfile of the rebuild loop over {min(args.profile_events, args.events):,}"
              f" events (profiling slows it down), by own time:\n{extra}")  # fmt: skip
    return 0


def main() -> int:
    parser = harness_parser(__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="events in the log")
    parser.add_argument("--live", type=int, default=2000, help="tickets open at once")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (a) and (b)")
    parser.add_argument("--serve", action="store_true", help="also time a server's start")
    parser.add_argument("--profile", action="store_true", help="cProfile the fold, try orjson")
    parser.add_argument(
        "--py-spy", metavar="FILE", help="run `snag rebuild` under py-spy (collapsed stacks)"
    )
    parser.add_argument("--profile-events", type=int, default=200_000, help="events to profile")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
