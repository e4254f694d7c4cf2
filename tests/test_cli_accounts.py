"""The `snag` command line for accounts and history, and revocation on a running server."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
from conftest import ROOT, Server, command, open_ticket, wait_until


def snag(
    database_url: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def token_of(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("snag_"))


def test_users_tokens_and_revocation_take_effect_at_once(server: Server, database_url: str) -> None:
    added = snag(
        database_url,
        "user",
        "add",
        "alice",
        "--role",
        "agent",
        "--password-stdin",
        stdin="correct horse\n",
    )
    assert added.returncode == 0, added.stderr
    first = token_of(added.stdout)
    assert len(first) >= len("snag_") + 22  # at least 128 bits
    alice = server.client(first)
    wait_until(
        lambda: alice.get("/api/me").status_code == 200,
        what="the running server to accept the new token",
    )

    second_run = snag(database_url, "token", "add", "alice", "--label", "laptop")
    assert second_run.returncode == 0
    laptop = server.client(token_of(second_run.stdout))
    wait_until(lambda: laptop.get("/api/me").status_code == 200, what="the second token to work")

    listing = snag(database_url, "user", "list")
    assert "alice" in listing.stdout and "agent" in listing.stdout

    revoked = snag(database_url, "token", "revoke", "alice", "2")
    assert revoked.returncode == 0, revoked.stderr
    delay = wait_until(
        lambda: laptop.get("/api/me").status_code == 401, what="the revoked token to stop working"
    )
    assert alice.get("/api/me").status_code == 200
    print(f"token revocation reached the running server after {delay * 1000:.0f} ms")

    assert snag(database_url, "user", "revoke", "alice").returncode == 0
    wait_until(
        lambda: alice.get("/api/me").status_code == 401, what="the revoked user to be refused"
    )
    users = server.runtime.store.read_stream("user-alice")
    assert [e.type for e in users] == [
        "UserAdded",
        "TokenIssued",
        "TokenIssued",
        "TokenRevoked",
        "UserRevoked",
    ]
    assert all("snag_" not in str(e.data) and "argon2" not in str(e.data) for e in users)


def test_bad_input_gets_one_line_and_exit_2(database_url: str) -> None:
    assert snag(database_url, "user", "add", "x", "--role", "agent").returncode == 0
    cases = [
        ("user", "add", "me", "--role", "agent"),
        ("user", "add", "none", "--role", "agent"),
        ("user", "add", "x", "--role", "agent"),
        ("user", "add", "y", "--role", "boss"),
        ("user", "revoke", "nobody"),
        ("token", "add", "nobody", "--label", "l"),
        ("token", "revoke", "x", "99"),
        ("history", "not-a-number"),
        ("history", "424242"),
        ("frobnicate",),
    ]
    for args in cases:
        done = snag(database_url, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (args, done.stderr)
        assert lines[0].startswith("snag: ")


def test_an_unreachable_database_is_named_without_its_password() -> None:
    done = snag("postgresql://snag:hunter22@127.0.0.1:1/snag", "user", "list")
    assert done.returncode == 2
    assert "hunter22" not in done.stderr + done.stdout
    assert "127.0.0.1:1" in done.stderr and "***" in done.stderr


def test_history_reads_like_sentences(server: Server, database_url: str) -> None:
    alice = server.user("alice")
    bob = server.user("bob", "admin")
    mailer = server.user("mailer", "integration")
    ticket = open_ticket(alice)["id"]
    command(alice, "claim", ticket)
    command(bob, "set_priority", ticket, priority="urgent")
    command(alice, "set_status", ticket, status="pending")
    command(mailer, "comment", ticket, body="thanks", from_requester=True)
    done = snag(database_url, "history", str(ticket))
    assert done.returncode == 0, done.stderr
    for sentence in (
        "alice claimed",
        "bob changed priority normal -> urgent",
        "dana@example.com (requester) replied",
        "changed status pending -> open",
    ):
        assert sentence in done.stdout
    as_json = snag(database_url, "history", str(ticket), "--json")
    lines = [httpx.Response(200, content=line).json() for line in as_json.stdout.splitlines()]
    assert [e["version"] for e in lines] == list(range(1, len(lines) + 1))


def test_names_are_printed_as_text_never_as_markup(database_url: str) -> None:
    added = snag(database_url, "user", "add", "[/]", "--role", "agent")
    assert added.returncode == 0, added.stderr
    assert token_of(added.stdout)
    listing = snag(database_url, "user", "list")
    assert listing.returncode == 0 and "[/]" in listing.stdout


def test_each_package_imports_on_its_own() -> None:
    for module in ("eventlog", "actors", "projections", "api.hub", "api.app", "api.cli"):
        done = subprocess.run(
            [sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, (module, done.stderr)
