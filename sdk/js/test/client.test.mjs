import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  APIConnectionError,
  AuthenticationError,
  CampfireClient,
  ConflictError,
  NotFoundError,
  Paginator,
  ValidationError,
} from "@campfire/sdk";
import { AGENT_ID, MAILBOX_ID, TEST_KEY, startServer, uniqueCustomer } from "./helpers.mjs";

let server;
let client;

before(async () => {
  server = await startServer();
  client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api });
});

after(async () => {
  await server?.stop();
});

test("conversation create, get and update", async () => {
  const customerId = uniqueCustomer();
  const created = await client.conversations.create({
    customerId,
    mailboxId: MAILBOX_ID,
    subject: "Billing Question",
    priority: "high",
    metadata: { source: "widget", nested: { snake_case: 1 } },
  });
  assert.match(created.id, /^conv_/);
  assert.equal(created.customerId, customerId);
  assert.equal(created.priority, "high");
  assert.deepEqual(created.metadata, { source: "widget", nested: { snake_case: 1 } });

  const fetched = await client.conversations.get(created.id);
  assert.equal(fetched.subject, "Billing Question");

  const updated = await client.conversations.update(created.id, { status: "resolved" });
  assert.equal(updated.status, "resolved");
  assert.equal(updated.priority, "high");
});

test("messages create and list", async () => {
  const conversation = await client.conversations.create({ customerId: uniqueCustomer() });
  const first = await client.messages.create(conversation.id, {
    content: "Café ☕ first",
    authorType: "customer",
  });
  assert.match(first.id, /^msg_/);
  assert.equal(first.content, "Café ☕ first");
  await client.messages.create(conversation.id, {
    content: "note",
    authorType: "agent",
    authorId: AGENT_ID,
    private: true,
  });

  // The development mailbox answers with AI, so only the messages sent here are compared.
  const contents = [];
  for await (const message of client.messages.list(conversation.id)) {
    if (message.authorType !== "ai" && message.authorType !== "system") contents.push(message.content);
  }
  assert.deepEqual(contents, ["Café ☕ first", "note"]);
});

test("list follows the cursor across pages", async () => {
  const customerId = uniqueCustomer();
  const created = [];
  for (let index = 0; index < 7; index++) {
    created.push((await client.conversations.create({ customerId })).id);
  }
  const listing = client.conversations.list({ customerId, limit: 3 });
  assert.ok(listing instanceof Paginator);
  const seen = (await listing.toArray()).map((conversation) => conversation.id);
  assert.equal(seen.length, 7);
  assert.deepEqual(new Set(seen), new Set(created));

  const page = await listing.firstPage();
  assert.equal(page.data.length, 3);
  assert.equal(page.pagination.hasMore, true);
  assert.ok(page.pagination.nextCursor);
});

test("mailboxes round trip", async () => {
  const mailbox = await client.mailboxes.create({ name: "Sales desk" });
  assert.equal((await client.mailboxes.update(mailbox.id, { name: "Sales" })).name, "Sales");
  const ids = (await client.mailboxes.list().toArray()).map((item) => item.id);
  assert.ok(ids.includes(mailbox.id));
  assert.equal(await client.mailboxes.delete(mailbox.id), undefined);
  await assert.rejects(client.mailboxes.get(mailbox.id), NotFoundError);
});

test("not found carries the request id", async () => {
  const error = await client.conversations.get("conv_missing").catch((caught) => caught);
  assert.ok(error instanceof NotFoundError);
  assert.equal(error.status, 404);
  assert.equal(error.code, "NOT_FOUND");
  assert.ok(error.requestId);
  assert.equal(error.requestId, error.headers["x-request-id"]);
  assert.ok(error.message.includes(error.requestId));
});

test("validation error names the field", async () => {
  const conversation = await client.conversations.create({ customerId: uniqueCustomer() });
  const error = await client.messages
    .create(conversation.id, { content: "x".repeat(10_001) })
    .catch((caught) => caught);
  assert.ok(error instanceof ValidationError);
  assert.equal(error.details.field, "content");
});

test("bad key is an authentication error", async () => {
  const bad = new CampfireClient({ apiKey: "sk_test_wrong", baseUrl: server.api });
  const error = await bad.conversations.get("conv_x").catch((caught) => caught);
  assert.ok(error instanceof AuthenticationError);
  assert.equal(error.status, 401);
});

test("reused idempotency key with another body is a conflict", async () => {
  const customerId = uniqueCustomer();
  const pinned = new CampfireClient({
    apiKey: TEST_KEY,
    baseUrl: server.api,
    headers: { "Idempotency-Key": `reuse-${customerId}` },
  });
  const first = await pinned.conversations.create({ customerId, subject: "one" });
  const again = await pinned.conversations.create({ customerId, subject: "one" });
  assert.equal(again.id, first.id);
  const error = await pinned.conversations.create({ customerId, subject: "two" }).catch((e) => e);
  assert.ok(error instanceof ConflictError);
  assert.equal(error.code, "IDEMPOTENCY_KEY_REUSED");
});

test("missing api key is explained", () => {
  assert.throws(() => new CampfireClient({}), /apiKey is missing/);
});

test("ids are percent-encoded", async () => {
  const seen = [];
  const recording = new CampfireClient({
    apiKey: "k",
    baseUrl: "http://127.0.0.1:9/api/v2",
    fetch: async (url) => {
      seen.push(url);
      return new Response(JSON.stringify({ id: "conv_1" }), { status: 200 });
    },
  });
  await recording.conversations.get("a/b?c");
  assert.deepEqual(seen, ["http://127.0.0.1:9/api/v2/conversations/a%2Fb%3Fc"]);
  assert.throws(() => recording.conversations.get(""), /non-empty id/);
});

test("unreachable server is a connection error", async () => {
  const offline = new CampfireClient({ apiKey: "k", baseUrl: "http://127.0.0.1:9/api/v2", maxRetries: 0 });
  await assert.rejects(offline.conversations.get("conv_1"), APIConnectionError);
});

test("default base url is the development server", () => {
  assert.equal(new CampfireClient({ apiKey: "k" }).baseUrl, "http://localhost:3000/api/v2");
});
