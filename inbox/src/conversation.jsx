// One conversation: its history, the composer, the actions and the customer panel.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { customerLabel, describeValue, formatTime, safeHref } from "./format.js";

// Typing frames are refreshed this often while the agent types, because the
// server expires a `true` after 10 s without a refresh.
const TYPING_REFRESH_MS = 3_000;
const TYPING_IDLE_MS = 4_000;

const AUTHOR_LABELS = { customer: "Customer", ai: "AI", agent: "Agent", system: "System" };

function Sources({ sources }) {
  if (!sources || !sources.length) return null;
  return (
    <ul class="sources" aria-label="Sources">
      {sources.map((source) => {
        const href = safeHref(source.url);
        const label = source.title || source.url || "source";
        return (
          <li>
            {href ? (
              <a href={href} target="_blank" rel="noopener noreferrer">
                {label}
              </a>
            ) : (
              label
            )}
            {typeof source.relevance === "number" && (
              <span class="muted"> {Math.round(source.relevance * 100)}%</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function MessageItem({ message, agents }) {
  const ai = (message.metadata && message.metadata.ai) || null;
  const kind = message.private ? "note" : message.authorType;
  let author = AUTHOR_LABELS[message.authorType] || message.authorType;
  if (message.authorType === "agent") {
    const agent = agents.find((candidate) => candidate.id === message.authorId);
    author = agent ? agent.name : message.authorId || "Agent";
  } else if (message.authorType === "customer" && message.authorId) {
    author = message.authorId;
  }
  return (
    <li class={`msg msg-${kind}`} data-message={message.id} data-author-type={message.authorType}>
      <div class="msg-head">
        <span class="author">{author}</span>
        {message.private && <span class="badge note-badge">Internal note</span>}
        {ai && typeof ai.confidence === "number" && (
          <span class="badge" title="AI confidence">
            confidence {Math.round(ai.confidence * 100)}%
          </span>
        )}
        <time class="muted">{formatTime(message.createdAt)}</time>
      </div>
      <div class="body">{message.content}</div>
      {ai && <Sources sources={ai.sources} />}
    </li>
  );
}

function CustomerPanel({ conversation, messageCount, handoff, rating, open, onClose }) {
  const metadata = Object.entries(conversation.metadata || {});
  const customer = conversation.customer || {};
  const context = handoff ? Object.entries(handoff.context || {}) : [];
  return (
    <aside class={`details${open ? " open" : ""}`} aria-label="Customer">
      <button type="button" class="link details-close" onClick={onClose}>
        Close
      </button>
      <h2>Customer</h2>
      <dl>
        {customer.name && (
          <>
            <dt>Name</dt>
            <dd data-field="customerName">{customer.name}</dd>
          </>
        )}
        {customer.email && (
          <>
            <dt>Email</dt>
            <dd data-field="customerEmail">{customer.email}</dd>
          </>
        )}
        <dt>Customer id</dt>
        <dd data-field="customerId">{conversation.customerId}</dd>
        <dt>Mailbox</dt>
        <dd>{conversation.mailboxId}</dd>
        <dt>Started</dt>
        <dd>{formatTime(conversation.createdAt)}</dd>
        <dt>Messages</dt>
        <dd>{messageCount}</dd>
      </dl>
      {metadata.length > 0 && (
        <>
          <h3>Metadata</h3>
          <dl class="metadata">
            {metadata.map(([key, value]) => (
              <>
                <dt>{key}</dt>
                <dd>{describeValue(value)}</dd>
              </>
            ))}
          </dl>
        </>
      )}
      {handoff && (
        <>
          <h3>Handoff</h3>
          <dl>
            <dt>Status</dt>
            <dd data-field="handoffStatus">{handoff.status}</dd>
            {handoff.reason && (
              <>
                <dt>Reason</dt>
                <dd>{handoff.reason}</dd>
              </>
            )}
            {handoff.requiredSkills.length > 0 && (
              <>
                <dt>Skills</dt>
                <dd>{handoff.requiredSkills.join(", ")}</dd>
              </>
            )}
            {context.map(([key, value]) => (
              <>
                <dt>{key}</dt>
                <dd>{describeValue(value)}</dd>
              </>
            ))}
          </dl>
        </>
      )}
      {rating && (
        <>
          <h3>Rating</h3>
          <p class="rating" data-field="rating">
            {"★".repeat(rating.rating)}
            {"☆".repeat(Math.max(0, 5 - rating.rating))} ({rating.rating}/5)
          </p>
          {rating.comment && <p class="body">{rating.comment}</p>}
        </>
      )}
    </aside>
  );
}

export function ConversationView({
  api,
  me,
  agents,
  conversationId,
  realtime,
  listen,
  onChanged,
  onBack,
  onUnauthorized,
}) {
  const [conversation, setConversation] = useState(null);
  const [messages, setMessages] = useState([]);
  const [handoff, setHandoff] = useState(null);
  const [rating, setRating] = useState(null);
  const [typing, setTyping] = useState({});
  const [text, setText] = useState("");
  const [isNote, setIsNote] = useState(false);
  const [draft, setDraft] = useState(null);
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  const [showDetails, setShowDetails] = useState(false);
  const composer = useRef(null);
  const history = useRef(null);
  const typingState = useRef({ sentAt: 0, timer: null });

  const fail = useCallback(
    (failure) => {
      if (failure.status === 401) onUnauthorized();
      else setError(failure.message);
    },
    [onUnauthorized],
  );

  const loadHandoff = useCallback(async () => {
    try {
      setHandoff(await api.handoff(conversationId));
    } catch (failure) {
      if (failure.status === 404) setHandoff(null);
      else fail(failure);
    }
  }, [api, conversationId, fail]);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const [loaded, history] = await Promise.all([
          api.conversation(conversationId),
          api.messages(conversationId),
        ]);
        if (cancelled) return;
        setConversation(loaded);
        setMessages(history);
        // Only a conversation with a handoff is read, because the others return 404.
        if (history.some((message) => message.metadata && message.metadata.handoffId)) {
          loadHandoff();
        }
      } catch (failure) {
        if (!cancelled) fail(failure);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, conversationId, fail, loadHandoff]);

  // Live updates of this conversation.
  useEffect(() => {
    const channel = `conversation:${conversationId}`;
    realtime.subscribe(channel);
    const stop = listen((frame) => {
      if (frame.channel !== channel) return;
      if (frame.type === "message") {
        const message = frame.data;
        setMessages((list) => (list.some((item) => item.id === message.id) ? list : [...list, message]));
        if (message.authorType === "customer") {
          setTyping((state) => ({ ...state, [message.authorId]: false }));
        }
      } else if (frame.type === "typing") {
        const { authorId, authorType, isTyping } = frame.data;
        setTyping((state) => ({ ...state, [authorId]: isTyping ? authorType : false }));
      } else if (frame.type === "conversation") {
        const { action, changes, ...snapshot } = frame.data;
        if (snapshot.id === conversationId) setConversation((current) => ({ ...current, ...snapshot }));
      } else if (frame.type === "rating") {
        if (frame.data.conversationId === conversationId) setRating(frame.data);
      } else if (frame.type === "handoff") {
        loadHandoff();
      }
    });
    return () => {
      stop();
      realtime.unsubscribe(channel);
      realtime.typing(conversationId, false);
      clearTimeout(typingState.current.timer);
    };
  }, [realtime, listen, conversationId, loadHandoff]);

  // A new rating arrives on the socket as a rating frame. A rating given
  // before the conversation was finished here is read once when it becomes
  // resolved or closed, and a 404 there means none yet.
  const finished = conversation && (conversation.status === "resolved" || conversation.status === "closed");
  useEffect(() => {
    if (!finished) return undefined;
    let stopped = false;
    (async () => {
      try {
        const found = await api.rating(conversationId);
        if (!stopped) setRating(found);
      } catch (failure) {
        if (failure.status !== 404) fail(failure);
      }
    })();
    return () => {
      stopped = true;
    };
  }, [api, conversationId, finished, fail]);

  useEffect(() => {
    if (history.current) history.current.scrollTop = history.current.scrollHeight;
  }, [messages.length]);

  function noteTyping(value) {
    const state = typingState.current;
    clearTimeout(state.timer);
    if (!value) {
      realtime.typing(conversationId, false);
      state.sentAt = 0;
      return;
    }
    if (!isNote && Date.now() - state.sentAt > TYPING_REFRESH_MS) {
      realtime.typing(conversationId, true);
      state.sentAt = Date.now();
    }
    state.timer = setTimeout(() => {
      realtime.typing(conversationId, false);
      state.sentAt = 0;
    }, TYPING_IDLE_MS);
  }

  async function act(label, work) {
    setBusy(label);
    setError("");
    try {
      await work();
      onChanged();
    } catch (failure) {
      fail(failure);
    } finally {
      setBusy("");
    }
  }

  async function send(event) {
    if (event) event.preventDefault();
    const content = text.trim();
    if (!content) return;
    await act("send", async () => {
      const message = await api.send(conversationId, content, isNote);
      setMessages((list) => (list.some((item) => item.id === message.id) ? list : [...list, message]));
      setText("");
      setDraft(null);
      noteTyping("");
    });
  }

  const take = () =>
    act("take", async () => {
      try {
        setConversation(await api.update(conversationId, { assignedAgentId: me.id }));
      } catch (failure) {
        if (failure.status !== 409) throw failure;
        // Another agent took it first: show its assignee by the name the team list shows.
        const current = await api.conversation(conversationId);
        setConversation(current);
        const holderId = current.assignedAgentId || failure.details.current;
        if (!holderId) throw failure;
        const holder = agents.find((agent) => agent.id === holderId);
        throw new Error(
          `${holder ? holder.name : holderId} already has this conversation; ` +
            "ask an admin to reassign it",
        );
      }
    });
  const reassign = (agentId) =>
    act("reassign", async () =>
      setConversation(await api.update(conversationId, { assignedAgentId: agentId })),
    );
  const resolve = () =>
    act("resolve", async () => setConversation(await api.update(conversationId, { status: "resolved" })));
  const reopen = () =>
    act("reopen", async () => setConversation(await api.update(conversationId, { status: "open" })));
  const handBack = () =>
    act("handback", async () => {
      setHandoff(await api.handBack(conversationId));
      setConversation(await api.conversation(conversationId));
    });
  const suggest = () =>
    act("draft", async () => {
      const lastCustomer = [...messages].reverse().find((message) => message.authorType === "customer");
      if (!lastCustomer) throw new Error("there is no customer message to draft a reply to yet");
      const answer = await api.draft(conversationId, lastCustomer.content);
      setDraft(answer);
      setIsNote(false);
      setText(answer.content);
      if (composer.current) composer.current.focus();
    });

  // Shortcuts of the open conversation. The list handles j and k.
  const shortcuts = useRef(null);
  shortcuts.current = { take, resolve };
  useEffect(() => {
    function onKey(event) {
      const target = event.target;
      const editing =
        target instanceof HTMLElement &&
        (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
      if (editing) {
        if (event.key === "Escape" && target === composer.current) composer.current.blur();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "r" || event.key === "n") {
        setIsNote(event.key === "n");
        if (composer.current) composer.current.focus();
      } else if (event.key === "e") {
        shortcuts.current.resolve();
      } else if (event.key === "t") {
        shortcuts.current.take();
      } else {
        return;
      }
      event.preventDefault();
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (!conversation) {
    return (
      <main class="conversation">
        {error ? <p class="error" role="alert">{error}</p> : <p class="muted">Loading…</p>}
      </main>
    );
  }

  const mine = conversation.assignedAgentId === me.id;
  const handoffOpen = handoff && (handoff.status === "queued" || handoff.status === "assigned");
  const typers = Object.entries(typing).filter(([, kind]) => kind);
  const assignee = agents.find((agent) => agent.id === conversation.assignedAgentId);

  return (
    <>
      <main class="conversation" aria-label="Conversation">
        <header class="conv-head">
          <button type="button" class="link back" onClick={onBack}>
            ← Back
          </button>
          <div class="conv-title">
            <h1>{conversation.subject || `Conversation with ${customerLabel(conversation)}`}</h1>
            <p class="muted">
              <span data-field="status">{conversation.status}</span> · {conversation.priority} ·{" "}
              <span data-field="assignee">
                {assignee ? assignee.name : conversation.assignedAgentId || "unassigned"}
              </span>
            </p>
          </div>
          <div class="actions">
            <button
              type="button"
              class="details-toggle"
              aria-expanded={showDetails}
              onClick={() => setShowDetails((shown) => !shown)}
            >
              Customer
            </button>
            {!mine && (
              <button type="button" data-action="take" disabled={!!busy} onClick={take}>
                Take
              </button>
            )}
            <select
              aria-label="Reassign"
              value=""
              disabled={!!busy}
              onChange={(event) => event.currentTarget.value && reassign(event.currentTarget.value)}
            >
              <option value="">Reassign…</option>
              {agents
                .filter((agent) => agent.id !== conversation.assignedAgentId)
                .map((agent) => (
                  <option value={agent.id}>
                    {agent.name} ({agent.status})
                  </option>
                ))}
            </select>
            {handoffOpen && (
              <button type="button" data-action="handback" disabled={!!busy} onClick={handBack}>
                Hand back to AI
              </button>
            )}
            {finished ? (
              <button type="button" data-action="reopen" disabled={!!busy} onClick={reopen}>
                Reopen
              </button>
            ) : (
              <button type="button" data-action="resolve" class="primary" disabled={!!busy} onClick={resolve}>
                Resolve
              </button>
            )}
          </div>
        </header>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <ol class="history" ref={history} aria-label="Messages" aria-live="polite">
          {messages.map((message) => (
            <MessageItem message={message} agents={agents} />
          ))}
        </ol>
        <p class="typing" aria-live="polite">
          {typers.map(([authorId, kind]) => (kind === "customer" ? "Customer" : authorId)).join(", ")}
          {typers.length > 0 && " typing…"}
        </p>
        {draft && (
          <div class="draft" aria-label="AI suggestion">
            <span class="badge">AI suggestion · confidence {Math.round(draft.confidence * 100)}%</span>
            {draft.shouldHandoff && <span class="badge warn">the AI was unsure</span>}
            <Sources sources={draft.sources} />
          </div>
        )}
        <form class={`composer${isNote ? " note-mode" : ""}`} onSubmit={send}>
          <div class="composer-tabs">
            <label>
              <input type="radio" name="kind" checked={!isNote} onChange={() => setIsNote(false)} /> Reply
            </label>
            <label>
              <input type="radio" name="kind" checked={isNote} onChange={() => setIsNote(true)} /> Internal
              note
            </label>
            <button type="button" class="link" data-action="draft" disabled={!!busy} onClick={suggest}>
              {busy === "draft" ? "Asking the AI…" : "Suggest a reply"}
            </button>
          </div>
          <textarea
            ref={composer}
            aria-label={isNote ? "Internal note" : "Reply"}
            placeholder={isNote ? "Only agents see notes" : "Write a reply (Ctrl+Enter sends)"}
            value={text}
            rows={3}
            onInput={(event) => {
              setText(event.currentTarget.value);
              noteTyping(event.currentTarget.value);
            }}
            onKeyDown={(event) => {
              if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send(event);
            }}
          />
          <button type="submit" class="primary" data-action="send" disabled={!!busy || !text.trim()}>
            {isNote ? "Add note" : "Send"}
          </button>
        </form>
      </main>
      <CustomerPanel
        conversation={conversation}
        messageCount={messages.length}
        handoff={handoff}
        rating={rating}
        open={showDetails}
        onClose={() => setShowDetails(false)}
      />
    </>
  );
}
