/**
 * The one call the browser's Web Worker pool, the CLI and the Worker make: drift of a whole table
 * (reference vs current, column by column) under per-column settings, summarised the way the
 * report and a monitor's time series store it. A column whose test is undefined carries its error
 * instead of a score and is left out of the dataset verdict; it never fails the other columns.
 * Columns may be plain arrays of parsed cells or Float64Arrays (transferable between threads).
 */
import {
  type ColumnValues,
  columnDrift,
  type DatasetDriftResult,
  datasetDrift,
  DEFAULT_DRIFT_SHARE,
  inferColumnType,
  methodDisplayName,
  type TestOutcome,
  type TextDriftDetails,
} from "./select";
import { type ColumnType, DriftTestError, type StattestName, type TextStattestName } from "./types";

export interface ColumnSetting {
  /** Overrides the type inferred from the current data. */
  type?: ColumnType;
  /** Overrides Evidently's default choice. */
  method?: StattestName | TextStattestName;
  /** Overrides the method's default threshold. */
  threshold?: number;
}

export interface DriftReportInput {
  reference: Readonly<Record<string, ColumnValues>>;
  current: Readonly<Record<string, ColumnValues>>;
  /** Columns to test, in order; by default every column present on both sides, in reference order. */
  columns?: readonly string[];
  settings?: Readonly<Record<string, ColumnSetting>>;
  /** Share of drifted columns at which the dataset counts as drifted (0.5). */
  driftShare?: number;
  /** Also compute every test applicable to each column's type. */
  allTests?: boolean;
}

/** One test in the all-tests listing, keyed as the JSON output names it. */
export interface TestSummary {
  method: StattestName | TextStattestName;
  display_name: string;
  score?: number;
  statistic?: number;
  p_value?: number;
  threshold?: number;
  drifted?: boolean;
  error?: { code: string; message: string };
}

export interface ColumnSummary {
  column: string;
  type: ColumnType;
  method: string;
  display_name?: string;
  threshold?: number;
  score?: number;
  drifted: boolean;
  statistic?: number;
  p_value?: number;
  reference_rows?: number;
  current_rows?: number;
  error?: { code: string; message: string };
  tests?: TestSummary[];
  /** Text columns: the classifier's cutoff, distinguishing words, typical rows and descriptor drift. */
  text?: TextDriftDetails;
}

export interface DriftReportSummary {
  columns: ColumnSummary[];
  /** Verdict over the columns that have a score; null when none has. */
  dataset: DatasetDriftResult | null;
  failed_columns: number;
}

function toTestSummary(t: TestOutcome): TestSummary {
  return {
    method: t.method,
    display_name: t.displayName,
    ...(t.score !== undefined ? { score: t.score } : {}),
    ...(t.statistic !== undefined ? { statistic: t.statistic } : {}),
    ...(t.pValue !== undefined ? { p_value: t.pValue } : {}),
    ...(t.threshold !== undefined ? { threshold: t.threshold } : {}),
    ...(t.drifted !== undefined ? { drifted: t.drifted } : {}),
    ...(t.error ? { error: t.error } : {}),
  };
}

/** Drift of one column under its setting, as a summary row (errors included, never thrown). */
export function columnSummary(
  column: string,
  reference: ColumnValues,
  current: ColumnValues,
  setting: ColumnSetting = {},
  allTests = false,
): ColumnSummary {
  const type = setting.type ?? inferColumnType(current);
  try {
    const r = columnDrift(reference, current, { columnType: type, method: setting.method, threshold: setting.threshold, column, allTests });
    return {
      column,
      type,
      method: r.method,
      display_name: r.displayName,
      threshold: r.threshold,
      score: r.score,
      drifted: r.drifted,
      ...(r.statistic !== undefined ? { statistic: r.statistic } : {}),
      ...(r.pValue !== undefined ? { p_value: r.pValue } : {}),
      reference_rows: r.referenceRows,
      current_rows: r.currentRows,
      ...(r.tests ? { tests: r.tests.map(toTestSummary) } : {}),
      ...(r.text ? { text: r.text } : {}),
    };
  } catch (e) {
    if (!(e instanceof DriftTestError)) throw e;
    const method = setting.method ?? (type === "text" ? "text" : "default");
    return {
      column,
      type,
      method,
      ...(setting.method ? { display_name: methodDisplayName(setting.method) } : {}),
      drifted: false,
      error: { code: e.code, message: e.message },
    };
  }
}

/** Drift summary of a whole table: one row per column and the dataset-level verdict. */
export function driftReport(input: DriftReportInput): DriftReportSummary {
  const columns = input.columns ?? Object.keys(input.reference).filter((c) => c in input.current);
  const driftShare = input.driftShare ?? DEFAULT_DRIFT_SHARE;
  if (!(driftShare >= 0 && driftShare <= 1)) throw new DriftTestError("INVALID_THRESHOLD", "The drift share must be within [0, 1].");
  const rows = columns.map((column) => {
    const reference = input.reference[column];
    const current = input.current[column];
    if (reference === undefined || current === undefined) {
      const side = reference === undefined ? "reference" : "current";
      return {
        column,
        type: input.settings?.[column]?.type ?? inferColumnType((reference ?? current) as ColumnValues),
        method: input.settings?.[column]?.method ?? "default",
        drifted: false,
        error: { code: "EMPTY_COLUMN", message: `Column '${column}' is missing from the ${side} dataset.` },
      } satisfies ColumnSummary;
    }
    return columnSummary(column, reference, current, input.settings?.[column], input.allTests ?? false);
  });
  const scored = rows.filter((r) => r.error === undefined);
  return {
    columns: rows,
    dataset: scored.length > 0 ? datasetDrift(scored, driftShare) : null,
    failed_columns: rows.length - scored.length,
  };
}
