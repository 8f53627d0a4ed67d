import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocket, WebSocketServer } from "ws";

import { CampfireClient, RealtimeError, RealtimeSession, realtimeUrl } from "@campfire/sdk";

const KEY = "test_sk_123456789";

test("realtime url from the base url", () => {
  assert.equal(realtimeUrl("http://127.0.0.1:3000/api/v2"), "ws://127.0.0.1:3000/api/v2/realtime");
  assert.equal(realtimeUrl("https://example.test/api/v2/"), "wss://example.test/api/v2/realtime");
});

test("session resumes after the last position", () => {
  const session = new RealtimeSession("tok");
  session.subscribeFrame("conversation:conv_1");
  session.subscribeFrame("mailbox:mailbox_456");
  for (const sequence of [1, 2, 3]) {
    const frame = { type: "message", channel: "conversation:conv_1", sequence, cursor: 100 + sequence };
    assert.ok(session.receive(JSON.stringify(frame)));
  }
  assert.ok(session.receive(JSON.stringify({ type: "message", channel: "mailbox:mailbox_456", sequence: 9, cursor: 250 })));
  assert.deepEqual(JSON.parse(session.authFrame()), { type: "auth", token: "tok" });
  assert.deepEqual(session.subscribeFrames().map((frame) => JSON.parse(frame)), [
    { type: "subscribe", channel: "conversation:conv_1", since: 3 },
    { type: "subscribe", channel: "mailbox:mailbox_456", since: 250 },
  ]);
});

test("session starts at the subscribed position", () => {
  const session = new RealtimeSession("tok");
  session.subscribeFrame("conversation:conv_1");
  session.subscribeFrame("mailbox:mailbox_456");
  session.receive(JSON.stringify({ type: "subscribed", channel: "conversation:conv_1", data: { sequence: 7 } }));
  session.receive(JSON.stringify({ type: "subscribed", channel: "mailbox:mailbox_456", data: { cursor: 90 } }));
  assert.deepEqual(session.subscribeFrames().map((frame) => JSON.parse(frame)), [
    { type: "subscribe", channel: "conversation:conv_1", since: 7 },
    { type: "subscribe", channel: "mailbox:mailbox_456", since: 90 },
  ]);
});

test("session keeps an event position over the reply", () => {
  const session = new RealtimeSession("tok");
  session.subscribeFrame("conversation:conv_1", 3);
  session.receive(JSON.stringify({ type: "subscribed", channel: "conversation:conv_1", data: { sequence: 9 } }));
  assert.equal(session.channels.get("conversation:conv_1"), 3);
});

test("session keeps the first live event after the reply", () => {
  const session = new RealtimeSession("tok");
  session.subscribeFrame("conversation:conv_1");
  session.receive(JSON.stringify({ type: "subscribed", channel: "conversation:conv_1", data: { sequence: 4 } }));
  const event = session.receive(JSON.stringify({ type: "message", channel: "conversation:conv_1", sequence: 5 }));
  assert.ok(event);
  assert.equal(session.channels.get("conversation:conv_1"), 5);
});

test("session drops replayed duplicates", () => {
  const session = new RealtimeSession("tok");
  session.subscribeFrame("conversation:conv_1", 5);
  const frame = (sequence) => JSON.stringify({ type: "message", channel: "conversation:conv_1", sequence });
  assert.equal(session.receive(frame(5)), null);
  assert.equal(session.receive(frame(6)).sequence, 6);
  assert.equal(session.receive(frame(6)), null);
});

test("session auth error is fatal", () => {
  const session = new RealtimeSession("tok");
  const rejected = JSON.stringify({ type: "error", data: { code: "AUTHENTICATION_ERROR", message: "bad token" } });
  assert.throws(() => session.receive(rejected), RealtimeError);
  const other = JSON.stringify({ type: "error", data: { code: "VALIDATION_ERROR", message: "bad frame" } });
  assert.equal(session.receive(other).type, "error");
});

/** A realtime server with a replayable log that drops each connection after `dropAfter` events. */
async function replayServer(events, dropAfter) {
  const log = Array.from({ length: events }, (_, index) => ({
    type: "message",
    channel: "conversation:conv_1",
    sequence: index + 1,
    data: { id: `msg_${index + 1}` },
  }));
  const subscribes = [];
  const tokens = [];
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket) => {
    let authenticated = false;
    socket.on("message", (raw) => {
      const frame = JSON.parse(String(raw));
      if (!authenticated) {
        tokens.push(frame.token);
        if (frame.token !== KEY) {
          socket.send(JSON.stringify({ type: "error", data: { code: "AUTHENTICATION_ERROR", message: "invalid" } }));
          socket.close(4401);
          return;
        }
        authenticated = true;
        socket.send(JSON.stringify({ type: "authenticated", data: {} }));
        return;
      }
      subscribes.push(frame);
      socket.send(JSON.stringify({ type: "subscribed", channel: frame.channel }));
      const since = frame.since ?? 0;
      const pending = log.filter((event) => event.sequence > since);
      if (since) pending.unshift(log[since - 1]); // one already-seen event, as at a log boundary
      pending.forEach((event, sent) => {
        if (sent === dropAfter) return socket.terminate();
        if (sent < dropAfter) socket.send(JSON.stringify(event));
      });
    });
  });
  await new Promise((resolve) => wss.once("listening", resolve));
  return { port: wss.address().port, subscribes, tokens, close: () => new Promise((r) => wss.close(r)) };
}

test("reconnect resumes without loss or duplicates", async () => {
  const server = await replayServer(10, 4);
  const client = new CampfireClient({ apiKey: KEY, baseUrl: `http://127.0.0.1:${server.port}/api/v2` });
  const realtime = client.realtime({ WebSocket, random: () => 0 });
  try {
    await realtime.connect();
    realtime.subscribe("conversation:conv_1");
    const sequences = [];
    for await (const event of realtime) {
      if (event.type !== "message") continue;
      sequences.push(event.sequence);
      if (sequences.length === 10) break;
    }
    assert.deepEqual(sequences, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(realtime.reconnects >= 2);
    assert.deepEqual(server.subscribes[0], { type: "subscribe", channel: "conversation:conv_1" });
    assert.equal(server.subscribes[1].since, 4);
    assert.equal(server.subscribes[2].since, 7);
    assert.deepEqual(new Set(server.tokens), new Set([KEY]));
  } finally {
    realtime.close();
    await server.close();
  }
});

test("rejected token raises without reconnecting", async () => {
  const server = await replayServer(1, 5);
  const client = new CampfireClient({ apiKey: "wrong", baseUrl: `http://127.0.0.1:${server.port}/api/v2` });
  const realtime = client.realtime({ WebSocket });
  try {
    await assert.rejects(realtime.connect(), (error) => error instanceof RealtimeError && error.code === "AUTHENTICATION_ERROR");
    assert.deepEqual(server.tokens, ["wrong"]);
  } finally {
    realtime.close();
    await server.close();
  }
});

test("reconnect delay honours the retry-after hint", () => {
  const session = new RealtimeSession("tok", () => 0);
  assert.equal(session.reconnectDelay(0, 5), 5);
  assert.equal(session.reconnectDelay(0, 0.1), 0.25);
  assert.equal(session.reconnectDelay(20, 5), 15);
  assert.equal(session.reconnectDelay(0, 3600), 60);
});

/**
 * A realtime server that answers the auth frame of its n-th connection with `answers[n]` (the
 * last one repeats): "drop" authenticates and then ends the socket without a close frame,
 * "event" authenticates and answers the next frame with one message event, and an object
 * refuses with that error.
 */
async function scriptedServer(answers) {
  const tokens = [];
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket) => {
    socket.once("message", (raw) => {
      tokens.push(JSON.parse(String(raw)).token);
      const answer = answers[Math.min(tokens.length, answers.length) - 1];
      if (typeof answer === "object") {
        socket.send(JSON.stringify({ type: "error", data: answer.error }));
        socket.close(answer.close);
        return;
      }
      socket.send(JSON.stringify({ type: "authenticated", data: {} }));
      if (answer === "drop") return socket.terminate();
      socket.once("message", () =>
        socket.send(JSON.stringify({ type: "message", channel: "conversation:conv_1", sequence: 1 })),
      );
    });
  });
  await new Promise((resolve) => wss.once("listening", resolve));
  return { port: wss.address().port, tokens, close: () => new Promise((r) => wss.close(r)) };
}

test("reconnect retries a full connection limit", async () => {
  const limitReached = {
    error: { code: "RATE_LIMIT_EXCEEDED", message: "the organization already has 1 open WebSocket connection" },
    close: 4429,
  };
  const server = await scriptedServer(["drop", limitReached, limitReached, "event"]);
  const client = new CampfireClient({ apiKey: KEY, baseUrl: `http://127.0.0.1:${server.port}/api/v2` });
  const realtime = client.realtime({ WebSocket, random: () => 0 });
  try {
    await realtime.connect();
    realtime.subscribe("conversation:conv_1");
    const event = await realtime.next();
    assert.equal(event.type, "message");
    assert.equal(realtime.reconnects, 1);
    assert.equal(server.tokens.length, 4);
  } finally {
    realtime.close();
    await server.close();
  }
});

test("reconnect fails on a permanent refusal", async () => {
  const tooLarge = { error: { code: "PAYLOAD_TOO_LARGE", message: "the frame is too large" }, close: 1009 };
  const server = await scriptedServer(["drop", tooLarge]);
  const client = new CampfireClient({ apiKey: KEY, baseUrl: `http://127.0.0.1:${server.port}/api/v2` });
  const realtime = client.realtime({ WebSocket, random: () => 0 });
  try {
    await realtime.connect();
    await assert.rejects(
      realtime.next(),
      (error) => error instanceof RealtimeError && error.code === "PAYLOAD_TOO_LARGE" && error.retryable === false,
    );
    assert.equal(server.tokens.length, 2);
  } finally {
    realtime.close();
    await server.close();
  }
});
