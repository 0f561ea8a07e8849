/**
 * The drift tests on columnar data, for large columns: a numeric column reduced once to its sorted
 * finite values (a Float64Array), a categorical column reduced once to its value counts. Every test
 * then reads that reduction instead of re-sorting or re-counting the raw cells, which is what makes a
 * million-row column cheap. Scores equal the array-based tests in stattests.ts (same binning, same
 * summation order); tests without a columnar form fall back to them. Runtime-free.
 */
import { MAX_VALUE_BINS_UNIQUES, sturgesEdgesFromRange } from "./binning";
import { unionKeys } from "./clean";
import { ks2Sample } from "./kolmogorov";
import { defaultStattest } from "./select";
import { chiSquareOfCounts, hellingerOfCounts, jensenShannonDistance, klOfBins, psiOfBins, runStattest, stattestResult, zOfCounts } from "./stattests";
import {
  type CategoryValue,
  DriftTestError,
  STATTESTS,
  type StattestName,
  type StattestResult,
  type TextStattestName,
} from "./types";

export type Side = "reference" | "current";

/** A numeric column after cleaning: finite values in ascending order, and the population std of the cleaned values. */
export interface SortedNumeric {
  sorted: Float64Array;
  /** np.std of the cleaned values in their original order (what wasserstein normalises by). */
  std: number;
}

/** A categorical column after cleaning: how often each non-missing value occurs. */
export interface CategoryCounts {
  counts: Map<CategoryValue, number>;
  total: number;
}

function emptyError(column: string, side: Side): DriftTestError {
  return new DriftTestError("EMPTY_COLUMN", `An empty column '${column}' was provided for drift calculation in the ${side} dataset.`, side);
}

/** Drop NaN and ±Infinity (Evidently's cleaning), keep np.std of what is left, sort ascending. */
export function sortNumeric(values: ArrayLike<number>, side: Side, column = "column"): SortedNumeric {
  const out = new Float64Array(values.length);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      out[n++] = v;
      sum += v;
    }
  }
  if (n === 0) throw emptyError(column, side);
  const clean = n === out.length ? out : out.slice(0, n);
  // Same summation order as populationStd over the cleaned array, so the normalised Wasserstein matches it bit for bit.
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (clean[i] - mean) * (clean[i] - mean);
  clean.sort();
  return { sorted: clean, std: Math.sqrt(ss / n) };
}

/** Value counts of dictionary-encoded cells (code -1 is missing). */
export function countCodes(codes: ArrayLike<number>, dictionary: readonly CategoryValue[], side: Side, column = "column"): CategoryCounts {
  const perCode = new Float64Array(dictionary.length);
  let total = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c >= 0) {
      perCode[c]++;
      total++;
    }
  }
  if (total === 0) throw emptyError(column, side);
  const counts = new Map<CategoryValue, number>();
  for (let k = 0; k < dictionary.length; k++) {
    if (perCode[k] > 0) counts.set(dictionary[k], (counts.get(dictionary[k]) ?? 0) + perCode[k]);
  }
  return { counts, total };
}

/** Value counts of a sorted numeric column (the categorical view the z and chi-square tests take of numbers). */
export function countSorted(sorted: Float64Array): CategoryCounts {
  const counts = new Map<CategoryValue, number>();
  let i = 0;
  while (i < sorted.length) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    counts.set(sorted[i], (counts.get(sorted[i]) ?? 0) + (j - i));
    i = j;
  }
  return { counts, total: sorted.length };
}

/** Distinct values in a sorted array, counting at most `cap` (enough to decide a threshold). */
export function countDistinctSorted(sorted: Float64Array, cap = Infinity): number {
  if (sorted.length === 0) return 0;
  let n = 1;
  for (let i = 1; i < sorted.length && n < cap; i++) if (sorted[i] !== sorted[i - 1]) n++;
  return n;
}

/** Distinct values of two sorted arrays together. */
export function countDistinctMerged(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let n = 0;
  let last = NaN;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++];
    if (n === 0 || v !== last) {
      n++;
      last = v;
    }
  }
  return n;
}

/** np.histogram counts of a sorted array: [e_i, e_{i+1}) with the last bin closed, one linear pass. */
export function histogramSorted(sorted: Float64Array, edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const first = edges[0];
  const last = edges[bins];
  let b = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i];
    if (!(v >= first && v <= last)) continue;
    if (v === last) {
      counts[bins - 1]++;
      continue;
    }
    while (b + 1 < bins && edges[b + 1] <= v) b++;
    counts[b]++;
  }
  return counts;
}

/** Evidently's shared psi/kl/js bins for a numeric column (binnedPercents), from sorted values. */
export function binnedPercentsSorted(ref: Float64Array, cur: Float64Array): { reference: number[]; current: number[] } {
  if (countDistinctSorted(ref, MAX_VALUE_BINS_UNIQUES + 1) > MAX_VALUE_BINS_UNIQUES) {
    const lo = Math.min(ref[0], cur[0]);
    const hi = Math.max(ref[ref.length - 1], cur[cur.length - 1]);
    const edges = sturgesEdgesFromRange(ref.length + cur.length, lo, hi);
    return {
      reference: histogramSorted(ref, edges).map((c) => c / ref.length),
      current: histogramSorted(cur, edges).map((c) => c / cur.length),
    };
  }
  return binnedPercentsCounts(countSorted(ref), countSorted(cur));
}

/** One bin per value seen on either side, in the module's category order. */
export function binnedPercentsCounts(ref: CategoryCounts, cur: CategoryCounts): { reference: number[]; current: number[] } {
  const keys = unionKeys(ref.counts, cur.counts);
  return {
    reference: keys.map((k) => (ref.counts.get(k) ?? 0) / ref.total),
    current: keys.map((k) => (cur.counts.get(k) ?? 0) / cur.total),
  };
}

/** 1-D Wasserstein distance of two sorted samples: the same sum as wassersteinDistance, by merging instead of sorting. */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  const total = u.length + v.length;
  let i = 0;
  let j = 0;
  // ia/ib: how many of u/v are <= the current pooled value (ties included), as the array version counts them.
  let ia = 0;
  let ib = 0;
  let sum = 0;
  let x = j >= v.length || (i < u.length && u[i] <= v[j]) ? u[i++] : v[j++];
  for (let k = 0; k < total - 1; k++) {
    const next = j >= v.length || (i < u.length && u[i] <= v[j]) ? u[i++] : v[j++];
    while (ia < u.length && u[ia] <= x) ia++;
    while (ib < v.length && v[ib] <= x) ib++;
    sum += Math.abs(ia / u.length - ib / v.length) * (next - x);
    x = next;
  }
  return sum;
}

/** Expand counts back to cells, for tests that have no counts-based form. */
function expand(c: CategoryCounts): CategoryValue[] {
  const out: CategoryValue[] = [];
  for (const k of unionKeys(c.counts, new Map())) {
    const n = c.counts.get(k) ?? 0;
    for (let i = 0; i < n; i++) out.push(k);
  }
  return out;
}

/** psi, kl_div and jensenshannon share one binning per pair of columns; compute it once. */
const binsCache = new WeakMap<SortedNumeric, { cur: SortedNumeric; bins: { reference: number[]; current: number[] } }>();

function numericBins(ref: SortedNumeric, cur: SortedNumeric): { reference: number[]; current: number[] } {
  const hit = binsCache.get(ref);
  if (hit && hit.cur === cur) return hit.bins;
  const bins = binnedPercentsSorted(ref.sorted, cur.sorted);
  binsCache.set(ref, { cur, bins });
  return bins;
}

/** A named test on a numeric column given as sorted finite values on each side. */
export function numericStattest(method: StattestName, ref: SortedNumeric, cur: SortedNumeric, threshold?: number): StattestResult {
  switch (method) {
    case "ks": {
      const r = ks2Sample(ref.sorted as unknown as number[], cur.sorted as unknown as number[]);
      return stattestResult("ks", r.pValue, threshold, { statistic: r.statistic });
    }
    case "wasserstein":
      return stattestResult("wasserstein", wassersteinSorted(ref.sorted, cur.sorted) / Math.max(ref.std, 0.001), threshold);
    case "psi":
      return stattestResult("psi", psiOfBins(numericBins(ref, cur)), threshold);
    case "kl_div":
      return stattestResult("kl_div", klOfBins(numericBins(ref, cur)), threshold);
    case "jensenshannon": {
      const bins = numericBins(ref, cur);
      return stattestResult("jensenshannon", jensenShannonDistance(bins.reference, bins.current), threshold);
    }
    case "chisquare":
      return chiSquareOfCounts(countSorted(ref.sorted), countSorted(cur.sorted), threshold);
    case "z":
      return zOfCounts(countSorted(ref.sorted), countSorted(cur.sorted), threshold);
    default:
      return runStattest(method, Array.from(ref.sorted), Array.from(cur.sorted), "num", threshold);
  }
}

/** A named test on a categorical column given as value counts on each side. */
export function categoricalStattest(method: StattestName, ref: CategoryCounts, cur: CategoryCounts, threshold?: number): StattestResult {
  if (!STATTESTS[method].columnTypes.includes("cat") && method !== "z" && method !== "chisquare") {
    throw new DriftTestError("WRONG_COLUMN_TYPE", `${method} needs a numeric column.`);
  }
  switch (method) {
    case "chisquare":
      return chiSquareOfCounts(ref, cur, threshold);
    case "z":
      return zOfCounts(ref, cur, threshold);
    case "psi":
      return stattestResult("psi", psiOfBins(binnedPercentsCounts(ref, cur)), threshold);
    case "kl_div":
      return stattestResult("kl_div", klOfBins(binnedPercentsCounts(ref, cur)), threshold);
    case "jensenshannon": {
      const bins = binnedPercentsCounts(ref, cur);
      return stattestResult("jensenshannon", jensenShannonDistance(bins.reference, bins.current), threshold);
    }
    case "hellinger":
      return stattestResult("hellinger", hellingerOfCounts(ref, cur), threshold);
    default:
      return runStattest(method, expand(ref), expand(cur), "cat", threshold);
  }
}

/** Evidently's default method for a reduced column (pooled distinct values, cleaned reference size). */
export function defaultColumnarStattest(
  column: { type: "num"; ref: SortedNumeric; cur: SortedNumeric } | { type: "cat"; ref: CategoryCounts; cur: CategoryCounts },
): StattestName | TextStattestName {
  if (column.type === "num") {
    return defaultStattest("num", countDistinctMerged(column.ref.sorted, column.cur.sorted), column.ref.sorted.length);
  }
  return defaultStattest("cat", new Set([...column.ref.counts.keys(), ...column.cur.counts.keys()]).size, column.ref.total);
}
