// The agent inbox. Every message text and name is rendered as a text node,
// never as HTML, because they come from customers.
import { render } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";

import { clearSession, client, loadSession, saveSession, signIn } from "./api.js";
import { ConversationView } from "./conversation.jsx";
import { Realtime } from "./realtime.js";
import { customerLabel, formatWait, priorityRank, socketLabel } from "./format.js";
import "./style.css";

const VIEWS = [
  { id: "mine", label: "Mine" },
  { id: "queue", label: "Queue" },
  { id: "open", label: "Mailbox" },
];
const STATUSES = ["online", "away", "offline"];
// Lists refresh at most this often when a burst of events arrives.
const REFRESH_DEBOUNCE_MS = 250;
const AGENTS_REFRESH_MS = 30_000;
// Items per request of the Queue and Mailbox lists, which is the maximum limit of GET /conversations.
const PAGE_SIZE = 100;
const EMPTY_LIST = { items: [], total: 0, nextCursor: null };

function Login({ onSignedIn }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      const session = await signIn(email.trim(), password);
      saveSession(session);
      onSignedIn(session);
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Campfire inbox</h1>
        <label>
          Email
          <input
            name="email"
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(event) => setEmail(event.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function useTick(intervalMs) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function ListItem({ item, selected, onSelect, now }) {
  return (
    <li>
      <button
        type="button"
        class={`item${selected ? " selected" : ""}`}
        data-conversation={item.conversationId}
        aria-current={selected ? "true" : undefined}
        onClick={() => onSelect(item.conversationId)}
      >
        <span class="item-title">{item.title}</span>
        <span class="item-meta">
          <span class={`priority priority-${item.priority}`}>{item.priority}</span>
          {item.waitingSince != null && (
            <span class="wait" title="Waiting for a person">
              waiting {formatWait(now - item.waitingSince)}
            </span>
          )}
          {item.unread > 0 && <span class="unread">{item.unread} unread</span>}
        </span>
        <span class="item-sub">{item.subtitle}</span>
      </button>
    </li>
  );
}

function conversationItem(conversation) {
  return {
    conversationId: conversation.id,
    title: conversation.subject || `Conversation with ${customerLabel(conversation)}`,
    subtitle: `${customerLabel(conversation)} · ${conversation.status}`,
    priority: conversation.priority,
    unread: conversation.unreadCount,
    waitingSince: null,
  };
}

function queueItem(handoff) {
  return {
    conversationId: handoff.conversationId,
    title: handoff.subject || `Conversation with ${customerLabel(handoff)}`,
    subtitle: handoff.reason
      ? `${customerLabel(handoff)} · ${handoff.reason}`
      : customerLabel(handoff),
    priority: handoff.priority,
    unread: 0,
    waitingSince: Date.parse(handoff.createdAt),
  };
}

function byQueueOrder(a, b) {
  return priorityRank(a.priority) - priorityRank(b.priority) || a.waitingSince - b.waitingSince;
}

// Read a paginated list from its start, following nextCursor until at least
// `minItems` items are loaded or the list ends. `fetchPage(cursor)` returns one
// page, and `total` is the size of the whole list as the API counts it.
async function readPages(fetchPage, toItem, minItems) {
  const items = [];
  let cursor = null;
  let total = 0;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.data.map(toItem));
    total = page.pagination.total;
    cursor = page.pagination.hasMore ? page.pagination.nextCursor : null;
  } while (cursor && items.length < minItems);
  return { items: uniqueItems(items), total, nextCursor: cursor };
}

// A conversation that moved between two reads can be on both pages, so keep its first copy.
function uniqueItems(items) {
  const seen = new Set();
  return items.filter((item) => {
    if (seen.has(item.conversationId)) return false;
    seen.add(item.conversationId);
    return true;
  });
}

function Inbox({ session, onSignOut }) {
  const me = session.agent;
  const api = useMemo(() => client(session.token), [session.token]);
  const [view, setView] = useState("queue");
  const [mailboxes, setMailboxes] = useState([]);
  const [mailboxId, setMailboxId] = useState("");
  const [mine, setMine] = useState([]);
  // The Queue and Mailbox lists, { items, total, nextCursor }, load PAGE_SIZE items at a time.
  const [queue, setQueue] = useState(EMPTY_LIST);
  const [open, setOpen] = useState(EMPTY_LIST);
  // The latest lists, so that a refresh reads as many items as are already shown.
  const latestLists = useRef({ queue: EMPTY_LIST, open: EMPTY_LIST, openMailboxId: "" });
  latestLists.current.queue = queue;
  latestLists.current.open = open;
  // Incremented by every refresh, which discards a "Load more" page requested before it.
  const listVersion = useRef(0);
  const [loadingMore, setLoadingMore] = useState(false);
  const [agents, setAgents] = useState([]);
  const [connected, setConnected] = useState({});
  const [status, setStatus] = useState(me.status);
  const [selectedId, setSelectedId] = useState(null);
  const [socket, setSocket] = useState({ state: "offline" });
  const socketState = socket.state;
  const [error, setError] = useState("");
  const listeners = useRef(new Set());
  const refreshTimer = useRef(null);
  const now = useTick(15_000);

  const fetchQueuePage = useCallback((cursor) => api.queue(cursor), [api]);
  const fetchOpenPage = useCallback(
    (cursor) => {
      const params = { mailboxId, status: "open", limit: PAGE_SIZE };
      if (cursor) params.cursor = cursor;
      return api.conversations(params);
    },
    [api, mailboxId],
  );

  const refreshLists = useCallback(async () => {
    const version = ++listVersion.current;
    const current = latestLists.current;
    const queueMinItems = Math.max(PAGE_SIZE, current.queue.items.length);
    const openMinItems =
      current.openMailboxId === mailboxId ? Math.max(PAGE_SIZE, current.open.items.length) : PAGE_SIZE;
    try {
      // NOTE: "Mine" reads only the agent's first 100 assigned conversations of any status.
      const [assigned, queued] = await Promise.all([
        api.conversations({ assignedAgentId: me.id, limit: PAGE_SIZE }),
        readPages(fetchQueuePage, queueItem, queueMinItems),
      ]);
      const listed = mailboxId ? await readPages(fetchOpenPage, conversationItem, openMinItems) : null;
      if (version !== listVersion.current) return;
      setMine(
        assigned.data
          .filter((conversation) => conversation.status === "open" || conversation.status === "pending")
          .map(conversationItem),
      );
      setQueue({ ...queued, items: queued.items.slice().sort(byQueueOrder) });
      if (listed) {
        latestLists.current.openMailboxId = mailboxId;
        setOpen(listed);
      }
    } catch (failure) {
      if (failure.status === 401) onSignOut();
      else setError(failure.message);
    }
  }, [api, me.id, mailboxId, fetchQueuePage, fetchOpenPage, onSignOut]);

  // Append the next page of the Queue or Mailbox list.
  const loadMore = useCallback(
    async (listId) => {
      const list = latestLists.current[listId];
      if (!list.nextCursor) return;
      const version = listVersion.current;
      const fetchPage = listId === "queue" ? fetchQueuePage : fetchOpenPage;
      const toItem = listId === "queue" ? queueItem : conversationItem;
      setLoadingMore(true);
      try {
        const page = await fetchPage(list.nextCursor);
        if (version !== listVersion.current) return;
        let items = uniqueItems([...list.items, ...page.data.map(toItem)]);
        if (listId === "queue") items = items.sort(byQueueOrder);
        const next = {
          items,
          total: page.pagination.total,
          nextCursor: page.pagination.hasMore ? page.pagination.nextCursor : null,
        };
        if (listId === "queue") setQueue(next);
        else setOpen(next);
      } catch (failure) {
        if (failure.status === 401) onSignOut();
        else setError(failure.message);
      } finally {
        setLoadingMore(false);
      }
    },
    [fetchQueuePage, fetchOpenPage, onSignOut],
  );

  const scheduleRefresh = useCallback(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(refreshLists, REFRESH_DEBOUNCE_MS);
  }, [refreshLists]);

  useEffect(() => {
    refreshLists();
  }, [refreshLists]);

  useEffect(() => {
    (async () => {
      try {
        const boxes = await api.mailboxes();
        setMailboxes(boxes.data);
        if (boxes.data.length) setMailboxId((current) => current || boxes.data[0].id);
      } catch (failure) {
        setError(failure.message);
      }
    })();
  }, [api]);

  // Status changes of other agents send no event, so the team is read on
  // every presence frame, after each reconnect and every AGENTS_REFRESH_MS.
  const loadAgents = useCallback(async () => {
    try {
      const people = await api.agents();
      setAgents(people.data);
      const self = people.data.find((agent) => agent.id === me.id);
      if (self) setStatus(self.status);
    } catch (failure) {
      setError(failure.message);
    }
  }, [api, me.id]);
  const agentsTimer = useRef(null);
  const scheduleAgents = useCallback(() => {
    clearTimeout(agentsTimer.current);
    agentsTimer.current = setTimeout(loadAgents, REFRESH_DEBOUNCE_MS);
  }, [loadAgents]);
  useEffect(() => {
    if (socketState !== "online") return undefined;
    loadAgents();
    const timer = setInterval(loadAgents, AGENTS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [loadAgents, socketState]);

  // The socket lives as long as the session, and its events refresh the lists.
  const onEvent = useRef(null);
  onEvent.current = (frame) => {
    if (frame.type === "presence") {
      // A presence frame reports whether the agent has the inbox open, not the status they chose.
      const { agentId, connections } = frame.data;
      setConnected((current) => ({ ...current, [agentId]: connections > 0 }));
      scheduleAgents();
    }
    if (frame.type === "handoff" || frame.type === "conversation" || frame.type === "message") {
      if (!frame.channel.startsWith("conversation:")) scheduleRefresh();
    }
    for (const listener of listeners.current) listener(frame);
  };
  const realtime = useMemo(
    () =>
      new Realtime(session.token, {
        onEvent: (frame) => onEvent.current(frame),
        onState: (state, detail) => setSocket({ state, ...detail }),
      }),
    [session.token],
  );
  useEffect(() => {
    realtime.subscribe(`agent:${me.id}`);
    return () => realtime.close();
  }, [realtime, me.id]);
  useEffect(() => {
    for (const mailbox of mailboxes) realtime.subscribe(`mailbox:${mailbox.id}`);
  }, [realtime, mailboxes]);

  const listen = useCallback((listener) => {
    listeners.current.add(listener);
    return () => listeners.current.delete(listener);
  }, []);

  const lists = {
    mine: { items: mine, total: mine.length, nextCursor: null },
    queue,
    open: mailboxId === latestLists.current.openMailboxId ? open : EMPTY_LIST,
  };
  const items = lists[view].items;
  const nextCursor = lists[view].nextCursor;

  const move = useCallback(
    (step) => {
      if (!items.length) return;
      const index = items.findIndex((item) => item.conversationId === selectedId);
      const next = index < 0 ? 0 : Math.min(items.length - 1, Math.max(0, index + step));
      setSelectedId(items[next].conversationId);
    },
    [items, selectedId],
  );

  useEffect(() => {
    function onKey(event) {
      const target = event.target;
      const editing =
        target instanceof HTMLElement &&
        (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
      if (editing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "j") move(1);
      else if (event.key === "k") move(-1);
      else return;
      event.preventDefault();
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [move]);

  async function changeStatus(next) {
    try {
      const agent = await api.setStatus(me.id, next);
      setStatus(agent.status);
      setAgents((list) => list.map((item) => (item.id === agent.id ? agent : item)));
      // Coming online can assign queued conversations at once.
      scheduleRefresh();
    } catch (failure) {
      setError(failure.message);
    }
  }

  return (
    <div class={`inbox${selectedId ? " has-selection" : ""}`}>
      <header class="topbar">
        <strong class="brand">Campfire inbox</strong>
        <span class="me">{me.name}</span>
        <label class="status">
          Status
          <select
            aria-label="My status"
            value={status}
            onChange={(event) => changeStatus(event.currentTarget.value)}
          >
            {STATUSES.map((value) => (
              <option value={value}>{value}</option>
            ))}
          </select>
        </label>
        <span class={`socket socket-${socketState}`} title="Live updates">
          {socketLabel(socket)}
        </span>
        <button type="button" class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {error && (
        <p class="error banner" role="alert" onClick={() => setError("")}>
          {error}
        </p>
      )}
      <nav class="lists" aria-label="Conversations">
        <div class="tabs" role="tablist">
          {VIEWS.map((tab) => {
            const count = lists[tab.id].total;
            return (
              <button
                type="button"
                role="tab"
                aria-selected={view === tab.id}
                class={view === tab.id ? "active" : ""}
                data-view={tab.id}
                onClick={() => setView(tab.id)}
              >
                {tab.label} <span class="count">{count}</span>
              </button>
            );
          })}
        </div>
        {view === "open" && (
          <select
            aria-label="Mailbox"
            value={mailboxId}
            onChange={(event) => setMailboxId(event.currentTarget.value)}
          >
            {mailboxes.map((mailbox) => (
              <option value={mailbox.id}>{mailbox.name}</option>
            ))}
          </select>
        )}
        <ul class="items" data-list={view}>
          {items.map((item) => (
            <ListItem
              item={item}
              now={now}
              selected={item.conversationId === selectedId}
              onSelect={setSelectedId}
            />
          ))}
        </ul>
        {!items.length && <p class="empty">Nothing here.</p>}
        {nextCursor && (
          <button
            type="button"
            class="load-more"
            data-action="load-more"
            disabled={loadingMore}
            onClick={() => loadMore(view)}
          >
            {loadingMore ? "Loading…" : `Load more (${items.length} of ${lists[view].total})`}
          </button>
        )}
        <section class="team" aria-label="Agents">
          <h2>Team</h2>
          <ul>
            {agents.map((agent) => (
              <li data-agent={agent.id}>
                <span class={`dot dot-${agent.status}`} aria-hidden="true" />
                {agent.name} <span class="muted">{agent.status}</span>
                {connected[agent.id] && <span class="badge">in the inbox</span>}
              </li>
            ))}
          </ul>
        </section>
        <p class="shortcuts muted">
          Keys: j/k next/previous · r reply · n note · e resolve · t take
        </p>
      </nav>
      {selectedId ? (
        <ConversationView
          key={selectedId}
          api={api}
          me={me}
          agents={agents}
          conversationId={selectedId}
          realtime={realtime}
          listen={listen}
          onChanged={scheduleRefresh}
          onBack={() => setSelectedId(null)}
          onUnauthorized={onSignOut}
        />
      ) : (
        <main class="placeholder">
          <p>Choose a conversation, or press j.</p>
        </main>
      )}
    </div>
  );
}

function App() {
  const [session, setSession] = useState(loadSession);
  const signOut = useCallback(() => {
    clearSession();
    setSession(null);
  }, []);
  if (!session) return <Login onSignedIn={setSession} />;
  return <Inbox session={session} onSignOut={signOut} />;
}

render(<App />, document.getElementById("app"));
