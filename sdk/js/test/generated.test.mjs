// The committed OpenAPI types match the server code under test.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { generatedSource } from "../scripts/generate.mjs";

const committed = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "generated", "openapi.ts");

test("generated types are up to date", async () => {
  const fresh = await generatedSource();
  assert.ok(
    readFileSync(committed, "utf8") === fresh,
    "src/generated/openapi.ts is stale: run `npm run generate` in sdk/js and commit it",
  );
});
