// The README's first example, which is the API reference's JavaScript example, runs live.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { MAILBOX_ID, TEST_KEY, startServer } from "./helpers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const README = readFileSync(join(here, "..", "README.md"), "utf8");

// The example exactly as the API reference prints it.
const REFERENCE_EXAMPLE = `import { CampfireClient } from '@campfire/sdk';

const client = new CampfireClient({
  apiKey: 'YOUR_API_KEY',
  baseUrl: 'https://api.campfire.ai/v2'
});

// Create conversation
const conversation = await client.conversations.create({
  customerId: 'customer_123',
  subject: 'Support Request'
});

// Send message
const message = await client.messages.create(conversation.id, {
  content: 'Hello, I need help',
  authorType: 'customer'
});
`;

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

test("readme example is the reference example", () => {
  const blocks = [...README.matchAll(/```javascript\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.equal(blocks[0], REFERENCE_EXAMPLE);
});

test("reference example runs", async () => {
  // Only the key and the base URL change; the hosted URL is never contacted.
  const source =
    REFERENCE_EXAMPLE.replace("'YOUR_API_KEY'", `'${TEST_KEY}'`).replace(
      "'https://api.campfire.ai/v2'",
      `'${server.api}'`,
    ) + "\nexport { conversation, message };\n";
  assert.ok(!source.includes("api.campfire.ai"));
  // Inside the package, so that '@campfire/sdk' resolves to this build by self-reference.
  const modulePath = join(here, `.example-${process.pid}.mjs`);
  writeFileSync(modulePath, source);
  try {
    const { conversation, message } = await import(pathToFileURL(modulePath).href);
    assert.match(conversation.id, /^conv_/);
    assert.equal(conversation.customerId, "customer_123");
    assert.equal(conversation.subject, "Support Request");
    assert.equal(conversation.mailboxId, MAILBOX_ID);
    assert.match(message.id, /^msg_/);
    assert.equal(message.conversationId, conversation.id);
    assert.equal(message.content, "Hello, I need help");
    assert.equal(message.authorType, "customer");
  } finally {
    rmSync(modulePath, { force: true });
  }
});
