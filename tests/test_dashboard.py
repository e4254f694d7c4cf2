"""The agents' dashboard in a real browser: Playwright for Python driving Debian's Chromium
against `snag serve` as a child process.

Two agents, alice and bob, in two browser contexts: login, every filter, a claim that bob
sees without reload, a lost race, `next`, every ticket command, presence, customer text
that stays text, a server killed and restarted under both pages, and logout. Every wait
is a deadline on a condition; the delays seen are measured in the page itself (a
MutationObserver stamps the moment the DOM changed) and printed. Screenshots of each step
go to test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, SnagProcess
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright
from sse import EventStream
from test_cli_accounts import snag, token_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAYLOAD = "<img src=x onerror=alert(1)>"
SHOTS = ROOT / "test-artifacts" / "screenshots"
WAIT_MS = 10_000
"""The deadline of every wait on a page."""
RESTART_WAIT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]

# Stamps window.snagMarks[name] with Date.now() once some element matching `selector`
# contains `text` (or, with present=false, once none does).
ARM = """([name, selector, text, present]) => {
  const marks = (window.snagMarks ??= {});
  delete marks[name];
  const holds = () =>
    [...document.querySelectorAll(selector)].some((el) => el.textContent.includes(text)) === present;
  if (holds()) { marks[name] = Date.now(); return; }
  const observer = new MutationObserver(() => {
    if (holds()) { marks[name] = Date.now(); observer.disconnect(); }
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
}"""

# Records every distinct state (assignee | action) a row goes through, to catch flicker.
TRACE = """(id) => {
  const states = (window.snagTrace = []);
  const record = () => {
    const row = document.querySelector(`tr[data-ticket="${id}"]`);
    const state = row
      ? `${row.querySelector(".col-assignee").textContent}|${row.querySelector(".col-action button")?.textContent ?? ""}`
      : "gone";
    if (states.at(-1) !== state) states.push(state);
  };
  record();
  new MutationObserver(record).observe(document.querySelector("tbody"), {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}"""

# Records each change of the connection indicator's state, with its time.
CONNECTION_LOG = """() => {
  const conn = document.querySelector(".conn");
  const log = (window.snagConnection = [[conn.dataset.state, Date.now()]]);
  new MutationObserver(() => {
    if (log.at(-1)[0] !== conn.dataset.state) log.push([conn.dataset.state, Date.now()]);
  }).observe(conn, { attributes: true });
}"""

CLICK_STAMP = """(selector) => document.addEventListener("click", (event) => {
  if (event.target.closest(selector)) (window.snagMarks ??= {}).click = Date.now();
}, { capture: true })"""


@dataclass
class Agent:
    name: str
    password: str
    api: httpx.Client
    page: Page


@dataclass
class Desk:
    """The browser, the server, and what the run has seen."""

    browser: Browser
    database_url: str
    log: Path
    server: SnagProcess
    delays: dict[str, float] = field(default_factory=dict)
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_reports: list[str] = field(default_factory=list)
    shots: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    def new_page(self) -> Page:
        context = self.browser.new_context(viewport={"width": 1360, "height": 860})
        return self.watch(context.new_page())

    def watch(self, page: Page) -> Page:
        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        def on_console(message: Any) -> None:
            if "Content Security Policy" in message.text:
                self.csp_reports.append(message.text)

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", on_console)
        page.set_default_timeout(WAIT_MS)
        return page

    def shot(self, page: Page, name: str) -> None:
        self.shots += 1
        page.screenshot(path=SHOTS / f"{self.shots:02d}-{name}.png", full_page=True)

    def record(self, what: str, page: Page, mark: str, since_ms: float) -> None:
        stamped = page.evaluate("(name) => window.snagMarks[name]", mark)
        assert stamped is not None, f"no stamp for {mark}"
        self.delays[what] = stamped - since_ms

    def assert_safe(self, *pages: Page) -> None:
        """The payload ran nowhere: no dialog, no page error, no <img> element at all."""
        assert self.dialogs == []
        assert self.page_errors == []
        for page in pages:
            expect(page.locator("img")).to_have_count(0)


def arm(page: Page, name: str, selector: str, text: str, present: bool = True) -> None:
    page.evaluate(ARM, [name, selector, text, present])


def now_ms() -> float:
    return time.time() * 1000


def row(page: Page, ticket: int) -> Any:
    return page.locator(f'tr[data-ticket="{ticket}"]')


def expect_rows(page: Page, ids: list[int]) -> None:
    """The list shows exactly these tickets, in this order."""
    numbers = page.locator("tbody tr .ticket-id")
    if ids:
        expect(numbers).to_have_text([f"#{i}" for i in ids])
    else:
        expect(numbers).to_have_count(0)


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["tickets"]]


def expect_live(page: Page, timeout: float = WAIT_MS) -> None:
    expect(page.locator(".conn")).to_have_attribute("data-state", "live", timeout=timeout)


# Setup


def add_user(database_url: str, name: str, password: str) -> str:
    done = snag(
        database_url, "user", "add", name, "--role", "agent", "--password-stdin", stdin=password
    )
    assert done.returncode == 0, done.stderr
    return token_of(done.stdout)


def open_ticket(api: httpx.Client, subject: str, **fields: Any) -> int:
    body = {"command": "open", "subject": subject, "body": f"About: {subject}"}
    body.update({"requester": "dana@example.com", **fields})
    response = api.post("/api/commands", json=body)
    assert response.status_code == 201, response.text
    ticket: int = response.json()["ticket"]["id"]
    return ticket


def send(api: httpx.Client, name: str, ticket: int, **fields: Any) -> httpx.Response:
    response = api.post("/api/commands", json={"command": name, "ticket": ticket, **fields})
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    expect.set_options(timeout=WAIT_MS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    log = tmp_path / "serve.log"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        desk = Desk(browser, database_url, log, SnagProcess(database_url, log))
        try:
            yield desk
        finally:
            browser.close()
            desk.server.stop()  # the one running now, after any restart


# The run


def test_two_agents_work_the_queue_live(desk: Desk) -> None:
    tokens = {
        name: add_user(desk.database_url, name, f"{name}-password")
        for name in ("alice", "bob", PAYLOAD)
    }
    clients = {
        name: httpx.Client(
            base_url=desk.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        for name, token in tokens.items()
    }
    try:
        tickets = seed(clients["alice"], clients["bob"])
        alice = Agent("alice", "alice-password", clients["alice"], desk.new_page())
        bob = Agent("bob", "bob-password", clients["bob"], desk.new_page())
        log_in(desk, alice, wrong_first=True)
        log_in(desk, bob)
        filters(desk, alice)
        claim(desk, alice, bob, tickets["vpn"])
        lose_race(desk, alice, bob, tickets["race"])
        take_next(desk, alice, bob)
        ticket_commands(desk, alice, bob, tickets["vpn"])
        presence(desk, alice, bob, tickets["vpn"])
        payload_stays_text(desk, alice, bob, clients[PAYLOAD], tokens[PAYLOAD])
        restart(desk, alice, bob, tickets["vpn"])
        log_out(desk, alice, bob)
        desk.assert_safe(alice.page, bob.page)
        assert desk.csp_reports == []
    finally:
        for client in clients.values():
            client.close()
    report = "\n".join(f"  {ms:7.0f}  {what}" for what, ms in desk.delays.items())
    print(f"\ndashboard delays seen in the browser (ms):\n{report}")
    (SHOTS.parent / "dashboard-delays.txt").write_text(report + "\n")


def seed(alice: httpx.Client, bob: httpx.Client) -> dict[str, int]:
    tickets = {
        "fire": open_ticket(alice, "Printer on fire", priority="urgent", tags=["hardware"]),
        "vpn": open_ticket(alice, "VPN drops every hour", tags=["vpn"]),
        "reset": open_ticket(alice, "Password reset loop", priority="high", tags=["login", "vip"]),
        "invoice": open_ticket(alice, "Invoice missing", queue="billing", tags=["invoice", "vip"]),
        "race": open_ticket(alice, "Export hangs at 99%", priority="low"),
        "2fa": open_ticket(alice, "Two-factor codes late", priority="high", tags=["vip"]),
        "refund": open_ticket(alice, "Refund for unused seats", queue="billing", priority="high"),
    }
    send(bob, "claim", tickets["reset"])
    send(bob, "set_status", tickets["reset"], status="pending")
    send(alice, "claim", tickets["2fa"])
    return tickets


def log_in(desk: Desk, agent: Agent, wrong_first: bool = False) -> None:
    page = agent.page
    page.goto(desk.url)
    expect(page.locator(".login-card")).to_be_visible()
    if wrong_first:
        desk.shot(page, "login-page")
        page.fill("#login-name", agent.name)
        page.fill("#login-password", "not the password")
        page.click("button[type=submit]")
        expect(page.locator(".login-card .form-error")).to_have_text("Wrong name or password.")
        desk.shot(page, "login-refused")
    page.fill("#login-name", agent.name)
    page.fill("#login-password", agent.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"#/queue/support$"))
    expect(page.locator(".topbar .me")).to_have_text(agent.name)
    expect_live(page)
    desk.shot(page, f"{agent.name}-queue")


def filters(desk: Desk, alice: Agent) -> None:
    page, api = alice.page, alice.api
    expect_rows(page, ids(api.get("/api/queues/support")))

    page.select_option("#filter-status", "pending")
    expect(page).to_have_url(re.compile(r"status=pending"))
    expect_rows(page, ids(api.get("/api/queues/support?status=pending")))
    expect(page.locator("tbody .col-status")).to_have_text(["Pending"])
    page.select_option("#filter-status", "new")
    expect_rows(page, ids(api.get("/api/queues/support?status=new")))
    desk.shot(page, "filter-status-new")
    page.select_option("#filter-status", "")

    for choice in ("me", "none"):
        page.select_option("#filter-assignee", choice)
        expect(page).to_have_url(re.compile(f"assignee={choice}"))
        expect_rows(page, ids(api.get(f"/api/queues/support?assignee={choice}")))
    expect(page.locator("tbody .col-assignee").first).to_have_text("Unassigned")
    page.select_option("#filter-assignee", "name")
    page.fill("#filter-assignee-name", "bob")
    page.press("#filter-assignee-name", "Enter")
    expect(page).to_have_url(re.compile(r"assignee=bob"))
    expect_rows(page, ids(api.get("/api/queues/support?assignee=bob")))
    expect(page.locator("tbody .col-assignee")).to_have_text(["bob"])
    desk.shot(page, "filter-assignee-bob")
    page.select_option("#filter-assignee", "")

    page.fill("#filter-tag", "vip")
    page.press("#filter-tag", "Enter")
    expect(page).to_have_url(re.compile(r"tag=vip"))
    vip = ids(api.get("/api/queues/support?tag=vip"))
    assert len(vip) == 2
    expect_rows(page, vip)
    page.select_option("#filter-status", "open")
    expect_rows(page, ids(api.get("/api/queues/support?tag=vip&status=open")))
    desk.shot(page, "filter-tag-and-status")
    page.get_by_role("link", name="Clear filters").click()
    expect_rows(page, ids(api.get("/api/queues/support")))

    queues = {q["name"]: q for q in api.get("/api/queues").json()["queues"]}
    billing = page.locator('.sidebar [data-queue="billing"]')
    expect(billing.locator(".nav-count")).to_have_text(str(queues["billing"]["total"]))
    expect(page.locator('.counts [data-status="new"] strong')).to_have_text(
        str(queues["support"]["counts"]["new"])
    )
    billing.click()
    expect(page.locator("h1")).to_have_text("billing")
    expect_rows(page, ids(api.get("/api/queues/billing")))
    page.click('.sidebar [data-queue="#mine"]')
    expect(page.locator("h1")).to_have_text("My tickets")
    expect_rows(page, ids(api.get("/api/tickets?assignee=me")))
    desk.shot(page, "my-tickets")
    page.click('.sidebar [data-queue="support"]')
    expect_live(page)


def claim(desk: Desk, alice: Agent, bob: Agent, ticket: int) -> None:
    expect(row(bob.page, ticket).locator("button.claim")).to_be_visible()
    arm(bob.page, "claimed", f'tr[data-ticket="{ticket}"] .col-assignee', "alice")
    alice.page.evaluate(TRACE, ticket)
    alice.page.evaluate(CLICK_STAMP, "button.claim")

    row(alice.page, ticket).locator("button.claim").click()
    expect(row(bob.page, ticket).locator(".col-assignee")).to_have_text("alice")
    expect(row(bob.page, ticket).locator("button.claim")).to_have_count(0)
    expect(row(alice.page, ticket)).to_have_attribute("data-settled", "true")
    expect(row(alice.page, ticket).locator(".col-assignee")).to_have_text("alice")
    clicked = alice.page.evaluate("() => window.snagMarks.click")
    desk.record("claim: alice clicks Claim -> bob's row shows alice", bob.page, "claimed", clicked)

    # Settled rows do not flicker: once "Claim" is pressed it never comes back.
    trace = alice.page.evaluate("() => window.snagTrace")
    assert trace[0] == "Unassigned|Claim", trace
    assert trace[-1] == "alice|", trace
    assert all(not state.endswith("|Claim") for state in trace[1:]), trace
    assert "Unassigned|" not in trace[trace.index(next(s for s in trace if "alice" in s)) :]
    desk.shot(bob.page, "bob-sees-alice-claim")


def lose_race(desk: Desk, alice: Agent, bob: Agent, ticket: int) -> None:
    """Bob presses Claim on a row he sees free; alice's claim lands just before his."""

    def alice_first(route: Route, request: Request) -> None:
        if f'"ticket":{ticket}' in (request.post_data or "").replace(" ", ""):
            send(alice.api, "claim", ticket)
        route.continue_()

    bob.page.route("**/api/commands", alice_first)
    try:
        row(bob.page, ticket).locator("button.claim").click()
        expect(row(bob.page, ticket).locator(".notice")).to_have_text("alice got it first")
    finally:
        bob.page.unroute("**/api/commands")
    expect(row(bob.page, ticket).locator("button.claim")).to_have_count(0)
    expect(row(bob.page, ticket).locator(".col-assignee")).to_have_text("alice")
    expect(row(bob.page, ticket)).to_have_attribute("data-settled", "true")
    assert "already_claimed" not in row(bob.page, ticket).inner_text()
    desk.shot(bob.page, "bob-loses-race")


def take_next(desk: Desk, alice: Agent, bob: Agent) -> None:
    expected = ids(bob.api.get("/api/queues/support?assignee=none"))[0]
    arm(alice.page, "next", f'tr[data-ticket="{expected}"] .col-assignee', "bob")
    started = now_ms()
    bob.page.get_by_role("button", name="Next ticket").click()
    expect(bob.page).to_have_url(re.compile(f"#/ticket/{expected}$"))
    expect(bob.page.locator(".assignee-name")).to_have_text("bob")
    expect(row(alice.page, expected).locator(".col-assignee")).to_have_text("bob")
    desk.record(
        "next: bob presses Next ticket -> alice's row shows bob", alice.page, "next", started
    )
    desk.shot(bob.page, "bob-next-ticket")

    bob.page.click("a.back")
    assert ids(bob.api.get("/api/queues/support?assignee=none")) == []
    bob.page.get_by_role("button", name="Next ticket").click()
    expect(bob.page.locator(".toast")).to_have_text("No unassigned tickets are waiting in support")
    expect(bob.page).to_have_url(re.compile(r"#/queue/support$"))
    desk.shot(bob.page, "bob-queue-empty")


def ticket_commands(desk: Desk, alice: Agent, bob: Agent, ticket: int) -> None:
    """Every ticket command from alice's ticket page; bob, on the same page, sees each."""
    row(alice.page, ticket).locator("a.subject-link").click()
    row(bob.page, ticket).locator("a.subject-link").click()
    a, b = alice.page, bob.page
    for page in (a, b):
        expect(page.locator(".ticket-title .subject")).to_have_text("VPN drops every hour")
        expect_live(page)
    settled = a.locator('.ticket-page[data-settled="true"]')

    def reply(kind: str, text: str) -> None:
        a.locator(f'.kinds input[value="{kind}"]').check(force=True)
        a.fill("#reply-body", text)
        a.click(".reply button[type=submit]")
        expect(a.locator(".messages li").last).to_contain_text(text)
        expect(settled).to_have_count(1)

    arm(b, "comment", ".messages li", "We are on it")
    a.evaluate(CLICK_STAMP, ".reply button[type=submit]")
    reply("public", "We are on it")
    expect(b.locator(".messages li").last).to_contain_text("We are on it")
    clicked = a.evaluate("() => window.snagMarks.click")
    desk.record("comment: alice clicks Send -> bob's ticket page shows it", b, "comment", clicked)
    reply("internal", "Their router firmware is ancient")
    reply("requester", "It dropped again at noon")
    kinds = a.locator(".messages li")
    expect(kinds).to_have_count(4)
    assert [kinds.nth(i).get_attribute("data-kind") for i in range(4)] == [
        "requester",
        "public",
        "internal",
        "requester",
    ]
    expect(kinds.nth(2).locator(".label")).to_have_text("Internal note")
    expect(kinds.nth(1).locator(".label")).to_have_text("Public reply")
    expect(kinds.nth(3).locator(".label")).to_have_text("Requester reply")
    expect(b.locator(".messages li")).to_have_count(4)
    desk.shot(a, "ticket-conversation")

    a.select_option("#ticket-priority", "urgent")
    expect(b.locator(".meta .badge")).to_have_text("Urgent")
    a.click(".ticket-title button")
    a.fill("#subject-input", "VPN drops every hour, on the hour")
    a.press("#subject-input", "Enter")
    expect(b.locator(".ticket-title .subject")).to_have_text("VPN drops every hour, on the hour")
    a.fill("#tag-input", "escalated")
    a.press("#tag-input", "Enter")
    expect(b.locator(".tags .tag > span")).to_have_text(["vpn", "escalated"])
    expect(settled).to_have_count(1)
    a.click('button[aria-label="Remove tag vpn"]')
    expect(b.locator(".tags .tag > span")).to_have_text(["escalated"])
    for queue in ("billing", "support"):
        expect(settled).to_have_count(1)
        a.fill("#move-queue", queue)
        a.press("#move-queue", "Enter")
        expect(b.locator(".queue-name")).to_have_text(queue)
        expect(a.locator("a.back")).to_have_text(f"← {queue}")
    for status in ("pending", "solved", "closed", "open"):
        expect(settled).to_have_count(1)
        a.select_option("#ticket-status", status)
        expect(b.locator(".meta .status")).to_have_text(status.capitalize())
    expect(settled).to_have_count(1)
    a.get_by_role("button", name="Release").click()
    expect(b.locator(".assignee-name")).to_have_text("Unassigned")
    expect(settled).to_have_count(1)
    a.locator(".assignee-line").get_by_role("button", name="Claim").click()
    expect(b.locator(".assignee-name")).to_have_text("alice")
    expect(settled).to_have_count(1)
    a.fill("#assign-name", "bob")
    a.press("#assign-name", "Enter")
    expect(b.locator(".assignee-name")).to_have_text("bob")
    expect(settled).to_have_count(1)

    history = {e["type"] for e in alice.api.get(f"/api/tickets/{ticket}/history").json()["events"]}
    assert len(history) == 11  # every kind of ticket event
    for page in (a, b):
        for kind in history:
            expect(page.locator(f'.history li[data-type="{kind}"]').first).to_be_visible()
    desk.shot(a, "ticket-after-every-command")
    desk.shot(b, "bob-watches-the-ticket")


def presence(desk: Desk, alice: Agent, bob: Agent, ticket: int) -> None:
    a = alice.page
    expect(a.locator(".presence-bar")).to_have_text("bob is viewing")
    arm(a, "replying", ".presence-bar", "bob is replying")
    started = now_ms()
    bob.page.locator("#reply-body").press_sequentially("Hi Dana, ")
    expect(a.locator(".presence-bar")).to_have_text("bob is replying")
    desk.record("presence: bob types -> alice sees 'bob is replying'", a, "replying", started)
    desk.shot(a, "alice-sees-bob-replying")

    arm(a, "gone", ".presence-bar", "bob", present=False)
    started = now_ms()
    bob.page.close()
    expect(a.locator(".presence-bar")).to_have_text("")
    desk.record("presence: bob's tab closes -> alice's 'bob is' clears", a, "gone", started)

    bob.page = desk.watch(bob.page.context.new_page())
    bob.page.goto(desk.url)
    expect(bob.page).to_have_url(re.compile(r"#/queue/support$"))
    expect_live(bob.page)
    expect(row(bob.page, ticket).locator(".col-assignee")).to_have_text("bob")


def payload_stays_text(
    desk: Desk, alice: Agent, bob: Agent, mallory: httpx.Client, mallory_token: str
) -> None:
    """The payload as subject, body, requester, tag, comments and a user name: text only."""
    a = alice.page
    a.click("a.back")
    a.get_by_role("button", name="New ticket").click()
    a.fill("#new-subject", PAYLOAD)
    a.fill("#new-requester", PAYLOAD)
    a.fill("#new-body", PAYLOAD)
    a.fill("#new-tags", PAYLOAD)
    a.click(".dialog button[type=submit]")
    expect(a).to_have_url(re.compile(r"#/ticket/\d+$"))
    ticket = int(a.url.rsplit("/", 1)[1])
    expect(a.locator(".ticket-title .subject")).to_have_text(PAYLOAD)
    a.fill("#reply-body", PAYLOAD)
    a.click(".reply button[type=submit]")
    expect(a.locator(".messages li")).to_have_count(2)

    send(mallory, "claim", ticket)
    send(mallory, "comment", ticket, body=f"{PAYLOAD} here")
    viewer = EventStream(desk.url, mallory_token, {"ticket": ticket})
    try:
        expect(a.locator(".presence-bar")).to_have_text(f"{PAYLOAD} is viewing")
        expect(a.locator(".assignee-name")).to_have_text(PAYLOAD)
        for selector in (".meta .requester", ".tags .tag span", ".message-head .author"):
            expect(a.locator(selector).first).to_have_text(PAYLOAD)
        expect(a.locator(".message-body").first).to_have_text(PAYLOAD)
        expect(a.locator(".message-body").last).to_have_text(f"{PAYLOAD} here")
        expect(a.locator('.history li[data-type="TicketClaimed"]')).to_contain_text(PAYLOAD)
        listed = row(bob.page, ticket)
        expect(listed.locator(".subject")).to_have_text(PAYLOAD)
        expect(listed.locator(".requester")).to_have_text(PAYLOAD)
        expect(listed.locator(".tag")).to_have_text(PAYLOAD)
        expect(listed.locator(".col-assignee")).to_have_text(PAYLOAD)
        desk.shot(a, "payload-ticket-page")
        desk.shot(bob.page, "payload-in-bobs-list")
    finally:
        viewer.close()

    page = desk.new_page()
    try:
        page.goto(desk.url)
        page.fill("#login-name", PAYLOAD)
        page.fill("#login-password", f"{PAYLOAD}-password")
        page.click("button[type=submit]")
        expect(page.locator(".topbar .me")).to_have_text(PAYLOAD)
        page.click('.sidebar [data-queue="#mine"]')
        expect(row(page, ticket).locator(".subject")).to_have_text(PAYLOAD)
        desk.shot(page, "payload-user-logged-in")
        desk.assert_safe(page, a, bob.page)
    finally:
        page.context.close()
    a.click("a.back")
    expect_live(a)


def restart(desk: Desk, alice: Agent, bob: Agent, ticket: int) -> None:
    """Kill `snag serve` under both pages, start a new one on the same port: both resync."""
    alice.page.click(f'tr[data-ticket="{ticket}"] a.subject-link')
    expect(alice.page.locator(".ticket-title .subject")).to_contain_text("on the hour")
    for page in (alice.page, bob.page):
        expect_live(page)
        page.evaluate("() => { window.snagNotReloaded = true; }")

    for page in (alice.page, bob.page):
        page.evaluate(CONNECTION_LOG)
    killed = now_ms()
    desk.server.kill()
    for page in (alice.page, bob.page):
        expect(page.locator(".conn")).to_have_attribute("data-state", "reconnecting")
    desk.shot(bob.page, "bob-reconnecting")
    desk.server = SnagProcess(desk.database_url, desk.log, port=desk.server.port)
    ready = now_ms()
    for agent in (alice, bob):
        expect_live(agent.page, RESTART_WAIT_MS)
        log = agent.page.evaluate("() => window.snagConnection")
        assert [state for state, _ in log] == ["live", "reconnecting", "live"], log
        noticed, live = log[1][1], log[2][1]
        desk.delays[f"restart: kill -> {agent.name}'s page shows reconnecting"] = noticed - killed
        desk.delays[f"restart: kill -> {agent.name}'s page live again"] = live - killed
    desk.delays["restart: kill -> new server answers /healthz"] = ready - killed

    arm(alice.page, "after", ".messages li", "Back after the restart")
    arm(bob.page, "after", ".subject", "Opened after the restart")
    started = now_ms()
    send(alice.api, "comment", ticket, body="Back after the restart")
    fresh = open_ticket(alice.api, "Opened after the restart", priority="urgent")
    expect(alice.page.locator(".messages li").last).to_contain_text("Back after the restart")
    expect(row(bob.page, fresh).locator(".subject")).to_have_text("Opened after the restart")
    desk.record("after restart: comment -> alice's ticket page", alice.page, "after", started)
    desk.record("after restart: new ticket -> bob's list", bob.page, "after", started)
    for page in (alice.page, bob.page):
        assert page.evaluate("() => window.snagNotReloaded") is True
    desk.shot(alice.page, "alice-after-restart")
    desk.shot(bob.page, "bob-after-restart")


def log_out(desk: Desk, alice: Agent, bob: Agent) -> None:
    for agent in (alice, bob):
        agent.page.get_by_role("button", name="Log out").click()
        expect(agent.page.locator(".login-card .form-note")).to_have_text("You have logged out.")
        agent.page.reload()
        expect(agent.page.locator(".login-card")).to_be_visible()
        expect(agent.page.locator(".topbar")).to_have_count(0)
    desk.shot(alice.page, "logged-out")
