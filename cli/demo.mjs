#!/usr/bin/env node
// `npm run demo`: the closed loop on real market data, on a local Tern. Starts the dev server when none
// answers (and stops it at the end unless --keep), starts a `tern agent` for the demo's queue, then:
// snapshots S&P 500 daily bars (vega-datasets) as dataset versions, trains a model through a pipeline of
// agent tasks with a TPE study, registers the best run as `champion`, backfills a monthly prediction
// pipeline over 2007-2009 whose drift checks fire an alert that starts retraining, and prints where to
// look. Running it again reuses what exists (datasets, pipelines, monitor) and adds new runs.
//   node cli/demo.mjs [--url URL] [--quick] [--keep] [--persist-to DIR]
// --persist-to keeps the state of a dev server the demo starts in DIR instead of .wrangler/state.
import { spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTypeScript } from "./bundle.mjs";
import { serverFor } from "./config.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = flag("--quick");
const KEEP = flag("--keep");
const { url, token } = serverFor({ url: option("--url") });
const QUEUE = "tern-demo";
/** Trading history the first model learns from; later months arrive as batches. */
const HISTORY_THROUGH = "2006-12-31";
/** The months the prediction pipeline is backfilled over: the full demo spans calm 2007 and the 2008 crash. */
const BATCHES = QUICK ? { start: "2008-07-01", end: "2008-11-30" } : { start: "2007-01-01", end: "2009-12-31" };
const N_TRIALS = QUICK ? 8 : 20;
const RULE = { name: "regime shift", series: "drift_share", operator: ">=", threshold: 0.5, for_checks: 2 };

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const say = (line) => console.log(`[demo ${elapsed()}] ${line}`);
const step = (n, title) => console.log(`\n[demo ${elapsed()}] ${n}. ${title}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const children = [];

/**
 * A child whose output goes to a log file; stopped by its pid at the end. It shares the demo's process
 * group, so Ctrl-C in the terminal reaches it too, unless it is `detached` (a server kept with --keep),
 * which puts it in a group of its own, to be stopped with `kill -- -PID`.
 */
function startChild(name, command, args, logFile, { env = {}, detached = false } = {}) {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, "a");
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, detached, stdio: ["ignore", out, out] });
  children.push({ name, child, detached });
  return child;
}

async function stopChild({ name, child, detached }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  const signal = (sig) => {
    try {
      if (detached) process.kill(-child.pid, sig);
      else child.kill(sig);
      return true;
    } catch {
      return false;
    }
  };
  if (!signal("SIGTERM")) return;
  const timer = setTimeout(() => signal("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
  say(`stopped ${name} (pid ${child.pid})`);
}

async function healthy() {
  try {
    return (await fetch(`${url}/api/v1/health`)).ok;
  } catch {
    return false;
  }
}

async function ensureServer() {
  if (await healthy()) {
    say(`using the Tern at ${url}`);
    return null;
  }
  const u = new URL(url);
  if (!["127.0.0.1", "localhost"].includes(u.hostname)) throw new Error(`no Tern answers at ${url}; start it or pass --url`);
  const log = join(root, ".wrangler", "demo-dev.log");
  say(`no Tern at ${url}: starting \`npm run dev\` (log: ${log})`);
  const persist = option("--persist-to");
  // A free inspector port, so the server starts next to another wrangler dev.
  const devArgs = ["--ip", u.hostname, "--port", u.port || "80", "--inspector-port", "0", ...(persist ? ["--persist-to", persist] : [])];
  const child = startChild("the dev server", process.execPath, [join(root, "cli", "dev.mjs"), ...devArgs], log, { detached: KEEP });
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the dev server exited with ${child.exitCode}; see ${log}`);
    if (await healthy()) {
      say(`dev server ready (pid ${child.pid})`);
      return child;
    }
    await sleep(500);
  }
  throw new Error(`the dev server did not answer within 5 minutes; see ${log}`);
}

const yaml = (lines) => `${lines.join("\n")}\n`;
const task = (cmd) => `node cli/demo/task.mjs ${cmd}`;

/** Training: prepare a window and the study, tune (TPE + median pruning), train the best, register, promote. */
function trainSpec() {
  const study = "spx-direction-{{ run_id }}";
  const tv = "{{ outputs.prepare.training_version }}";
  return yaml([
    "description: Train the S&P 500 next-day direction model on a 3-year window (ending at the drifted batch when a drift alert starts the run), tune it with TPE and median pruning, register the best and promote it if it beats the champion on held-out days",
    "max_active_runs: 1",
    'params: {report_id: "", monitor_id: ""}',
    "default_args: {retries: 1, retry_delay: 5s}",
    "tasks:",
    `  prepare: {kind: agent, queue: ${QUEUE}, command: "${task(`prepare --study ${study} --report-id '{{ params.report_id }}' --monitor-id '{{ params.monitor_id }}'`)}"}`,
    `  tune: {kind: tuning_study, depends_on: [prepare], study: "${study}", direction: minimize, n_trials: ${N_TRIALS}, poke_interval: 1s, timeout: 1h}`,
    `  tune_worker: {kind: agent, queue: ${QUEUE}, depends_on: [prepare], command: "${task(`tune --study ${study} --n-trials ${N_TRIALS} --training-version ${tv}`)}"}`,
    `  train: {kind: agent, queue: ${QUEUE}, depends_on: [tune, tune_worker], command: "${task(`train --study ${study} --training-version ${tv}`)}"}`,
    '  register: {kind: register_model, depends_on: [train], name: spx-direction, run_id: "{{ outputs.train.run_id }}", tags: {training_version: "' + tv + '"}}',
    `  promote: {kind: agent, queue: ${QUEUE}, depends_on: [register], command: "${task(`promote --version {{ outputs.register.version }} --training-version ${tv}`)}"}`,
  ]);
}

/** Prediction: one run per month of daily bars (the batch), drift-checked, predicted by the champion. */
function predictSpec() {
  return yaml([
    "description: Each month's daily S&P 500 bars arrive as a batch; compute its features, check them for drift against the champion's training data, and predict each day's next-day direction with the champion",
    'schedule: "0 6 1 * *"',
    "timezone: UTC",
    "start_date: 2007-01-01",
    "end_date: 2009-12-31",
    "catchup: false",
    "max_active_runs: 1",
    "default_args: {retries: 1, retry_delay: 5s}",
    "tasks:",
    `  ingest: {kind: agent, queue: ${QUEUE}, command: "${task("ingest --day {{ ds }}")}"}`,
    '  drift: {kind: drift_check, depends_on: [ingest], monitor: spx-direction-monitor, dataset: spx-features, dataset_version: "{{ outputs.ingest.features_version }}"}',
    `  predict: {kind: agent, queue: ${QUEUE}, depends_on: [ingest], command: "${task("predict --features-version {{ outputs.ingest.features_version }}")}"}`,
  ]);
}

async function ensurePipeline(t, name, spec) {
  const existing = await t.pipelineByName(name);
  if (!existing) {
    const created = await t.api("POST", "/pipelines", { name, spec });
    say(`pipeline ${name} created (version ${created.version})`);
    return created.pipeline_id;
  }
  const id = existing.pipeline_id;
  const latest = await t.api("GET", `/pipelines/${id}/versions/${existing.version ?? existing.latest_version}`);
  if (latest.source === spec) {
    say(`pipeline ${name} exists (version ${latest.version}, spec unchanged)`);
  } else {
    const updated = await t.api("PUT", `/pipelines/${id}`, { spec });
    say(`pipeline ${name} updated to version ${updated.version}`);
  }
  if (existing.paused) await t.api("POST", `/pipelines/${id}/unpause`);
  return id;
}

const FINISHED = new Set(["success", "failed"]);

async function allRuns(t, pipelineId) {
  return (await t.api("GET", `/pipelines/${pipelineId}/runs?max_results=1000`)).runs;
}

async function waitForRun(t, runId, label) {
  let last = "";
  for (;;) {
    const run = await t.api("GET", `/pipeline-runs/${runId}`);
    const line = run.tasks.map((k) => `${k.task_id}:${k.state}`).join(" ");
    if (line !== last) {
      say(`${label}: ${line}`);
      last = line;
    }
    if (FINISHED.has(run.state)) return run;
    await sleep(1000);
  }
}

const out = (run, id) => run.tasks.find((k) => k.task_id === id)?.output ?? {};

async function failure(t, run) {
  const bad = run.tasks.filter((k) => k.state === "failed");
  const lines = [];
  for (const k of bad) {
    let log = "";
    try {
      log = (await t.api("GET", `/pipeline-runs/${run.run_id}/tasks/${k.task_id}/logs?try_number=${k.try_number}`)).text.trim().split("\n").slice(-8).join("\n    ");
    } catch {}
    lines.push(`${k.task_id}: ${k.error ?? "failed"}${log ? `\n    ${log}` : ""}`);
  }
  return lines.join("\n  ");
}

function reportTrain(run) {
  const prep = out(run, "prepare");
  const tune = out(run, "tune");
  const train = out(run, "train");
  const reg = out(run, "register");
  const promo = out(run, "promote");
  say(`  window ${prep.from} .. ${prep.end} (${prep.rows} days, ${prep.reason}), spx-training-features v${prep.training_version}`);
  say(`  study ${tune.study}: ${tune.n_trials} trials (${JSON.stringify(tune.state_counts)}), best val log loss ${Number(tune.best_value).toFixed(5)} with ${JSON.stringify(tune.best_params)}`);
  say(`  run ${train.run_id}: val log loss ${Number(train.val_logloss).toFixed(5)}, accuracy ${(100 * train.val_accuracy).toFixed(1)} %`);
  say(`  registered spx-direction v${reg.version}; ${promo.summary}`);
}

async function main() {
  console.log(`Tern demo: S&P 500 next-day direction, ${QUICK ? "quick" : "full"} run (batches ${BATCHES.start.slice(0, 7)} .. ${BATCHES.end.slice(0, 7)}) against ${url}`);
  await ensureServer();
  const tasks = await loadTypeScript(join(root, "cli", "demo"), "tasks.ts", "npm run demo");
  const t = new tasks.Tern(url, token);
  const N = tasks.NAMES;

  step(1, "Real market data as dataset versions");
  const files = tasks.marketFiles(root);
  const history = await tasks.snapshotDaily(t, files.daily, HISTORY_THROUGH);
  say(`${N.daily} v${history.version.version}: ${history.bars.length} daily bars ${history.bars[0].date} .. ${history.bars.at(-1).date} (${history.created ? "committed" : "already there"})`);
  say("monthly batches from 2007 on are committed by the prediction pipeline's ingest task, one version per month");

  step(2, "Pipelines and an agent for their tasks");
  const trainId = await ensurePipeline(t, "spx-train", trainSpec());
  const predictId = await ensurePipeline(t, "spx-daily-predict", predictSpec());
  const agent = startChild("the agent", process.execPath, [join(root, "cli", "tern.mjs"), "agent", "--queue", QUEUE, "--url", url, "--poll", "0.5"], join(root, ".wrangler", "demo-agent.log"), { env: token ? { TERN_TOKEN: token } : {} });
  say(`tern agent for queue ${QUEUE} started (pid ${agent.pid}, log .wrangler/demo-agent.log)`);

  step(3, "Train: features, a TPE study with pruning, the best params trained and registered (pipeline spx-train)");
  const trained = await waitForRun(t, (await t.api("POST", `/pipelines/${trainId}/runs`, { conf: {} })).run_id, "spx-train");
  if (trained.state !== "success") throw new Error(`spx-train run ${trained.run_id} failed:\n  ${await failure(t, trained)}`);
  reportTrain(trained);

  step(4, "The champion and its monitor");
  const champion = await t.aliasVersion(N.model, "champion");
  if (!champion) throw new Error("no champion after training");
  say(`spx-direction@champion is version ${champion.version} (run ${champion.run_id})`);
  let monitor = await t.monitorByName(N.monitor);
  if (!monitor) {
    const ref = out(trained, "prepare").training_version_id;
    monitor = (
      await t.api("POST", "/monitors", {
        name: N.monitor,
        description: "Each monthly batch of daily features against the champion's training window. The daily returns are tested; the 20-day rolling features are left out because a month of them is one autocorrelated slice that any two-sample test flags every month.",
        model: { name: N.model, alias: "champion" },
        reference_dataset_version: ref,
        current_dataset: N.features,
        column_settings: { ignore: ["date", "target", "mom_20", "vol_20", "range_1", "volume_ratio", "tech_mom"] },
        drift_share: 0.5,
      })
    ).monitor;
    say(`monitor ${N.monitor} created (reference: ${N.training} version ${out(trained, "prepare").training_version})`);
  } else say(`monitor ${N.monitor} exists`);
  const rules = (await t.api("GET", `/monitors/${monitor.id}/rules`)).rules;
  if (!rules.some((r) => r.name === RULE.name)) {
    await t.api("POST", `/monitors/${monitor.id}/rules`, { ...RULE, pipeline_id: trainId });
    say(`alert rule "${RULE.name}": drift_share >= ${RULE.threshold} for ${RULE.for_checks} batches in a row starts spx-train`);
  } else say(`alert rule "${RULE.name}" exists`);

  step(5, `Backfill the monthly prediction pipeline over ${BATCHES.start.slice(0, 7)} .. ${BATCHES.end.slice(0, 7)}`);
  const firedBefore = new Set((await t.api("GET", `/monitors/${monitor.id}/alerts?max_results=1000`)).alerts.filter((e) => e.kind === "fired").map((e) => e.id));
  const trainRunsBefore = new Set((await allRuns(t, trainId)).map((r) => r.run_id));
  const backfill = await t.api("POST", `/pipelines/${predictId}/backfill`, { start: BATCHES.start, end: BATCHES.end });
  say(`${backfill.run_ids.length} runs created, ${backfill.existing} already existed`);
  const start = Date.parse(`${BATCHES.start}T00:00:00Z`);
  const end = Date.parse(`${BATCHES.end}T23:59:59Z`);
  const reported = new Set();
  const seenFired = new Set(firedBefore);
  const retrains = [];
  const failed = [];
  for (;;) {
    const runs = (await allRuns(t, predictId)).filter((r) => r.logical_date >= start && r.logical_date <= end).sort((a, b) => a.logical_date - b.logical_date);
    for (const r of runs) {
      if (!FINISHED.has(r.state) || reported.has(r.run_id)) continue;
      reported.add(r.run_id);
      const run = await t.api("GET", `/pipeline-runs/${r.run_id}`);
      const ing = out(run, "ingest");
      const drift = out(run, "drift");
      const pred = out(run, "predict");
      if (run.state !== "success") {
        failed.push(run.run_id);
        say(`batch ${new Date(r.logical_date).toISOString().slice(0, 7)}: FAILED\n  ${await failure(t, run)}`);
        continue;
      }
      say(`batch ${ing.month}: ${ing.rows} days -> spx-features v${ing.features_version}; drift ${drift.number_of_drifted_columns}/${drift.number_of_columns} columns${drift.dataset_drift ? " DRIFT" : ""}; predicted by v${pred.model_version} -> spx-predictions v${pred.predictions_version} (${(100 * pred.up_share).toFixed(0)} % up)`);
    }
    const events = (await t.api("GET", `/monitors/${monitor.id}/alerts?max_results=1000`)).alerts;
    for (const e of events) {
      if (e.kind !== "fired" || seenFired.has(e.id)) continue;
      seenFired.add(e.id);
      say(`ALERT "${RULE.name}" fired (drift share ${e.value}) -> started spx-train run ${e.pipeline.run_id ?? `(not started: ${e.pipeline.note})`}`);
    }
    const trainRuns = (await allRuns(t, trainId)).filter((r) => !trainRunsBefore.has(r.run_id));
    for (const r of trainRuns) {
      if (!FINISHED.has(r.state) || retrains.some((x) => x.run_id === r.run_id)) continue;
      const run = await t.api("GET", `/pipeline-runs/${r.run_id}`);
      retrains.push(run);
      if (run.state !== "success") {
        failed.push(run.run_id);
        say(`retrain ${run.run_id} FAILED\n  ${await failure(t, run)}`);
      } else {
        say(`retrain ${run.run_id} finished:`);
        reportTrain(run);
      }
    }
    const busy = runs.some((r) => !FINISHED.has(r.state)) || trainRuns.some((r) => !FINISHED.has(r.state));
    if (!busy && reported.size === runs.length) break;
    await sleep(1000);
  }

  step(6, "What happened");
  const finalChampion = await t.aliasVersion(N.model, "champion");
  const newFires = [...seenFired].filter((id) => !firedBefore.has(id)).length;
  say(`drift alerts fired in this run: ${newFires}; retraining runs: ${retrains.length}; spx-direction@champion: v${champion.version} -> v${finalChampion.version}`);
  const predictions = await t.versions(N.predictions);
  const latestPred = predictions[0];

  step(7, "Where to look");
  const trainUrl = `${url}/pipelines/${trainId}`;
  const study = out(trained, "tune");
  console.log(`  Champion model:    ${url}/models/${N.model}`);
  console.log(`  Its source run:    ${url}/experiments/${(await t.runOf(finalChampion.run_id)).experiment_id}/runs/${finalChampion.run_id}`);
  console.log(`  Tuning study:      ${url}/studies/${study.study_id}`);
  console.log(`  Training pipeline: ${trainUrl}`);
  console.log(`  Monthly pipeline:  ${url}/pipelines/${predictId}   (the grid: one column per month; a cell opens a task's logs)`);
  console.log(`  Monitor:           ${url}/monitoring/${monitor.id}`);
  console.log(`  Datasets:          ${url}/datasets/${N.daily}, ${url}/datasets/${N.features}, ${url}/datasets/${N.predictions}`);
  if (latestPred) {
    console.log(`  Lineage:           ${url}/lineage?object=${encodeURIComponent(`dataset_version:${latestPred.id}`)}`);
    const g = await t.api("GET", `/lineage?object=${encodeURIComponent(`dataset_version:${latestPred.id}`)}&depth=6`);
    const path = tasks.lineagePath(g, `dataset_version:${latestPred.id}`);
    if (path) console.log(`\n  Lineage of ${N.predictions} v${latestPred.version}:\n    ${path.join("\n      -> ")}`);
  }
  if (failed.length) throw new Error(`${failed.length} pipeline run(s) failed: ${failed.join(", ")}`);
}

/** Stops what the demo started (the server only without --keep) and exits. */
async function finish(exitCode) {
  const server = children.find((c) => c.name === "the dev server");
  // The agent first: with the server gone it would keep retrying its claims.
  for (const c of [...children].reverse()) {
    if (c === server && KEEP) continue;
    await stopChild(c);
  }
  if (server && KEEP) console.log(`\nThe dev server keeps running (pid ${server.child.pid}): open ${url} in a browser; stop it with: kill -- -${server.child.pid}`);
  else if (!server) console.log(`\nOpen ${url} in a browser to look around.`);
  console.log(`[demo] done in ${elapsed().trim()}`);
  process.exit(exitCode);
}

// Stopped by a signal of its own (kill PID), the demo still stops the agent and the server it started.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`\n[demo] ${signal}: stopping`);
    void finish(130);
  });
}

try {
  await main();
  await finish(0);
} catch (err) {
  console.error(`\n[demo] ${err.message}`);
  await finish(1);
}
