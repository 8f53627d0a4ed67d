import { Core, type ClientOptions } from "./core.js";
import { RealtimeClient, type RealtimeOptions } from "./realtime.js";
import {
  Agents,
  AI,
  Analytics,
  Auth,
  Conversations,
  Events,
  Handoffs,
  Keys,
  Knowledge,
  Mailboxes,
  Messages,
  Webhooks,
  Widget,
} from "./resources.js";

/**
 * Client for the Campfire API.
 *
 * ```ts
 * const client = new CampfireClient({ apiKey: "sk_test_...", baseUrl: "http://localhost:3000/api/v2" });
 * const conversation = await client.conversations.create({ customerId: "customer_123" });
 * ```
 *
 * Calls are retried on 408, 429, 5xx and network errors with exponential
 * backoff and jitter (`Retry-After` is honoured), and every POST, PATCH, PUT
 * and DELETE carries one Idempotency-Key for all its attempts, so a retry
 * never creates twice or applies a change again.
 */
export class CampfireClient {
  readonly conversations: Conversations;
  readonly messages: Messages;
  readonly mailboxes: Mailboxes;
  readonly ai: AI;
  readonly handoffs: Handoffs;
  readonly agents: Agents;
  readonly knowledge: Knowledge;
  readonly analytics: Analytics;
  readonly webhooks: Webhooks;
  readonly events: Events;
  readonly widget: Widget;
  readonly auth: Auth;
  readonly keys: Keys;
  private readonly core: Core;

  constructor(options: ClientOptions) {
    this.core = new Core(options);
    this.conversations = new Conversations(this.core);
    this.messages = new Messages(this.core);
    this.mailboxes = new Mailboxes(this.core);
    this.ai = new AI(this.core);
    this.handoffs = new Handoffs(this.core);
    this.agents = new Agents(this.core);
    this.knowledge = new Knowledge(this.core);
    this.analytics = new Analytics(this.core);
    this.webhooks = new Webhooks(this.core);
    this.events = new Events(this.core);
    this.widget = new Widget(this.core);
    this.auth = new Auth(this.core);
    this.keys = new Keys(this.core);
  }

  get baseUrl(): string {
    return this.core.baseUrl;
  }

  /** Create a realtime client with this client's key and base URL; call `connect()` on it. */
  realtime(options: Omit<RealtimeOptions, "apiKey" | "baseUrl"> = {}): RealtimeClient {
    return new RealtimeClient({ ...options, apiKey: this.core.apiKey, baseUrl: this.core.baseUrl });
  }
}
