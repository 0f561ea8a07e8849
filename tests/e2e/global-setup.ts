/**
 * Starts a real `wrangler dev` (workerd, local D1/R2/Durable Objects, the built app as static assets)
 * on a free port with fresh state, for the HTTP and Chromium tests; stops it afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freePort } from "./dev-process";

declare module "vitest" {
  export interface ProvidedContext {
    /** A dev server in open mode, as `npm run dev` starts it. */
    baseUrl: string;
    /** A dev server in token mode, as deployed, with TOKEN_MODE_ADMIN as its bootstrap admin token. */
    tokenBaseUrl: string;
  }
}

export const TOKEN_MODE_ADMIN = "tern-e2e-bootstrap-admin";

const root = join(import.meta.dirname, "..", "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const quiet = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1" };

/** Generous: on a busy 2-core machine wrangler dev (esbuild, workerd start, migrations) can take minutes. */
const READY_WITHIN_MS = 240_000;

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (child.exitCode != null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/api/v1/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not become ready within ${READY_WITHIN_MS / 1000} s:\n${log()}`);
}

interface DevServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Open mode runs `npm run dev`'s own script (cli/dev.mjs: migrations, app build check, wrangler dev),
 * so the tests cover the command a user runs. Token mode runs wrangler dev as a deployment is configured.
 */
async function startDevServer(mode: "open" | "token"): Promise<DevServer> {
  const state = mkdtempSync(join(tmpdir(), "tern-e2e-"));
  const port = await freePort();
  const common = ["--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--inspector-port", "0"];
  let command: string;
  let args: string[];
  if (mode === "open") {
    command = process.execPath;
    args = [join(root, "cli", "dev.mjs"), ...common];
  } else {
    const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env: quiet, encoding: "utf8" });
    if (migrate.status !== 0) throw new Error(`applying migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
    command = wrangler;
    args = ["dev", ...common, "--test-scheduled", "--var", "AUTH_MODE:token", "--var", `TERN_ADMIN_TOKEN:${TOKEN_MODE_ADMIN}`];
  }
  let output = "";
  // Crons are fired by the tests themselves, so that no tick lands at an unexpected moment.
  const child = spawn(command, args, { cwd: root, env: { ...quiet, TERN_DEV_CRON: "off" }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const stop = async () => {
    if (child.pid && child.exitCode == null) {
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(-child.pid, "SIGTERM");
      await exited;
    }
    rmSync(state, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

export default async function setup(project: TestProject) {
  if (!existsSync(join(root, "app", "build", "index.html"))) {
    throw new Error("app/build is missing: run `npm run app:build` (npm test does it for you)");
  }
  // Both start together; when one fails, the other is stopped too rather than left running.
  const started = await Promise.allSettled([startDevServer("open"), startDevServer("token")]);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  const servers = started.map((s) => (s as PromiseFulfilledResult<DevServer>).value);
  project.provide("baseUrl", servers[0].url);
  project.provide("tokenBaseUrl", servers[1].url);
  return async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
}
