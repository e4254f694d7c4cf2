"""`snag serve`: the runtime, the demo data when asked, and uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from api.app import create_app
from api.demo import seed
from api.runtime import Runtime, Settings
from eventlog import redact

logger = logging.getLogger(__name__)


def serve(url: str, *, host: str, port: int, demo: bool, idle_timeout: float) -> int:
    runtime = Runtime(Settings(url, idle_timeout=idle_timeout))
    try:
        if demo:
            logins = seed(runtime)
            if logins:
                print("Demo data seeded. Dashboard logins and the integration token:")
                for line in logins:
                    print(f"  {line}")
            else:
                print("The log is not empty: demo data was not seeded again.")
        print(f"Snag on {redact(url)}, serving http://{host}:{port}/", flush=True)
    except BaseException:
        runtime.close()
        raise
    config = uvicorn.Config(create_app(runtime), host=host, port=port, log_level="info")
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1
