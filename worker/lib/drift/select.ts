/**
 * Everything around the individual tests: inferring a column's type the way Evidently's current API
 * does from the current data, choosing the default test from the cleaned reference size and the
 * pooled number of distinct values, running one column end to end, and the dataset-level verdict.
 */
import { cleanCategorical, cleanNumeric, countUnique, countUniqueUpTo, type Side } from "./clean";
import { type ColumnData, runStattest } from "./stattests";
import { cleanText, isTextStattest, TEXT_DESCRIPTORS, TEXT_STATTESTS, textDescriptors, textDrift, type TextDescriptorName, type TextDriftResult } from "./text";
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

/** Evidently's display name of any method, tabular or text. */
export function methodDisplayName(method: StattestName | TextStattestName): string {
  return isTextStattest(method) ? TEXT_STATTESTS[method].displayName : STATTESTS[method].displayName;
}

/** One test's outcome in the all-tests listing: its numbers, or why it is undefined here. */
export interface TestOutcome {
  method: StattestName | TextStattestName;
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
  method?: StattestName | TextStattestName;
  threshold?: number;
  column?: string;
  /** Also run every test applicable to the column type, each with its own default threshold. */
  allTests?: boolean;
}

/** A text descriptor's drift, tested with Evidently's default numeric choice; or why it could not be. */
export interface DescriptorDrift {
  descriptor: TextDescriptorName;
  method?: string;
  displayName?: string;
  score?: number;
  threshold?: number;
  drifted?: boolean;
  error?: { code: string; message: string };
}

/** What a text column's report shows besides the AUC. */
export interface TextDriftDetails {
  cutoff: number;
  trainRows: number;
  testRows: number;
  vocabularySize: number;
  words: TextDriftResult["words"];
  examples: TextDriftResult["examples"];
  descriptors: DescriptorDrift[];
}

export interface ColumnDriftResult extends StattestResult {
  column: string;
  columnType: ColumnType;
  referenceRows: number;
  currentRows: number;
  tests?: TestOutcome[];
  text?: TextDriftDetails;
}

function outcome(method: StattestName | TextStattestName, run: () => StattestResult): TestOutcome {
  const base = { method, displayName: methodDisplayName(method) };
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
  if (columnType === "text") return textColumnDrift(reference, current, options);
  if (options.method && isTextStattest(options.method)) {
    throw new DriftTestError("WRONG_COLUMN_TYPE", `${options.method} does not support ${columnType} column '${column}'.`);
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

const asCells = (values: ColumnValues): readonly RawValue[] => (values instanceof Float64Array ? Array.from(values) : values);

function textResult(r: TextDriftResult): StattestResult {
  return { method: r.method, displayName: r.displayName, scoreKind: "roc_auc", score: r.score, threshold: r.threshold, drifted: r.drifted };
}

/** Each text descriptor of both sides, tested as a numeric column with Evidently's default choice. */
export function descriptorDrift(reference: readonly string[], current: readonly string[]): DescriptorDrift[] {
  const ref = textDescriptors(reference);
  const cur = textDescriptors(current);
  return TEXT_DESCRIPTORS.map((descriptor) => {
    try {
      const r = columnDrift(ref[descriptor], cur[descriptor], { columnType: "num", column: descriptor });
      return { descriptor, method: r.method, displayName: r.displayName, score: r.score, threshold: r.threshold, drifted: r.drifted };
    } catch (e) {
      if (!(e instanceof DriftTestError)) throw e;
      return { descriptor, error: { code: e.code, message: e.message } };
    }
  });
}

/** A text column: the domain classifier (default by reference size), its words and examples, and the descriptors. */
function textColumnDrift(reference: ColumnValues, current: ColumnValues, options: ColumnDriftOptions): ColumnDriftResult {
  const column = options.column ?? "column";
  if (options.method && !isTextStattest(options.method)) {
    throw new DriftTestError("WRONG_COLUMN_TYPE", `${options.method} does not support text column '${column}'.`);
  }
  const ref = cleanText(asCells(reference), "reference", column);
  const cur = cleanText(asCells(current), "current", column);
  const method = options.method ?? (defaultStattest("text", 0, ref.length) as TextStattestName);
  const r = textDrift(ref, cur, { method, threshold: options.threshold });
  const out: ColumnDriftResult = {
    ...textResult(r),
    column,
    columnType: "text",
    referenceRows: ref.length,
    currentRows: cur.length,
    text: {
      cutoff: r.cutoff,
      trainRows: r.trainRows,
      testRows: r.testRows,
      vocabularySize: r.vocabularySize,
      words: r.words,
      examples: r.examples,
      descriptors: descriptorDrift(ref, cur),
    },
  };
  if (options.allTests) {
    const methods = Object.keys(TEXT_STATTESTS) as TextStattestName[];
    out.tests = methods.map((m) => outcome(m, () => (m === method ? textResult(r) : textResult(textDrift(ref, cur, { method: m })))));
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
