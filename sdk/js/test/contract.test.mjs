// Every operation in the server's OpenAPI document is reachable from the JS SDK.
//
// Operations are matched to SDK calls by method and path, then each call is
// made through a recording fetch and must send exactly that method and path.
// Only the operations of the server code under test are checked, so rows for
// endpoints that do not exist yet wait.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CampfireClient } from "@campfire/sdk";
import { openapiDocument } from "../scripts/generate.mjs";

const A = "id_1";
const B = "id_2";
const PREFIX = "/api/v2";

/** "METHOD /path with {} per parameter" to the SDK call, with ids A then B. */
const CALLS = {
  "POST /conversations": (c) => c.conversations.create({ customerId: "cus_1", subject: "s" }),
  "GET /conversations": (c) => c.conversations.list({ status: "open" }).firstPage(),
  "GET /conversations/{}": (c) => c.conversations.get(A),
  "PATCH /conversations/{}": (c) => c.conversations.update(A, { status: "resolved" }),
  "POST /conversations/{}/satisfaction": (c) => c.conversations.rate(A, { rating: 5 }),
  "POST /conversations/{}/messages": (c) => c.messages.create(A, { content: "hi" }),
  "GET /conversations/{}/messages": (c) => c.messages.list(A).firstPage(),
  "GET /conversations/{}/messages/{}": (c) => c.messages.get(A, B),
  "POST /mailboxes": (c) => c.mailboxes.create({ name: "Support" }),
  "GET /mailboxes": (c) => c.mailboxes.list().firstPage(),
  "GET /mailboxes/{}": (c) => c.mailboxes.get(A),
  "PATCH /mailboxes/{}": (c) => c.mailboxes.update(A, { name: "n" }),
  "DELETE /mailboxes/{}": (c) => c.mailboxes.delete(A),
  "POST /ai/generate-response": (c) => c.ai.generateResponse({ conversationId: A, messageContent: "q" }),
  "POST /conversations/{}/handoff": (c) => c.handoffs.create(A, { reason: "r" }),
  "GET /conversations/{}/handoff": (c) => c.handoffs.get(A),
  "POST /conversations/{}/handoff/complete": (c) => c.handoffs.complete(A),
  "POST /conversations/{}/handoff/cancel": (c) => c.handoffs.cancel(A),
  "GET /handoffs": (c) => c.handoffs.list({ status: "queued" }).firstPage(),
  "POST /auth/login": (c) => c.auth.login({ email: "a@example.test", password: "p" }),
  "POST /agents": (c) => c.agents.create({ name: "Ann" }),
  "GET /agents": (c) => c.agents.list().firstPage(),
  "GET /agents/{}": (c) => c.agents.get(A),
  "PATCH /agents/{}": (c) => c.agents.update(A, { status: "online" }),
  "DELETE /agents/{}": (c) => c.agents.delete(A),
  "POST /knowledge/articles": (c) => c.knowledge.create({ title: "t", content: "c" }),
  "GET /knowledge/articles": (c) => c.knowledge.list().firstPage(),
  "GET /knowledge/articles/{}": (c) => c.knowledge.get(A),
  "GET /knowledge/search": (c) => c.knowledge.search("billing"),
  "PATCH /knowledge/articles/{}": (c) => c.knowledge.update(A, { title: "t" }),
  "DELETE /knowledge/articles/{}": (c) => c.knowledge.delete(A),
  "POST /knowledge/articles/import": (c) => c.knowledge.importArticles([{ title: "t", content: "c" }]),
  "GET /analytics/metrics": (c) => c.analytics.metrics({ period: "7d" }),
  "GET /analytics/conversations.csv": (c) => c.analytics.exportConversations({ period: "7d" }),
  "POST /webhooks": (c) => c.webhooks.create({ url: "http://127.0.0.1:1/h", events: ["*"] }),
  "GET /webhooks": (c) => c.webhooks.list().firstPage(),
  "GET /webhooks/{}": (c) => c.webhooks.get(A),
  "PATCH /webhooks/{}": (c) => c.webhooks.update(A, { enabled: false }),
  "DELETE /webhooks/{}": (c) => c.webhooks.delete(A),
  "POST /webhooks/{}/rotate-secret": (c) => c.webhooks.rotateSecret(A),
  "GET /webhooks/{}/deliveries": (c) => c.webhooks.deliveries(A).firstPage(),
  "POST /webhooks/{}/deliveries/{}/retry": (c) => c.webhooks.retryDelivery(A, B),
  "POST /webhooks/{}/test": (c) => c.webhooks.test(A),
  "GET /events": (c) => c.events.list({ channel: "conversation:id_1" }).firstPage(),
  "POST /widget/session": (c) => c.widget.createSession({ mailboxId: A }),
  "POST /auth/tokens": (c) => c.auth.createToken({ role: "agent" }),
  "GET /conversations/{}/satisfaction": (c) => c.conversations.getSatisfaction(A),
  "POST /keys": (c) => c.keys.create({ name: "ci", role: "agent" }),
  "GET /keys": (c) => c.keys.list().firstPage(),
  "GET /keys/{}": (c) => c.keys.get(A),
  "DELETE /keys/{}": (c) => c.keys.revoke(A),
};

const normalise = (path) => path.replace(/\{[^}]+\}/g, "{}");

function expectedPath(template) {
  const ids = [A, B];
  return PREFIX + template.replace(/\{[^}]+\}/g, () => ids.shift());
}

const operations = [];
for (const [path, item] of Object.entries(openapiDocument().paths)) {
  for (const [method, operation] of Object.entries(item)) {
    if (["get", "post", "put", "patch", "delete"].includes(method) && path.startsWith(PREFIX)) {
      operations.push({ id: operation.operationId, method: method.toUpperCase(), path: path.slice(PREFIX.length) });
    }
  }
}

test("document has operations", () => {
  assert.ok(operations.length >= 11);
});

for (const { id, method, path } of operations) {
  test(`${id} is reachable`, async () => {
    const key = `${method} ${normalise(path)}`;
    assert.ok(key in CALLS, `${id} (${method} ${path}) has no SDK method in CALLS`);
    const sent = [];
    const client = new CampfireClient({
      apiKey: "k",
      baseUrl: "http://127.0.0.1:9" + PREFIX,
      fetch: async (url, init) => {
        sent.push({ method: init.method, path: new URL(url).pathname });
        return new Response(JSON.stringify({ id: A, data: [] }), { status: 200 });
      },
    });
    await CALLS[key](client);
    assert.deepEqual(sent, [{ method, path: expectedPath(path) }]);
  });
}
