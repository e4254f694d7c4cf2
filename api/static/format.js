// Words and orderings shared by the pages.

export const PRIORITIES = ["urgent", "high", "normal", "low"];
export const STATUSES = ["new", "open", "pending", "solved", "closed"];
export const LIVE_STATUSES = ["new", "open", "pending"];
export const TRANSITIONS = {
  new: ["open", "pending", "solved"],
  open: ["pending", "solved"],
  pending: ["open", "solved"],
  solved: ["open", "closed"],
  closed: ["open"],
};
const RANK = { urgent: 0, high: 1, normal: 2, low: 3 };

export function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** The server's order: most urgent first, then oldest. */
export function compareRows(a, b) {
  const rank = RANK[a.priority] - RANK[b.priority];
  if (rank !== 0) return rank;
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id - b.id;
}

function parseTime(text) {
  // The server sends microseconds; Date wants milliseconds.
  return new Date(text.replace(/(\.\d{3})\d*Z$/, "$1Z"));
}

export function ago(text) {
  const seconds = Math.max(0, (Date.now() - parseTime(text).getTime()) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

export function clock(text) {
  return parseTime(text).toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function presenceText(person) {
  return `${person.name} is ${person.state}`;
}

/** One line of a ticket's history, as plain text. */
export function describeEvent(event) {
  const d = event.data;
  switch (event.type) {
    case "TicketOpened":
      return `opened the ticket in ${d.queue} (${d.priority})`;
    case "TicketClaimed":
      return "claimed the ticket";
    case "TicketAssigned":
      return `assigned the ticket to ${d.assignee}`;
    case "TicketReleased":
      return `released the ticket from ${d.previous}`;
    case "CommentAdded":
      if (d.internal) return "added an internal note";
      if (d.from_requester) return `logged a reply from ${d.author}`;
      return "replied to the requester";
    case "StatusChanged":
      return `changed the status from ${d.old} to ${d.new}`;
    case "PriorityChanged":
      return `changed the priority from ${d.old} to ${d.new}`;
    case "SubjectChanged":
      return `changed the subject from “${d.old}” to “${d.new}”`;
    case "TicketMoved":
      return `moved the ticket from ${d.old} to ${d.new}`;
    case "TagAdded":
      return `added the tag “${d.tag}”`;
    case "TagRemoved":
      return `removed the tag “${d.tag}”`;
    default:
      return event.type;
  }
}

/** An error as a sentence for a person, never a raw code. */
export function explain(error, context = {}) {
  switch (error.code) {
    case "already_claimed":
      return `${error.details.assignee} got it first`;
    case "queue_empty":
      return `No unassigned tickets are waiting in ${context.queue ?? "this queue"}`;
    case "invalid_transition": {
      const allowed = error.details.allowed ?? [];
      return allowed.length
        ? `That status change is not allowed here; it can go to ${allowed.join(", ")}`
        : "That status change is not allowed here";
    }
    case "unreachable":
      return "Snag cannot be reached right now; try again in a moment";
    default:
      return error.message;
  }
}
