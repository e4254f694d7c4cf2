"""Demo data: three people, an integration, and about 300 tickets made through real commands."""

from __future__ import annotations

import random
from concurrent.futures import Future

from actors import (
    AddComment,
    Caller,
    ClaimTicket,
    OpenTicket,
    Outcome,
    SetPriority,
    SetStatus,
    TagTicket,
)
from api.runtime import Runtime

PASSWORDS = {"alice": "alice-demo", "bob": "bob-demo", "carol": "carol-demo"}
ROLES = {"alice": "agent", "bob": "agent", "carol": "admin"}
TICKETS = 300

_SUBJECTS = {
    "support": [
        "Can't log in after password reset",
        "Export to CSV hangs at 99%",
        "Two-factor codes not arriving",
        "How do I add a second admin?",
        "Dashboard shows yesterday's numbers",
        "Mobile app crashes on start",
        "Invite email went to spam",
        "Search returns nothing for accented names",
    ],
    "billing": [
        "Charged twice this month",
        "Need a VAT invoice for March",
        "Upgrade to annual plan",
        "Refund for unused seats",
        "Card declined but bank says fine",
    ],
    "bugs": [
        "500 error when saving a draft",
        "Timezone wrong on scheduled reports",
        "Attachment previews are blank",
        "Webhook retries flood our endpoint",
    ],
}
_PEOPLE = ["dana", "erik", "fatima", "gustav", "hana", "ivan", "jun", "kemal", "lena", "marco"]
_DOMAINS = ["example.com", "example.org", "acme.test"]
_REPLIES = [
    "Thanks for the report, I'm looking into it now.",
    "Could you send a screenshot of what you see?",
    "I've reproduced this and passed it to the team.",
    "This should be fixed now; please try again.",
]
_NOTES = [
    "Same as last week's incident.",
    "Customer is on the enterprise plan.",
    "Check the logs for 502s.",
]
_TAGS = ["vip", "login", "mobile", "invoice", "regression", "follow-up"]


def seed(runtime: Runtime, tickets: int = TICKETS) -> list[str]:
    """Seed an empty log; returns the lines to print, or [] when the log had events."""
    if runtime.store.head_position() > 0:
        return []
    service = runtime.account_service
    for name, password in PASSWORDS.items():
        service.add_user(name, ROLES[name], password)
    integration = service.add_user("mailer", "integration")
    runtime.credentials.reload()

    rng = random.Random(42)  # the same demo every time
    desk = runtime.desk
    agents = [Caller("alice", "agent"), Caller("bob", "agent")]
    mailer = Caller("mailer", "integration")

    def run(future: Future[Outcome]) -> Outcome:
        return future.result(timeout=60)

    opened: list[int] = []
    pending = []
    for _ in range(tickets):
        queue = rng.choice(list(_SUBJECTS))
        person = rng.choice(_PEOPLE)
        command = OpenTicket(
            subject=rng.choice(_SUBJECTS[queue]),
            body=f"Hello,\n\n{rng.choice(_SUBJECTS[queue])}. Can you help?\n\n{person.title()}",
            requester=f"{person}@{rng.choice(_DOMAINS)}",
            queue=queue,
            priority=rng.choices(["low", "normal", "high", "urgent"], [2, 6, 2, 1])[0],
            tags=tuple(rng.sample(_TAGS, rng.randint(0, 2))),
        )
        pending.append(desk.execute(command, mailer))
    for future in pending:
        opened.append(_ticket_id(run(future)))

    followups: list[Future[Outcome]] = []
    for ticket in opened:
        roll = rng.random()
        if roll < 0.45:
            continue  # new and unassigned: work for the queue
        agent = rng.choice(agents)
        run(desk.execute(ClaimTicket(ticket), agent))
        followups.append(desk.execute(AddComment(ticket, rng.choice(_REPLIES)), agent))
        if rng.random() < 0.3:
            followups.append(
                desk.execute(AddComment(ticket, rng.choice(_NOTES), internal=True), agent)
            )
        if rng.random() < 0.2:
            followups.append(desk.execute(SetPriority(ticket, "urgent"), agent))
        if rng.random() < 0.2:
            followups.append(desk.execute(TagTicket(ticket, "follow-up"), agent))
        if roll > 0.8:
            followups.append(desk.execute(SetStatus(ticket, "pending"), agent))
            followups.append(
                desk.execute(
                    AddComment(ticket, "Thanks, that worked!", from_requester=True), mailer
                )
            )
            followups.append(desk.execute(SetStatus(ticket, "solved"), agent))
        if roll > 0.93:
            followups.append(desk.execute(SetStatus(ticket, "closed"), agent))
    for future in followups:
        run(future)

    return [
        *(f"{name} ({ROLES[name]}): password {PASSWORDS[name]}" for name in PASSWORDS),
        f"mailer (integration): token {integration}",
    ]


def _ticket_id(outcome: Outcome) -> int:
    import orjson

    return int(orjson.loads(outcome.body)["ticket"]["id"])
