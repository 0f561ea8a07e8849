/**
 * The histograms behind psi, kl_div, jensenshannon and hellinger: numpy's Sturges bin edges and
 * half-open bin counting, reproduced to the last bit where it decides a bin, Evidently's choice
 * between equal-width bins and one bin per value, and its empty-bin replacement.
 */
import { countUniqueUpTo, countValues, unionKeys } from "./clean";
import type { CategoryValue, ColumnType } from "./types";

/** Numeric columns need more reference uniques than this for equal-width bins. */
export const MAX_VALUE_BINS_UNIQUES = 20;

function minMax(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * np.histogram_bin_edges(values, bins="sturges"): width = range/(log2(n)+1), count = ceil(range/width)
 * computed in that order (it can exceed ceil(log2(n)+1) by one), edges start + i·step with the last
 * edge set to the maximum exactly. A zero range widens to ±0.5 around the value with one bin.
 */
export function sturgesEdges(values: ArrayLike<number>): number[] {
  const [lo, hi] = minMax(values);
  return sturgesEdgesFromRange(values.length, lo, hi);
}

/** The same edges from the sample size and range alone (for pooled columns already sorted). */
export function sturgesEdgesFromRange(count: number, lo: number, hi: number): number[] {
  const range = hi - lo;
  const width = range / (Math.log2(count) + 1);
  const bins = width ? Math.ceil(range / width) : 1;
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = (hi - lo) / bins;
  const edges: number[] = [];
  for (let i = 0; i < bins; i++) edges.push(i * step + lo);
  edges.push(hi);
  return edges;
}

/** np.histogram counts: bins [e_i, e_{i+1}), the last one closed; values outside are not counted. */
export function histogramCounts(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const first = edges[0];
  const last = edges[bins];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= first && v <= last)) continue;
    if (v === last) {
      counts[bins - 1]++;
      continue;
    }
    let lo = 0;
    let hi = bins;
    // Largest i with edges[i] <= v.
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] <= v) lo = mid;
      else hi = mid;
    }
    counts[lo]++;
  }
  return counts;
}

export interface BinnedPercents {
  reference: number[];
  current: number[];
  /** Bin labels: edges for equal-width bins, values for one-bin-per-value. */
  edges?: number[];
  keys?: CategoryValue[];
}

/**
 * Evidently's shared binning: equal-width Sturges bins over the pooled data when the column is
 * numeric with more than 20 distinct reference values, otherwise one bin per value seen on either
 * side. Shares are counts over each side's size.
 */
export function binnedPercents(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  columnType: ColumnType,
): BinnedPercents {
  if (columnType === "num" && countUniqueUpTo(reference, MAX_VALUE_BINS_UNIQUES) > MAX_VALUE_BINS_UNIQUES) {
    const ref = reference as ArrayLike<number>;
    const cur = current as ArrayLike<number>;
    const pooled = new Float64Array(ref.length + cur.length);
    pooled.set(ref, 0);
    pooled.set(cur, ref.length);
    const edges = sturgesEdges(pooled);
    return {
      reference: histogramCounts(ref, edges).map((c) => c / ref.length),
      current: histogramCounts(cur, edges).map((c) => c / cur.length),
      edges,
    };
  }
  const refCounts = countValues(reference);
  const curCounts = countValues(current);
  const keys = unionKeys(refCounts, curCounts);
  return {
    reference: keys.map((k) => (refCounts.get(k) ?? 0) / reference.length),
    current: keys.map((k) => (curCounts.get(k) ?? 0) / current.length),
    keys,
  };
}

/**
 * Replace empty bins so logarithms stay finite: by a millionth of the smallest non-empty share when
 * that share is at most 1e-4, else by 1e-4. Shares are deliberately not renormalised afterwards.
 */
export function fillEmptyBins(percents: readonly number[]): number[] {
  let smallest = Infinity;
  for (const p of percents) if (p !== 0 && p < smallest) smallest = p;
  const fill = smallest <= 1e-4 ? smallest / 1e6 : 1e-4;
  return percents.map((p) => (p === 0 ? fill : p));
}

/** Sorted distinct numbers (one typed sort and a pass, much cheaper than a hash set of doubles). */
export function distinctSorted(values: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(values).sort();
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) out.push(sorted[i]);
  return out;
}
