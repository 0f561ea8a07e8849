/**
 * Tracking: experiments, runs, params, tags, metrics and dataset inputs with MLflow's semantics and
 * limits (immutable params, all-or-nothing batches, reserved tags, lifecycle rules, search and paging).
 */
import { alreadyExists, invalid, notFound } from "../http/errors";
import { offsetToken, parseOffsetToken, parseSearch } from "../http/paging";
import {
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseRunFilter,
  parseRunOrderBy,
  type Comparison,
  type OrderBy,
} from "../lib/mlflow-search";
import {
  LIMITS,
  TAG_LOG_MODEL_HISTORY,
  TAG_RUN_NAME,
  TAG_USER,
  type DatasetInput,
  type DatasetSummary,
  type Experiment,
  type KeyValue,
  type LoggedMetricPoint, type MetricPoint,
  type Page,
  type Run,
  type RunInfo,
  type RunStatus,
  type ViewType,
} from "./model";
import { randomRunName } from "./run-names";
import { UnsupportedSearch, type BatchWrite, type TrackingStore } from "./store";

const KEY_PATTERN = /^[/\w.\- ]*$/;

export function validateKey(kind: "param" | "metric" | "tag", key: string): void {
  if (key.length === 0) throw invalid(`Missing value for required parameter 'key'`);
  if (key.length > LIMITS.keyLength) throw invalid(`${kind} key '${key.slice(0, 50)}...' had length ${key.length}, which exceeded length limit of ${LIMITS.keyLength}`);
  if (!KEY_PATTERN.test(key)) {
    throw invalid(`Invalid ${kind} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`);
  }
  // Keys become artifact-like paths in clients; MLflow refuses ones that escape their directory.
  if (key.split("/").some((part) => part === "..") || key.startsWith("/")) {
    throw invalid(`Invalid ${kind} name: '${key}'. Names cannot refer to parent directories or start with a slash.`);
  }
}




function parseExperimentId(id: string): number {
  if (!/^\d{1,15}$/.test(id)) throw notFound(`No Experiment with id=${id} exists`);
  return Number(id);
}

function checkLength(what: string, value: string | null, limit: number): void {
  if (value !== null && value.length > limit) throw invalid(`${what} exceeds the maximum length of ${limit}`);
}

/** MLflow's dataset and input-tag limits (mlflow/utils/validation.py). */
function checkDatasetInput({ dataset, tags }: DatasetInput): void {
  for (const [field, value] of [
    ["name", dataset.name],
    ["digest", dataset.digest],
    ["source_type", dataset.sourceType],
    ["source", dataset.source],
  ] as const) {
    if (!value) throw invalid(`Missing value for required parameter 'dataset.${field}'. See the API docs for more information about request parameters.`);
  }
  checkLength("Dataset name", dataset.name, LIMITS.datasetNameLength);
  checkLength("Dataset digest", dataset.digest, LIMITS.datasetDigestLength);
  checkLength("Dataset source", dataset.source, LIMITS.datasetSourceLength);
  checkLength("Dataset schema", dataset.schema, LIMITS.datasetSchemaLength);
  checkLength("Dataset profile", dataset.profile, LIMITS.datasetProfileLength);
  for (const tag of tags) {
    if (!tag.key) throw invalid("Missing value for required parameter 'tags.key'. See the API docs for more information about request parameters.");
    checkLength("Input tag key", tag.key, LIMITS.inputTagKeyLength);
    checkLength("Input tag value", tag.value, LIMITS.inputTagValueLength);
  }
}

export interface LogBatchInput {
  metrics: LoggedMetricPoint[];
  params: KeyValue[];
  tags: KeyValue[];
}

export class TrackingService {
  constructor(
    private readonly store: TrackingStore,
    private readonly now: () => number = Date.now,
  ) {}

  // --- experiments -------------------------------------------------------------------------

  async createExperiment(input: { name: string; artifactLocation?: string | null; tags?: KeyValue[] }): Promise<string> {
    const name = input.name;
    if (!name) throw invalid("Missing value for required parameter 'name'. See the API docs for more information about request parameters.");
    if (name.length > LIMITS.experimentNameLength) throw invalid(`Experiment name exceeds the maximum length of ${LIMITS.experimentNameLength}`);
    for (const t of input.tags ?? []) this.checkTag(t);
    if (await this.store.getExperimentByName(name)) throw alreadyExists(`Experiment(name=${name}) already exists.`);
    try {
      return await this.store.insertExperiment({ name, artifactLocation: input.artifactLocation ?? null, tags: input.tags ?? [], now: this.now() });
    } catch (err) {
      // A concurrent create of the same name loses the race on the unique index.
      if (String((err as Error)?.cause ?? err).includes("UNIQUE")) throw alreadyExists(`Experiment(name=${name}) already exists.`);
      throw err;
    }
  }

  async getExperiment(id: string): Promise<Experiment> {
    const exp = await this.store.getExperiment(parseExperimentId(id));
    if (!exp) throw notFound(`No Experiment with id=${id} exists`);
    return exp;
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    const exp = await this.store.getExperimentByName(name);
    if (!exp) throw notFound(`Could not find experiment with name '${name}'`);
    return exp;
  }

  async searchExperiments(q: { filter?: string | null; orderBy?: string[]; maxResults?: number | null; pageToken?: string | null; viewType?: ViewType | null }): Promise<Page<Experiment>> {
    const limit = q.maxResults ?? LIMITS.searchExperimentsDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.searchExperimentsMax) {
      throw invalid(`Invalid value ${limit} for parameter 'max_results' supplied. It must be at most ${LIMITS.searchExperimentsMax}`);
    }
    const filter = parseSearch(() => parseExperimentFilter(q.filter ?? ""));
    const orderBy = parseSearch(() => (q.orderBy ?? []).map(parseExperimentOrderBy));
    const offset = parseOffsetToken(q.pageToken);
    const items = await this.searching(() =>
      this.store.searchExperiments({ filter, orderBy: orderBy.length ? orderBy : [{ entity: "attribute", key: "creation_time", ascending: false }], view: q.viewType ?? "ACTIVE_ONLY", offset, limit: limit + 1 }),
    );
    return { items: items.slice(0, limit), nextPageToken: items.length > limit ? offsetToken(offset + limit) : null };
  }

  async updateExperiment(id: string, newName: string | null | undefined): Promise<void> {
    const exp = await this.getExperiment(id);
    if (!newName) throw invalid("Missing value for required parameter 'new_name'.");
    if (exp.lifecycleStage !== "active") throw invalid(`Cannot rename a non-active experiment ${id}.`);
    if (newName === exp.name) return;
    if (await this.store.getExperimentByName(newName)) throw alreadyExists(`Experiment(name=${newName}) already exists.`);
    await this.store.renameExperiment(Number(exp.experimentId), newName, this.now());
  }

  async deleteExperiment(id: string): Promise<void> {
    const exp = await this.getExperiment(id);
    if (exp.experimentId === "0") throw invalid("Cannot delete the default experiment '0'. This is an internally reserved experiment.");
    await this.store.setExperimentLifecycle(Number(exp.experimentId), "deleted", this.now());
  }

  async restoreExperiment(id: string): Promise<void> {
    const exp = await this.getExperiment(id);
    if (exp.lifecycleStage === "active") return;
    await this.store.setExperimentLifecycle(Number(exp.experimentId), "active", this.now());
  }

  async setExperimentTag(id: string, tag: KeyValue): Promise<void> {
    const exp = await this.getExperiment(id);
    if (exp.lifecycleStage !== "active") throw invalid(`The experiment ${id} must be in the 'active' state. Current state is ${exp.lifecycleStage}.`);
    this.checkTag(tag);
    await this.store.setExperimentTag(Number(exp.experimentId), tag, this.now());
  }

  async deleteExperimentTag(id: string, key: string): Promise<void> {
    const exp = await this.getExperiment(id);
    if (exp.lifecycleStage !== "active") throw invalid(`The experiment ${id} must be in the 'active' state. Current state is ${exp.lifecycleStage}.`);
    if (!(await this.store.deleteExperimentTag(Number(exp.experimentId), key, this.now()))) {
      throw notFound(`No tag with name: ${key} in experiment with id ${exp.experimentId}`);
    }
  }

  // --- runs --------------------------------------------------------------------------------

  async createRun(input: { experimentId?: string | null; userId?: string | null; runName?: string | null; startTime?: number | null; tags?: KeyValue[] }): Promise<Run> {
    const exp = await this.getExperiment(input.experimentId || "0");
    if (exp.lifecycleStage !== "active") throw invalid(`The experiment ${exp.experimentId} must be in the 'active' state. Current state is ${exp.lifecycleStage}.`);
    const tags = [...(input.tags ?? [])];
    this.checkRunInput({ runName: input.runName, tags });
    const tagName = tags.find((t) => t.key === TAG_RUN_NAME)?.value;
    const runName = input.runName || tagName || randomRunName();
    if (!tagName) tags.push({ key: TAG_RUN_NAME, value: runName });
    const userId = input.userId || tags.find((t) => t.key === TAG_USER)?.value || "";
    const runId = crypto.randomUUID().replaceAll("-", "");
    const info: RunInfo = {
      runId,
      experimentId: exp.experimentId,
      runName,
      userId,
      status: "RUNNING",
      startTime: input.startTime ?? 0,
      endTime: null,
      artifactUri: `${exp.artifactLocation.replace(/\/$/, "")}/${runId}/artifacts`,
      lifecycleStage: "active",
    };
    await this.store.insertRun(info, tags);
    return {
      info,
      data: { metrics: [], params: [], tags: tags.sort((a, b) => a.key.localeCompare(b.key)) },
      inputs: { datasetInputs: [], modelInputs: [] },
      outputs: { modelOutputs: [] },
    };
  }

  async getRun(runId: string): Promise<Run> {
    const [run] = await this.store.getRuns([runId]);
    if (!run) throw notFound(`Run with id=${runId} not found`);
    return run;
  }

  /** The run, which must exist (else 404) and be active (else 400), as every write to a run requires. */
  async activeRun(runId: string): Promise<RunInfo> {
    const info = await this.store.getRunInfo(runId);
    if (!info) throw notFound(`Run with id=${runId} not found`);
    if (info.lifecycleStage !== "active") throw invalid(`The run ${runId} must be in the 'active' state. Current state is ${info.lifecycleStage}.`);
    return info;
  }

  async updateRun(runId: string, set: { status?: RunStatus | null; endTime?: number | null; runName?: string | null }): Promise<RunInfo> {
    const info = await this.activeRun(runId);
    const update: { status?: RunStatus; endTime?: number | null; name?: string } = {};
    if (set.status) update.status = set.status;
    if (set.endTime != null) update.endTime = set.endTime;
    if (set.runName) update.name = set.runName;
    if (Object.keys(update).length) await this.store.updateRun(runId, update);
    return { ...info, status: update.status ?? info.status, endTime: update.endTime ?? info.endTime, runName: update.name ?? info.runName };
  }

  async deleteRun(runId: string): Promise<void> {
    const info = await this.store.getRunInfo(runId);
    if (!info) throw notFound(`Run with id=${runId} not found`);
    await this.store.setRunLifecycle(runId, "deleted", this.now());
  }

  async restoreRun(runId: string): Promise<void> {
    const info = await this.store.getRunInfo(runId);
    if (!info) throw notFound(`Run with id=${runId} not found`);
    await this.store.setRunLifecycle(runId, "active", this.now());
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.activeRun(runId);
    if (!(await this.store.deleteTag(runId, key))) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
  }

  /**
   * MLflow 2.x's runs/log-model: the client records each logged model's MLmodel description (JSON) in
   * the run's `mlflow.log-model.history` tag, a JSON list that the MLflow UI reads.
   */
  async logModel(runId: string, modelJson: string): Promise<void> {
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch {
      throw invalid("Malformed model info. 'model_json' must be a JSON object.");
    }
    if (model === null || typeof model !== "object" || Array.isArray(model)) throw invalid("Malformed model info. 'model_json' must be a JSON object.");
    const run = await this.getRun(runId);
    if (run.info.lifecycleStage !== "active") throw invalid(`The run ${runId} must be in the 'active' state. Current state is ${run.info.lifecycleStage}.`);
    const previous = run.data.tags.find((t) => t.key === TAG_LOG_MODEL_HISTORY)?.value;
    let history: unknown[] = [];
    try {
      const parsed = previous ? JSON.parse(previous) : [];
      history = Array.isArray(parsed) ? parsed : [];
    } catch {
      history = [];
    }
    history.push(model);
    await this.logBatch(runId, { metrics: [], params: [], tags: [{ key: TAG_LOG_MODEL_HISTORY, value: JSON.stringify(history) }] });
  }

  /** The checks createRun makes of its name and tags, without touching storage. */
  checkRunInput(input: { runName?: string | null; tags?: KeyValue[] }): void {
    const tags = input.tags ?? [];
    for (const t of tags) this.checkTag(t);
    const tagName = tags.find((t) => t.key === TAG_RUN_NAME)?.value;
    if (input.runName && tagName && input.runName !== tagName) {
      throw invalid(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.runName}', mlflow.runName='${tagName}').`);
    }
  }

  /**
   * The checks logBatch makes of a batch on its own (limits, keys, values, duplicate params), without
   * touching storage; returns the batch's params by key.
   */
  checkBatch(batch: LogBatchInput): Map<string, string> {
    const { metrics, params, tags } = batch;
    if (metrics.length > LIMITS.batchMetrics) throw invalid(`A batch logging request can contain at most ${LIMITS.batchMetrics} metrics. Got ${metrics.length} metrics.`);
    if (params.length > LIMITS.batchParams) throw invalid(`A batch logging request can contain at most ${LIMITS.batchParams} params. Got ${params.length} params.`);
    if (tags.length > LIMITS.batchTags) throw invalid(`A batch logging request can contain at most ${LIMITS.batchTags} tags. Got ${tags.length} tags.`);
    const total = metrics.length + params.length + tags.length;
    if (total > LIMITS.batchTotal) throw invalid(`A batch logging request can contain at most ${LIMITS.batchTotal} total entities. Got ${total} entities.`);
    for (const m of metrics) {
      validateKey("metric", m.key);
      if (!Number.isSafeInteger(m.timestamp)) throw invalid(`Got invalid timestamp ${m.timestamp} for metric '${m.key}'. Timestamp must be an integer.`);
      if (!Number.isSafeInteger(m.step)) throw invalid(`Got invalid step ${m.step} for metric '${m.key}'. Step must be an integer.`);
      if (typeof m.value !== "number") throw invalid(`Got invalid value ${m.value} for metric '${m.key}'. Value must be a number.`);
    }
    const paramValues = new Map<string, string>();
    for (const p of params) {
      validateKey("param", p.key);
      if (p.value.length > LIMITS.paramValueLength) {
        throw invalid(`Param value '${p.value.slice(0, 50)}...' had length ${p.value.length}, which exceeded length limit of ${LIMITS.paramValueLength}`);
      }
      const seen = paramValues.get(p.key);
      if (seen !== undefined && seen !== p.value) throw invalid(`Duplicate parameter keys with different values in one batch: '${p.key}'`);
      paramValues.set(p.key, p.value);
    }
    for (const t of tags) this.checkTag(t);
    return paramValues;
  }

  /** All-or-nothing: validates everything first, then writes in one transaction. */
  /** Logs a batch; with a claim (an idempotency key) answers false, writing nothing, when the key was taken. */
  async logBatch(runId: string, batch: LogBatchInput, claim?: BatchWrite["claim"]): Promise<boolean> {
    const { metrics, tags } = batch;
    const paramValues = this.checkBatch(batch);
    await this.activeRun(runId);
    const existing = await this.store.existingParams(runId, [...paramValues.keys()]);
    for (const [key, value] of paramValues) {
      const old = existing.get(key);
      if (old !== undefined && old !== value) {
        throw invalid(
          `Changing param values is not allowed. Param with key='${key}' was already logged with value='${old}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
        );
      }
    }
    const uniqueParams = [...paramValues].map(([key, value]) => ({ key, value }));
    const lastTags = [...new Map(tags.map((t) => [t.key, t])).values()];
    const runName = lastTags.find((t) => t.key === TAG_RUN_NAME)?.value ?? null;
    try {
      return await this.store.writeBatch({ runId, metrics, params: uniqueParams, tags: lastTags, runName, claim });
    } catch (err) {
      if (String((err as Error)?.cause ?? err).includes("TERN_PARAM_VALUE_CHANGED") || String(err).includes("TERN_PARAM_VALUE_CHANGED")) {
        throw invalid(`Changing param values is not allowed: a param of run ID='${runId}' was logged concurrently with a different value.`);
      }
      throw err;
    }
  }

  /**
   * log-inputs: validates every dataset first, then writes all of them in one transaction. The same
   * (name, digest) twice in one request is logged once, with the first occurrence's tags.
   */
  async logInputs(runId: string, inputs: DatasetInput[], models: { modelId: string }[] = []): Promise<void> {
    if (inputs.length > LIMITS.datasetsPerRequest) {
      throw invalid(`A logging request can contain at most ${LIMITS.datasetsPerRequest} datasets. Got ${inputs.length} datasets.`);
    }
    for (const input of inputs) checkDatasetInput(input);
    for (const m of models) {
      if (!m.modelId) throw invalid("Missing value for required parameter 'models.model_id'. See the API docs for more information about request parameters.");
    }
    const info = await this.activeRun(runId);
    const unique = new Map<string, DatasetInput>();
    for (const input of inputs) {
      const identity = JSON.stringify([input.dataset.name, input.dataset.digest]);
      if (!unique.has(identity)) unique.set(identity, input);
    }
    await this.store.logInputs(Number(info.experimentId), runId, [...unique.values()], [...new Set(models.map((m) => m.modelId))]);
  }

  async searchDatasets(experimentIds: string[]): Promise<DatasetSummary[]> {
    const ids = experimentIds.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
    return this.store.searchDatasets(ids, LIMITS.datasetSummariesMax);
  }

  async getMetricHistory(runId: string, key: string, q: { maxResults?: number | null; pageToken?: string | null }): Promise<Page<MetricPoint>> {
    if (!key) throw invalid("Missing value for required parameter 'metric_key'. See the API docs for more information about request parameters.");
    const info = await this.store.getRunInfo(runId);
    if (!info) throw notFound(`Run with id=${runId} not found`);
    const limit = q.maxResults ?? LIMITS.metricHistoryMax;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.metricHistoryMax) {
      throw invalid(`Invalid value ${limit} for parameter 'max_results' supplied. It must be between 1 and ${LIMITS.metricHistoryMax}`);
    }
    const offset = parseOffsetToken(q.pageToken);
    const points = await this.store.metricHistory(runId, key, offset, limit + 1);
    return { items: points.slice(0, limit), nextPageToken: points.length > limit ? offsetToken(offset + limit) : null };
  }

  async searchRuns(q: { experimentIds: string[]; filter?: string | null; orderBy?: string[]; maxResults?: number | null; pageToken?: string | null; viewType?: ViewType | null }): Promise<Page<Run>> {
    const limit = q.maxResults ?? LIMITS.searchRunsDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.searchRunsMax) {
      throw invalid(`Invalid value ${limit} for parameter 'max_results' supplied. It must be at most ${LIMITS.searchRunsMax}`);
    }
    const filter: Comparison[] = parseSearch(() => parseRunFilter(q.filter ?? ""));
    const orderBy: OrderBy[] = parseSearch(() => (q.orderBy ?? []).map(parseRunOrderBy));
    const offset = parseOffsetToken(q.pageToken);
    const experimentIds = q.experimentIds.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
    const ids = await this.searching(() => this.store.searchRunIds({ experimentIds, filter, orderBy, view: q.viewType ?? "ACTIVE_ONLY", offset, limit: limit + 1 }));
    const runs = await this.store.getRuns(ids.slice(0, limit));
    return { items: runs, nextPageToken: ids.length > limit ? offsetToken(offset + limit) : null };
  }

  private async searching<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof UnsupportedSearch) throw invalid(err.message);
      throw err;
    }
  }

  private checkTag(t: KeyValue): void {
    validateKey("tag", t.key);
    if (t.value.length > LIMITS.tagValueLength) {
      throw invalid(`Tag value '${t.value.slice(0, 50)}...' had length ${t.value.length}, which exceeded length limit of ${LIMITS.tagValueLength}`);
    }
  }
}

