"""Queue lists, answered from the queue-view actor's memory: no SQL on these routes."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from actors.decide import queue_name
from actors.queue_view import ListQueues, ListTickets
from api import deps
from api.routes import Authenticated
from eventlog import InvalidArgument

router = APIRouter()
_CURSOR = re.compile(r"\d\.\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\.\d{1,19}")

Status = Annotated[str | None, Query(pattern="^(new|open|pending)$")]
Limit = Annotated[int, Query(ge=1, le=500)]


def _query(
    caller_name: str,
    queue: str | None,
    status: str | None,
    assignee: str | None,
    tag: str | None,
    limit: int,
    cursor: str | None,
) -> ListTickets:
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        raise InvalidArgument("cursor", "cursor is not one this server gave out")
    if assignee == "me":
        assignee = caller_name
    return ListTickets(
        queue=queue,
        status=status,
        assignee=None if assignee == "none" else assignee,
        unassigned=assignee == "none",
        tag=tag,
        limit=limit,
        cursor=cursor,
    )


async def _ask(request: Request, message: ListTickets | ListQueues) -> Response:
    rt = deps.runtime(request)
    rt.queue_view.tell(message)
    body = await deps.answer(message.reply, rt.settings.command_timeout)
    return Response(body, media_type="application/json")


@router.get("/api/queues", summary="Every queue with its ticket counts by status")
async def list_queues(request: Request, caller: Authenticated) -> Response:
    return await _ask(request, ListQueues())


@router.get("/api/queues/{queue}", summary="A queue's tickets not yet solved, most urgent first")
async def list_queue(
    request: Request,
    queue: str,
    caller: Authenticated,
    status: Status = None,
    assignee: str | None = None,
    tag: str | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> Response:
    queue_name(queue)
    return await _ask(request, _query(caller.name, queue, status, assignee, tag, limit, cursor))


@router.get(
    "/api/tickets", summary="Tickets not yet solved across all queues (`assignee=me`: mine)"
)
async def list_tickets(
    request: Request,
    caller: Authenticated,
    status: Status = None,
    assignee: str | None = None,
    tag: str | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> Response:
    return await _ask(request, _query(caller.name, None, status, assignee, tag, limit, cursor))
