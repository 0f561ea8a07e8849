/**
 * Tracking's domain types and MLflow's limits. The same objects back the MLflow REST routes and the
 * native API; wire shapes are made in the routes.
 */

export type LifecycleStage = "active" | "deleted";
export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
export const RUN_STATUSES: readonly RunStatus[] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];
export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface KeyValue {
  key: string;
  value: string;
}

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: KeyValue[];
}

/** A metric point; `value` may be NaN or ±Infinity (clamped on storage, as MLflow's SQL store does). */
export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A point as MLflow 3 may log it: for a logged model, and for the dataset it was measured on. */
export interface LoggedMetricPoint extends MetricPoint {
  modelId?: string | null;
  datasetName?: string | null;
  datasetDigest?: string | null;
}

export interface RunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

/** A dataset as MLflow describes it (log-inputs); identified per experiment by (name, digest). */
export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

export interface DatasetInput {
  /** Input tags, e.g. mlflow.data.context = training. */
  tags: KeyValue[];
  dataset: Dataset;
}

/** MLflow 3: a logged model a run produced, and at which step. */
export interface ModelOutput {
  modelId: string;
  step: number;
}

export interface DatasetSummary {
  experimentId: string;
  name: string;
  digest: string;
  context: string | null;
}

export interface Run {
  info: RunInfo;
  data: { metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] };
  inputs: { datasetInputs: DatasetInput[]; modelInputs: { modelId: string }[] };
  outputs: { modelOutputs: ModelOutput[] };
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

/** MLflow's validation limits (mlflow/utils/validation.py). */
export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 5000,
  experimentNameLength: 500,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  searchRunsMax: 50000,
  searchRunsDefault: 1000,
  searchExperimentsMax: 50000,
  searchExperimentsDefault: 1000,
  metricHistoryMax: 25000,
  datasetsPerRequest: 1000,
  datasetNameLength: 500,
  datasetDigestLength: 36,
  datasetSourceLength: 65535,
  datasetSchemaLength: 1048575,
  datasetProfileLength: 16777215,
  inputTagKeyLength: 255,
  inputTagValueLength: 500,
  datasetSummariesMax: 1000,
} as const;

/** Reserved tags MLflow clients and UIs read. */
export const TAG_RUN_NAME = "mlflow.runName";
export const TAG_USER = "mlflow.user";
export const TAG_LOG_MODEL_HISTORY = "mlflow.log-model.history";
/** The input tag that says how a dataset was used (training, evaluation, ...); datasets.context filters on it. */
export const TAG_DATASET_CONTEXT = "mlflow.data.context";
