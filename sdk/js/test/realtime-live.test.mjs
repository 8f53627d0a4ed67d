// The realtime client against the development server: resume after a dropped socket.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";

import { CampfireClient } from "@campfire/sdk";
import { AGENT_ID, MAILBOX_ID, TEST_KEY, startServer, uniqueCustomer } from "./helpers.mjs";

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

function contentOf(event) {
  const data = event.data ?? {};
  return (typeof data.message === "object" && data.message ? data.message : data).content;
}

async function waitFor(iterator, expected, seen) {
  for (;;) {
    const event = await iterator.next();
    if (event.type === "message" && contentOf(event) !== undefined) {
      seen.push(contentOf(event));
      if (contentOf(event) === expected) return;
    }
  }
}

const within = (promise, ms) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))]);

test("resume after a dropped socket", async (t) => {
  const client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api });
  const conversation = await client.conversations.create({ customerId: uniqueCustomer() });
  const channel = `conversation:${conversation.id}`;
  const realtime = client.realtime({ WebSocket, maxReconnectAttempts: 20 });
  try {
    try {
      await realtime.connect();
    } catch (error) {
      return t.skip(`this server has no realtime endpoint yet (${error.message})`);
    }
    realtime.subscribe(channel);
    // A message written before the subscribe is served is not live for this socket.
    assert.equal((await within(realtime.next(), 10_000)).type, "subscribed");
    const seen = [];
    await client.messages.create(conversation.id, { content: "before the drop" });
    await within(waitFor(realtime, "before the drop", seen), 10_000);

    // Drop the socket without a close frame, as a network failure does, then post.
    realtime["socket"].terminate();
    await client.messages.create(conversation.id, { content: "while away" });
    await within(waitFor(realtime, "while away", seen), 20_000);

    assert.ok(realtime.reconnects >= 1);
    assert.equal(seen.filter((content) => content === "before the drop").length, 1);
    assert.equal(seen.filter((content) => content === "while away").length, 1);
  } finally {
    realtime.close();
  }
});

test("resume on a channel without events", async () => {
  const client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api });
  const conversation = await client.conversations.create({ customerId: uniqueCustomer() });
  const channel = `conversation:${conversation.id}`;
  const realtime = client.realtime({ WebSocket, maxReconnectAttempts: 20 });
  try {
    await realtime.connect();
    realtime.subscribe(channel);
    const reply = await within(realtime.next(), 10_000);
    assert.equal(reply.type, "subscribed");
    const start = realtime.session.channels.get(channel);
    assert.equal(start, reply.data.sequence);

    // No event has reached this channel since the subscribe, so only the reply's
    // position is where the resume replays from.
    realtime["socket"].terminate();
    await client.messages.create(conversation.id, { content: "while away" });
    const seen = [];
    await within(waitFor(realtime, "while away", seen), 20_000);

    assert.ok(realtime.reconnects >= 1);
    assert.deepEqual(seen, ["while away"]);
    assert.ok(realtime.session.channels.get(channel) > start);
  } finally {
    realtime.close();
  }
});

test("resume continues past the replay limit", async () => {
  const limited = await startServer({ env: { CAMPFIRE_REALTIME_REPLAY_LIMIT: "20" } });
  const client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: limited.api });
  const realtime = client.realtime({ WebSocket, maxReconnectAttempts: 20 });
  const missed = Array.from({ length: 45 }, (_, number) => `missed ${number}`);
  const seen = [];
  try {
    const conversation = await client.conversations.create({ customerId: uniqueCustomer(), mailboxId: MAILBOX_ID });
    await realtime.connect();
    realtime.subscribe(`mailbox:${MAILBOX_ID}`);
    assert.equal((await within(realtime.next(), 10_000)).type, "subscribed");
    await client.messages.create(conversation.id, { content: "before", authorType: "agent", authorId: AGENT_ID });
    await within(waitFor(realtime, "before", seen), 10_000);

    // 45 events missed while away need three replays of at most 20.
    realtime["socket"].terminate();
    for (const content of missed) {
      await client.messages.create(conversation.id, { content, authorType: "agent", authorId: AGENT_ID });
    }
    await within(waitFor(realtime, missed.at(-1), seen), 20_000).catch(() => {});
  } finally {
    realtime.close();
    await limited.stop();
  }
  assert.ok(realtime.reconnects >= 1);
  assert.deepEqual(seen.filter((content) => content.startsWith("missed ")), missed);
});

test("customer resume continues past internal notes", async () => {
  const limited = await startServer({
    env: {
      CAMPFIRE_REALTIME_REPLAY_LIMIT: "20",
      // The test posts more than the default 60 messages a minute.
      CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE: "100000",
    },
  });
  const client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: limited.api });
  const widget = new CampfireClient({ apiKey: "pk_test_development", baseUrl: limited.api });
  const missed = ["missed 0", "missed 1", "missed 2"];
  const seen = [];
  let realtime;
  try {
    const customerId = uniqueCustomer();
    const session = await widget.widget.createSession({ mailboxId: MAILBOX_ID, customerId });
    const conversation = await client.conversations.create({ customerId, mailboxId: MAILBOX_ID });
    const customer = new CampfireClient({ apiKey: session.token, baseUrl: limited.api });
    realtime = customer.realtime({ WebSocket, maxReconnectAttempts: 20 });
    await realtime.connect();
    realtime.subscribe(`conversation:${conversation.id}`);
    assert.equal((await within(realtime.next(), 10_000)).type, "subscribed");
    await client.messages.create(conversation.id, { content: "before", authorType: "agent", authorId: AGENT_ID });
    await within(waitFor(realtime, "before", seen), 10_000);

    // Each run of 41 internal notes fills at least one replay of 20 log events with
    // nothing a customer socket is sent.
    realtime["socket"].terminate();
    for (const content of missed) {
      for (let note = 0; note < 41; note += 1) {
        await client.messages.create(conversation.id, {
          content: `note ${note}`,
          authorType: "agent",
          authorId: AGENT_ID,
          private: true,
        });
      }
      await client.messages.create(conversation.id, { content, authorType: "agent", authorId: AGENT_ID });
    }
    await within(waitFor(realtime, missed.at(-1), seen), 30_000).catch(() => {});
  } finally {
    realtime?.close();
    await limited.stop();
  }
  assert.ok(realtime.reconnects >= 1);
  assert.deepEqual(seen, ["before", ...missed]);
});
