// Minifies src/widget.js into the Python package, which serves it at /widget.js.
// `node build.mjs --check` writes nothing and exits with status 1 when the
// committed build differs from a fresh one.
import { readFile, writeFile } from "node:fs/promises";
import { transform } from "esbuild";

const SOURCE = new URL("src/widget.js", import.meta.url);
const OUTPUT = new URL("../src/campfire_server/static/widget.js", import.meta.url);

const source = await readFile(SOURCE, "utf8");
const result = await transform(source, {
  loader: "js",
  minify: true,
  // The source is ES5, so esbuild must not shorten it into newer syntax such as `??=`.
  target: "es5",
  // Non-ASCII text (most of the translations) stays UTF-8, which is shorter than \u escapes.
  charset: "utf8",
  // No source map: the server serves only this file.
  sourcemap: false,
  banner: "/* Campfire chat widget, minified from widget/src/widget.js by `make widget`. */",
});

if (process.argv.includes("--check")) {
  const committed = await readFile(OUTPUT, "utf8").catch(() => "");
  if (committed !== result.code) {
    console.error("src/campfire_server/static/widget.js is stale; run `make widget` and commit it");
    process.exit(1);
  }
} else {
  await writeFile(OUTPUT, result.code);
}
