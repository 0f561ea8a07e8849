#!/usr/bin/env node
// Photographs the README's tour of what `npm run demo` leaves behind, in headless Chromium at 1280×800,
// into docs/images/tour-*.png: the champion model version, its source run's metric charts, the training
// window's dataset version and its diff with the retraining's window, the tuning study, the monitor
// with its fired alert, the firing report computed again in the drift page, the monthly pipeline's grid,
// and the lineage of the newest prediction batch.
//
//   npm run demo -- --keep --quick --url http://127.0.0.1:8790 --persist-to /tmp/tern-tour
//   TERN_URL=http://127.0.0.1:8790 node docs/capture-tour.mjs
//   kill -- -<pid the demo printed>
//
// Needs the built app (`npm run app:build`) and Chromium (CHROMIUM_PATH or /usr/bin/chromium). The
// full demo (without --quick) works too; it has more months, retrainings and reports to show.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const images = join(root, "docs", "images");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const base = (process.env.TERN_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
const token = process.env.TERN_TOKEN;

async function get(path) {
  const res = await fetch(`${base}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Everything the tour shows, found through the API the way the demo names it. */
async function demoObjects() {
  const champion = (await get("/api/2.0/mlflow/registered-models/alias?name=spx-direction&alias=champion")).model_version;
  const run = (await get(`/api/2.0/mlflow/runs/get?run_id=${champion.run_id}`)).run;
  const tern = (await get(`/api/v1/runs/${champion.run_id}`)).run;
  const study = (await get(`/api/v1/studies/by-name/${encodeURIComponent(tern.tags["tern.study"])}`)).study;
  const windows = (await get("/api/v1/datasets/spx-training-features/versions?max_results=1000")).versions;
  if (windows.length < 2) throw new Error("spx-training-features has one version: run the demo until a drift alert retrains");
  const monitor = (await get("/api/v1/monitors?max_results=1000")).monitors.map((m) => m.monitor).find((m) => m.name === "spx-direction-monitor");
  if (!monitor) throw new Error(`no monitor spx-direction-monitor at ${base}: run \`npm run demo\` first`);
  const fired = (await get(`/api/v1/monitors/${monitor.id}/alerts?max_results=1000`)).alerts.find((e) => e.kind === "fired");
  if (!fired) throw new Error("the monitor has not fired yet");
  const predict = (await get("/api/v1/pipelines")).pipelines.find((p) => p.name === "spx-daily-predict");
  const [newest] = (await get("/api/v1/datasets/spx-predictions/versions?max_results=1")).versions;
  return { champion, experimentId: run.info.experiment_id, study, windows, monitor, fired, predict, newest };
}

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: set CHROMIUM_PATH`);
  const o = await demoObjects();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
  const errors = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
    if (token) await context.addInitScript((t) => localStorage.setItem("tern.token", t), token);
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    const shots = [];
    async function shot(name, path, ready, scrollTo) {
      if (path) await page.goto(`${base}${path}`);
      await page.locator(ready).first().waitFor({ timeout: 60_000 });
      if (scrollTo) await page.locator(scrollTo).first().evaluate((el) => el.scrollIntoView({ block: "start" }));
      else await page.evaluate(() => window.scrollTo(0, 0));
      // Charts draw on the next frames, and relative times settle.
      await page.waitForTimeout(800);
      const file = join(images, `tour-${name}.png`);
      await page.screenshot({ path: file });
      shots.push([file, page.url().slice(base.length)]);
    }

    const m = o.champion;
    await shot("champion", `/models/spx-direction/versions/${m.version}`, '[data-testid="source-run"]');
    // The per-epoch validation curves: the charts filtered to val_*.
    await page.goto(`${base}/experiments/${o.experimentId}/runs/${m.run_id}`);
    await page.getByLabel("Filter charts").fill("val_");
    await shot("run", null, "#chart-val_logloss", '[data-testid="run-overview"]');
    const [after, before] = o.windows;
    await shot("dataset-version", `/datasets/spx-training-features/versions/${after.version}`, '[data-testid="column-profiles"]');
    await shot("dataset-diff", `/datasets/spx-training-features/diff?a=${before.version}&b=${after.version}`, '[data-testid="column-diff"]');
    await shot("study", `/studies/${o.study.study_id}`, '[data-testid="best-trial"]');
    await shot("monitor", `/monitoring/${o.monitor.id}`, '[data-testid="alert-events"] tr[data-event-kind="fired"]', '[data-testid="drift-share-chart"]');
    // The firing report, opened from its row on the monitor page and computed again in the browser.
    await page.locator(`[data-testid="reports-table"] tr[data-report-id="${o.fired.report_id}"] [data-testid="open-in-drift"]`).click();
    await page.waitForURL(/\/monitoring\/drift\?/);
    await page.locator('[data-testid="current-selected"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="run"]:not([disabled])').click();
    await shot("drift", null, '[data-testid="drift-row"]', '[data-testid="from-monitor"]');
    await shot("pipeline-grid", `/pipelines/${o.predict.pipeline_id}`, '[data-testid="pipeline-grid"] tr[data-task-row="predict"] a');
    // Upstream far enough to reach the training data: batch ← predict run ← model version ← run ← window.
    await page.goto(`${base}/lineage?object=${encodeURIComponent(`dataset_version:${o.newest.id}`)}`);
    await page.locator('[data-testid="lineage-graph"]').waitFor({ timeout: 60_000 });
    await page.getByLabel("Upstream").selectOption("4");
    await page.locator('[data-testid="lineage-graph"] title', { hasText: "spx-training-features" }).first().waitFor({ state: "attached", timeout: 60_000 });
    await shot("lineage", null, '[data-testid="lineage-graph"]');
    for (const [file, path] of shots) console.log(`${file.slice(root.length + 1)}  ${path}`);
  } finally {
    await browser.close();
  }
  if (errors.length) throw new Error(`the pages reported errors: ${errors.join("; ")}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
