/**
 * Errors raised by the SDK.
 *
 *     CampfireError
 *     ├── APIConnectionError            no HTTP response arrived
 *     │   └── APITimeoutError
 *     ├── APIError                      the server returned an error envelope
 *     │   ├── ValidationError           400 VALIDATION_ERROR
 *     │   ├── AuthenticationError       401 AUTHENTICATION_ERROR
 *     │   ├── AuthorizationError        403 AUTHORIZATION_ERROR
 *     │   ├── NotFoundError             404 NOT_FOUND
 *     │   ├── MethodNotAllowedError     405 METHOD_NOT_ALLOWED
 *     │   ├── ConflictError             409 CONFLICT (and specific 409 codes)
 *     │   ├── PayloadTooLargeError      413 PAYLOAD_TOO_LARGE
 *     │   ├── UnsupportedMediaTypeError 415 UNSUPPORTED_MEDIA_TYPE
 *     │   ├── RateLimitError            429 RATE_LIMIT_EXCEEDED
 *     │   ├── InternalServerError       500 INTERNAL_ERROR
 *     │   └── ServiceUnavailableError   503 SERVICE_UNAVAILABLE
 *     ├── RealtimeError                 an error frame or close on the WebSocket
 *     └── WebhookVerificationError      a webhook delivery failed verification
 */

export class CampfireError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class APIConnectionError extends CampfireError {}

export class APITimeoutError extends APIConnectionError {}

export interface APIErrorInit {
  status: number;
  code?: string | null;
  details?: Record<string, unknown>;
  requestId?: string | null;
  headers?: Record<string, string>;
}

/** The API returned an error; `requestId` is the `X-Request-ID` to quote in support requests. */
export class APIError extends CampfireError {
  static readonly defaultCode: string = "API_ERROR";
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly requestId: string | null;
  readonly headers: Record<string, string>;

  constructor(message: string, init: APIErrorInit) {
    const requestId = init.requestId ?? null;
    super(requestId ? `${message} (request id ${requestId})` : message);
    this.status = init.status;
    this.code = init.code ?? (new.target as typeof APIError).defaultCode;
    this.details = init.details ?? {};
    this.requestId = requestId;
    this.headers = init.headers ?? {};
  }
}

export class ValidationError extends APIError {
  static override readonly defaultCode = "VALIDATION_ERROR";
}
export class AuthenticationError extends APIError {
  static override readonly defaultCode = "AUTHENTICATION_ERROR";
}
export class AuthorizationError extends APIError {
  static override readonly defaultCode = "AUTHORIZATION_ERROR";
}
export class NotFoundError extends APIError {
  static override readonly defaultCode = "NOT_FOUND";
}
export class MethodNotAllowedError extends APIError {
  static override readonly defaultCode = "METHOD_NOT_ALLOWED";
}
export class ConflictError extends APIError {
  static override readonly defaultCode = "CONFLICT";
}
export class PayloadTooLargeError extends APIError {
  static override readonly defaultCode = "PAYLOAD_TOO_LARGE";
}
export class UnsupportedMediaTypeError extends APIError {
  static override readonly defaultCode = "UNSUPPORTED_MEDIA_TYPE";
}
export class RateLimitError extends APIError {
  static override readonly defaultCode = "RATE_LIMIT_EXCEEDED";

  /** Seconds the server asked the client to wait, from `Retry-After`. */
  get retryAfter(): number | null {
    return parseRetryAfter(this.headers["retry-after"] ?? null);
  }
}
export class InternalServerError extends APIError {
  static override readonly defaultCode = "INTERNAL_ERROR";
}
export class ServiceUnavailableError extends APIError {
  static override readonly defaultCode = "SERVICE_UNAVAILABLE";
}

export class RealtimeError extends CampfireError {
  /** The error frame's code, such as `RATE_LIMIT_EXCEEDED`, or the close code. */
  readonly code: string | null;
  /** Whether a new connection may succeed, as after a full connection limit. */
  readonly retryable: boolean;
  /** Seconds the server asked the client to wait, from `details.retryAfter`. */
  readonly retryAfter: number | null;

  constructor(
    message: string,
    code: string | null = null,
    options: { retryable?: boolean; retryAfter?: number | null } = {},
  ) {
    super(message);
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfter = options.retryAfter ?? null;
  }
}

export class WebhookVerificationError extends CampfireError {}

type APIErrorClass = new (message: string, init: APIErrorInit) => APIError;

const CLASSES: Array<APIErrorClass & { defaultCode: string }> = [
  ValidationError,
  AuthenticationError,
  AuthorizationError,
  NotFoundError,
  MethodNotAllowedError,
  ConflictError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  RateLimitError,
  InternalServerError,
  ServiceUnavailableError,
];

const BY_CODE = new Map(CLASSES.map((cls) => [cls.defaultCode, cls]));

const BY_STATUS = new Map<number, APIErrorClass>([
  [400, ValidationError],
  [401, AuthenticationError],
  [403, AuthorizationError],
  [404, NotFoundError],
  [405, MethodNotAllowedError],
  [409, ConflictError],
  [413, PayloadTooLargeError],
  [415, UnsupportedMediaTypeError],
  [429, RateLimitError],
  [500, InternalServerError],
  [503, ServiceUnavailableError],
]);

/** Pick the error class for a response, by its code first, then by HTTP status. */
export function errorClass(status: number, code: string | null | undefined): APIErrorClass {
  const byCode = code ? BY_CODE.get(code) : undefined;
  if (byCode) return byCode;
  const byStatus = BY_STATUS.get(status);
  if (byStatus) return byStatus;
  return status >= 500 ? InternalServerError : APIError;
}

/** Parse `Retry-After` in seconds or as an HTTP date; null when absent or invalid. */
export function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(value);
  if (Number.isNaN(when)) return null;
  return Math.max(0, (when - Date.now()) / 1000);
}
