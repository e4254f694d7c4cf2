"""Bad input over real HTTP: a clear JSON error, never a 500, never a half-applied change."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import Server, command, open_ticket


@pytest.fixture
def alice(server: Server) -> httpx.Client:
    return server.user("alice")


def post_raw(
    client: httpx.Client, body: bytes, content_type: str = "application/json"
) -> httpx.Response:
    return client.post("/api/commands", content=body, headers={"Content-Type": content_type})


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def log_head(server: Server) -> int:
    return server.runtime.store.head_position()


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b'{"command": "claim", "ticket": ', "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"command": "open", "subject": "caf\xe9"}', "UTF-8"),
        (b"", "not valid JSON"),
    ],
)
def test_malformed_bodies_are_400(alice: httpx.Client, raw: bytes, what: str) -> None:
    body = error(post_raw(alice, raw), 400, "invalid_json")
    assert what in body["message"]


def test_credentials_are_required_and_checked(server: Server, alice: httpx.Client) -> None:
    anonymous = server.client()
    error(anonymous.get("/api/me"), 401, "unauthorized")
    error(server.client("snag_not-a-real-token").get("/api/me"), 401, "unauthorized")
    basic = anonymous.get("/api/me", headers={"Authorization": "Basic YWxpY2U6eA=="})
    error(basic, 401, "unauthorized")
    refused = error(
        command(anonymous, "open", subject="s", body="b", requester="r"), 401, "unauthorized"
    )
    assert "token" in refused["message"].lower() or "log in" in refused["message"]


def test_unknown_things_are_404(alice: httpx.Client) -> None:
    error(alice.get("/api/tickets/999"), 404, "not_found")
    error(alice.get("/api/tickets/999/history"), 404, "not_found")
    error(command(alice, "claim", 999), 404, "not_found")
    error(alice.get("/api/nowhere"), 404, "not_found")
    error(alice.delete("/api/commands"), 405, "method_not_allowed")


def test_unknown_commands_list_the_valid_ones(alice: httpx.Client) -> None:
    for body in ({"command": "explode", "ticket": 1}, {"ticket": 1}, [1, 2], "claim"):
        answer = error(alice.post("/api/commands", json=body), 422, "unknown_command")
        assert "claim" in answer["commands"] and "open" in answer["commands"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"command": "claim"}, "ticket"),
        ({"command": "claim", "ticket": "42"}, "ticket"),
        ({"command": "claim", "ticket": 0}, "ticket"),
        ({"command": "claim", "ticket": 10**30}, "ticket"),
        ({"command": "claim", "ticket": True}, "ticket"),
        ({"command": "claim", "ticket": 1, "force": True}, "force"),
        ({"command": "claim", "ticket": 1, "expected_version": -1}, "expected_version"),
        ({"command": "claim", "ticket": 1, "command_id": ""}, "command_id"),
        ({"command": "claim", "ticket": 1, "command_id": "with space"}, "command_id"),
        ({"command": "open", "subject": "", "body": "", "requester": "r"}, "subject"),
        ({"command": "open", "subject": "x" * 201, "body": "", "requester": "r"}, "subject"),
        ({"command": "open", "subject": "a\x00b", "body": "", "requester": "r"}, "subject"),
        ({"command": "open", "subject": "s", "body": "a\x00", "requester": "r"}, "body"),
        ({"command": "open", "subject": "s", "body": "", "requester": "\ud800"}, "requester"),
        (
            {"command": "open", "subject": "s", "body": "", "requester": "r", "priority": "meh"},
            "priority",
        ),
        (
            {
                "command": "open",
                "subject": "s",
                "body": "",
                "requester": "r",
                "tags": ["ok", "\x00"],
            },
            "tags",
        ),
        (
            {"command": "open", "subject": "s", "body": "", "requester": "r", "queue": "../etc"},
            "queue",
        ),
        ({"command": "open", "subject": 5, "body": "", "requester": "r"}, "subject"),
        ({"command": "set_status", "ticket": 1, "status": "done"}, "status"),
    ],
)
def test_bad_arguments_are_422_naming_the_field(
    server: Server, alice: httpx.Client, body: dict[str, Any], field: str
) -> None:
    open_ticket(alice)
    before = log_head(server)
    raw = json.dumps(body).encode()  # a lone surrogate stays a \\ud800 escape, as clients send it
    answer = error(post_raw(alice, raw), 422, "invalid_argument")
    assert answer["field"] == field
    assert "\x00" not in answer["message"] and "\ud800" not in answer["message"]
    assert log_head(server) == before


def test_bodies_over_64_kib_are_413_in_json(alice: httpx.Client) -> None:
    big = b'{"command": "open", "subject": "s", "requester": "r", "body": "' + b"x" * 70_000 + b'"}'
    error(post_raw(alice, big), 413, "payload_too_large")

    def chunks() -> Any:
        yield big[:1000]
        yield big[1000:]

    streamed = alice.post(
        "/api/commands", content=chunks(), headers={"Content-Type": "application/json"}
    )
    error(streamed, 413, "payload_too_large")


def test_commands_must_be_sent_as_json(alice: httpx.Client) -> None:
    error(
        post_raw(alice, b'{"command": "claim", "ticket": 1}', "text/plain"),
        415,
        "unsupported_media_type",
    )


def test_error_bodies_never_echo_secrets(server: Server) -> None:
    secret = "snag_this-is-a-secret-token-value"
    response = server.client(secret).get("/api/me")
    assert secret not in response.text


@pytest.mark.parametrize(
    "raw",
    [
        b'{"command": "claim", "ticket": ' + b"9" * 5000 + b"}",
        b"[" * 20_000 + b"]" * 20_000,
        b'{"command": "claim", "ticket": 1, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
    ids=["5000-digit-number", "deep-nesting", "deep-nesting-inside-a-command"],
)
def test_hostile_json_is_400_not_500(alice: httpx.Client, raw: bytes) -> None:
    error(post_raw(alice, raw), 400, "invalid_json")


def test_unknown_field_names_are_not_echoed(alice: httpx.Client) -> None:
    body = error(
        post_raw(alice, b'{"command": "claim", "ticket": 1, "<b>\\u0000": 1}'),
        422,
        "invalid_argument",
    )
    assert "<b>" not in body["message"] and "<b>" not in body["field"]


def test_a_bad_last_event_id_is_422(server: Server, alice: httpx.Client) -> None:
    answer = alice.get("/api/stream", headers={"Last-Event-ID": b"\xb2"})
    error(answer, 422, "invalid_argument")
