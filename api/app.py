"""The FastAPI application."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from actors.queue_view import Attach, ExpirePresence
from api import dashboard, queues, routes, session, stream
from api.dashboard import STATIC, SecurityHeaders
from api.errors import install_handlers
from api.limits import BodyLimit
from api.runtime import Runtime
from api.schemas import openapi_schema


async def _expire_presence(runtime: Runtime) -> None:
    while True:
        await asyncio.sleep(5)  # a timer, not a wait for a condition
        runtime.queue_view.tell(ExpirePresence(time.monotonic()))


def create_app(runtime: Runtime) -> FastAPI:
    """An app serving `runtime`, which it closes on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        attach = Attach(runtime.hub.publish, runtime.hub.start_after, asyncio.get_running_loop())
        runtime.queue_view.tell(attach)
        await asyncio.wrap_future(attach.reply)
        expiry = asyncio.create_task(_expire_presence(runtime))
        try:
            yield
        finally:
            expiry.cancel()
            runtime.close()

    app = FastAPI(
        title="Snag",
        version="0.1.0",
        description="A live helpdesk: ticket actors on a PostgreSQL event log.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    install_handlers(app)
    for module in (routes, queues, stream, session, dashboard):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            command = openapi_schema()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                command.pop("$defs", {})
            )
            for item in schema["paths"].values():
                for operation in item.values():
                    if operation.pop("x-snag-command-body", False):
                        operation["requestBody"] = {
                            "required": True,
                            "content": {"application/json": {"schema": command}},
                        }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
