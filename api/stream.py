"""Server-Sent Events: live queue changes, ticket pages with presence, and the event feed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from actors.decide import queue_name
from actors.queue_view import PresenceSignal
from actors.views import event_views
from api import deps
from api.hub import ResumeTooOld, Subscription, Topic
from api.routes import Authenticated, json_response
from api.schemas import parse_json, validate
from eventlog import InvalidArgument
from projections.changes import frame

router = APIRouter()
PING_SECONDS = 15

Position = Annotated[int | None, Query(ge=0, le=2**62)]


def _resume_point(request: Request, after: int | None) -> int | None:
    """`Last-Event-ID`, sent by a reconnecting browser, wins over the URL's `after`."""
    header = request.headers.get("last-event-id")
    if header is None or not header.strip():
        return after
    if not re.fullmatch(r"[0-9]{1,19}", header):
        raise InvalidArgument("Last-Event-ID", "Last-Event-ID must be a log position")
    return int(header)


@router.get("/api/stream", summary="Live changes as Server-Sent Events")
async def stream(
    request: Request,
    caller: Authenticated,
    queue: str | None = None,
    ticket: Annotated[int | None, Query(gt=0, le=2**62)] = None,
    feed: Literal["events"] | None = None,
    after: Position = None,
) -> Response:
    """One of: `queue=NAME` (that queue's rows), `ticket=ID` (its events and presence),
    `feed=events` (the raw log), or nothing (every queue's rows)."""
    internal = caller.role != "integration"
    if sum(x is not None for x in (queue, ticket, feed)) > 1:
        raise InvalidArgument("queue", "follow one of queue, ticket or feed")
    if queue is not None:
        topic = Topic("queue", queue=queue_name(queue), internal=internal)
    elif ticket is not None:
        topic = Topic("ticket", ticket=ticket, internal=internal)
    elif feed is not None:
        topic = Topic("events", internal=internal)
    else:
        topic = Topic("all", internal=internal)
    rt = deps.runtime(request)
    resume = _resume_point(request, after)
    try:
        sub = rt.hub.subscribe(topic, resume)
    except ResumeTooOld:
        return EventSourceResponse(_reset(resume or 0), ping=0)
    if ticket is not None:
        rt.queue_view.tell(PresenceSignal(ticket, caller.name, viewers=+1))
    return EventSourceResponse(
        _frames(request, sub, caller.name),
        ping=PING_SECONDS,
        send_timeout=rt.settings.send_timeout,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _reset(position: int) -> AsyncIterator[bytes]:
    yield frame("reset", {"after": position, "message": "too old to resume: reload the list"})


async def _frames(request: Request, sub: Subscription, name: str) -> AsyncIterator[bytes]:
    rt = deps.runtime(request)
    try:
        while True:
            frames = await sub.queue.get()
            if sub.dropped:
                return  # fell too far behind: the client reconnects and resumes or resets
            for data in frames:
                yield data
    finally:
        rt.hub.unsubscribe(sub)
        if sub.topic.kind == "ticket" and sub.topic.ticket is not None:
            rt.queue_view.tell(PresenceSignal(sub.topic.ticket, name, viewers=-1))


class PresenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    ticket: int = Field(gt=0, le=2**62)
    state: Literal["viewing", "replying"]


@router.post("/api/presence", summary="Say that you are replying to a ticket (lasts 20 s)")
async def presence(request: Request, caller: Authenticated) -> Response:
    body = validate(PresenceBody, parse_json(await request.body()))
    deps.runtime(request).queue_view.tell(
        PresenceSignal(body.ticket, caller.name, replying=body.state == "replying")
    )
    return json_response({"ticket": body.ticket, "state": body.state})


@router.get("/api/events", summary="The raw log after a position, a page at a time")
async def events(
    request: Request,
    caller: Authenticated,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    read = await run_in_threadpool(deps.runtime(request).store.read_after, after, limit)
    return json_response(
        {
            "events": event_views(read, caller.role),
            "next_after": read[-1].position if read else after,
        }
    )
