/**
 * StudyObject: one Durable Object per tuning study. It owns the study's trials in its SQLite storage
 * (trials with params, distributions and attrs; intermediate values; the persisted random stream and
 * pruner state) and runs every ask, suggest, report and tell one at a time, so concurrent workers never
 * share a trial number or lose a tell. The rules live in lib/tuning/study-state; this class loads that
 * state once, calls it, and writes back what it says changed, in one transaction per call. Its alarm
 * fails trials whose heartbeat went stale (and enqueues their retries).
 *
 * The D1 summary row and the tracking runs of trials failed by heartbeat are brought up to date after
 * the reply, off the request path: one flush at a time, and at most one every quarter of a second, so
 * that the asks and tells of a busy study share D1 writes. Reading the study (getInfo) skips that wait
 * and waits for the flush, so a client that reads its study sees D1 agree. Runs
 * still to be ended are kept in storage until they are, and every wake-up flushes once, so nothing
 * depends on memory surviving an eviction. A write is not acknowledged before an alarm stands by to
 * flush it, so a runtime that dies before its flush leaves D1 behind only until that alarm fires.
 */
import { type Distribution, DistributionError, type ParamValue } from "../lib/tuning/distributions";
import type { PrunerState } from "../lib/tuning/pruners";
import type { RngState } from "../lib/tuning/random";
import { type JsonValue, SamplerConfigError } from "../lib/tuning/sampler-registry";
import {
  type StudyConfig,
  type StudySummary,
  type TellInput,
  type TrialData,
  type TrialJson,
  StudyError,
  type StudyErrorCode,
  StudyState,
  trialToJson,
} from "../lib/tuning/study-state";
import type { TrialState } from "../lib/tuning/distributions";
import { createDb } from "../db/client";
import { ApiError } from "../http/errors";
import { TernDurableObject } from "../system/durable-object";
import { DumpError, dumpTables, holdsRows, restoreTables, type DurableObjectDump } from "../system/do-dump";
import { RunLogger } from "../tracking/run-logger";
import { TrackingService } from "../tracking/service";
import { TrackingStore } from "../tracking/store";
import { StudyStore } from "./store";
import { endTrialRun } from "./trial-runs";

export type StudyResult<T> = { ok: true; value: T } | { ok: false; error: { code: StudyErrorCode; message: string } };

export interface StudyInfo {
  config: StudyConfig;
  summary: StudySummary;
}

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  `CREATE TABLE IF NOT EXISTS trials (
     number INTEGER PRIMARY KEY, state TEXT NOT NULL, params TEXT NOT NULL, distributions TEXT NOT NULL,
     objective_values TEXT, user_attrs TEXT NOT NULL, system_attrs TEXT NOT NULL, constraints TEXT,
     start_time INTEGER, complete_time INTEGER, last_heartbeat_time INTEGER, run_id TEXT)`,
  "CREATE TABLE IF NOT EXISTS intermediate_values (number INTEGER NOT NULL, step INTEGER NOT NULL, value REAL, PRIMARY KEY (number, step))",
];

interface TrialRow extends Record<string, SqlStorageValue> {
  number: number;
  state: string;
  params: string;
  distributions: string;
  objective_values: string | null;
  user_attrs: string;
  system_attrs: string;
  constraints: string | null;
  start_time: number | null;
  complete_time: number | null;
  last_heartbeat_time: number | null;
  run_id: string | null;
}

/** The tables a backup carries: all of the study's storage. */
const DUMP_TABLES = ["meta", "trials", "intermediate_values"] as const;

const parseOrNull = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

const PENDING_RUN_ENDS = "pending_run_ends";
/** How soon the alarm checks that D1 caught up with a change (the flush after the reply normally has). */
const MIRROR_CHECK_MS = 5_000;
/**
 * The least time between two D1 mirrors of a study, so that a burst of asks and tells costs one D1 write
 * rather than one per call. Reading the study (and the alarm) skips the wait.
 */
const MIRROR_DELAY_MS = 250;

export class StudyObject extends TernDurableObject {
  private study: StudyState | null = null;
  /** Trial numbers whose tracking run must still be ended (their trial failed by heartbeat). */
  private pendingRunEnds: number[] = [];
  /** The revision D1 is known to hold; -1 after a wake-up, so the first flush writes it again. */
  private mirroredRevision = -1;
  private flushing: Promise<void> | null = null;
  /** Ends the wait of a flush that is holding back to coalesce changes; null when none waits. */
  private hurry: (() => void) | null = null;
  /** When the summary was last written to D1 (0: not since this wake-up). */
  private lastMirrorAt = 0;
  /** Set while a flush must not wait (someone reads the study, or the alarm fired). */
  private urgent = false;
  /** The stored text of each meta key, so an operation writes only the keys it changed. */
  private storedMeta = new Map<string, string>();
  /** The stale-check alarm this object last saw or set; undefined until read after a wake-up. */
  private alarmAt: number | null | undefined = undefined;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.study = this.load();
      if (this.study) this.scheduleFlush();
    });
  }

  private load(): StudyState | null {
    const sql = this.ctx.storage.sql;
    const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
    if (!exists) return null;
    const rows = sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray();
    this.storedMeta = new Map(rows.map((r) => [r.key, r.value]));
    const meta = new Map(rows.map((r) => [r.key, JSON.parse(r.value)]));
    if (!meta.has("config")) return null;
    this.pendingRunEnds = (meta.get(PENDING_RUN_ENDS) ?? []) as number[];
    const trials: TrialData[] = sql
      .exec<TrialRow>("SELECT * FROM trials ORDER BY number")
      .toArray()
      .map((r) => ({
        number: r.number,
        state: r.state as TrialState,
        params: JSON.parse(r.params),
        distributions: JSON.parse(r.distributions),
        values: parseOrNull<number[]>(r.objective_values),
        intermediate: {},
        userAttrs: JSON.parse(r.user_attrs),
        systemAttrs: JSON.parse(r.system_attrs),
        constraints: parseOrNull<number[]>(r.constraints),
        startTime: r.start_time,
        completeTime: r.complete_time,
        lastHeartbeatTime: r.last_heartbeat_time,
        runId: r.run_id,
      }));
    for (const r of sql.exec<{ number: number; step: number; value: number | null }>("SELECT number, step, value FROM intermediate_values")) {
      const t = trials[r.number];
      if (t) t.intermediate[r.step] = r.value;
    }
    return new StudyState(
      meta.get("config") as StudyConfig,
      trials,
      meta.get("rng") as RngState,
      (meta.get("pruner_state") ?? {}) as PrunerState,
      Number(meta.get("revision") ?? 0),
      Number(meta.get("last_update_time") ?? 0),
    );
  }

  /** Write back what the last operation changed, atomically. */
  private persist(study: StudyState): void {
    const dirty = study.takeDirty();
    const sql = this.ctx.storage.sql;
    const written: [string, string][] = [];
    this.ctx.storage.transactionSync(() => {
      const meta: [string, unknown][] = [
        ["config", study.config],
        ["rng", study.rngState],
        ["pruner_state", study.prunerState],
        ["revision", study.revision],
        ["last_update_time", study.lastUpdateTime],
        [PENDING_RUN_ENDS, this.pendingRunEnds],
      ];
      // Most operations change the revision, the time and the sampler's generator, not the config.
      for (const [key, value] of meta) {
        const text = JSON.stringify(value);
        if (this.storedMeta.get(key) === text) continue;
        sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, text);
        written.push([key, text]);
      }
      for (const n of dirty.trials) {
        const t = study.trials[n];
        sql.exec(
          `INSERT OR REPLACE INTO trials (number, state, params, distributions, objective_values, user_attrs, system_attrs,
             constraints, start_time, complete_time, last_heartbeat_time, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          t.number,
          t.state,
          JSON.stringify(t.params),
          JSON.stringify(t.distributions),
          t.values === null ? null : JSON.stringify(t.values),
          JSON.stringify(t.userAttrs),
          JSON.stringify(t.systemAttrs),
          t.constraints === null ? null : JSON.stringify(t.constraints),
          t.startTime,
          t.completeTime,
          t.lastHeartbeatTime,
          t.runId,
        );
      }
      for (const r of dirty.reports) {
        sql.exec("INSERT OR IGNORE INTO intermediate_values (number, step, value) VALUES (?, ?, ?)", r.number, r.step, r.value);
      }
    });
    // Only once the transaction has committed does the cache say what storage holds.
    for (const [key, text] of written) this.storedMeta.set(key, text);
  }

  /**
   * Runs one operation on the loaded study. Study rules answer with a StudyError, and the in-memory
   * state is reloaded from storage after any failure so a half-applied change is never kept.
   */
  private run<T>(op: (study: StudyState) => T, write = true): StudyResult<T> {
    const study = this.study;
    if (!study) return { ok: false, error: { code: "RESOURCE_DOES_NOT_EXIST", message: "The study does not exist" } };
    try {
      const value = op(study);
      if (write) {
        this.persist(study);
        this.scheduleFlush();
      }
      return { ok: true, value };
    } catch (err) {
      this.study = this.load();
      if (err instanceof StudyError) return { ok: false, error: { code: err.code, message: err.message } };
      // A sampler refusing what it was asked for (a parameter outside a grid, a value outside a distribution).
      if (err instanceof SamplerConfigError || err instanceof DistributionError) {
        return { ok: false, error: { code: "INVALID_PARAMETER_VALUE", message: err.message } };
      }
      throw err;
    }
  }

  /**
   * A writing operation. Its reply waits until an alarm stands ready to mirror the change into D1, so
   * that a runtime dying between the reply and the flush (which runs after it) cannot leave D1's summary
   * behind an acknowledged change until someone happens to touch the study again.
   */
  private async write<T>(op: (study: StudyState) => T): Promise<StudyResult<T>> {
    const result = this.run(op);
    if (result.ok) await this.keepMirrorAlarm();
    return result;
  }

  /** While D1 may lag behind what is stored, an alarm is due within MIRROR_CHECK_MS. */
  private async keepMirrorAlarm(): Promise<void> {
    if (!this.study || this.study.revision === this.mirroredRevision) return;
    const due = Date.now() + MIRROR_CHECK_MS;
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= due) return;
    await this.ctx.storage.setAlarm(due);
    this.alarmAt = due;
  }

  /** Fails stale trials; those with a tracking run are queued to have it ended as FAILED. */
  private failStale(study: StudyState, now: number): number[] {
    const failed = study.failStale(now);
    for (const n of failed) if (study.trials[n].runId !== null) this.pendingRunEnds.push(n);
    return failed;
  }

  private scheduleFlush(): void {
    this.ctx.waitUntil(this.flush());
  }

  /**
   * Brings D1 up to the study's revision and ends queued tracking runs. While one flush runs, callers
   * share it, and it loops until nothing is left. A flush that follows the previous one within
   * MIRROR_DELAY_MS first waits out the rest of it, so the calls of a busy study are mirrored together;
   * an `urgent` caller (a read of the study, the alarm) cuts such a wait short.
   */
  private flush(urgent = false): Promise<void> {
    if (this.flushing) {
      if (urgent) {
        this.urgent = true;
        this.hurry?.();
      }
      return this.flushing;
    }
    const study = this.study;
    if (!study || (study.revision === this.mirroredRevision && this.pendingRunEnds.length === 0)) return Promise.resolve();
    this.urgent = urgent;
    const flushing = (async () => {
      // Yield first, so `this.flushing` is set before the loop can finish.
      await null;
      try {
        for (;;) {
          const current = this.study;
          if (!current || (current.revision === this.mirroredRevision && this.pendingRunEnds.length === 0)) break;
          if (current.revision !== this.mirroredRevision) {
            // An idle study is mirrored at once; a busy one at most every MIRROR_DELAY_MS.
            const wait = this.lastMirrorAt + MIRROR_DELAY_MS - Date.now();
            if (!this.urgent && wait > 0) await this.coalesce(wait);
            if (this.study !== current) continue; // destroyed or reloaded meanwhile
            this.lastMirrorAt = Date.now();
            const revision = current.revision;
            await new StudyStore(createDb(this.env.DB)).mirrorSummary(current.config.studyId, this.info(current));
            this.mirroredRevision = revision;
          }
          if (this.pendingRunEnds.length) await this.endPendingRuns(current);
        }
      } catch (err) {
        console.error(JSON.stringify({ event: "study.flush_failed", study_id: study.config.studyId, error: String(err) }));
      } finally {
        this.flushing = null;
        this.urgent = false;
      }
    })();
    this.flushing = flushing;
    return flushing;
  }

  /** Waits `ms`, or until an urgent flush asks for the change. */
  private coalesce(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.hurry = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.hurry = done;
    });
  }

  /** Ends the tracking run of each queued trial, then drops it from the stored queue. */
  private async endPendingRuns(study: StudyState): Promise<void> {
    const db = createDb(this.env.DB);
    const tracking = new TrackingService(new TrackingStore(db));
    const runLogger = new RunLogger(tracking, db);
    for (const n of [...this.pendingRunEnds]) {
      const t = study.trials[n];
      try {
        if (t) await endTrialRun(tracking, runLogger, trialToJson(t), study.config.directions.length, Date.now());
      } catch (err) {
        // A run deleted or already ended by hand is left as it is; anything else is retried next flush.
        if (!(err instanceof ApiError && (err.code === "RESOURCE_DOES_NOT_EXIST" || err.code === "INVALID_STATE"))) throw err;
      }
      if (this.study !== study) return; // destroyed (or reloaded) meanwhile
      this.pendingRunEnds = this.pendingRunEnds.filter((x) => x !== n);
      const text = JSON.stringify(this.pendingRunEnds);
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", PENDING_RUN_ENDS, text);
      this.storedMeta.set(PENDING_RUN_ENDS, text);
    }
  }

  private async scheduleStaleCheck(): Promise<void> {
    const due = this.study?.nextStaleCheck() ?? null;
    if (due === null) return;
    // The alarm time is read once per wake-up and then tracked here: an ask or heartbeat whose check is
    // not earlier than the alarm already set makes no storage call at all.
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > due) {
      await this.ctx.storage.setAlarm(due);
      this.alarmAt = due;
    }
  }

  private info(study: StudyState): StudyInfo {
    return { config: study.config, summary: study.summary() };
  }

  /** Creates the study; false when this object already holds one. */
  async init(config: StudyConfig, randomSeed: number): Promise<boolean> {
    if (this.study) return false;
    const sql = this.ctx.storage.sql;
    for (const statement of SCHEMA) sql.exec(statement);
    const study = StudyState.create(config, randomSeed);
    this.persist(study);
    this.study = study;
    return true;
  }

  async getInfo(): Promise<StudyResult<StudyInfo>> {
    await this.flush(true);
    return this.run((s) => this.info(s), false);
  }

  async setStudyUserAttrs(attrs: Record<string, JsonValue>): Promise<StudyResult<StudyInfo>> {
    return this.write((s) => {
      s.setStudyUserAttrs(attrs, Date.now());
      return this.info(s);
    });
  }

  async ask(space: Record<string, Distribution> | null): Promise<StudyResult<{ trial: TrialJson; info: StudyInfo }>> {
    const result = await this.write((s) => {
      const now = Date.now();
      this.failStale(s, now);
      const t = s.ask(space, now);
      return { trial: trialToJson(t), info: this.info(s) };
    });
    if (result.ok) await this.scheduleStaleCheck();
    return result;
  }

  async suggest(number: number, name: string, distribution: Distribution): Promise<StudyResult<ParamValue>> {
    return this.write((s) => s.suggest(number, name, distribution, Date.now()));
  }

  async report(number: number, step: number, value: number): Promise<StudyResult<boolean>> {
    return this.write((s) => s.report(number, step, value, Date.now()));
  }

  async tell(number: number, input: TellInput): Promise<StudyResult<{ trial: TrialJson; info: StudyInfo }>> {
    return this.write((s) => ({ trial: trialToJson(s.tell(number, input, Date.now())), info: this.info(s) }));
  }

  async heartbeat(number: number): Promise<StudyResult<null>> {
    const result = await this.write((s) => {
      s.heartbeat(number, Date.now());
      return null;
    });
    if (result.ok) await this.scheduleStaleCheck();
    return result;
  }

  async enqueue(params: Record<string, ParamValue>, userAttrs: Record<string, JsonValue>): Promise<StudyResult<{ trial: TrialJson; info: StudyInfo }>> {
    return this.write((s) => ({ trial: trialToJson(s.enqueue(params, userAttrs, Date.now())), info: this.info(s) }));
  }

  async setTrialUserAttrs(number: number, attrs: Record<string, JsonValue>): Promise<StudyResult<TrialJson>> {
    return this.write((s) => trialToJson(s.setTrialUserAttrs(number, attrs, Date.now())));
  }

  async setRunId(number: number, runId: string): Promise<StudyResult<TrialJson>> {
    return this.write((s) => {
      s.setRunId(number, runId);
      return trialToJson(s.trial(number));
    });
  }

  async getTrial(number: number): Promise<StudyResult<TrialJson>> {
    return this.run((s) => trialToJson(s.trial(number)), false);
  }

  /** Trials in number order, optionally only some states, from `offset`. */
  async listTrials(states: TrialState[] | null, offset: number, limit: number): Promise<StudyResult<{ trials: TrialJson[]; more: boolean }>> {
    return this.run((s) => {
      const matching = states ? s.trials.filter((t) => states.includes(t.state)) : s.trials;
      return { trials: matching.slice(offset, offset + limit).map(trialToJson), more: matching.length > offset + limit };
    }, false);
  }

  async bestTrials(): Promise<StudyResult<TrialJson[]>> {
    return this.run((s) => s.bestTrials().map(trialToJson), false);
  }

  async importances(objective: number): Promise<StudyResult<{ name: string; importance: number }[]>> {
    return this.run((s) => s.importances(objective), false);
  }

  /** Everything this study stores, read in one pass (a backup); null when it holds no study. */
  async exportDump(): Promise<DurableObjectDump | null> {
    if (!this.study) return null;
    return dumpTables(this.ctx.storage.sql, DUMP_TABLES, await this.ctx.storage.getAlarm());
  }

  /**
   * Restores a backup into this object, which must hold nothing yet. A dump that does not load as a
   * study is refused and leaves the object empty. The D1 summary and the stale-trial alarm follow.
   */
  async importDump(dump: DurableObjectDump): Promise<{ ok: true } | { ok: false; code: "RESOURCE_ALREADY_EXISTS" | "INVALID_PARAMETER_VALUE"; message: string }> {
    const sql = this.ctx.storage.sql;
    if (this.study || holdsRows(sql, DUMP_TABLES)) return { ok: false, code: "RESOURCE_ALREADY_EXISTS", message: "This study's object already holds a study" };
    try {
      this.ctx.storage.transactionSync(() => {
        for (const statement of SCHEMA) sql.exec(statement);
        restoreTables(sql, DUMP_TABLES, dump);
      });
      this.study = this.load();
      if (!this.study) throw new DumpError("the dump holds no study config");
    } catch (err) {
      await this.destroy();
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, code: "INVALID_PARAMETER_VALUE", message: `Not a study dump: ${message}` };
    }
    this.mirroredRevision = -1;
    this.scheduleFlush();
    await this.scheduleStaleCheck();
    return { ok: true };
  }

  /** Removes everything this object stored. */
  async destroy(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.study = null;
    this.pendingRunEnds = [];
    this.storedMeta.clear();
    this.alarmAt = null;
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null; // a fired alarm is gone
    this.run((s) => this.failStale(s, Date.now()));
    await this.flush(true);
    await this.scheduleStaleCheck();
    // A flush that failed is tried again.
    await this.keepMirrorAlarm();
  }
}
