/**
 * The pipelines pillar: pipelines as named, versioned specs; runs (manual, scheduled, backfill) created
 * idempotently in D1 and driven by one PipelineRunObject each; the every-minute scheduling of due
 * runs; max_active_runs; and the pull-agent protocol (claim, heartbeat, logs, complete).
 */
import { ApiError, invalid, notFound } from "../http/errors";
import type { AttemptRecord } from "../lib/pipelines/attempts";
import { TASK_STATES, type TaskState } from "../lib/pipelines/machine";
import { scheduleOf } from "../lib/pipelines/schedule";
import { parsePipelineSpec, SpecError, type PipelineSpec } from "../lib/pipelines/spec";
import { redactSecretFields, redactSecretSource, restoreRedacted } from "../lib/redact";
import { parseDateTime } from "../lib/pipelines/time";
import { logKey, type ClaimedTask, type PipelineRunApi, type PipelineRunObject, type RunSnapshot } from "./pipeline-run-object";
import type { PipelineRow, PipelineRunRow, PipelineStore } from "./store";

export interface PipelineSummary {
  pipeline_id: string;
  name: string;
  version: number;
  paused: boolean;
  description: string | null;
  schedule: string | null;
  dataset_triggers: string[];
  timezone: string;
  catchup: boolean;
  next_run_at: number | null;
  next_logical_date: number | null;
  last_runs: { run_id: string; state: PipelineRunRow["state"]; logical_date: number }[];
  created_at: number;
  updated_at: number;
}

export interface PipelineDetail extends PipelineSummary {
  spec: PipelineSpec;
  source: string;
}

export interface RunSummary {
  run_id: string;
  pipeline_id: string;
  version: number;
  run_type: PipelineRunRow["runType"];
  state: PipelineRunRow["state"];
  logical_date: number;
  data_interval_start: number;
  data_interval_end: number;
  conf: Record<string, unknown>;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}

/** Runs the scheduler creates per pipeline per tick at most (catchup continues on the next tick). */
const MAX_DUE_PER_TICK = 50;
export const MAX_BACKFILL_RUNS = 1000;
const LAST_RUNS_SHOWN = 5;
export const DEFAULT_LEASE_MS = 60_000;

const newId = () => crypto.randomUUID().replaceAll("-", "");

function specOrThrow(input: unknown): PipelineSpec {
  try {
    return parsePipelineSpec(input);
  } catch (err) {
    if (err instanceof SpecError) throw invalid(`Invalid spec: ${err.message}`);
    throw err;
  }
}

/** A time given as milliseconds since the epoch or as an ISO date-time (UTC unless it says otherwise). */
export function readTime(value: number | string, field: string): number {
  if (typeof value === "number") return value;
  const t = parseDateTime(value, "UTC");
  if (t === null) throw invalid(`${field}: '${value}' is not a date-time (use ISO 8601 or milliseconds since the epoch)`);
  return t;
}

function toRunSummary(r: PipelineRunRow): RunSummary {
  return {
    run_id: r.runId,
    pipeline_id: r.pipelineId,
    version: r.version,
    run_type: r.runType,
    state: r.state,
    logical_date: r.logicalDate,
    data_interval_start: r.dataIntervalStart,
    data_interval_end: r.dataIntervalEnd,
    conf: redactSecretFields(JSON.parse(r.conf)),
    created_at: r.createdAt,
    started_at: r.startedAt,
    ended_at: r.endedAt,
  };
}

/** A committed dataset version, as data-aware triggers see it. */
export interface DatasetVersionEvent {
  dataset: string;
  version: number;
  versionId: string;
  sha256: string;
  size: number;
  createdAt: number;
}

/** How far back the every-minute job looks for versions whose trigger was missed. */
const CATCH_UP_WINDOW_MS = 24 * 60 * 60 * 1000;
const MAX_CATCH_UP_PER_TICK = 20;

export interface PipelineServiceDeps {
  runs: DurableObjectNamespace<PipelineRunObject>;
  blobs: R2Bucket;
  /** Versions of a dataset committed after `since`, oldest first (the datasets pillar, wired in services.ts). */
  datasetVersions?: (dataset: string, since: number, limit: number) => Promise<DatasetVersionEvent[]>;
  now?: () => number;
}

export class PipelineService {
  private readonly now: () => number;

  constructor(
    private readonly store: PipelineStore,
    private readonly deps: PipelineServiceDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  private stub(runId: string): PipelineRunApi {
    return this.deps.runs.get(this.deps.runs.idFromName(runId)) as unknown as PipelineRunApi;
  }

  private async pipelineOrThrow(id: string): Promise<PipelineRow> {
    const p = await this.store.getPipeline(id);
    if (!p) throw notFound(`Pipeline '${id}' does not exist`);
    return p;
  }

  private async specOf(id: string, version: number): Promise<{ spec: PipelineSpec; source: string }> {
    const v = await this.store.getVersion(id, version);
    if (!v) throw notFound(`Pipeline '${id}' has no version ${version}`);
    return { spec: JSON.parse(v.spec), source: v.source };
  }

  // ---- pipelines -----------------------------------------------------------------------------

  async create(input: { name: string; spec: unknown }, selfOrigin: string | null = null): Promise<{ pipeline_id: string; version: number }> {
    const spec = specOrThrow(input.spec);
    if (selfOrigin) await this.store.rememberOrigin(selfOrigin, this.now());
    if (await this.store.getPipelineByName(input.name)) throw new ApiError("RESOURCE_ALREADY_EXISTS", `A pipeline named '${input.name}' already exists`);
    const now = this.now();
    const id = newId();
    try {
      await this.store.insertPipeline(
        { pipelineId: id, name: input.name, latestVersion: 1, paused: false, createdAt: now, updatedAt: now },
        { pipelineId: id, version: 1, source: sourceText(input.spec), spec: JSON.stringify(spec), createdAt: now },
      );
    } catch (err) {
      if (String(err).includes("UNIQUE")) throw new ApiError("RESOURCE_ALREADY_EXISTS", `A pipeline named '${input.name}' already exists`);
      throw err;
    }
    return { pipeline_id: id, version: 1 };
  }

  async update(id: string, specInput: unknown): Promise<{ pipeline_id: string; version: number }> {
    const p = await this.pipelineOrThrow(id);
    // A spec edited from what GET returned carries REDACTED where the secrets were: keep the stored ones.
    const spec = restoreRedacted(specOrThrow(specInput), (await this.specOf(id, p.latestVersion)).spec);
    const version = p.latestVersion + 1;
    const ok = await this.store.addVersion({ pipelineId: id, version, source: sourceText(specInput), spec: JSON.stringify(spec), createdAt: this.now() });
    if (!ok) throw new ApiError("INVALID_STATE", `Pipeline '${id}' changed while this version was being saved; send it again`);
    return { pipeline_id: id, version };
  }

  /** The id of the pipeline with this name, or null. */
  async idByName(name: string): Promise<string | null> {
    return (await this.store.getPipelineByName(name))?.pipelineId ?? null;
  }

  async list(): Promise<PipelineSummary[]> {
    const [rows, last] = await Promise.all([this.store.listWithLatest(), this.store.lastRuns(LAST_RUNS_SHOWN)]);
    const lastScheduled = await this.store.lastScheduled(rows.map((r) => r.pipeline.pipelineId));
    return rows.map(({ pipeline, version }) =>
      this.summary(pipeline, JSON.parse(version.spec), lastScheduled.get(pipeline.pipelineId) ?? null, last.filter((r) => r.pipelineId === pipeline.pipelineId)),
    );
  }

  async get(id: string): Promise<PipelineDetail> {
    const p = await this.pipelineOrThrow(id);
    const { spec, source } = await this.specOf(id, p.latestVersion);
    const lastScheduled = (await this.store.lastScheduled([id])).get(id) ?? null;
    const runs = await this.store.listRuns(id, LAST_RUNS_SHOWN, 0);
    const summary = this.summary(p, spec, lastScheduled, runs.map((r) => ({ pipelineId: id, runId: r.runId, state: r.state, logicalDate: r.logicalDate })));
    return { ...summary, spec: redactSecretFields(spec), source: redactSecretSource(source) };
  }

  /** One stored version of the spec, as checked and as submitted, secret values masked. */
  async getVersion(id: string, version: number): Promise<{ pipeline_id: string; version: number; created_at: number; spec: PipelineSpec; source: string }> {
    await this.pipelineOrThrow(id);
    const v = await this.store.getVersion(id, version);
    if (!v) throw notFound(`Pipeline '${id}' has no version ${version}`);
    return { pipeline_id: id, version, created_at: v.createdAt, spec: redactSecretFields(JSON.parse(v.spec)), source: redactSecretSource(v.source) };
  }

  private summary(p: PipelineRow, spec: PipelineSpec, lastScheduled: number | null, last: { runId: string; state: PipelineRunRow["state"]; logicalDate: number }[]): PipelineSummary {
    const next = p.paused ? null : (scheduleOf(spec)?.next(lastScheduled, this.now()) ?? null);
    return {
      pipeline_id: p.pipelineId,
      name: p.name,
      version: p.latestVersion,
      paused: p.paused,
      description: spec.description,
      schedule: spec.schedule,
      dataset_triggers: spec.datasets ?? [],
      timezone: spec.timezone,
      catchup: spec.catchup,
      next_run_at: next?.run_at ?? null,
      next_logical_date: next?.logical_date ?? null,
      last_runs: last.map((r) => ({ run_id: r.runId, state: r.state, logical_date: r.logicalDate })),
      created_at: p.createdAt,
      updated_at: p.updatedAt,
    };
  }

  async delete(id: string): Promise<void> {
    await this.pipelineOrThrow(id);
    // Stop what is still going before the records disappear.
    const active = await this.store.runsInState(id, ["running"], 1000);
    await Promise.all(active.map((r) => this.stub(r.runId).cancel().catch(() => undefined)));
    await this.store.deletePipeline(id);
  }

  async setPaused(id: string, paused: boolean): Promise<PipelineDetail> {
    await this.pipelineOrThrow(id);
    await this.store.setPaused(id, paused, this.now());
    if (!paused) await this.startQueuedRuns(id);
    return this.get(id);
  }

  // ---- runs ----------------------------------------------------------------------------------

  async trigger(id: string, input: { conf?: Record<string, unknown>; logical_date?: number | string }, selfOrigin: string | null): Promise<{ run_id: string }> {
    const p = await this.pipelineOrThrow(id);
    const logical = input.logical_date === undefined ? this.now() : readTime(input.logical_date, "logical_date");
    const runId = newId();
    const inserted = await this.store.insertRuns([this.runRow(p, runId, "manual", logical, logical, input.conf ?? {})]);
    if (!inserted.length) throw new ApiError("RESOURCE_ALREADY_EXISTS", `Pipeline '${id}' already has a run for logical date ${new Date(logical).toISOString()}`);
    await this.startQueuedRuns(id, selfOrigin);
    return { run_id: runId };
  }

  async backfill(id: string, input: { start: number | string; end: number | string; conf?: Record<string, unknown> }, selfOrigin: string | null): Promise<{ run_ids: string[]; logical_dates: number[]; existing: number }> {
    const p = await this.pipelineOrThrow(id);
    const start = readTime(input.start, "start");
    const end = readTime(input.end, "end");
    if (end < start) throw invalid("end: is before start");
    const { spec } = await this.specOf(id, p.latestVersion);
    const schedule = scheduleOf(spec);
    if (!schedule) throw invalid(`Pipeline '${p.name}' has no schedule, so there are no intervals to backfill; trigger runs with a logical_date instead`);
    const dates = schedule.between(start, end, MAX_BACKFILL_RUNS + 1);
    if (dates.length > MAX_BACKFILL_RUNS) throw invalid(`The range holds more than ${MAX_BACKFILL_RUNS} runs; backfill it in parts`);
    const rows = dates.map((t) => this.runRow(p, newId(), "backfill", t, schedule.intervalEnd(t), input.conf ?? {}));
    const inserted = new Set(await this.store.insertRuns(rows));
    await this.startQueuedRuns(id, selfOrigin);
    const made = rows.filter((r) => inserted.has(r.runId));
    return { run_ids: made.map((r) => r.runId), logical_dates: made.map((r) => r.logicalDate), existing: rows.length - made.length };
  }

  private runRow(p: PipelineRow, runId: string, runType: PipelineRunRow["runType"], logical: number, intervalEnd: number, conf: Record<string, unknown>): PipelineRunRow {
    return {
      runId,
      pipelineId: p.pipelineId,
      version: p.latestVersion,
      runType,
      logicalDate: logical,
      dataIntervalStart: logical,
      dataIntervalEnd: intervalEnd,
      state: "queued",
      conf: JSON.stringify(conf),
      createdAt: this.now(),
      startedAt: null,
      endedAt: null,
      triggerKey: null,
    };
  }

  /**
   * A data-aware trigger: a committed dataset version starts one run of every pipeline whose latest
   * spec names that dataset in `schedule: {datasets: [...]}`, with the version in the run's conf. The
   * trigger key (the version id) is unique per pipeline, so an event delivered twice makes one run.
   * A pipeline's own snapshot never triggers itself (that would loop). Paused pipelines keep the run
   * queued until they are unpaused. Returns the runs created.
   */
  async datasetVersionCommitted(e: DatasetVersionEvent & { producer?: { pipeline_id: string } | null }): Promise<string[]> {
    const rows = await this.store.listWithLatest();
    const created: string[] = [];
    for (const { pipeline, version } of rows) {
      const spec = JSON.parse(version.spec) as PipelineSpec;
      if (!(spec.datasets ?? []).includes(e.dataset) || e.producer?.pipeline_id === pipeline.pipelineId) continue;
      const runId = await this.triggerRun(pipeline, e);
      if (runId) {
        created.push(runId);
        await this.startQueuedRuns(pipeline.pipelineId);
      }
    }
    return created;
  }

  /** Inserts the run a dataset version triggers; null when the pipeline already has it. */
  private async triggerRun(pipeline: PipelineRow, e: DatasetVersionEvent): Promise<string | null> {
    const conf = { dataset: e.dataset, dataset_version: e.version, dataset_version_id: e.versionId, sha256: e.sha256, size: e.size };
    const runId = newId();
    const link = { nodeKind: "dataset_version", nodeKey: e.versionId, edge: "triggered", direction: "input" as const };
    // The logical date is the commit time; two events of the same millisecond take the next free one.
    for (let logical = e.createdAt, tries = 0; tries < 100; logical++, tries++) {
      const row = { ...this.runRow(pipeline, runId, "dataset", logical, logical, conf), triggerKey: `dataset_version:${e.versionId}` };
      const outcome = await this.store.insertTriggeredRun(row, link);
      if (outcome === "inserted") return runId;
      if (outcome === "duplicate") return null;
    }
    throw new ApiError("INTERNAL_ERROR", `No free logical date near ${new Date(e.createdAt).toISOString()} for pipeline '${pipeline.pipelineId}'`);
  }

  /**
   * The every-minute safety net of data-aware triggers: versions of watched datasets committed since the
   * pipeline's spec took effect (within a day) that have no run yet get one, e.g. when the commit's
   * listener failed. The trigger key makes this and the listener agree on one run per version.
   */
  private async catchUpDatasetTriggers(now: number): Promise<string[]> {
    const feed = this.deps.datasetVersions;
    if (!feed) return [];
    const created: string[] = [];
    for (const { pipeline, version } of await this.store.listWithLatest()) {
      const watched = (JSON.parse(version.spec) as PipelineSpec).datasets ?? [];
      if (!watched.length) continue;
      const since = Math.max(version.createdAt, now - CATCH_UP_WINDOW_MS);
      let made = false;
      for (const dataset of watched) {
        for (const v of await feed(dataset, since, MAX_CATCH_UP_PER_TICK)) {
          // A pipeline's own snapshots never trigger it (the listener knows the producer; here the links do).
          if (await this.store.runOfPipelineMade(pipeline.pipelineId, v.versionId)) continue;
          const runId = await this.triggerRun(pipeline, v);
          if (runId) {
            created.push(runId);
            made = true;
          }
        }
      }
      if (made) await this.startQueuedRuns(pipeline.pipelineId);
    }
    return created;
  }

  /**
   * Creates the runs that are due at `now` for every unpaused scheduled pipeline. Inserts skip
   * existing (pipeline, logical date) pairs, so repeating a tick never makes a second run.
   */
  async scheduleDue(now: number): Promise<{ created: string[] }> {
    const rows = await this.store.listWithLatest();
    const active = rows.filter((r) => !r.pipeline.paused);
    const lastScheduled = await this.store.lastScheduled(active.map((r) => r.pipeline.pipelineId));
    const created: string[] = [];
    for (const { pipeline, version } of active) {
      const schedule = scheduleOf(JSON.parse(version.spec) as PipelineSpec);
      if (!schedule) continue;
      const due = schedule.due(lastScheduled.get(pipeline.pipelineId) ?? null, now, MAX_DUE_PER_TICK);
      if (!due.length) continue;
      created.push(...(await this.store.insertRuns(due.map((t) => this.runRow(pipeline, newId(), "scheduled", t, schedule.intervalEnd(t), {})))));
    }
    created.push(...(await this.catchUpDatasetTriggers(now)));
    await this.resumeClaimedRuns();
    for (const id of await this.store.pipelinesWithQueuedRuns()) await this.startQueuedRuns(id);
    return { created };
  }

  /**
   * Starts queued runs, oldest logical date first, while the pipeline has fewer than max_active_runs
   * running. Any number of these may run at once (cron tick, triggers, a run that just finished): each
   * run's start is gated by an atomic slot claim in D1 (store.claimRunSlot), so the limit holds however
   * they interleave, and a run that finds no slot stays queued until a finishing run frees one (every
   * finish calls this again) or the next tick. The run's object is created before its slot is claimed,
   * so a run D1 shows as running always has one.
   */
  async startQueuedRuns(id: string, selfOrigin: string | null = null): Promise<string[]> {
    const p = await this.store.getPipeline(id);
    if (!p || p.paused) return [];
    const { spec: latest } = await this.specOf(id, p.latestVersion);
    let origins: string[] | null = null;
    const started: string[] = [];
    // Bounded: each pass either starts a run, skips one another starter just took, or stops.
    for (let pass = 0; pass < latest.max_active_runs + 100; pass++) {
      if ((await this.store.countRuns(id, "running")) >= latest.max_active_runs) break;
      const [next] = await this.store.runsInState(id, ["queued"], 1);
      if (!next) break;
      origins ??= selfOrigin ? await this.store.rememberOrigin(selfOrigin, this.now()) : await this.store.knownOrigins();
      const stub = await this.initRun(next, origins);
      if (!(await this.store.claimRunSlot(id, next.runId, latest.max_active_runs))) {
        // Still queued: no slot is free (or the pipeline was paused); another starter took it otherwise.
        if ((await this.store.getRun(next.runId))?.state === "queued") break;
        continue;
      }
      await stub.start();
      started.push(next.runId);
    }
    return started;
  }

  /** Creates a run's object (idempotent); it stays queued until started. */
  private async initRun(r: PipelineRunRow, origins: string[]): Promise<PipelineRunApi> {
    const { spec } = await this.specOf(r.pipelineId, r.version);
    const stub = this.stub(r.runId);
    await stub.init({
      run_id: r.runId,
      pipeline_id: r.pipelineId,
      version: r.version,
      run_type: r.runType,
      spec,
      logical_date: r.logicalDate,
      data_interval_start: r.dataIntervalStart,
      data_interval_end: r.dataIntervalEnd,
      conf: JSON.parse(r.conf),
      self_origins: origins,
    });
    return stub;
  }

  /**
   * Starts runs that hold a slot but whose object never started (their starter stopped between the
   * claim and the start). Starting is idempotent, so racing the starter that is still at it is harmless.
   */
  private async resumeClaimedRuns(): Promise<void> {
    const origins = await this.store.knownOrigins();
    for (const r of await this.store.claimedNotStarted(100)) {
      try {
        await (await this.initRun(r, origins)).start();
      } catch (err) {
        console.error(JSON.stringify({ event: "pipeline_run.resume_failed", run_id: r.runId, error: String(err) }));
      }
    }
  }

  async listRuns(id: string, limit: number, offset: number): Promise<{ runs: RunSummary[]; next_offset: number | null }> {
    await this.pipelineOrThrow(id);
    const rows = await this.store.listRuns(id, limit + 1, offset);
    return { runs: rows.slice(0, limit).map(toRunSummary), next_offset: rows.length > limit ? offset + limit : null };
  }

  private async runOrThrow(runId: string): Promise<PipelineRunRow> {
    const r = await this.store.getRun(runId);
    if (!r) throw notFound(`Pipeline run '${runId}' does not exist`);
    return r;
  }

  /** A run as its Durable Object has it; a run whose object does not exist yet is described from D1. */
  async getRun(runId: string): Promise<RunSnapshot> {
    const r = await this.runOrThrow(runId);
    const snapshot = await this.stub(runId).find();
    // An object still queued does not speak for a run that ended without starting (cancelled while queued).
    if (snapshot && !(snapshot.state === "queued" && (r.state === "success" || r.state === "failed"))) return { ...snapshot, conf: redactSecretFields(snapshot.conf) };
    const { spec } = await this.specOf(r.pipelineId, r.version);
    return {
      ...toRunSummary(r),
      tasks: Object.entries(spec.tasks).map(([task_id, t]) => ({
        task_id,
        kind: t.kind,
        state: "none" as TaskState,
        try_number: 0,
        max_tries: t.retries + 1,
        queued_at: null,
        started_at: null,
        ended_at: null,
        output: null,
        error: null,
        retry_at: null,
        agent_id: null,
        attempts: [],
      })),
    };
  }

  /**
   * Records what a task read and made in the other pillars, for the lineage graph: an agent task says,
   * e.g., which model version and dataset version a prediction read and which version it wrote. The
   * objects are checked by the caller; repeating a link is a no-op.
   */
  async recordTaskLineage(runId: string, taskId: string, links: { nodeKind: string; nodeKey: string; edge: string; direction: "input" | "output" }[]): Promise<number> {
    const r = await this.runOrThrow(runId);
    const { spec } = await this.specOf(r.pipelineId, r.version);
    if (!(taskId in spec.tasks)) throw notFound(`Pipeline run '${runId}' has no task '${taskId}'`);
    const createdAt = this.now();
    await this.store.addLinks(links.map((l) => ({ runId, taskId, ...l, createdAt })));
    return links.length;
  }

  /** Every recorded try of a task of a run, newest first. */
  async taskAttempts(runId: string, taskId: string): Promise<AttemptRecord[]> {
    const r = await this.runOrThrow(runId);
    const { spec } = await this.specOf(r.pipelineId, r.version);
    if (!(taskId in spec.tasks)) throw notFound(`Pipeline run '${runId}' has no task '${taskId}'`);
    // A queued run may be a cleared one waiting for a slot, with its history in its object.
    return (await this.stub(runId).attempts(taskId)) ?? [];
  }

  private async activeRunWithTasks(runId: string, taskIds: string[]): Promise<PipelineRunRow> {
    const r = await this.runOrThrow(runId);
    const { spec } = await this.specOf(r.pipelineId, r.version);
    const unknown = taskIds.filter((t) => !(t in spec.tasks));
    if (unknown.length) throw invalid(`task_ids: run '${runId}' has no task ${unknown.map((t) => `'${t}'`).join(", ")}`);
    // Not started: still queued, being started, or cancelled before it started.
    if (r.state === "queued" || r.startedAt === null) throw new ApiError("INVALID_STATE", `Pipeline run '${runId}' has not started yet`);
    return r;
  }

  /**
   * Clears tasks so they run again. A finished run that runs again needs a run slot like a new run (as
   * in Airflow, where a cleared run goes back to queued): with one free it reruns at once; without, it
   * waits queued, keeping its task states and attempt history, and starts when a slot frees.
   */
  async clear(runId: string, taskIds: string[], downstream: boolean): Promise<RunSnapshot> {
    const r = await this.activeRunWithTasks(runId, taskIds);
    const stub = this.stub(runId);
    if (r.state !== "success" && r.state !== "failed") return stub.clear(taskIds, downstream);
    const p = await this.pipelineOrThrow(r.pipelineId);
    const { spec } = await this.specOf(r.pipelineId, p.latestVersion);
    if (await this.store.claimRunSlot(r.pipelineId, runId, spec.max_active_runs, [r.state])) {
      try {
        return await stub.clear(taskIds, downstream);
      } catch (err) {
        await this.store.releaseRunSlot(runId, r.state);
        throw err;
      }
    }
    const cleared = await stub.clear(taskIds, downstream, true);
    if (cleared.state === "queued" && (await this.store.requeueRun(runId, r.state))) await this.startQueuedRuns(r.pipelineId);
    return this.getRun(runId);
  }

  async mark(runId: string, taskIds: string[], state: "success" | "failed"): Promise<RunSnapshot> {
    await this.activeRunWithTasks(runId, taskIds);
    return this.stub(runId).mark(taskIds, state);
  }

  async cancel(runId: string): Promise<RunSnapshot> {
    const r = await this.runOrThrow(runId);
    if (r.state === "success" || r.state === "failed") throw new ApiError("INVALID_STATE", `Pipeline run '${runId}' has already finished (${r.state})`);
    const stub = this.stub(runId);
    // Queued: it fails in D1 without taking a slot, unless a starter took one in the meantime; its object,
    // if it has one (a cleared run waiting for a slot), skips what was left to do.
    if (r.state === "queued" && (await this.store.failQueuedRun(runId, this.now()))) {
      if (await stub.find()) await stub.cancel();
      return this.getRun(runId);
    }
    return stub.cancel();
  }

  async taskLog(runId: string, taskId: string, tryNumber: number): Promise<{ text: string; live: boolean }> {
    const r = await this.runOrThrow(runId);
    if (r.state !== "queued") {
      const live = await this.stub(runId).readLog(taskId, tryNumber);
      if (live !== null) return { text: live, live: true };
    }
    const stored = await this.deps.blobs.get(logKey(runId, taskId, tryNumber));
    if (!stored) throw notFound(`No log for task '${taskId}' try ${tryNumber} of run '${runId}'`);
    return { text: await stored.text(), live: false };
  }

  // ---- agents --------------------------------------------------------------------------------

  /** Gives the oldest queued agent task of a queue to an agent, with a lease; null when there is none. */
  async claim(queue: string, agentId: string, leaseMs: number): Promise<ClaimedTask | null> {
    for (const c of await this.store.queuedAgentTasks(queue, 20)) {
      const claimed = await this.stub(c.runId).claim(c.taskId, c.tryNumber, agentId, leaseMs);
      if (claimed) return claimed;
    }
    return null;
  }

  private async agentRun(runId: string): Promise<void> {
    const r = await this.runOrThrow(runId);
    if (r.state === "queued") throw new ApiError("INVALID_STATE", `Pipeline run '${runId}' has not started yet`);
  }

  async heartbeat(runId: string, taskId: string, tryNumber: number, agentId: string, leaseMs: number) {
    await this.agentRun(runId);
    return this.stub(runId).heartbeat(taskId, tryNumber, agentId, leaseMs);
  }

  async appendLog(runId: string, taskId: string, tryNumber: number, text: string): Promise<void> {
    await this.agentRun(runId);
    if (!(await this.stub(runId).appendLog(taskId, tryNumber, text))) throw notFound(`Run '${runId}' has no attempt ${tryNumber} of task '${taskId}'`);
  }

  async complete(runId: string, taskId: string, tryNumber: number, agentId: string, exitCode: number, output: unknown) {
    await this.agentRun(runId);
    return this.stub(runId).complete(taskId, tryNumber, agentId, exitCode, output);
  }
}

/** The spec as the user sent it, kept next to the checked one. */
function sourceText(spec: unknown): string {
  return typeof spec === "string" ? spec : JSON.stringify(spec, null, 2);
}

export const isTaskState = (s: string): s is TaskState => (TASK_STATES as readonly string[]).includes(s);
