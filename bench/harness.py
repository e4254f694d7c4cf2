"""What the benchmarks share: a throw-away database, `snag serve` as a child process,
accounts, CPU accounting from /proc, percentiles and a plain-text table.

The product code measured is the tree around this folder: its root goes first on the
import path, here and in every child process. Every benchmark talks to loopback only and
removes what it made (the database, the server process, its log directory) when it ends,
also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Measure the tree this folder is in (a snapshot, say), not whichever one is installed.
    sys.path.insert(0, str(ROOT))
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def admin_url_default() -> str:
    """`BENCH_DATABASE_URL`, else `TEST_DATABASE_URL`, else the local trust superuser."""
    return (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or DEFAULT_ADMIN_URL
    )


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line: its docstring's first paragraph, and `--admin-url`."""
    made = argparse.ArgumentParser(
        description=(doc or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    made.add_argument(
        "--admin-url", default=admin_url_default(), help="a role that may create databases"
    )
    return made


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def dbname_of(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname", ""))


@contextmanager
def fresh_database(admin_url: str, label: str) -> Iterator[str]:
    """A new, empty database, dropped (with any connection still on it) at the end."""
    name = f"snag_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield with_dbname(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


def snag(url: str, *args: str) -> str:
    """Run the `snag` command line on `url`; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=child_env(url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"snag {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def add_user(url: str, name: str, role: str = "agent") -> str:
    """`snag user add NAME --role ROLE`; the token it prints last."""
    return snag(url, "user", "add", name, "--role", role).strip().splitlines()[-1]


class Server:
    """A Snag server as a child process on a loopback port (`snag serve` by default).

    Its output goes to a log file in a temporary directory, removed on `stop()` unless
    the server failed, when the log's tail is printed instead.
    """

    def __init__(self, url: str, argv: Sequence[str] | None = None, timeout: float = 600) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._dir = Path(tempfile.mkdtemp(prefix="snag-bench-"))
        self.log = self._dir / "server.log"
        command = list(argv or [sys.executable, "-m", "api.cli", "serve"])
        command += ["--port", str(self.port)]
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=child_env(url),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling a child's port; there is nothing to wait on instead
        raise RuntimeError(f"the server did not answer /healthz in {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# HTTP clients


class Connection(Protocol):
    """One keep-alive connection to the server, used by one task at a time."""

    async def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send a request (a JSON body when given); the status and the body."""

    async def close(self) -> None: ...


class HttpxConnection:
    """An httpx.AsyncClient of its own: a client shared by many tasks costs the client
    several times more CPU per request (httpcore's pool), which would cap the rates."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self._client = httpx.AsyncClient(base_url=base, headers=headers, timeout=30)

    async def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else None
        response = await self._client.request(method, path, content=body, headers=headers)
        return response.status_code, response.content

    async def close(self) -> None:
        await self._client.aclose()


class RawConnection:
    """A minimal HTTP/1.1 client on asyncio streams: far less client CPU than httpx, so
    the server, not the load generator, sets the pace. Only for Content-Length answers."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._head = head
        self.last_head = b""
        """The status line and headers of the last answer."""

    @classmethod
    async def open(cls, base: str, headers: dict[str, str]) -> RawConnection:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        lines = [f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
        return cls(reader, writer, ("\r\n".join(lines) + "\r\n").encode())

    async def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        request = f"{method} {path} HTTP/1.1\r\n".encode() + self._head
        if body is not None:
            request += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        self._writer.write(request + b"\r\n" + (body or b""))
        head = await self._reader.readuntil(b"\r\n\r\n")
        self.last_head = head
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


async def connect(kind: str, base: str, headers: dict[str, str]) -> Connection:
    if kind == "raw":
        return await RawConnection.open(base, headers)
    return HttpxConnection(base, headers)


# CPU accounting


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads) so far; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def backend_pids(admin_url: str, dbname: str) -> list[int]:
    """The PostgreSQL backends connected to `dbname` (the server's pool and tailer)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return [int(r[0]) for r in rows]


class CpuMeter:
    """CPU seconds spent by the server process and by its database's backends."""

    def __init__(self, server_pid: int, admin_url: str, dbname: str) -> None:
        self._pid = server_pid
        self._admin_url = admin_url
        self._dbname = dbname

    def sample(self) -> tuple[float, dict[int, float]]:
        pids = backend_pids(self._admin_url, self._dbname)
        return cpu_seconds(self._pid), {p: cpu_seconds(p) for p in pids}

    @staticmethod
    def spent(
        before: tuple[float, dict[int, float]], after: tuple[float, dict[int, float]]
    ) -> tuple[float, float]:
        """(server CPU s, PostgreSQL CPU s) between two samples."""
        db = sum(cpu - before[1].get(pid, 0.0) for pid, cpu in after[1].items())
        return after[0] - before[0], db


@contextmanager
def py_spy(pid: int, output: str | None, rate: int = 200) -> Iterator[None]:
    """Record `pid` with py-spy (collapsed stacks to `output`) while the block runs; a no-op
    without `output`. Summarize the file with `bench/spy_summary.py`."""
    if output is None:
        yield
        return
    spy_bin = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    spy = subprocess.Popen(
        [spy_bin, "record", "-p", str(pid), "--rate", str(rate), "--format", "raw",
         "--threads", "--nonblocking", "-o", output],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


# Numbers


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, numbers right-aligned, ready to paste into Markdown."""
    cells = [[str(h) for h in headers], *[[_cell(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        parts = [
            c.rjust(w) if n and _numeric(c) else c.ljust(w) for c, w in zip(r, widths, strict=True)
        ]
        lines.append("| " + " | ".join(parts) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").replace("%", "").isdigit()


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
