/**
 * Evidently's categorical drift tests beyond chisquare and z: fisher_exact (2×2, two-sided),
 * g_test (log-likelihood ratio) and TVD (total variation distance with a permutation p-value).
 * They work on category counts, so a million rows cost one counting pass; the TVD permutations
 * redraw counts from the multivariate hypergeometric law instead of shuffling rows.
 */
import { countValues, unionKeys } from "./clean";
import { chiSquareSf, createRng, hypergeometricSample, logSumExp } from "./special";
import { type CategoryValue, DriftTestError } from "./types";

export interface CategoryCounts {
  keys: CategoryValue[];
  reference: number[];
  current: number[];
  referenceRows: number;
  currentRows: number;
}

/** Counts of each category on both sides, over the sorted union of categories. */
export function categoryCounts(reference: ArrayLike<CategoryValue>, current: ArrayLike<CategoryValue>): CategoryCounts {
  const r = countValues(reference);
  const c = countValues(current);
  const keys = unionKeys(r, c);
  return {
    keys,
    reference: keys.map((k) => r.get(k) ?? 0),
    current: keys.map((k) => c.get(k) ?? 0),
    referenceRows: reference.length,
    currentRows: current.length,
  };
}

export interface CategoricalTestResult {
  statistic?: number;
  pValue: number;
}

/**
 * Two-sided Fisher exact p-value of a 2×2 table [[a, b], [c, d]]: the probability, under the
 * hypergeometric law with the table's margins, of every table at most as likely as the observed
 * one (relative tolerance 1e-7 so that tables tied by symmetry are counted). Probabilities are
 * kept as logs relative to the first table and normalised at the end, so the tail does not
 * underflow before 1e-308 and no log-gamma of a large number is subtracted.
 */
export function fisherExact2x2(a: number, b: number, c: number, d: number): CategoricalTestResult {
  const n1 = a + b;
  const n2 = c + d;
  const n = a + c;
  if (n1 === 0 || n2 === 0 || n === 0 || b + d === 0) return { pValue: 1 };
  const oddsRatio = c > 0 && b > 0 ? (a * d) / (c * b) : Infinity;
  const lo = Math.max(0, n - n2);
  const hi = Math.min(n, n1);
  const logs = new Float64Array(hi - lo + 1);
  for (let x = lo; x < hi; x++) {
    const i = x - lo;
    logs[i + 1] = logs[i] + Math.log((n1 - x) * (n - x)) - Math.log((x + 1) * (n2 - n + x + 1));
  }
  const observed = logs[a - lo];
  const limit = observed + Math.log1p(1e-7);
  const selected: number[] = [];
  for (let i = 0; i < logs.length; i++) if (logs[i] <= limit) selected.push(logs[i]);
  const p = Math.exp(logSumExp(selected) - logSumExp(logs));
  return { statistic: oddsRatio, pValue: Math.min(1, p) };
}

/**
 * fisher_exact for a binary categorical column: the table [[ones_cur, zeros_cur], [ones_ref,
 * zeros_ref]] (the two-sided p-value does not depend on which category is "one"). Evidently also
 * refuses unequal row counts; the test is well defined for them, so it is computed here.
 */
export function fisherExactTest(reference: ArrayLike<CategoryValue>, current: ArrayLike<CategoryValue>): CategoricalTestResult {
  const counts = categoryCounts(reference, current);
  if (counts.keys.length > 2) {
    throw new DriftTestError(
      "TOO_MANY_CATEGORIES",
      `fisher_exact needs a binary column; reference and current hold ${counts.keys.length} categories together.`,
    );
  }
  const oneRef = counts.keys.length === 2 ? counts.reference[1] : 0;
  const oneCur = counts.keys.length === 2 ? counts.current[1] : 0;
  return fisherExact2x2(oneCur, counts.currentRows - oneCur, oneRef, counts.referenceRows - oneRef);
}

/**
 * G-test (scipy.stats.power_divergence, lambda_="log-likelihood"): G = 2 Σ obs·ln(obs/exp) with
 * the current counts observed and the reference counts as expectation, df = categories - 1.
 * Evidently passes the reference counts unscaled, which scipy only accepts when both sides have
 * the same number of rows; they are scaled to the current size here, which is identical then and
 * defined otherwise. A category unseen in the reference makes G infinite and p = 0.
 */
export function gTest(reference: ArrayLike<CategoryValue>, current: ArrayLike<CategoryValue>): CategoricalTestResult {
  const counts = categoryCounts(reference, current);
  if (counts.keys.length < 2) {
    throw new DriftTestError("SINGLE_CATEGORY", "g_test needs at least two categories across reference and current (zero degrees of freedom).");
  }
  const scale = counts.currentRows / counts.referenceRows;
  let g = 0;
  for (let i = 0; i < counts.keys.length; i++) {
    const obs = counts.current[i];
    if (obs === 0) continue;
    const exp = counts.reference[i] * scale;
    g += exp === 0 ? Infinity : obs * Math.log(obs / exp);
  }
  g *= 2;
  return { statistic: g, pValue: chiSquareSf(g, counts.keys.length - 1) };
}

function tvdOf(ref: ArrayLike<number>, cur: ArrayLike<number>, nr: number, nc: number): number {
  let s = 0;
  for (let i = 0; i < ref.length; i++) s += Math.abs(ref[i] / nr - cur[i] / nc);
  return 0.5 * s;
}

/** Evidently's number of TVD permutations. */
export const TVD_PERMUTATIONS = 1000;
/** The fixed seed of the permutation stream (Evidently seeds numpy with 0). */
export const DEFAULT_PERMUTATION_SEED = 0;

/**
 * Total variation distance ½ Σ |p_ref - p_cur| and Evidently's permutation p-value: the share of
 * 1000 random re-splits of the pooled rows into sides of the original sizes whose distance is at
 * least the observed one. A re-split is drawn as counts (sequential hypergeometric draws per
 * category), which has exactly the law of shuffling rows; the stream is seeded, so the p-value is
 * reproducible, though not numpy's stream.
 */
export function tvdTest(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  seed = DEFAULT_PERMUTATION_SEED,
): CategoricalTestResult {
  const counts = categoryCounts(reference, current);
  const nr = counts.referenceRows;
  const nc = counts.currentRows;
  const observed = tvdOf(counts.reference, counts.current, nr, nc);
  const k = counts.keys.length;
  const pooled = counts.reference.map((r, i) => r + counts.current[i]);
  const rng = createRng(seed);
  const ref = new Float64Array(k);
  const cur = new Float64Array(k);
  let atLeast = 0;
  for (let round = 0; round < TVD_PERMUTATIONS; round++) {
    let remaining = nr + nc;
    let draws = nr;
    for (let i = 0; i < k; i++) {
      const x = draws === 0 ? 0 : hypergeometricSample(rng, remaining, pooled[i], draws);
      ref[i] = x;
      cur[i] = pooled[i] - x;
      remaining -= pooled[i];
      draws -= x;
    }
    if (observed <= tvdOf(ref, cur, nr, nc)) atLeast++;
  }
  return { statistic: observed, pValue: atLeast / TVD_PERMUTATIONS };
}
