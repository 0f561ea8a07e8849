/**
 * The built-in task kinds that use Tern itself: snapshot a URL into a dataset version, check drift of a
 * dataset version against a monitor's reference, wait for a tuning study to reach N finished trials,
 * register a model version from a run, and wait for a new dataset version. Each attempt goes through
 * BuiltinPorts (the other pillars' services, wired in services.ts), never through Tern's HTTP origin.
 * Sensors (dataset_sensor, tuning_study) answer "not yet" by deferring to their next poke, which the
 * run's alarm delivers, so waiting holds no request and survives a restart.
 */
import { ApiError } from "../http/errors";
import type { TaskSpec } from "../lib/pipelines/spec";
import { render, renderString } from "../lib/pipelines/template";
import { failed, prepareRequest, templateFailure, type AttemptOutcome, type ExecuteContext, type LineageLink } from "./executors";

/** Who made something: the pipeline run and task, as recorded on what they created. */
export interface Producer {
  pipeline_id: string;
  run_id: string;
  task_id: string;
}

export interface DatasetVersionRef {
  dataset: string;
  version: number;
  version_id: string;
  sha256: string;
  size: number;
  created_at: number;
}

export interface DriftCheckResult {
  monitor_id: string;
  monitor: string;
  dataset: string;
  version: number;
  version_id: string;
  report_id: string;
  dataset_drift: boolean;
  drift_share: number;
  number_of_columns: number;
  number_of_drifted_columns: number;
  drifted_columns: string[];
}

export interface StudyProgress {
  study_id: string;
  name: string;
  state_counts: Record<string, number>;
  best_value: number | null;
  best_values: number[] | null;
  best_params: Record<string, unknown> | null;
  best_trial: number | null;
}

/** What the built-in kinds need from the other pillars. Errors are ApiErrors as the services throw them. */
export interface BuiltinPorts {
  snapshot(input: {
    dataset: string;
    createDataset: boolean;
    body: ReadableStream<Uint8Array> | null;
    fileName: string | null;
    contentType: string | null;
    message: string;
    skipIfUnchanged: boolean;
    producer: Producer;
  }): Promise<DatasetVersionRef & { created: boolean }>;
  /** A dataset's version by number, "latest" or version id; null when the dataset has none yet. */
  datasetVersion(dataset: string, ref: number | string): Promise<DatasetVersionRef | null>;
  driftCheck(input: { monitor: string; dataset: string | null; version: number | string; producer: Producer }): Promise<DriftCheckResult>;
  /** Creates the study, or loads it when one of that name exists (Optuna's load_if_exists). */
  ensureStudy(input: { name: string; directions?: string[]; sampler?: Record<string, unknown>; pruner?: Record<string, unknown> }): Promise<StudyProgress>;
  registerModel(input: { name: string; runId: string; source: string; alias: string | null; description: string | null; tags: Record<string, string>; producer: Producer }): Promise<{ name: string; version: number }>;
}

type Builtin = Extract<TaskSpec, { kind: "dataset_snapshot" | "drift_check" | "tuning_study" | "register_model" | "dataset_sensor" }>;

export const isBuiltin = (task: TaskSpec): task is Builtin =>
  task.kind === "dataset_snapshot" || task.kind === "drift_check" || task.kind === "tuning_study" || task.kind === "register_model" || task.kind === "dataset_sensor";

/** Errors the caller caused (a missing monitor, a bad alias) will not go away by retrying. */
function portFailure(kind: string, err: unknown): AttemptOutcome {
  if (err instanceof ApiError) return failed(`${kind}: ${err.message}`, err.status >= 500 || err.code === "REQUEST_LIMIT_EXCEEDED");
  return failed(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
}

const str = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/** A version reference from a spec field: a number, "latest", a numeric string or a version id. */
function versionRef(v: unknown): number | string {
  if (typeof v === "number") return v;
  const s = str(v).trim();
  return /^\d{1,9}$/.test(s) ? Number(s) : s;
}

function fileNameOf(url: URL): string | null {
  const last = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  return last && !last.includes("..") ? last : null;
}

export async function executeBuiltin(task: Builtin, ctx: ExecuteContext, ports: BuiltinPorts): Promise<AttemptOutcome> {
  const producer: Producer = { pipeline_id: ctx.template.pipeline_id, run_id: ctx.template.run_id, task_id: ctx.template.task_id ?? "" };
  switch (task.kind) {
    case "dataset_snapshot":
      return snapshot(task, ctx, ports, producer);
    case "drift_check": {
      let monitor: string;
      let dataset: string | null;
      let version: number | string;
      try {
        monitor = str(renderString(task.monitor, ctx.template));
        dataset = task.dataset === undefined ? null : str(renderString(task.dataset, ctx.template));
        version = task.dataset_version === undefined ? "latest" : versionRef(typeof task.dataset_version === "string" ? renderString(task.dataset_version, ctx.template) : task.dataset_version);
      } catch (err) {
        return templateFailure(err);
      }
      let r: DriftCheckResult;
      try {
        r = await ports.driftCheck({ monitor, dataset, version, producer });
      } catch (err) {
        return portFailure("drift_check", err);
      }
      const lineage: LineageLink[] = [
        { kind: "dataset_version", key: r.version_id, edge: "drift_checked", direction: "input" },
        { kind: "monitor", key: r.monitor_id, edge: "drift_report", direction: "output" },
      ];
      if (task.fail_on_drift && r.dataset_drift) {
        const pct = Math.round(r.drift_share * 1000) / 10;
        return failed(`drift_check: drift detected in ${r.dataset} v${r.version}: ${r.number_of_drifted_columns} of ${r.number_of_columns} columns (${pct}%) drifted (${r.drifted_columns.slice(0, 10).join(", ")}); report ${r.report_id}`, false);
      }
      return { type: "task_succeeded", output: r, lineage };
    }
    case "tuning_study": {
      let name: string;
      try {
        name = str(renderString(task.study, ctx.template));
      } catch (err) {
        return templateFailure(err);
      }
      let p: StudyProgress;
      try {
        p = await ports.ensureStudy({ name, directions: task.directions, sampler: task.sampler, pruner: task.pruner });
      } catch (err) {
        return portFailure("tuning_study", err);
      }
      const finished = task.count_states.reduce((n, s) => n + (p.state_counts[s] ?? 0), 0);
      if (finished >= task.n_trials) {
        return {
          type: "task_succeeded",
          output: { study_id: p.study_id, study: p.name, n_trials: finished, state_counts: p.state_counts, best_value: p.best_value, best_values: p.best_values, best_params: p.best_params, best_trial: p.best_trial },
        };
      }
      if (ctx.now - ctx.startedAt >= task.timeout_s * 1000) {
        return failed(`tuning_study: study '${p.name}' has ${finished} of ${task.n_trials} finished trials (${task.count_states.join(", ")}) after ${task.timeout_s} s`, false);
      }
      return { type: "task_deferred", until: Math.min(ctx.now + task.poke_interval_s * 1000, ctx.startedAt + task.timeout_s * 1000) };
    }
    case "register_model": {
      let name: string;
      let runId: string;
      let source: string;
      let alias: string | null;
      let description: string | null;
      let tags: Record<string, string>;
      try {
        name = str(renderString(task.name, ctx.template));
        runId = str(renderString(task.run_id, ctx.template));
        const path = str(renderString(task.model_path, ctx.template)).replace(/^\/+|\/+$/g, "");
        source = task.source !== undefined ? str(renderString(task.source, ctx.template)) : `runs:/${runId}/${path}`;
        alias = task.alias === undefined ? null : str(renderString(task.alias, ctx.template));
        description = task.description === undefined ? null : str(renderString(task.description, ctx.template));
        tags = Object.fromEntries(Object.entries(render(task.tags, ctx.template) as Record<string, unknown>).map(([k, v]) => [k, str(v)]));
      } catch (err) {
        return templateFailure(err);
      }
      let r: { name: string; version: number };
      try {
        r = await ports.registerModel({ name, runId, source, alias, description, tags, producer });
      } catch (err) {
        return portFailure("register_model", err);
      }
      return {
        type: "task_succeeded",
        output: { name: r.name, version: r.version, run_id: runId, source, alias },
        lineage: [{ kind: "model_version", key: `${r.name}/${r.version}`, edge: "registered", direction: "output" }],
      };
    }
    case "dataset_sensor":
      return datasetSensor(task, ctx, ports);
  }
}

async function snapshot(task: Extract<TaskSpec, { kind: "dataset_snapshot" }>, ctx: ExecuteContext, ports: BuiltinPorts, producer: Producer): Promise<AttemptOutcome> {
  let dataset: string;
  let fileName: string | null;
  let message: string | null;
  try {
    dataset = str(renderString(task.dataset, ctx.template));
    fileName = task.file_name === undefined ? null : str(renderString(task.file_name, ctx.template));
    message = task.message === undefined ? null : str(renderString(task.message, ctx.template));
  } catch (err) {
    return templateFailure(err);
  }
  const prepared = prepareRequest(task, ctx, "dataset_snapshot");
  if ("type" in prepared) return prepared;
  const { url, init, timeout } = prepared;
  const where = `${task.method} ${url.origin}${url.pathname}`;
  let res: Response;
  try {
    res = await fetch(url.toString(), init);
  } catch (err) {
    const reason = timeout.aborted ? `no response within ${task.timeout_s} s` : err instanceof Error ? err.message : String(err);
    return failed(`dataset_snapshot: ${where} failed: ${reason}`);
  }
  if (res.status < 200 || res.status > 299) {
    const text = await res.text().catch(() => "");
    return failed(`dataset_snapshot: ${where} answered ${res.status}: ${text.slice(0, 300)}`);
  }
  const contentType = task.content_type ?? res.headers.get("content-type")?.split(";")[0].trim() ?? null;
  let v: DatasetVersionRef & { created: boolean };
  try {
    v = await ports.snapshot({
      dataset,
      createDataset: task.create_dataset,
      body: res.body,
      fileName: fileName ?? fileNameOf(url),
      // Generic types say nothing; let the file name decide (CSV, Parquet, ...).
      contentType: contentType && !/^(application\/octet-stream|text\/plain|binary\/octet-stream)$/i.test(contentType) ? contentType : null,
      message: message ?? `Snapshot of ${url.origin}${url.pathname} by pipeline run ${producer.run_id} (task ${producer.task_id})`,
      skipIfUnchanged: task.skip_if_unchanged,
      producer,
    });
  } catch (err) {
    if (timeout.aborted) return failed(`dataset_snapshot: ${where}: the body did not arrive within ${task.timeout_s} s`);
    return portFailure("dataset_snapshot", err);
  }
  const output = { dataset: v.dataset, version: v.version, version_id: v.version_id, sha256: v.sha256, size: v.size, created: v.created };
  // An unchanged snapshot made nothing: the run read the existing version.
  return { type: "task_succeeded", output, lineage: [{ kind: "dataset_version", key: v.version_id, edge: v.created ? "snapshot" : "snapshot_unchanged", direction: v.created ? "output" : "input" }] };
}

async function datasetSensor(task: Extract<TaskSpec, { kind: "dataset_sensor" }>, ctx: ExecuteContext, ports: BuiltinPorts): Promise<AttemptOutcome> {
  let dataset: string;
  let after: number | string | null;
  try {
    dataset = str(renderString(task.dataset, ctx.template));
    after = task.newer_than === undefined ? null : versionRef(typeof task.newer_than === "string" ? renderString(task.newer_than, ctx.template) : task.newer_than);
  } catch (err) {
    return templateFailure(err);
  }
  let found: DatasetVersionRef | null = null;
  let waitingFor: string;
  try {
    const latest = await ports.datasetVersion(dataset, "latest").catch((err) => {
      // A dataset that does not exist yet may be created later: keep poking.
      if (err instanceof ApiError && err.code === "RESOURCE_DOES_NOT_EXIST") return null;
      throw err;
    });
    if (after === null) {
      waitingFor = `a version of '${dataset}' committed after the run started (${new Date(ctx.runStartedAt).toISOString()})`;
      if (latest && latest.created_at > ctx.runStartedAt) found = latest;
    } else {
      let n: number;
      if (typeof after === "number") n = after;
      else {
        const base = await ports.datasetVersion(dataset, after);
        if (!base) return failed(`dataset_sensor: dataset '${dataset}' has no version '${after}'`, false);
        n = base.version;
      }
      waitingFor = `a version of '${dataset}' newer than v${n}`;
      if (latest && latest.version > n) found = latest;
    }
  } catch (err) {
    return portFailure("dataset_sensor", err);
  }
  if (found) {
    return { type: "task_succeeded", output: found, lineage: [{ kind: "dataset_version", key: found.version_id, edge: "sensed", direction: "input" }] };
  }
  if (ctx.now - ctx.startedAt >= task.timeout_s * 1000) return failed(`dataset_sensor: timed out after ${task.timeout_s} s waiting for ${waitingFor}`, false);
  return { type: "task_deferred", until: Math.min(ctx.now + task.poke_interval_s * 1000, ctx.startedAt + task.timeout_s * 1000) };
}
