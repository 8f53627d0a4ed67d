/**
 * Public model types. Each comes from the generated OpenAPI types when the
 * server's document has that schema, and from the hand-written shape here
 * until then, so the SDK compiles against every server version.
 */
import type { components } from "./generated/openapi.js";

type Schemas = components["schemas"];
type Schema<Name extends string, Fallback> = Name extends keyof Schemas ? Schemas[Name] : Fallback;

export type Priority = "low" | "medium" | "high" | "urgent";
export type ConversationStatus = "open" | "pending" | "resolved" | "closed";
export type AuthorType = "customer" | "agent" | "ai" | "system";
export type Metadata = Record<string, unknown>;

export type Conversation = Schema<"Conversation", {
  id: string;
  customerId: string;
  mailboxId: string;
  subject: string | null;
  status: ConversationStatus;
  priority: Priority;
  assignedAgentId: string | null;
  unreadCount: number;
  createdAt: string;
  updatedAt: string;
  metadata: Metadata;
}>;

export type ConversationCreate = Schema<"ConversationCreate", {
  customerId: string;
  mailboxId?: string | null;
  subject?: string | null;
  priority?: Priority;
  metadata?: Metadata;
}>;

export type ConversationUpdate = Schema<"ConversationUpdate", {
  status?: ConversationStatus | null;
  priority?: Priority | null;
  assignedAgentId?: string | null;
  subject?: string | null;
  metadata?: Metadata | null;
}>;

export type Message = Schema<"Message", {
  id: string;
  conversationId: string;
  content: string;
  authorType: AuthorType;
  authorId: string | null;
  private?: boolean;
  createdAt: string;
  metadata: Metadata;
}>;

export type MessageCreate = Schema<"MessageCreate", {
  content: string;
  authorType?: AuthorType;
  authorId?: string | null;
  private?: boolean;
  metadata?: Metadata;
}>;

export type Mailbox = Schema<"Mailbox", {
  id: string;
  name: string;
  settings: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}>;

export type MailboxCreate = Schema<"MailboxCreate", {
  id?: string | null;
  name: string;
  settings?: Record<string, unknown>;
}>;

export type MailboxUpdate = Schema<"MailboxUpdate", {
  name?: string | null;
  settings?: Record<string, unknown> | null;
}>;

export type Source = Schema<"SourcePublic", {
  title: string;
  url: string;
  relevance: number;
}>;

export type GenerateResponseRequest = Schema<"GenerateRequest", {
  conversationId: string;
  messageContent: string;
  context?: Record<string, unknown>;
}>;

export type AIResponse = Schema<"GenerateResponse", {
  content: string;
  confidence: number;
  sources: Source[];
  shouldHandoff: boolean;
  handoffReason?: string | null;
  /** Seconds the server spent generating the answer. */
  responseTime: number;
  model: string;
}>;

export interface HandoffCreate {
  reason?: string;
  priority?: Priority;
  requiredSkills?: string[];
  context?: Record<string, unknown>;
}

export interface Handoff {
  id: string;
  conversationId: string;
  status: string;
  agentId: string | null;
  /** Seconds until an agent is expected; 0 when assigned at once. */
  estimatedWaitTime: number | null;
  position: number | null;
  priority: Priority;
  requiredSkills: string[];
  unroutableSkills?: string[];
  reason: string | null;
  createdAt: string;
}

/** A handoff as the queue lists it, with the conversation fields an inbox shows. */
export type QueuedHandoff = Schema<"QueuedHandoff", Handoff & {
  mailboxId: string;
  customerId: string;
  subject: string | null;
  /** Seconds since the handoff was requested. */
  waitingSeconds: number;
}>;

export type AgentStatus = "online" | "away" | "offline";

export interface Agent {
  id: string;
  name: string;
  email: string | null;
  skills: string[];
  status: AgentStatus;
  capacity: number;
  createdAt?: string;
  updatedAt?: string;
}

export interface AgentCreate {
  name: string;
  email?: string;
  skills?: string[];
  status?: AgentStatus;
  capacity?: number;
}

export type AgentUpdate = Partial<AgentCreate>;

export type Article = Schema<"ArticlePublic", {
  id: string;
  title: string;
  content: string;
  url: string | null;
  tags: string[];
  mailboxIds: string[];
  externalId: string | null;
  createdAt: string;
  updatedAt: string;
}>;

export type ArticleCreate = Schema<"ArticleCreate", {
  title: string;
  content: string;
  url?: string | null;
  tags?: string[];
  mailboxIds?: string[];
  externalId?: string | null;
}>;

export type ArticleUpdate = Schema<"ArticleUpdate", Partial<ArticleCreate>>;

export type ImportResult = Schema<"ImportResult", {
  created: number;
  updated: number;
  unchanged: number;
  articleIds: string[];
}>;

export type SearchHit = Schema<"SearchHit", {
  id: string;
  title: string;
  url: string;
  relevance: number;
  snippet: string;
}>;

export interface MetricsQuery {
  period?: "24h" | "7d" | "30d" | "90d" | string;
  metrics?: string[];
  from?: string;
  to?: string;
  timezone?: string;
  mailboxId?: string;
  interval?: "hour" | "day" | "week";
}

export interface Metrics {
  period?: string;
  metrics: Record<string, Record<string, unknown> & { trend?: string }>;
}

export interface SatisfactionCreate {
  rating: 1 | 2 | 3 | 4 | 5 | number;
  comment?: string;
}

export interface Satisfaction {
  conversationId: string;
  rating: number;
  comment: string | null;
  createdAt?: string;
}

export interface WebhookCreate {
  url: string;
  events: string[];
  /** Without one the server generates a `whsec_` secret and returns it once. */
  secret?: string;
}

export interface WebhookUpdate {
  url?: string;
  events?: string[];
  enabled?: boolean;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  /** The signing secret; returned in full only on create and rotate. */
  secret?: string;
  enabled?: boolean;
  disabledReason?: string | null;
  failingSince?: string | null;
  previousSecretExpiresAt?: string | null;
  createdAt?: string;
  updatedAt?: string;
}

export interface DeliveryAttempt {
  attempt: number;
  attemptedAt: string;
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
  nextRetryAt: string | null;
}

export interface WebhookDelivery {
  id: string;
  webhookId?: string;
  /** The event id, sent as `webhook-id` on every attempt. */
  eventId?: string;
  eventType?: string;
  status?: string;
  attemptCount?: number;
  nextAttemptAt?: string | null;
  lastStatusCode?: number | null;
  lastError?: string | null;
  deliveredAt?: string | null;
  createdAt?: string;
  attempts?: DeliveryAttempt[];
}

export interface WebhookEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  timestamp: string;
  sequence?: number;
}

export interface RealtimeEvent {
  type: string;
  channel?: string;
  data?: unknown;
  /** Position of the event within its conversation. */
  sequence?: number;
  /** Position of the event in the organization's whole event log. */
  cursor?: number;
  eventId?: string;
  timestamp?: string | number;
}

export interface WidgetSessionCreate {
  mailboxId: string;
  customerId?: string;
  customerHash?: string;
  name?: string;
  email?: string;
}

export type TokenCreate = Schema<"TokenCreate", {
  role: "agent" | "viewer";
  subject?: string | null;
  agentId?: string | null;
  mailboxIds?: string[];
  /** Lifetime in seconds: at least 60, 3600 when left out. */
  ttlSeconds?: number;
}>;
