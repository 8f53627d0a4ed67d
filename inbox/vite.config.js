// Builds the inbox into the Python package, which serves it at /inbox/.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/inbox/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: fileURLToPath(new URL("../src/campfire_server/static/inbox", import.meta.url)),
    emptyOutDir: true,
    target: "es2020",
    // No source maps: the package ships only what the page loads.
    sourcemap: false,
  },
  server: {
    // `npm run dev` proxies the API to a server started with `make run`.
    proxy: { "/api": { target: "http://127.0.0.1:3000", ws: true } },
  },
});
