/**
 * A drift report from two tables: which columns are compared and how (plan), the dataset-level
 * verdict over the columns that have a score (summarize), and the summary a monitor stores (scores
 * and decisions only, never rows). Pure; the page, the HTML export and the tests share it.
 */
import { type ColumnType, datasetDrift, DEFAULT_DRIFT_SHARE, type StattestName, type TextStattestName } from "../../../../worker/lib/drift";
import type { ColumnOutcome, ColumnTask } from "../workers/drift/api";
import { inferTableColumnType, type Table } from "./table";

export interface ColumnSetting {
  method?: StattestName | TextStattestName;
  threshold?: number;
}

export interface ReportSettings {
  /** Per column overrides, by column name. */
  columns?: Record<string, ColumnSetting>;
  driftShare?: number;
  extraMethods?: StattestName[];
}

export interface ReportPlan {
  tasks: ColumnTask[];
  /** Columns that cannot be compared at all (absent on one side), already as outcomes. */
  unmatched: ColumnOutcome[];
}

const emptyTimings = () => ({ prepare: 0, main: 0, charts: 0 });

/** Compare every column of the current data that the reference also has, typed from the current data. */
export function planReport(reference: Table, current: Table, settings: ReportSettings = {}): ReportPlan {
  const refByName = new Map(reference.columns.map((c) => [c.name, c]));
  const curNames = new Set(current.columns.map((c) => c.name));
  const tasks: ColumnTask[] = [];
  const unmatched: ColumnOutcome[] = [];
  for (const col of current.columns) {
    const columnType: ColumnType = inferTableColumnType(col.data);
    const ref = refByName.get(col.name);
    if (!ref) {
      unmatched.push({
        column: col.name,
        columnType,
        error: { code: "MISSING_COLUMN", message: `Column '${col.name}' is in the current data but not in the reference.` },
        extra: [],
        referenceRows: 0,
        currentRows: current.rows,
        timings: emptyTimings(),
      });
      continue;
    }
    const override = settings.columns?.[col.name] ?? {};
    tasks.push({
      column: col.name,
      columnType,
      reference: ref.data,
      current: col.data,
      ...(override.method ? { method: override.method } : {}),
      ...(override.threshold !== undefined ? { threshold: override.threshold } : {}),
      ...(settings.extraMethods?.length ? { extraMethods: settings.extraMethods } : {}),
    });
  }
  for (const ref of reference.columns) {
    if (curNames.has(ref.name)) continue;
    unmatched.push({
      column: ref.name,
      columnType: inferTableColumnType(ref.data),
      error: { code: "MISSING_COLUMN", message: `Column '${ref.name}' is in the reference but not in the current data.` },
      extra: [],
      referenceRows: reference.rows,
      currentRows: 0,
      timings: emptyTimings(),
    });
  }
  return { tasks, unmatched };
}

export interface ReportSummary {
  /** Columns with a score (errors are listed but not counted). */
  numberOfColumns: number;
  numberOfDriftedColumns: number;
  shareOfDriftedColumns: number;
  driftShare: number;
  datasetDrift: boolean;
  errors: number;
}

export function summarize(columns: readonly ColumnOutcome[], driftShare = DEFAULT_DRIFT_SHARE): ReportSummary | null {
  const scored = columns.filter((c) => c.result);
  const errors = columns.length - scored.length;
  if (scored.length === 0) return null;
  const d = datasetDrift(
    scored.map((c) => ({ drifted: Boolean(c.result?.drifted) })),
    driftShare,
  );
  return { ...d, errors };
}

/** Evidently's table order: highest drift score first; columns in error last, by name. */
export function sortOutcomes(columns: readonly ColumnOutcome[]): ColumnOutcome[] {
  return [...columns].sort((a, b) => {
    if (a.result && b.result) return b.result.score - a.result.score || a.column.localeCompare(b.column);
    if (a.result) return -1;
    if (b.result) return 1;
    return a.column.localeCompare(b.column);
  });
}

/** "Drift is detected for 40% of columns (2 of 5)." */
export function summaryTitle(s: ReportSummary): string {
  const pct = Math.round(s.shareOfDriftedColumns * 10000) / 100;
  return `Drift is detected for ${pct}% of columns (${s.numberOfDriftedColumns} of ${s.numberOfColumns}).`;
}

/** Score as Evidently prints it (rounded to 6 places); never invents a number for a missing one. */
export function formatScore(score: number): string {
  if (Number.isNaN(score)) return "NaN";
  if (!Number.isFinite(score)) return score > 0 ? "inf" : "-inf";
  if (score !== 0 && Math.abs(score) < 1e-6) return score.toExponential(3);
  return String(Math.round(score * 1e6) / 1e6);
}

/** One column of a monitor report (the server's MonitorReportInput column shape). */
export interface MonitorColumnInput {
  column: string;
  type: ColumnType;
  method: string;
  threshold: number | null;
  score: number | null;
  drifted: boolean;
  statistic?: number | null;
  p_value?: number | null;
  error?: string | null;
}

/** A drift summary as POST /api/v1/monitors/{id}/reports takes it: scores and decisions, never rows. */
export interface MonitorReportInput {
  summary: {
    dataset_drift: boolean;
    /** Share of drifted columns in this report. */
    drift_share: number;
    number_of_columns: number;
    number_of_drifted_columns: number;
    columns: MonitorColumnInput[];
    performance?: Record<string, number>;
  };
  reference?: Record<string, string | number | boolean | null>;
  current?: Record<string, string | number | boolean | null>;
  sample_size?: number;
}

/** Descriptors of one compared file: scalar facts only (and the dataset version it was read from, if any). */
export interface FileDescriptor {
  name: string;
  rows?: number;
  bytes?: number;
  dataset?: string;
  version?: number;
  /** The dataset version's id. */
  dataset_version?: string;
}

const finiteOrNull = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/**
 * The summary a monitor stores (POST /api/v1/monitors/{id}/reports): the dataset verdict over the
 * scored columns, and per column its method, threshold, score and decision, or its error. A score
 * that is not finite (an infinite divergence) is sent as null rather than as a made-up number.
 */
export function monitorReportBody(columns: readonly ColumnOutcome[], driftShare: number, reference: FileDescriptor, current: FileDescriptor): MonitorReportInput {
  const s = summarize(columns, driftShare);
  return {
    summary: {
      dataset_drift: s?.datasetDrift ?? false,
      drift_share: s?.shareOfDriftedColumns ?? 0,
      number_of_columns: s?.numberOfColumns ?? 0,
      number_of_drifted_columns: s?.numberOfDriftedColumns ?? 0,
      columns: sortOutcomes(columns).map((o) => {
        if (!o.result) {
          return { column: o.column, type: o.columnType, method: "", threshold: null, score: null, drifted: false, error: o.error?.message ?? "no result" };
        }
        const r = o.result;
        return {
          column: o.column,
          type: o.columnType,
          method: r.method,
          threshold: finiteOrNull(r.threshold),
          score: finiteOrNull(r.score),
          drifted: r.drifted,
          ...(r.statistic !== undefined ? { statistic: finiteOrNull(r.statistic) } : {}),
          ...(r.scoreKind === "p_value" ? { p_value: finiteOrNull(r.score) } : {}),
        };
      }),
    },
    reference: { ...reference },
    current: { ...current },
  };
}
