/** API resources: each method is one request through the shared core. */
import { type Core, path, type QueryValue } from "./core.js";
import { type ListQuery, Paginator } from "./pagination.js";
import type {
  Agent,
  AgentCreate,
  AgentStatus,
  AgentUpdate,
  AIResponse,
  Article,
  ArticleCreate,
  ArticleUpdate,
  Conversation,
  ConversationCreate,
  ConversationStatus,
  ConversationUpdate,
  GenerateResponseRequest,
  ImportResult,
  Handoff,
  HandoffCreate,
  Mailbox,
  MailboxCreate,
  MailboxUpdate,
  Message,
  MessageCreate,
  Metrics,
  MetricsQuery,
  Priority,
  QueuedHandoff,
  RealtimeEvent,
  Satisfaction,
  SatisfactionCreate,
  SearchHit,
  TokenCreate,
  Webhook,
  WebhookCreate,
  WebhookDelivery,
  WebhookUpdate,
  WidgetSessionCreate,
} from "./types.js";

type Query = Record<string, QueryValue>;

abstract class Resource {
  constructor(protected readonly core: Core) {}

  protected paginate<T>(pathname: string, query?: object): Paginator<T> {
    return new Paginator<T>(this.core, { method: "GET", path: pathname, query: query as Query });
  }
}

export interface ConversationListQuery extends ListQuery {
  status?: ConversationStatus;
  priority?: Priority;
  mailboxId?: string;
  customerId?: string;
  assignedAgentId?: string;
  createdAfter?: string;
  createdBefore?: string;
}

export class Conversations extends Resource {
  /** Open a conversation; `customerId` is your own id for the customer. */
  create(body: ConversationCreate): Promise<Conversation> {
    return this.core.request({ method: "POST", path: "/conversations", body });
  }

  get(conversationId: string): Promise<Conversation> {
    return this.core.request({ method: "GET", path: path("/conversations/{}", conversationId) });
  }

  /** Iterate conversations, newest first. */
  list(query: ConversationListQuery = {}): Paginator<Conversation> {
    return this.paginate("/conversations", query);
  }

  /** Change status, priority, assignee, subject or metadata. */
  update(conversationId: string, body: ConversationUpdate): Promise<Conversation> {
    return this.core.request({
      method: "PATCH",
      path: path("/conversations/{}", conversationId),
      body,
    });
  }

  getSatisfaction(conversationId: string): Promise<Satisfaction> {
    return this.core.request({
      method: "GET",
      path: path("/conversations/{}/satisfaction", conversationId),
    });
  }

  /** Record the customer's satisfaction rating (1..5); a second rating replaces the first. */
  rate(conversationId: string, body: SatisfactionCreate): Promise<Satisfaction> {
    return this.core.request({
      method: "POST",
      path: path("/conversations/{}/satisfaction", conversationId),
      body,
    });
  }
}

export class Messages extends Resource {
  /**
   * Send a message; `authorType` defaults to `customer`. An agent message sent with an
   * API key must name an agent of the organization as `authorId`, so without it the
   * server rejects the message with a `ValidationError` (400). An agent's own token
   * may leave `authorId` out.
   */
  create(conversationId: string, body: MessageCreate): Promise<Message> {
    return this.core.request({
      method: "POST",
      path: path("/conversations/{}/messages", conversationId),
      body,
    });
  }

  /** Get one message, for example the one a send's `Location` header names. */
  get(conversationId: string, messageId: string): Promise<Message> {
    return this.core.request({
      method: "GET",
      path: path("/conversations/{}/messages/{}", conversationId, messageId),
    });
  }

  /** Iterate the messages of a conversation, oldest first. */
  list(conversationId: string, query: ListQuery = {}): Paginator<Message> {
    return this.paginate(path("/conversations/{}/messages", conversationId), query);
  }
}

export class Mailboxes extends Resource {
  create(body: MailboxCreate): Promise<Mailbox> {
    return this.core.request({ method: "POST", path: "/mailboxes", body });
  }

  get(mailboxId: string): Promise<Mailbox> {
    return this.core.request({ method: "GET", path: path("/mailboxes/{}", mailboxId) });
  }

  /** Iterate the mailboxes the credential may read, oldest first. */
  list(query: ListQuery = {}): Paginator<Mailbox> {
    return this.paginate("/mailboxes", query);
  }

  update(mailboxId: string, body: MailboxUpdate): Promise<Mailbox> {
    return this.core.request({ method: "PATCH", path: path("/mailboxes/{}", mailboxId), body });
  }

  /** Delete a mailbox that has no conversations. */
  delete(mailboxId: string): Promise<void> {
    return this.core.request({ method: "DELETE", path: path("/mailboxes/{}", mailboxId) });
  }
}

export class AI extends Resource {
  /** Generate an answer grounded in the knowledge base, with its sources and confidence. */
  generateResponse(body: GenerateResponseRequest): Promise<AIResponse> {
    return this.core.request({ method: "POST", path: "/ai/generate-response", body });
  }
}

export class Handoffs extends Resource {
  /** Request a human agent: the result is `assigned` (with `agentId`) or `queued`. */
  create(conversationId: string, body: HandoffCreate = {}): Promise<Handoff> {
    return this.core.request({
      method: "POST",
      path: path("/conversations/{}/handoff", conversationId),
      body,
    });
  }

  get(conversationId: string): Promise<Handoff> {
    return this.core.request({
      method: "GET",
      path: path("/conversations/{}/handoff", conversationId),
    });
  }

  complete(conversationId: string): Promise<Handoff> {
    return this.core.request({
      method: "POST",
      path: path("/conversations/{}/handoff/complete", conversationId),
      body: {},
    });
  }

  /** Hand the conversation back to the AI. */
  cancel(conversationId: string): Promise<Handoff> {
    return this.core.request({
      method: "POST",
      path: path("/conversations/{}/handoff/cancel", conversationId),
      body: {},
    });
  }

  /** Iterate handoffs, by default the queue, ordered by priority and then age. */
  list(
    query: ListQuery & { status?: string; mailboxId?: string; order?: "queue" | "created" } = {},
  ): Paginator<QueuedHandoff> {
    return this.paginate("/handoffs", query);
  }
}

export class Agents extends Resource {
  create(body: AgentCreate): Promise<Agent> {
    return this.core.request({ method: "POST", path: "/agents", body });
  }

  get(agentId: string): Promise<Agent> {
    return this.core.request({ method: "GET", path: path("/agents/{}", agentId) });
  }

  list(
    query: ListQuery & { status?: AgentStatus; skill?: string } = {},
  ): Paginator<Agent> {
    return this.paginate("/agents", query);
  }

  update(agentId: string, body: AgentUpdate): Promise<Agent> {
    return this.core.request({ method: "PATCH", path: path("/agents/{}", agentId), body });
  }

  delete(agentId: string): Promise<void> {
    return this.core.request({ method: "DELETE", path: path("/agents/{}", agentId) });
  }
}

export class Knowledge extends Resource {
  create(body: ArticleCreate): Promise<Article> {
    return this.core.request({ method: "POST", path: "/knowledge/articles", body });
  }

  get(articleId: string): Promise<Article> {
    return this.core.request({ method: "GET", path: path("/knowledge/articles/{}", articleId) });
  }

  list(query: ListQuery & { mailboxId?: string; tag?: string } = {}): Paginator<Article> {
    return this.paginate("/knowledge/articles", query);
  }

  /** Search the knowledge base; the best match comes first (`limit` 1..50). */
  async search(q: string, query: { mailboxId?: string; limit?: number } = {}): Promise<SearchHit[]> {
    const result = await this.core.request<{ data: SearchHit[] }>({
      method: "GET",
      path: "/knowledge/search",
      query: { q, ...query },
    });
    return result.data;
  }

  update(articleId: string, body: ArticleUpdate): Promise<Article> {
    return this.core.request({
      method: "PATCH",
      path: path("/knowledge/articles/{}", articleId),
      body,
    });
  }

  delete(articleId: string): Promise<void> {
    return this.core.request({
      method: "DELETE",
      path: path("/knowledge/articles/{}", articleId),
    });
  }

  /** Create or update up to 1,000 articles at once, matched by `externalId` or `url`. */
  importArticles(articles: ArticleCreate[]): Promise<ImportResult> {
    return this.core.request({
      method: "POST",
      path: "/knowledge/articles/import",
      body: { articles },
    });
  }
}

export class Analytics extends Resource {
  /** Metrics for a `period` or a `from`/`to` range, e.g. `metrics: ["response_time"]`. */
  metrics(query: MetricsQuery = {}): Promise<Metrics> {
    return this.core.request({
      method: "GET",
      path: "/analytics/metrics",
      query: query as Query,
    });
  }

  /** Export one CSV row per conversation: first response, resolution, handoff, rating. */
  exportConversations(query: Omit<MetricsQuery, "metrics" | "interval"> = {}): Promise<string> {
    return this.core.request({
      method: "GET",
      path: "/analytics/conversations.csv",
      query: query as Query,
      responseType: "text",
    });
  }
}

export class Webhooks extends Resource {
  /** Subscribe a URL to events; without `secret` the server generates one, returned once. */
  create(body: WebhookCreate): Promise<Webhook> {
    return this.core.request({ method: "POST", path: "/webhooks", body });
  }

  get(webhookId: string): Promise<Webhook> {
    return this.core.request({ method: "GET", path: path("/webhooks/{}", webhookId) });
  }

  list(query: ListQuery = {}): Paginator<Webhook> {
    return this.paginate("/webhooks", query);
  }

  update(webhookId: string, body: WebhookUpdate): Promise<Webhook> {
    return this.core.request({ method: "PATCH", path: path("/webhooks/{}", webhookId), body });
  }

  delete(webhookId: string): Promise<void> {
    return this.core.request({ method: "DELETE", path: path("/webhooks/{}", webhookId) });
  }

  /** Switch to a new signing secret (generated unless given); the old one stays valid for a grace window. */
  rotateSecret(webhookId: string, body: { secret?: string } = {}): Promise<Webhook> {
    return this.core.request({
      method: "POST",
      path: path("/webhooks/{}/rotate-secret", webhookId),
      body,
    });
  }

  deliveries(
    webhookId: string,
    query: ListQuery & { status?: string } = {},
  ): Paginator<WebhookDelivery> {
    return this.paginate(path("/webhooks/{}/deliveries", webhookId), query);
  }

  retryDelivery(webhookId: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.core.request({
      method: "POST",
      path: path("/webhooks/{}/deliveries/{}/retry", webhookId, deliveryId),
      body: {},
    });
  }

  /** Send a ping event to the subscription's URL. */
  test(webhookId: string): Promise<Record<string, unknown>> {
    return this.core.request({
      method: "POST",
      path: path("/webhooks/{}/test", webhookId),
      body: {},
    });
  }
}

export class Events extends Resource {
  /**
   * Iterate the events of a channel after `since`, for clients that poll.
   * `since` is a conversation's event sequence, a mailbox or agent channel's
   * event cursor, or an ISO 8601 time. `cursor` is the same position under
   * the name other lists use, so pass one of the two.
   */
  list(
    query: ListQuery & { channel: string; since?: number | string },
  ): Paginator<RealtimeEvent> {
    const { since, cursor, ...rest } = query;
    if (since !== undefined && cursor !== undefined) {
      throw new TypeError(
        "since and cursor were both given, but they name the same position, so pass only one of them",
      );
    }
    // The server takes the position as cursor too, and the paginator replaces
    // that parameter page by page.
    const start = cursor ?? (since === undefined ? undefined : String(since));
    return this.paginate("/events", start === undefined ? rest : { ...rest, cursor: start });
  }
}

export class Widget extends Resource {
  /** Exchange a publishable `pk_...` key for a short-lived customer token. */
  createSession(body: WidgetSessionCreate): Promise<Record<string, unknown>> {
    return this.core.request({ method: "POST", path: "/widget/session", body });
  }
}

export interface ApiKeyCreate {
  name?: string;
  kind?: "secret" | "publishable";
  role?: "admin" | "agent" | "viewer" | "customer";
  live?: boolean;
  mailboxIds?: string[];
  allowedOrigins?: string[];
}

export interface ApiKey {
  id: string;
  name: string;
  kind: string;
  role: string;
  prefix: string;
  mailboxIds: string[];
  allowedOrigins: string[];
  /** The whole key; returned only when the key is created. */
  key?: string;
  createdAt: string;
  lastUsedAt?: string | null;
  revokedAt?: string | null;
}

export class Keys extends Resource {
  /** Issue a secret or publishable key; the whole key is in `key` of this response only. */
  create(body: ApiKeyCreate): Promise<ApiKey> {
    return this.core.request({ method: "POST", path: "/keys", body });
  }

  /** Get one key's description; its secret part is never returned again. */
  get(keyId: string): Promise<ApiKey> {
    return this.core.request({ method: "GET", path: path("/keys/{}", keyId) });
  }

  /** Iterate the organization's keys, oldest first. */
  list(query: ListQuery = {}): Paginator<ApiKey> {
    return this.paginate("/keys", query);
  }

  revoke(keyId: string): Promise<void> {
    return this.core.request({ method: "DELETE", path: path("/keys/{}", keyId) });
  }
}

export class Auth extends Resource {
  /**
   * Issue an agent or viewer JWT (needs an admin key), for example
   * `createToken({ role: "agent", subject: "agt_1", ttlSeconds: 3600 })`.
   */
  createToken(body: TokenCreate): Promise<Record<string, unknown>> {
    return this.core.request({ method: "POST", path: "/auth/tokens", body });
  }

  /** Exchange an agent's email and password for an agent token, as the inbox does. */
  login(body: { email: string; password: string; orgId?: string }): Promise<Record<string, unknown>> {
    return this.core.request({ method: "POST", path: "/auth/login", body });
  }
}
