/**
 * MLflow 3 logged models: create (pending) and finalize, get, soft delete, tags and immutable params,
 * search, and the run outputs that say which run produced which model. Experiments and runs are
 * the tracking service's; this service asks it for them.
 */
import { invalid, notFound } from "../http/errors";
import { randomRunName } from "../tracking/run-names";
import type { TrackingService } from "../tracking/service";
import type { KeyValue, Page } from "../tracking/model";
import {
  decodeSearchToken,
  encodeSearchToken,
  FINAL_STATUSES,
  LOGGED_MODEL_LIMITS,
  LoggedModelSearchError,
  loggedModelStatusOf,
  parseLoggedModelFilter,
  parseLoggedModelOrderBy,
  type LoggedModel,
  type ModelOutputInput,
} from "./model";
import type { LoggedModelStore } from "./store";

const NAME_FORBIDDEN = ["/", ":", ".", "%", '"', "'"];

export interface OrderByInput {
  field_name?: string;
  ascending?: boolean;
  dataset_name?: string;
  dataset_digest?: string;
}

function searching<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof LoggedModelSearchError) throw invalid(err.message);
    throw err;
  }
}

const modelNotFound = (modelId: string) => notFound(`Logged model with ID '${modelId}' not found.`);

function checkKvs(kind: "tag" | "param", kvs: KeyValue[], valueLimit: number): void {
  for (const kv of kvs) {
    if (!kv.key) throw invalid(`Missing value for required parameter '${kind}s.key'. See the API docs for more information about request parameters.`);
    if (kv.key.length > LOGGED_MODEL_LIMITS.keyLength) {
      throw invalid(`${kind} key '${kv.key.slice(0, 50)}...' had length ${kv.key.length}, which exceeded length limit of ${LOGGED_MODEL_LIMITS.keyLength}`);
    }
    if (kv.value.length > valueLimit) {
      throw invalid(`${kind} value '${kv.value.slice(0, 50)}...' had length ${kv.value.length}, which exceeded length limit of ${valueLimit}`);
    }
  }
}

/** One value per key; the same key with two values in one request is refused (params are immutable). */
function uniqueParams(params: KeyValue[]): KeyValue[] {
  const seen = new Map<string, string>();
  for (const p of params) {
    const old = seen.get(p.key);
    if (old !== undefined && old !== p.value) throw invalid(`Duplicate parameter keys with different values in one request: '${p.key}'`);
    seen.set(p.key, p.value);
  }
  return [...seen].map(([key, value]) => ({ key, value }));
}

/** Tags are mutable: the last value given for a key wins. */
const lastTags = (tags: KeyValue[]): KeyValue[] => [...new Map(tags.map((t) => [t.key, t])).values()];

export class LoggedModelService {
  constructor(
    private readonly store: LoggedModelStore,
    private readonly tracking: Pick<TrackingService, "getExperiment" | "activeRun">,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: { experimentId: string; name?: string | null; modelType?: string | null; sourceRunId?: string | null; params: KeyValue[]; tags: KeyValue[] }): Promise<LoggedModel> {
    if (!input.experimentId) throw invalid("Missing value for required parameter 'experiment_id'. See the API docs for more information about request parameters.");
    const name = input.name || null;
    if (name !== null && (NAME_FORBIDDEN.some((ch) => name.includes(ch)) || name.length > LOGGED_MODEL_LIMITS.nameLength)) {
      throw invalid(
        `Invalid model name ('${name}') provided. Model name must be a non-empty string of at most ${LOGGED_MODEL_LIMITS.nameLength} characters and cannot contain the following characters: ('/', ':', '.', '%', '"', "'")`,
      );
    }
    if (input.modelType && input.modelType.length > LOGGED_MODEL_LIMITS.modelTypeLength) {
      throw invalid(`Model type exceeds the maximum length of ${LOGGED_MODEL_LIMITS.modelTypeLength}`);
    }
    checkKvs("tag", input.tags, LOGGED_MODEL_LIMITS.tagValueLength);
    checkKvs("param", input.params, LOGGED_MODEL_LIMITS.paramValueLength);
    const params = uniqueParams(input.params);
    const exp = await this.tracking.getExperiment(input.experimentId);
    if (exp.lifecycleStage !== "active") throw invalid(`The experiment ${exp.experimentId} must be in the 'active' state. Current state is ${exp.lifecycleStage}.`);
    const modelId = `m-${crypto.randomUUID().replaceAll("-", "")}`;
    const now = this.now();
    const model: LoggedModel = {
      modelId,
      experimentId: exp.experimentId,
      name: name ?? randomRunName(),
      artifactLocation: `${exp.artifactLocation.replace(/\/$/, "")}/models/${modelId}/artifacts`,
      creationTimestampMs: now,
      lastUpdatedTimestampMs: now,
      status: "LOGGED_MODEL_PENDING",
      statusMessage: null,
      lifecycleStage: "active",
      modelType: input.modelType || null,
      sourceRunId: input.sourceRunId || null,
      tags: lastTags(input.tags).sort((a, b) => a.key.localeCompare(b.key)),
      params: params.sort((a, b) => a.key.localeCompare(b.key)),
      metrics: [],
    };
    await this.store.insert(model);
    return model;
  }

  async get(modelId: string): Promise<LoggedModel> {
    const model = await this.store.get(modelId);
    if (!model) throw modelNotFound(modelId);
    return model;
  }

  async finalize(modelId: string, status: string | number | undefined): Promise<LoggedModel> {
    if (status === undefined) throw invalid("Missing value for required parameter 'status'. See the API docs for more information about request parameters.");
    const target = loggedModelStatusOf(status);
    if (!target || !FINAL_STATUSES.includes(target)) {
      throw invalid(`Invalid value ${JSON.stringify(status)} for parameter 'status' supplied. A logged model is finalized as one of ${FINAL_STATUSES.join(", ")}.`);
    }
    await this.get(modelId);
    await this.store.setStatus(modelId, target, this.now());
    return this.get(modelId);
  }

  /** A soft delete, as MLflow's: the model disappears from get and search; deleting it again is a no-op. */
  async delete(modelId: string): Promise<void> {
    const stage = await this.store.lifecycleOf(modelId);
    if (stage === null) throw modelNotFound(modelId);
    if (stage === "active") await this.store.markDeleted(modelId, this.now());
  }

  async setTags(modelId: string, tags: KeyValue[]): Promise<LoggedModel> {
    checkKvs("tag", tags, LOGGED_MODEL_LIMITS.tagValueLength);
    await this.get(modelId);
    await this.store.setTags(modelId, lastTags(tags));
    return this.get(modelId);
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    await this.get(modelId);
    if (!(await this.store.deleteTag(modelId, key))) throw notFound(`No tag with key '${key}' found for model with ID '${modelId}'.`);
  }

  async logParams(modelId: string, input: KeyValue[]): Promise<void> {
    checkKvs("param", input, LOGGED_MODEL_LIMITS.paramValueLength);
    const params = uniqueParams(input);
    await this.get(modelId);
    const existing = await this.store.existingParams(modelId, params.map((p) => p.key));
    for (const p of params) {
      const old = existing.get(p.key);
      if (old !== undefined && old !== p.value) {
        throw invalid(`Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old}' for model ID='${modelId}'. Attempted logging new value '${p.value}'.`);
      }
    }
    await this.store.addParams(modelId, params);
  }

  async search(q: {
    experimentIds: string[];
    filter?: string | null;
    datasets: { dataset_name?: string; dataset_digest?: string }[];
    maxResults?: number | null;
    orderBy: OrderByInput[];
    pageToken?: string | null;
  }): Promise<Page<LoggedModel>> {
    const limit = q.maxResults ?? LOGGED_MODEL_LIMITS.searchDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > LOGGED_MODEL_LIMITS.searchMax) {
      throw invalid(`Invalid value ${limit} for parameter 'max_results' supplied. It must be between 1 and ${LOGGED_MODEL_LIMITS.searchMax}`);
    }
    if (q.datasets.some((d) => !d.dataset_name)) throw invalid("`dataset_name` in the `datasets` clause must be specified.");
    const filter = searching(() => parseLoggedModelFilter(q.filter));
    const orderBy = searching(() => q.orderBy.map(parseLoggedModelOrderBy));
    const search = JSON.stringify([q.experimentIds, q.filter ?? "", orderBy, q.datasets]);
    const offset = searching(() => decodeSearchToken(q.pageToken, search));
    const experimentIds = q.experimentIds.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
    const ids = await this.store.searchIds({ experimentIds, filter, datasets: q.datasets, orderBy, offset, limit: limit + 1 });
    const items = await this.store.getMany(ids.slice(0, limit));
    return { items, nextPageToken: ids.length > limit ? encodeSearchToken(offset + limit, search) : null };
  }

  /** runs/outputs: the run must be active and every model must exist. */
  async logOutputs(runId: string, outputs: ModelOutputInput[]): Promise<void> {
    for (const o of outputs) {
      if (!o.modelId) throw invalid("Missing value for required parameter 'models.model_id'. See the API docs for more information about request parameters.");
      if (!Number.isSafeInteger(o.step)) throw invalid(`Got invalid step ${o.step} for model '${o.modelId}'. Step must be an integer.`);
    }
    await this.tracking.activeRun(runId);
    const unique = [...new Map(outputs.map((o) => [o.modelId, o])).values()];
    const active = await this.store.activeIds(unique.map((o) => o.modelId));
    const missing = unique.find((o) => !active.has(o.modelId));
    if (missing) throw modelNotFound(missing.modelId);
    await this.store.logOutputs(runId, unique);
  }
}
