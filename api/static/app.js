// The dashboard: session, hash routes (#/login, #/queue/NAME?filters, #/mine, #/ticket/ID),
// the frame around the pages, and the counts in the sidebar.

import { ApiError, onUnauthorized, request, setCsrf } from "./api.js";
import { fill, h } from "./dom.js";
import { loginPage } from "./login.js";
import { queuePage } from "./queue.js";
import { Shell } from "./shell.js";
import { ticketPage } from "./ticket.js";

const root = document.getElementById("app");
let session = null;
let shell = null;
let leave = () => {};

function parseRoute() {
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(search));
  if (parts[0] === "login") return { page: "login" };
  if (parts[0] === "mine") return { page: "queue", queue: null, params };
  if (parts[0] === "ticket" && /^\d+$/.test(parts[1] ?? "")) {
    return { page: "ticket", id: Number(parts[1]) };
  }
  if (parts[0] === "queue" && parts[1]) return { page: "queue", queue: parts[1], params };
  return { page: "home" };
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  leave();
  leave = () => {};
  const where = parseRoute();
  if (!session) {
    showLogin();
    return;
  }
  if (where.page === "login" || where.page === "home") {
    navigate("#/queue/support");
    return;
  }
  if (!shell) {
    shell = new Shell(session, logout);
    fill(root, shell.el);
  }
  shell.select(where.page === "queue" ? where.queue ?? "#mine" : null);
  const context = { session, shell, navigate };
  leave =
    where.page === "ticket"
      ? ticketPage(context, shell.main, where.id)
      : queuePage(context, shell.main, where.queue, where.params);
}

function showLogin(notice = null) {
  shell?.stop();
  shell = null;
  document.title = "Log in · Snag";
  fill(
    root,
    loginPage(notice, (who) => {
      session = who;
      setCsrf(who.csrf_token);
      const where = parseRoute();
      if (where.page === "login") navigate("#/queue/support");
      else route();
    }),
  );
}

async function logout() {
  leave();
  leave = () => {};
  try {
    await request("POST", "/api/logout", undefined, { quiet401: true });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      shell.toast("Could not log out: Snag cannot be reached", "error");
      route();
      return;
    }
  }
  session = null;
  setCsrf(null);
  showLogin("You have logged out.");
}

onUnauthorized(() => {
  if (!session) return;
  leave();
  leave = () => {};
  session = null;
  setCsrf(null);
  showLogin("Your session has ended; log in again.");
});

async function start(attempt = 0) {
  try {
    session = (await request("GET", "/api/session", undefined, { quiet401: true })).data;
    setCsrf(session.csrf_token);
  } catch (error) {
    if (error.status !== 401) {
      // The server is down or restarting: say so, and try again shortly.
      fill(root, h("p", { class: "boot-message" }, "Snag cannot be reached; retrying…"));
      setTimeout(() => start(attempt + 1), Math.min(5000, 250 * 2 ** attempt));
      return;
    }
    session = null;
  }
  window.addEventListener("hashchange", route);
  route();
}

start();
