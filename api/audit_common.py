"""What every audit command shares: the database, time arguments, progress, output."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from actors.model import Ticket, fold, stream_name
from eventlog import RecordedEvent, SnagError, start_embedded
from eventlog.audit import AuditLog

T = TypeVar("T")

PROGRESS_FROM = 5000
"""Reads of fewer events than this finish too fast for a progress bar to help."""

TIME_HELP = (
    "ISO 8601 (2026-12-03T10:42:00Z, 2026-12-03T10:42+01:00) or 'YYYY-MM-DD HH:MM';"
    " a time without a zone is local time"
)

out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal and "COLUMNS" not in os.environ:
    out.width = 4096  # a pipe or a file: never wrap or cut a row
err = Console(stderr=True, highlight=False)


class AuditError(SnagError):
    """The log cannot answer the question as asked (exit code 2)."""

    code = "audit"


def database_url(data_dir: Path | None) -> str:
    """`DATABASE_URL` when set, else the embedded PostgreSQL (as every `snag` command)."""
    return os.environ.get("DATABASE_URL") or start_embedded(data_dir)


@contextmanager
def reading(args: argparse.Namespace) -> Iterator[AuditLog]:
    """A read-only snapshot of the log; never migrates."""
    with AuditLog.open(database_url(args.data_dir)) as log:
        yield log


# Arguments


def moment(value: str) -> datetime:
    """An argparse type: a past time, ISO 8601 or `YYYY-MM-DD HH:MM`, local when zoneless."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time: use ISO 8601 (2026-12-03T10:42:00Z) or"
            " 'YYYY-MM-DD HH:MM' (local time)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # the machine's local time zone
    if parsed > datetime.now(UTC):
        raise argparse.ArgumentTypeError(f"{value!r} is in the future")
    return parsed


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 0 < number <= 2**62:
        raise argparse.ArgumentTypeError(f"{value} is out of range")
    return number


# Folding


def fold_checked(events: Iterable[RecordedEvent]) -> Ticket | None:
    """`fold`, with an event it cannot fold reported as an `AuditError`."""
    state: Ticket | None = None
    for event in events:
        with foldable(event):
            state = fold(state, [event])
    return state


@contextmanager
def foldable(event: RecordedEvent) -> Iterator[None]:
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditError(
            f"event {event.position} ({event.stream}, {event.type}) cannot be folded"
            f" ({type(exc).__name__}: {exc}); run `snag verify`"
        ) from exc


def reloader(log: AuditLog) -> Callable[[int, int], Ticket | None]:
    """A projection's `reload`: the ticket folded from its events at or before a position."""

    def reload(ticket_id: int, position: int) -> Ticket | None:
        return fold_checked(log.stream(stream_name(ticket_id), up_to_position=position))

    return reload


# Progress


class Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} events/s" if speed else "", style="progress.data.speed")


def tracked(items: Iterable[T], label: str, total: Callable[[], int | None]) -> Iterator[T]:
    """`items`, with a progress bar on stderr when it is a terminal and the read is long."""
    if not err.is_terminal:
        yield from items
        return
    expected = total()
    if expected is not None and expected < PROGRESS_FROM:
        yield from items
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), Rate(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(label, total=expected)
        done = 0
        for item in items:
            yield item
            done += 1
            if done % 1000 == 0:
                progress.update(task, completed=done)
        progress.update(task, completed=done)


# Output


def pipe_safe(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """`snag export | head` ends quietly when the reader stops reading."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except BrokenPipeError:
            # Point stdout at /dev/null so the interpreter's final flush does not fail too.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0

    return run


def table(*headers: str) -> Table:
    listing = Table(box=None, pad_edge=False)
    for header in headers:
        listing.add_column(header, overflow="fold")  # a digest is never cut short
    return listing


def row(target: Table, *cells: object) -> None:
    """Cells as plain text: a subject like `[bold]` is not markup."""
    target.add_row(*(Text("" if c is None else str(c)) for c in cells))


def json_line(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE))


def json_document(value: Any) -> None:
    sys.stdout.buffer.write(
        orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    )
