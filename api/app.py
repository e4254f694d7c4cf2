"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import routes
from api.errors import install_handlers
from api.limits import BodyLimit
from api.runtime import Runtime
from api.schemas import openapi_schema


def create_app(runtime: Runtime) -> FastAPI:
    """An app serving `runtime`, which it closes on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="Snag",
        version="0.1.0",
        description="A live helpdesk: ticket actors on a PostgreSQL event log.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.add_middleware(BodyLimit)
    install_handlers(app)
    app.include_router(routes.router)

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
