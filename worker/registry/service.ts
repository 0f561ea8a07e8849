/**
 * The model registry with MLflow's semantics: registered models and their versions, stages and
 * transitions (archiving the previous holders of a stage), tags, aliases, search and paging, and
 * where a version's files are. Runs are looked up through the tracking store, MLflow 3 logged models
 * through their service (which also records on a logged model the versions that register it).
 */
import { ApiError, alreadyExists, invalid, notFound } from "../http/errors";
import { offsetToken, parseOffsetToken, parseSearch } from "../http/paging";
import type { LoggedModel } from "../logged-models/model";
import type { Page, RunInfo } from "../tracking/model";
import {
  ACTIVE_STAGES,
  PROMPT_TAG,
  REGISTRY_LIMITS,
  aliasProblem,
  canonicalStage,
  invalidStageMessage,
  parseModelFilter,
  parseModelOrderBy,
  parseVersion,
  parseVersionFilter,
  parseVersionOrderBy,
  tagProblem,
  type KeyValue,
  type ModelVersion,
  type RegisteredModel,
  type Stage,
} from "./model";
import type { RegistryStore } from "./store";

/** What the registry needs from tracking: a run's artifact location. */
export interface RunLookup {
  getRunInfo(runId: string): Promise<RunInfo | null>;
}

/** What the registry needs from MLflow 3 logged models: find one (404 when missing) and tag it. */
export interface LoggedModelLookup {
  get(modelId: string): Promise<LoggedModel>;
  setTags(modelId: string, tags: KeyValue[]): Promise<unknown>;
}

/** The logged-model tag listing the registered versions of a logged model, as JSON [{name, version}]. */
const TAG_MODEL_VERSIONS = "mlflow.modelVersions";

const missing = (field: string) => invalid(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);
const modelNotFound = (name: string) => notFound(`Registered Model with name=${name} not found`);
const versionNotFound = (name: string, version: string) => notFound(`Model Version (name=${name}, version=${version}) not found`);
const runNotFound = (runId: string) => notFound(`Run with id=${runId} not found`);




function checkTag(tag: KeyValue): void {
  const problem = tagProblem(tag);
  if (problem) throw invalid(problem);
}

/** MLflow keeps the last value when a create request repeats a tag key. */
const lastByKey = (tags: KeyValue[]) => [...new Map(tags.map((t) => [t.key, t])).values()];

function checkMaxResults(value: number | null | undefined, fallback: number, max: number): number {
  const limit = value ?? fallback;
  if (!Number.isSafeInteger(limit) || limit < 1) throw invalid(`Invalid value for max_results. It must be a positive integer, but got ${limit}`);
  if (limit > max) throw invalid(`Invalid value ${limit} for parameter 'max_results' supplied. It must be at most ${max}.`);
  return limit;
}

// --- model version sources -------------------------------------------------------------------

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/** A plain path, a file: URI or a Windows drive path (whose "C:" reads as a scheme). */
function isLocal(source: string): boolean {
  const scheme = SCHEME.exec(source)?.[1];
  return scheme === undefined || scheme.toLowerCase() === "file" || scheme.length === 1;
}

function localPath(uri: string): string {
  return uri.replace(/^file:(\/\/[^/]*)?/i, "");
}

function normalisePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

function fullyDecoded(source: string): string {
  let current = source;
  for (let i = 0; i < 10; i += 1) {
    let next: string;
    try {
      next = decodeURIComponent(current.replaceAll("+", " "));
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** Sources that climb out of their directory (`..`, even URL-encoded) could reach other files. */
function escapesItsDirectory(source: string): boolean {
  const decoded = fullyDecoded(source);
  if (decoded.includes("\u0000")) return true;
  return decoded.split(/[/\\]/).some((part) => part === ".." || part === ".");
}

const RELATIVE_SOURCE = (source: string) =>
  `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`;

/** `runs:/<run_id>/<path>` → the run id and the path inside its artifacts. */
function parseRunsUri(uri: string): { runId: string; path: string } | null {
  const m = /^runs:\/+([^/]+)\/?(.*)$/.exec(uri);
  return m ? { runId: m[1], path: m[2].replace(/\/+$/, "") } : null;
}

const joinUri = (base: string, path: string) => (path ? `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}` : base);

export interface CreateVersionInput {
  name: string;
  source: string;
  runId?: string | null;
  runLink?: string | null;
  description?: string | null;
  tags?: KeyValue[];
  modelId?: string | null;
}

export class RegistryService {
  constructor(
    private readonly store: RegistryStore,
    private readonly runs: RunLookup,
    private readonly loggedModels: LoggedModelLookup,
    private readonly now: () => number = Date.now,
  ) {}

  // --- registered models -------------------------------------------------------------------

  async createModel(input: { name: string; description?: string | null; tags?: KeyValue[] }): Promise<RegisteredModel> {
    if (!input.name) throw missing("name");
    const tags = lastByKey(input.tags ?? []);
    tags.forEach(checkTag);
    const now = this.now();
    const description = input.description || null;
    if (!(await this.store.insertModel({ name: input.name, description, tags, now }))) {
      throw alreadyExists(`Registered Model (name=${input.name}) already exists.`);
    }
    return { name: input.name, creationTime: now, lastUpdatedTime: now, description, latestVersions: [], tags: [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), aliases: [] };
  }

  async getModel(name: string): Promise<RegisteredModel> {
    if (!name) throw missing("name");
    const model = await this.store.getModel(name);
    if (!model) throw modelNotFound(name);
    return model;
  }

  async renameModel(name: string, newName: string): Promise<RegisteredModel> {
    if (!name) throw missing("name");
    if (!newName) throw missing("new_name");
    const outcome = await this.store.renameModel(name, newName, this.now());
    if (outcome === "missing") throw modelNotFound(name);
    if (outcome === "taken") throw alreadyExists(`Registered Model (name=${newName}) already exists.`);
    return this.getModel(newName);
  }

  /** As in MLflow, an update without a description clears it. */
  async updateModel(name: string, description: string | null | undefined): Promise<RegisteredModel> {
    if (!name) throw missing("name");
    if (!(await this.store.updateModelDescription(name, description || null, this.now()))) throw modelNotFound(name);
    return this.getModel(name);
  }

  async deleteModel(name: string): Promise<void> {
    if (!name) throw missing("name");
    if (!(await this.store.deleteModel(name))) throw modelNotFound(name);
  }

  async setModelTag(name: string, tag: KeyValue): Promise<void> {
    if (!name) throw missing("name");
    checkTag(tag);
    if (!(await this.store.setModelTag(name, tag))) throw modelNotFound(name);
  }

  async deleteModelTag(name: string, key: string): Promise<void> {
    if (!name) throw missing("name");
    if (!key) throw missing("key");
    if (!(await this.store.modelExists(name))) throw modelNotFound(name);
    await this.store.deleteModelTag(name, key);
  }

  async searchModels(q: { filter?: string | null; orderBy?: string[]; maxResults?: number | null; pageToken?: string | null }): Promise<Page<RegisteredModel>> {
    const limit = checkMaxResults(q.maxResults, REGISTRY_LIMITS.searchModelsDefault, REGISTRY_LIMITS.searchModelsMax);
    const filter = parseSearch(() => parseModelFilter(q.filter));
    const orderBy = parseSearch(() => parseModelOrderBy(q.orderBy ?? []));
    const offset = parseOffsetToken(q.pageToken);
    const names = await this.store.searchModelNames({ filter, orderBy, offset, limit: limit + 1 });
    const items = await this.store.getModels(names.slice(0, limit));
    return { items, nextPageToken: names.length > limit ? offsetToken(offset + limit) : null };
  }

  /** The newest version per stage, for the given stages (all stages when none are given). */
  async latestVersions(name: string, stages: string[]): Promise<ModelVersion[]> {
    const model = await this.getModel(name);
    const wanted = stages.map((s) => {
      const stage = canonicalStage(s);
      if (!stage) throw invalid(invalidStageMessage(s));
      return stage;
    });
    const latest = model.latestVersions.filter((v) => wanted.length === 0 || wanted.includes(v.currentStage as Stage));
    const aliasesOf = (version: number) => model.aliases.filter((a) => a.version === version).map((a) => a.alias);
    return latest.map((v) => ({ ...v, aliases: aliasesOf(v.version) }));
  }

  // --- model versions ----------------------------------------------------------------------

  private versionNumber(version: string | null | undefined): number {
    if (!version) throw missing("version");
    const n = parseVersion(version);
    if (n === null) throw invalid(`Parameter 'version' must be an integer, got '${version}'.`);
    return n;
  }

  async createVersion(input: CreateVersionInput): Promise<ModelVersion> {
    if (!input.name) throw missing("name");
    if (!input.source) throw missing("source");
    const tags = lastByKey(input.tags ?? []);
    tags.forEach(checkTag);
    const isPrompt = tags.some((t) => t.key === PROMPT_TAG);
    let runId = input.runId || null;
    let storageLocation: string | null = null;
    const modelId = input.modelId || null;
    const logged = modelId ? await this.loggedModels.get(modelId) : null;
    if (!isPrompt) await this.checkSource(input.source, runId, logged?.artifactLocation ?? null);
    if (input.source.startsWith("models:/")) {
      const resolved = await this.resolveModelsUri(input.source);
      storageLocation = resolved.location;
      runId ??= resolved.runId;
    }
    runId ??= logged?.sourceRunId ?? null;
    if (runId && !(await this.runs.getRunInfo(runId))) throw runNotFound(runId);
    const version = await this.store.insertVersion({
      name: input.name,
      source: input.source,
      storageLocation,
      runId,
      runLink: input.runLink || null,
      description: input.description || null,
      modelId,
      tags,
      now: this.now(),
    });
    if (version === null) throw modelNotFound(input.name);
    if (modelId && !isPrompt) await this.recordOnLoggedModel(modelId, input.name, version);
    return this.getVersion(input.name, String(version));
  }

  /**
   * Appends {name, version} to the logged model's mlflow.modelVersions tag, as MLflow's server does.
   * The version is registered by then, so a logged model deleted meanwhile only skips the note.
   */
  private async recordOnLoggedModel(modelId: string, name: string, version: number): Promise<void> {
    let logged: LoggedModel;
    try {
      logged = await this.loggedModels.get(modelId);
    } catch (err) {
      if (err instanceof ApiError && err.code === "RESOURCE_DOES_NOT_EXIST") return;
      throw err;
    }
    let listed: unknown;
    try {
      listed = JSON.parse(logged.tags.find((t) => t.key === TAG_MODEL_VERSIONS)?.value ?? "[]");
    } catch {
      listed = [];
    }
    const entries = Array.isArray(listed) ? (listed as { name?: unknown; version?: unknown }[]) : [];
    if (entries.some((e) => e?.name === name && e?.version === version)) return;
    await this.loggedModels.setTags(modelId, [{ key: TAG_MODEL_VERSIONS, value: JSON.stringify([...entries, { name, version }]) }]);
  }

  /** MLflow refuses local paths outside the run's (or logged model's) own artifact directory, and `..` anywhere. */
  private async checkSource(source: string, runId: string | null, modelLocation: string | null): Promise<void> {
    if (!isLocal(source)) {
      if (escapesItsDirectory(source)) throw invalid(RELATIVE_SOURCE(source));
      return;
    }
    let dir = modelLocation;
    if (dir === null && runId) {
      const run = await this.runs.getRunInfo(runId);
      if (!run) throw runNotFound(runId);
      dir = run.artifactUri;
    }
    if (dir !== null && isLocal(dir)) {
      const root = normalisePath(localPath(dir));
      const path = normalisePath(localPath(source));
      if (path === root || path.startsWith(`${root}/`)) return;
    }
    const owner = modelLocation !== null ? "the logged model specified by the model_id" : "the run specified by the run_id";
    throw invalid(
      `Invalid model version source: '${source}'. To use a local path as a model version source, the ${modelLocation !== null ? "model_id" : "run_id"} request parameter has to be specified and the local path has to be contained within the artifact directory of ${owner}.`,
    );
  }

  /**
   * Where a `models:/` source's files are: `models:/<name>/<version | stage | latest>`,
   * `models:/<name>@<alias>`, or an MLflow 3 logged model `models:/<model_id>`.
   */
  private async resolveModelsUri(source: string): Promise<{ location: string; runId: string | null }> {
    const rest = source.slice("models:/".length).replace(/^\/+/, "").replace(/\/+$/, "");
    const unable = (why: string) => invalid(`Unable to fetch model from model URI source artifact location '${source}'. Error: ${why}`);
    const at = rest.lastIndexOf("@");
    const slash = rest.lastIndexOf("/");
    if (!(at > 0 && at > slash) && slash <= 0) {
      const logged = await this.loggedModels.get(rest).catch((err: unknown) => {
        throw err instanceof ApiError && err.code === "RESOURCE_DOES_NOT_EXIST" ? unable(err.message) : err;
      });
      return { location: logged.artifactLocation, runId: logged.sourceRunId };
    }
    const name = rest.slice(0, at > slash ? at : slash);
    const ref = rest.slice((at > slash ? at : slash) + 1);
    let version: number | null;
    if (at > slash) {
      version = await this.store.aliasVersion(name, ref);
      if (version === null) throw unable(`Registered model alias ${ref} not found.`);
    } else if ((version = parseVersion(ref)) === null) {
      const model = await this.store.getModel(name);
      if (!model) throw unable(`Registered Model with name=${name} not found`);
      const stage = ref.toLowerCase() === "latest" ? null : canonicalStage(ref);
      if (stage === null && ref.toLowerCase() !== "latest") throw unable(`Parameter 'version' must be an integer, got '${ref}'.`);
      const candidates = model.latestVersions.filter((v) => stage === null || v.currentStage === stage).map((v) => v.version);
      if (candidates.length === 0) throw unable(`No versions of model with name '${name}' and stage '${ref}' found`);
      version = Math.max(...candidates);
    }
    const location = await this.store.versionLocation(name, version);
    if (!location) throw unable(`Model Version (name=${name}, version=${version}) not found`);
    return { location: await this.downloadLocation(location), runId: null };
  }

  async getVersion(name: string, version: string): Promise<ModelVersion> {
    if (!name) throw missing("name");
    const mv = await this.store.getVersion(name, this.versionNumber(version));
    if (!mv) throw versionNotFound(name, version);
    return mv;
  }

  async updateVersion(name: string, version: string, description: string | null | undefined): Promise<ModelVersion> {
    if (!name) throw missing("name");
    if (!(await this.store.updateVersionDescription(name, this.versionNumber(version), description || null, this.now()))) throw versionNotFound(name, version);
    return this.getVersion(name, version);
  }

  async deleteVersion(name: string, version: string): Promise<void> {
    if (!name) throw missing("name");
    if (!(await this.store.deleteVersion(name, this.versionNumber(version), this.now()))) throw versionNotFound(name, version);
  }

  async transitionStage(name: string, version: string, stage: string, archiveExisting: boolean): Promise<ModelVersion> {
    if (!name) throw missing("name");
    const number = this.versionNumber(version);
    if (!stage) throw missing("stage");
    const canonical = canonicalStage(stage);
    if (!canonical) throw invalid(invalidStageMessage(stage));
    if (archiveExisting && !ACTIVE_STAGES.includes(canonical)) {
      throw invalid(
        `Model version transition cannot archive existing model versions because '${stage}' is not an Active stage. Valid stages are [${ACTIVE_STAGES.map((s) => `'${s}'`).join(", ")}]`,
      );
    }
    if (!(await this.store.transitionStage(name, number, canonical, archiveExisting, this.now()))) throw versionNotFound(name, version);
    return this.getVersion(name, version);
  }

  async setVersionTag(name: string, version: string, tag: KeyValue): Promise<void> {
    if (!name) throw missing("name");
    const number = this.versionNumber(version);
    checkTag(tag);
    if (!(await this.store.setVersionTag(name, number, tag))) throw versionNotFound(name, version);
  }

  async deleteVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.getVersion(name, version);
    if (!key) throw missing("key");
    await this.store.deleteVersionTag(name, this.versionNumber(version), key);
  }

  async searchVersions(q: { filter?: string | null; orderBy?: string[]; maxResults?: number | null; pageToken?: string | null }): Promise<Page<ModelVersion>> {
    const limit = checkMaxResults(q.maxResults, REGISTRY_LIMITS.searchVersionsDefault, REGISTRY_LIMITS.searchVersionsMax);
    const filter = parseSearch(() => parseVersionFilter(q.filter));
    const orderBy = parseSearch(() =>
      parseVersionOrderBy(q.orderBy?.length ? q.orderBy : ["last_updated_timestamp DESC", "name ASC", "version_number DESC"]),
    );
    const offset = parseOffsetToken(q.pageToken);
    const versions = await this.store.searchVersions({ filter, orderBy, offset, limit: limit + 1 });
    return { items: versions.slice(0, limit), nextPageToken: versions.length > limit ? offsetToken(offset + limit) : null };
  }

  /** Where to download a version from: the location resolved at registration, or its source with runs:/ resolved. */
  async downloadUri(name: string, version: string): Promise<string> {
    if (!name) throw missing("name");
    const location = await this.store.versionLocation(name, this.versionNumber(version));
    if (!location) throw versionNotFound(name, version);
    return this.downloadLocation(location);
  }

  private async downloadLocation(location: { source: string; storageLocation: string | null }): Promise<string> {
    if (location.storageLocation) return location.storageLocation;
    const runs = parseRunsUri(location.source);
    if (!runs) return location.source;
    const run = await this.runs.getRunInfo(runs.runId);
    if (!run) throw runNotFound(runs.runId);
    return joinUri(run.artifactUri, runs.path);
  }

  // --- aliases -----------------------------------------------------------------------------

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    if (!name) throw missing("name");
    const problem = aliasProblem(alias);
    if (problem) throw invalid(problem);
    if (!(await this.store.setAlias(name, alias, this.versionNumber(version)))) throw versionNotFound(name, version);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    if (!name) throw missing("name");
    const problem = aliasProblem(alias);
    if (problem) throw invalid(problem);
    if (!(await this.store.modelExists(name))) throw modelNotFound(name);
    await this.store.deleteAlias(name, alias);
  }

  /** A missing alias is INVALID_PARAMETER_VALUE (400), not 404, as MLflow answers. */
  async versionByAlias(name: string, alias: string): Promise<ModelVersion> {
    if (!name) throw missing("name");
    const problem = aliasProblem(alias);
    if (problem) throw invalid(problem);
    const version = await this.store.aliasVersion(name, alias);
    if (version === null) throw invalid(`Registered model alias ${alias} not found.`);
    return this.getVersion(name, String(version));
  }
}
