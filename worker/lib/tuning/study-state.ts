/**
 * One tuning study's state machine, with Optuna's ask-and-tell semantics: trial numbering (enqueued
 * WAITING trials are handed out first), define-by-run suggestions (a name keeps its first value; an
 * incompatible distribution for it is refused), reports with the pruner's verdict, tell (once; NaN or
 * infinite values make the trial FAIL), heartbeats with stale-trial failure and Optuna's
 * RetryFailedTrialCallback, best trial, state counts. Pure: the StudyObject Durable Object holds one of
 * these in memory, calls it serially, and persists what `dirty` says changed.
 */
import { type Distribution, type ParamValue, type StudyDirection, type TrialState, compatible, contains, distributionToJson } from "./distributions";
import { type ParamImportance, paramImportances } from "./importance";
import { paretoFront } from "./pareto";
import { type PrunerConfig, type PrunerState, type PrunerTrial, shouldPrune } from "./pruners";
import { Rng, type RngState } from "./random";
import { type JsonValue, type SamplerContext, type StudyTrial, createSampler } from "./sampler-registry";

export type StudyErrorCode = "INVALID_PARAMETER_VALUE" | "INVALID_STATE" | "RESOURCE_DOES_NOT_EXIST";

/** A refused operation; the caller maps the code onto its error vocabulary. Nothing was changed. */
export class StudyError extends Error {
  constructor(
    readonly code: StudyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "StudyError";
  }
}

export interface StudyConfig {
  studyId: string;
  name: string;
  directions: StudyDirection[];
  /** `{type, seed?, ...options}` as given (validated by createSampler). */
  sampler: Record<string, JsonValue>;
  pruner: PrunerConfig | null;
  /** Seconds. */
  heartbeatInterval: number | null;
  /** Seconds; Optuna's default is twice the heartbeat interval. */
  gracePeriod: number | null;
  failedTrialMaxRetry: number | null;
  experimentId: string | null;
  userAttrs: Record<string, JsonValue>;
  creationTime: number;
}

export interface TrialData {
  number: number;
  state: TrialState;
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  values: number[] | null;
  /** step → value; null stands for NaN. */
  intermediate: Record<number, number | null>;
  userAttrs: Record<string, JsonValue>;
  systemAttrs: Record<string, JsonValue>;
  constraints: number[] | null;
  startTime: number | null;
  completeTime: number | null;
  lastHeartbeatTime: number | null;
  runId: string | null;
}

export interface TrialJson {
  number: number;
  state: TrialState;
  params: Record<string, ParamValue>;
  distributions: Record<string, Record<string, unknown>>;
  values: number[] | null;
  intermediate_values: { step: number; value: number | null }[];
  user_attrs: Record<string, JsonValue>;
  constraints: number[] | null;
  start_time: number | null;
  complete_time: number | null;
  last_heartbeat_time: number | null;
  run_id: string | null;
}

export type StateCounts = Record<TrialState, number>;

export interface StudySummary {
  /** Grows with every change, so a mirror written out of order keeps only the newest summary. */
  revision: number;
  n_trials: number;
  state_counts: StateCounts;
  best_value: number | null;
  best_trial: TrialJson | null;
  last_update_time: number;
}

export interface TellInput {
  values?: (number | null)[] | null;
  state?: "COMPLETE" | "FAIL" | "PRUNED" | null;
  constraints?: number[] | null;
}

/** What changed since the last `takeDirty()`: the trials to rewrite and the reports to insert. */
export interface DirtyLog {
  trials: Set<number>;
  reports: { number: number; step: number; value: number | null }[];
}

const FIXED_PARAMS = "fixed_params";

function fixedParams(t: TrialData): Record<string, ParamValue> {
  const fixed = t.systemAttrs[FIXED_PARAMS];
  return fixed && typeof fixed === "object" && !Array.isArray(fixed) ? (fixed as Record<string, ParamValue>) : {};
}

/** An enqueued value is used when the distribution can hold it (Optuna warns and uses out-of-range numbers too). */
function usableFixed(d: Distribution, value: ParamValue): boolean {
  if (d.type === "categorical") return contains(d, value);
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (d.type === "int" && !Number.isInteger(value)) return false;
  return !d.log || value > 0;
}

export function trialToJson(t: TrialData): TrialJson {
  return {
    number: t.number,
    state: t.state,
    // A WAITING trial has no suggested params yet; show what was enqueued for it.
    params: t.state === "WAITING" ? { ...fixedParams(t) } : t.params,
    distributions: Object.fromEntries(Object.entries(t.distributions).map(([k, d]) => [k, distributionToJson(d)])),
    values: t.values,
    intermediate_values: Object.entries(t.intermediate)
      .map(([step, value]) => ({ step: Number(step), value }))
      .sort((a, b) => a.step - b.step),
    user_attrs: t.userAttrs,
    constraints: t.constraints,
    start_time: t.startTime,
    complete_time: t.completeTime,
    last_heartbeat_time: t.lastHeartbeatTime,
    run_id: t.runId,
  };
}

function lastReported(t: TrialData): number | null | undefined {
  let last: number | null = null;
  for (const step of Object.keys(t.intermediate)) if (last === null || Number(step) > last) last = Number(step);
  return last === null ? undefined : t.intermediate[last];
}

function toStudyTrial(t: TrialData): StudyTrial {
  return {
    number: t.number,
    state: t.state,
    value: t.values ? t.values[0] : null,
    values: t.values,
    params: t.params,
    distributions: t.distributions,
    intermediateValues: t.intermediate,
    constraints: t.constraints,
    systemAttrs: t.systemAttrs,
  };
}

function toPrunerTrial(t: TrialData): PrunerTrial {
  const intermediate: Record<string, number> = {};
  for (const [step, v] of Object.entries(t.intermediate)) intermediate[step] = v === null ? NaN : v;
  const attrs: Record<string, number> = {};
  for (const [k, v] of Object.entries(t.systemAttrs)) if (typeof v === "number") attrs[k] = v;
  return { number: t.number, state: t.state, intermediate, value: t.values ? t.values[0] : null, attrs };
}

export function emptyCounts(): StateCounts {
  return { RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0, WAITING: 0 };
}

export class StudyState {
  readonly dirty: DirtyLog = { trials: new Set(), reports: [] };

  constructor(
    readonly config: StudyConfig,
    readonly trials: TrialData[],
    public rngState: RngState,
    public prunerState: PrunerState,
    public revision: number,
    public lastUpdateTime: number,
  ) {}

  /** A fresh study; the sampler seed (or a random one) starts the persisted random stream. */
  static create(config: StudyConfig, randomSeed: number): StudyState {
    const seed = typeof config.sampler.seed === "number" ? config.sampler.seed : randomSeed;
    return new StudyState(config, [], Rng.seeded(seed).state(), {}, 0, config.creationTime);
  }

  takeDirty(): DirtyLog {
    const out = { trials: new Set(this.dirty.trials), reports: [...this.dirty.reports] };
    this.dirty.trials.clear();
    this.dirty.reports.length = 0;
    return out;
  }

  private touch(now: number, ...numbers: number[]): void {
    for (const n of numbers) this.dirty.trials.add(n);
    this.revision += 1;
    this.lastUpdateTime = Math.max(this.lastUpdateTime, now);
  }

  trial(number: number): TrialData {
    const t = Number.isSafeInteger(number) ? this.trials[number] : undefined;
    if (!t) throw new StudyError("RESOURCE_DOES_NOT_EXIST", `Trial ${number} does not exist in study '${this.config.name}'`);
    return t;
  }

  private runningTrial(number: number, action: string): TrialData {
    const t = this.trial(number);
    if (t.state !== "RUNNING") {
      throw new StudyError("INVALID_STATE", `Cannot ${action} trial ${number}: it is ${t.state}, and only a RUNNING trial can be changed this way`);
    }
    return t;
  }

  /**
   * The trials as samplers see them. The views are kept between calls (a study's history is mostly
   * unchanged from one ask to the next) and each is rebuilt whenever any field it copies no longer is
   * the trial's own, so a stale view is impossible whatever changed the trial.
   */
  sampleView(): StudyTrial[] {
    const views = this.views;
    views.length = Math.min(views.length, this.trials.length);
    for (let i = 0; i < this.trials.length; i++) {
      const t = this.trials[i];
      const v = views[i];
      if (
        v === undefined ||
        v.number !== t.number ||
        v.state !== t.state ||
        v.values !== t.values ||
        v.params !== t.params ||
        v.distributions !== t.distributions ||
        v.intermediateValues !== t.intermediate ||
        v.constraints !== t.constraints ||
        v.systemAttrs !== t.systemAttrs
      ) {
        views[i] = toStudyTrial(t);
      }
    }
    return views.slice();
  }

  private readonly views: StudyTrial[] = [];

  private samplerContext(trialNumber: number, rng: Rng): SamplerContext {
    return { trials: this.sampleView(), directions: this.config.directions, rng, trialNumber, studyName: this.config.name };
  }

  /** A new RUNNING trial: the oldest WAITING one if any, else a new number; `space` is sampled at once. */
  ask(space: Readonly<Record<string, Distribution>> | null, now: number): TrialData {
    const sampler = createSampler(this.config.sampler, this.config.directions);
    let t = this.trials.find((x) => x.state === "WAITING");
    const created = !t;
    if (!t) {
      t = blankTrial(this.trials.length, "RUNNING");
      this.trials.push(t);
    }
    t.state = "RUNNING";
    t.startTime = now;
    t.lastHeartbeatTime = this.config.heartbeatInterval !== null ? now : null;
    if (space && Object.keys(space).length) {
      const fixed = fixedParams(t);
      const rest: Record<string, Distribution> = {};
      for (const [name, d] of Object.entries(space)) {
        if (name in fixed && usableFixed(d, fixed[name])) {
          t.params[name] = fixed[name];
          t.distributions[name] = d;
        } else {
          rest[name] = d;
        }
      }
      if (Object.keys(rest).length) {
        const rng = Rng.fromState(this.rngState);
        try {
          const result = sampler.sampleSearchSpace(this.samplerContext(t.number, rng), rest);
          for (const name of Object.keys(rest)) {
            t.params[name] = result.params[name];
            t.distributions[name] = rest[name];
          }
          if (result.systemAttrs) Object.assign(t.systemAttrs, result.systemAttrs);
        } catch (err) {
          if (created) this.trials.pop();
          throw err;
        }
        this.rngState = rng.state();
      }
    }
    this.touch(now, t.number);
    return t;
  }

  /** Define-by-run: the value of `name` for a RUNNING trial (the same value again when asked twice). */
  suggest(number: number, name: string, d: Distribution, now: number): ParamValue {
    const t = this.runningTrial(number, "suggest a parameter for");
    if (name in t.params) {
      const previous = t.distributions[name];
      if (previous && !compatible(previous, d)) {
        throw new StudyError(
          "INVALID_PARAMETER_VALUE",
          `Parameter '${name}' of trial ${number} was suggested as ${JSON.stringify(distributionToJson(previous))}; ${JSON.stringify(distributionToJson(d))} is a different kind of distribution`,
        );
      }
      return t.params[name];
    }
    const fixed = fixedParams(t);
    let value: ParamValue;
    if (name in fixed && usableFixed(d, fixed[name])) {
      value = fixed[name];
    } else {
      const rng = Rng.fromState(this.rngState);
      const sampler = createSampler(this.config.sampler, this.config.directions);
      const result = sampler.sampleOne(this.samplerContext(number, rng), name, d);
      value = result.value;
      if (result.systemAttrs) Object.assign(t.systemAttrs, result.systemAttrs);
      this.rngState = rng.state();
    }
    t.params[name] = value;
    t.distributions[name] = d;
    this.touch(now, number);
    return value;
  }

  /** Record an intermediate value (a repeated step is ignored, as Optuna does) and ask the pruner. */
  report(number: number, step: number, value: number, now: number): boolean {
    if (this.config.directions.length > 1) {
      throw new StudyError("INVALID_PARAMETER_VALUE", "Reporting intermediate values is not supported for multi-objective studies");
    }
    if (!Number.isSafeInteger(step) || step < 0) throw new StudyError("INVALID_PARAMETER_VALUE", `step must be a non-negative integer, got ${step}`);
    const t = this.runningTrial(number, "report to");
    if (!(step in t.intermediate)) {
      const stored = Number.isNaN(value) ? null : value;
      t.intermediate[step] = stored;
      this.dirty.reports.push({ number, step, value: stored });
      this.touch(now, number);
    }
    if (!this.config.pruner) return false;
    const decision = shouldPrune(
      this.config.pruner,
      { name: this.config.name, direction: this.config.directions[0], trials: this.trials.map(toPrunerTrial) },
      toPrunerTrial(t),
      this.prunerState,
    );
    this.prunerState = decision.state;
    if (Object.keys(decision.trialAttrs).length) {
      Object.assign(t.systemAttrs, decision.trialAttrs);
      this.touch(now, number);
    }
    return decision.prune;
  }

  /** Finish a RUNNING trial, once. */
  tell(number: number, input: TellInput, now: number): TrialData {
    const t = this.trial(number);
    if (t.state !== "RUNNING") {
      throw new StudyError("INVALID_STATE", `Trial ${number} is already ${t.state}; a trial can be told only once, while it is RUNNING`);
    }
    const given = input.values ?? null;
    const state = input.state ?? (given ? "COMPLETE" : null);
    if (state === null) throw new StudyError("INVALID_PARAMETER_VALUE", "Give the objective value(s) in `values` (or `value`), or a `state` of FAIL or PRUNED");
    if (input.constraints) {
      if (input.constraints.some((c) => typeof c !== "number" || Number.isNaN(c))) {
        throw new StudyError("INVALID_PARAMETER_VALUE", "constraints must be numbers (not NaN)");
      }
    }
    let values: number[] | null = null;
    let finalState: TrialState = state;
    if (state === "COMPLETE") {
      if (!given) throw new StudyError("INVALID_PARAMETER_VALUE", "A COMPLETE trial needs its objective value(s)");
      const n = this.config.directions.length;
      if (given.length !== n) {
        throw new StudyError("INVALID_PARAMETER_VALUE", `The study has ${n} objective${n > 1 ? "s" : ""} but ${given.length} value${given.length === 1 ? " was" : "s were"} told`);
      }
      if (given.every((v): v is number => typeof v === "number" && Number.isFinite(v))) {
        values = given;
      } else {
        // Optuna: a NaN or infinite objective value makes the trial FAIL rather than COMPLETE.
        finalState = "FAIL";
        t.systemAttrs.fail_reason = `The objective value(s) ${JSON.stringify(given.map((v) => (v === null || Number.isNaN(v) ? "NaN" : String(v))))} are not all finite`;
      }
    } else if (given) {
      throw new StudyError("INVALID_PARAMETER_VALUE", `Values cannot be told for a ${state} trial`);
    } else if (state === "PRUNED" && this.config.directions.length === 1) {
      const last = lastReported(t);
      if (typeof last === "number" && Number.isFinite(last)) values = [last];
    }
    t.state = finalState;
    t.values = values;
    if (input.constraints) t.constraints = [...input.constraints];
    t.completeTime = now;
    this.touch(now, number);
    return t;
  }

  heartbeat(number: number, now: number): void {
    const t = this.runningTrial(number, "record a heartbeat of");
    t.lastHeartbeatTime = now;
    this.dirty.trials.add(number);
  }

  /** Optuna's enqueue_trial: a WAITING trial whose given params are used when it is asked for them. */
  enqueue(params: Record<string, ParamValue>, userAttrs: Record<string, JsonValue>, now: number, systemAttrs: Record<string, JsonValue> = {}): TrialData {
    const t = blankTrial(this.trials.length, "WAITING");
    t.systemAttrs = { ...systemAttrs, [FIXED_PARAMS]: { ...params } };
    t.userAttrs = { ...userAttrs };
    this.trials.push(t);
    this.touch(now, t.number);
    return t;
  }

  setTrialUserAttrs(number: number, attrs: Record<string, JsonValue>, now: number): TrialData {
    const t = this.trial(number);
    Object.assign(t.userAttrs, attrs);
    this.touch(now, number);
    return t;
  }

  setRunId(number: number, runId: string): void {
    this.trial(number).runId = runId;
    this.dirty.trials.add(number);
  }

  setStudyUserAttrs(attrs: Record<string, JsonValue>, now: number): void {
    Object.assign(this.config.userAttrs, attrs);
    this.touch(now);
  }

  private graceMs(): number | null {
    if (this.config.heartbeatInterval === null) return null;
    return (this.config.gracePeriod ?? 2 * this.config.heartbeatInterval) * 1000;
  }

  /**
   * Fail RUNNING trials whose last heartbeat is older than the grace period; with failed_trial_max_retry,
   * enqueue a copy of each (Optuna's RetryFailedTrialCallback). Returns the failed trial numbers.
   */
  failStale(now: number): number[] {
    const grace = this.graceMs();
    if (grace === null) return [];
    const failed: number[] = [];
    for (const t of [...this.trials]) {
      if (t.state !== "RUNNING" || t.lastHeartbeatTime === null || now - t.lastHeartbeatTime <= grace) continue;
      t.state = "FAIL";
      t.completeTime = now;
      t.systemAttrs.fail_reason = `No heartbeat for more than ${grace / 1000} s`;
      this.touch(now, t.number);
      failed.push(t.number);
      const max = this.config.failedTrialMaxRetry;
      if (max === null) continue;
      const history = Array.isArray(t.systemAttrs.retry_history) ? (t.systemAttrs.retry_history as number[]) : [];
      if (history.length >= max) continue;
      const original = typeof t.systemAttrs.failed_trial === "number" ? t.systemAttrs.failed_trial : t.number;
      this.enqueue({ ...fixedParams(t), ...t.params }, t.userAttrs, now, { failed_trial: original, retry_history: [...history, t.number] });
    }
    return failed;
  }

  /** When the next heartbeat check is due, or null when no RUNNING trial is watched. */
  nextStaleCheck(): number | null {
    const grace = this.graceMs();
    if (grace === null) return null;
    let oldest: number | null = null;
    for (const t of this.trials) {
      if (t.state === "RUNNING" && t.lastHeartbeatTime !== null && (oldest === null || t.lastHeartbeatTime < oldest)) oldest = t.lastHeartbeatTime;
    }
    return oldest === null ? null : oldest + grace + 1;
  }

  counts(): StateCounts {
    const c = emptyCounts();
    for (const t of this.trials) c[t.state] += 1;
    return c;
  }

  /** The best COMPLETE trial of a single-objective study (the earliest among equals); null otherwise. */
  bestTrial(): TrialData | null {
    if (this.config.directions.length !== 1) return null;
    const max = this.config.directions[0] === "maximize";
    let best: TrialData | null = null;
    for (const t of this.trials) {
      if (t.state !== "COMPLETE" || !t.values) continue;
      if (!best || (max ? t.values[0] > (best.values as number[])[0] : t.values[0] < (best.values as number[])[0])) best = t;
    }
    return best;
  }

  /** The best trial, or for several objectives the Pareto front of the COMPLETE trials. */
  bestTrials(): TrialData[] {
    if (this.config.directions.length === 1) {
      const best = this.bestTrial();
      return best ? [best] : [];
    }
    const complete = this.trials.filter((t) => t.state === "COMPLETE" && t.values);
    const front = paretoFront(
      complete.map((t) => ({ values: t.values as number[], constraints: t.constraints })),
      this.config.directions,
    );
    return front.map((i) => complete[i]);
  }

  /** fANOVA importances of the parameters for one objective, over the COMPLETE trials. */
  importances(objective: number): ParamImportance[] {
    if (!Number.isSafeInteger(objective) || objective < 0 || objective >= this.config.directions.length) {
      throw new StudyError("INVALID_PARAMETER_VALUE", `objective must be between 0 and ${this.config.directions.length - 1}, got ${objective}`);
    }
    return paramImportances(this.trials.map(toStudyTrial), { objective });
  }

  summary(): StudySummary {
    const best = this.bestTrial();
    return {
      revision: this.revision,
      n_trials: this.trials.length,
      state_counts: this.counts(),
      best_value: best ? (best.values as number[])[0] : null,
      best_trial: best ? trialToJson(best) : null,
      last_update_time: this.lastUpdateTime,
    };
  }
}

export function blankTrial(number: number, state: TrialState): TrialData {
  return {
    number,
    state,
    params: {},
    distributions: {},
    values: null,
    intermediate: {},
    userAttrs: {},
    systemAttrs: {},
    constraints: null,
    startTime: null,
    completeTime: null,
    lastHeartbeatTime: null,
    runId: null,
  };
}

