#!/usr/bin/env node
// Makes the README's pipeline screenshots from real runs: creates the daily fetch → features → predict →
// store pipeline on a Tern server (TERN_URL, or a dev server started with fresh state), backfills two
// weeks of weekdays, lets a real `tern agent` run every task (one day's predict fails twice, another
// succeeds on its second try), starts one more run that is still going, then photographs the grid and a
// run's graph in headless Chromium into docs/images/pipeline-grid.png and docs/images/pipeline-graph.png.
//
//   node docs/capture-pipeline-images.mjs
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { benchHeaders, benchServer } from "../tests/bench/server.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "docs", "images");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const queue = `readme-${Date.now().toString(36)}`;

// The README's pipeline, with shell one-liners standing in for the Python scripts.
const spec = `description: Predict SPY before the open
schedule: "0 5 * * 1-5"
timezone: Asia/Seoul
catchup: false
max_active_runs: 1
params: {symbol: SPY, model: ridge, slow: "no"}
default_args: {retries: 1, retry_delay: 1s}
tasks:
  fetch:
    kind: agent
    queue: ${queue}
    command: |
      echo "fetching {{ params.symbol }} bars for {{ ds }}"
      printf '{"rows": 390}' > "$TERN_OUTPUT_FILE"
  features:
    kind: agent
    queue: ${queue}
    depends_on: [fetch]
    command: |
      echo "features for {{ ds }} from {{ outputs.fetch.rows }} rows"
      if [ "{{ params.slow }}" = "yes" ]; then sleep 40; fi
      printf '{"columns": 24}' > "$TERN_OUTPUT_FILE"
  predict:
    kind: agent
    queue: ${queue}
    depends_on: [features]
    command: |
      echo "loading model {{ params.model }}"
      if [ "{{ ds }}" = "2026-11-17" ]; then echo "model file not found" >&2; exit 1; fi
      if [ "{{ ds }}" = "2026-11-19" ] && [ "$TERN_TRY_NUMBER" = "1" ]; then echo "GPU busy, retrying" >&2; exit 75; fi
      printf '{"direction": "up", "p": 0.61}' > "$TERN_OUTPUT_FILE"
  store:
    kind: agent
    queue: ${queue}
    depends_on: [predict]
    command: echo "stored {{ outputs.predict.direction }} for {{ ds }}"
`;

const { url, stop } = await benchServer();
async function api(method, path, body) {
  const res = await fetch(`${url}/api/v1${path}`, { method, headers: benchHeaders, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const agent = spawn(process.execPath, [join(root, "cli", "tern.mjs"), "agent", "--queue", queue, "--agent-id", "laptop-1", "--poll", "0.2", "--lease", "20"], {
  cwd: root,
  env: { ...process.env, TERN_URL: url, TERN_TOKEN: process.env.TERN_TOKEN ?? "" },
  stdio: "ignore",
});
let browserDir = null;
let context = null;
try {
  const { pipeline_id: id } = await api("POST", "/pipelines", { name: `spy-daily-${queue.slice(7)}`, spec });
  // Two weeks of weekdays in Seoul (the 05:00 runs of Nov 9-20).
  await api("POST", `/pipelines/${id}/backfill`, { start: "2026-11-08T15:00:00Z", end: "2026-11-20T15:00:00Z" });
  for (let i = 0; ; i++) {
    const { runs } = await api("GET", `/pipelines/${id}/runs`);
    if (runs.every((r) => r.state === "success" || r.state === "failed")) break;
    if (i > 600) throw new Error("the backfill did not finish within 5 minutes");
    await sleep(500);
  }
  const { run_id: live } = await api("POST", `/pipelines/${id}/runs`, { conf: { slow: "yes" }, logical_date: "2026-11-23T05:00:00+09:00" });
  for (let i = 0; ; i++) {
    const run = await api("GET", `/pipeline-runs/${live}`);
    if (run.tasks.find((t) => t.task_id === "features").state === "running") break;
    if (i > 120) throw new Error("the live run did not reach features");
    await sleep(500);
  }
  const failed = (await api("GET", `/pipelines/${id}/runs`)).runs.find((r) => r.state === "failed");

  browserDir = mkdtempSync(join(tmpdir(), "tern-capture-"));
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  context = await chromium.launchPersistentContext(browserDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 820 },
    deviceScaleFactor: 1,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  if (process.env.TERN_TOKEN) await page.addInitScript((t) => localStorage.setItem("tern.token", t), process.env.TERN_TOKEN);

  await page.goto(`${url}/pipelines/${id}`);
  await page.getByTestId("pipeline-grid").waitFor();
  await page.locator(`[data-cell-task="features"][data-state="running"]`).waitFor();
  await page.screenshot({ path: join(out, "pipeline-grid.png") });

  await page.goto(`${url}/pipelines/${id}/runs/${failed.run_id}`);
  await page.locator('[data-node="store"][data-state="upstream_failed"]').waitFor();
  await page.locator('[data-node="predict"]').click();
  await page.getByTestId("selected-task-state").waitFor();
  await page.screenshot({ path: join(out, "pipeline-graph.png") });
  console.log(`wrote ${join(out, "pipeline-grid.png")} and ${join(out, "pipeline-graph.png")}`);
  await api("POST", `/pipeline-runs/${live}/cancel`).catch(() => undefined);
} finally {
  await context?.close();
  if (browserDir) rmSync(browserDir, { recursive: true, force: true });
  agent.kill("SIGTERM");
  stop();
}
