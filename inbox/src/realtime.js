// One WebSocket to /api/v2/realtime: authenticates, keeps its subscriptions
// across reconnects (replaying what was missed with `since`), and hands
// every event frame to `onEvent`.

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 15_000;

export class Realtime {
  constructor(token, { onEvent, onState }) {
    this.token = token;
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.channels = new Map(); // channel -> last sequence or cursor seen
    this.socket = null;
    this.open = false;
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
    socket.onclose = () => {
      this.open = false;
      this.onState("offline");
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
      return;
    }
    if (frame.channel && this.channels.has(frame.channel)) {
      const position = frame.channel.startsWith("conversation:") ? frame.sequence : frame.cursor;
      if (position != null) this.channels.set(frame.channel, position);
    }
    this.onEvent(frame);
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
