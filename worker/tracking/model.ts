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

export interface Run {
  info: RunInfo;
  data: { metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] };
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
} as const;

/** Reserved tags MLflow clients and UIs read. */
export const TAG_RUN_NAME = "mlflow.runName";
export const TAG_USER = "mlflow.user";
