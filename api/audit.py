"""The audit replay tool's questions about the past: `snag history`, `replay`, `activity`
and `queue`. Every one reads a single read-only snapshot of the log and folds it with the
same code the server runs (`evolve`, `QueueList`). The integrity commands (`verify`,
`rebuild`, `export`, `import`) are in `api.audit_integrity`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from actors.describe import describe
from actors.events import EVENT_TYPES
from actors.model import Ticket, stream_name
from actors.views import event_views, ticket_view
from api import audit_integrity
from api.audit_common import (
    TIME_HELP,
    AuditError,
    fold_checked,
    foldable,
    json_document,
    json_line,
    moment,
    out,
    pipe_safe,
    positive_int,
    reading,
    reloader,
    row,
    table,
    tracked,
)
from eventlog import NotFound, RecordedEvent, format_time
from eventlog.audit import AuditLog, LogFilter
from projections import QueueList, summary


def _ticket_events(log: AuditLog, args: argparse.Namespace) -> tuple[list[RecordedEvent], str]:
    """The ticket's events up to `--as-of` or `--at-version`, and words for that point."""
    stream = stream_name(args.ticket)
    every = log.stream(stream)
    if not every:
        raise NotFound(f"there is no ticket {args.ticket}")
    if args.at_version is not None:
        if args.at_version > every[-1].version:
            raise AuditError(
                f"ticket {args.ticket} has {every[-1].version} versions; there is no"
                f" version {args.at_version}"
            )
        found = [e for e in every if e.version <= args.at_version]
        return found, f"at version {args.at_version}"
    if args.as_of is not None:
        position = log.position_at(args.as_of)
        found = [e for e in every if e.position <= position]
        if not found:
            raise AuditError(
                f"ticket {args.ticket} did not exist yet at {format_time(args.as_of)}"
                f" (it was opened at {format_time(every[0].recorded_at)})"
            )
        return found, f"as of {format_time(args.as_of)} (log position {position})"
    return every, "now"


def cmd_history(args: argparse.Namespace) -> int:
    with reading(args) as log:
        found, _ = _ticket_events(log, args)
    if args.json:
        for shaped in event_views(found, "admin"):
            json_line(shaped)
        return 0
    listing = table("pos", "v", "time (UTC)", "who", "what")
    for e in found:
        row(listing, e.position, e.version, format_time(e.recorded_at)[:19], e.by, describe(e))
    out.print(listing)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    with reading(args) as log:
        found, point = _ticket_events(log, args)
    ticket = fold_checked(found)
    assert ticket is not None
    view = ticket_view(ticket, "admin")
    if args.json:
        json_document(view)
        return 0
    out.print(f"ticket {ticket.id} {point}:")
    fields = table("field", "value")
    for name in ("subject", "requester", "queue", "status", "priority", "assignee", "version"):
        row(fields, name, view[name] if view[name] is not None else "(nobody)")
    row(fields, "tags", ", ".join(ticket.tags) or "(none)")
    row(fields, "opened", view["created_at"])
    row(fields, "updated", view["updated_at"])
    row(fields, "first response", view["first_response_at"] or "(none yet)")
    out.print(fields)
    if ticket.comments:
        comments = table("time (UTC)", "author", "kind", "comment")
        for c in ticket.comments:
            kind = "note" if c.internal else "requester" if c.from_requester else "reply"
            row(comments, format_time(c.at)[:19], c.author, kind, c.body.replace("\n", " ")[:80])
        out.print(comments)
    return 0


def cmd_activity(args: argparse.Namespace) -> int:
    if args.since and args.until and args.since > args.until:
        raise AuditError("--since is after --until")
    unknown = sorted(set(args.type or ()) - EVENT_TYPES.keys())
    if unknown:
        raise AuditError(
            f"there is no event type {unknown[0]}; the types are {', '.join(EVENT_TYPES)}"
        )
    selected = LogFilter(
        since=args.since, until=args.until, by=args.by, types=tuple(args.type or ())
    )
    listing = table("pos", "time (UTC)", "stream", "who", "what")
    with reading(args) as log:
        for e in tracked(log.events(selected), "reading", lambda: log.count(selected)):
            if args.json:
                json_line(e.shape())
            else:
                row(
                    listing,
                    e.position,
                    format_time(e.recorded_at)[:19],
                    e.stream,
                    e.by,
                    describe(e),
                )
    if not args.json:
        out.print(listing if listing.row_count else "no events match")
    return 0


def queue_as_of(log: AuditLog, position: int) -> QueueList:
    """The queue list folded by the live view's own code from the log up to `position`."""
    listed = QueueList()
    reload = reloader(log)
    events = log.events(LogFilter(up_to_position=position))
    for event in tracked(events, "folding", lambda: position):
        with foldable(event):
            listed.apply(event, reload)
    return listed


def cmd_queue(args: argparse.Namespace) -> int:
    with reading(args) as log:
        at: datetime | None = args.as_of
        position = log.position_at(at) if at else (log.head() or (0, ""))[0]
        listed = queue_as_of(log, position)
    tickets: list[Ticket] = listed.tickets(queue=args.queue)
    if args.json:
        document: dict[str, Any] = {
            "queue": args.queue,
            "as_of": format_time(at) if at else None,
            "position": position,
            "tickets": [summary(t) for t in tickets],
            "counts": listed.counts().get(args.queue, {}),
        }
        json_document(document)
        return 0
    when = f"as of {format_time(at)}" if at else "now"
    out.print(f"queue {args.queue} {when} (log position {position}): {len(tickets)} tickets")
    listing = table("id", "priority", "status", "assignee", "opened (UTC)", "subject")
    for t in tickets:
        row(
            listing,
            t.id,
            t.priority,
            t.status,
            t.assignee or "-",
            format_time(t.created_at)[:16],
            t.subject,
        )
    if tickets:
        out.print(listing)
    elif args.queue not in listed.counts():
        others = ", ".join(listed.counts()) or "none"
        out.print(f"no ticket was listed in {args.queue} then; queues with tickets: {others}")
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the audit commands to the `snag` parser."""

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help: str
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=pipe_safe(handler))
        return p

    def point_in_time(p: argparse.ArgumentParser) -> None:
        when = p.add_mutually_exclusive_group()
        when.add_argument(
            "--as-of", type=moment, metavar="TIME", help=f"as it was then: {TIME_HELP}"
        )
        when.add_argument(
            "--at-version", type=positive_int, metavar="N", help="as it was at its version N"
        )

    history = add("history", cmd_history, "a ticket's events, one readable line each")
    history.add_argument("ticket", type=positive_int)
    point_in_time(history)
    history.add_argument("--json", action="store_true", help="JSON Lines in the API's event shape")

    replay = add(
        "replay", cmd_replay, "a ticket as it was at a time or version, folded from its events"
    )
    replay.add_argument("ticket", type=positive_int)
    point_in_time(replay)
    replay.add_argument("--json", action="store_true", help="the API's ticket shape")

    activity = add("activity", cmd_activity, "what happened across tickets: who did what, when")
    activity.add_argument("--by", metavar="USER", help="only what USER did")
    activity.add_argument("--since", type=moment, metavar="TIME", help=f"from TIME on: {TIME_HELP}")
    activity.add_argument("--until", type=moment, metavar="TIME", help="up to TIME, inclusive")
    activity.add_argument(
        "--type",
        action="append",
        metavar="TYPE",
        help="only events of TYPE (TicketClaimed, ...); repeatable",
    )
    activity.add_argument("--json", action="store_true", help="JSON Lines in the API's event shape")

    queue = add(
        "queue", cmd_queue, "a queue's list as agents saw it at a time, from the live view's code"
    )
    queue.add_argument("queue")
    queue.add_argument("--as-of", type=moment, metavar="TIME", help=f"default now: {TIME_HELP}")
    queue.add_argument("--json", action="store_true", help="the rows of the live list, as JSON")

    audit_integrity.register(add)
