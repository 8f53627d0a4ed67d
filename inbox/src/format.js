// Formatting helpers shared by the views.

const PRIORITIES = ["urgent", "high", "medium", "low"];

export function priorityRank(priority) {
  const rank = PRIORITIES.indexOf(priority);
  return rank < 0 ? PRIORITIES.length : rank;
}

// "42 s", "5 min", "2 h 5 min" for a duration in milliseconds.
export function formatWait(milliseconds) {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

// The name a customer is shown by: the name from the widget, else the email, else the id.
export function customerLabel(item) {
  const customer = item.customer || {};
  return customer.name || customer.email || item.customerId;
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

// Only http(s) URLs and same-site paths become links; anything else
// (javascript:, data:) is shown as text.
export function safeHref(url) {
  if (typeof url !== "string") return null;
  if (/^https?:\/\//i.test(url)) return url;
  if (/^\/(?!\/)/.test(url)) return url;
  return null;
}

export function describeValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// "1 open connection", "2 open connections": a count with its noun in the right number.
export function countOf(count, singular, plural = `${singular}s`) {
  return `${count} ${count === 1 ? singular : plural}`;
}

// The header's text for the realtime socket's state, from Realtime's onState.
export function socketLabel(socket) {
  if (socket.state === "online") return "live";
  if (socket.state !== "limited") return "reconnecting";
  const reached = socket.limit
    ? `already has ${countOf(socket.limit, "open connection")}, its limit`
    : "is at its limit of open connections";
  return `live updates paused: the organization ${reached}; retrying in ${socket.retryInSeconds} s`;
}
