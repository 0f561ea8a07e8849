/**
 * Everything around the individual tests: inferring a column's type the way Evidently's current API
 * does from the current data, choosing the default test from the cleaned reference size and the
 * pooled number of distinct values, running one column end to end, and the dataset-level verdict.
 */
import { cleanCategorical, cleanNumeric, countUnique } from "./clean";
import { runStattest } from "./stattests";
import {
  type CategoryValue,
  type ColumnType,
  DriftTestError,
  type RawValue,
  STATTESTS,
  type StattestName,
  type StattestResult,
  type TextStattestName,
} from "./types";

/** The pandas dtype a parsed column would get: integers with a gap become float, as read_csv does. */
export type ValueKind = "float" | "int" | "bool" | "string" | "mixed";

/** At most this many distinct integers make an integer column categorical. */
export const INT_CATEGORY_MAX_UNIQUES = 10;
/** Reference rows above this switch the defaults to the large-data methods. */
export const LARGE_REFERENCE_ROWS = 1000;
export const DEFAULT_DRIFT_SHARE = 0.5;

const isMissingCell = (v: RawValue): boolean => v === null || v === undefined || (typeof v === "number" && Number.isNaN(v));

export function inferValueKind(values: readonly RawValue[]): ValueKind {
  let numbers = 0;
  let integers = 0;
  let booleans = 0;
  let strings = 0;
  let missing = 0;
  for (const v of values) {
    if (isMissingCell(v)) missing++;
    else if (typeof v === "number") {
      numbers++;
      if (Number.isInteger(v)) integers++;
    } else if (typeof v === "boolean") booleans++;
    else strings++;
  }
  const present = values.length - missing;
  // An all-missing column parses as float in pandas.
  if (numbers === present) return integers === numbers && missing === 0 && present > 0 ? "int" : "float";
  if (booleans === present) return "bool";
  if (strings === present) return "string";
  return "mixed";
}

/**
 * Evidently's column type from the current data: floats are numeric; integers are categorical with
 * at most 10 distinct values; booleans are categorical; strings are text when more than half of the
 * non-missing values are distinct, else categorical. Mixed-type columns (pandas "object" of
 * non-strings) are treated as categorical.
 */
export function inferColumnType(values: readonly RawValue[]): ColumnType {
  const kind = inferValueKind(values);
  const present = values.filter((v) => !isMissingCell(v)) as CategoryValue[];
  switch (kind) {
    case "float":
      return "num";
    case "int":
      return countUnique(present) <= INT_CATEGORY_MAX_UNIQUES ? "cat" : "num";
    case "bool":
    case "mixed":
      return "cat";
    case "string":
      return countUnique(present) > 0.5 * present.length ? "text" : "cat";
  }
}

/**
 * The default test for a column: by reference size (<= 1000 rows vs more) and the number of
 * distinct values in reference and current together, both counted after cleaning.
 */
export function defaultStattest(columnType: ColumnType, pooledUniques: number, referenceRows: number): StattestName | TextStattestName {
  const small = referenceRows <= LARGE_REFERENCE_ROWS;
  if (columnType === "text") return small ? "perc_text_content_drift" : "abs_text_content_drift";
  if (!small) return columnType === "num" && pooledUniques > 5 ? "wasserstein" : "jensenshannon";
  if (pooledUniques <= 2) return "z";
  if (columnType === "num" && pooledUniques > 5) return "ks";
  return "chisquare";
}

export interface ColumnDriftOptions {
  columnType: ColumnType;
  /** A named test; the column-type check applies only then, as in Evidently. */
  method?: StattestName;
  threshold?: number;
  column?: string;
}

export interface ColumnDriftResult extends StattestResult {
  column: string;
  columnType: ColumnType;
  referenceRows: number;
  currentRows: number;
}

/** Clean both sides, pick or check the method, and run it. */
export function columnDrift(reference: readonly RawValue[], current: readonly RawValue[], options: ColumnDriftOptions): ColumnDriftResult {
  const column = options.column ?? "column";
  const { columnType } = options;
  if (columnType === "text") {
    throw new DriftTestError("UNSUPPORTED_METHOD", `Text drift (a domain classifier) is not computed by these statistics; column '${column}'.`);
  }
  const ref = columnType === "num" ? cleanNumeric(reference, "reference", column) : cleanCategorical(reference, "reference", column);
  const cur = columnType === "num" ? cleanNumeric(current, "current", column) : cleanCategorical(current, "current", column);
  let method: StattestName;
  if (options.method) {
    method = options.method;
    if (!STATTESTS[method].columnTypes.includes(columnType)) {
      throw new DriftTestError("WRONG_COLUMN_TYPE", `${method} does not support ${columnType} column '${column}'.`);
    }
  } else {
    method = defaultStattest(columnType, countUnique([...ref, ...cur]), ref.length) as StattestName;
  }
  return {
    ...runStattest(method, ref, cur, columnType, options.threshold),
    column,
    columnType,
    referenceRows: ref.length,
    currentRows: cur.length,
  };
}

export interface DatasetDriftResult {
  numberOfColumns: number;
  numberOfDriftedColumns: number;
  shareOfDriftedColumns: number;
  driftShare: number;
  datasetDrift: boolean;
}

/** Dataset drift when the share of drifted columns reaches the drift share (exactly half counts). */
export function datasetDrift(columns: readonly { drifted: boolean }[], driftShare = DEFAULT_DRIFT_SHARE): DatasetDriftResult {
  if (columns.length === 0) throw new DriftTestError("NO_COLUMNS", "Dataset drift needs at least one column.");
  if (!(driftShare >= 0 && driftShare <= 1)) throw new DriftTestError("INVALID_THRESHOLD", "The drift share must be within [0, 1].");
  const drifted = columns.filter((c) => c.drifted).length;
  const share = drifted / columns.length;
  return {
    numberOfColumns: columns.length,
    numberOfDriftedColumns: drifted,
    shareOfDriftedColumns: share,
    driftShare,
    datasetDrift: share >= driftShare,
  };
}
