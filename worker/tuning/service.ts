/**
 * Tuning studies as a service: validates what a client sends (sampler, pruner and distribution configs
 * through the tuning lib's own parsers), forwards each operation to the study's Durable Object (which
 * mirrors its summary into D1 itself, off the request path), and keeps the optional tracking run of every
 * trial in step (params on ask, objective values and the final status on tell).
 */
import { ApiError, alreadyExists, invalid, notFound } from "../http/errors";
import { parseOffsetToken, offsetToken, parseSearch } from "../http/paging";
import { parseExperimentFilter } from "../lib/mlflow-search";
import { type Distribution, DistributionError, type ParamValue, type StudyDirection, type TrialState, parseDistribution } from "../lib/tuning/distributions";
import { PrunerConfigError, parsePrunerConfig } from "../lib/tuning/pruners";
import { type JsonValue, SamplerConfigError, createSampler } from "../lib/tuning/sampler-registry";
import type { StudyConfig, StudySummary, TellInput, TrialJson } from "../lib/tuning/study-state";
import type { RunLogger } from "../tracking/run-logger";
import type { TrackingService } from "../tracking/service";
import type { StudyInfo, StudyObject, StudyResult } from "./study-object";
import { type StudyRow, type StudyStore, UnsupportedStudyFilter } from "./store";
import { endTrialRun, runParams } from "./trial-runs";

export interface StudyJson {
  study_id: string;
  name: string;
  directions: StudyDirection[];
  sampler: Record<string, JsonValue>;
  pruner: Record<string, unknown> | null;
  heartbeat_interval: number | null;
  grace_period: number | null;
  failed_trial_max_retry: number | null;
  experiment_id: string | null;
  user_attrs: Record<string, JsonValue>;
  creation_time: number;
  last_update_time: number;
  n_trials: number;
  state_counts: StudySummary["state_counts"];
  best_trial: TrialJson | null;
}

export interface CreateStudyInput {
  name: string;
  directions?: StudyDirection[];
  sampler?: Record<string, unknown>;
  pruner?: unknown;
  heartbeat_interval?: number | null;
  grace_period?: number | null;
  failed_trial_max_retry?: number | null;
  experiment_id?: string | null;
  user_attrs?: Record<string, JsonValue>;
  load_if_exists?: boolean;
}

/** A told value: a number, or NaN/±inf spelled as JSON can carry them (null or a string). */
export type WireNumber = number | null | string;

type StudyRpc = Pick<
  StudyObject,
  "init" | "getInfo" | "setStudyUserAttrs" | "ask" | "suggest" | "report" | "tell" | "heartbeat" | "enqueue" | "setTrialUserAttrs" | "setRunId" | "getTrial" | "listTrials" | "bestTrials" | "importances" | "destroy"
>;

export function wireNumber(v: WireNumber, field: string): number {
  if (typeof v === "number") return v;
  if (v === null) return NaN;
  const s = v.trim().toLowerCase();
  if (s === "nan") return NaN;
  if (s === "inf" || s === "+inf" || s === "infinity" || s === "+infinity") return Infinity;
  if (s === "-inf" || s === "-infinity") return -Infinity;
  throw invalid(`${field}: '${v}' is not a number (use a number, null or "NaN" for NaN, "inf" or "-inf")`);
}

function studyJson(config: StudyConfig, summary: StudySummary): StudyJson {
  return {
    study_id: config.studyId,
    name: config.name,
    directions: config.directions,
    sampler: config.sampler,
    pruner: config.pruner as Record<string, unknown> | null,
    heartbeat_interval: config.heartbeatInterval,
    grace_period: config.gracePeriod,
    failed_trial_max_retry: config.failedTrialMaxRetry,
    experiment_id: config.experimentId,
    user_attrs: config.userAttrs,
    creation_time: config.creationTime,
    last_update_time: summary.last_update_time,
    n_trials: summary.n_trials,
    state_counts: summary.state_counts,
    best_trial: summary.best_trial,
  };
}

function rowJson(row: StudyRow): StudyJson {
  const settings = JSON.parse(row.settings);
  return {
    study_id: row.studyId,
    name: row.name,
    directions: JSON.parse(row.directions),
    sampler: settings.sampler,
    pruner: settings.pruner,
    heartbeat_interval: settings.heartbeat_interval,
    grace_period: settings.grace_period,
    failed_trial_max_retry: settings.failed_trial_max_retry,
    experiment_id: row.experimentId,
    user_attrs: JSON.parse(row.userAttrs),
    creation_time: row.creationTime,
    last_update_time: row.lastUpdateTime,
    n_trials: row.nTrials,
    state_counts: { RUNNING: row.nRunning, COMPLETE: row.nComplete, PRUNED: row.nPruned, FAIL: row.nFail, WAITING: row.nWaiting },
    best_trial: row.bestTrial ? JSON.parse(row.bestTrial) : null,
  };
}

function unwrap<T>(result: StudyResult<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.error.code, result.error.message);
}

function parseDistributionField(json: unknown, field: string): Distribution {
  try {
    return parseDistribution(json).distribution;
  } catch (err) {
    if (err instanceof DistributionError) throw invalid(`${field}: ${err.message}`);
    throw err;
  }
}

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

export class TuningService {
  constructor(
    private readonly namespace: DurableObjectNamespace<StudyObject>,
    private readonly store: StudyStore,
    private readonly tracking: TrackingService,
    private readonly runLogger: RunLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The study's object. Its RPC methods return plain data; typing the stub as the class itself keeps
   * TypeScript from expanding the recursive JSON types through the RPC wrapper types.
   */
  private stub(studyId: string): StudyRpc {
    return this.namespace.get(this.namespace.idFromName(studyId)) as unknown as StudyRpc;
  }

  /** Validates everything before anything is written, so a refused create leaves no trace. */
  private configFrom(input: CreateStudyInput, studyId: string): StudyConfig {
    const directions = input.directions ?? ["minimize"];
    if (directions.length === 0) throw invalid("directions: give at least one direction");
    const sampler = (input.sampler ?? { type: "tpe" }) as Record<string, JsonValue>;
    try {
      createSampler(sampler, directions);
    } catch (err) {
      if (err instanceof SamplerConfigError) throw invalid(`sampler: ${err.message}`);
      throw err;
    }
    let pruner: StudyConfig["pruner"] = null;
    if (input.pruner !== undefined && input.pruner !== null) {
      try {
        pruner = parsePrunerConfig(input.pruner);
      } catch (err) {
        if (err instanceof PrunerConfigError) throw invalid(err.message.startsWith("pruner") ? err.message : `pruner: ${err.message}`);
        throw err;
      }
      if (directions.length > 1) throw invalid("pruner: pruning is not supported for multi-objective studies");
    }
    const heartbeat = input.heartbeat_interval ?? null;
    const grace = input.grace_period ?? null;
    const retry = input.failed_trial_max_retry ?? null;
    if (heartbeat === null && grace !== null) throw invalid("grace_period: needs heartbeat_interval");
    if (heartbeat === null && retry !== null) throw invalid("failed_trial_max_retry: retries follow heartbeat failures, so it needs heartbeat_interval");
    return {
      studyId,
      name: input.name,
      directions,
      sampler,
      pruner,
      heartbeatInterval: heartbeat,
      gracePeriod: grace,
      failedTrialMaxRetry: retry,
      experimentId: input.experiment_id ?? null,
      userAttrs: input.user_attrs ?? {},
      creationTime: this.now(),
    };
  }

  async createStudy(input: CreateStudyInput): Promise<{ study: StudyJson; created: boolean }> {
    const studyId = crypto.randomUUID().replaceAll("-", "");
    const config = this.configFrom(input, studyId);
    if (config.experimentId !== null) {
      try {
        config.experimentId = (await this.tracking.getExperiment(config.experimentId)).experimentId;
      } catch (err) {
        if (err instanceof ApiError && err.code === "RESOURCE_DOES_NOT_EXIST") throw invalid(`experiment_id: ${err.message}`);
        throw err;
      }
    }
    const existing = await this.store.byName(input.name);
    if (existing) return this.existing(existing, input);
    const stub = this.stub(studyId);
    await stub.init(config, randomSeed());
    const info = unwrap(await stub.getInfo());
    if (!(await this.store.insert(config, info.summary))) {
      // Another client took the name in between: drop this object, answer as if it had been first.
      await stub.destroy();
      const winner = await this.store.byName(input.name);
      if (!winner) throw new ApiError("TEMPORARILY_UNAVAILABLE", "The study was deleted while being created; try again");
      return this.existing(winner, input);
    }
    return { study: studyJson(info.config, info.summary), created: true };
  }

  private async existing(row: StudyRow, input: CreateStudyInput): Promise<{ study: StudyJson; created: boolean }> {
    if (!input.load_if_exists) throw alreadyExists(`A study named '${input.name}' already exists (pass load_if_exists to use it)`);
    return { study: await this.getStudy(row.studyId), created: false };
  }

  async getStudy(studyId: string): Promise<StudyJson> {
    const info = unwrap(await this.stub(studyId).getInfo()) as StudyInfo;
    return studyJson(info.config, info.summary);
  }

  async getStudyByName(name: string): Promise<StudyJson> {
    const row = await this.store.byName(name);
    if (!row) throw notFound(`No study named '${name}'`);
    return this.getStudy(row.studyId);
  }

  async listStudies(q: { filter?: string; maxResults?: number; pageToken?: string }): Promise<{ studies: StudyJson[]; nextPageToken: string | null }> {
    const filter = parseSearch(() => parseExperimentFilter(q.filter));
    const offset = parseOffsetToken(q.pageToken);
    const limit = q.maxResults ?? 100;
    let rows: StudyRow[];
    try {
      rows = await this.store.search(filter, offset, limit + 1);
    } catch (err) {
      if (err instanceof UnsupportedStudyFilter) throw invalid(`filter: ${err.message}`);
      throw err;
    }
    return { studies: rows.slice(0, limit).map(rowJson), nextPageToken: rows.length > limit ? offsetToken(offset + limit) : null };
  }

  async deleteStudy(studyId: string): Promise<void> {
    const row = await this.store.byId(studyId);
    const stub = this.stub(studyId);
    const info = await stub.getInfo();
    if (!row && !info.ok) throw notFound(`No study with id ${studyId}`);
    await stub.destroy();
    await this.store.delete(studyId);
  }

  async setStudyUserAttrs(studyId: string, attrs: Record<string, JsonValue>): Promise<StudyJson> {
    const info = unwrap(await this.stub(studyId).setStudyUserAttrs(attrs)) as StudyInfo;
    return studyJson(info.config, info.summary);
  }

  async ask(studyId: string, searchSpace: Record<string, unknown> | undefined): Promise<TrialJson> {
    let space: Record<string, Distribution> | null = null;
    if (searchSpace) {
      space = {};
      for (const [name, json] of Object.entries(searchSpace)) space[name] = parseDistributionField(json, `search_space.${name}`);
    }
    const stub = this.stub(studyId);
    const { trial, info } = unwrap(await stub.ask(space)) as { trial: TrialJson; info: StudyInfo };
    let out = trial;
    if (info.config.experimentId !== null) {
      const run = await this.runLogger.createRun({
        experimentId: info.config.experimentId,
        name: `${info.config.name}-trial-${trial.number}`,
        tags: { "tern.study_id": studyId, "tern.study_name": info.config.name, "tern.trial_number": String(trial.number) },
        params: runParams(trial.params),
      });
      out = unwrap(await stub.setRunId(trial.number, run.info.runId)) as TrialJson;
    }
    return out;
  }

  async suggest(studyId: string, number: number, name: string, distribution: unknown): Promise<ParamValue> {
    const d = parseDistributionField(distribution, "distribution");
    return unwrap(await this.stub(studyId).suggest(number, name, d)) as ParamValue;
  }

  async report(studyId: string, number: number, step: number, value: WireNumber): Promise<boolean> {
    return unwrap(await this.stub(studyId).report(number, step, wireNumber(value, "value")));
  }

  async tell(studyId: string, number: number, body: { values?: WireNumber[]; value?: WireNumber; state?: TellInput["state"]; constraints?: number[] }): Promise<TrialJson> {
    if (body.values !== undefined && body.value !== undefined) throw invalid("Give either `value` or `values`, not both");
    const told = body.values ?? (body.value !== undefined ? [body.value] : undefined);
    const values = told?.map((v, i) => wireNumber(v, `values[${i}]`));
    const { trial, info } = unwrap(await this.stub(studyId).tell(number, { values, state: body.state, constraints: body.constraints })) as {
      trial: TrialJson;
      info: StudyInfo;
    };
    if (trial.run_id) await this.finishRun(trial, info.config.directions.length);
    return trial;
  }

  private async finishRun(trial: TrialJson, objectives: number): Promise<void> {
    await endTrialRun(this.tracking, this.runLogger, trial, objectives, this.now());
  }

  async heartbeat(studyId: string, number: number): Promise<void> {
    unwrap(await this.stub(studyId).heartbeat(number));
  }

  async setTrialUserAttrs(studyId: string, number: number, attrs: Record<string, JsonValue>): Promise<TrialJson> {
    return unwrap(await this.stub(studyId).setTrialUserAttrs(number, attrs)) as TrialJson;
  }

  async enqueue(studyId: string, params: Record<string, ParamValue>, userAttrs: Record<string, JsonValue> | undefined): Promise<number> {
    const { trial, info } = unwrap(await this.stub(studyId).enqueue(params, userAttrs ?? {})) as { trial: TrialJson; info: StudyInfo };
    return trial.number;
  }

  async listTrials(studyId: string, q: { states?: TrialState[]; maxResults?: number; pageToken?: string }): Promise<{ trials: TrialJson[]; nextPageToken: string | null }> {
    const offset = parseOffsetToken(q.pageToken);
    const limit = q.maxResults ?? 1000;
    const page = unwrap(await this.stub(studyId).listTrials(q.states ?? null, offset, limit)) as { trials: TrialJson[]; more: boolean };
    return { trials: page.trials, nextPageToken: page.more ? offsetToken(offset + limit) : null };
  }

  async getTrial(studyId: string, number: number): Promise<TrialJson> {
    return unwrap(await this.stub(studyId).getTrial(number)) as TrialJson;
  }

  async importances(studyId: string, objective: number): Promise<{ name: string; importance: number }[]> {
    return unwrap(await this.stub(studyId).importances(objective));
  }

  async bestTrials(studyId: string): Promise<TrialJson[]> {
    return unwrap(await this.stub(studyId).bestTrials()) as TrialJson[];
  }
}

