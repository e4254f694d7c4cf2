// The frame around every page once logged in: top bar with the connection indicator,
// the sidebar with queues and their counts, and short messages ("toasts").

import { get } from "./api.js";
import { fill, h } from "./dom.js";

const COUNTS_EVERY_MS = 10_000;
const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
};

export class Shell {
  constructor(session, logout) {
    this.session = session;
    this.selected = null;
    this.queues = [];
    this.mine = null;
    this.countListeners = new Set();
    this.refreshTimer = null;

    this.connText = h("span", { class: "conn-text" }, CONNECTION_TEXT.connecting);
    this.conn = h(
      "span",
      { class: "conn", dataset: { state: "connecting" }, title: "Live updates" },
      h("span", { class: "dot", "aria-hidden": "true" }),
      this.connText,
    );
    const topbar = h(
      "header",
      { class: "topbar" },
      h("a", { class: "brand", href: "#/queue/support" }, h("span", { class: "logo" }, "S"), "Snag"),
      this.conn,
      h("span", { class: "spacer" }),
      h("span", { class: "me", title: "Logged in as" }, session.name),
      h("span", { class: "role" }, session.role),
      h("button", { class: "button ghost logout", type: "button", onclick: logout }, "Log out"),
    );
    this.nav = h("nav", { class: "sidebar", "aria-label": "Queues" });
    this.main = h("main", { class: "content" });
    this.toasts = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    this.banner = h(
      "div",
      { class: "banner", role: "status", hidden: true },
      "Lost the connection to Snag. Reconnecting… this page catches up by itself.",
    );
    this.el = h(
      "div",
      { class: "shell" },
      topbar,
      this.banner,
      h("div", { class: "layout" }, this.nav, this.main),
      this.toasts,
    );
    this.renderNav();
    this.poll = setInterval(() => this.refreshCounts(), COUNTS_EVERY_MS);
    this.refreshCounts();
  }

  stop() {
    clearInterval(this.poll);
    clearTimeout(this.refreshTimer);
  }

  setConnection(state, detail = {}) {
    this.conn.dataset.state = state;
    this.banner.hidden = state !== "reconnecting";
    this.connText.textContent = CONNECTION_TEXT[state];
    this.conn.title =
      state === "reconnecting"
        ? `Lost the live connection; retrying in ${(detail.delay / 1000).toFixed(1)} s`
        : "Live updates";
  }

  /** Highlight a queue in the sidebar ("#mine" for My tickets, null for none). */
  select(key) {
    this.selected = key;
    this.renderNav();
  }

  /** Counts change with the stream: refresh soon, at most once per burst. */
  countsChanged() {
    if (this.refreshTimer !== null) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refreshCounts();
    }, 300);
  }

  onCounts(listener) {
    this.countListeners.add(listener);
    listener(this.queues);
    return () => this.countListeners.delete(listener);
  }

  async refreshCounts() {
    try {
      const [all, mine] = await Promise.all([
        get("/api/queues"),
        get("/api/tickets?assignee=me&limit=1"),
      ]);
      this.queues = all.queues;
      this.mine = mine.total;
    } catch {
      return; // the live stream shows the outage; counts catch up on the next refresh
    }
    this.renderNav();
    for (const listener of this.countListeners) listener(this.queues);
  }

  renderNav() {
    const names = new Set(this.queues.map((q) => q.name));
    const extra = ["support", this.selected].filter((n) => n && n !== "#mine" && !names.has(n));
    const queues = [...this.queues, ...extra.map((name) => ({ name, total: 0, counts: {} }))];
    queues.sort((a, b) => a.name.localeCompare(b.name));
    const item = (key, href, label, count, title) =>
      h(
        "a",
        {
          class: `nav-item${this.selected === key ? " active" : ""}`,
          href,
          dataset: { queue: key },
          title,
          "aria-current": this.selected === key ? "page" : null,
        },
        h("span", { class: "nav-name" }, label),
        h("span", { class: "nav-count" }, count ?? ""),
      );
    fill(
      this.nav,
      item("#mine", "#/mine", "My tickets", this.mine, "Tickets assigned to you, in every queue"),
      h("div", { class: "nav-heading" }, "Queues"),
      queues.map((q) =>
        item(
          q.name,
          `#/queue/${encodeURIComponent(q.name)}`,
          q.name,
          q.total,
          ["new", "open", "pending"].map((s) => `${q.counts[s] ?? 0} ${s}`).join(", "),
        ),
      ),
    );
  }

  toast(text, kind = "info") {
    const note = h("div", { class: `toast ${kind}` }, text);
    this.toasts.append(note);
    setTimeout(() => note.remove(), 6000);
  }
}
