// The ticket page: the ticket, its conversation and history, every command, and presence.
//
// The stream opens first (which marks us as viewing), then the ticket and its history are
// fetched, so no event can fall between the two. Each event is added to the history and
// triggers a refetch of the ticket; a ticket is only replaced by one of a later version,
// so an answer that arrives late never rolls the page back. After a command the actions
// stay disabled until the stream reaches the position the command returned (settled).

import { command, get, request } from "./api.js";
import { fill, h, option } from "./dom.js";
import { PRIORITIES, STATUSES, TRANSITIONS, capitalize, clock, describeEvent, explain, presenceText } from "./format.js";
import { LiveStream } from "./live.js";

const REPLYING_RENEW_MS = 8000; // the server forgets `replying` after 20 s

const KINDS = {
  public: { label: "Public reply", placeholder: "Reply to the requester…", send: "Send reply" },
  internal: { label: "Internal note", placeholder: "Note for agents only; the requester never sees it…", send: "Add note" },
  requester: { label: "Requester's reply", placeholder: "Log what the requester answered (by phone or email)…", send: "Log reply" },
};

export function ticketPage(context, main, id) {
  const { session, shell } = context;
  let ticket = null;
  const history = new Map(); // position -> event
  let presence = [];
  let streamPosition = 0;
  let pendingUntil = null;
  let refetchTimer = null;
  let replyingSince = 0;

  // Header

  const back = h("a", { class: "back", href: "#/mine" }, "←");
  const subject = h("span", { class: "subject" });
  const editSubject = h("button", { class: "button ghost small", type: "button", onclick: () => toggleSubject(true) }, "Edit");
  const subjectInput = h("input", { id: "subject-input", maxlength: 200, "aria-label": "Subject" });
  const subjectForm = h(
    "form",
    { class: "subject-form", hidden: true, onsubmit: saveSubject },
    subjectInput,
    h("button", { class: "button primary small", type: "submit" }, "Save"),
    h("button", { class: "button small", type: "button", onclick: () => toggleSubject(false) }, "Cancel"),
  );
  const title = h("h1", { class: "ticket-title" }, h("span", { class: "ticket-id" }, `#${id}`), subject, editSubject);
  const meta = h("div", { class: "meta" });
  const presenceBar = h("div", { class: "presence-bar", "aria-live": "polite" });

  // Conversation and reply

  const messages = h("ol", { class: "messages" });
  const replyBody = h("textarea", { id: "reply-body", rows: 4, "aria-label": "Message" });
  const sendButton = h("button", { class: "button primary", type: "submit" });
  const kindInputs = Object.entries(KINDS).map(([kind, { label }]) =>
    h(
      "label",
      { class: "kind" },
      h("input", { type: "radio", name: "reply-kind", value: kind, checked: kind === "public", onchange: () => setKind(kind) }),
      h("span", {}, label),
    ),
  );
  const replyFields = h(
    "fieldset",
    { class: "reply-fields" },
    h("div", { class: "kinds", role: "radiogroup", "aria-label": "Kind of message" }, kindInputs),
    replyBody,
    h("div", { class: "reply-actions" }, h("span", { class: "hint" }, "Ctrl+Enter sends"), sendButton),
  );
  const replyForm = h("form", { class: "reply kind-public", onsubmit: sendReply }, replyFields);
  setKind("public");

  // Properties and actions

  const statusSelect = h("select", { id: "ticket-status", onchange: () => run("set_status", { status: statusSelect.value }) });
  const prioritySelect = h(
    "select",
    { id: "ticket-priority", onchange: () => run("set_priority", { priority: prioritySelect.value }) },
    PRIORITIES.map((p) => option(p, capitalize(p))),
  );
  const assigneeText = h("span", { class: "assignee-name" });
  const claimButton = h("button", { class: "button small primary", type: "button", onclick: () => run("claim") }, "Claim");
  const releaseButton = h("button", { class: "button small", type: "button", onclick: () => run("release") }, "Release");
  const names = h("datalist", { id: "agent-names" });
  const assignInput = h("input", { id: "assign-name", list: "agent-names", placeholder: "Agent name", "aria-label": "Assign to" });
  const queueText = h("span", { class: "queue-name" });
  const moveInput = h("input", { id: "move-queue", placeholder: "Queue", "aria-label": "Move to queue" });
  const tagList = h("div", { class: "tags" });
  const tagInput = h("input", { id: "tag-input", placeholder: "Add a tag", "aria-label": "Add a tag" });
  const actionError = h("p", { class: "form-error", role: "alert", hidden: true });

  const property = (label, ...content) => h("div", { class: "property" }, h("div", { class: "property-label" }, label), h("div", { class: "property-value" }, content));
  const inline = (onsubmit, input, label) =>
    h("form", { class: "inline-form", onsubmit }, input, h("button", { class: "button small", type: "submit" }, label));

  const closedNote = h("p", { class: "closed-note", hidden: true }, "This ticket is closed. Reopen it to change it.");
  const editable = h(
    "fieldset",
    { class: "editable" },
    property("Priority", prioritySelect),
    property(
      "Assignee",
      h("div", { class: "assignee-line" }, assigneeText, claimButton, releaseButton),
      inline(assign, assignInput, "Assign"),
      names,
    ),
    property("Queue", queueText, inline(move, moveInput, "Move")),
    property("Tags", tagList, inline(addTag, tagInput, "Add")),
  );
  const actions = h(
    "fieldset",
    { class: "properties" },
    h("legend", {}, "Ticket"),
    property("Status", statusSelect, closedNote),
    editable,
    actionError,
  );
  const historyList = h("ol", { class: "history" });

  const page = h(
    "div",
    { class: "page ticket-page", dataset: { settled: "true" } },
    h("div", { class: "ticket-head" }, back, title, subjectForm, meta, presenceBar),
    h(
      "div",
      { class: "ticket-grid" },
      h("section", { class: "conversation", "aria-label": "Conversation" }, messages, replyForm),
      h("div", { class: "side" }, actions, h("section", { class: "card" }, h("h2", {}, "History"), historyList)),
    ),
  );
  const loading = h("p", { class: "empty" }, "Loading the ticket…");
  fill(main, loading);
  document.title = `#${id} · Snag`;

  // Rendering

  function render() {
    if (loading.isConnected) fill(main, page);
    document.title = `#${id} ${ticket.subject} · Snag`;
    back.href = `#/queue/${encodeURIComponent(ticket.queue)}`;
    back.textContent = `← ${ticket.queue}`;
    subject.textContent = ticket.subject;
    fill(
      meta,
      h("span", { class: `status status-${ticket.status}` }, capitalize(ticket.status)),
      h("span", { class: `badge priority-${ticket.priority}` }, capitalize(ticket.priority)),
      h("span", {}, "from ", h("span", { class: "requester" }, ticket.requester)),
      h("span", { class: "muted" }, `opened ${clock(ticket.created_at)}`),
    );

    const allowed = TRANSITIONS[ticket.status];
    fill(statusSelect, STATUSES.map((s) => option(s, capitalize(s), s === ticket.status, s !== ticket.status && !allowed.includes(s))));
    statusSelect.value = ticket.status;
    prioritySelect.value = ticket.priority;
    fill(
      assigneeText,
      ticket.assignee === null ? h("span", { class: "muted" }, "Unassigned") : h("span", { class: "person" }, ticket.assignee),
    );
    claimButton.hidden = ticket.assignee !== null;
    releaseButton.hidden = ticket.assignee === null;
    queueText.textContent = ticket.queue;
    const closed = ticket.status === "closed";
    editable.disabled = closed;
    replyFields.disabled = closed;
    closedNote.hidden = !closed;
    fill(
      tagList,
      ticket.tags.length === 0 ? h("span", { class: "muted" }, "No tags") : null,
      ticket.tags.map((tag) =>
        h(
          "span",
          { class: "tag removable" },
          h("span", {}, tag),
          h("button", { class: "untag", type: "button", title: "Remove tag", "aria-label": `Remove tag ${tag}`, onclick: () => run("untag", { tag }) }, "×"),
        ),
      ),
    );

    fill(
      messages,
      message("requester", ticket.requester, "Original request", ticket.created_at, ticket.body || "(no message)"),
      ticket.comments.map((c) => {
        const kind = c.internal ? "internal" : c.from_requester ? "requester" : "public";
        const label = c.internal ? "Internal note" : c.from_requester ? "Requester reply" : "Public reply";
        return message(kind, c.author, label, c.at, c.body);
      }),
    );
    renderNames();
  }

  function message(kind, author, label, at, body) {
    return h(
      "li",
      { class: `message kind-${kind}`, dataset: { kind } },
      h(
        "div",
        { class: "message-head" },
        h("span", { class: "author" }, author),
        h("span", { class: "label" }, label),
        h("time", { datetime: at }, clock(at)),
      ),
      h("div", { class: "message-body" }, body),
    );
  }

  function renderHistory() {
    const events = [...history.values()].sort((a, b) => b.position - a.position); // newest first
    fill(
      historyList,
      events.map((e) =>
        h(
          "li",
          { dataset: { position: e.position, type: e.type } },
          h("div", {}, h("span", { class: "by" }, e.by), " ", describeEvent(e)),
          h("div", { class: "when" }, `${clock(e.at)} · v${e.version}`),
        ),
      ),
    );
  }

  function renderPresence() {
    const others = presence.filter((p) => p.name !== session.name);
    fill(presenceBar, others.map((p) => h("span", { class: `presence ${p.state}` }, presenceText(p))));
    renderNames();
  }

  function renderNames() {
    const known = new Set([session.name]);
    for (const p of presence) known.add(p.name);
    if (ticket?.assignee) known.add(ticket.assignee);
    for (const c of ticket?.comments ?? []) if (!c.from_requester) known.add(c.author);
    for (const e of history.values()) if (!e.by.startsWith("@")) known.add(e.by);
    fill(names, [...known].sort().map((n) => h("option", { value: n })));
  }

  function show(fresh) {
    if (ticket !== null && fresh.version < ticket.version) return;
    ticket = fresh;
    render();
  }

  function setBusy(busy) {
    page.dataset.settled = String(!busy);
    actions.disabled = busy;
    sendButton.disabled = busy;
  }

  function settle() {
    if (pendingUntil !== null && streamPosition >= pendingUntil) {
      pendingUntil = null;
      setBusy(false);
    }
  }

  // Commands

  async function run(name, fields = {}) {
    setBusy(true);
    actionError.hidden = true;
    try {
      const { data, position } = await command(name, { ticket: id, ...fields });
      for (const event of data.events) history.set(event.position, event);
      show(data.ticket);
      renderHistory();
      if (position !== null && position > streamPosition) pendingUntil = position;
      return true;
    } catch (error) {
      actionError.textContent = explain(error);
      actionError.hidden = false;
      if (ticket !== null) render(); // put the selects back to what the ticket says
      return false;
    } finally {
      if (pendingUntil === null) setBusy(false);
    }
  }

  function toggleSubject(open) {
    subjectForm.hidden = !open;
    title.hidden = open;
    if (open) {
      subjectInput.value = ticket.subject;
      subjectInput.focus();
    }
  }

  async function saveSubject(event) {
    event.preventDefault();
    if (await run("set_subject", { subject: subjectInput.value })) toggleSubject(false);
  }

  async function assign(event) {
    event.preventDefault();
    if (await run("assign", { assignee: assignInput.value.trim() })) assignInput.value = "";
  }

  async function move(event) {
    event.preventDefault();
    if (await run("move", { queue: moveInput.value.trim() })) moveInput.value = "";
  }

  async function addTag(event) {
    event.preventDefault();
    if (await run("tag", { tag: tagInput.value })) tagInput.value = "";
  }

  function currentKind() {
    return kindInputs.map((l) => l.querySelector("input")).find((i) => i.checked).value;
  }

  function setKind(kind) {
    replyForm.className = `reply kind-${kind}`;
    replyBody.placeholder = KINDS[kind].placeholder;
    sendButton.textContent = KINDS[kind].send;
  }

  async function sendReply(event) {
    event.preventDefault();
    const kind = currentKind();
    const sent = await run("comment", {
      body: replyBody.value,
      internal: kind === "internal",
      from_requester: kind === "requester",
    });
    if (sent) {
      replyBody.value = "";
      signal("viewing");
    }
  }

  // Presence: "replying" while there is text being typed, renewed while typing goes on.

  function signal(state) {
    replyingSince = state === "replying" ? Date.now() : 0;
    request("POST", "/api/presence", { ticket: id, state }).catch(() => {});
  }

  replyBody.addEventListener("input", () => {
    const typing = replyBody.value.trim() !== "";
    if (typing && Date.now() - replyingSince > REPLYING_RENEW_MS) signal("replying");
    else if (!typing && replyingSince) signal("viewing");
  });
  replyBody.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) replyForm.requestSubmit();
  });

  // The stream

  function refetchSoon() {
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(() => get(`/api/tickets/${id}`).then(show, () => {}), 10);
  }

  function onEvent(event, position) {
    history.set(event.position, event);
    streamPosition = Math.max(streamPosition, position ?? event.position);
    if (ticket === null || event.version > ticket.version) refetchSoon();
    renderHistory();
    settle();
    shell.countsChanged();
  }

  async function resync() {
    let fetched;
    try {
      fetched = await Promise.all([get(`/api/tickets/${id}`), get(`/api/tickets/${id}/history`)]);
    } catch (error) {
      if (error.status !== 404) throw error;
      fill(main, h("div", { class: "page" }, h("h1", {}, `Ticket #${id}`), h("p", { class: "empty" }, `There is no ticket #${id}.`)));
      setTimeout(() => live.stop());
      return;
    }
    const [fresh, { events }] = fetched;
    for (const event of events) {
      history.set(event.position, event);
      streamPosition = Math.max(streamPosition, event.position);
    }
    show(fresh);
    renderHistory();
    settle();
  }

  const live = new LiveStream({
    // A cheap probe first: EventSource cannot tell a 401 from a server that is down.
    prepare: () => get("/api/session").then(() => `/api/stream?ticket=${id}`),
    opened: resync,
    handlers: {
      event: onEvent,
      presence: (data) => {
        presence = data.presence;
        renderPresence();
      },
    },
    onState: (state, detail) => shell.setConnection(state, detail),
  }).start();

  return () => {
    live.stop();
    clearTimeout(refetchTimer);
  };
}
