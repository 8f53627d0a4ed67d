// Every README block and every code example in the SDK's doc comments runs against a live server,
// so an example with a wrong parameter name fails here with the server's 400.
import assert from "node:assert/strict";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { CampfireClient, webhooks } from "../dist/index.js";
import { TEST_KEY, startServer } from "./helpers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const README = readFileSync(join(here, "..", "README.md"), "utf8");
const SOURCES = join(here, "..", "src");

// Blocks that never end or need a web framework; each is checked for the calls it makes instead.
const NOT_RUN = {
  "for await (const event of realtime)": "iterates realtime events until the socket closes",
  "import express from 'express';": "needs express, which is no dependency of the SDK",
};

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

function readmeBlocks() {
  return [...README.matchAll(/```javascript\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/** Run `source` as a module inside the package, so '@campfire/sdk' resolves to this build. */
async function runModule(source, name) {
  const modulePath = join(here, `.${name}-${process.pid}.mjs`);
  writeFileSync(modulePath, source);
  try {
    return await import(pathToFileURL(modulePath).href);
  } finally {
    rmSync(modulePath, { force: true });
  }
}

/** Build the lines that make a client on the test server and a fresh conversation for a README block. */
function prelude(number) {
  return (
    "import { CampfireClient } from '@campfire/sdk';\n" +
    `const client = new CampfireClient({ apiKey: '${TEST_KEY}', baseUrl: '${server.api}' });\n` +
    // A fresh conversation per block, because the development mailbox replies to customer
    // messages with AI, and an AI handoff would make generateResponse a 409.
    `const conversation = await client.conversations.create({ customerId: 'customer_readme_${number}' });\n`
  );
}

test("readme blocks after the quick start run", async () => {
  const blocks = readmeBlocks();
  assert.ok(blocks.length >= 5, `found ${blocks.length} javascript blocks`);
  let ran = 0;
  for (const [index, block] of blocks.entries()) {
    if (index === 0) continue; // the quick start runs in readme.test.mjs
    const skipped = Object.keys(NOT_RUN).find((marker) => block.includes(marker));
    if (skipped) continue;
    await runModule(`${prelude(index + 1)}${block}\nexport {};\n`, `readme-${index + 1}`);
    ran += 1;
  }
  assert.ok(ran >= 2, `ran ${ran} blocks`);
});

test("readme blocks that do not run call existing methods", async () => {
  const client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api });
  const realtime = client.realtime();
  assert.equal(typeof realtime.connect, "function");
  assert.equal(typeof realtime.subscribe, "function");
  assert.equal(typeof realtime[Symbol.asyncIterator], "function");
  assert.equal(typeof webhooks.verify, "function");
  const blocks = readmeBlocks();
  for (const marker of Object.keys(NOT_RUN)) {
    assert.ok(blocks.some((block) => block.includes(marker)), `no README block contains ${marker}`);
  }
});

/** Collect the fenced ```ts examples of the doc comments under src/, without their leading " * ". */
function commentBlocks() {
  const blocks = [];
  for (const file of readdirSync(SOURCES).filter((name) => name.endsWith(".ts"))) {
    const text = readFileSync(join(SOURCES, file), "utf8");
    for (const match of text.matchAll(/\* ```ts\n([\s\S]*?)\* ```/g)) {
      blocks.push({ file, code: match[1].replace(/^\s*\* ?/gm, "") });
    }
  }
  return blocks;
}

/** Collect inline examples such as `createToken({ role: "agent" })` from the doc comments of resources.ts. */
function inlineExamples() {
  const text = readFileSync(join(SOURCES, "resources.ts"), "utf8");
  const examples = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    for (const span of comment[0].matchAll(/`(\w+)\((\{[^`]*\})\)`/g)) {
      examples.push({ method: span[1], argument: span[2] });
    }
  }
  return examples;
}

test("doc comment blocks run", async () => {
  const blocks = commentBlocks();
  assert.ok(blocks.length >= 1, "found no ```ts example in src/");
  for (const [index, { file, code }] of blocks.entries()) {
    // Only the key and the base URL change, as for any reader's own server.
    const source =
      "import { CampfireClient } from '@campfire/sdk';\n" +
      code
        .replace(/apiKey: "[^"]*"/, `apiKey: "${TEST_KEY}"`)
        .replace(/baseUrl: "[^"]*"/, `baseUrl: "${server.api}"`) +
      "\nexport {};\n";
    assert.ok(source.includes(server.api), `the example in ${file} sets no baseUrl`);
    await runModule(source, `comment-${index}`);
  }
});

test("inline doc examples run", async () => {
  const client = new CampfireClient({ apiKey: TEST_KEY, baseUrl: server.api });
  const examples = inlineExamples();
  assert.ok(examples.some(({ method }) => method === "createToken"));
  for (const { method, argument } of examples) {
    const owners = Object.values(client).filter(
      (resource) => resource && typeof resource[method] === "function",
    );
    assert.equal(owners.length, 1, `${method} is a method of ${owners.length} resources`);
    const value = Function(`return (${argument});`)();
    // A wrong parameter name rejects with the server's 400 and fails the test.
    await owners[0][method](value);
  }
});
