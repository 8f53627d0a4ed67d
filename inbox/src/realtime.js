// One WebSocket to /api/v2/realtime: authenticates, keeps its subscriptions
// across reconnects (replaying what was missed with `since`), and hands
// every event frame to `onEvent` once, in order. A replay that reports
// `hasMore` is continued from the reply's `nextSince`. A conversation event whose
// sequence skips past the next one may follow a lost frame (Redis down
// between two server processes). Such an event is dropped and the channel is
// resubscribed from the last sequence, so the replay returns both in order.

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 15_000;
// The close code of a socket rejected because its organization has reached its maximum of sockets.
const CLOSE_TOO_MANY_SOCKETS = 4429;

export class Realtime {
  constructor(token, { onEvent, onState }) {
    this.token = token;
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.channels = new Map(); // channel -> last sequence or cursor seen
    // channel -> {awaitingReply, replayLeft, hasMore, nextSince} while its events come from a replay
    this.resyncs = new Map();
    this.socket = null;
    this.open = false;
    // The organization's socket limit, named by the error frame of a rejected socket.
    this.socketLimit = null;
    this.closed = false;
    this.delay = RECONNECT_MIN_MS;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/api/v2/realtime`);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: this.token }));
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      this.open = false;
      if (event.code === CLOSE_TOO_MANY_SOCKETS) {
        // onState gets the limit from the error frame before the close, when there was one.
        this.onState("limited", {
          limit: this.socketLimit,
          retryInSeconds: Math.ceil(this.delay / 1000),
        });
      } else {
        this.onState("offline");
      }
      this.socketLimit = null;
      if (this.closed) return;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
    };
  }

  receive(frame) {
    if (frame.type === "authenticated") {
      this.open = true;
      this.delay = RECONNECT_MIN_MS;
      this.onState("online");
      // Every channel is replayed from its last position, so no resync is pending.
      this.resyncs.clear();
      for (const [channel, since] of this.channels) this.sendSubscribe(channel, since);
      return;
    }
    if (frame.type === "ping") {
      this.send({ type: "pong" });
      return;
    }
    if (frame.type === "subscribed") {
      const position = frame.data && (frame.data.sequence ?? frame.data.cursor);
      if (this.channels.has(frame.channel) && this.channels.get(frame.channel) == null) {
        this.channels.set(frame.channel, position ?? null);
      }
      this.trackReplay(frame);
      return;
    }
    if (frame.type === "error" && frame.channel) this.resyncs.delete(frame.channel);
    const details = frame.type === "error" && frame.data && frame.data.details;
    if (details && details.name === "websocketConnections") this.socketLimit = details.limit;
    if (frame.channel && this.channels.has(frame.channel)) {
      const position = frame.channel.startsWith("conversation:") ? frame.sequence : frame.cursor;
      if (position != null) {
        if (!this.acceptInOrder(frame.channel, position)) return;
        // Each channel's events arrive in increasing position, live and
        // replayed, so a position not above the last one is a duplicate.
        const last = this.channels.get(frame.channel);
        const duplicate = last != null && position <= last;
        if (!duplicate) this.channels.set(frame.channel, position);
        this.continueReplay(frame.channel);
        if (duplicate) return;
      }
    }
    this.onEvent(frame);
  }

  resubscribe(channel) {
    this.resyncs.set(channel, { awaitingReply: true, replayLeft: 0, hasMore: false, nextSince: null });
    this.sendSubscribe(channel, this.channels.get(channel));
  }

  // Count the events that a `subscribed` reply announces as replayed.
  trackReplay(frame) {
    const data = frame.data || {};
    const replayLeft = Number.isInteger(data.replayed) && data.replayed > 0 ? data.replayed : 0;
    const hasMore = data.hasMore === true;
    const nextSince = Number.isInteger(data.nextSince) ? data.nextSince : null;
    if (replayLeft === 0) {
      this.resyncs.delete(frame.channel);
      // A server older than `nextSince` names no later `since` to continue
      // from when it replayed nothing.
      if (hasMore && nextSince !== null) this.replayNext(frame.channel, nextSince);
      return;
    }
    this.resyncs.set(frame.channel, { awaitingReply: false, replayLeft, hasMore, nextSince });
  }

  // Resubscribe from `nextSince`, the last event the previous replay
  // examined. That event may be one this socket is never sent (another
  // agent's event on an agent channel), so it can be above the last seen.
  replayNext(channel, nextSince) {
    const last = this.channels.get(channel);
    if (nextSince !== null && (last == null || nextSince > last)) this.channels.set(channel, nextSince);
    this.resubscribe(channel);
  }

  // Whether the channel's event may be delivered now. While a resubscribe
  // awaits its reply the channel's events are dropped, because the replay
  // after the reply contains them.
  acceptInOrder(channel, position) {
    const resync = this.resyncs.get(channel);
    if (resync) return !resync.awaitingReply;
    const last = this.channels.get(channel);
    // Conversation sequences have no holes, but not every log event becomes
    // a frame, so the replay decides whether the jump lost anything. Cursors
    // number the whole log. The server itself sends mailbox and agent events
    // that Redis missed, from the log.
    if (channel.startsWith("conversation:") && last != null && position > last + 1) {
      this.resubscribe(channel);
      return false;
    }
    return true;
  }

  // Count a replayed event, and ask for the next replay after the last one.
  continueReplay(channel) {
    const resync = this.resyncs.get(channel);
    if (!resync) return;
    resync.replayLeft -= 1;
    if (resync.replayLeft > 0) return;
    if (resync.hasMore) this.replayNext(channel, resync.nextSince);
    else this.resyncs.delete(channel);
  }

  send(frame) {
    if (this.open && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
    }
  }

  sendSubscribe(channel, since) {
    const frame = { type: "subscribe", channel };
    if (since != null) frame.since = since;
    this.send(frame);
  }

  subscribe(channel) {
    if (this.channels.has(channel)) return;
    this.channels.set(channel, null);
    this.sendSubscribe(channel, null);
  }

  unsubscribe(channel) {
    if (!this.channels.delete(channel)) return;
    this.resyncs.delete(channel);
    this.send({ type: "unsubscribe", channel });
  }

  typing(conversationId, isTyping) {
    this.send({ type: "typing", channel: `conversation:${conversationId}`, data: { isTyping } });
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close(1000, "signed out");
  }
}
