/**
 * What the drift Web Workers do, as plain functions (tested in Node without a Worker): read a data
 * file into columns, and compute one column's drift (the default or chosen test, optional extra
 * tests) together with the numbers its charts need. Raw rows never leave the browser; only these
 * results go back to the page.
 */
import {
  type CategoryValue,
  columnDrift,
  type ColumnType,
  type DriftErrorCode,
  DriftTestError,
  isDrift,
  isTextStattest,
  type RawValue,
  STATTESTS,
  type StattestName,
  type StattestResult,
  textDescriptors,
  type TextDriftDetails,
  type TextStattestName,
} from "../../../../../worker/lib/drift";
import {
  type CategoryCounts,
  categoricalStattest,
  countCodes,
  countSorted,
  defaultColumnarStattest,
  histogramSorted,
  numericStattest,
  type SortedNumeric,
  sortNumeric,
} from "../../../../../worker/lib/drift/columnar";
import { compareCategories } from "../../../../../worker/lib/drift/clean";
import { isRemoteTable, readRemoteTable, readTable as readTableFile, type ReadProgress, type RemoteTable } from "../../drift/read-table";
import type { ColumnValues, Table } from "../../drift/table";

export interface ColumnTask {
  column: string;
  /** From the current data (inferTableColumnType), as Evidently decides it. */
  columnType: ColumnType;
  reference: ColumnValues;
  current: ColumnValues;
  /** Override of the default method (the text methods for a text column). */
  method?: StattestName | TextStattestName;
  threshold?: number;
  /** Further tests to run on the same column (reported beside the main one). */
  extraMethods?: StattestName[];
}

export interface DriftError {
  code: string;
  message: string;
}

export interface TestOutcome {
  method: StattestName | TextStattestName;
  displayName: string;
  scoreKind: "p_value" | "distance" | "roc_auc";
  score: number;
  statistic?: number;
  threshold: number;
  drifted: boolean;
}

/** Density histogram of one side with its own ten equal-width bins (Evidently's table sparkline). */
export interface SideHistogram {
  edges: number[];
  density: number[];
}

export type ColumnCharts =
  | {
      kind: "num";
      reference: SideHistogram;
      current: SideHistogram;
      /** Shared Doane bins over both sides, counts per side (the detail view). */
      overlay: { edges: number[]; reference: number[]; current: number[] };
    }
  | {
      kind: "cat";
      /** Categories sorted by their text, as Evidently's sparkline; the rarest beyond the cap are summed into `other`. */
      categories: string[];
      reference: number[];
      current: number[];
      other?: { categories: number; reference: number; current: number };
    };

export interface ColumnOutcome {
  column: string;
  columnType: ColumnType;
  /** The main test: the default for the column or the override. */
  result?: TestOutcome;
  error?: DriftError;
  extra: { method: StattestName; result?: TestOutcome; error?: DriftError; ms: number }[];
  /** Non-missing, finite cells on each side. */
  referenceRows: number;
  currentRows: number;
  /** Numeric charts; for a text column they show the text length of each row. */
  charts?: ColumnCharts;
  /** Text columns: the classifier's cutoff, distinguishing words, typical rows, descriptor drift. */
  text?: TextDriftDetails;
  /** Milliseconds: cleaning/sorting, the main test, the charts. */
  timings: { prepare: number; main: number; charts: number };
}

/** At most this many categories are drawn; the rest are summed. */
export const MAX_CHART_CATEGORIES = 40;
const MAX_OVERLAY_BINS = 120;

const now = (): number => performance.now();

function asError(err: unknown): DriftError {
  if (err instanceof DriftTestError) return { code: err.code, message: err.message };
  return { code: "COMPUTE_ERROR", message: err instanceof Error ? err.message : String(err) };
}

function outcome(r: StattestResult): TestOutcome {
  return {
    method: r.method,
    displayName: r.displayName,
    scoreKind: r.scoreKind,
    score: r.score,
    ...(r.statistic !== undefined ? { statistic: r.statistic } : {}),
    threshold: r.threshold,
    drifted: r.drifted,
  };
}

type Reduced = { type: "num"; ref: SortedNumeric; cur: SortedNumeric } | { type: "cat"; ref: CategoryCounts; cur: CategoryCounts };

function reduce(task: ColumnTask): Reduced {
  const { column } = task;
  if (task.columnType === "num") {
    for (const [side, data] of [["reference", task.reference], ["current", task.current]] as const) {
      if (data.storage !== "number") {
        throw new DriftTestError("NOT_NUMERIC", `Column '${column}' is numeric in the current data but the ${side} data holds text.`, side);
      }
    }
    const ref = task.reference as Extract<ColumnValues, { storage: "number" }>;
    const cur = task.current as Extract<ColumnValues, { storage: "number" }>;
    return { type: "num", ref: sortNumeric(ref.values, "reference", column), cur: sortNumeric(cur.values, "current", column) };
  }
  const counts = (data: ColumnValues, side: "reference" | "current"): CategoryCounts => {
    if (data.storage === "category") return countCodes(data.codes, data.dictionary, side, column);
    const c = countSorted(sortNumeric(data.values, side, column).sorted);
    return c;
  };
  return { type: "cat", ref: counts(task.reference, "reference"), cur: counts(task.current, "current") };
}

function runTest(reduced: Reduced, method: StattestName | TextStattestName, threshold: number | undefined, column: string): StattestResult {
  if (isTextStattest(method)) throw new DriftTestError("WRONG_COLUMN_TYPE", `${method} does not support ${reduced.type} column '${column}'.`);
  if (reduced.type === "num") return numericStattest(method, reduced.ref, reduced.cur, threshold);
  if (!STATTESTS[method].columnTypes.includes("cat")) {
    throw new DriftTestError("WRONG_COLUMN_TYPE", `${method} does not support cat column '${column}'.`);
  }
  return categoricalStattest(method, reduced.ref, reduced.cur, threshold);
}

/** np.histogram(values, bins=10, density=True) on sorted values. */
function sideHistogram(sorted: Float64Array, bins = 10): SideHistogram {
  let lo = sorted[0];
  let hi = sorted[sorted.length - 1];
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * step));
  const counts = histogramSorted(sorted, edges);
  return { edges, density: counts.map((c, i) => c / sorted.length / (edges[i + 1] - edges[i])) };
}

/** Doane's bin count over both sides together (numpy's "doane"), capped for drawing. */
function doaneBins(a: Float64Array, b: Float64Array): number {
  const n = a.length + b.length;
  if (n < 3) return 1;
  let sum = 0;
  for (const arr of [a, b]) for (let i = 0; i < arr.length; i++) sum += arr[i];
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  for (const arr of [a, b]) {
    for (let i = 0; i < arr.length; i++) {
      const d = arr[i] - mean;
      m2 += d * d;
      m3 += d * d * d;
    }
  }
  const sd = Math.sqrt(m2 / n);
  if (sd === 0) return 1;
  const g1 = m3 / n / (sd * sd * sd);
  const sg1 = Math.sqrt((6 * (n - 2)) / ((n + 1) * (n + 3)));
  const bins = Math.ceil(1 + Math.log2(n) + Math.log2(1 + Math.abs(g1) / sg1));
  return Math.max(1, Math.min(MAX_OVERLAY_BINS, bins));
}

function numericCharts(ref: Float64Array, cur: Float64Array): ColumnCharts {
  let lo = Math.min(ref[0], cur[0]);
  let hi = Math.max(ref[ref.length - 1], cur[cur.length - 1]);
  const bins = lo === hi ? 1 : doaneBins(ref, cur);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * step));
  return {
    kind: "num",
    reference: sideHistogram(ref),
    current: sideHistogram(cur),
    overlay: { edges, reference: histogramSorted(ref, edges), current: histogramSorted(cur, edges) },
  };
}

function categoryCharts(ref: CategoryCounts, cur: CategoryCounts): ColumnCharts {
  const keys = [...new Set<CategoryValue>([...ref.counts.keys(), ...cur.counts.keys()])];
  let shown = keys;
  let other: { categories: number; reference: number; current: number } | undefined;
  if (keys.length > MAX_CHART_CATEGORIES) {
    const total = (k: CategoryValue) => (ref.counts.get(k) ?? 0) + (cur.counts.get(k) ?? 0);
    const ranked = [...keys].sort((a, b) => total(b) - total(a) || compareCategories(a, b));
    shown = ranked.slice(0, MAX_CHART_CATEGORIES);
    const rest = ranked.slice(MAX_CHART_CATEGORIES);
    other = {
      categories: rest.length,
      reference: rest.reduce<number>((s, k) => s + (ref.counts.get(k) ?? 0), 0),
      current: rest.reduce<number>((s, k) => s + (cur.counts.get(k) ?? 0), 0),
    };
  }
  const labelled = shown.map((k) => ({ key: k, label: String(k) })).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return {
    kind: "cat",
    categories: labelled.map((l) => l.label),
    reference: labelled.map((l) => ref.counts.get(l.key) ?? 0),
    current: labelled.map((l) => cur.counts.get(l.key) ?? 0),
    ...(other ? { other } : {}),
  };
}

/** A column's cells as the pure module takes them (text columns are not reduced: the classifier reads every row). */
function cells(data: ColumnValues): RawValue[] {
  if (data.storage === "number") return Array.from(data.values, (v) => (Number.isNaN(v) ? null : v));
  return Array.from(data.codes, (c) => (c < 0 ? null : data.dictionary[c]));
}

/** A text column: the domain classifier and descriptors from the pure module; text-length charts. */
function computeTextColumn(task: ColumnTask): ColumnOutcome {
  const timings = { prepare: 0, main: 0, charts: 0 };
  const base: ColumnOutcome = { column: task.column, columnType: "text", extra: [], referenceRows: 0, currentRows: 0, timings };
  let t = now();
  const ref = cells(task.reference);
  const cur = cells(task.current);
  timings.prepare = now() - t;
  t = now();
  try {
    const r = columnDrift(ref, cur, { columnType: "text", method: task.method, threshold: task.threshold, column: task.column });
    base.result = outcome(r);
    base.text = r.text;
    base.referenceRows = r.referenceRows;
    base.currentRows = r.currentRows;
  } catch (err) {
    base.error = asError(err);
  }
  timings.main = now() - t;
  for (const method of task.extraMethods ?? []) {
    base.extra.push({ method, error: { code: "WRONG_COLUMN_TYPE", message: `${method} does not support text column '${task.column}'.` }, ms: 0 });
  }
  t = now();
  const lengths = (values: RawValue[]) => {
    const present = values.filter((v) => v !== null && v !== undefined).map((v) => String(v));
    return Float64Array.from(textDescriptors(present).length).sort();
  };
  const refLengths = lengths(ref);
  const curLengths = lengths(cur);
  if (refLengths.length && curLengths.length) base.charts = numericCharts(refLengths, curLengths);
  timings.charts = now() - t;
  return base;
}

/** One column's drift report: main test, extra tests, chart data, or a clear error. Never a made-up number. */
export function computeColumn(task: ColumnTask): ColumnOutcome {
  if (task.columnType === "text") return computeTextColumn(task);
  const timings = { prepare: 0, main: 0, charts: 0 };
  const base: ColumnOutcome = { column: task.column, columnType: task.columnType, extra: [], referenceRows: 0, currentRows: 0, timings };
  let t = now();
  let reduced: Reduced;
  try {
    reduced = reduce(task);
  } catch (err) {
    timings.prepare = now() - t;
    return { ...base, error: asError(err) };
  }
  timings.prepare = now() - t;
  base.referenceRows = reduced.type === "num" ? reduced.ref.sorted.length : reduced.ref.total;
  base.currentRows = reduced.type === "num" ? reduced.cur.sorted.length : reduced.cur.total;

  // A test named twice (the default also listed as an extra) runs once: the score does not depend
  // on the threshold, only the decision does.
  const memo = new Map<StattestName | TextStattestName, StattestResult | DriftError>();
  const test = (method: StattestName | TextStattestName, threshold?: number): StattestResult => {
    let r = memo.get(method);
    if (!r) {
      try {
        r = runTest(reduced, method, undefined, task.column);
      } catch (err) {
        r = asError(err);
      }
      memo.set(method, r);
    }
    if (!("score" in r)) throw new DriftTestError(r.code as DriftErrorCode, r.message);
    if (threshold === undefined) return r;
    if (!Number.isFinite(threshold)) throw new DriftTestError("INVALID_THRESHOLD", `Threshold for ${method} must be a finite number.`);
    return { ...r, threshold, drifted: isDrift(STATTESTS[method as StattestName], r.score, threshold) };
  };

  t = now();
  try {
    const method = task.method ?? (defaultColumnarStattest(reduced) as StattestName);
    base.result = outcome(test(method, task.threshold));
  } catch (err) {
    base.error = asError(err);
  }
  timings.main = now() - t;

  for (const method of task.extraMethods ?? []) {
    const s = now();
    try {
      base.extra.push({ method, result: outcome(test(method)), ms: now() - s });
    } catch (err) {
      base.extra.push({ method, error: asError(err), ms: now() - s });
    }
  }

  t = now();
  base.charts = reduced.type === "num" ? numericCharts(reduced.ref.sorted, reduced.cur.sorted) : categoryCharts(reduced.ref, reduced.cur);
  timings.charts = now() - t;
  return base;
}

/** A table to read: a file the user picked, or a file served by Tern (a dataset version). */
export type TableSource = (Blob & { name?: string }) | RemoteTable;

/** Read a CSV or Parquet file into columns; a remote one is streamed from its URL into the parser. */
export function readTable(source: TableSource, onProgress?: ReadProgress): Promise<Table> {
  return isRemoteTable(source) ? readRemoteTable(source, onProgress) : readTableFile(source, onProgress);
}

export const driftApi = { computeColumn, readTable };
export type DriftApi = typeof driftApi;
