// Runs the inbox's Realtime class in Node for the realtime tests.
// Usage: node realtime_driver.mjs HOST:PORT TOKEN CHANNEL
// Prints each delivered event frame, and each subscribed reply, as one JSON line. Reads commands from stdin:
// "drop" closes the socket and delays the reconnect until "resume".
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = new URL("../../", import.meta.url);
const require = createRequire(fileURLToPath(new URL("sdk/js/package.json", root)));
globalThis.WebSocket = require("ws");
const [host, token, channel] = process.argv.slice(2);
globalThis.location = { protocol: "http:", host };

const { Realtime } = await import(new URL("inbox/src/realtime.js", root).href);
const realtime = new Realtime(token, {
  onEvent: (frame) => process.stdout.write(JSON.stringify(frame) + "\n"),
  onState: (state, detail) =>
    process.stdout.write(JSON.stringify({ type: "state", state, detail }) + "\n"),
});
const receive = realtime.receive.bind(realtime);
realtime.receive = (frame) => {
  if (frame.type === "subscribed") process.stdout.write(JSON.stringify(frame) + "\n");
  receive(frame);
};
realtime.subscribe(channel);

const connect = realtime.connect.bind(realtime);
let resume = null;
realtime.connect = () => {
  if (resume === null) return connect();
  resume.then(connect);
};
let release = () => {};
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "drop") {
    resume = new Promise((resolve) => {
      release = resolve;
    });
    realtime.socket.close();
  } else if (line === "resume") {
    const held = release;
    resume = null;
    held();
  }
}
realtime.close();
