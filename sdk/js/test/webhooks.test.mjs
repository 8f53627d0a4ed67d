import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { WebhookVerificationError, webhooks } from "@campfire/sdk";

const SECRET = "whsec_" + Buffer.alloc(32, "k").toString("base64");
const NOW = 1_760_000_000;
// Non-ASCII, a slash, quotes, a backslash and keys out of order: re-serialising changes the bytes.
const RAW_BODY =
  '{"id":"evt_1","type":"message.sent","timestamp":"2024-01-15T10:30:00.123Z","sequence":4,' +
  '"data":{"message":{"content":"Café ☕ — price\\/€12 \\"quoted\\" \\\\ back","metadata":{"z":1,"a":2}}}}';

function reference(body, key, id = "evt_1", timestamp = NOW) {
  const digest = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
  return `v1,${digest}`;
}

function delivery(signature = reference(RAW_BODY, Buffer.alloc(32, "k"))) {
  return { "webhook-id": "evt_1", "webhook-timestamp": String(NOW), "webhook-signature": signature };
}

test("verify returns the event", async () => {
  const event = await webhooks.verify(RAW_BODY, delivery(), SECRET, { now: NOW });
  assert.equal(event.id, "evt_1");
  assert.equal(event.sequence, 4);
  assert.deepEqual(event.data.message.metadata, { z: 1, a: 2 });
});

test("sign matches an independent HMAC", async () => {
  assert.equal(await webhooks.sign(RAW_BODY, SECRET, "evt_1", NOW), delivery()["webhook-signature"]);
});

test("verify accepts bytes and Headers", async () => {
  const bytes = new TextEncoder().encode(RAW_BODY);
  const headers = new Headers(delivery());
  assert.equal((await webhooks.verify(bytes, headers, SECRET, { now: NOW })).id, "evt_1");
  assert.equal((await webhooks.verify(bytes.buffer, headers, SECRET, { now: NOW })).id, "evt_1");
});

test("re-serialised JSON fails", async () => {
  const reserialised = JSON.stringify(JSON.parse(RAW_BODY), null, 1);
  await assert.rejects(webhooks.verify(reserialised, delivery(), SECRET, { now: NOW }), /raw body/);
});

test("parsed object payload is a TypeError", async () => {
  await assert.rejects(
    webhooks.verify(JSON.parse(RAW_BODY), delivery(), SECRET, { now: NOW }),
    (error) => error instanceof TypeError && /raw request body/.test(error.message),
  );
});

test("plain secret is used as UTF-8 bytes", async () => {
  const headers = delivery(reference(RAW_BODY, Buffer.from("your_webhook_secret", "utf8")));
  assert.equal((await webhooks.verify(RAW_BODY, headers, "your_webhook_secret", { now: NOW })).id, "evt_1");
  await assert.rejects(webhooks.verify(RAW_BODY, headers, SECRET, { now: NOW }), WebhookVerificationError);
});

test("tolerance rejects old and future timestamps", async () => {
  assert.equal((await webhooks.verify(RAW_BODY, delivery(), SECRET, { now: NOW + 300 })).id, "evt_1");
  await assert.rejects(webhooks.verify(RAW_BODY, delivery(), SECRET, { now: NOW + 301 }), /old/);
  await assert.rejects(webhooks.verify(RAW_BODY, delivery(), SECRET, { now: NOW - 301 }), /future/);
});

test("rewritten timestamp with the old signature fails", async () => {
  const headers = { ...delivery(), "webhook-timestamp": String(NOW + 301) };
  await assert.rejects(webhooks.verify(RAW_BODY, headers, SECRET, { now: NOW + 301 }), /no signature/);
});

test("either secret verifies during rotation", async () => {
  const fresh = "whsec_" + Buffer.alloc(32, "n").toString("base64");
  const signature = `${reference(RAW_BODY, Buffer.alloc(32, "n"))} ${delivery()["webhook-signature"]}`;
  const headers = delivery(signature);
  assert.equal((await webhooks.verify(RAW_BODY, headers, SECRET, { now: NOW })).id, "evt_1");
  assert.equal((await webhooks.verify(RAW_BODY, headers, fresh, { now: NOW })).id, "evt_1");
  const other = "whsec_" + Buffer.alloc(32, "x").toString("base64");
  await assert.rejects(webhooks.verify(RAW_BODY, headers, other, { now: NOW }), WebhookVerificationError);
});

test("tampered signatures, ids and bodies fail", async () => {
  const good = delivery()["webhook-signature"];
  const cases = [
    { "webhook-signature": "v1," },
    { "webhook-signature": "v2," + good.slice(3) },
    { "webhook-signature": good.slice(0, -4) },
    { "webhook-id": "evt_2" },
    { "webhook-timestamp": "soon" },
  ];
  for (const change of cases) {
    await assert.rejects(
      webhooks.verify(RAW_BODY, { ...delivery(), ...change }, SECRET, { now: NOW }),
      WebhookVerificationError,
      JSON.stringify(change),
    );
  }
  await assert.rejects(
    webhooks.verify(RAW_BODY.replace("12", "13"), delivery(), SECRET, { now: NOW }),
    WebhookVerificationError,
  );
});

test("missing headers are named", async () => {
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const headers = { ...delivery() };
    delete headers[name];
    await assert.rejects(webhooks.verify(RAW_BODY, headers, SECRET, { now: NOW }), new RegExp(name));
  }
});

test("invalid whsec secret is explained", async () => {
  await assert.rejects(webhooks.verify(RAW_BODY, delivery(), "whsec_not*base64", { now: NOW }), /not valid base64/);
});
