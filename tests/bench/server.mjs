// The server a benchmark measures: TERN_URL (default the local dev server) when it answers, otherwise a
// dev server started here (`npm run dev`'s script) on a free port with fresh state, stopped by stop().
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Building the app and applying migrations first can take minutes on a busy 2-core machine. */
const START_WITHIN_MS = 300_000;

export const benchHeaders = {
  "Content-Type": "application/json",
  ...(process.env.TERN_TOKEN ? { Authorization: `Bearer ${process.env.TERN_TOKEN}` } : {}),
};

async function up(url) {
  try {
    return (await fetch(`${url}/api/v1/health`)).ok;
  } catch {
    return false;
  }
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** A dev server (`npm run dev`'s script) on a free port, on `state` or fresh state: { url, stop, state }. */
export async function startDevServer(state = mkdtempSync(join(tmpdir(), "tern-bench-"))) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, "cli", "dev.mjs"), "--port", String(port), "--persist-to", state], {
    cwd: root,
    env: { ...process.env, TERN_DEV_CRON: "off" },
    detached: true,
    stdio: "ignore",
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  /** Stops the server; `keepState` leaves its files for the caller to read (and remove). */
  const stop = async ({ keepState = false } = {}) => {
    if (child.exitCode == null && child.signalCode == null) {
      process.kill(-child.pid, "SIGTERM");
      await exited;
    }
    if (!keepState) rmSync(state, { recursive: true, force: true });
  };
  const started = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_WITHIN_MS;
  while (!(await up(started))) {
    if (child.exitCode != null) {
      await stop();
      throw new Error(`the dev server exited (code ${child.exitCode}); run \`npm run dev\` to see why`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the dev server did not start within ${START_WITHIN_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url: started, stop, state };
}

/** { url, stop } of the server to measure. */
export async function benchServer(url = process.env.TERN_URL ?? "http://127.0.0.1:8787") {
  if (await up(url)) return { url, stop() {} };
  console.log("no Tern answers at", url, "- starting a dev server with fresh state");
  const { url: started, stop } = await startDevServer();
  return { url: started, stop };
}
