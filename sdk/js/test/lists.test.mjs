// Every list method sends the paging and filter parameters of its route, and
// pages through real lists of a development server with limit and cursor.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { CampfireClient } from "@campfire/sdk";
import { openapiDocument } from "../scripts/generate.mjs";
import { AGENT_ID, TEST_KEY, startServer, uniqueCustomer } from "./helpers.mjs";

const PREFIX = "/api/v2";

/** "GET /path with {} per parameter" to a call of its list method with `query`. */
const LISTS = {
  "GET /conversations": (c, query) => c.conversations.list(query),
  "GET /conversations/{}/messages": (c, query) => c.messages.list("id_1", query),
  "GET /mailboxes": (c, query) => c.mailboxes.list(query),
  "GET /knowledge/articles": (c, query) => c.knowledge.list(query),
  "GET /agents": (c, query) => c.agents.list(query),
  "GET /handoffs": (c, query) => c.handoffs.list(query),
  "GET /events": (c, query) => c.events.list({ channel: "conversation:id_1", ...query }),
  "GET /webhooks": (c, query) => c.webhooks.list(query),
  "GET /webhooks/{}/deliveries": (c, query) => c.webhooks.deliveries("id_1", query),
  "GET /keys": (c, query) => c.keys.list(query),
};

// Page numbers are left out on purpose: the SDK pages by cursor. The events
// list takes its start as cursor, which since is another name for.
const NOT_SENT = new Set(["page", "since"]);

const listRoutes = [];
for (const [path, item] of Object.entries(openapiDocument().paths)) {
  const names = (item.get?.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
  if (path.startsWith(PREFIX) && names.includes("cursor")) {
    listRoutes.push({ key: `GET ${path.slice(PREFIX.length).replace(/\{[^}]+\}/g, "{}")}`, names });
  }
}

test("every list route has a method", () => {
  assert.ok(listRoutes.length >= 10);
  assert.deepEqual(listRoutes.map((route) => route.key).sort(), Object.keys(LISTS).sort());
});

for (const { key, names } of listRoutes) {
  test(`${key} sends its query parameters`, async () => {
    const sent = [];
    const client = new CampfireClient({
      apiKey: "k",
      baseUrl: "http://127.0.0.1:9" + PREFIX,
      fetch: async (url) => {
        sent.push(new URL(url).searchParams);
        return new Response(JSON.stringify({ data: [] }), { status: 200 });
      },
    });
    const query = {};
    for (const name of names) {
      if (name === "channel" || NOT_SENT.has(name)) continue;
      query[name] = name === "limit" ? 5 : `value-${name}`;
    }
    await LISTS[key](client, query).firstPage();
    assert.equal(sent.length, 1);
    for (const [name, value] of Object.entries(query)) {
      assert.equal(sent[0].get(name), String(value), `${key} did not send ${name}`);
    }
  });
}

let server;
let client;

before(async () => {
  server = await startServer();
  client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api });
});

after(async () => {
  await server?.stop();
});

/** Check limit and cursor of one list, which must hold at least three items. */
async function pageThrough(list) {
  const everything = (await list({ limit: 100 }).toArray()).map((item) => item.id);
  assert.ok(everything.length >= 3);
  assert.equal(new Set(everything).size, everything.length);

  const first = await list({ limit: 1 }).firstPage();
  assert.deepEqual(first.data.map((item) => item.id), everything.slice(0, 1));
  assert.equal(first.pagination.hasMore, true);
  assert.ok(first.pagination.nextCursor);

  const resumed = await list({ limit: 1, cursor: first.pagination.nextCursor }).firstPage();
  assert.deepEqual(resumed.data.map((item) => item.id), everything.slice(1, 2));
  const all = await list({ limit: 2 }).toArray();
  assert.deepEqual(all.map((item) => item.id), everything);
  const rest = await list({ limit: 2, cursor: first.pagination.nextCursor }).toArray();
  assert.deepEqual(rest.map((item) => item.id), everything.slice(1));
}

test("keys page by cursor", async () => {
  const created = [];
  for (let n = 0; n < 3; n++) created.push(await client.keys.create({ name: `lists ${n}`, role: "agent" }));
  try {
    await pageThrough((query) => client.keys.list(query));
  } finally {
    for (const key of created) await client.keys.revoke(key.id);
  }
});

test("mailboxes page by cursor", async () => {
  for (let n = 0; n < 3; n++) await client.mailboxes.create({ id: `mailbox_lists_${n}`, name: `Lists ${n}` });
  await pageThrough((query) => client.mailboxes.list(query));
});

test("articles page by cursor", async () => {
  const tag = `lists-${Math.random().toString(16).slice(2, 10)}`;
  for (let n = 0; n < 3; n++) {
    await client.knowledge.create({ title: `Lists ${n}`, content: "Paging text.", tags: [tag] });
  }
  await pageThrough((query) => client.knowledge.list({ tag, ...query }));
});

test("agents page by cursor", async () => {
  const skill = `lists-${Math.random().toString(16).slice(2, 10)}`;
  for (let n = 0; n < 3; n++) {
    await client.agents.create({ name: `Lists ${n}`, skills: [skill], status: "offline" });
  }
  await pageThrough((query) => client.agents.list({ skill, status: "offline", ...query }));
});

test("webhooks page by cursor", async () => {
  const created = [];
  for (let n = 0; n < 3; n++) {
    created.push(
      await client.webhooks.create({ url: `http://127.0.0.1:9/lists/${n}`, events: ["satisfaction.rated"] }),
    );
  }
  try {
    await pageThrough((query) => client.webhooks.list(query));
  } finally {
    for (const webhook of created) await client.webhooks.delete(webhook.id);
  }
});

test("events continue from since", async () => {
  const conversation = await client.conversations.create({ customerId: uniqueCustomer() });
  // Agent messages, so no automatic reply adds events while the test pages.
  for (let n = 0; n < 3; n++) {
    await client.messages.create(conversation.id, { content: `event ${n}`, authorType: "agent", authorId: AGENT_ID });
  }
  const channel = `conversation:${conversation.id}`;
  const sequences = (await client.events.list({ channel, limit: 1 }).toArray()).map((e) => e.sequence);
  assert.ok(sequences.length >= 4);
  const afterFirst = await client.events.list({ channel, since: 1, limit: 1 }).toArray();
  assert.deepEqual(afterFirst.map((e) => e.sequence), sequences.slice(1));
  const first = await client.events.list({ channel, limit: 2 }).firstPage();
  const resumed = await client.events.list({ channel, cursor: first.pagination.nextCursor, limit: 2 }).toArray();
  assert.deepEqual(resumed.map((e) => e.sequence), sequences.slice(2));
  assert.throws(() => client.events.list({ channel, since: 1, cursor: "1" }), /pass only one of them/);
});
