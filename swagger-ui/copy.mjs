// Copy the Swagger UI files that /api/v2/docs serves into the server package.
// The version is the one package-lock.json pins; the server page names it.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "node_modules", "swagger-ui-dist");
const target = join(here, "..", "src", "campfire_server", "static", "swagger-ui");
const files = [
  "swagger-ui-bundle.js",
  "swagger-ui-bundle.js.LICENSE.txt",
  "swagger-ui.css",
  "favicon-32x32.png",
  "LICENSE",
  "NOTICE",
];

const { version } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const name of files) {
  copyFileSync(join(source, name), join(target, name));
}
writeFileSync(join(target, "VERSION"), `${version}\n`);
console.log(`copied swagger-ui-dist ${version} to ${target}`);
