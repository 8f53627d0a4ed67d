import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { CampfireClient, RateLimitError, ServiceUnavailableError, ValidationError } from "@campfire/sdk";
import { TEST_KEY, startServer, uniqueCustomer } from "./helpers.mjs";

let server;
let client;

before(async () => {
  server = await startServer();
  client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api });
});

after(async () => {
  await server?.stop();
});

/**
 * A proxy in front of the server applying one planned fault per request:
 * "forward", "drop-before" (close without forwarding), "drop-after" (forward,
 * then close without a response) or [status, headers] returned directly.
 */
async function faultProxy(upstream, plan) {
  const requests = [];
  const proxy = createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    requests.push({ method: request.method, url: request.url, headers: request.headers });
    const fault = plan.shift() ?? "forward";
    if (fault === "drop-before") return request.socket.destroy();
    if (Array.isArray(fault)) {
      const [status, headers] = fault;
      response.writeHead(status, { "content-type": "application/json", ...headers });
      return response.end(
        JSON.stringify({ error: { code: "INJECTED", message: "injected", details: {}, requestId: "req_injected" } }),
      );
    }
    const headers = { ...request.headers };
    delete headers.host;
    delete headers.connection;
    const init = { method: request.method, headers };
    if (body.length) init.body = body;
    const forwarded = await fetch(upstream + request.url, init);
    const text = await forwarded.text();
    if (fault === "drop-after") return request.socket.destroy();
    response.writeHead(forwarded.status, { "content-type": "application/json", "x-request-id": forwarded.headers.get("x-request-id") ?? "" });
    response.end(text);
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address();
  return {
    api: `http://127.0.0.1:${port}/api/v2`,
    requests,
    close: () => new Promise((resolve) => proxy.close(resolve)),
  };
}

test("lost response creates once", async () => {
  const customerId = uniqueCustomer();
  const proxy = await faultProxy(`http://127.0.0.1:${server.port}`, ["drop-after", [502, {}]]);
  try {
    const sdk = new CampfireClient({ apiKey: TEST_KEY, baseUrl: proxy.api, random: () => 0 });
    const conversation = await sdk.conversations.create({ customerId, subject: "once" });
    assert.equal(proxy.requests.length, 3);
    const keys = new Set(proxy.requests.map((request) => request.headers["idempotency-key"]));
    assert.equal(keys.size, 1);
    assert.ok([...keys][0]);
    const stored = await client.conversations.list({ customerId }).toArray();
    assert.deepEqual(stored.map((item) => item.id), [conversation.id]);
  } finally {
    await proxy.close();
  }
});

test("retry-after is honoured", async () => {
  const proxy = await faultProxy(`http://127.0.0.1:${server.port}`, [
    [429, { "retry-after": "0" }],
    [503, { "retry-after": "0" }],
  ]);
  try {
    const sdk = new CampfireClient({ apiKey: TEST_KEY, baseUrl: proxy.api });
    const page = await sdk.conversations.list({ customerId: uniqueCustomer() }).firstPage();
    assert.deepEqual(page.data, []);
    assert.equal(proxy.requests.length, 3);
  } finally {
    await proxy.close();
  }
});

test("connection drops are retried then raised", async () => {
  const proxy = await faultProxy("http://127.0.0.1:9", ["drop-before", "drop-before", "drop-before"]);
  try {
    const sdk = new CampfireClient({ apiKey: TEST_KEY, baseUrl: proxy.api, random: () => 0 });
    await assert.rejects(sdk.conversations.get("conv_1"), { name: "APIConnectionError" });
    assert.equal(proxy.requests.length, 3);
  } finally {
    await proxy.close();
  }
});

test("max retries zero raises the first error", async () => {
  const proxy = await faultProxy(`http://127.0.0.1:${server.port}`, [[503, { "retry-after": "0" }]]);
  try {
    const sdk = new CampfireClient({ apiKey: TEST_KEY, baseUrl: proxy.api, maxRetries: 0 });
    const error = await sdk.conversations.get("conv_1").catch((caught) => caught);
    assert.ok(error instanceof ServiceUnavailableError);
    assert.equal(error.requestId, "req_injected");
    assert.equal(proxy.requests.length, 1);
  } finally {
    await proxy.close();
  }
});

function scripted(responses) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const next = responses.shift();
    if (next instanceof Error) throw next;
    return new Response(next.body ?? "{}", { status: next.status, headers: next.headers ?? {} });
  };
  return { calls, fetch };
}

const envelope = (code) => JSON.stringify({ error: { code, message: "m", details: {}, requestId: "req_1" } });

test("backoff doubles within jitter bounds", () => {
  const low = new CampfireClient({ apiKey: "k", maxRetries: 5, random: () => 0 });
  const core = low["core"];
  const failure = { failure: new Error("reset"), timeout: false };
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => core.retryDelay(n, failure)), [0.25, 0.5, 1, 2, 4]);
  assert.equal(core.retryDelay(5, failure), null);
  const high = new CampfireClient({ apiKey: "k", maxRetries: 10, random: () => 0.999 })["core"];
  assert.ok(Math.abs(high.retryDelay(9, failure) - 8) < 0.01);
});

test("long retry-after raises at once", async () => {
  const { calls, fetch } = scripted([{ status: 429, headers: { "retry-after": "3600" }, body: envelope("RATE_LIMIT_EXCEEDED") }]);
  const sdk = new CampfireClient({ apiKey: "k", baseUrl: "http://127.0.0.1:9/api/v2", fetch });
  const error = await sdk.conversations.get("conv_1").catch((caught) => caught);
  assert.ok(error instanceof RateLimitError);
  assert.equal(error.retryAfter, 3600);
  assert.equal(calls.length, 1);
});

test("client errors are not retried", async () => {
  const { calls, fetch } = scripted([{ status: 400, body: envelope("VALIDATION_ERROR") }]);
  const sdk = new CampfireClient({ apiKey: "k", baseUrl: "http://127.0.0.1:9/api/v2", fetch });
  await assert.rejects(sdk.conversations.create({ customerId: "c" }), ValidationError);
  assert.equal(calls.length, 1);
});

test("idempotency in progress is retried with the same key", async () => {
  const { calls, fetch } = scripted([
    { status: 409, headers: { "retry-after": "0" }, body: envelope("IDEMPOTENCY_IN_PROGRESS") },
    { status: 201, body: JSON.stringify({ id: "conv_1" }) },
  ]);
  const sdk = new CampfireClient({ apiKey: "k", baseUrl: "http://127.0.0.1:9/api/v2", fetch });
  assert.equal((await sdk.conversations.create({ customerId: "c" })).id, "conv_1");
  assert.equal(calls.length, 2);
  assert.equal(calls[0].init.headers["Idempotency-Key"], calls[1].init.headers["Idempotency-Key"]);
  assert.equal(calls[0].init.body, JSON.stringify({ customerId: "c" }));
});

test("each post gets its own key and gets none", async () => {
  const { calls, fetch } = scripted([{ status: 201 }, { status: 201 }, { status: 200 }]);
  const sdk = new CampfireClient({ apiKey: "k", baseUrl: "http://127.0.0.1:9/api/v2", fetch });
  await sdk.conversations.create({ customerId: "c" });
  await sdk.conversations.create({ customerId: "c" });
  await sdk.conversations.get("conv_1");
  const [first, second, third] = calls.map((call) => call.init.headers["Idempotency-Key"]);
  assert.ok(first);
  assert.ok(second);
  assert.notEqual(first, second);
  assert.equal(third, undefined);
});

test("patch and delete reuse one key across retries", async () => {
  const { calls, fetch } = scripted([
    { status: 503, headers: { "retry-after": "0" }, body: envelope("SERVICE_UNAVAILABLE") },
    { status: 200, body: JSON.stringify({ id: "conv_1" }) },
    { status: 503, headers: { "retry-after": "0" }, body: envelope("SERVICE_UNAVAILABLE") },
    { status: 200 },
  ]);
  const sdk = new CampfireClient({ apiKey: "k", baseUrl: "http://127.0.0.1:9/api/v2", fetch });
  await sdk.conversations.update("conv_1", { subject: "after" });
  await sdk.webhooks.delete("wh_1");
  const keys = calls.map((call) => call.init.headers["Idempotency-Key"]);
  assert.deepEqual(calls.map((call) => call.init.method), ["PATCH", "PATCH", "DELETE", "DELETE"]);
  assert.ok(keys[0]);
  assert.equal(keys[0], keys[1]);
  assert.ok(keys[2]);
  assert.equal(keys[2], keys[3]);
  assert.notEqual(keys[0], keys[2]);
});

test("timeout is an APITimeoutError", async () => {
  const fetch = (url, init) =>
    new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new Error("aborted"))));
  const sdk = new CampfireClient({ apiKey: "k", baseUrl: "http://127.0.0.1:9/api/v2", fetch, timeout: 50, maxRetries: 1, random: () => 0 });
  await assert.rejects(sdk.conversations.get("conv_1"), { name: "APITimeoutError" });
});
