/**
 * Everything around the individual tests: inferring a column's type the way Evidently's current API
 * does from the current data, choosing the default test from the cleaned reference size and the
 * pooled number of distinct values, running one column end to end, and the dataset-level verdict.
 */
import { cleanCategorical, cleanNumeric, countUnique, countUniqueUpTo, type Side } from "./clean";
import { type ColumnData, runStattest } from "./stattests";
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
export function inferColumnType(values: ColumnValues): ColumnType {
  if (values instanceof Float64Array) return inferTypedColumnType(values);
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

/**
 * A typed array carries no dtype: NaN-free whole numbers are read as pandas would read an integer
 * column (categorical with at most 10 distinct values), anything else as float.
 */
function inferTypedColumnType(values: Float64Array): ColumnType {
  const distinct = new Set<number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v)) return "num";
    if (distinct.size <= INT_CATEGORY_MAX_UNIQUES) distinct.add(v);
  }
  return values.length > 0 && distinct.size <= INT_CATEGORY_MAX_UNIQUES ? "cat" : "num";
}

/** One column as a caller holds it: parsed cells, or numbers in a (possibly transferred) typed array. */
export type ColumnValues = readonly RawValue[] | Float64Array;

/** Finite values of a typed numeric column; NaN and ±Infinity are missing. */
function cleanTyped(values: Float64Array, side: Side, column: string): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  if (n === 0) {
    throw new DriftTestError("EMPTY_COLUMN", `An empty column '${column}' was provided for drift calculation in the ${side} dataset.`, side);
  }
  if (n === values.length) return values;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out[j++] = values[i];
  return out;
}

/** Evidently's cleaning for one side of a column of the given type. */
export function cleanColumn(values: ColumnValues, columnType: ColumnType, side: Side, column = "column"): ColumnData {
  if (values instanceof Float64Array) {
    const finite = cleanTyped(values, side, column);
    return finite;
  }
  return columnType === "num" ? cleanNumeric(values, side, column) : cleanCategorical(values, side, column);
}


/** The tests Evidently allows for a column type (by their declared column types), in registry order. */
export function applicableStattests(columnType: ColumnType): StattestName[] {
  return (Object.keys(STATTESTS) as StattestName[]).filter((m) => STATTESTS[m].columnTypes.includes(columnType));
}

/** One test's outcome in the all-tests listing: its numbers, or why it is undefined here. */
export interface TestOutcome {
  method: StattestName;
  displayName: string;
  score?: number;
  statistic?: number;
  pValue?: number;
  threshold?: number;
  drifted?: boolean;
  error?: { code: string; message: string };
}

export interface ColumnDriftOptions {
  columnType: ColumnType;
  /** A named test; the column-type check applies only then, as in Evidently. */
  method?: StattestName;
  threshold?: number;
  column?: string;
  /** Also run every test applicable to the column type, each with its own default threshold. */
  allTests?: boolean;
}

export interface ColumnDriftResult extends StattestResult {
  column: string;
  columnType: ColumnType;
  referenceRows: number;
  currentRows: number;
  tests?: TestOutcome[];
}

function outcome(method: StattestName, run: () => StattestResult): TestOutcome {
  const base = { method, displayName: STATTESTS[method].displayName };
  try {
    const r = run();
    return {
      ...base,
      score: r.score,
      ...(r.statistic !== undefined ? { statistic: r.statistic } : {}),
      ...(r.pValue !== undefined ? { pValue: r.pValue } : {}),
      threshold: r.threshold,
      drifted: r.drifted,
    };
  } catch (e) {
    if (e instanceof DriftTestError) return { ...base, error: { code: e.code, message: e.message } };
    throw e;
  }
}

/** Clean both sides, pick or check the method, and run it. */
export function columnDrift(reference: ColumnValues, current: ColumnValues, options: ColumnDriftOptions): ColumnDriftResult {
  const column = options.column ?? "column";
  const { columnType } = options;
  if (columnType === "text") {
    throw new DriftTestError("UNSUPPORTED_METHOD", `Text drift (a domain classifier) is not computed by these statistics; column '${column}'.`);
  }
  const ref = cleanColumn(reference, columnType, "reference", column);
  const cur = cleanColumn(current, columnType, "current", column);
  let method: StattestName;
  if (options.method) {
    method = options.method;
    if (!STATTESTS[method].columnTypes.includes(columnType)) {
      throw new DriftTestError("WRONG_COLUMN_TYPE", `${method} does not support ${columnType} column '${column}'.`);
    }
  } else {
    // The rule only distinguishes <= 2, 3..5 and > 5 pooled values.
    method = defaultStattest(columnType, countUniqueUpTo(ref, 6, cur), ref.length) as StattestName;
  }
  const main = runStattest(method, ref, cur, columnType, options.threshold);
  const out: ColumnDriftResult = { ...main, column, columnType, referenceRows: ref.length, currentRows: cur.length };
  if (options.allTests) {
    const methods = applicableStattests(columnType);
    if (!methods.includes(method)) methods.unshift(method);
    out.tests = methods.map((m) => outcome(m, () => (m === method ? main : runStattest(m, ref, cur, columnType))));
  }
  return out;
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
