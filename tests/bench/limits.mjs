#!/usr/bin/env node
// npm run bench:limits — how much storage each pillar's records take, measured on a local dev server
// with fresh state (always started here: the bench reads the server's files), and where that puts
// Cloudflare's ceilings (10 GB per D1 database, 10 GB per Durable Object).
//  1. runs: LIMITS_RUNS runs (default 1,000), each with 10 params and 5 tags;
//  2. metrics: LIMITS_POINTS points (default 1,000,000) through MLflow log-batch, into 100 runs x 10 keys;
//  3. a study: LIMITS_TRIALS trials (default 2,000), each asked with 4 params, 5 intermediate values, told;
//  4. pipeline runs: LIMITS_PIPELINE_RUNS runs (default 100) of a 5-task chain.
// Then the server is stopped and its SQLite files are read with the sqlite3 command (Debian: apt-get
// install sqlite3; macOS has it): the local runtime leaves most pages in the write-ahead log, so file
// sizes say little, but SQLite's dbstat gives the pages each table and its indexes use once the log is
// applied, as in a checkpointed database. Prints the figures and, with --json, them as JSON.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer } from "./server.mjs";

const RUNS = Number(process.env.LIMITS_RUNS ?? 1000);
const POINTS = Number(process.env.LIMITS_POINTS ?? 1_000_000);
const TRIALS = Number(process.env.LIMITS_TRIALS ?? 2000);
const PIPELINE_RUNS = Number(process.env.LIMITS_PIPELINE_RUNS ?? 100);
const CLIENTS = 8;
const METRIC_RUNS = 100;
const KEYS = 10;
const GB = 1e9;
const CEILING = 10 * GB;

let base;
const headers = { "Content-Type": "application/json" };

async function call(method, path, body) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    // wrangler dev answers 503 when it restarts the Worker under a request; the request never ran.
    if (res.status === 503 && /restarted mid-request/.test(text) && attempt < 4) continue;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }
}

async function pool(count, work) {
  let next = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = next++; i < count; i = next++) await work(i);
  }));
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");
const bytes = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`);

/** The SQLite databases under `dir` whose path matches `re` (not their -wal/-shm companions). */
function databases(dir, re, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) databases(path, re, out);
    else if (re.test(path) && path.endsWith(".sqlite") && !path.endsWith("metadata.sqlite")) out.push(path);
  }
  return out;
}

/**
 * Bytes per table (its pages and its indexes' pages) of one SQLite database, with its write-ahead log
 * applied. Read from a copy, so the state itself is left as the runtime wrote it.
 */
function tableBytes(path) {
  const dir = mkdtempSync(join(tmpdir(), "tern-limits-db-"));
  try {
    const copy = join(dir, "db.sqlite");
    copyFileSync(path, copy);
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
    const sql = "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1;";
    const out = execFileSync("sqlite3", ["-separator", "\t", copy, sql], { encoding: "utf8" });
    return Object.fromEntries(out.trim().split("\n").filter(Boolean).map((line) => {
      const [name, size] = line.split("\t");
      return [name, Number(size)];
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const total = (tables) => Object.values(tables).reduce((n, b) => n + b, 0);

// --- the workload's phases ----------------------------------------------------------------------

async function writeRuns() {
  await pool(RUNS, (i) =>
    call("POST", "/api/v1/runs", {
      experiment_name: `limits-${Math.floor(i / 100)}`,
      name: `run-${i}`,
      params: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`param_${k}`, `value-${i}-${k}`])),
      tags: Object.fromEntries(Array.from({ length: 5 }, (_, k) => [`tag_${k}`, `tag-value-${k}`])),
    }),
  );
  return RUNS;
}

/** 1000-point log-batch calls, each 100 steps of 10 keys of one run, round-robin over the runs. */
async function writeMetrics() {
  const exp = await call("POST", "/api/2.0/mlflow/experiments/create", { name: `limits-metrics-${Date.now()}` });
  const runs = [];
  for (let r = 0; r < METRIC_RUNS; r++) runs.push((await call("POST", "/api/2.0/mlflow/runs/create", { experiment_id: exp.experiment_id, start_time: Date.now() })).run.info.run_id);
  const stepsPerBatch = 1000 / KEYS;
  const batches = Math.ceil(POINTS / 1000);
  await pool(batches, async (b) => {
    const first = Math.floor(b / METRIC_RUNS) * stepsPerBatch;
    const metrics = [];
    for (let s = 0; s < stepsPerBatch; s++) {
      const step = first + s;
      for (let k = 0; k < KEYS; k++) metrics.push({ key: `metric_${k}`, value: Math.sin(step / 97 + k) * 10 ** (k % 4), timestamp: 1_700_000_000_000 + step * 1000 + k, step });
    }
    await call("POST", "/api/2.0/mlflow/runs/log-batch", { run_id: runs[b % METRIC_RUNS], metrics });
  });
  return batches * 1000;
}

/** One study (the random sampler: what a trial stores does not depend on the sampler). */
async function writeTrials() {
  const space = { lr: { type: "float", low: 1e-5, high: 1e-1, log: true }, depth: { type: "int", low: 1, high: 12 }, dropout: { type: "float", low: 0, high: 0.5 }, opt: { type: "categorical", choices: ["sgd", "adam", "rmsprop"] } };
  const study = (await call("POST", "/api/v1/studies", { name: `limits-${Date.now()}`, sampler: { type: "random", seed: 1 } })).study_id;
  await pool(TRIALS, async () => {
    const { trial } = await call("POST", `/api/v1/studies/${study}/ask`, { search_space: space });
    for (let step = 1; step <= 5; step++) await call("POST", `/api/v1/studies/${study}/trials/${trial.number}/report`, { step, value: 1 / step + trial.params.dropout });
    await call("POST", `/api/v1/studies/${study}/trials/${trial.number}/tell`, { value: trial.params.dropout + Math.log10(trial.params.lr) / 10 });
  });
  return TRIALS;
}

async function writePipelineRuns() {
  const tasks = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`t${i}`, { kind: "noop", ...(i ? { depends_on: [`t${i - 1}`] } : {}) }]));
  const pipeline = await call("POST", "/api/v1/pipelines", { name: `limits-${Date.now()}`, spec: { max_active_runs: 16, tasks } });
  // Manual runs are unique per logical date: give each its own minute.
  const day = Date.UTC(2026, 0, 1);
  // One at a time: what is measured is a run's storage, not how runs contend.
  for (let i = 0; i < PIPELINE_RUNS; i++) {
    const { run_id } = await call("POST", `/api/v1/pipelines/${pipeline.pipeline_id}/runs`, { conf: { i }, logical_date: day + i * 60_000 });
    for (;;) {
      const run = await call("GET", `/api/v1/pipeline-runs/${run_id}`);
      if (run.state === "success" || run.state === "failed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return PIPELINE_RUNS;
}

async function main() {
  try {
    execFileSync("sqlite3", ["-version"], { stdio: "ignore" });
  } catch {
    throw new Error("this benchmark reads the runtime's SQLite files with the sqlite3 command: install it (Debian: apt-get install sqlite3)");
  }
  const server = await startDevServer();
  base = server.url;
  console.log(`workload: ${fmt(RUNS)} runs, ${fmt(POINTS)} metric points, a study of ${fmt(TRIALS)} trials, ${fmt(PIPELINE_RUNS)} pipeline runs`);
  console.log(`(a dev server at ${base} on fresh state)\n`);
  const phases = [
    ["runs", writeRuns],
    ["metric points", writeMetrics],
    ["trials", writeTrials],
    ["pipeline runs", writePipelineRuns],
  ];
  const seconds = {};
  const counts = {};
  try {
    for (const [name, write] of phases) {
      const t0 = performance.now();
      counts[name] = await write();
      seconds[name] = (performance.now() - t0) / 1000;
      console.log(`${fmt(counts[name])} ${name} written in ${seconds[name].toFixed(1)} s`);
    }
  } finally {
    await server.stop({ keepState: true });
  }
  try {
    const [d1File] = databases(server.state, /D1DatabaseObject/);
    const d1 = tableBytes(d1File);
    const sum = (names) => names.reduce((n, t) => n + (d1[t] ?? 0), 0);
    const studies = databases(server.state, /StudyObject/).map((f) => total(tableBytes(f))).sort((a, b) => b - a);
    // The largest objects are the runs'; the health probe's holds nothing.
    const runObjects = databases(server.state, /PipelineRunObject/).map((f) => total(tableBytes(f))).sort((a, b) => b - a).slice(0, PIPELINE_RUNS);
    const metricTables = ["metrics", "latest_metrics", "metric_rollups"];
    const runTables = ["runs", "params", "run_tags"];
    const pipelineTables = ["pipeline_runs", "pipeline_task_instances"];
    const allRuns = counts.runs + METRIC_RUNS;
    const perPoint = sum(metricTables) / counts["metric points"];
    // Runs of the metric phase have no params or tags: count their rows in runs only.
    const perRun = (sum(runTables) - (d1.runs ?? 0) * (METRIC_RUNS / allRuns)) / counts.runs;
    const perTrial = studies[0] / counts.trials;
    const perPipelineRunD1 = sum(pipelineTables) / counts["pipeline runs"];
    const perPipelineRunObject = runObjects.reduce((n, b) => n + b, 0) / runObjects.length;
    const result = {
      workload: counts,
      seconds,
      d1_bytes: { total: total(d1), tables: d1 },
      per_record_bytes: {
        metric_point_d1: perPoint,
        metric_point_by_table: Object.fromEntries(metricTables.map((t) => [t, (d1[t] ?? 0) / counts["metric points"]])),
        run_d1_10_params_5_tags: perRun,
        trial_study_object: perTrial,
        study_object: studies[0],
        pipeline_run_d1_5_tasks: perPipelineRunD1,
        pipeline_run_object_5_tasks: perPipelineRunObject,
      },
      at_10_gb: {
        metric_points_per_d1_database: CEILING / perPoint,
        runs_per_d1_database: CEILING / perRun,
        trials_per_study_object: CEILING / perTrial,
        pipeline_runs_per_d1_database: CEILING / perPipelineRunD1,
      },
    };
    console.log("\nD1, each table with its indexes");
    for (const [t, b] of Object.entries(d1).sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${t.padEnd(26)} ${bytes(b).padStart(10)}`);
    console.log(`  all tables                 ${bytes(total(d1)).padStart(10)}`);
    console.log("\nper record");
    const by = result.per_record_bytes.metric_point_by_table;
    console.log(`  metric point (D1):              ${perPoint.toFixed(1)} B (metrics ${by.metrics.toFixed(1)}, metric_rollups ${by.metric_rollups.toFixed(1)}, latest_metrics ${by.latest_metrics.toFixed(2)})`);
    console.log(`  run, 10 params and 5 tags (D1): ${fmt(perRun)} B`);
    console.log(`  trial, 4 params and 5 reports:  ${fmt(perTrial)} B in its study's object (${bytes(studies[0])} for ${fmt(counts.trials)} trials)`);
    console.log(`  pipeline run of 5 tasks:        ${fmt(perPipelineRunD1)} B in D1, ${fmt(perPipelineRunObject)} B in its object`);
    console.log("\nat 10 GB");
    console.log(`  metric points per D1 database:  ${fmt(result.at_10_gb.metric_points_per_d1_database)}`);
    console.log(`  runs per D1 database:           ${fmt(result.at_10_gb.runs_per_d1_database)}`);
    console.log(`  trials per study object:        ${fmt(result.at_10_gb.trials_per_study_object)}`);
    console.log(`  pipeline runs per D1 database:  ${fmt(result.at_10_gb.pipeline_runs_per_d1_database)}`);
    if (process.argv.includes("--json")) console.log(JSON.stringify(result, null, 2));
  } finally {
    rmSync(server.state, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
