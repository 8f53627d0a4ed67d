// The realtime client on a mailbox channel of three servers sharing PostgreSQL and Redis.
// Their transactions commit in another order than they drew event cursors; the client must
// still receive every message once. Runs when CAMPFIRE_TEST_POSTGRES_URL and
// CAMPFIRE_TEST_REDIS_URL are set.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";

import { CampfireClient } from "@campfire/sdk";
import { AGENT_ID, TEST_KEY, pythonExecutable, repoRoot, startServer } from "./helpers.mjs";

const POSTGRES_URL = process.env.CAMPFIRE_TEST_POSTGRES_URL;
const REDIS_URL = process.env.CAMPFIRE_TEST_REDIS_URL;
const PROCESSES = 3;
const CONVERSATIONS = 20;
const MESSAGES = 200;

let databaseUrl;
const servers = [];

// Create (or drop) a scratch database next to POSTGRES_URL's, through the server's own driver.
function postgres(statement) {
  const script = "import sys, psycopg\n" +
    "with psycopg.connect(sys.argv[1], autocommit=True) as c: c.execute(sys.argv[2])";
  execFileSync(pythonExecutable(), ["-c", script, POSTGRES_URL, statement], { cwd: repoRoot });
}

before(async () => {
  if (!POSTGRES_URL || !REDIS_URL) return;
  const name = `campfire_sdk_js_${process.pid}_${Date.now()}`;
  postgres(`CREATE DATABASE "${name}"`);
  databaseUrl = `${POSTGRES_URL.slice(0, POSTGRES_URL.lastIndexOf("/"))}/${name}`;
  // One after the other, so that only the first migrates and seeds the development data.
  for (let number = 0; number < PROCESSES; number += 1) {
    servers.push(await startServer({ databaseUrl, env: { CAMPFIRE_REDIS_URL: REDIS_URL } }));
  }
});

after(async () => {
  for (const server of servers) await server.stop();
  if (databaseUrl) postgres(`DROP DATABASE IF EXISTS "${databaseUrl.slice(databaseUrl.lastIndexOf("/") + 1)}" WITH (FORCE)`);
});

const within = (promise, ms) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))]);

test("mailbox channel keeps every message across processes", async (t) => {
  if (!databaseUrl) return t.skip("set CAMPFIRE_TEST_POSTGRES_URL and CAMPFIRE_TEST_REDIS_URL");
  const clients = servers.map((server) => new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api }));
  // A new mailbox has no AI auto-reply, so only the posted messages arrive.
  const mailbox = await clients[0].mailboxes.create({ name: "Cursor order" });
  const conversations = [];
  for (let number = 0; number < CONVERSATIONS; number += 1) {
    conversations.push(
      await clients[number % PROCESSES].conversations.create({
        customerId: `customer_order_${number}`,
        mailboxId: mailbox.id,
      }),
    );
  }
  const realtime = clients[0].realtime({ WebSocket, maxReconnectAttempts: 5 });
  await realtime.connect();
  // From the start of the new mailbox's log, so no message posted before the server
  // registered the subscription is missed.
  realtime.subscribe(`mailbox:${mailbox.id}`, { since: 0 });
  const received = [];
  try {
    const sending = Promise.all(
      Array.from({ length: MESSAGES }, (_, number) =>
        clients[number % PROCESSES].messages.create(conversations[number % CONVERSATIONS].id, {
          content: `burst ${number}`,
          authorType: "agent",
          authorId: AGENT_ID,
        }),
      ),
    );
    const collect = async () => {
      while (received.length < MESSAGES) {
        const event = await realtime.next();
        if (event.type === "message") received.push(event.data.content);
      }
    };
    // A generous bound, so that a dropped event fails the test instead of hanging it.
    await within(collect(), 120_000);
    await sending;
  } finally {
    await realtime.close();
  }

  assert.equal(received.length, MESSAGES);
  assert.equal(new Set(received).size, MESSAGES);
});
