/**
 * Reading an MLflow run the way the tracking pages show it: its params, latest metrics and tags as
 * maps, the system tags MLflow clients write (source, git, parent run, note), its duration, and the
 * MLflow search syntax for a column (order_by targets and quoted filter strings).
 */
import type { MlflowKeyValue, MlflowRun } from "$lib/api/client";
import { parseMetricValue } from "$lib/charts/metric-series";

export type ColumnKind = "param" | "metric" | "tag";

export interface ColumnRef {
  kind: ColumnKind;
  key: string;
}

export const SYSTEM_TAG_PREFIX = "mlflow.";

export const TAGS = {
  user: "mlflow.user",
  sourceName: "mlflow.source.name",
  sourceType: "mlflow.source.type",
  gitCommit: "mlflow.source.git.commit",
  gitBranch: "mlflow.source.git.branch",
  gitRepo: "mlflow.source.git.repoURL",
  parentRun: "mlflow.parentRunId",
  note: "mlflow.note.content",
} as const;

const toMap = (kvs: MlflowKeyValue[] | undefined) => new Map((kvs ?? []).map((kv) => [kv.key, kv.value]));

export const paramsOf = (run: MlflowRun): Map<string, string> => toMap(run.data.params);
export const tagsOf = (run: MlflowRun): Map<string, string> => toMap(run.data.tags);

export interface LatestMetric {
  value: number;
  step: number;
  timestamp: number;
}

export const metricsOf = (run: MlflowRun): Map<string, LatestMetric> =>
  new Map((run.data.metrics ?? []).map((m) => [m.key, { value: parseMetricValue(m.value), step: m.step, timestamp: m.timestamp }]));

/** A finished run's duration, or how long a running one has been going. */
export function runDuration(run: MlflowRun, now: number = Date.now()): number | null {
  const { start_time: start, end_time: end, status } = run.info;
  if (!start) return null;
  if (end) return end - start;
  return status === "RUNNING" ? now - start : null;
}

export function columnValue(run: MlflowRun, column: ColumnRef): string | number | null {
  if (column.kind === "param") return paramsOf(run).get(column.key) ?? null;
  if (column.kind === "tag") return tagsOf(run).get(column.key) ?? null;
  return metricsOf(run).get(column.key)?.value ?? null;
}

const ENTITY: Record<ColumnKind, string> = { param: "params", metric: "metrics", tag: "tags" };

/** A key in backticks, as MLflow's grammar allows for any key with dots, spaces or dashes. */
export const orderByTarget = (column: ColumnRef): string => `${ENTITY[column.kind]}.\`${column.key}\``;

/**
 * A user's text as a quoted string in an MLflow filter. MLflow only strips the outer quotes (no
 * escapes), so text with a single quote is put in double quotes, and with both kinds the rarer goes.
 */
export function quoteFilterValue(text: string): string {
  if (!text.includes("'")) return `'${text}'`;
  if (!text.includes('"')) return `"${text}"`;
  return `'${text.replaceAll("'", "")}'`;
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
