/**
 * `npm run demo` end to end: the demo's own script (quick range: July to November 2008) with its real
 * `tern agent`, twice. The first run finds no server at its address, starts `npm run dev` on a state
 * directory of its own and, with --keep, leaves it running; the second run uses that server. The
 * outcomes are checked through the API: a champion, a drift alert that started a retraining run which
 * registered a new version, prediction batches as dataset versions, and lineage from the training data
 * through the model version to a prediction batch. The second run reuses everything it made and adds
 * only a new training run.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPage } from "./browser";
import { freePort } from "./dev-process";

const root = join(import.meta.dirname, "..", "..");
/** The demo trains, tunes and backfills on a shared 2-core machine: give it room. */
const DEMO_MS = 15 * 60_000;
const state = mkdtempSync(join(tmpdir(), "tern-demo-e2e-"));
let baseUrl = "";
let serverPid = 0;

function runDemo(...extra: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "cli", "demo.mjs"), "--quick", "--url", baseUrl, ...extra], { cwd: root, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(async () => {
  // The server the first run kept: its whole process group, by the pid the demo printed.
  if (serverPid && alive(serverPid)) {
    process.kill(-serverPid, "SIGTERM");
    while (alive(serverPid)) await new Promise((r) => setTimeout(r, 200));
  }
  rmSync(state, { recursive: true, force: true });
}, 60_000);

async function get(path: string): Promise<any> {
  const res = await fetch(`${baseUrl}${path}`);
  const body = await res.json();
  expect(res.status, `${path}: ${JSON.stringify(body)}`).toBe(200);
  return body;
}

const v1 = (path: string) => get(`/api/v1${path}`);
const pipelineNamed = async (name: string) => (await v1("/pipelines")).pipelines.find((p: any) => p.name === name);
const runsOf = async (pipelineId: string) => (await v1(`/pipelines/${pipelineId}/runs?max_results=1000`)).runs;
const versionsOf = async (dataset: string) => (await v1(`/datasets/${dataset}/versions?max_results=1000`)).versions;
const out = (run: any, task: string) => run.tasks.find((t: any) => t.task_id === task)?.output;

async function monitor() {
  const { monitors } = await v1("/monitors?max_results=1000");
  const named = monitors.filter((m: any) => m.monitor.name === "spx-direction-monitor");
  expect(named).toHaveLength(1);
  return named[0].monitor;
}

describe("npm run demo", () => {
  let first: { code: number | null; output: string };

  beforeAll(async () => {
    baseUrl = `http://127.0.0.1:${await freePort()}`;
    first = await runDemo("--keep", "--persist-to", state);
    serverPid = Number(/keeps running \(pid (\d+)\)/.exec(first.output)?.[1] ?? 0);
  }, DEMO_MS);

  it("closes the loop on real data: champion, drift alert, retraining, predictions and their lineage", async () => {
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain(`no Tern at ${baseUrl}: starting \`npm run dev\``);
    expect(serverPid).toBeGreaterThan(0);
    expect(first.output).toContain("1. Real market data as dataset versions");
    expect(first.output).toContain("7. Where to look");
    // The champion is a registered version whose source run has per-epoch metrics, the model file and its data.
    const champion = (await get("/api/2.0/mlflow/registered-models/alias?name=spx-direction&alias=champion")).model_version;
    const history = await get(`/api/2.0/mlflow/metrics/get-history?run_id=${champion.run_id}&metric_key=val_logloss`);
    expect(history.metrics.length).toBeGreaterThanOrEqual(20);
    expect(new Set(history.metrics.map((m: any) => m.step)).size).toBe(history.metrics.length);
    const artifacts = await get(`/api/2.0/mlflow/artifacts/list?run_id=${champion.run_id}&path=model`);
    expect(artifacts.files.map((f: any) => f.path)).toContain("model/model.json");
    const run = (await v1(`/runs/${champion.run_id}`)).run;
    const study = (await v1(`/studies/by-name/${encodeURIComponent(run.tags["tern.study"])}`)).study;
    expect(study.sampler.type).toBe("tpe");
    expect(study.pruner.type).toBe("median");
    expect(study.state_counts.COMPLETE + study.state_counts.PRUNED).toBeGreaterThanOrEqual(8);
    const trials = (await v1(`/studies/${study.study_id}/trials?max_results=100`)).trials;
    expect(trials.every((t: any) => typeof t.run_id === "string")).toBe(true);

    // The drift alert fired on the 2008 batches and started a retraining run that registered a version.
    const m = await monitor();
    const fired = (await v1(`/monitors/${m.id}/alerts?max_results=1000`)).alerts.filter((e: any) => e.kind === "fired");
    expect(fired.length).toBeGreaterThanOrEqual(1);
    const retrainId = fired[0].pipeline.run_id;
    expect(retrainId).toMatch(/^[0-9a-f]{32}$/);
    const retrain = await v1(`/pipeline-runs/${retrainId}`);
    expect(retrain.state).toBe("success");
    expect(retrain.conf).toMatchObject({ monitor_id: m.id, report_id: fired[0].report_id });
    expect(out(retrain, "prepare").reason).toMatch(/^drift alert on the batch ending 2008-/);
    const retrained = out(retrain, "register").version;
    expect((await get(`/api/2.0/mlflow/model-versions/get?name=spx-direction&version=${retrained}`)).model_version.run_id).toBe(out(retrain, "train").run_id);
    expect(typeof out(retrain, "promote").promoted).toBe("boolean");

    // One prediction batch per month, each a dataset version.
    const predict = await pipelineNamed("spx-daily-predict");
    const monthly = await runsOf(predict.pipeline_id);
    expect(monthly.map((r: any) => new Date(r.logical_date).toISOString().slice(0, 7)).sort()).toEqual(["2008-07", "2008-08", "2008-09", "2008-10", "2008-11"]);
    expect(monthly.every((r: any) => r.state === "success")).toBe(true);
    const predictions = await versionsOf("spx-predictions");
    expect(predictions).toHaveLength(5);

    // Lineage: training data -> run -> model version -> prediction run -> prediction batch.
    const newest = predictions[0];
    const g = await v1(`/lineage?object=${encodeURIComponent(`dataset_version:${newest.id}`)}&depth=6`);
    const into = (id: string, kind: string) => g.edges.filter((e: any) => e.to === id && e.kind === kind).map((e: any) => e.from);
    const [predictRun] = into(`dataset_version:${newest.id}`, "predictions");
    expect(predictRun).toMatch(/^pipeline_run:/);
    const [model] = into(predictRun, "used_model");
    expect(model).toMatch(/^model_version:spx-direction\/\d+$/);
    const [trainRun] = into(model, "produced");
    expect(trainRun).toMatch(/^run:/);
    const [data] = into(trainRun, "input");
    expect(g.nodes.find((n: any) => n.id === data).data.dataset).toBe("spx-training-features");
  });

  it("walks the results in Chromium: champion, its run and data with its diff, the study, the drift alert and its report exported, the pipeline grid and a task's log", async () => {
    const m = await monitor();
    const fired = (await v1(`/monitors/${m.id}/alerts?max_results=1000`)).alerts.find((e: any) => e.kind === "fired");
    const champion = (await get("/api/2.0/mlflow/registered-models/alias?name=spx-direction&alias=champion")).model_version;
    const predict = await pipelineNamed("spx-daily-predict");
    const errors: string[] = [];
    const { browser, page } = await openPage(errors, { width: 1400, height: 1000 });
    try {
      // Models → spx-direction: the champion alias leads to its version, whose source run is linked.
      await page.goto(`${baseUrl}/models`);
      await page.getByRole("link", { name: "spx-direction", exact: true }).first().click();
      await page.waitForURL(/\/models\/spx-direction$/);
      // The aliases card links the alias to its version (the versions table shows it unlinked, next to it).
      const chip = page.locator('[data-testid="alias-chip"][data-alias="champion"] a');
      await chip.waitFor();
      expect(await chip.textContent()).toContain(`v${champion.version}`);
      await chip.click();
      await page.waitForURL(new RegExp(`/models/spx-direction/versions/${champion.version}$`));
      await page.locator('[data-testid="source-run"] a').click();
      await page.waitForURL(new RegExp(`/runs/${champion.run_id}$`));
      // The run's dataset input: the training window, read for training.
      const input = page.locator('[data-testid="dataset-input"][data-name="spx-training-features"]');
      await input.waitFor();
      expect(await input.locator('[data-testid="dataset-context"]').textContent()).toBe("training");
      // Its dataset version, and from the dataset's versions the data diff of the newest window (the
      // retraining's) against the one before it.
      await input.locator('[data-testid="dataset-version-link"]').click();
      await page.waitForURL(/\/datasets\/spx-training-features\/versions\/\d+$/);
      const shown = Number(/\/versions\/(\d+)$/.exec(page.url())![1]);
      await page.locator('[data-testid="version-meta"]').waitFor();
      expect(await page.locator("h1").textContent()).toContain(`v${shown}`);
      const windows = await versionsOf("spx-training-features");
      expect(windows.map((w: any) => w.version)).toContain(shown);
      expect(windows.length).toBeGreaterThanOrEqual(2);
      const [after, before] = [windows[0].version, windows[1].version];
      expect(windows[0].row_count).toBeGreaterThan(0);
      await page.getByRole("link", { name: "spx-training-features", exact: true }).first().click();
      await page.waitForURL(/\/datasets\/spx-training-features$/);
      await page.getByRole("checkbox", { name: `Compare v${before}`, exact: true }).check();
      await page.getByRole("checkbox", { name: `Compare v${after}`, exact: true }).check();
      await page.getByRole("link", { name: "Compare", exact: true }).click();
      await page.waitForURL(new RegExp(`/datasets/spx-training-features/diff\\?a=${before}&b=${after}$`));
      const rows = (w: any) => w.row_count.toLocaleString("en-US");
      const summary = page.locator('[data-testid="diff-summary"]');
      await summary.waitFor();
      expect(await summary.textContent()).toContain(`${rows(windows[1])} → ${rows(windows[0])}`);
      await page.locator('[data-testid="column-diff"]').waitFor();
      // The study that chose its params.
      const run = (await v1(`/runs/${champion.run_id}`)).run;
      const study = (await v1(`/studies/by-name/${encodeURIComponent(run.tags["tern.study"])}`)).study;
      await page.goto(`${baseUrl}/studies/${study.study_id}`);
      expect(await page.locator('[data-testid="study-name"]').textContent()).toBe(study.name);
      await page.locator('[data-testid="best-trial"]').waitFor();
      // The monitor: the report that fired the alert, and the retraining run the alert started.
      await page.goto(`${baseUrl}/monitoring/${m.id}`);
      await page.locator(`[data-testid="reports-table"] tr[data-report-id="${fired.report_id}"]`).waitFor();
      const event = page.locator('[data-testid="alert-events"] tr[data-event-kind="fired"]').filter({ hasText: fired.pipeline.run_id });
      await event.waitFor();
      // That report opened in the drift page with the two versions it compared and the monitor's settings,
      // computed again in this browser (every row is read: the same decisions), and exported as HTML.
      const firing = (await v1(`/monitors/${m.id}/reports?max_results=1000`)).reports.find((r: any) => r.id === fired.report_id);
      const ref = `${firing.reference.dataset} v${firing.reference.version}`;
      const cur = `${firing.current.dataset} v${firing.current.version}`;
      await page.locator(`[data-testid="reports-table"] tr[data-report-id="${fired.report_id}"] [data-testid="open-in-drift"]`).click();
      await page.waitForURL(/\/monitoring\/drift\?monitor=/);
      await expect.poll(async () => (await page.locator('[data-testid="current-selected"]').textContent()) ?? "", { timeout: 30_000 }).toContain(cur);
      expect(await page.locator('[data-testid="reference-selected"]').textContent()).toContain(ref);
      await page.locator('[data-testid="run"]:not([disabled])').click();
      await page.locator('[data-testid="drift-report"]').waitFor({ timeout: 60_000 });
      const decisions = await page.locator('[data-testid="drift-row"]').evaluateAll((rows) => Object.fromEntries(rows.map((r) => [r.getAttribute("data-column"), r.getAttribute("data-drifted")])));
      expect(decisions).toEqual(Object.fromEntries(firing.summary.columns.map((c: any) => [c.column, String(c.drifted)])));
      const [download] = await Promise.all([page.waitForEvent("download"), page.locator('[data-testid="export-html"]').click()]);
      expect(download.suggestedFilename()).toBe("drift-report.html");
      const html = readFileSync((await download.path())!, "utf8");
      expect(html).toContain(`Reference: ${ref}`);
      expect(html).toContain(`Current: ${cur}`);
      const drifted = firing.summary.columns.filter((c: any) => c.drifted).map((c: any) => c.column);
      expect(drifted.length).toBeGreaterThan(0);
      for (const column of drifted) expect(html).toContain(`<summary>${column} — `);
      // The monthly pipeline's grid, and the log of one month's predict task.
      await page.goto(`${baseUrl}/pipelines/${predict.pipeline_id}`);
      const cell = page.locator('[data-testid="pipeline-grid"] tr[data-task-row="predict"] a').first();
      await cell.waitFor();
      await cell.click();
      await page.waitForURL(/\/tasks\/predict/);
      const log = page.locator('[data-testid="task-log"]');
      await expect.poll(async () => (await log.textContent()) ?? "", { timeout: 30_000 }).toContain('"predictions_version"');
    } finally {
      await browser.close();
    }
    expect(errors).toEqual([]);
  });

  it("runs again without errors, reusing what it made and adding a new training run", async () => {
    expect(first.code, first.output).toBe(0);
    const counts = {
      train: (await runsOf((await pipelineNamed("spx-train")).pipeline_id)).length,
      daily: (await versionsOf("spx-daily")).length,
      features: (await versionsOf("spx-features")).length,
    };
    expect(counts.daily).toBe(6);

    const second = await runDemo();
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain(`using the Tern at ${baseUrl}`);
    expect(alive(serverPid)).toBe(true);
    expect(second.output).toContain("spec unchanged");
    expect(second.output).toContain("0 runs created, 5 already existed");
    expect((await pipelineNamed("spx-train")).version).toBe(1);
    expect((await runsOf((await pipelineNamed("spx-train")).pipeline_id)).length).toBe(counts.train + 1);
    expect(await runsOf((await pipelineNamed("spx-daily-predict")).pipeline_id)).toHaveLength(5);
    expect(await versionsOf("spx-daily")).toHaveLength(counts.daily);
    expect(await versionsOf("spx-features")).toHaveLength(counts.features);
    expect(await versionsOf("spx-predictions")).toHaveLength(5);
    expect((await v1(`/monitors/${(await monitor()).id}/rules`)).rules).toHaveLength(1);
    expect((await get("/api/2.0/mlflow/registered-models/alias?name=spx-direction&alias=champion")).model_version.version).toMatch(/^\d+$/);
  }, DEMO_MS);
});
