"""One readable sentence per event, for `snag history` and the audit tools."""

from __future__ import annotations

from eventlog import RecordedEvent


def describe(event: RecordedEvent) -> str:
    d = event.data
    by = event.by
    match event.type:
        case "TicketOpened":
            return f"{by} opened “{d['subject']}” for {d['requester']} in {d['queue']} ({d['priority']})"
        case "TicketClaimed":
            return f"{by} claimed"
        case "TicketAssigned":
            return f"{by} assigned it to {d['assignee']}" + (
                f" (was {d['previous']})" if d.get("previous") else ""
            )
        case "TicketReleased":
            return f"{by} released it" + (f" from {d['previous']}" if d["previous"] != by else "")
        case "CommentAdded":
            if d["from_requester"]:
                return f"{d['author']} (requester) replied" + (
                    f", posted by {by}" if by != d["author"] else ""
                )
            return f"{by} added an internal note" if d["internal"] else f"{by} replied"
        case "StatusChanged":
            return f"{by} changed status {d['old']} -> {d['new']}"
        case "PriorityChanged":
            return f"{by} changed priority {d['old']} -> {d['new']}"
        case "SubjectChanged":
            return f"{by} changed the subject to “{d['new']}”"
        case "TicketMoved":
            return f"{by} moved it from {d['old']} to {d['new']}"
        case "TagAdded":
            return f"{by} tagged it {d['tag']}"
        case "TagRemoved":
            return f"{by} removed tag {d['tag']}"
        case "UserAdded":
            return f"{by} added user {d['name']} as {d['role']}"
        case "UserRevoked":
            return f"{by} revoked user {d['name']}"
        case "TokenIssued":
            return f"{by} issued token {d['token_id']} ({d['label']}) to {d['name']}"
        case "TokenRevoked":
            return f"{by} revoked token {d['token_id']} of {d['name']}"
    return f"{by}: {event.type}"
