/**
 * Realtime client: WebSocket events that survive reconnects.
 *
 * `RealtimeSession` is the protocol state: frames, the subscribed channels
 * and the last position seen on each. The position is the event's `sequence`
 * on a `conversation:` channel and its `cursor` (its place in the
 * organization's event log) on `mailbox:` and `agent:` channels, which is
 * what the server's `since` counts on each. `RealtimeClient` drives it over a
 * WebSocket: the global one in browsers and Node 22+, the `ws` package
 * otherwise. When the connection drops, it reconnects with backoff,
 * authenticates, and subscribes again with `since`, so the server replays
 * what was missed. Events seen already are dropped. A reconnect refused for a
 * while (a full connection limit, an unavailable server) is retried, and one
 * refused for good (a rejected credential) fails the client.
 *
 * Two cases resubscribe on an open connection. A replay that reports
 * `hasMore` is continued from the reply's `nextSince` until the server
 * reports no more. A `conversation:` event whose sequence skips past the next one after
 * the last seen may mean that a live event was lost, for instance while Redis
 * was down between two server processes. The session then drops that event
 * and resubscribes with `since`, and the replay returns the missed events and
 * the dropped one in order.
 */
import { RealtimeError } from "./errors.js";
import type { RealtimeEvent } from "./types.js";

/** Close codes after which reconnecting cannot help: rejected credential, forbidden, policy. */
const FATAL_CLOSE_CODES = new Set([4401, 4403, 1008]);
const FATAL_ERROR_CODES = new Set(["AUTHENTICATION_ERROR", "AUTHORIZATION_ERROR"]);
/**
 * Error frame codes of a rejected `auth` frame that a later connection may not get: the REST
 * API's retryable 408, 429, 500 and 503. The server sends RATE_LIMIT_EXCEEDED when the
 * organization already has its maximum number of sockets open. Every other code fails the
 * client, because the same frame would be rejected again.
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  "TIMEOUT",
  "RATE_LIMIT_EXCEEDED",
  "INTERNAL_ERROR",
  "SERVICE_UNAVAILABLE",
]);
const INITIAL_RECONNECT_DELAY = 0.5;
const MAX_RECONNECT_DELAY = 30;
/** A longer `retryAfter` than this is waited for only this long. */
const MAX_RETRY_AFTER = 60;
const CONVERSATION_PREFIX = "conversation:";

/** Map the REST base URL (`http://host/api/v2`) to the WebSocket endpoint. */
export function realtimeUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, "").replace(/^http(s?):\/\//, "ws$1://") + "/realtime";
}

/** Build the `RealtimeError` for an error frame sent in reply to the `auth` frame. */
export function authRefusal(data: { code?: unknown; message?: unknown; details?: unknown }): RealtimeError {
  const code = typeof data.code === "string" ? data.code : null;
  const details = (typeof data.details === "object" && data.details !== null ? data.details : {}) as {
    retryAfter?: unknown;
  };
  const retryAfter =
    typeof details.retryAfter === "number" && Number.isFinite(details.retryAfter)
      ? Math.max(0, details.retryAfter)
      : null;
  return new RealtimeError(
    typeof data.message === "string" ? data.message : "the server rejected the auth frame",
    code,
    { retryable: code !== null && RETRYABLE_ERROR_CODES.has(code), retryAfter },
  );
}

/** A channel whose events come from a replay that the session requested or continues. */
interface Resync {
  /** Whether the `subscribed` reply of the resubscribe is still to come. */
  awaitingReply: boolean;
  /** Replayed events of the last reply not received yet. */
  replayLeft: number;
  /** Whether the last reply reported more events than it replayed. */
  hasMore: boolean;
  /** The last reply's `nextSince`: where the next replay starts. */
  nextSince: number | null;
}

export class RealtimeSession {
  /** Subscribed channel to the last position seen on it (null before its first event). */
  readonly channels = new Map<string, number | null>();
  private readonly resyncs = new Map<string, Resync>();
  private outgoing: string[] = [];

  constructor(
    readonly token: string,
    private readonly random: () => number = Math.random,
  ) {}

  /** The event's position as `since` counts it on the event's channel. */
  static position(event: RealtimeEvent): number | null {
    const value = event.channel?.startsWith(CONVERSATION_PREFIX) ? event.sequence : event.cursor;
    return typeof value === "number" ? value : null;
  }

  authFrame(): string {
    return JSON.stringify({ type: "auth", token: this.token });
  }

  subscribeFrame(channel: string, since?: number | null): string {
    const start = since ?? this.channels.get(channel) ?? null;
    this.channels.set(channel, start);
    const frame: Record<string, unknown> = { type: "subscribe", channel };
    if (start !== null) frame.since = start;
    return JSON.stringify(frame);
  }

  unsubscribeFrame(channel: string): string {
    this.channels.delete(channel);
    return JSON.stringify({ type: "unsubscribe", channel });
  }

  typingFrame(channel: string, isTyping: boolean): string {
    return JSON.stringify({ type: "typing", channel, data: { isTyping } });
  }

  /** Frames that restore every subscription once the server has authenticated. */
  subscribeFrames(): string[] {
    // A new connection replays every channel from its last position, so no resync is pending.
    this.resyncs.clear();
    this.outgoing = [];
    return [...this.channels].map(([channel, since]) => this.subscribeFrame(channel, since));
  }

  /** Parse one frame; null for a duplicate or an unreadable frame. Throws on rejected access. */
  receive(text: string): RealtimeEvent | null {
    let event: RealtimeEvent;
    try {
      event = JSON.parse(text) as RealtimeEvent;
    } catch {
      return null;
    }
    if (typeof event !== "object" || event === null || typeof event.type !== "string") return null;
    if (event.type === "error") {
      const data = (event.data ?? {}) as { code?: string; message?: string };
      if (data.code && FATAL_ERROR_CODES.has(data.code)) {
        throw new RealtimeError(data.message ?? "realtime access rejected", data.code);
      }
      this.endResync(event);
      return event;
    }
    if (event.type === "subscribed") {
      this.startAtReply(event);
      this.trackReplay(event);
      return event;
    }
    const position = RealtimeSession.position(event);
    if (event.channel && this.channels.has(event.channel) && position !== null) {
      if (!this.acceptInOrder(event.channel, position)) return null;
      const last = this.channels.get(event.channel) ?? null;
      // The server sends each channel's events in increasing position, live
      // and replayed, so a position not above the last one is a duplicate.
      const duplicate = last !== null && position <= last;
      if (!duplicate) this.channels.set(event.channel, position);
      this.continueReplay(event.channel);
      if (duplicate) return null;
    }
    return event;
  }

  /**
   * Store the reply's position for a channel that has none yet. The server sends live every
   * event after it and none at or before it, so a reconnect before the channel's first event
   * resumes from there and replays what was sent while the socket was down.
   */
  private startAtReply(event: RealtimeEvent): void {
    if (!event.channel || this.channels.get(event.channel) !== null) return;
    const data = (event.data ?? {}) as { sequence?: unknown; cursor?: unknown };
    const start = data.sequence ?? data.cursor;
    if (typeof start === "number" && Number.isInteger(start)) {
      this.channels.set(event.channel, start);
    }
  }

  /** Return and forget the subscribe frames that `receive` asked to send. */
  takeFrames(): string[] {
    const frames = this.outgoing;
    this.outgoing = [];
    return frames;
  }

  private resubscribe(channel: string): void {
    this.resyncs.set(channel, {
      awaitingReply: true,
      replayLeft: 0,
      hasMore: false,
      nextSince: null,
    });
    this.outgoing.push(this.subscribeFrame(channel, this.channels.get(channel)));
  }

  /** Count the events that the `subscribed` reply announces as replayed. */
  private trackReplay(event: RealtimeEvent): void {
    const channel = event.channel;
    if (!channel || !this.channels.has(channel)) return;
    const data = (event.data ?? {}) as {
      replayed?: unknown;
      hasMore?: unknown;
      nextSince?: unknown;
    };
    const replayed = data.replayed;
    const replayLeft = typeof replayed === "number" && replayed > 0 ? replayed : 0;
    let hasMore = data.hasMore === true;
    const nextSince = Number.isInteger(data.nextSince) ? (data.nextSince as number) : null;
    if (hasMore && replayLeft === 0 && nextSince === null) {
      // A server older than `nextSince` names no later `since` to continue from when it
      // replayed nothing.
      console.warn(`${channel}: the replay reported more events but no nextSince`);
      hasMore = false;
    }
    if (replayLeft === 0) {
      this.resyncs.delete(channel);
      if (hasMore) this.replayNext(channel, nextSince);
      return;
    }
    this.resyncs.set(channel, { awaitingReply: false, replayLeft, hasMore, nextSince });
  }

  /**
   * Resubscribe from `nextSince`, the last event the previous replay examined. That event may
   * be one the socket is never sent, such as an internal note on a customer socket, so
   * `nextSince` can be above the last position seen.
   */
  private replayNext(channel: string, nextSince: number | null): void {
    const last = this.channels.get(channel) ?? null;
    if (nextSince !== null && (last === null || nextSince > last)) {
      this.channels.set(channel, nextSince);
    }
    this.resubscribe(channel);
  }

  /**
   * Return whether the channel's event may be delivered now, resubscribing on a gap. While a
   * resubscribe awaits its reply, events of the channel are dropped because the replay that
   * follows the reply contains them.
   */
  private acceptInOrder(channel: string, position: number): boolean {
    const resync = this.resyncs.get(channel);
    if (resync) return !resync.awaitingReply;
    const last = this.channels.get(channel) ?? null;
    // Sequences count a conversation's log events without holes, but a socket is not sent
    // every one of them (internal notes skip customer sockets, some log events have no frame),
    // so a jump may be harmless. A replay from `last` distinguishes the two. Cursors number
    // the whole log, so mailbox and agent channels have no such check, and the server itself
    // sends their events missed over Redis from the log.
    if (channel.startsWith(CONVERSATION_PREFIX) && last !== null && position > last + 1) {
      this.resubscribe(channel);
      return false;
    }
    return true;
  }

  /** Count a replayed event, and ask for the next replay after the last one. */
  private continueReplay(channel: string): void {
    const resync = this.resyncs.get(channel);
    if (!resync) return;
    resync.replayLeft -= 1;
    if (resync.replayLeft > 0) return;
    if (resync.hasMore) this.replayNext(channel, resync.nextSince);
    else this.resyncs.delete(channel);
  }

  private endResync(event: RealtimeEvent): void {
    if (event.channel && this.resyncs.delete(event.channel)) {
      console.warn(`${event.channel}: the resubscribe failed; events may be missing`);
    }
  }

  static isFatalClose(code: number): boolean {
    return FATAL_CLOSE_CODES.has(code);
  }

  /**
   * Seconds before reconnect `attempt` (0-based): capped exponential with jitter, and at least
   * `retryAfter`, the server's hint, up to 60 s.
   */
  reconnectDelay(attempt: number, retryAfter: number | null = null): number {
    const backoff = Math.min(MAX_RECONNECT_DELAY, INITIAL_RECONNECT_DELAY * 2 ** attempt);
    const delay = backoff * (0.5 + this.random() / 2);
    return retryAfter === null ? delay : Math.max(delay, Math.min(MAX_RETRY_AFTER, retryAfter));
  }
}

/** The subset of the WebSocket interface the client uses (browsers, Node 22, `ws`). */
interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}
type SocketConstructor = new (url: string) => SocketLike;

export interface RealtimeOptions {
  apiKey: string;
  /** The REST API root; the WebSocket is `<baseUrl>/realtime`. */
  baseUrl?: string;
  /** The WebSocket URL, when it is not derived from `baseUrl`. */
  url?: string;
  /** A WebSocket constructor; defaults to the global one, then the `ws` package. */
  WebSocket?: SocketConstructor;
  /** Consecutive failed reconnects before giving up; unlimited when omitted. */
  maxReconnectAttempts?: number;
  random?: () => number;
}

async function socketConstructor(explicit?: SocketConstructor): Promise<SocketConstructor> {
  if (explicit) return explicit;
  const global = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (global) return global;
  try {
    const moduleName = "ws";
    const module = (await import(moduleName)) as { default?: SocketConstructor; WebSocket?: SocketConstructor };
    const found = module.WebSocket ?? module.default;
    if (found) return found;
  } catch {
    // reported below
  }
  throw new RealtimeError(
    "no WebSocket implementation: use Node 22+ or a browser, or install the ws package",
  );
}

const OPEN = 1;

function decodeFrame(data: unknown): string {
  return typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer);
}

export class RealtimeClient implements AsyncIterable<RealtimeEvent> {
  readonly url: string;
  readonly session: RealtimeSession;
  /** How many times the connection was re-opened after a drop. */
  reconnects = 0;
  private socket: SocketLike | null = null;
  private closed = false;
  private failure: RealtimeError | null = null;
  private readonly queue: RealtimeEvent[] = [];
  private waiter: (() => void) | null = null;
  private readonly options: RealtimeOptions;

  constructor(options: RealtimeOptions) {
    this.options = options;
    this.url = options.url ?? realtimeUrl(options.baseUrl ?? "http://localhost:3000/api/v2");
    this.session = new RealtimeSession(options.apiKey, options.random);
  }

  /** Open the connection, authenticate, and send the subscriptions made so far. */
  async connect(): Promise<void> {
    const Socket = await socketConstructor(this.options.WebSocket);
    const socket = new Socket(this.url);
    await new Promise<void>((resolve, reject) => {
      // The server rejects other frames until it has accepted the auth frame.
      const timer = setTimeout(() => {
        reject(
          new RealtimeError(`no authenticated frame from ${this.url} within 10 s`, null, { retryable: true }),
        );
        socket.close();
      }, 10_000);
      const settle = (error?: RealtimeError) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      socket.addEventListener("open", () => socket.send(this.session.authFrame()));
      socket.addEventListener("error", () =>
        settle(new RealtimeError(`could not connect to ${this.url}`, null, { retryable: true })),
      );
      socket.addEventListener("close", (event: { code: number; reason: string }) =>
        settle(
          new RealtimeError(`the realtime connection closed (${event.code} ${event.reason})`.trim(), String(event.code), {
            retryable: !RealtimeSession.isFatalClose(event.code),
          }),
        ),
      );
      socket.addEventListener("message", (event: { data: unknown }) => {
        if (this.socket === socket) return;
        try {
          const frame = this.session.receive(decodeFrame(event.data));
          if (frame?.type === "authenticated") settle();
          else if (frame?.type === "error") settle(authRefusal((frame.data ?? {}) as Record<string, unknown>));
        } catch (error) {
          settle(error as RealtimeError);
        }
      });
    });
    this.socket = socket;
    socket.addEventListener("message", (event: { data: unknown }) => this.onMessage(event.data));
    socket.addEventListener("close", (event: { code: number; reason: string }) =>
      this.onClose(socket, event.code, event.reason),
    );
    for (const frame of this.session.subscribeFrames()) socket.send(frame);
  }

  /** Subscribe to `conversation:{id}`, `mailbox:{id}` or `agent:{id}`, from `since` on. */
  subscribe(channel: string, options: { since?: number } = {}): void {
    this.send(this.session.subscribeFrame(channel, options.since));
  }

  unsubscribe(channel: string): void {
    this.send(this.session.unsubscribeFrame(channel));
  }

  sendTyping(channel: string, isTyping = true): void {
    this.send(this.session.typingFrame(channel, isTyping));
  }

  private send(frame: string): void {
    // While disconnected the frame is dropped: connectFrames() resends the subscriptions.
    if (this.socket && this.socket.readyState === OPEN) this.socket.send(frame);
  }

  private onMessage(data: unknown): void {
    try {
      const event = this.session.receive(decodeFrame(data));
      for (const frame of this.session.takeFrames()) this.send(frame);
      if (event) this.push(event);
    } catch (error) {
      this.fail(error as RealtimeError);
    }
  }

  private onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.closed || this.failure) return this.wake();
    if (RealtimeSession.isFatalClose(code)) {
      return this.fail(
        new RealtimeError(`the server closed the realtime connection (${code} ${reason})`.trim(), String(code)),
      );
    }
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    let retryAfter: number | null = null;
    for (let attempt = 0; !this.closed; attempt++) {
      const delay = this.session.reconnectDelay(attempt, retryAfter);
      await new Promise((resolve) => setTimeout(resolve, delay * 1000));
      if (this.closed) return;
      try {
        await this.connect();
        this.reconnects += 1;
        return;
      } catch (error) {
        // Only a RealtimeError classifies its cause, so any other error is retried.
        if (error instanceof RealtimeError && !error.retryable) return this.fail(error);
        retryAfter = error instanceof RealtimeError ? error.retryAfter : null;
        const code = error instanceof RealtimeError && error.code ? ` (${error.code})` : "";
        console.warn(`realtime reconnect attempt ${attempt + 1} to ${this.url} failed${code}: ${(error as Error).message}`);
        const limit = this.options.maxReconnectAttempts;
        if (limit !== undefined && attempt + 1 >= limit) {
          return this.fail(new RealtimeError(`could not reconnect to ${this.url} after ${attempt + 1} attempts`));
        }
      }
    }
  }

  private push(event: RealtimeEvent): void {
    this.queue.push(event);
    this.wake();
  }

  private fail(error: RealtimeError): void {
    this.failure = error;
    this.socket?.close();
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** Wait for the next new event; rejects with `RealtimeError` after a fatal error or `close()`. */
  async next(): Promise<RealtimeEvent> {
    for (;;) {
      const event = this.queue.shift();
      if (event) return event;
      if (this.failure) throw this.failure;
      if (this.closed) throw new RealtimeError("the realtime client is closed");
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RealtimeEvent> {
    for (;;) {
      try {
        yield await this.next();
      } catch (error) {
        if (this.closed && !this.failure) return;
        throw error;
      }
    }
  }

  close(): void {
    this.closed = true;
    this.socket?.close(1000);
    this.socket = null;
    this.wake();
  }
}
