"""`snag serve`, as `api.server.serve` builds it, plus a `Server-Timing: app;dur=MS` header
on every answer: the time from the request reaching the application to its response
headers, that is the server's own time without HTTP parsing or the network.

    DATABASE_URL=... python bench/timed_server.py --port 8123

Used by `queue_page.py`; the only difference from `snag serve` is the outermost ASGI
wrapper, which costs a few microseconds per request.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import uvicorn

from api.app import create_app
from api.cli import database_url
from api.runtime import Runtime, Settings


class ServerTiming:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - started) * 1000
                header = (b"server-timing", f"app;dur={spent:.3f}".encode())
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle-timeout", type=float, default=600.0)
    args = parser.parse_args()
    runtime = Runtime(Settings(database_url(), idle_timeout=args.idle_timeout))
    app = ServerTiming(create_app(runtime))
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="info")
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    raise SystemExit(main())
