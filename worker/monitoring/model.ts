/**
 * The monitoring domain: monitors, saved drift summaries, alert rules and events, and the two ports
 * the service reaches other pillars through (a pipeline trigger and a dataset reader), wired in
 * services.ts.
 */
import type { RawValue } from "../lib/drift";
import type { AlertOperator, AlertState } from "../lib/monitoring/alerts";

export interface ColumnOverride {
  method?: string;
  threshold?: number;
}

export interface ColumnSettings {
  /** Per-column method and threshold overrides. */
  columns?: Record<string, ColumnOverride>;
  /** Columns left out of drift checks. */
  ignore?: string[];
}

export interface Monitor {
  id: string;
  name: string;
  description: string | null;
  modelName: string;
  modelAlias: string | null;
  modelVersion: number | null;
  referenceDatasetVersion: string | null;
  currentDataset: string | null;
  columnSettings: ColumnSettings;
  driftShare: number;
  schedule: string | null;
  paused: boolean;
  lastCheckedVersion: string | null;
  lastCheckedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type ColumnKind = "num" | "cat" | "text";

/** One column of a drift summary, as the browser report and the scheduled check produce it. */
export interface ColumnResult {
  column: string;
  type: ColumnKind;
  method: string;
  threshold: number | null;
  score: number | null;
  drifted: boolean;
  statistic?: number | null;
  p_value?: number | null;
  error?: string | null;
}

export type Descriptor = Record<string, string | number | boolean | null>;

export interface ReportSummary {
  datasetDrift: boolean;
  driftShare: number;
  numberOfColumns: number;
  numberOfDriftedColumns: number;
  columns: ColumnResult[];
  performance: Record<string, number> | null;
}

export interface ReportInput {
  summary: ReportSummary;
  reference: Descriptor | null;
  current: Descriptor | null;
  sampleSize: number | null;
  /** "pipeline": a drift_check task of a pipeline run checked a dataset version; "manual": "check now". */
  source: "api" | "schedule" | "pipeline" | "manual";
  time?: number;
}

export interface MonitorReport extends ReportSummary {
  id: string;
  monitorId: string;
  time: number;
  reference: Descriptor | null;
  current: Descriptor | null;
  sampleSize: number | null;
  source: string;
}

export interface AlertRule {
  id: string;
  monitorId: string;
  name: string;
  series: string;
  operator: AlertOperator;
  threshold: number;
  forChecks: number;
  webhookUrl: string | null;
  pipelineId: string | null;
  enabled: boolean;
  consecutive: number;
  state: AlertState;
  lastValue: number | null;
  lastEvaluatedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type DeliveryStatus = "none" | "pending" | "delivered" | "failed";

export interface AlertEvent {
  id: string;
  ruleId: string;
  monitorId: string;
  reportId: string | null;
  kind: "fired" | "resolved";
  time: number;
  value: number | null;
  deliveryStatus: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastError: string | null;
  pipelineRunId: string | null;
  pipelineNote: string | null;
}

export interface SeriesPoint {
  time: number;
  value: number;
  reportId: string;
}

/** Starts a run of a pipeline with a run configuration; the pipelines pillar provides it. */
export type PipelineTrigger = (pipelineId: string, conf: Record<string, unknown>) => Promise<{ runId: string }>;

export const PIPELINES_UNAVAILABLE = "pipeline trigger pending: pipelines not available";

/** Reads dataset versions for scheduled checks; the datasets pillar provides it. */
export interface DatasetReader {
  /** The newest version id of a dataset, or null when it has none. */
  latestVersion(datasetId: string): Promise<string | null>;
  /** A version's rows as columns (column name → values in row order), or a sample of them. */
  readColumns(versionId: string): Promise<VersionColumns>;
}

/** What a DatasetReader read of a version: all its rows, or a sample when it is too large to read whole. */
export interface VersionColumns {
  /** The version read: its id, its dataset's name and its number. */
  versionId: string;
  dataset: string;
  version: number;
  columns: Record<string, RawValue[]>;
  /** Rows in the whole version; an estimate when `rowsEstimated`. */
  rows: number;
  rowsEstimated: boolean;
  /** How the sample was read; null when every row was read. */
  sample: { method: string; rows: number; bytesRead: number; droppedRows: number; droppedWindows: number } | null;
}

/** A version the reader will not read (a directory, a non-tabular or too large file): the check is skipped, not retried. */
export class DatasetUnreadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetUnreadable";
  }
}
