// Builds the SvelteKit app when app/build is missing or older than any of its sources,
// so `npm run dev` starts fast when nothing in the app changed.
import { execSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const app = dirname(fileURLToPath(import.meta.url));
const marker = join(app, "build", "index.html");

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), stat.mtimeMs);
}

const sources = ["src", "static", "svelte.config.js", "vite.config.ts", "tsconfig.json", "../package-lock.json"].map((p) => join(app, p));
const built = existsSync(marker) ? statSync(marker).mtimeMs : 0;
const changed = Math.max(...sources.map(newest));

if (built >= changed) {
  console.log("app/build is up to date");
} else {
  console.log(built ? "app sources changed: rebuilding app/build" : "building app/build");
  execSync("npx vite build", { cwd: app, stdio: "inherit" });
}
