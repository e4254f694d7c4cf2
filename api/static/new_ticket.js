// "New ticket": a dialog that sends the `open` command.

import { command } from "./api.js";
import { h, option } from "./dom.js";
import { PRIORITIES, capitalize, explain } from "./format.js";

export function newTicketDialog(queue, navigate) {
  const field = (id, label, control) => h("label", { class: "field", for: id }, h("span", {}, label), control);
  const subject = h("input", { id: "new-subject", required: true, maxlength: 200 });
  const requester = h("input", { id: "new-requester", required: true, placeholder: "Name or email address" });
  const body = h("textarea", { id: "new-body", rows: 5, placeholder: "What the requester wrote" });
  const queueInput = h("input", { id: "new-queue", value: queue, required: true, pattern: "[a-z0-9][a-z0-9_\\-]{0,39}" });
  const priority = h("select", { id: "new-priority" }, PRIORITIES.map((p) => option(p, capitalize(p), p === "normal")));
  const tags = h("input", { id: "new-tags", placeholder: "Comma-separated, e.g. vpn, vip" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { class: "button primary", type: "submit" }, "Open ticket");

  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": "new-title" },
    h(
      "form",
      { onsubmit },
      h("h2", { id: "new-title" }, "New ticket"),
      error,
      field("new-subject", "Subject", subject),
      field("new-requester", "Requester", requester),
      field("new-body", "Message", body),
      h("div", { class: "field-row" }, field("new-queue", "Queue", queueInput), field("new-priority", "Priority", priority)),
      field("new-tags", "Tags", tags),
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { class: "button", type: "button", onclick: () => dialog.close() }, "Cancel"),
        submit,
      ),
    ),
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();

  async function onsubmit(event) {
    event.preventDefault();
    submit.disabled = true;
    try {
      const { data } = await command("open", {
        subject: subject.value,
        body: body.value,
        requester: requester.value,
        queue: queueInput.value.trim(),
        priority: priority.value,
        tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
      });
      dialog.close();
      navigate(`#/ticket/${data.ticket.id}`);
    } catch (err) {
      error.textContent = explain(err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }
}
