/**
 * Request building, retries and response parsing over `fetch`.
 *
 * A call is retried on 408, 429, 500, 502, 503, 504, on the 409
 * IDEMPOTENCY_IN_PROGRESS code and on network errors and timeouts. Every
 * POST, PATCH, PUT and DELETE carries one Idempotency-Key for all its
 * attempts, so a retry after a lost response returns the first result
 * instead of creating a duplicate or applying a change again.
 */
import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  errorClass,
  parseRetryAfter,
} from "./errors.js";

export const VERSION = "0.1.0";
export const DEFAULT_BASE_URL = "http://localhost:3000/api/v2";
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;

/** Backoff before retry n (0-based) is min(MAX, INITIAL * 2**n) seconds times a factor in [0.5, 1). */
export const INITIAL_RETRY_DELAY = 0.5;
export const MAX_RETRY_DELAY = 8;
/** A longer Retry-After is not waited for: the error is raised so the caller decides. */
export const MAX_RETRY_AFTER = 60;

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const RETRYABLE_CONFLICT_CODES = new Set(["IDEMPOTENCY_IN_PROGRESS"]);
// The methods that get an Idempotency-Key: the server honours it on each of them.
const WRITE_METHODS = new Set(["POST", "PATCH", "PUT", "DELETE"]);

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** A secret key (`sk_...`) or a JWT. */
  apiKey: string;
  /** The API root; `http://localhost:3000/api/v2` when omitted. */
  baseUrl?: string;
  /** Milliseconds per attempt. */
  timeout?: number;
  /** Retries after the first attempt. */
  maxRetries?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Send `X-Campfire-Mock: true`, so writes are validated but not stored. */
  mock?: boolean;
  /** A `fetch` to use instead of the global one. */
  fetch?: FetchLike;
  /** A source of random numbers in [0, 1) for the backoff jitter. */
  random?: () => number;
}

export type QueryValue = string | number | boolean | Array<string | number> | null | undefined;

export interface RequestSpec {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** "json" (the default) parses the body; "text" returns it as a string. */
  responseType?: "json" | "text";
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export type Outcome = { response: RawResponse } | { failure: unknown; timeout: boolean };

/** Fill `{}` placeholders of a path with percent-encoded ids. */
export function path(template: string, ...ids: string[]): string {
  let index = 0;
  return template.replace(/\{\}/g, () => {
    const value = ids[index++];
    if (typeof value !== "string" || value === "") {
      throw new TypeError(`expected a non-empty id string, got ${JSON.stringify(value)}`);
    }
    return encodeURIComponent(value);
  });
}

export function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  // Node 18 without a global crypto: unique enough for an idempotency key,
  // which must not repeat but need not be secret.
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (char) => {
    const nibble = (Math.random() * 16) | 0;
    return (char === "x" ? nibble : (nibble & 0x3) | 0x8).toString(16);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Core {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly headers: Record<string, string>;
  private readonly fetchImpl: FetchLike;
  private readonly random: () => number;

  constructor(options: ClientOptions) {
    if (!options || typeof options.apiKey !== "string" || options.apiKey === "") {
      throw new TypeError("apiKey is missing: pass new CampfireClient({ apiKey: '...' })");
    }
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new RangeError(`maxRetries must be an integer of 0 or more, got ${maxRetries}`);
    }
    const fetchImpl = options.fetch ?? (globalThis.fetch?.bind(globalThis) as FetchLike | undefined);
    if (!fetchImpl) {
      throw new TypeError("no fetch available: use Node 18 or newer, or pass options.fetch");
    }
    this.apiKey = options.apiKey;
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = maxRetries;
    this.headers = { ...(options.headers ?? {}) };
    if (options.mock) this.headers["X-Campfire-Mock"] = "true";
    this.fetchImpl = fetchImpl;
    this.random = options.random ?? Math.random;
  }

  url(spec: RequestSpec): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value === undefined || value === null) continue;
      params.append(key, Array.isArray(value) ? value.join(",") : String(value));
    }
    const search = params.toString();
    return this.baseUrl + spec.path + (search ? `?${search}` : "");
  }

  /** Headers of every attempt of one call; a write gets its Idempotency-Key here, once. */
  requestHeaders(spec: RequestSpec): Record<string, string> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.apiKey}`,
      Accept: "application/json",
      ...this.headers,
    };
    if (spec.body !== undefined) headers["Content-Type"] = "application/json";
    const hasKey = Object.keys(headers).some((name) => name.toLowerCase() === "idempotency-key");
    if (WRITE_METHODS.has(spec.method) && !hasKey) headers["Idempotency-Key"] = randomId();
    return headers;
  }

  /** Seconds to wait before retry number `retry` (0-based), or null to stop. */
  retryDelay(retry: number, outcome: Outcome): number | null {
    if (retry >= this.maxRetries) return null;
    if ("response" in outcome) {
      if (!isRetryable(outcome.response)) return null;
      const retryAfter = parseRetryAfter(outcome.response.headers["retry-after"] ?? null);
      if (retryAfter !== null) return retryAfter <= MAX_RETRY_AFTER ? retryAfter : null;
    }
    const backoff = Math.min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2 ** retry);
    return backoff * (0.5 + this.random() / 2);
  }

  async request<T>(spec: RequestSpec): Promise<T> {
    const url = this.url(spec);
    const headers = this.requestHeaders(spec);
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    let retry = 0;
    let outcome: Outcome;
    for (;;) {
      outcome = await this.attempt(spec.method, url, headers, body);
      const delay = this.retryDelay(retry, outcome);
      if (delay === null) break;
      await sleep(delay * 1000);
      retry += 1;
    }
    if (!("response" in outcome)) {
      const target = `${spec.method} ${url.split("?")[0]}`;
      const reason = outcome.failure instanceof Error ? outcome.failure.message : String(outcome.failure);
      const ErrorType = outcome.timeout ? APITimeoutError : APIConnectionError;
      const verb = outcome.timeout ? `timed out after ${this.timeout} ms` : `failed: ${reason}`;
      throw new ErrorType(`${target} ${verb}`, { cause: outcome.failure });
    }
    const response = outcome.response;
    if (response.status >= 400) throw apiError(response);
    if (spec.responseType === "text") return response.text as T;
    return decode(response) as T;
  }

  private async attempt(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Outcome> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeout);
    try {
      const init: RequestInit = { method, headers, signal: controller.signal };
      if (body !== undefined) init.body = body;
      const response = await this.fetchImpl(url, init);
      const text = await response.text();
      const lowered: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        lowered[name.toLowerCase()] = value;
      });
      return { response: { status: response.status, headers: lowered, text } };
    } catch (failure) {
      return { failure, timeout: timedOut };
    } finally {
      clearTimeout(timer);
    }
  }
}

function errorCode(response: RawResponse): string | null {
  try {
    return JSON.parse(response.text)?.error?.code ?? null;
  } catch {
    return null;
  }
}

function isRetryable(response: RawResponse): boolean {
  if (RETRYABLE_STATUSES.has(response.status)) return true;
  return response.status === 409 && RETRYABLE_CONFLICT_CODES.has(errorCode(response) ?? "");
}

function decode(response: RawResponse): unknown {
  if (response.status === 204 || response.text === "") return undefined;
  try {
    return JSON.parse(response.text);
  } catch {
    throw new APIError(`the API returned a body that is not JSON: ${response.text.slice(0, 200)}`, {
      status: response.status,
      requestId: response.headers["x-request-id"] ?? null,
      headers: response.headers,
    });
  }
}

/** Build the error for an error response from its envelope. */
export function apiError(response: RawResponse): APIError {
  let requestId = response.headers["x-request-id"] ?? null;
  let code: string | null = null;
  let message: string | null = null;
  let details: Record<string, unknown> = {};
  try {
    const error = JSON.parse(response.text).error;
    code = error.code ?? null;
    message = error.message ?? null;
    details = error.details ?? {};
    requestId = error.requestId ?? requestId;
  } catch {
    const text = response.text.slice(0, 200).trim();
    message = `HTTP ${response.status} without an error envelope: ${text || "(empty)"}`;
  }
  const ErrorType = errorClass(response.status, code);
  return new ErrorType(message ?? `HTTP ${response.status}`, {
    status: response.status,
    code,
    details,
    requestId,
    headers: response.headers,
  });
}
