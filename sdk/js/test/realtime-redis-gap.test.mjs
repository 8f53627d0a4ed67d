// The realtime client on a conversation channel of two servers sharing SQLite and a private
// Redis. Messages posted on the second server while Redis is down never reach the socket on
// the first live, so the client must notice the sequence gap and replay them.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";

import { CampfireClient } from "@campfire/sdk";
import { AGENT_ID, TEST_KEY, freePort, startServer, uniqueCustomer } from "./helpers.mjs";

const directory = mkdtempSync(join(tmpdir(), "campfire-sdk-js-gap-"));
let redisPort;
let redis;
const servers = [];

function redisAvailable() {
  try {
    execFileSync("redis-server", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

async function startRedis() {
  redis = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--port", String(redisPort), "--save", "", "--appendonly", "no", "--dir", directory],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      if (execFileSync("redis-cli", ["-p", String(redisPort), "ping"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim() === "PONG") return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the private Redis did not start within 10 s");
}

async function stopRedis() {
  if (!redis || redis.exitCode !== null) return;
  const exited = new Promise((resolve) => redis.once("exit", resolve));
  redis.kill("SIGKILL");
  await exited;
}

before(async () => {
  if (!redisAvailable()) return;
  redisPort = await freePort();
  await startRedis();
  const env = { CAMPFIRE_REDIS_URL: `redis://127.0.0.1:${redisPort}/0` };
  const databaseUrl = `sqlite:///${join(directory, "campfire.db")}`;
  // One after the other, so that only the first migrates and seeds the development data.
  for (let number = 0; number < 2; number += 1) servers.push(await startServer({ databaseUrl, env }));
});

after(async () => {
  for (const server of servers) await server.stop();
  await stopRedis();
  rmSync(directory, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function seenWithin(messages, content, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (messages.some((message) => message.content === content)) return true;
    await sleep(50);
  }
  return false;
}

test("conversation gap from a Redis outage is replayed", async (t) => {
  if (servers.length < 2) return t.skip("redis-server is not installed");
  const [first, second] = servers.map((server) => new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api }));
  const conversation = await first.conversations.create({ customerId: uniqueCustomer() });
  const realtime = first.realtime({ WebSocket, maxReconnectAttempts: 5 });
  const messages = [];
  const posted = [];
  const post = async (content) => {
    await second.messages.create(conversation.id, { content, authorType: "agent", authorId: AGENT_ID });
    posted.push(content);
  };
  await realtime.connect();
  realtime.subscribe(`conversation:${conversation.id}`);
  const reader = (async () => {
    for await (const event of realtime) {
      if (event.type === "message") messages.push({ sequence: event.sequence, content: event.data.content });
    }
  })();
  try {
    await post("before the outage");
    assert.ok(await seenWithin(messages, "before the outage", 10_000));

    await stopRedis();
    for (let number = 0; number < 3; number += 1) await post(`during the outage ${number}`);

    // The second server publishes again once it has reconnected to Redis.
    await startRedis();
    let recovered = false;
    const deadline = Date.now() + 30_000;
    for (let attempt = 1; Date.now() < deadline && !recovered; attempt += 1) {
      await post(`after the outage ${attempt}`);
      recovered = await seenWithin(messages, `after the outage ${attempt}`, 2_000);
    }
    assert.ok(recovered, "events from the other server never came back");
    for (let number = 0; number < 2; number += 1) await post(`after recovery ${number}`);
    assert.ok(await seenWithin(messages, "after recovery 1", 10_000));
  } finally {
    realtime.close();
    await reader;
  }
  assert.equal(realtime.reconnects, 0);
  assert.deepEqual(messages.map((message) => message.content), posted);
  const sequences = messages.map((message) => message.sequence);
  assert.deepEqual(sequences, [...new Set(sequences)].sort((a, b) => a - b));
});
