/**
 * Backups end to end: two real `wrangler dev` servers on their own persisted state. The first gets data
 * in every pillar (an experiment with runs, metrics and an artifact; a registered model with an alias; a
 * dataset with two versions; a TPE study with trials; a pipeline with a finished run; a monitor with a
 * report), the real `tern export` writes it to a folder, `tern import` loads it into the second, and the
 * second then holds the same rows in every table, the same blobs, the same Durable Object state, reads
 * the same through the API, and carries on: the study's next trial is the one the first would give.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli";
import { DevServer, READY_WITHIN_MS, freePort, quiet, root, wrangler } from "./dev-process";

let work: string;
const servers: DevServer[] = [];
let source: DevServer;
let target: DevServer;

function migrate(state: string): void {
  const r = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env: quiet, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`applying migrations failed:\n${r.stdout}\n${r.stderr}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "tern-backup-"));
  for (const name of ["source", "target"]) {
    const state = join(work, `${name}-state`);
    mkdirSync(state);
    migrate(state);
    servers.push(new DevServer(state, await freePort()));
  }
  [source, target] = servers;
  // One after the other: two cold starts at once crowd a small machine.
  await source.start();
  await target.start();
}, 2 * READY_WITHIN_MS + 120_000);

afterAll(async () => {
  for (const s of servers) await s.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

async function call(server: DevServer, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${server.url}${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const api = (server: DevServer, method: string, path: string, body?: unknown) => call(server, method, `/api/v1${path}`, body);
const mlflow = (server: DevServer, method: string, path: string, body?: unknown) => call(server, method, `/api/2.0/mlflow${path}`, body);

async function waitForRun(server: DevServer, runId: string): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = await api(server, "GET", `/pipeline-runs/${runId}`);
    if (run.state === "success" || run.state === "failed") return run;
    if (Date.now() > deadline) throw new Error(`pipeline run ${runId} did not finish: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const tern = (args: string[], server: DevServer) =>
  runCli(args, work, { TERN_URL: server.url, TERN_TOKEN: "", XDG_CONFIG_HOME: join(work, "config"), XDG_CACHE_HOME: join(work, "cache"), TERN_BACKUP_PART_SIZE: String(5 * 1024 * 1024) });

const SPACE = { x: { type: "float", low: -3, high: 3 }, depth: { type: "int", low: 1, high: 6 }, opt: { type: "categorical", choices: ["sgd", "adam"] } };
const N_TRIALS = 14;

const ids = { run: "", experiment: "", study: "", pipelineRun: "", monitor: "", artifactKey: "" };

async function populate(): Promise<void> {
  // Tracking: an experiment with two runs, a metric history and an artifact.
  const first = await api(source, "POST", "/runs", { experiment_name: "backup-e2e", name: "ridge", params: { alpha: 0.5 }, tags: { symbol: "SPY" } });
  ids.run = first.run.run_id;
  ids.experiment = String(first.run.experiment_id);
  for (let step = 0; step < 60; step += 20) {
    const metrics = Array.from({ length: 20 }, (_, i) => ({ key: "rmse", value: 1 / (step + i + 1) + Math.sin(step + i) * 1e-9, step: step + i }));
    await api(source, "POST", `/runs/${ids.run}/log`, { metrics });
  }
  await api(source, "PATCH", `/runs/${ids.run}`, { status: "FINISHED" });
  await api(source, "POST", "/runs", { experiment_name: "backup-e2e", name: "lasso", params: { alpha: 0.1 } });
  ids.artifactKey = `mlflow-artifacts/${ids.experiment}/${ids.run}/artifacts/model/weights.bin`;
  // Over one import part (TERN_BACKUP_PART_SIZE below), so it goes back in R2 multipart parts.
  const weights = new Uint8Array(6_000_000).map((_, i) => (i * 7919) % 251);
  const put = await fetch(`${source.url}/api/2.0/mlflow-artifacts/artifacts/${ids.experiment}/${ids.run}/artifacts/model/weights.bin`, { method: "PUT", body: weights, headers: { "Content-Type": "application/octet-stream" } });
  expect(put.status).toBe(200);
  // Registry: a model, a version of the run's model, an alias.
  await mlflow(source, "POST", "/registered-models/create", { name: "spy-direction" });
  await mlflow(source, "POST", "/model-versions/create", { name: "spy-direction", source: `runs:/${ids.run}/model`, run_id: ids.run });
  await mlflow(source, "POST", "/registered-models/alias", { name: "spy-direction", alias: "champion", version: "1" });
  // Datasets: two versions through the real CLI.
  const data = join(work, "project", "data");
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, "prices.csv"), "day,close\n1,100.5\n2,101.25\n");
  for (const [message, extra] of [["first cut", ""], ["one more day", "3,99.75\n"]]) {
    if (extra) writeFileSync(join(data, "prices.csv"), readFileSync(join(data, "prices.csv"), "utf8") + extra);
    const add = await runCli(["data", "add", "data/prices.csv", "--dataset", "prices", "-m", message, "-q"], join(work, "project"), { TERN_URL: source.url, TERN_TOKEN: "", XDG_CONFIG_HOME: join(work, "config"), XDG_CACHE_HOME: join(work, "cache") });
    expect(add.code, add.stderr).toBe(0);
  }
  // Tuning: a TPE study past its startup trials, so the next ask depends on every earlier trial.
  ids.study = (await api(source, "POST", "/studies", { name: "backup-tpe", sampler: { type: "tpe", n_startup_trials: 5, seed: 7 } })).study_id;
  for (let i = 0; i < N_TRIALS; i++) {
    const { trial } = await api(source, "POST", `/studies/${ids.study}/ask`, { search_space: SPACE });
    await api(source, "POST", `/studies/${ids.study}/trials/${trial.number}/report`, { step: 1, value: trial.params.x });
    await api(source, "POST", `/studies/${ids.study}/trials/${trial.number}/tell`, { value: (trial.params.x - 1) ** 2 + trial.params.depth / 10 });
  }
  // Pipelines: a finished run of a three-task DAG.
  const pipeline = await api(source, "POST", "/pipelines", { name: "backup-daily", spec: { tasks: { fetch: { kind: "noop" }, train: { kind: "noop", depends_on: ["fetch"] }, report: { kind: "noop", depends_on: ["train"] } } } });
  ids.pipelineRun = (await api(source, "POST", `/pipelines/${pipeline.pipeline_id}/runs`, { conf: { symbol: "SPY" } })).run_id;
  expect((await waitForRun(source, ids.pipelineRun)).state).toBe("success");
  // Monitoring: a monitor of the champion with one drift report.
  ids.monitor = (await api(source, "POST", "/monitors", { name: "spy-drift", model: { name: "spy-direction", alias: "champion" } })).monitor.id;
  await api(source, "POST", `/monitors/${ids.monitor}/reports`, {
    summary: {
      dataset_drift: false,
      drift_share: 0.25,
      number_of_columns: 2,
      number_of_drifted_columns: 0,
      columns: [
        { column: "close", type: "num", method: "ks", threshold: 0.05, score: 0.4, drifted: false, statistic: 0.1, p_value: 0.4 },
        { column: "volume", type: "num", method: "ks", threshold: 0.05, score: 0.2, drifted: false, statistic: 0.2, p_value: 0.2 },
      ],
    },
    reference: { name: "train.csv", rows: 1000 },
    current: { name: "week-1.csv", rows: 800 },
    sample_size: 800,
  });
}

/** A folder's files (relative path → sha256), without the manifest, whose ids and times differ. */
function folderDigest(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), path);
      else if (path !== "manifest.json") out[path] = createHash("sha256").update(readFileSync(join(dir, e.name))).digest("hex");
    }
  };
  walk(folder, "");
  return out;
}

const dumpTables = (folder: string, kind: string, id: string) => JSON.parse(readFileSync(join(folder, "durable-objects", kind, `${id}.json`), "utf8")).tables;

describe("tern export and tern import", () => {
  it("carry a Tern with data in every pillar into an empty one, which then reads and continues the same", async () => {
    await populate();
    const exported = join(work, "export");
    const ex = await tern(["export", exported], source);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout).toContain("Exported");
    const manifest = JSON.parse(readFileSync(join(exported, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ format: "tern-export", format_version: 1, tern_version: "0.1.0" });
    expect(manifest.tables.runs.rows).toBe(2);
    expect(manifest.tables.metrics.rows).toBe(60);
    expect(manifest.tables.dataset_versions.rows).toBe(2);
    expect(manifest.tables.model_versions.rows).toBe(1);
    expect(manifest.tables.registered_model_aliases.rows).toBe(1);
    expect(manifest.tables.monitor_reports.rows).toBe(1);
    expect(Object.keys(manifest.durable_objects.studies)).toEqual([ids.study]);
    expect(Object.keys(manifest.durable_objects.pipeline_runs)).toEqual([ids.pipelineRun]);
    expect(manifest.excluded_tables.map((t: any) => t.name).sort()).toEqual(["blob_upload_parts", "blob_uploads", "system_state"]);
    // Every blob is in the folder under its own sha256, and the index names each object's.
    const objects = readFileSync(join(exported, "objects.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(objects.map((o) => o.key)).toContain(ids.artifactKey);
    for (const o of objects) expect(manifest.blobs[o.sha256]).toBe(o.size);
    for (const [sha, size] of Object.entries(manifest.blobs)) {
      const bytes = readFileSync(join(exported, "blobs", "sha256", sha.slice(0, 2), sha.slice(2)));
      expect(bytes.length).toBe(size);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(sha);
    }
    // The export ended its read-only mode.
    expect((await api(source, "GET", "/admin/maintenance")).maintenance).toBeNull();

    // A damaged export is refused before anything is written.
    const damaged = join(work, "damaged");
    spawnSync("cp", ["-r", exported, damaged]);
    const artifactSha = objects.find((o) => o.key === ids.artifactKey).sha256;
    writeFileSync(join(damaged, "blobs", "sha256", artifactSha.slice(0, 2), artifactSha.slice(2)), "not the weights");
    const refused = await tern(["import", damaged], target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`blob ${artifactSha} is damaged`);
    expect((await api(target, "GET", "/admin/maintenance")).maintenance).toBeNull();

    const im = await tern(["import", exported], target);
    expect(im.code, im.stderr).toBe(0);
    expect(im.stdout).toContain("Imported");
    // A second import finds the target full and says so.
    const again = await tern(["import", exported], target);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/needs an empty Tern, and this one holds data \(.*runs: 2 rows/);

    // Re-exported, the target gives the same files: every table's rows, every object, each object's dump.
    const reexported = join(work, "reexport");
    const ex2 = await tern(["export", reexported], target);
    expect(ex2.code, ex2.stderr).toBe(0);
    const before = folderDigest(exported);
    const after = folderDigest(reexported);
    for (const kind of ["studies", "pipeline-runs"]) {
      for (const file of Object.keys(before).filter((f) => f.startsWith(`durable-objects/${kind}/`))) {
        const id = file.split("/").pop()!.replace(/\.json$/, "");
        expect(dumpTables(reexported, kind, id), file).toEqual(dumpTables(exported, kind, id));
        delete before[file];
        delete after[file];
      }
    }
    expect(after).toEqual(before);
    const manifest2 = JSON.parse(readFileSync(join(reexported, "manifest.json"), "utf8"));
    expect(manifest2.blobs).toEqual(manifest.blobs);
    for (const [name, t] of Object.entries<any>(manifest.tables)) expect(manifest2.tables[name].rows, name).toBe(t.rows);

    // The API reads the same on both.
    for (const path of [
      `/api/v1/runs/${ids.run}`,
      `/api/2.0/mlflow/metrics/get-history?run_id=${ids.run}&metric_key=rmse`,
      `/api/v1/metrics/downsample?run_ids=${ids.run}&keys=rmse&points=10`,
      "/api/2.0/mlflow/registered-models/alias?name=spy-direction&alias=champion",
      "/api/v1/datasets/prices/versions",
      `/api/v1/studies/${ids.study}/trials`,
      `/api/v1/pipeline-runs/${ids.pipelineRun}`,
      `/api/v1/monitors/${ids.monitor}/reports`,
    ]) {
      expect(await call(target, "GET", path), path).toEqual(await call(source, "GET", path));
    }
    const artifact = await fetch(`${target.url}/api/2.0/mlflow-artifacts/artifacts/${ids.experiment}/${ids.run}/artifacts/model/weights.bin`);
    expect(createHash("sha256").update(Buffer.from(await artifact.arrayBuffer())).digest("hex")).toBe(artifactSha);

    // The restored study continues: the next trial number, and TPE's next proposal built from every old trial.
    const next = await api(target, "POST", `/studies/${ids.study}/ask`, { search_space: SPACE });
    const fromSource = await api(source, "POST", `/studies/${ids.study}/ask`, { search_space: SPACE });
    expect(next.trial.number).toBe(N_TRIALS);
    expect(next.trial.params).toEqual(fromSource.trial.params);
    // Both instances take writes again.
    await api(target, "POST", `/studies/${ids.study}/trials/${next.trial.number}/tell`, { value: 0.5 });
    await api(target, "POST", "/runs", { experiment_name: "backup-e2e", name: "after-import" });
    expect(existsSync(join(reexported, "manifest.json"))).toBe(true);
  }, 600_000);
});
