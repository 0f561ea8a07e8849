#!/usr/bin/env node
// Runs one of the demo's agent tasks (cli/demo/tasks.ts, bundled with esbuild on first use, since
// Node 20 cannot run TypeScript): `node cli/demo/task.mjs <step> --flag value ...`.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTypeScript } from "../bundle.mjs";

const here = dirname(fileURLToPath(import.meta.url));
try {
  const tasks = await loadTypeScript(here, "tasks.ts", "tern demo");
  await tasks.main(process.argv.slice(2), join(here, "..", ".."));
} catch (err) {
  console.error(`demo task: ${err.message}`);
  process.exitCode = 1;
}
