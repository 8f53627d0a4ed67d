/**
 * Verify webhook deliveries signed by Campfire (the Standard Webhooks scheme).
 *
 * Headers: `webhook-id` (the event id, the same on every retry),
 * `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
 * (space-separated `v1,<base64 HMAC-SHA256>` over `id.timestamp.body`, one
 * per valid secret during a rotation). A `whsec_` secret is the base64 of
 * the key after the prefix; any other secret is used as its UTF-8 bytes.
 *
 * Pass the raw request body exactly as received: parsing the JSON and
 * serialising it again changes the bytes and breaks the signature.
 * Uses WebCrypto, so it runs in browsers, Node 18+ and edge runtimes.
 */
import { WebhookVerificationError } from "./errors.js";
import type { WebhookEvent } from "./types.js";

export const DEFAULT_TOLERANCE = 300;
const SECRET_PREFIX = "whsec_";

export type WebhookPayload = string | Uint8Array | ArrayBuffer;
export type WebhookHeaders =
  | Record<string, string | string[] | undefined>
  | { get(name: string): string | null };

export interface VerifyOptions {
  /** Seconds the timestamp may differ from `now`, in either direction. */
  tolerance?: number;
  /** The current time in Unix seconds; defaults to the system clock. */
  now?: number;
}

const encoder = new TextEncoder();

async function subtle(): Promise<SubtleCrypto> {
  const webCrypto = (globalThis as { crypto?: Crypto }).crypto;
  if (webCrypto?.subtle) return webCrypto.subtle;
  // Node 18 has WebCrypto in node:crypto but not on globalThis.
  const moduleName = "node:crypto";
  const nodeCrypto = (await import(moduleName)) as { webcrypto: Crypto };
  return nodeCrypto.webcrypto.subtle;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Return the HMAC key bytes of a webhook secret. */
export function signingKey(secret: string | Uint8Array): Uint8Array {
  if (secret instanceof Uint8Array) return secret;
  if (typeof secret !== "string" || secret === "") {
    throw new TypeError("the webhook secret must be a non-empty string");
  }
  if (!secret.startsWith(SECRET_PREFIX)) return encoder.encode(secret);
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new TypeError(
      "the webhook secret starts with whsec_ but the rest is not valid base64; " +
        "copy the secret exactly as the API returned it",
    );
  }
  return Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
}

function rawBody(payload: unknown): Uint8Array {
  if (typeof payload === "string") return encoder.encode(payload);
  if (payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  const kind = payload === null ? "null" : typeof payload;
  throw new TypeError(
    `verify() needs the raw request body as a string, Uint8Array or ArrayBuffer, got ${kind}. ` +
      "Pass the body exactly as received (for example express.raw() or await request.text()), " +
      "not parsed JSON: serialising it again changes the bytes and breaks the signature.",
  );
}

function header(headers: WebhookHeaders, name: string): string {
  let value: string | string[] | null | undefined;
  if (typeof (headers as { get?: unknown }).get === "function") {
    value = (headers as { get(name: string): string | null }).get(name);
  } else {
    const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
    value = entry?.[1] as string | string[] | undefined;
  }
  if (Array.isArray(value)) value = value.join(" ");
  if (value === undefined || value === null || value === "") {
    throw new WebhookVerificationError(`missing ${name} header`);
  }
  return value;
}

/** Return the `v1,<signature>` value for a payload, as the server computes it. */
export async function sign(
  payload: WebhookPayload,
  secret: string | Uint8Array,
  msgId: string,
  timestamp: number | string,
): Promise<string> {
  const body = rawBody(payload);
  const prefix = encoder.encode(`${msgId}.${timestamp}.`);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix);
  message.set(body, prefix.length);
  const crypto = await subtle();
  const key = await crypto.importKey(
    "raw",
    signingKey(secret) as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const digest = new Uint8Array(await crypto.sign("HMAC", key, message as Uint8Array<ArrayBuffer>));
  return `v1,${toBase64(digest)}`;
}

function constantTimeEqual(left: string, right: string): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++) {
    difference |= left.charCodeAt(index) ^ right.charCodeAt(index);
  }
  return difference === 0;
}

/**
 * Check a delivery's signature and timestamp, then return the parsed event.
 *
 * Throws `WebhookVerificationError` when a header is missing, the timestamp is
 * outside the tolerance or no signature matches, and `TypeError` when the
 * payload is not the raw body (for example an already-parsed object).
 */
export async function verify(
  payload: WebhookPayload,
  headers: WebhookHeaders,
  secret: string | Uint8Array,
  options: VerifyOptions = {},
): Promise<WebhookEvent> {
  const body = rawBody(payload);
  const msgId = header(headers, "webhook-id");
  const timestampText = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");

  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  if (!/^\d+$/.test(timestampText)) {
    throw new WebhookVerificationError(
      `webhook-timestamp is not a Unix time in seconds: ${JSON.stringify(timestampText)}`,
    );
  }
  const timestamp = Number(timestampText);
  const now = options.now ?? Date.now() / 1000;
  if (timestamp < now - tolerance) {
    throw new WebhookVerificationError(
      `webhook-timestamp ${timestamp} is more than ${tolerance} s old; the delivery may be a replay`,
    );
  }
  if (timestamp > now + tolerance) {
    throw new WebhookVerificationError(
      `webhook-timestamp ${timestamp} is more than ${tolerance} s in the future; check the clock`,
    );
  }

  const expected = await sign(body, secret, msgId, timestampText);
  const matched = signatures
    .split(" ")
    .some((candidate) => candidate.startsWith("v1,") && constantTimeEqual(candidate, expected));
  if (!matched) {
    throw new WebhookVerificationError(
      "no signature in webhook-signature matches this body and secret; " +
        "check the secret and pass the raw body",
    );
  }

  try {
    return JSON.parse(new TextDecoder().decode(body)) as WebhookEvent;
  } catch (error) {
    throw new WebhookVerificationError(`the signed body is not JSON: ${String(error)}`);
  }
}
