export { CampfireClient } from "./client.js";
export { DEFAULT_BASE_URL, VERSION, type ClientOptions, type FetchLike } from "./core.js";
export * from "./errors.js";
export { Paginator, type ListQuery, type Page, type Pagination } from "./pagination.js";
export { RealtimeClient, RealtimeSession, realtimeUrl, type RealtimeOptions } from "./realtime.js";
export type * from "./types.js";
export type { ApiKey, ApiKeyCreate, ConversationListQuery } from "./resources.js";
export type { components, operations, paths } from "./generated/openapi.js";
export * as webhooks from "./webhooks.js";
