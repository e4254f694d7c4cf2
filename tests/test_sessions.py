"""Dashboard sessions over real HTTP: cookies, CSRF, rate limits, restarts and revocation."""

from __future__ import annotations

import json

import httpx
from conftest import Server, serving, wait_until

from api.runtime import Runtime
from api.session import limiter


def login(server: Server, name: str, password: str) -> tuple[httpx.Client, httpx.Response]:
    browser = httpx.Client(base_url=server.url)
    server.clients.append(browser)
    return browser, browser.post("/api/login", json={"name": name, "password": password})


def test_login_sets_a_strict_http_only_cookie_and_writes_need_the_csrf_token(
    server: Server,
) -> None:
    server.user("alice", password="correct horse")
    browser, answer = login(server, "alice", "correct horse")
    assert answer.status_code == 200
    body = answer.json()
    assert body["name"] == "alice" and body["role"] == "agent" and body["csrf_token"]
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here
    assert browser.get("/api/me").json() == {"name": "alice", "role": "agent"}
    assert browser.get("/api/session").json()["csrf_token"] == body["csrf_token"]
    open_body = {"command": "open", "subject": "s", "body": "b", "requester": "r"}
    refused = browser.post("/api/commands", json=open_body)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_rejected"
    forged = browser.post("/api/commands", json=open_body, headers={"X-CSRF-Token": "guess"})
    assert forged.status_code == 403
    done = browser.post(
        "/api/commands", json=open_body, headers={"X-CSRF-Token": body["csrf_token"]}
    )
    assert done.status_code == 201
    out = browser.post("/api/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 200
    assert browser.get("/api/me").status_code == 401


def test_wrong_passwords_are_refused_then_rate_limited(server: Server) -> None:
    limiter._failures.clear()
    server.user("alice", password="correct horse")
    server.user("robot", "integration")
    for _ in range(5):
        _, answer = login(server, "alice", "wrong")
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    _, blocked = login(server, "alice", "correct horse")
    assert blocked.status_code == 429 and blocked.json()["error"] == "too_many_attempts"
    assert int(blocked.headers["retry-after"]) > 0
    _, passwordless = login(server, "robot", "anything")
    assert passwordless.status_code == 401
    _, unknown = login(server, "nobody", "x")
    assert unknown.status_code == 401 and "wrong name or password" in unknown.json()["message"]
    _, malformed = login(server, "", "x")
    assert malformed.status_code == 422
    limiter._failures.clear()


def test_a_session_survives_a_restart_and_ends_with_its_user(
    server: Server, runtime: Runtime
) -> None:
    server.user("alice", password="correct horse")
    browser, answer = login(server, "alice", "correct horse")
    assert answer.status_code == 200
    cookie = browser.cookies["snag_session"]
    restarted = Runtime(runtime.settings)  # a second server process on the same database
    try:
        with (
            serving(restarted) as url,
            httpx.Client(base_url=url, cookies={"snag_session": cookie}) as again,
        ):
            assert again.get("/api/me").json()["name"] == "alice"
            restarted.account_service.revoke_user("alice")
            wait_until(
                lambda: again.get("/api/me").status_code == 401,
                what="the revoked user's session to end",
            )
    finally:
        restarted.close()


def test_hostile_login_and_csrf_input_is_refused_cleanly(server: Server) -> None:
    limiter._failures.clear()
    server.user("alice", password="correct horse")
    for body in ({"name": "a\u0000b", "password": "x"}, {"name": "alice", "password": "\ud800"}):
        answer = httpx.post(
            f"{server.url}/api/login",
            content=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 422, answer.text
    browser, answer = login(server, "alice", "correct horse")
    refused = browser.post(
        "/api/commands",
        json={"command": "claim", "ticket": 1},
        headers={"X-CSRF-Token": "été".encode("latin-1")},
    )
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_rejected"
    limiter._failures.clear()
