// The login page.

import { explain } from "./format.js";
import { request } from "./api.js";
import { h } from "./dom.js";

export function loginPage(notice, loggedIn) {
  const name = h("input", { id: "login-name", name: "name", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", {
    id: "login-password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const message = h("p", { class: notice ? "form-note" : "form-error", role: "alert", hidden: !notice }, notice ?? "");
  const submit = h("button", { class: "button primary wide", type: "submit" }, "Log in");

  async function onsubmit(event) {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = "Logging in…";
    try {
      const { data } = await request(
        "POST",
        "/api/login",
        { name: name.value, password: password.value },
        { quiet401: true },
      );
      loggedIn(data);
    } catch (error) {
      message.className = "form-error";
      message.textContent = error.status === 401 ? "Wrong name or password." : explain(error);
      message.hidden = false;
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Log in";
    }
  }

  return h(
    "div",
    { class: "login-page" },
    h(
      "form",
      { class: "login-card", onsubmit, "aria-labelledby": "login-title" },
      h("div", { class: "login-brand" }, h("span", { class: "logo" }, "S"), "Snag"),
      h("h1", { id: "login-title" }, "Log in to the helpdesk"),
      message,
      h("label", { for: "login-name" }, "Name"),
      name,
      h("label", { for: "login-password" }, "Password"),
      password,
      submit,
    ),
  );
}
