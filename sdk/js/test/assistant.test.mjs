import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { CampfireClient, NotFoundError } from "@campfire/sdk";
import { TEST_KEY, startServer, uniqueCustomer } from "./helpers.mjs";

let server;
let client;
let paths = {};

before(async () => {
  server = await startServer();
  client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api });
  paths = (await (await fetch(`${server.api}/openapi.json`)).json()).paths;
});

after(async () => {
  await server?.stop();
});

const has = (method, path) => Boolean(paths[`/api/v2${path}`]?.[method]);
const marker = () => Math.random().toString(16).slice(2, 10);

test("article create, update and delete", async (t) => {
  if (!has("post", "/knowledge/articles")) return t.skip("no knowledge-base endpoints yet");
  const id = marker();
  const article = await client.knowledge.create({
    title: `Refund policy ${id}`,
    content: "Refunds are issued within 14 days of purchase to the original card.",
    tags: ["billing"],
    externalId: `ext-${id}`,
  });
  assert.equal(article.externalId, `ext-${id}`);
  const updated = await client.knowledge.update(article.id, { tags: ["billing", "refunds"] });
  assert.deepEqual(updated.tags, ["billing", "refunds"]);
  const listed = (await client.knowledge.list({ tag: "refunds" }).toArray()).map((item) => item.id);
  assert.ok(listed.includes(article.id));
  await client.knowledge.delete(article.id);
  await assert.rejects(client.knowledge.get(article.id), NotFoundError);
});

test("import is idempotent", async (t) => {
  if (!has("post", "/knowledge/articles/import")) return t.skip("no import endpoint yet");
  const id = marker();
  const articles = [
    { title: `Shipping ${id}`, content: "We ship worldwide in 5 days.", externalId: `ship-${id}` },
    { title: `Returns ${id}`, content: "Returns are free for 30 days.", externalId: `ret-${id}` },
  ];
  const first = await client.knowledge.importArticles(articles);
  assert.equal(first.created, 2);
  const again = await client.knowledge.importArticles(articles);
  assert.equal(again.created, 0);
  assert.equal(again.unchanged, 2);
});

test("search finds the article", async (t) => {
  if (!has("get", "/knowledge/search")) return t.skip("no search endpoint yet");
  const id = marker();
  const article = await client.knowledge.create({
    title: `Invoice address ${id}`,
    content: `To change the invoice address zq${id}, open Settings and then Billing.`,
  });
  const hits = await client.knowledge.search(`invoice address zq${id}`, { limit: 5 });
  assert.ok(hits.length > 0);
  assert.equal(hits[0].id, article.id);
});

test("generate response", async (t) => {
  if (!has("post", "/ai/generate-response")) return t.skip("no AI endpoint yet");
  const conversation = await client.conversations.create({ customerId: uniqueCustomer() });
  const answer = await client.ai.generateResponse({
    conversationId: conversation.id,
    messageContent: "How do I update my billing information?",
    context: { customerTier: "premium", previousInteractions: 3, knowledgeBaseEnabled: true },
  });
  assert.equal(typeof answer.content, "string");
  assert.ok(answer.content.length > 0);
  assert.ok(answer.confidence >= 0);
  assert.ok(answer.confidence <= 1);
  assert.equal(typeof answer.shouldHandoff, "boolean");
  assert.ok(answer.model);
});
