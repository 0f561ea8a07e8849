/**
 * The one typed client of Tern's API for the whole app. It sends the API token kept in this browser
 * (Settings) as a bearer token and turns the API's error body into ApiClientError.
 */

export type Scope = "read" | "write" | "admin";
export type AuthMode = "open" | "token";

export interface Probe {
  status: "ok" | "error";
  latency_ms: number;
  error?: string;
}

export interface Health {
  status: "ok" | "degraded";
  auth_mode: AuthMode;
  version: string;
  bindings: { d1: Probe; r2: Probe; durable_objects: Record<string, Probe> };
  scheduler: { last_tick_at: number | null; last_tick_cron: string | null };
}

export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  status: "active" | "expired" | "revoked";
}

export interface Principal {
  kind: "open" | "token" | "bootstrap";
  token_id: string | null;
  name: string;
  scopes: Scope[];
  auth_mode: AuthMode;
}

export type { DownsampledSeries } from "./metric-types";
import type { DownsampledSeries } from "./metric-types";

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
}

export interface OpenApiOperation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}

/** MLflow's wire shapes, as served under /ajax-api/2.0/mlflow (empty fields are left out). */
export interface MlflowKeyValue {
  key: string;
  value: string;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: "active" | "deleted";
  creation_time: number;
  last_update_time: number;
  tags?: MlflowKeyValue[];
}

export type MlflowRunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
export type MlflowViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface MlflowRunInfo {
  run_id: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: MlflowRunStatus;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: "active" | "deleted";
}

/** Protobuf JSON writes non-finite doubles as strings. */
export interface MlflowMetric {
  key: string;
  value: number | "NaN" | "Infinity" | "-Infinity";
  timestamp: number;
  step: number;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] };
  inputs?: { dataset_inputs?: MlflowDatasetInput[] };
  outputs?: { model_outputs?: MlflowModelOutput[] };
}

export interface MlflowRunSearch {
  experiment_ids: string[];
  filter?: string;
  order_by?: string[];
  max_results?: number;
  page_token?: string;
  run_view_type?: MlflowViewType;
}

export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
    this.name = "ApiClientError";
  }
}

const TOKEN_KEY = "tern.token";

export const tokenStorage = {
  get(): string | null {
    return typeof localStorage === "undefined" ? null : localStorage.getItem(TOKEN_KEY);
  },
  set(token: string | null): void {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  },
};

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = tokenStorage.get();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok && !(res.status === 503 && path.endsWith("/health"))) {
    const body = data as { error?: { code?: string; message?: string; request_id?: string }; error_code?: string; message?: string } | null;
    // The native API nests its error; the MLflow routes answer MLflow's flat {error_code, message}.
    const err = body?.error ?? (body?.error_code ? { code: body.error_code, message: body.message, request_id: undefined } : undefined);
    throw new ApiClientError(res.status, err?.code ?? "HTTP_" + res.status, err?.message ?? res.statusText, err?.request_id ?? res.headers.get("x-request-id"));
  }
  return data as T;
}

const MLFLOW = "/ajax-api/2.0/mlflow";
const query = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(params).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))).toString();

export const api = {
  health: () => request<Health>("GET", "/api/v1/health"),
  whoami: () => request<Principal>("GET", "/api/v1/auth/whoami"),
  openapi: () => request<OpenApiDocument>("GET", "/api/v1/openapi.json"),
  tokens: {
    list: () => request<{ tokens: TokenInfo[] }>("GET", "/api/v1/tokens"),
    create: (input: { name: string; scopes: Scope[]; expires_at?: number | null }) =>
      request<{ token: TokenInfo; secret: string }>("POST", "/api/v1/tokens", input),
    revoke: (id: string) => request<{ token: TokenInfo }>("DELETE", `/api/v1/tokens/${encodeURIComponent(id)}`),
  },
  /** Downsampled metric histories (min, max and last per bucket) for long series. */
  metrics: {
    downsample: (input: { run_id: string; key: string; points: number }) =>
      request<{ series: DownsampledSeries[] }>("GET", `/api/v1/metrics/downsample?${query({ run_ids: input.run_id, keys: input.key, points: input.points })}`),
  },
  /** MLflow's tracking API, on the prefix MLflow's own web UI uses. */
  mlflow: {
    experiments: {
      search: (input: { filter?: string; order_by?: string[]; max_results?: number; page_token?: string; view_type?: MlflowViewType }) =>
        request<{ experiments?: MlflowExperiment[]; next_page_token?: string }>("POST", `${MLFLOW}/experiments/search`, input),
      get: (experimentId: string) => request<{ experiment: MlflowExperiment }>("GET", `${MLFLOW}/experiments/get?${query({ experiment_id: experimentId })}`),
      create: (input: { name: string; tags?: MlflowKeyValue[] }) => request<{ experiment_id: string }>("POST", `${MLFLOW}/experiments/create`, input),
    },
    runs: {
      search: (input: MlflowRunSearch) => request<{ runs?: MlflowRun[]; next_page_token?: string }>("POST", `${MLFLOW}/runs/search`, input),
      get: (runId: string) => request<{ run: MlflowRun }>("GET", `${MLFLOW}/runs/get?${query({ run_id: runId })}`),
      update: (input: { run_id: string; run_name?: string; status?: MlflowRunStatus; end_time?: number }) =>
        request<{ run_info: MlflowRunInfo }>("POST", `${MLFLOW}/runs/update`, input),
    },
    metrics: {
      getHistory: (input: { run_id: string; metric_key: string; max_results?: number; page_token?: string }) =>
        request<{ metrics?: MlflowMetric[]; next_page_token?: string }>("GET", `${MLFLOW}/metrics/get-history?${query(input)}`),
    },
  },
  /** MLflow's model registry (registered models, versions, stages, aliases), on the same prefix. */
  registry: {
    models: {
      search: (input: MlflowRegistrySearch) =>
        request<{ registered_models?: MlflowRegisteredModel[]; next_page_token?: string }>("GET", `${MLFLOW}/registered-models/search?${query(input)}`),
      get: (name: string) => request<{ registered_model: MlflowRegisteredModel }>("GET", `${MLFLOW}/registered-models/get?${query({ name })}`),
      create: (input: { name: string; description?: string; tags?: MlflowKeyValue[] }) =>
        request<{ registered_model: MlflowRegisteredModel }>("POST", `${MLFLOW}/registered-models/create`, input),
      rename: (name: string, newName: string) =>
        request<{ registered_model: MlflowRegisteredModel }>("POST", `${MLFLOW}/registered-models/rename`, { name, new_name: newName }),
      update: (name: string, description: string) =>
        request<{ registered_model: MlflowRegisteredModel }>("PATCH", `${MLFLOW}/registered-models/update`, { name, description }),
      delete: (name: string) => request<object>("DELETE", `${MLFLOW}/registered-models/delete`, { name }),
      setTag: (name: string, key: string, value: string) => request<object>("POST", `${MLFLOW}/registered-models/set-tag`, { name, key, value }),
      deleteTag: (name: string, key: string) => request<object>("DELETE", `${MLFLOW}/registered-models/delete-tag`, { name, key }),
      latestVersions: (name: string, stages?: MlflowModelStage[]) =>
        request<{ model_versions?: MlflowModelVersion[] }>("POST", `${MLFLOW}/registered-models/get-latest-versions`, { name, stages }),
    },
    aliases: {
      set: (name: string, alias: string, version: string) => request<object>("POST", `${MLFLOW}/registered-models/alias`, { name, alias, version }),
      delete: (name: string, alias: string) => request<object>("DELETE", `${MLFLOW}/registered-models/alias`, { name, alias }),
      get: (name: string, alias: string) => request<{ model_version: MlflowModelVersion }>("GET", `${MLFLOW}/registered-models/alias?${query({ name, alias })}`),
    },
    versions: {
      search: (input: MlflowRegistrySearch) =>
        request<{ model_versions?: MlflowModelVersion[]; next_page_token?: string }>("GET", `${MLFLOW}/model-versions/search?${query(input)}`),
      get: (name: string, version: string) => request<{ model_version: MlflowModelVersion }>("GET", `${MLFLOW}/model-versions/get?${query({ name, version })}`),
      create: (input: { name: string; source: string; run_id?: string; description?: string; tags?: MlflowKeyValue[] }) =>
        request<{ model_version: MlflowModelVersion }>("POST", `${MLFLOW}/model-versions/create`, input),
      update: (name: string, version: string, description: string) =>
        request<{ model_version: MlflowModelVersion }>("PATCH", `${MLFLOW}/model-versions/update`, { name, version, description }),
      delete: (name: string, version: string) => request<object>("DELETE", `${MLFLOW}/model-versions/delete`, { name, version }),
      transitionStage: (name: string, version: string, stage: MlflowModelStage, archiveExistingVersions: boolean) =>
        request<{ model_version: MlflowModelVersion }>("POST", `${MLFLOW}/model-versions/transition-stage`, {
          name,
          version,
          stage,
          archive_existing_versions: archiveExistingVersions,
        }),
      downloadUri: (name: string, version: string) => request<{ artifact_uri: string }>("GET", `${MLFLOW}/model-versions/get-download-uri?${query({ name, version })}`),
      setTag: (name: string, version: string, key: string, value: string) =>
        request<object>("POST", `${MLFLOW}/model-versions/set-tag`, { name, version, key, value }),
      deleteTag: (name: string, version: string, key: string) => request<object>("DELETE", `${MLFLOW}/model-versions/delete-tag`, { name, version, key }),
    },
  },
  /** A run's artifacts: listings relative to the run's root, and their bytes from the web UI's route. */
  artifacts: {
    list: (runId: string, path?: string) =>
      request<{ root_uri?: string; files?: MlflowFileInfo[] }>("GET", `${MLFLOW}/artifacts/list?${query({ run_id: runId, path: path || undefined })}`),
    /** Where a file downloads from (served as an attachment, never rendered on this origin). */
    downloadUrl: (runId: string, path: string) => `/get-artifact?${query({ run_uuid: runId, path })}`,
    /** The file's bytes, or the inclusive byte range [start, end] of them; sent with this browser's token. */
    fetch: async (runId: string, path: string, range?: { start: number; end: number }): Promise<Response> => {
      const headers: Record<string, string> = {};
      const token = tokenStorage.get();
      if (token) headers.Authorization = `Bearer ${token}`;
      if (range) headers.Range = `bytes=${range.start}-${range.end}`;
      const res = await fetch(`/get-artifact?${query({ run_uuid: runId, path })}`, { headers });
      if (res.ok) return res;
      const body = (await res.json().catch(() => null)) as { error_code?: string; message?: string } | null;
      throw new ApiClientError(res.status, body?.error_code ?? `HTTP_${res.status}`, body?.message ?? res.statusText, res.headers.get("x-request-id"));
    },
  },
  /** MLflow 3's logged models, which runs name in their outputs. */
  loggedModels: {
    get: (modelId: string) => request<{ model: MlflowLoggedModel }>("GET", `${MLFLOW}/logged-models/${encodeURIComponent(modelId)}`),
  },
  /** MLflow's tracing API (3.0): trace infos by experiment, and one trace with its spans. */
  traces: {
    search: (input: MlflowTraceSearch) =>
      request<{ traces?: MlflowTraceInfo[]; next_page_token?: string }>("POST", "/ajax-api/3.0/mlflow/traces/search", input),
    get: (traceId: string) => request<{ trace: MlflowTrace }>("GET", `/ajax-api/3.0/mlflow/traces/get?${query({ trace_id: traceId })}`),
  },
};

/** MLflow's registry wire shapes (model_registry.proto); versions are decimal strings. */
export type MlflowModelStage = "None" | "Staging" | "Production" | "Archived";
export type MlflowModelVersionStatus = "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";

export interface MlflowModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: MlflowModelStage;
  description?: string;
  source: string;
  run_id?: string;
  status: MlflowModelVersionStatus;
  status_message?: string;
  tags?: MlflowKeyValue[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

export interface MlflowRegisteredModelAlias {
  alias: string;
  version: string;
}

export interface MlflowRegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description?: string;
  /** The newest version in each stage. */
  latest_versions?: MlflowModelVersion[];
  tags?: MlflowKeyValue[];
  aliases?: MlflowRegisteredModelAlias[];
}

/** registered-models/search and model-versions/search take their fields as query parameters. */
export type MlflowRegistrySearch = {
  filter?: string;
  order_by?: string;
  max_results?: number;
  page_token?: string;
};

/** MLflow's tracing wire shapes (TraceInfoV3; spans as OpenTelemetry protobuf JSON). */
export type MlflowTraceState = "STATE_UNSPECIFIED" | "OK" | "ERROR" | "IN_PROGRESS";

export interface MlflowTraceInfo {
  trace_id: string;
  client_request_id?: string;
  trace_location: { type: string; mlflow_experiment?: { experiment_id: string } };
  request_preview?: string;
  response_preview?: string;
  /** A protobuf Timestamp: RFC 3339 text. */
  request_time: string;
  /** A protobuf Duration: seconds with an "s" suffix, "0.250s". */
  execution_duration?: string;
  state: MlflowTraceState;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

export type { OtelAnyValue, OtelKeyValue, OtelSpan } from "./trace-types";
import type { OtelSpan } from "./trace-types";

export interface MlflowTrace {
  trace_info: MlflowTraceInfo;
  spans?: OtelSpan[];
}

export interface MlflowTraceSearch {
  locations: { type: "MLFLOW_EXPERIMENT"; mlflow_experiment: { experiment_id: string } }[];
  filter?: string;
  order_by?: string[];
  max_results?: number;
  page_token?: string;
}

/** A run's artifact listing entry; the path is relative to the run's artifact root. */
export interface MlflowFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** A dataset a run used; schema, profile and source are JSON text as the client logged them. */
export interface MlflowDatasetInput {
  tags?: MlflowKeyValue[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}

/** An MLflow 3 logged model a run produced, at the step it was logged. */
export interface MlflowModelOutput {
  model_id: string;
  step: number;
}

export interface MlflowLoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: string;
    model_type?: string;
    source_run_id?: string;
    status_message?: string;
    tags?: MlflowKeyValue[];
  };
  data: { params?: MlflowKeyValue[] };
}
