#!/usr/bin/env node
// `npm run dev`: the local Tern. Applies the D1 migrations, builds the app when its sources changed,
// starts `wrangler dev` (workerd with local D1, R2 and Durable Objects), and, because wrangler dev does
// not fire Cron Triggers by itself, fires each cron of wrangler.toml on its schedule (UTC, as Cloudflare
// does) through wrangler's test-scheduled route. Extra arguments go to wrangler dev.
// Set TERN_DEV_CRON=off to fire crons only by hand (curl /__scheduled?cron=...).
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cron } from "croner";
import { parse } from "smol-toml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" };
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const host = option("--ip", "127.0.0.1");
const port = option("--port", "8787");
const persistTo = option("--persist-to", null);
const url = `http://${host}:${port}`;
const OWN = ["--ip", "--port"];

function run(command, commandArgs) {
  const res = spawnSync(command, commandArgs, { cwd: root, env, stdio: "inherit" });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

run(wrangler, ["d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])]);
run(process.execPath, [join(root, "app", "build-if-needed.mjs")]);

const config = parse(readFileSync(join(root, "wrangler.toml"), "utf8"));
const crons = config.triggers?.crons ?? [];

console.log(`
  Tern runs in OPEN mode: no API token is required. This is for local development only;
  a deployed Tern runs with AUTH_MODE=token.

  App and API:   ${url}
  API reference: ${url}/api-reference
  Cron Triggers: ${crons.length ? crons.join(", ") : "none"}${process.env.TERN_DEV_CRON === "off" ? " (not fired: TERN_DEV_CRON=off)" : " (fired locally, UTC)"}
`);

const child = spawn(
  wrangler,
  ["dev", "--ip", host, "--port", port, "--var", "AUTH_MODE:open", "--test-scheduled", ...args.filter((a, i) => !OWN.includes(a) && !OWN.includes(args[i - 1]))],
  { cwd: root, env, stdio: "inherit" },
);

const jobs = [];
if (process.env.TERN_DEV_CRON !== "off") {
  for (const pattern of crons) {
    jobs.push(
      new Cron(pattern, { timezone: "UTC", protect: true }, async () => {
        try {
          const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent(pattern)}`);
          if (!res.ok) console.error(`[tern dev] cron "${pattern}" answered ${res.status}`);
        } catch (err) {
          console.error(`[tern dev] cron "${pattern}" could not reach wrangler dev: ${err.message}`);
        }
      }),
    );
  }
}

const stop = (signal) => {
  for (const job of jobs) job.stop();
  if (child.exitCode == null) child.kill(signal);
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
child.on("exit", (code, signal) => {
  for (const job of jobs) job.stop();
  process.exit(code ?? (signal ? 0 : 1));
});
