"""Is the log still the log that was written, and do the projections agree with it:
`snag verify`, `rebuild`, `export` and `import`."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import IO, Any

import orjson

from actors.events import UserAdded, UserRevoked, decode
from actors.model import ticket_id_of
from api.audit_chain import Break, ChainCheck, Expected
from api.audit_common import (
    TIME_HELP,
    AuditError,
    database_url,
    err,
    foldable,
    json_document,
    moment,
    out,
    reading,
    reloader,
    row,
    table,
    tracked,
)
from eventlog import InvalidArgument, RecordedEvent
from eventlog.audit import ImportedUser, LogFilter, LogImport, event_from_shape
from projections import QueueList

EXIT_TAMPERED = 1

Adder = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def expected_head(value: str) -> Expected:
    """An argparse type: `DIGEST@POSITION`, as `snag verify` prints it."""
    match = re.fullmatch(r"([0-9a-f]{64})@([1-9][0-9]{0,17})", value.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not DIGEST@POSITION (64 hex digits, @, a position)"
        )
    return Expected(match[1], int(match[2]))


def cmd_verify(args: argparse.Namespace) -> int:
    check = ChainCheck(args.expect)
    with reading(args) as log:
        head = log.head()
        for event in tracked(log.events(), "verifying", lambda: head[0] if head else 0):
            if not check.feed(event):
                break
    problem = check.finish()
    if args.json:
        json_document(
            {
                "ok": problem is None,
                "events": check.events,
                "streams": len(check.versions),
                "head": {"position": head[0], "hash": head[1]} if head else None,
                "expect": str(args.expect) if args.expect else None,
                "problem": _problem(problem),
            }
        )
        return 0 if problem is None else EXIT_TAMPERED
    if problem is not None:
        out.print(f"TAMPERED: {problem}")
        return EXIT_TAMPERED
    if head is None:
        out.print("the log is empty")
        return 0
    out.print(
        f"ok: the hash chain of {check.events} events in {len(check.versions)} streams is intact"
    )
    if args.expect:
        out.print(f"ok: the recorded head {args.expect} is still part of the log")
    out.print(f"head: {head[1]}@{head[0]}")
    out.print(
        f"keep it, to check later that nothing up to here changed: snag verify --expect {head[1]}@{head[0]}"
    )
    return 0


def _problem(found: Break | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "kind": found.kind,
        "position": found.position,
        "stream": found.stream,
        "detail": found.detail,
        "message": str(found),
    }


def cmd_rebuild(args: argparse.Namespace) -> int:
    projections = {"queue_list": QueueList()}
    with reading(args) as log:
        position = (log.head() or (0, ""))[0]
        reload = reloader(log)
        events = log.events(LogFilter(up_to_position=position))
        for event in tracked(events, "rebuilding", lambda: position):
            with foldable(event):
                for projection in projections.values():
                    projection.apply(event, reload)
    report = {
        name: {
            "position": p.position,
            "tickets": len(p),
            "digest": p.digest(),
            "counts": p.counts(),
        }
        for name, p in projections.items()
    }
    if args.json:
        json_document({"position": position, "projections": report})
        return 0
    out.print(f"rebuilt every projection from the log up to position {position}")
    listing = table("projection", "position", "tickets", "digest")
    for name, r in report.items():
        row(listing, name, r["position"], r["tickets"], r["digest"])
    out.print(listing)
    counts = table("queue", "status", "tickets")
    for queue, by_status in projections["queue_list"].counts().items():
        for status, n in by_status.items():
            row(counts, queue, status, n)
    if counts.row_count:
        out.print(counts)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if args.since and args.until and args.since > args.until:
        raise AuditError("--since is after --until")
    selected = LogFilter(since=args.since, until=args.until, stream=args.stream)
    sink = sys.stdout.buffer
    with reading(args) as log:
        for e in tracked(log.events(selected), "exporting", lambda: log.count(selected)):
            sink.write(
                orjson.dumps({**e.shape(), "hash": e.hash}, option=orjson.OPT_APPEND_NEWLINE)
            )
    sink.flush()
    return 0


class ChainBroken(Exception):
    def __init__(self, found: Break) -> None:
        super().__init__(str(found))
        self.found = found


def _parsed(lines: IO[bytes]) -> Iterator[RecordedEvent]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield event_from_shape(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise AuditError(f"line {number} of the file is not JSON: {exc}") from None
        except InvalidArgument as exc:
            raise AuditError(
                f"line {number} of the file is not an exported event: {exc.message}"
            ) from None


def cmd_import(args: argparse.Namespace) -> int:
    check = ChainCheck()
    users: dict[str, ImportedUser] = {}
    last_ticket = 0

    def checked(events: Iterator[RecordedEvent]) -> Iterator[RecordedEvent]:
        nonlocal last_ticket
        for e in events:
            check.feed(e)
            if check.found is not None:
                raise ChainBroken(check.found)
            last_ticket = max(last_ticket, ticket_id_of(e.stream) or 0)
            if e.type in ("UserAdded", "UserRevoked"):
                account = decode(e.type, dict(e.data))
                if isinstance(account, UserAdded):
                    users[account.name] = ImportedUser(
                        account.name, account.role, e.recorded_at, None
                    )
                elif isinstance(account, UserRevoked) and account.name in users:
                    users[account.name] = ImportedUser(
                        account.name,
                        users[account.name].role,
                        users[account.name].created_at,
                        e.recorded_at,
                    )
            yield e

    with ExitStack() as stack:
        source: IO[bytes] = (
            sys.stdin.buffer if args.file == "-" else stack.enter_context(open_file(args.file))
        )
        with LogImport.open(database_url(args.data_dir)) as load:
            try:
                count = load.events(tracked(checked(_parsed(source)), "importing", lambda: None))
            except ChainBroken as broken:
                out.print(f"TAMPERED: {broken.found}")
                err.print("snag: the file's hash chain is broken: nothing was imported")
                return EXIT_TAMPERED
            if count == 0:
                raise AuditError("the file holds no events: nothing was imported")
            load.users(list(users.values()))
            load.ticket_ids_from(last_ticket)
            load.commit()
    out.print(f"imported {count} events; head {check.hash}@{check.position}")
    if users:
        out.print(
            f"{len(users)} users restored without passwords or tokens (never in the log):"
            " give them new tokens with `snag token add NAME --label ...`"
        )
    return 0


def open_file(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")  # closed by the caller's ExitStack
    except OSError as exc:
        raise AuditError(f"cannot read {path}: {exc.strerror}") from None


def register(add: Adder) -> None:
    verify = add(
        "verify", cmd_verify, "recompute the hash chain; exit 1 if the log was tampered with"
    )
    verify.add_argument(
        "--expect",
        type=expected_head,
        metavar="DIGEST@POSITION",
        help="a head an earlier `snag verify` printed: check it is still part of the log",
    )
    verify.add_argument("--json", action="store_true", help="the report as JSON")

    rebuild = add(
        "rebuild", cmd_rebuild, "fold the whole log into every projection; print counts and digests"
    )
    rebuild.add_argument(
        "--json", action="store_true", help="the report as JSON, in /healthz's shape"
    )

    export = add(
        "export", cmd_export, "write the log as JSON Lines (event shape plus hash) to stdout"
    )
    export.add_argument(
        "--since", type=moment, metavar="TIME", help=f"events recorded from TIME on: {TIME_HELP}"
    )
    export.add_argument(
        "--until", type=moment, metavar="TIME", help="events recorded up to TIME, inclusive"
    )
    export.add_argument("--stream", help="only this stream (ticket-42, user-alice)")

    load = add(
        "import", cmd_import, "load a whole exported log into an empty database (migrates it first)"
    )
    load.add_argument("file", help="a file `snag export` wrote, or - for standard input")
