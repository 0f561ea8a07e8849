/**
 * Evidently's drift tests on already-cleaned columns (finite numbers, or non-missing categories):
 * ks, chisquare, z, wasserstein, psi, kl_div, jensenshannon and hellinger here, the rest from
 * numeric-tests, categorical-tests and mmd, all behind one dispatcher. Each returns the score
 * Evidently reports and its decision, or throws DriftTestError where the statistic is undefined
 * for the data. p-values are computed so that tiny tails keep their digits.
 */
import { fisherExactTest, gTest, tvdTest } from "./categorical-tests";
import { empiricalMmd } from "./mmd";
import { andersonDarling, cramerVonMises, eppsSingleton, energyDistance, mannWhitney, type Numbers, sortedCopy, tTest } from "./numeric-tests";
import { chiSquareSf, normalTwoSidedP } from "./special";
import { binnedPercents, distinctSorted, fillEmptyBins, histogramCounts, sturgesEdges } from "./binning";
import { countValues, unionKeys } from "./clean";
import { ks2Sample } from "./kolmogorov";
import { type CategoryValue, type ColumnType, DriftTestError, isDrift, STATTESTS, type StattestName, type StattestResult } from "./types";

/** A test's result in the shared shape: the threshold defaulted and checked, and the drift decision. */
export function stattestResult(method: StattestName, score: number, threshold: number | undefined, extra: Partial<StattestResult> = {}): StattestResult {
  const spec = STATTESTS[method];
  const t = threshold ?? spec.defaultThreshold;
  if (!Number.isFinite(t)) throw new DriftTestError("INVALID_THRESHOLD", `Threshold for ${method} must be a finite number.`);
  return {
    method,
    displayName: spec.displayName,
    scoreKind: spec.scoreKind,
    score,
    ...(spec.scoreKind === "p_value" ? { pValue: score } : {}),
    ...extra,
    threshold: t,
    drifted: isDrift(spec, score, t),
  };
}

/** A cleaned column as the tests receive it: categories, or finite numbers in a typed array. */
export type ColumnData = readonly CategoryValue[] | Float64Array;

export { chiSquareSf, normalTwoSidedP };

/** Two-sample Kolmogorov–Smirnov, two-sided, scipy's automatic exact/asymptotic choice. */
export function ksStattest(reference: Numbers, current: Numbers, threshold?: number): StattestResult {
  const r = ks2Sample(sortedCopy(reference), sortedCopy(current));
  return stattestResult("ks", r.pValue, threshold, { statistic: r.statistic });
}

/**
 * Pearson's chi-square of the current counts against the reference shares scaled to the current
 * size, over the union of categories. A category unseen in the reference has zero expectation, so
 * X² is infinite and p is 0 (drift), as in scipy.
 */
export function chiSquareStattest(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  threshold?: number,
): StattestResult {
  return chiSquareOfCounts({ counts: countValues(reference), total: reference.length }, { counts: countValues(current), total: current.length }, threshold);
}

/** One side of a categorical column reduced to its value counts (what the count-based tests read). */
export interface ValueCounts {
  counts: ReadonlyMap<CategoryValue, number>;
  total: number;
}

/** Pearson's chi-square on value counts (see chiSquareStattest); the array and columnar paths share it. */
export function chiSquareOfCounts(ref: ValueCounts, cur: ValueCounts, threshold?: number): StattestResult {
  const keys = unionKeys(ref.counts as Map<CategoryValue, number>, cur.counts as Map<CategoryValue, number>);
  if (keys.length < 2) {
    throw new DriftTestError("SINGLE_CATEGORY", "chisquare needs at least two categories across reference and current (zero degrees of freedom).");
  }
  const scale = cur.total / ref.total;
  let x2 = 0;
  for (const k of keys) {
    const observed = cur.counts.get(k) ?? 0;
    const expected = (ref.counts.get(k) ?? 0) * scale;
    x2 += ((observed - expected) * (observed - expected)) / expected;
  }
  return stattestResult("chisquare", chiSquareSf(x2, keys.length - 1), threshold, { statistic: x2 });
}

/**
 * Two-proportion z-test. The smallest category counts as 0 and every other as 1. Evidently reports
 * 2·(1 - Φ(|z|)), which cancels to 0 beyond |z| ≈ 8.3; this reports the same quantity accurately.
 */
export function zStattest(reference: ArrayLike<CategoryValue>, current: ArrayLike<CategoryValue>, threshold?: number): StattestResult {
  return zOfCounts({ counts: countValues(reference), total: reference.length }, { counts: countValues(current), total: current.length }, threshold);
}

/** The two-proportion z-test on value counts (see zStattest). */
export function zOfCounts(ref: ValueCounts, cur: ValueCounts, threshold?: number): StattestResult {
  if (ref.counts.size === 1 && cur.counts.size === 1 && ref.counts.keys().next().value === cur.counts.keys().next().value) {
    return stattestResult("z", 1, threshold, { statistic: 0 });
  }
  const zeroKey = unionKeys(ref.counts as Map<CategoryValue, number>, cur.counts as Map<CategoryValue, number>)[0];
  const nr = ref.total;
  const nc = cur.total;
  const p1 = (nr - (ref.counts.get(zeroKey) ?? 0)) / nr;
  const p2 = (nc - (cur.counts.get(zeroKey) ?? 0)) / nc;
  const pooled = (p1 * nr + p2 * nc) / (nr + nc);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / nr + 1 / nc));
  return stattestResult("z", normalTwoSidedP(z), threshold, { statistic: z });
}

/** 1-D earth mover's distance between the two empirical distributions (scipy.stats.wasserstein_distance). */
export function wassersteinDistance(a: Numbers, b: Numbers): number {
  const u = sortedCopy(a);
  const v = sortedCopy(b);
  const all = new Float64Array(u.length + v.length);
  all.set(u, 0);
  all.set(v, u.length);
  all.sort();
  let i = 0;
  let j = 0;
  let sum = 0;
  for (let k = 0; k < all.length - 1; k++) {
    const x = all[k];
    while (i < u.length && u[i] <= x) i++;
    while (j < v.length && v[j] <= x) j++;
    sum += Math.abs(i / u.length - j / v.length) * (all[k + 1] - x);
  }
  return sum;
}

/** Population standard deviation (ddof = 0), as np.std. */
export function populationStd(values: Numbers): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  const mean = s / values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i] - mean) * (values[i] - mean);
  return Math.sqrt(ss / values.length);
}

/** Wasserstein distance in units of the reference's population std, floored at 0.001 as Evidently does. */
export function wassersteinStattest(reference: Numbers, current: Numbers, threshold?: number): StattestResult {
  const norm = Math.max(populationStd(reference), 0.001);
  return stattestResult("wasserstein", wassersteinDistance(reference, current) / norm, threshold);
}

/** Population stability index on Evidently's bins with empty bins filled (not renormalised). */
export function psiStattest(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  columnType: ColumnType,
  threshold?: number,
): StattestResult {
  return stattestResult("psi", psiOfBins(binnedPercents(reference, current, columnType)), threshold);
}

/** Evidently's bins on both sides, as shares of each side. */
export interface BinnedPercents {
  reference: number[];
  current: number[];
}

/** PSI of binned shares, empty bins filled on each side (not renormalised). */
export function psiOfBins(bins: BinnedPercents): number {
  const r = fillEmptyBins(bins.reference);
  const c = fillEmptyBins(bins.current);
  let psi = 0;
  for (let i = 0; i < r.length; i++) psi += (r[i] - c[i]) * Math.log(r[i] / c[i]);
  return psi;
}

/** KL(reference ‖ current) of binned shares: empty bins filled, both renormalised. */
export function klOfBins(bins: BinnedPercents): number {
  const p = normalise(fillEmptyBins(bins.reference));
  const q = normalise(fillEmptyBins(bins.current));
  let kl = 0;
  for (let i = 0; i < p.length; i++) kl += relEntr(p[i], q[i]);
  return kl;
}

function normalise(p: readonly number[]): number[] {
  let s = 0;
  for (const x of p) s += x;
  return p.map((x) => x / s);
}

/** x·ln(x/y) with the conventions of scipy.special.rel_entr: 0 at x = 0, +inf where y = 0 < x. */
export function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** KL(reference ‖ current) in nats on the filled bins, both renormalised (scipy.stats.entropy). */
export function klDivStattest(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  columnType: ColumnType,
  threshold?: number,
): StattestResult {
  return stattestResult("kl_div", klOfBins(binnedPercents(reference, current, columnType)), threshold);
}

/** Jensen–Shannon distance sqrt(JSD) in natural-log units; empty bins are not filled for this one. */
export function jensenShannonDistance(pRaw: readonly number[], qRaw: readonly number[]): number {
  const p = normalise(pRaw);
  const q = normalise(qRaw);
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    left += relEntr(p[i], m);
    right += relEntr(q[i], m);
  }
  return Math.sqrt((left + right) / 2);
}

export function jensenShannonStattest(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  columnType: ColumnType,
  threshold?: number,
): StattestResult {
  const bins = binnedPercents(reference, current, columnType);
  return stattestResult("jensenshannon", jensenShannonDistance(bins.reference, bins.current), threshold);
}

/**
 * Hellinger distance. Categorical: from value shares. Numeric: from density histograms on Sturges
 * edges built from the distinct pooled values (so the bin count follows the number of distinct
 * values, not of rows), integrated with the mean bin width.
 */
export function hellingerStattest(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  columnType: ColumnType,
  threshold?: number,
): StattestResult {
  if (columnType === "cat") {
    return stattestResult("hellinger", hellingerOfCounts({ counts: countValues(reference), total: reference.length }, { counts: countValues(current), total: current.length }), threshold);
  }
  let affinity = 0;
  {
    const ref = reference as ArrayLike<number>;
    const cur = current as ArrayLike<number>;
    const pooled = new Float64Array(ref.length + cur.length);
    pooled.set(ref, 0);
    pooled.set(cur, ref.length);
    const edges = sturgesEdges(distinctSorted(pooled));
    const bins = edges.length - 1;
    const width = (edges[bins] - edges[0]) / bins;
    const density = (values: ArrayLike<number>): number[] => {
      const counts = histogramCounts(values, edges);
      const total = counts.reduce((s, c) => s + c, 0);
      return counts.map((c, i) => c / (edges[i + 1] - edges[i]) / total);
    };
    const h1 = density(ref);
    const h2 = density(cur);
    for (let i = 0; i < bins; i++) affinity += Math.sqrt(h1[i] * h2[i]) * width;
  }
  const clipped = Math.min(1, Math.max(0, affinity));
  return stattestResult("hellinger", Math.sqrt(1 - clipped), threshold);
}

/** Categorical Hellinger distance from value counts: sqrt(1 - clip(Σ sqrt(p_ref p_cur), 0, 1)). */
export function hellingerOfCounts(ref: ValueCounts, cur: ValueCounts): number {
  let affinity = 0;
  for (const k of unionKeys(ref.counts as Map<CategoryValue, number>, cur.counts as Map<CategoryValue, number>)) {
    affinity += Math.sqrt(((ref.counts.get(k) ?? 0) / ref.total) * ((cur.counts.get(k) ?? 0) / cur.total));
  }
  return Math.sqrt(1 - Math.min(1, Math.max(0, affinity)));
}

/**
 * Run a named test on cleaned columns. Numeric-only tests need numbers; categorical tests accept
 * either kind of column, as Evidently's automatic choice may send z or chisquare a numeric column.
 */
export function runStattest(
  method: StattestName,
  referenceData: ColumnData,
  currentData: ColumnData,
  columnType: ColumnType,
  threshold?: number,
): StattestResult {
  if (columnType === "text") {
    throw new DriftTestError("WRONG_COLUMN_TYPE", `${method} does not apply to text columns.`);
  }
  const isNum = (v: CategoryValue): boolean => typeof v === "number";
  const allNumbers = (d: ColumnData): boolean => d instanceof Float64Array || d.every(isNum);
  if (columnType === "num" && !(allNumbers(referenceData) && allNumbers(currentData))) {
    throw new DriftTestError("NOT_NUMERIC", `A numeric column holds non-numeric values.`);
  }
  const numeric = (): [Numbers, Numbers] => {
    if (columnType !== "num") throw new DriftTestError("WRONG_COLUMN_TYPE", `${method} needs a numeric column.`);
    return [referenceData as Numbers, currentData as Numbers];
  };
  // The binned and categorical tests count values; they take plain arrays.
  const reference: ArrayLike<CategoryValue> = referenceData;
  const current: ArrayLike<CategoryValue> = currentData;
  switch (method) {
    case "ks":
      return ksStattest(...numeric(), threshold);
    case "wasserstein":
      return wassersteinStattest(...numeric(), threshold);
    case "chisquare":
      return chiSquareStattest(reference, current, threshold);
    case "z":
      return zStattest(reference, current, threshold);
    case "psi":
      return psiStattest(reference, current, columnType, threshold);
    case "kl_div":
      return klDivStattest(reference, current, columnType, threshold);
    case "jensenshannon":
      return jensenShannonStattest(reference, current, columnType, threshold);
    case "hellinger":
      return hellingerStattest(reference, current, columnType, threshold);
    case "anderson": {
      const r = andersonDarling(...numeric());
      return stattestResult(method, r.pValue, threshold, { statistic: r.statistic });
    }
    case "cramer_von_mises": {
      const r = cramerVonMises(...numeric());
      return stattestResult(method, r.pValue, threshold, { statistic: r.statistic });
    }
    case "mannw": {
      const r = mannWhitney(...numeric());
      return stattestResult(method, r.pValue, threshold, { statistic: r.statistic });
    }
    case "ed":
      return stattestResult(method, energyDistance(...numeric()), threshold);
    case "es": {
      const r = eppsSingleton(...numeric());
      return stattestResult(method, r.pValue, threshold, { statistic: r.statistic });
    }
    case "t_test": {
      const r = tTest(...numeric());
      return stattestResult(method, r.pValue, threshold, { statistic: r.statistic });
    }
    case "empirical_mmd": {
      const r = empiricalMmd(...numeric());
      return stattestResult(method, r.pValue, threshold, { statistic: r.statistic });
    }
    case "fisher_exact":
    case "g_test":
    case "TVD": {
      const r = method === "fisher_exact" ? fisherExactTest(reference, current) : method === "g_test" ? gTest(reference, current) : tvdTest(reference, current);
      return stattestResult(method, r.pValue, threshold, r.statistic !== undefined && !Number.isNaN(r.statistic) ? { statistic: r.statistic } : {});
    }
  }
}
