"""The REST routes: commands, tickets, the caller, and health."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from actors import Caller, NextTicket
from actors.model import stream_name
from actors.queue_view import Describe
from actors.views import event_views, ticket_view
from api import deps
from api.errors import UnsupportedMediaType
from api.schemas import parse_command, parse_json
from eventlog import NotFound

router = APIRouter()
Authenticated = Annotated[Caller, Depends(deps.caller)]
TicketId = Annotated[int, Path(gt=0, le=2**62)]


def json_response(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status, media_type="application/json")


@router.post(
    "/api/commands",
    summary="Send a command to a ticket",
    responses={
        200: {"description": "`{ticket, events}`; `events` is empty when nothing changed"},
        201: {"description": "The ticket `open` created"},
    },
    openapi_extra={"x-snag-command-body": True},
)
async def post_command(request: Request, caller: Authenticated) -> Response:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("send the command as JSON (Content-Type: application/json)")
    command, command_id, request_hash = parse_command(parse_json(await request.body()))
    rt = deps.runtime(request)
    send = rt.desk.next if isinstance(command, NextTicket) else rt.desk.execute
    future = send(
        command,  # type: ignore[arg-type]  # `send` was chosen by the command's type
        caller,
        command_id=command_id,
        request_hash=request_hash,
        correlation_id=deps.correlation_id(request),
    )
    outcome = await deps.answer(future, rt.settings.command_timeout)
    headers = {"Snag-Position": str(outcome.position)} if outcome.position else None
    return Response(outcome.body, outcome.status, media_type="application/json", headers=headers)


@router.get("/api/tickets/{ticket_id}", summary="A ticket with its comments")
async def get_ticket(request: Request, ticket_id: TicketId, caller: Authenticated) -> Response:
    rt = deps.runtime(request)
    ticket = await deps.answer(rt.desk.read(ticket_id), rt.settings.command_timeout)
    return json_response(ticket_view(ticket, caller.role))


@router.get("/api/tickets/{ticket_id}/history", summary="A ticket's events in order")
async def get_history(request: Request, ticket_id: TicketId, caller: Authenticated) -> Response:
    events = await run_in_threadpool(
        deps.runtime(request).store.read_stream, stream_name(ticket_id)
    )
    if not events:
        raise NotFound(f"there is no ticket {ticket_id}")
    return json_response({"events": event_views(events, caller.role)})


@router.get("/api/me", summary="Who the credentials belong to")
async def get_me(caller: Authenticated) -> Response:
    return json_response({"name": caller.name, "role": caller.role})


@router.get("/healthz", summary="Liveness and the latest log position this server has read")
async def healthz(request: Request) -> Response:
    """Answers from memory: the tailer's position and each read model's position and digest."""
    rt = deps.runtime(request)
    describe = Describe()
    rt.queue_view.tell(describe)
    projections = await deps.answer(describe.reply, rt.settings.command_timeout)
    return json_response(
        {"status": "ok", "position": rt.tailer.position, "projections": projections}
    )
