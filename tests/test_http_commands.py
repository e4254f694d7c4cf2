"""Every command over real HTTP: the rules, the answers, and the JSON shapes."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from conftest import Server, command, open_ticket


@pytest.fixture
def alice(server: Server) -> httpx.Client:
    return server.user("alice")


@pytest.fixture
def bob(server: Server) -> httpx.Client:
    return server.user("bob")


@pytest.fixture
def carol(server: Server) -> httpx.Client:
    return server.user("carol", "admin")


@pytest.fixture
def mailer(server: Server) -> httpx.Client:
    return server.user("mailer", "integration")


EVENT_KEYS = {
    "position",
    "stream",
    "version",
    "type",
    "data",
    "by",
    "at",
    "command_id",
    "correlation_id",
}


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_open_answers_201_with_a_new_ticket_and_its_event(alice: httpx.Client) -> None:
    response = command(
        alice, "open", subject=" Cannot log in ", body="Since Monday", requester="dana@example.com",
        queue="billing", priority="high", tags=["vip", "login", "vip"],
    )  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    ticket = body["ticket"]
    assert ticket["subject"] == "Cannot log in"
    assert (ticket["status"], ticket["queue"], ticket["priority"]) == ("new", "billing", "high")
    assert ticket["tags"] == ["vip", "login"]
    assert ticket["assignee"] is None and ticket["version"] == 1
    assert ticket["created_at"].endswith("Z")
    [event] = body["events"]
    assert set(event) == EVENT_KEYS
    assert (event["type"], event["stream"], event["version"]) == (
        "TicketOpened",
        f"ticket-{ticket['id']}",
        1,
    )
    assert event["by"] == "alice" and event["at"] == ticket["created_at"]
    second = open_ticket(alice)
    assert second["id"] > ticket["id"]
    assert (second["queue"], second["priority"]) == ("support", "normal")


def test_claim_assigns_the_caller_and_opens_a_new_ticket(alice: httpx.Client) -> None:
    ticket = open_ticket(alice)
    body = ok(command(alice, "claim", ticket["id"]))
    assert [e["type"] for e in body["events"]] == ["TicketClaimed", "StatusChanged"]
    assert body["ticket"]["assignee"] == "alice" and body["ticket"]["status"] == "open"
    again = ok(command(alice, "claim", ticket["id"]))
    assert again["events"] == [] and again["ticket"]["version"] == 3


def test_a_second_claim_is_refused_naming_the_holder(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    ticket = open_ticket(alice)
    ok(command(alice, "claim", ticket["id"]))
    response = command(bob, "claim", ticket["id"])
    assert response.status_code == 409
    assert response.json() == {
        "error": "already_claimed",
        "message": f"ticket {ticket['id']} is already assigned to alice",
        "assignee": "alice",
    }


def test_fifty_agents_claim_one_ticket_at_once(server: Server) -> None:
    clients = [server.user(f"agent{i:02d}") for i in range(50)]
    ticket = open_ticket(clients[0])
    barrier = threading.Barrier(50)
    results: dict[str, httpx.Response] = {}

    def claim(index: int) -> None:
        barrier.wait()
        results[f"agent{index:02d}"] = command(clients[index], "claim", ticket["id"])

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [name for name, r in results.items() if r.status_code == 200]
    assert len(winners) == 1
    losers = [r for r in results.values() if r.status_code != 200]
    assert len(losers) == 49
    for r in losers:
        assert r.status_code == 409
        assert r.json()["error"] == "already_claimed"
        assert r.json()["assignee"] == winners[0]
    history = ok(clients[0].get(f"/api/tickets/{ticket['id']}/history"))["events"]
    assert [e["type"] for e in history].count("TicketClaimed") == 1


def test_release_and_assign_only_by_the_assignee_or_an_admin(
    server: Server, alice: httpx.Client, bob: httpx.Client, carol: httpx.Client
) -> None:
    ticket = open_ticket(alice)["id"]
    ok(command(alice, "claim", ticket))
    refused = command(bob, "release", ticket)
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden" and refused.json()["required_role"] == "admin"
    assert command(bob, "assign", ticket, assignee="bob").status_code == 403
    handed = ok(command(alice, "assign", ticket, assignee="bob"))
    assert handed["ticket"]["assignee"] == "bob"
    assert handed["events"][0]["data"] == {"assignee": "bob", "previous": "alice"}
    ok(command(carol, "assign", ticket, assignee="alice"))
    released = ok(command(carol, "release", ticket))
    assert released["ticket"]["assignee"] is None
    assert ok(command(alice, "release", ticket))["events"] == []


def test_assign_needs_an_active_agent_or_admin(
    server: Server, alice: httpx.Client, carol: httpx.Client, mailer: httpx.Client
) -> None:
    ticket = open_ticket(alice)["id"]
    for who in ("mailer", "nobody"):
        response = command(carol, "assign", ticket, assignee=who)
        assert response.status_code == 422
        assert response.json()["field"] == "assignee"
    server.runtime.account_service.revoke_user("alice")
    server.runtime.credentials.reload()
    assert command(carol, "assign", ticket, assignee="alice").status_code == 422


def test_comments_replies_and_first_response(alice: httpx.Client, mailer: httpx.Client) -> None:
    ticket = open_ticket(alice)["id"]
    note = ok(command(alice, "comment", ticket, body="Known issue", internal=True))
    assert note["ticket"]["first_response_at"] is None
    reply = ok(command(alice, "comment", ticket, body="On it"))
    assert reply["ticket"]["first_response_at"] == reply["events"][0]["at"]
    ok(command(alice, "set_status", ticket, status="pending"))
    customer = ok(command(mailer, "comment", ticket, body="Still broken", from_requester=True))
    assert [e["type"] for e in customer["events"]] == ["CommentAdded", "StatusChanged"]
    assert customer["ticket"]["status"] == "open"
    assert customer["ticket"]["comments"][-1]["author"] == "dana@example.com"
    assert command(alice, "comment", ticket, body="   ").status_code == 422
    both = command(alice, "comment", ticket, body="x", internal=True, from_requester=True)
    assert both.status_code == 422


def test_status_transitions_over_http(alice: httpx.Client) -> None:
    ticket = open_ticket(alice)["id"]
    refused = command(alice, "set_status", ticket, status="closed")
    assert refused.status_code == 409
    assert refused.json()["error"] == "invalid_transition"
    assert refused.json()["allowed"] == ["open", "pending", "solved"]
    for status in ("pending", "open", "solved", "closed"):
        assert ok(command(alice, "set_status", ticket, status=status))["ticket"]["status"] == status
    closed = command(alice, "tag", ticket, tag="late")
    assert closed.status_code == 409 and closed.json()["error"] == "ticket_closed"
    assert ok(command(alice, "set_status", ticket, status="open"))["ticket"]["status"] == "open"


def test_priority_subject_move_tag_untag(alice: httpx.Client) -> None:
    ticket = open_ticket(alice)["id"]
    assert ok(command(alice, "set_priority", ticket, priority="urgent"))["events"][0]["data"] == {
        "old": "normal", "new": "urgent"
    }  # fmt: skip
    assert ok(command(alice, "set_priority", ticket, priority="urgent"))["events"] == []
    assert (
        ok(command(alice, "set_subject", ticket, subject="Printer on fire!"))["ticket"]["subject"]
        == "Printer on fire!"
    )
    assert ok(command(alice, "move", ticket, queue="hardware"))["ticket"]["queue"] == "hardware"
    assert ok(command(alice, "tag", ticket, tag="fire"))["ticket"]["tags"] == ["fire"]
    assert ok(command(alice, "tag", ticket, tag="fire"))["events"] == []
    assert ok(command(alice, "untag", ticket, tag="fire"))["ticket"]["tags"] == []
    assert ok(command(alice, "untag", ticket, tag="fire"))["events"] == []
    bad_queue = command(alice, "move", ticket, queue="Has Spaces")
    assert bad_queue.status_code == 422 and bad_queue.json()["field"] == "queue"


def test_expected_version_is_checked_first(alice: httpx.Client, bob: httpx.Client) -> None:
    ticket = open_ticket(alice)["id"]
    ok(command(alice, "claim", ticket, expected_version=1))
    stale = command(bob, "claim", ticket, expected_version=1)
    assert stale.status_code == 409
    assert stale.json()["error"] == "version_conflict" and stale.json()["current_version"] == 3


def test_integrations_never_see_internal_notes_and_cannot_claim(
    alice: httpx.Client, mailer: httpx.Client
) -> None:
    ticket = open_ticket(mailer)["id"]
    assert command(mailer, "claim", ticket).status_code == 403
    ok(command(alice, "comment", ticket, body="SECRET note", internal=True))
    ok(command(alice, "comment", ticket, body="public reply"))
    assert command(mailer, "comment", ticket, body="x", internal=True).status_code == 403
    reply = ok(command(mailer, "tag", ticket, tag="email"))
    views = [
        reply,
        ok(mailer.get(f"/api/tickets/{ticket}")),
        ok(mailer.get(f"/api/tickets/{ticket}/history")),
    ]
    for view in views:
        assert "SECRET" not in str(view)
    assert "SECRET" in ok(alice.get(f"/api/tickets/{ticket}")).__str__()
    assert len(ok(alice.get(f"/api/tickets/{ticket}/history"))["events"]) == 4


def test_reads_me_and_health(server: Server, alice: httpx.Client, carol: httpx.Client) -> None:
    ticket = open_ticket(alice)
    assert ok(alice.get(f"/api/tickets/{ticket['id']}")) == ticket
    assert ok(carol.get("/api/me")) == {"name": "carol", "role": "admin"}
    health = httpx.get(f"{server.url}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_openapi_describes_every_command(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    body = spec["paths"]["/api/commands"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    mapping = body["discriminator"]["mapping"]
    assert set(mapping) == {
        "open", "claim", "release", "assign", "comment", "set_status", "set_priority",
        "set_subject", "move", "tag", "untag", "next",
    }  # fmt: skip
    assign = spec["components"]["schemas"][mapping["assign"].rsplit("/", 1)[1]]
    assert {"ticket", "assignee", "command_id", "expected_version"} <= set(assign["properties"])
    assert assign["additionalProperties"] is False


def test_refusals_are_not_stored_under_their_command_id(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    ticket = open_ticket(alice)["id"]
    ok(command(alice, "claim", ticket))
    refused = command(bob, "claim", ticket, command_id="bob-1")
    assert refused.status_code == 409
    ok(command(alice, "release", ticket))
    retried = command(bob, "claim", ticket, command_id="bob-1")
    assert retried.status_code == 200 and retried.json()["ticket"]["assignee"] == "bob"
    assert command(bob, "claim", ticket, command_id="bob-1").content == retried.content
