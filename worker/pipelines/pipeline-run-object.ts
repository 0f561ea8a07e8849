/**
 * PipelineRunObject: one Durable Object per pipeline run. It keeps the run (spec, conf, task states) in
 * its SQLite storage and drives the pure state machine (lib/pipelines/machine) with events: the start,
 * attempt outcomes, agent claims/heartbeats/completions, clear/mark/cancel, and its alarm, which is
 * always set to the next retry, timeout, lease end or sensor wake-up, so all of them survive a restart
 * of the runtime. In-process kinds run here (executors.ts, and builtins.ts through the other pillars'
 * services, recording what they read and made for the lineage graph); agent tasks wait for a claim. After every
 * change the task states are mirrored to D1 for the grid view and for agents' claims, and every try of a
 * task keeps its own record in the object's storage (lib/pipelines/attempts), across retries and clears.
 */
import { createDb } from "../db/client";
import { attemptChanges, attemptHistory, MAX_ATTEMPTS_KEPT, type AttemptRecord } from "../lib/pipelines/attempts";
import { initialRunState, step, type MachineAction, type MachineEvent, type RunState, type StepResult, type TaskInstance } from "../lib/pipelines/machine";
import type { PipelineSpec } from "../lib/pipelines/spec";
import { redactLogText, secretValues } from "../lib/redact";
import { render, TemplateError, type TemplateContext } from "../lib/pipelines/template";
import { TernDurableObject } from "../system/durable-object";
import { DumpError, dumpTables, holdsRows, restoreTables, type DurableObjectDump } from "../system/do-dump";
import { executeBuiltin, isBuiltin } from "./builtins";
import { executeHttp, executeSync, type AttemptOutcome } from "./executors";
import { PipelineStore, type TaskInstanceRow } from "./store";

export interface RunInit {
  run_id: string;
  pipeline_id: string;
  version: number;
  run_type: "manual" | "scheduled" | "backfill" | "dataset";
  spec: PipelineSpec;
  logical_date: number;
  data_interval_start: number;
  data_interval_end: number;
  conf: Record<string, unknown>;
  /** Origins Tern is reached at; http tasks may not call them. */
  self_origins: string[];
}

export interface TaskSnapshot {
  task_id: string;
  kind: string;
  state: TaskInstance["state"];
  try_number: number;
  max_tries: number;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  output: unknown;
  error: string | null;
  retry_at: number | null;
  agent_id: string | null;
  /** Every recorded try, newest first (state it ended in, times, agent, error). */
  attempts: AttemptRecord[];
}

export interface RunSnapshot {
  run_id: string;
  pipeline_id: string;
  version: number;
  run_type: RunInit["run_type"];
  state: RunState["state"];
  logical_date: number;
  data_interval_start: number;
  data_interval_end: number;
  conf: Record<string, unknown>;
  started_at: number | null;
  ended_at: number | null;
  tasks: TaskSnapshot[];
}

export interface ClaimedTask {
  run_id: string;
  pipeline_id: string;
  task_id: string;
  try_number: number;
  command: string;
  env: Record<string, string>;
  lease_expires_at: number;
}

type Meta = Omit<RunInit, "spec">;

/** The RPC surface the service calls (typed here: outputs are arbitrary JSON, which RPC typing cannot express). */
export interface PipelineRunApi {
  init(init: RunInit): Promise<RunSnapshot>;
  start(): Promise<RunSnapshot>;
  snapshot(): Promise<RunSnapshot>;
  find(): Promise<RunSnapshot | null>;
  clear(taskIds: string[], downstream: boolean, requeue?: boolean): Promise<RunSnapshot>;
  mark(taskIds: string[], state: "success" | "failed"): Promise<RunSnapshot>;
  cancel(): Promise<RunSnapshot>;
  claim(taskId: string, tryNumber: number, agentId: string, leaseMs: number): Promise<ClaimedTask | null>;
  heartbeat(taskId: string, tryNumber: number, agentId: string, leaseMs: number): Promise<{ keep_running: boolean; state: string | null; lease_expires_at: number | null }>;
  complete(taskId: string, tryNumber: number, agentId: string, exitCode: number, output: unknown): Promise<{ accepted: boolean; state: string | null }>;
  appendLog(taskId: string, tryNumber: number, text: string): Promise<boolean>;
  readLog(taskId: string, tryNumber: number): Promise<string | null>;
  attempts(taskId: string): Promise<AttemptRecord[] | null>;
  exportDump(): Promise<DurableObjectDump | null>;
  importDump(dump: DurableObjectDump): Promise<{ ok: true } | { ok: false; code: "RESOURCE_ALREADY_EXISTS" | "INVALID_PARAMETER_VALUE"; message: string }>;
}

/** Logs kept per attempt; beyond this the rest of the attempt's output is dropped with a note. */
export const MAX_LOG_BYTES = 5 * 1024 * 1024;
/** While an attempt runs, its log object in R2 is rewritten at most this often. */
const LOG_FLUSH_INTERVAL_MS = 2000;

/** The tables a backup carries: all of the run's storage. */
const DUMP_TABLES = ["run", "attempts", "logs"] as const;
const FINISHED_RUN_STATES: readonly string[] = ["success", "failed"];

export const logKey = (runId: string, taskId: string, tryNumber: number) => `runs/${runId}/${taskId}/${tryNumber}.log`;

export class PipelineRunObject extends TernDurableObject implements PipelineRunApi {
  private meta: Meta | null = null;
  private spec: PipelineSpec | null = null;
  private run: RunState | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** The run as D1 last received it (null: unknown, e.g. after a restart, so everything is written). */
  private mirrored: RunState | null = null;
  private flushing: Promise<void> | null = null;
  private readonly inflight = new Map<string, AbortController>();
  private readonly lastFlush = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS run (id INTEGER PRIMARY KEY CHECK (id = 1), meta TEXT NOT NULL, spec TEXT NOT NULL, state TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS logs (task_id TEXT NOT NULL, try_number INTEGER NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (task_id, try_number, seq))");
    // One row per try of a task, as it last changed (lib/pipelines/attempts decides what changed).
    sql.exec("CREATE TABLE IF NOT EXISTS attempts (task_id TEXT NOT NULL, try_number INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (task_id, try_number))");
  }

  private storedAttempts(taskId?: string): Map<string, AttemptRecord[]> {
    const rows =
      taskId === undefined
        ? this.ctx.storage.sql.exec<{ task_id: string; record: string }>("SELECT task_id, record FROM attempts ORDER BY task_id, try_number DESC").toArray()
        : this.ctx.storage.sql.exec<{ task_id: string; record: string }>("SELECT task_id, record FROM attempts WHERE task_id = ? ORDER BY try_number DESC", taskId).toArray();
    const out = new Map<string, AttemptRecord[]>();
    for (const r of rows) {
      const list = out.get(r.task_id) ?? [];
      list.push(JSON.parse(r.record));
      out.set(r.task_id, list);
    }
    return out;
  }

  /** A task's tries, newest first; null when the run has no such task or was never initialised. */
  async attempts(taskId: string): Promise<AttemptRecord[] | null> {
    await this.chain;
    if (!this.load()) return null;
    const ti = this.run!.tasks[taskId];
    if (!ti) return null;
    return attemptHistory(this.storedAttempts(taskId).get(taskId) ?? [], ti);
  }

  private load(): boolean {
    if (this.run) return true;
    const row = this.ctx.storage.sql.exec<{ meta: string; spec: string; state: string }>("SELECT meta, spec, state FROM run WHERE id = 1").toArray()[0];
    if (!row) return false;
    this.meta = JSON.parse(row.meta);
    this.spec = JSON.parse(row.spec);
    this.run = JSON.parse(row.state);
    return true;
  }

  private loaded(): { meta: Meta; spec: PipelineSpec; run: RunState } {
    if (!this.load()) throw new Error("this pipeline run was never initialised");
    return { meta: this.meta!, spec: this.spec!, run: this.run! };
  }

  private store(): PipelineStore {
    return new PipelineStore(createDb(this.env.DB));
  }

  /** Creates the run (idempotent: a second init returns the run as it is). */
  async init(init: RunInit): Promise<RunSnapshot> {
    if (!this.load()) {
      const { spec, ...meta } = init;
      const run = initialRunState(spec, { run_id: init.run_id, pipeline_id: init.pipeline_id, logical_date: init.logical_date });
      this.ctx.storage.sql.exec("INSERT INTO run (id, meta, spec, state) VALUES (1, ?, ?, ?)", JSON.stringify(meta), JSON.stringify(spec), JSON.stringify(run));
      this.meta = meta;
      this.spec = spec;
      this.run = run;
      await this.mirror(null, run);
      this.mirrored = run;
    }
    return this.snapshot();
  }

  /** The run as it is once the events received so far are applied and mirrored. */
  async snapshot(): Promise<RunSnapshot> {
    await this.chain;
    await this.flushMirror();
    const { meta, spec, run } = this.loaded();
    const stored = this.storedAttempts();
    return {
      run_id: meta.run_id,
      pipeline_id: meta.pipeline_id,
      version: meta.version,
      run_type: meta.run_type,
      state: run.state,
      logical_date: meta.logical_date,
      data_interval_start: meta.data_interval_start,
      data_interval_end: meta.data_interval_end,
      conf: meta.conf,
      started_at: run.started_at,
      ended_at: run.ended_at,
      tasks: Object.entries(run.tasks).map(([task_id, ti]) => ({
        task_id,
        kind: spec.tasks[task_id].kind,
        state: ti.state,
        try_number: ti.try_number,
        max_tries: ti.max_tries,
        queued_at: ti.queued_at,
        started_at: ti.started_at,
        ended_at: ti.ended_at,
        output: ti.output,
        error: ti.error,
        retry_at: ti.retry_at,
        agent_id: ti.agent_id,
        attempts: attemptHistory(stored.get(task_id) ?? [], ti),
      })),
    };
  }

  /** The snapshot, or null when this run's object was never initialised. */
  async find(): Promise<RunSnapshot | null> {
    return this.load() ? this.snapshot() : null;
  }

  async start(): Promise<RunSnapshot> {
    await this.apply({ type: "start" });
    return this.snapshot();
  }

  /** `requeue`: a finished run goes back to queued, to be started again when it gets a run slot. */
  async clear(taskIds: string[], downstream: boolean, requeue = false): Promise<RunSnapshot> {
    await this.apply({ type: "clear", task_ids: taskIds, downstream, requeue });
    return this.snapshot();
  }

  async mark(taskIds: string[], state: "success" | "failed"): Promise<RunSnapshot> {
    await this.apply({ type: "mark", task_ids: taskIds, state });
    return this.snapshot();
  }

  async cancel(): Promise<RunSnapshot> {
    await this.apply({ type: "cancel" });
    return this.snapshot();
  }

  override async alarm(): Promise<void> {
    if (!this.load()) return;
    await this.apply({ type: "tick" });
  }

  // ---- backups ------------------------------------------------------------------------------

  /** Everything this run stores, read in one pass once the events received so far are applied; null when never initialised. */
  async exportDump(): Promise<DurableObjectDump | null> {
    await this.chain;
    if (!this.load()) return null;
    return dumpTables(this.ctx.storage.sql, DUMP_TABLES, await this.ctx.storage.getAlarm());
  }

  /**
   * Restores a backup into this object, which must hold nothing yet; a dump that does not load as a run
   * is refused and leaves the object empty. Its alarm is set again, so a restored run carries on as after
   * a restart. An unfinished run re-mirrors its tasks to D1 (it may have moved on since the tables were
   * exported); a finished one no longer changes, so the exported mirror already agrees with it.
   */
  async importDump(dump: DurableObjectDump): Promise<{ ok: true } | { ok: false; code: "RESOURCE_ALREADY_EXISTS" | "INVALID_PARAMETER_VALUE"; message: string }> {
    const sql = this.ctx.storage.sql;
    if (this.load() || holdsRows(sql, DUMP_TABLES)) return { ok: false, code: "RESOURCE_ALREADY_EXISTS", message: "This pipeline run's object already holds a run" };
    try {
      this.ctx.storage.transactionSync(() => restoreTables(sql, DUMP_TABLES, dump));
      if (!this.load()) throw new DumpError("the dump holds no run");
      const { spec, run } = this.loaded();
      for (const id of Object.keys(run.tasks)) if (!spec.tasks[id]) throw new DumpError(`task '${id}' is not in the run's spec`);
    } catch (err) {
      this.meta = this.spec = this.run = null;
      sql.exec("DELETE FROM run");
      sql.exec("DELETE FROM attempts");
      sql.exec("DELETE FROM logs");
      return { ok: false, code: "INVALID_PARAMETER_VALUE", message: `Not a pipeline run dump: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (!FINISHED_RUN_STATES.includes(this.run!.state)) await this.mirror(null, this.run!);
    this.mirrored = this.run;
    if (typeof dump.alarm === "number") await this.ctx.storage.setAlarm(dump.alarm);
    return { ok: true };
  }

  // ---- agents ------------------------------------------------------------------------------

  /** Hands a queued agent attempt to an agent with a lease; null when it is no longer queued. */
  async claim(taskId: string, tryNumber: number, agentId: string, leaseMs: number): Promise<ClaimedTask | null> {
    const { meta, spec, run } = this.loaded();
    const ti = run.tasks[taskId];
    const task = spec.tasks[taskId];
    if (!ti || !task || task.kind !== "agent" || ti.state !== "queued" || ti.try_number !== tryNumber) return null;
    let command: string;
    let env: Record<string, string>;
    try {
      const ctx = this.templateContext(taskId, tryNumber);
      command = String(render(task.command, ctx));
      env = Object.fromEntries(Object.entries(render(task.env, ctx) as Record<string, unknown>).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      await this.apply({ type: "task_failed", task_id: taskId, try_number: tryNumber, error: `template: ${err.message}`, retryable: false });
      return null;
    }
    const lease = Date.now() + leaseMs;
    const r = await this.apply({ type: "task_started", task_id: taskId, try_number: tryNumber, lease_until: lease, agent_id: agentId });
    if (!r.applied) return null;
    return { run_id: meta.run_id, pipeline_id: meta.pipeline_id, task_id: taskId, try_number: tryNumber, command, env, lease_expires_at: lease };
  }

  /** Extends an attempt's lease; `keep_running: false` tells the agent to stop (cleared, timed out, cancelled). */
  async heartbeat(taskId: string, tryNumber: number, agentId: string, leaseMs: number): Promise<{ keep_running: boolean; state: string | null; lease_expires_at: number | null }> {
    const { run } = this.loaded();
    const ti = run.tasks[taskId];
    if (!ti || ti.try_number !== tryNumber || ti.state !== "running" || ti.agent_id !== agentId) return { keep_running: false, state: ti?.state ?? null, lease_expires_at: null };
    const lease = Date.now() + leaseMs;
    await this.apply({ type: "task_heartbeat", task_id: taskId, try_number: tryNumber, lease_until: lease });
    return { keep_running: true, state: "running", lease_expires_at: lease };
  }

  async complete(taskId: string, tryNumber: number, agentId: string, exitCode: number, output: unknown): Promise<{ accepted: boolean; state: string | null }> {
    const { run } = this.loaded();
    const ti = run.tasks[taskId];
    if (!ti || ti.agent_id !== agentId) return { accepted: false, state: ti?.state ?? null };
    const event: MachineEvent =
      exitCode === 0
        ? { type: "task_succeeded", task_id: taskId, try_number: tryNumber, output: output ?? null }
        : { type: "task_failed", task_id: taskId, try_number: tryNumber, error: `the command exited with status ${exitCode}` };
    const r = await this.apply(event);
    await this.flushLog(taskId, tryNumber, true);
    return { accepted: r.applied, state: this.run!.tasks[taskId].state };
  }

  /** Appends a chunk of an attempt's log; false when that attempt is unknown to the run. */
  async appendLog(taskId: string, tryNumber: number, text: string): Promise<boolean> {
    const { spec, run } = this.loaded();
    const ti = run.tasks[taskId];
    if (!ti || tryNumber < 1 || tryNumber > ti.try_number) return false;
    // Redacted before it is stored: tokens and the task's own secret env values never reach storage or R2.
    const task = spec.tasks[taskId];
    text = redactLogText(text, secretValues(task?.kind === "agent" ? task.env : undefined));
    const sql = this.ctx.storage.sql;
    const stats = sql.exec<{ n: number; size: number }>("SELECT count(*) AS n, coalesce(sum(length(text)), 0) AS size FROM logs WHERE task_id = ? AND try_number = ?", taskId, tryNumber).one();
    if (stats.size >= MAX_LOG_BYTES) return true;
    const room = MAX_LOG_BYTES - stats.size;
    const kept = text.length > room ? `${text.slice(0, room)}\n[log truncated at ${MAX_LOG_BYTES} bytes]\n` : text;
    sql.exec("INSERT INTO logs (task_id, try_number, seq, text) VALUES (?, ?, ?, ?)", taskId, tryNumber, stats.n, kept);
    await this.flushLog(taskId, tryNumber, false);
    return true;
  }

  /** An attempt's log as far as it has arrived, or null when this run holds none for it. */
  async readLog(taskId: string, tryNumber: number): Promise<string | null> {
    const rows = this.ctx.storage.sql.exec<{ text: string }>("SELECT text FROM logs WHERE task_id = ? AND try_number = ? ORDER BY seq", taskId, tryNumber).toArray();
    return rows.length ? rows.map((r) => r.text).join("") : null;
  }

  private async flushLog(taskId: string, tryNumber: number, force: boolean): Promise<void> {
    const key = logKey(this.meta!.run_id, taskId, tryNumber);
    const now = Date.now();
    if (!force && now - (this.lastFlush.get(key) ?? 0) < LOG_FLUSH_INTERVAL_MS) return;
    const text = await this.readLog(taskId, tryNumber);
    if (text === null) return;
    this.lastFlush.set(key, now);
    await this.env.BLOBS.put(key, text, { httpMetadata: { contentType: "text/plain; charset=utf-8" } });
  }

  // ---- the machine ---------------------------------------------------------------------------

  /** Applies events one at a time, in arrival order. */
  private apply(event: MachineEvent): Promise<StepResult> {
    const next = this.chain.then(() => this.applyNow(event));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async applyNow(event: MachineEvent): Promise<StepResult> {
    const { spec, run: before } = this.loaded();
    const now = Date.now();
    const r = step(spec, before, event, now);
    if (!r.applied) return r;
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      sql.exec("UPDATE run SET state = ? WHERE id = 1", JSON.stringify(r.state));
      for (const { task_id, record } of attemptChanges(before, r.state, now)) {
        sql.exec("INSERT INTO attempts (task_id, try_number, record) VALUES (?, ?, ?) ON CONFLICT (task_id, try_number) DO UPDATE SET record = excluded.record", task_id, record.try_number, JSON.stringify(record));
        sql.exec("DELETE FROM attempts WHERE task_id = ? AND try_number <= ?", task_id, record.try_number - MAX_ATTEMPTS_KEPT);
      }
    });
    // Only once stored: a failed write leaves the run as it was, in memory too.
    this.run = r.state;
    for (const action of r.actions) await this.perform(action);
    const finished = r.actions.some((a) => a.type === "run_finished");
    if (finished) {
      // Other runs may start once D1 shows this one finished.
      await this.flushMirror();
      await this.afterFinish(r.state);
    } else this.ctx.waitUntil(this.flushMirror().catch(() => undefined));
    return r;
  }

  /**
   * Brings the D1 mirror up to the current run. Writes are coalesced: while one is in flight, later
   * changes wait and go out together, so a burst of task completions costs one D1 batch, not one each.
   */
  private flushMirror(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.run || this.mirrored === this.run) return Promise.resolve();
    const flushing = (async () => {
      // Yield first, so `this.flushing` is set before the loop can finish.
      await null;
      try {
        while (this.run && this.mirrored !== this.run) {
          const target = this.run;
          await this.mirror(this.mirrored, target);
          this.mirrored = target;
        }
      } catch (err) {
        console.error(JSON.stringify({ event: "pipeline_run.mirror_failed", run_id: this.meta?.run_id, error: String(err) }));
      } finally {
        this.flushing = null;
      }
    })();
    this.flushing = flushing;
    return flushing;
  }

  private async perform(action: MachineAction): Promise<void> {
    switch (action.type) {
      case "set_alarm":
        await this.ctx.storage.setAlarm(action.at);
        break;
      case "delete_alarm":
        await this.ctx.storage.deleteAlarm();
        break;
      case "abort": {
        const key = `${action.task_id}#${action.try_number}`;
        this.inflight.get(key)?.abort(new Error(action.reason));
        this.inflight.delete(key);
        break;
      }
      case "execute":
        this.launch(action.task_id, action.try_number);
        break;
      case "enqueue":
      case "run_finished":
        // Enqueued attempts become claimable through the D1 mirror; the finish is handled after it.
        break;
    }
  }

  /** Starts an in-process attempt; its outcome comes back as an event after this one is committed. */
  private launch(taskId: string, tryNumber: number): void {
    const { meta, spec, run } = this.loaded();
    const task = spec.tasks[taskId];
    const ti = run.tasks[taskId];
    const controller = new AbortController();
    const ctx = {
      template: this.templateContext(taskId, tryNumber),
      startedAt: ti.started_at ?? Date.now(),
      runStartedAt: run.started_at ?? Date.now(),
      now: Date.now(),
      selfOrigins: meta.self_origins,
      secret: (name: string) => this.secret(name),
      signal: controller.signal,
    };
    const work = async (): Promise<AttemptOutcome> => {
      const sync = executeSync(task, ctx);
      if (sync) return sync;
      if (task.kind === "http") return executeHttp(task, ctx);
      if (isBuiltin(task)) {
        const { buildServices } = await import("../services");
        const outcome = await executeBuiltin(task, ctx, buildServices(this.env).pipelineTasks);
        // Recorded before the success is applied, so a finished task's links are never missing.
        if (outcome.type === "task_succeeded" && outcome.lineage?.length && !controller.signal.aborted) {
          const now = Date.now();
          await this.store().addLinks(outcome.lineage.map((l) => ({ runId: meta.run_id, taskId, nodeKind: l.kind, nodeKey: l.key, edge: l.edge, direction: l.direction, createdAt: now })));
        }
        return outcome;
      }
      return { type: "task_failed", error: `kind '${task.kind}' cannot run in-process`, retryable: false };
    };
    const key = `${taskId}#${tryNumber}`;
    this.inflight.set(key, controller);
    const done = work()
      .catch((err): AttemptOutcome => ({ type: "task_failed", error: `internal error: ${err instanceof Error ? err.message : String(err)}`, retryable: true }))
      .then((outcome) => {
        this.inflight.delete(key);
        if (controller.signal.aborted) return;
        const { lineage: _recorded, ...event } = outcome as AttemptOutcome & { lineage?: unknown };
        return this.apply({ ...event, task_id: taskId, try_number: tryNumber } as MachineEvent);
      })
      .catch((err) => console.error(JSON.stringify({ event: "pipeline_run.apply_failed", run_id: meta.run_id, task_id: taskId, error: String(err) })));
    this.ctx.waitUntil(done);
  }

  private secret(name: string): string | undefined {
    // The bootstrap admin token is never a pipeline secret.
    if (name === "TERN_ADMIN_TOKEN" || !/^[A-Z][A-Z0-9_]*$/.test(name)) return undefined;
    const value = (this.env as unknown as Record<string, unknown>)[name];
    return typeof value === "string" ? value : undefined;
  }

  private templateContext(taskId: string, tryNumber: number): TemplateContext {
    const { meta, spec, run } = this.loaded();
    const outputs: Record<string, unknown> = {};
    for (const [id, ti] of Object.entries(run.tasks)) if (ti.state === "success" && ti.output !== null) outputs[id] = ti.output;
    const iso = (t: number) => new Date(t).toISOString();
    return {
      params: { ...spec.params, ...meta.conf },
      conf: meta.conf,
      outputs,
      logical_date: iso(meta.logical_date),
      data_interval_start: iso(meta.data_interval_start),
      data_interval_end: iso(meta.data_interval_end),
      run_id: meta.run_id,
      pipeline_id: meta.pipeline_id,
      task_id: taskId,
      try_number: tryNumber,
    };
  }

  /** Writes what changed to D1: the run row and the task instances that differ from `before`. */
  private async mirror(before: RunState | null, after: RunState): Promise<void> {
    const { meta, spec } = this.loaded();
    const now = Date.now();
    const rows: TaskInstanceRow[] = [];
    for (const [id, ti] of Object.entries(after.tasks)) {
      const old = before?.tasks[id];
      if (old && old.state === ti.state && old.try_number === ti.try_number && old.started_at === ti.started_at && old.ended_at === ti.ended_at && old.error === ti.error) continue;
      const task = spec.tasks[id];
      rows.push({
        runId: meta.run_id,
        taskId: id,
        state: ti.state,
        tryNumber: ti.try_number,
        queue: task.kind === "agent" ? task.queue : null,
        queuedAt: ti.queued_at,
        startedAt: ti.started_at,
        endedAt: ti.ended_at,
        output: ti.output === null ? null : JSON.stringify(ti.output),
        error: ti.error,
        updatedAt: now,
      });
    }
    // D1 owns a run's queued state and its move to running (the slot claim); the object reports from its start on.
    const runChanged = after.state !== "queued" && (!before || before.state !== after.state || before.started_at !== after.started_at || before.ended_at !== after.ended_at);
    await this.store().mirror(meta.run_id, runChanged ? { state: after.state, startedAt: after.started_at, endedAt: after.ended_at } : null, rows);
  }

  /** A finished run frees a slot: start the pipeline's next queued run. */
  private async afterFinish(run: RunState): Promise<void> {
    const { buildServices } = await import("../services");
    const started = buildServices(this.env).pipelines.startQueuedRuns(run.pipeline_id);
    this.ctx.waitUntil(started.catch((err) => console.error(JSON.stringify({ event: "pipeline_run.start_next_failed", pipeline_id: run.pipeline_id, error: String(err) }))));
  }
}
