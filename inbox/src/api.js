// REST calls to /api/v2 with the signed-in agent's token.

const SESSION_KEY = "campfire.inbox.session";
// NOTE: a conversation longer than this shows only its first MAX_HISTORY messages.
const MAX_HISTORY = 1000;
// NOTE: an organization with more mailboxes than this lists only the first ones.
const MAX_LIST_ITEMS = 1000;

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// The session lives in sessionStorage, so it ends with the tab; sign-out removes it.
export function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (session && Date.parse(session.expiresAt) > Date.now()) return session;
  } catch {
    // A damaged entry is treated as no session.
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

export function saveSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

export async function request(token, method, path, body) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v2${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = (payload && payload.error) || {};
    throw new ApiError(
      response.status,
      error.code || "HTTP_ERROR",
      error.message || `the request failed with HTTP ${response.status}`,
      error.details || {},
    );
  }
  return payload;
}

export function signIn(email, password) {
  return request(null, "POST", "/auth/login", { email, password });
}

// Every item of a paginated list, oldest first, following nextCursor up to
// MAX_LIST_ITEMS.
async function everyItem(call, path) {
  const all = [];
  let cursor = "";
  while (all.length < MAX_LIST_ITEMS) {
    const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page = await call("GET", `${path}?${query}`);
    all.push(...page.data);
    if (!page.pagination.hasMore || !page.pagination.nextCursor) break;
    cursor = page.pagination.nextCursor;
  }
  return all;
}

// The API client of one session; every method returns the parsed JSON body.
export function client(token) {
  const call = (method, path, body) => request(token, method, path, body);
  const id = encodeURIComponent;
  return {
    agents: () => call("GET", "/agents?limit=100"),
    setStatus: (agentId, status) => call("PATCH", `/agents/${id(agentId)}`, { status }),
    // Every mailbox, following nextCursor up to MAX_LIST_ITEMS.
    mailboxes: async () => ({ data: await everyItem(call, "/mailboxes") }),
    // One page of queued handoffs in queue order. Pass the previous page's nextCursor as cursor.
    queue: (cursor) => {
      const params = new URLSearchParams({ status: "queued", limit: "100" });
      if (cursor) params.set("cursor", cursor);
      return call("GET", `/handoffs?${params}`);
    },
    conversations: (params) => call("GET", `/conversations?${new URLSearchParams(params)}`),
    conversation: (conversationId) => call("GET", `/conversations/${id(conversationId)}`),
    update: (conversationId, fields) =>
      call("PATCH", `/conversations/${id(conversationId)}`, fields),
    // Every message, oldest first, following nextCursor up to MAX_HISTORY.
    messages: async (conversationId) => {
      const all = [];
      let cursor = "";
      while (all.length < MAX_HISTORY) {
        const query = `limit=100${cursor ? `&cursor=${id(cursor)}` : ""}`;
        const page = await call("GET", `/conversations/${id(conversationId)}/messages?${query}`);
        all.push(...page.data);
        if (!page.pagination.hasMore || !page.pagination.nextCursor) break;
        cursor = page.pagination.nextCursor;
      }
      return all;
    },
    send: (conversationId, content, isPrivate) =>
      call("POST", `/conversations/${id(conversationId)}/messages`, {
        content,
        authorType: "agent",
        private: isPrivate,
      }),
    handoff: (conversationId) => call("GET", `/conversations/${id(conversationId)}/handoff`),
    handBack: (conversationId) =>
      call("POST", `/conversations/${id(conversationId)}/handoff/cancel`),
    rating: (conversationId) => call("GET", `/conversations/${id(conversationId)}/satisfaction`),
    draft: (conversationId, messageContent) =>
      call("POST", "/ai/generate-response", { conversationId, messageContent, draft: true }),
  };
}
