// The HTTP API: JSON in and out, the session's CSRF token on every write, errors as ApiError.

let csrfToken = null;
let whenUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `Snag answered ${status}`);
    this.status = status;
    this.code = body.error || "error";
    this.details = body;
  }
}

export function setCsrf(token) {
  csrfToken = token;
}

/** Called once a request answers 401: the session has ended. */
export function onUnauthorized(handler) {
  whenUnauthorized = handler;
}

async function send(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, { error: "unreachable", message: "Snag cannot be reached right now" });
  }
}

async function parse(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** `{data, position}`: position is the `Snag-Position` header, the log position of the
 * command's last event, or null when it recorded none. */
export async function request(method, path, body, { quiet401 = false } = {}) {
  let response = await send(method, path, body);
  let data = await parse(response);
  if (response.status === 403 && data?.error === "csrf_rejected") {
    // The token changed under us (a new login in another tab): fetch it and try once more.
    const session = await send("GET", "/api/session");
    if (session.ok) {
      setCsrf((await parse(session)).csrf_token);
      response = await send(method, path, body);
      data = await parse(response);
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data || {});
    if (response.status === 401 && !quiet401) whenUnauthorized(error);
    throw error;
  }
  const position = Number(response.headers.get("Snag-Position")) || null;
  return { data, position };
}

export async function get(path) {
  return (await request("GET", path)).data;
}

export function command(name, fields = {}) {
  return request("POST", "/api/commands", { command: name, ...fields });
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
