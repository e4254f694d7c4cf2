// The queue page: one queue (or "My tickets") as a live list with filters.
//
// The list is fetched with its log position, then the stream resumes after that position,
// so every change arrives once, in order, and rows update in place. A row is *settled*
// once the stream has reached the position its command returned: until then it keeps
// showing "Claiming…", so a frame from before the claim cannot bring the Claim button back.

import { command, get, query } from "./api.js";
import { fill, h, option } from "./dom.js";
import { LIVE_STATUSES, ago, capitalize, compareRows, explain, presenceText } from "./format.js";
import { LiveStream } from "./live.js";
import { newTicketDialog } from "./new_ticket.js";

const PAGE_SIZE = 200;

export function queuePage(context, main, queue, params) {
  const { session, shell, navigate } = context;
  const mine = queue === null;
  const filters = {
    status: params.status ?? "",
    assignee: mine ? "me" : (params.assignee ?? ""),
    tag: params.tag ?? "",
  };
  const entries = new Map(); // ticket id -> {row, pendingUntil, notice, el}
  let position = 0;
  let nextCursor = null;

  function matches(row) {
    if (!mine && row.queue !== queue) return false;
    if (filters.status && row.status !== filters.status) return false;
    if (filters.tag && !row.tags.includes(filters.tag)) return false;
    switch (filters.assignee) {
      case "":
        return true;
      case "me":
        return row.assignee === session.name;
      case "none":
        return row.assignee === null;
      default:
        return row.assignee === filters.assignee;
    }
  }

  // Rows

  const tbody = h("tbody");
  const emptyNote = h("p", { class: "empty" });
  const more = h("button", { class: "button", type: "button", hidden: true, onclick: loadMore }, "Load more");

  function renderRow(entry) {
    const row = entry.row;
    const pending = entry.pendingUntil !== null;
    let action;
    if (pending) {
      action = h("button", { class: "button small", type: "button", disabled: true }, "Claiming…");
    } else if (row.assignee === null) {
      action = h("button", { class: "button small primary claim", type: "button", onclick: () => claim(entry) }, "Claim");
    }
    const assignee = row.assignee === null
      ? h("span", { class: "muted" }, "Unassigned")
      : h("span", { class: row.assignee === session.name ? "person me" : "person" }, row.assignee);
    const el = h(
      "tr",
      { dataset: { ticket: row.id, settled: String(!pending) } },
      h("td", { class: "col-priority" }, h("span", { class: `badge priority-${row.priority}` }, capitalize(row.priority))),
      h(
        "td",
        { class: "col-subject" },
        h("a", { class: "subject-link", href: `#/ticket/${row.id}` }, h("span", { class: "ticket-id" }, `#${row.id}`), h("span", { class: "subject" }, row.subject)),
        h(
          "div",
          { class: "sub" },
          h("span", { class: "requester" }, row.requester),
          mine ? h("span", { class: "queue-name" }, row.queue) : null,
          row.tags.map((tag) => h("span", { class: "tag" }, tag)),
          row.presence
            .filter((p) => p.name !== session.name)
            .map((p) => h("span", { class: `presence ${p.state}` }, presenceText(p))),
        ),
      ),
      h("td", { class: "col-status" }, h("span", { class: `status status-${row.status}` }, capitalize(row.status))),
      h("td", { class: "col-assignee" }, assignee),
      h("td", { class: "col-updated", title: row.updated_at }, ago(row.updated_at)),
      h("td", { class: "col-action" }, action, entry.notice ? h("span", { class: "notice", role: "alert" }, entry.notice) : null),
    );
    entry.el?.replaceWith(el);
    entry.el = el;
    return el;
  }

  function place(entry) {
    const sorted = [...entries.values()].sort((a, b) => compareRows(a.row, b.row));
    const next = sorted[sorted.indexOf(entry) + 1];
    if (next?.el && next.el.parentNode === tbody) {
      if (entry.el.nextSibling !== next.el) tbody.insertBefore(entry.el, next.el);
    } else if (tbody.lastChild !== entry.el) tbody.append(entry.el);
  }

  function remove(id) {
    const entry = entries.get(id);
    if (!entry) return;
    entry.el.remove();
    entries.delete(id);
  }

  function upsert(row) {
    const entry = entries.get(row.id);
    if (entry && entry.row.version > row.version) return; // an older copy (a later page)
    if (entry) {
      entry.row = row;
      renderRow(entry);
      place(entry);
    } else {
      const fresh = { row, pendingUntil: null, notice: null, el: null };
      entries.set(row.id, fresh);
      renderRow(fresh);
      place(fresh);
    }
  }

  function showEmpty() {
    const filtered = filters.status || filters.tag || (!mine && filters.assignee);
    emptyNote.textContent = filtered
      ? "No tickets match these filters."
      : mine
        ? "Nothing is assigned to you. Take the next ticket from a queue."
        : "This queue is clear. New tickets will appear here as they arrive.";
    emptyNote.hidden = entries.size > 0;
    more.hidden = nextCursor === null;
  }

  /** The stream has reached `position`: rows whose command it covers are settled. */
  function settle() {
    for (const entry of entries.values()) {
      if (entry.pendingUntil !== null && entry.pendingUntil <= position) {
        entry.pendingUntil = null;
        renderRow(entry);
      }
    }
  }

  // Loading and the stream

  function listUrl(cursor = null) {
    const params = { status: filters.status, tag: filters.tag, limit: PAGE_SIZE, cursor };
    if (mine) return `/api/tickets${query({ ...params, assignee: "me" })}`;
    return `/api/queues/${encodeURIComponent(queue)}${query({ ...params, assignee: filters.assignee })}`;
  }

  async function load() {
    const list = await get(listUrl());
    const previous = new Map(entries);
    entries.clear();
    tbody.replaceChildren();
    position = list.position;
    nextCursor = list.next_cursor;
    for (const row of list.tickets) {
      const before = previous.get(row.id);
      const entry = { row, pendingUntil: before?.pendingUntil ?? null, notice: before?.notice ?? null, el: null };
      entries.set(row.id, entry);
      tbody.append(renderRow(entry));
    }
    settle();
    showEmpty();
    shell.countsChanged();
    return mine ? `/api/stream?after=${position}` : `/api/stream${query({ queue, after: position })}`;
  }

  async function loadMore() {
    if (nextCursor === null) return;
    more.disabled = true;
    try {
      const list = await get(listUrl(nextCursor));
      nextCursor = list.next_cursor;
      for (const row of list.tickets) upsert(row);
    } catch (error) {
      shell.toast(explain(error), "error");
    } finally {
      more.disabled = false;
      showEmpty();
    }
  }

  function onTicket(data, id) {
    if (id !== null) position = Math.max(position, id);
    if (data.removed || !matches(data)) remove(data.id);
    else upsert(data);
    settle();
    showEmpty();
    shell.countsChanged();
  }

  function onPresence({ ticket, presence }) {
    const entry = entries.get(ticket);
    if (!entry) return;
    entry.row = { ...entry.row, presence };
    renderRow(entry);
  }

  // Commands

  async function claim(entry) {
    const id = entry.row.id;
    entry.pendingUntil = Infinity;
    entry.notice = null;
    renderRow(entry);
    let settleAt = null;
    let notice = null;
    let taker = null;
    try {
      settleAt = (await command("claim", { ticket: id })).position;
    } catch (error) {
      notice = explain(error);
      if (error.code === "already_claimed") taker = error.details.assignee;
    }
    const current = entries.get(id);
    if (!current) return; // the row left this view (it no longer matches the filters)
    current.pendingUntil = settleAt !== null && settleAt > position ? settleAt : null;
    current.notice = notice;
    if (taker !== null && current.row.assignee === null) {
      // The refusal names who holds it; the stream is about to say the same.
      current.row = { ...current.row, assignee: taker };
    }
    renderRow(current);
  }

  const nextButton = h("button", { class: "button primary", type: "button", onclick: takeNext }, "Next ticket");

  async function takeNext() {
    nextButton.disabled = true;
    try {
      const { data } = await command("next", { queue });
      navigate(`#/ticket/${data.ticket.id}`);
    } catch (error) {
      shell.toast(explain(error, { queue }), error.code === "queue_empty" ? "info" : "error");
    } finally {
      nextButton.disabled = false;
    }
  }

  // Header and filters

  const counts = h("div", { class: "counts" });
  const stopCounts = shell.onCounts((queues) => {
    const found = mine ? null : queues.find((q) => q.name === queue);
    fill(
      counts,
      mine
        ? null
        : LIVE_STATUSES.map((status) =>
            h("span", { class: `count count-${status}`, dataset: { status } }, h("strong", {}, String(found?.counts[status] ?? 0)), ` ${status}`),
          ),
    );
  });

  const title = mine ? "My tickets" : queue;
  document.title = `${title} · Snag`;
  fill(
    main,
    h(
      "div",
      { class: "page queue-page" },
      h(
        "div",
        { class: "page-head" },
        h("div", {}, h("h1", {}, title), counts),
        h(
          "div",
          { class: "actions" },
          h("button", { class: "button", type: "button", onclick: () => newTicketDialog(mine ? "support" : queue, navigate) }, "New ticket"),
          mine ? null : nextButton,
        ),
      ),
      filterBar(),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "tickets" },
          h("thead", {}, h("tr", {}, ["Priority", "Ticket", "Status", "Assignee", "Updated", ""].map((c) => h("th", { scope: "col" }, c)))),
          tbody,
        ),
        emptyNote,
      ),
      h("div", { class: "list-foot" }, more),
    ),
  );

  function filterBar() {
    const kind = ["", "me", "none"].includes(filters.assignee) ? filters.assignee : "name";
    const status = h(
      "select",
      { id: "filter-status", onchange: apply },
      option("", "Any status"),
      LIVE_STATUSES.map((s) => option(s, capitalize(s), filters.status === s)),
    );
    const assignee = h(
      "select",
      { id: "filter-assignee", onchange: apply },
      option("", "Anyone", kind === ""),
      option("me", "Me", kind === "me"),
      option("none", "Unassigned", kind === "none"),
      option("name", "Agent…", kind === "name"),
    );
    const name = h("input", {
      id: "filter-assignee-name",
      placeholder: "Agent name",
      value: kind === "name" ? filters.assignee : "",
      hidden: kind !== "name",
      "aria-label": "Agent name",
    });
    const tag = h("input", { id: "filter-tag", placeholder: "Any tag", value: filters.tag, "aria-label": "Tag" });

    function apply(event) {
      event?.preventDefault();
      let who = assignee.value;
      if (who === "name") {
        name.hidden = false;
        who = name.value.trim();
        if (!who) {
          name.focus();
          return;
        }
      }
      const chosen = { status: status.value, assignee: mine ? "" : who, tag: tag.value.trim() };
      navigate(mine ? `#/mine${query(chosen)}` : `#/queue/${encodeURIComponent(queue)}${query(chosen)}`);
    }

    return h(
      "form",
      { class: "filters", onsubmit: apply, role: "search" },
      h("label", { class: "filter" }, h("span", {}, "Status"), status),
      mine ? null : h("label", { class: "filter" }, h("span", {}, "Assignee"), assignee),
      mine ? null : name,
      h("label", { class: "filter" }, h("span", {}, "Tag"), tag),
      h("button", { class: "button", type: "submit" }, "Apply"),
      filters.status || filters.tag || (!mine && filters.assignee)
        ? h("a", { class: "clear", href: mine ? "#/mine" : `#/queue/${encodeURIComponent(queue)}` }, "Clear filters")
        : null,
    );
  }

  const live = new LiveStream({
    prepare: load,
    handlers: { ticket: onTicket, presence: onPresence },
    onState: (state, detail) => shell.setConnection(state, detail),
  }).start();
  const ages = setInterval(() => {
    for (const entry of entries.values()) {
      entry.el.querySelector(".col-updated").textContent = ago(entry.row.updated_at);
    }
  }, 30_000);

  return () => {
    live.stop();
    clearInterval(ages);
    stopCounts();
  };
}
