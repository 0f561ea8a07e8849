/**
 * The demo's agent tasks: what `tern agent` runs for the demo pipelines (cli/demo/task.mjs bundles this
 * file with esbuild, since Node 20 cannot run TypeScript). Each step talks to Tern over HTTP (TERN_URL
 * and TERN_TOKEN come from the agent), records lineage for what it read and made, and writes its result
 * to $TERN_OUTPUT_FILE for later tasks' templates.
 *
 *   ingest    a month of S&P 500 bars arrives: snapshot the series, compute that month's features
 *   prepare   cut a training window (ending at the drifted batch when an alert started the run)
 *   tune      ask/tell trials of the study, reporting validation loss per epoch (pruned when poor)
 *   train     train with the study's best params: a tracked run, per-epoch metrics, the model artifact
 *   promote   move the `champion` alias to the new version if it wins on held-out data
 *   predict   the champion predicts a month's batch; the predictions become a dataset version
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { barsToCsv, FEATURES, featureRows, featuresToCsv, parseDailyBars, parseFeaturesCsv, predictProba, score, timeSplit, train, monthlyTechReturns, shiftMonth, type HyperParams, type Model } from "./model";
import { Tern, TernError } from "./tern-client";

export const NAMES = {
  daily: "spx-daily",
  tech: "tech-stocks-monthly",
  features: "spx-features",
  training: "spx-training-features",
  predictions: "spx-predictions",
  model: "spx-direction",
  experiment: "spx-direction",
  tuningExperiment: "spx-direction-tuning",
  monitor: "spx-direction-monitor",
} as const;

/** Share of a training window's labelled rows (the newest) held out for validation. */
export const VALIDATION_SHARE = 0.2;
/** Training windows are this many years of daily bars ending at the newest known day. */
const WINDOW_YEARS = 3;

export const SEARCH_SPACE = {
  lr: { type: "float", low: 0.01, high: 1, log: true },
  l2: { type: "float", low: 1e-4, high: 1, log: true },
  epochs: { type: "int", low: 20, high: 200, step: 20 },
  lags: { type: "int", low: 1, high: 5 },
};
/** Trials report their validation loss every this many epochs (the pruner's steps). */
const REPORT_EVERY = 10;

/** Where the raw market data comes from: the files vega-datasets ships. */
export function marketFiles(root: string): { daily: string; stocks: string } {
  const dir = join(root, "node_modules", "vega-datasets", "data");
  return { daily: readFileSync(join(dir, "sp500-2000.csv"), "utf8"), stocks: readFileSync(join(dir, "stocks.csv"), "utf8") };
}

function args(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument '${a}'`);
    out[a.slice(2)] = argv[i + 1] ?? "";
    i++;
  }
  return out;
}

function need(a: Record<string, string>, key: string): string {
  if (!a[key]) throw new Error(`--${key} is required`);
  return a[key];
}

function output(value: unknown): void {
  const file = process.env.TERN_OUTPUT_FILE;
  if (file) writeFileSync(file, JSON.stringify(value));
  console.log(JSON.stringify(value));
}

/** Records what this task read and made on its pipeline run (when it runs as a pipeline task). */
async function lineage(t: Tern, inputs: { object: string; edge?: string }[], outputs: { object: string; edge?: string }[]): Promise<void> {
  const run = process.env.TERN_RUN_ID;
  const task = process.env.TERN_TASK_ID;
  if (!run || !task) return;
  await t.api("POST", `/pipeline-runs/${run}/tasks/${task}/lineage`, { inputs, outputs });
}

const monthEnd = (month: string) => `${month}-31`;

/** The monthly tech-stock prices as a dataset version (the same bytes each time: one version). */
async function techVersion(t: Tern, stocks: string) {
  return (await t.commitOnce(NAMES.tech, "stocks.csv", stocks, "Monthly prices of AAPL, AMZN, GOOG, IBM and MSFT (vega-datasets stocks.csv)", "Monthly tech stock prices")).version;
}

/** The daily bars up to and including `through` (YYYY-MM-DD) as a version of spx-daily. */
export async function snapshotDaily(t: Tern, daily: string, through: string) {
  const bars = parseDailyBars(daily).filter((b) => b.date <= through);
  const { version, created } = await t.commitOnce(NAMES.daily, "spx-daily.csv", barsToCsv(bars), `S&P 500 daily bars through ${through} (vega-datasets sp500-2000.csv)`, "S&P 500 daily OHLCV bars");
  return { version, created, bars };
}

async function ingest(t: Tern, a: Record<string, string>, root: string) {
  const day = need(a, "day");
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`--day must be YYYY-MM-DD, not '${day}'`);
  // The run's logical date starts the month whose bars make the batch.
  const month = day.slice(0, 7);
  const files = marketFiles(root);
  const { version: raw, bars } = await snapshotDaily(t, files.daily, monthEnd(month));
  const tech = await techVersion(t, files.stocks);
  const rows = featureRows(bars, monthlyTechReturns(files.stocks), `${month}-01`, monthEnd(month));
  if (!rows.length) throw new Error(`no trading days in ${month} in the data`);
  // The batch carries no target: tomorrow's close is not known when today's prediction is made.
  const { version: batch, created } = await t.commitOnce(NAMES.features, `spx-features.csv`, featuresToCsv(rows, false), `Features of ${month} (${rows.length} trading days)`, "Daily features, one version per monthly batch");
  await lineage(t, [{ object: `dataset_version:${raw.id}`, edge: "read" }, { object: `dataset_version:${tech.id}`, edge: "read" }], [{ object: `dataset_version:${batch.id}`, edge: "features" }]);
  output({ month, rows: rows.length, daily_version: raw.version, features_version: batch.version, features_version_id: batch.id, created });
}

/** The last day of a features batch a drift report checked. */
async function driftedBatchEnd(t: Tern, monitorId: string, reportId: string): Promise<string> {
  for (let offset = 0; offset < 5000; offset += 100) {
    const page = await t.api("GET", `/monitors/${monitorId}/reports?max_results=100${offset ? `&page_token=${offset}` : ""}`);
    const report = page.reports.find((r: any) => r.id === reportId);
    if (report) {
      const cur = report.current ?? {};
      if (!cur.dataset || !cur.version) throw new Error(`report ${reportId} names no dataset version`);
      const rows = parseFeaturesCsv(await t.readVersion(cur.dataset, cur.version));
      return rows[rows.length - 1].date;
    }
    if (!page.next_page_token) break;
  }
  throw new Error(`monitor ${monitorId} has no report ${reportId}`);
}

async function prepare(t: Tern, a: Record<string, string>, root: string) {
  const study = need(a, "study");
  const files = marketFiles(root);
  // The newest daily bars Tern holds; an alert-started run trains up to the batch that drifted.
  const latest = parseDailyBars(await t.readVersion(NAMES.daily, "latest"));
  const rawVersion = (await t.versions(NAMES.daily))[0];
  let end = latest[latest.length - 1].date;
  let reason = "the newest daily bars";
  if (a["report-id"] && a["monitor-id"]) {
    end = await driftedBatchEnd(t, a["monitor-id"], a["report-id"]);
    reason = `drift alert on the batch ending ${end}`;
  }
  const from = `${Number(end.slice(0, 4)) - WINDOW_YEARS}${end.slice(4)}`;
  const bars = latest.filter((b) => b.date <= end);
  const rows = featureRows(bars, monthlyTechReturns(files.stocks), from, end).filter((r) => r.target !== null);
  const tech = await techVersion(t, files.stocks);
  const { version } = await t.commitOnce(NAMES.training, "spx-training-features.csv", featuresToCsv(rows, true), `Training window ${rows[0].date} .. ${rows[rows.length - 1].date} (${reason})`, "Training windows: daily features with next-day direction");
  await lineage(t, [{ object: `dataset_version:${rawVersion.id}`, edge: "read" }, { object: `dataset_version:${tech.id}`, edge: "read" }], [{ object: `dataset_version:${version.id}`, edge: "features" }]);
  const experimentId = await t.experimentId(NAMES.tuningExperiment);
  // Created here, with the experiment, so each trial gets a tracking run; the tuning_study task loads it by name.
  await t.api("POST", "/studies", {
    name: study,
    directions: ["minimize"],
    sampler: { type: "tpe", seed: 7 },
    pruner: { type: "median", n_startup_trials: 4, n_warmup_steps: 2 * REPORT_EVERY },
    experiment_id: experimentId,
    load_if_exists: true,
  });
  output({ training_version: version.version, training_version_id: version.id, from: rows[0].date, end: rows[rows.length - 1].date, rows: rows.length, study, reason });
}

async function trainingData(t: Tern, version: number) {
  const rows = parseFeaturesCsv(await t.readVersion(NAMES.training, version));
  const meta = (await t.versions(NAMES.training)).find((v) => v.version === version);
  if (!meta) throw new Error(`${NAMES.training} has no version ${version}`);
  return { ...timeSplit(rows, VALIDATION_SHARE), version: meta };
}

const TRAINING_COLUMNS = ["date", ...FEATURES, "target"];

async function studyByName(t: Tern, name: string) {
  return (await t.api("GET", `/studies/by-name/${encodeURIComponent(name)}`)).study;
}

async function tune(t: Tern, a: Record<string, string>) {
  const study = await studyByName(t, need(a, "study"));
  const target = Number(need(a, "n-trials"));
  const version = Number(need(a, "training-version"));
  const data = await trainingData(t, version);
  const finished = async () => {
    const counts = (await t.api("GET", `/studies/${study.study_id}`)).study.state_counts;
    return counts.COMPLETE + counts.PRUNED;
  };
  let done = await finished();
  while (done < target) {
    const asked = await t.api("POST", `/studies/${study.study_id}/ask`, { search_space: SEARCH_SPACE });
    const n = asked.trial_number;
    const hp = asked.params as HyperParams;
    const runId: string | null = asked.trial.run_id;
    if (runId) await t.logDatasetInput(runId, data.version, "training", TRAINING_COLUMNS);
    let pruned = false;
    let last = NaN;
    await train(data.train, data.validation, hp, async ({ epoch, train: tr, validation }) => {
      if (epoch % REPORT_EVERY !== 0 || !validation) return;
      last = validation.logloss;
      if (runId) await t.api("POST", `/runs/${runId}/log`, { step: epoch, metrics: { train_logloss: tr.logloss, val_logloss: validation.logloss, val_accuracy: validation.accuracy } });
      const r = await t.api("POST", `/studies/${study.study_id}/trials/${n}/report`, { step: epoch, value: validation.logloss });
      if (r.should_prune) {
        pruned = true;
        return false;
      }
    });
    await t.api("POST", `/studies/${study.study_id}/trials/${n}/tell`, pruned ? { state: "PRUNED" } : { value: last });
    console.log(`trial ${n}: ${JSON.stringify(hp)} -> ${pruned ? "pruned" : `val_logloss ${last.toFixed(5)}`}`);
    done = await finished();
  }
  output({ study: study.name, trials: done });
}

async function trainBest(t: Tern, a: Record<string, string>) {
  const study = await studyByName(t, need(a, "study"));
  const version = Number(need(a, "training-version"));
  const best = (await t.api("GET", `/studies/${study.study_id}/best-trials`)).trials[0];
  if (!best) throw new Error(`study ${study.name} has no finished trial`);
  const hp = best.params as HyperParams;
  const data = await trainingData(t, version);
  const experimentId = await t.experimentId(NAMES.experiment);
  const window = `${data.train[0].date}..${data.validation[data.validation.length - 1].date}`;
  const { run } = await t.api("POST", "/runs", {
    experiment_id: experimentId,
    name: `logreg ${window}`,
    params: { ...hp, features: "ret_1..ret_lags,mom_20,vol_20,range_1,volume_ratio,tech_mom", validation_share: VALIDATION_SHARE },
    tags: { "tern.study": study.name, "tern.study_trial": String(best.number), "demo.window": window, ...(process.env.TERN_RUN_ID ? { "tern.pipeline_run_id": process.env.TERN_RUN_ID } : {}) },
  });
  await t.logDatasetInput(run.run_id, data.version, "training", TRAINING_COLUMNS);
  const history: { key: string; value: number; step: number }[] = [];
  const model: Model = await train(data.train, data.validation, hp, ({ epoch, train: tr, validation }) => {
    const m: Record<string, number> = { train_logloss: tr.logloss, train_accuracy: tr.accuracy, ...(validation ? { val_logloss: validation.logloss, val_accuracy: validation.accuracy } : {}) };
    for (const [key, value] of Object.entries(m)) history.push({ key, value, step: epoch });
  });
  // Every epoch's metrics, sent in batches of at most 1000 points (MLflow's limit per call).
  for (let i = 0; i < history.length; i += 1000) await t.api("POST", `/runs/${run.run_id}/log`, { metrics: history.slice(i, i + 1000) });
  const val = score(model, data.validation);
  await t.logArtifact(run, "model/model.json", JSON.stringify(model, null, 2));
  await t.api("PATCH", `/runs/${run.run_id}`, { status: "FINISHED" });
  output({ run_id: run.run_id, val_logloss: val.logloss, val_accuracy: val.accuracy, params: hp });
}

async function loadModel(t: Tern, runId: string): Promise<Model> {
  const run = await t.runOf(runId);
  return JSON.parse(await t.readArtifact(run.artifact_uri, "model/model.json"));
}

async function promote(t: Tern, a: Record<string, string>) {
  const version = Number(need(a, "version"));
  const trainingVersion = Number(need(a, "training-version"));
  const mv = (await t.mlflow("GET", `/model-versions/get?name=${encodeURIComponent(NAMES.model)}&version=${version}`)).model_version;
  const challenger = await loadModel(t, mv.run_id);
  const { validation } = await trainingData(t, trainingVersion);
  const mine = score(challenger, validation);
  const current = await t.aliasVersion(NAMES.model, "champion");
  let theirs: ReturnType<typeof score> | null = null;
  if (current && current.version !== version) theirs = score(await loadModel(t, current.run_id), validation);
  const wins = !current || (theirs !== null && mine.logloss < theirs.logloss);
  await t.api("POST", `/runs/${mv.run_id}/log`, {
    metrics: { holdout_logloss: mine.logloss, ...(theirs ? { champion_holdout_logloss: theirs.logloss } : {}) },
    tags: { "demo.promoted": String(wins), ...(current ? { "demo.compared_with": `${NAMES.model}/${current.version}` } : {}) },
  });
  if (wins) {
    await t.mlflow("POST", "/registered-models/alias", { name: NAMES.model, alias: "champion", version: String(version) });
    // The monitor compares batches with the data the champion learned from.
    const monitor = await t.monitorByName(NAMES.monitor);
    const training = (await t.versions(NAMES.training)).find((v) => v.version === trainingVersion);
    if (monitor && training) await t.api("PATCH", `/monitors/${monitor.id}`, { reference_dataset_version: training.id });
  }
  const summary = current
    ? `challenger v${version} holdout log loss ${mine.logloss.toFixed(5)} vs champion v${current.version} ${theirs ? theirs.logloss.toFixed(5) : "(same version)"}: ${wins ? "champion moves" : "champion stays"}`
    : `no champion yet: v${version} becomes champion`;
  console.log(summary);
  output({ promoted: wins, version, champion_version: wins ? version : current?.version ?? null, holdout_logloss: mine.logloss, champion_holdout_logloss: theirs?.logloss ?? null, summary });
}

async function predict(t: Tern, a: Record<string, string>) {
  const featuresVersion = Number(need(a, "features-version"));
  const champion = await t.aliasVersion(NAMES.model, "champion");
  if (!champion) throw new Error(`${NAMES.model} has no champion yet`);
  const model = await loadModel(t, champion.run_id);
  const versions = await t.versions(NAMES.features);
  const batch = versions.find((v) => v.version === featuresVersion);
  if (!batch) throw new Error(`${NAMES.features} has no version ${featuresVersion}`);
  const rows = parseFeaturesCsv(await t.readVersion(NAMES.features, featuresVersion));
  const p = predictProba(model, rows);
  const csv = `date,p_up,direction,model_version\n${rows.map((r, i) => `${r.date},${p[i].toFixed(6)},${p[i] >= 0.5 ? "up" : "down"},${champion.version}`).join("\n")}\n`;
  const month = rows[0].date.slice(0, 7);
  const { version } = await t.commitOnce(NAMES.predictions, "spx-predictions.csv", csv, `Predictions for ${month} by ${NAMES.model} v${champion.version}`, "Next-day direction predictions, one version per batch");
  await lineage(t, [{ object: `model_version:${NAMES.model}/${champion.version}`, edge: "used_model" }, { object: `dataset_version:${batch.id}`, edge: "predicted" }], [{ object: `dataset_version:${version.id}`, edge: "predictions" }]);
  output({ month, rows: rows.length, model_version: champion.version, predictions_version: version.version, predictions_version_id: version.id, up_share: p.filter((x) => x >= 0.5).length / p.length });
}

/**
 * The longest chain of a lineage graph (GET /lineage) that ends at `target`, from a node nothing flows
 * into, as "label (kind)" steps: how a prediction batch came from the raw data.
 */
export function lineagePath(graph: { nodes: { id: string; kind: string; label: string }[]; edges: { from: string; to: string; kind: string }[] }, target: string): string[] | null {
  const into = new Map<string, { from: string; kind: string }[]>();
  // A dataset's version history (parent_version) is not how a batch was made: leave it out.
  for (const e of graph.edges) if (e.kind !== "parent_version") into.set(e.to, [...(into.get(e.to) ?? []), e]);
  const label = new Map(graph.nodes.map((n) => [n.id, `${n.label} (${n.kind})`]));
  // The chain through a model version wins over a longer one along a dataset's version history.
  const rank = (p: string[]) => (p.some((x) => x.endsWith("(model_version)")) ? 10_000 : 0) + p.length;
  const longest = (id: string, seen: Set<string>): string[] => {
    let best: string[] = [];
    for (const e of into.get(id) ?? []) {
      if (seen.has(e.from)) continue;
      const p = [...longest(e.from, new Set([...seen, e.from])), `--${e.kind}-->`];
      if (rank(p) > rank(best)) best = p;
    }
    return [...best, label.get(id) ?? id];
  };
  const path = longest(target, new Set([target]));
  if (path.length < 2) return null;
  // Pair each edge marker with the node after it.
  const out: string[] = [path[0]];
  for (let i = 1; i < path.length; i += 2) out.push(`${path[i]} ${path[i + 1]}`);
  return out;
}

export async function main(argv: string[], root: string): Promise<void> {
  const [command, ...rest] = argv;
  const a = args(rest);
  const t = Tern.fromEnv();
  const steps: Record<string, () => Promise<void>> = {
    ingest: () => ingest(t, a, root),
    prepare: () => prepare(t, a, root),
    tune: () => tune(t, a),
    train: () => trainBest(t, a),
    promote: () => promote(t, a),
    predict: () => predict(t, a),
  };
  const step = steps[command];
  if (!step) throw new Error(`unknown demo task '${command}': one of ${Object.keys(steps).join(", ")}`);
  await step();
}

export { Tern, TernError, shiftMonth };
