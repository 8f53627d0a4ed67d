// Start a development server on 127.0.0.1 with a scratch SQLite file for one test file.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TEST_KEY = "test_sk_123456789";
export const MAILBOX_ID = "mailbox_456";
// The development organization's agent, which an API key's agent messages name as author.
export const AGENT_ID = "agent_123";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = join(packageRoot, "..", "..");

export function pythonExecutable() {
  if (process.env.CAMPFIRE_PYTHON) return process.env.CAMPFIRE_PYTHON;
  const venv = join(repoRoot, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start the server and resolve once it answers; `stop()` ends it and removes its files.
 * `databaseUrl` replaces the scratch SQLite file, and `env` adds settings.
 */
export async function startServer({ databaseUrl, env = {} } = {}) {
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), "campfire-sdk-js-"));
  const logPath = join(directory, "server.log");
  const log = openSync(logPath, "w");
  const child = spawn(
    pythonExecutable(),
    [
      "-m", "campfire_server.cli", "serve", "--env", "development",
      "--host", "127.0.0.1", "--port", String(port),
      "--database-url", databaseUrl ?? `sqlite:///${join(directory, "campfire.db")}`,
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        CAMPFIRE_ENV: "development",
        CAMPFIRE_LOG_LEVEL: "WARNING",
        // Webhook URLs in these tests point at 127.0.0.1, and no DNS query may leave the machine.
        CAMPFIRE_WEBHOOK_DNS_LOOKUPS: "false",
        ...env,
      },
      stdio: ["ignore", log, log],
    },
  );
  const api = `http://127.0.0.1:${port}/api/v2`;
  const logTail = () => readFileSync(logPath, "utf8").slice(-3000);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the development server exited early:\n${logTail()}`);
    try {
      const response = await fetch(`${api}/openapi.json`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the development server did not start within 60 s:\n${logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    api,
    port,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export function uniqueCustomer() {
  return `customer_${Math.random().toString(16).slice(2, 14)}`;
}
