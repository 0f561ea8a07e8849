/**
 * fisher_exact, g_test, TVD and empirical_mmd. Expected numbers come from scipy 1.17.1 / numpy
 * 2.4.6 (the call is named next to each); far tails were checked in mpmath 1.3. The permutation
 * p-values (TVD, MMD) are seeded and reproducible here, but Evidently draws them from numpy's
 * stream (MMD unseeded), so they are checked against the permutation p-value estimated with many
 * more permutations in numpy, within binomial sampling error.
 */
import { describe, expect, it } from "vitest";
import {
  DriftTestError,
  empiricalMmd,
  fisherExact2x2,
  fisherExactTest,
  gTest,
  MMD_MAX_ROWS,
  mmdSigma,
  runStattest,
  TVD_PERMUTATIONS,
  tvdTest,
} from "../../worker/lib/drift";

function lcg(n: number, mult: number, add: number, m: number, off = 0): number[] {
  return Array.from({ length: n }, (_, i) => ((i * mult + add) % m) / m + off);
}
const rep = (counts: Record<string, number>): string[] => Object.entries(counts).flatMap(([k, v]) => Array<string>(v).fill(k));

function expectRel(actual: number, expected: number, rel: number): void {
  if (expected === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThanOrEqual(rel);
}

function expectDriftError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DriftTestError);
    expect((e as DriftTestError).code).toBe(code);
    return;
  }
  throw new Error(`expected DriftTestError ${code}`);
}

describe("fisher_exact: scipy.stats.fisher_exact(table) two-sided", () => {
  it.each([
    [[3, 1, 1, 3], 9, 0.48571428571428565],
    [[8, 2, 1, 5], 20, 0.034965034965034975],
    [[10, 10, 10, 10], 1, 1],
    [[0, 5, 5, 0], 0, 0.007936507936507938],
    [[12, 40, 30, 18], 0.18, 9.820214841609633e-5],
    [[1, 0, 0, 1], Infinity, 1],
  ] as [number[], number, number][])("table %j", ([a, b, c, d], odds, p) => {
    const r = fisherExact2x2(a, b, c, d);
    expect(r.statistic).toBe(odds);
    expectRel(r.pValue, p, 1e-12);
  });

  it("far tail: [[0, 500], [500, 0]] is 2/C(1000, 500) = 7.3995079956280545e-300 (mpmath; scipy agrees)", () => {
    expectRel(fisherExact2x2(0, 500, 500, 0).pValue, 7.3995079956280545e-300, 1e-11);
  });

  it("builds [[ones_cur, zeros_cur], [ones_ref, zeros_ref]] from a binary column", () => {
    // table [[8, 2], [1, 5]]: current 8 "y" of 10, reference 1 "y" of 6
    const r = fisherExactTest(rep({ n: 5, y: 1 }), rep({ n: 2, y: 8 }));
    expectRel(r.pValue, 0.034965034965034975, 1e-12);
    const spec = runStattest("fisher_exact", rep({ n: 5, y: 1 }), rep({ n: 2, y: 8 }), "cat");
    expect(spec.threshold).toBe(0.1);
    expect(spec.drifted).toBe(true);
  });

  it("one category on both sides gives p = 1 (scipy: a zero column), more than two is refused", () => {
    expect(fisherExactTest(rep({ a: 4 }), rep({ a: 6 })).pValue).toBe(1);
    expectDriftError(() => fisherExactTest(rep({ a: 4, b: 1 }), rep({ a: 6, c: 1 })), "TOO_MANY_CATEGORIES");
  });
});

describe("g_test: scipy.stats.power_divergence(f_obs=cur, f_exp=ref, lambda_='log-likelihood')", () => {
  it.each([
    ["three categories", { a: 50, b: 30, c: 20 }, { a: 40, b: 40, c: 20 }, 5.16308169100569, 0.07565733789483609],
    ["binary", { a: 30, b: 70 }, { a: 45, b: 55 }, 9.964033479877102, 0.0015962795458130527],
    ["tiny p", { a: 3000, b: 3000, c: 3000 }, { a: 4000, b: 3000, c: 2000 }, 679.5961471815892, 2.676527304381286e-148],
    ["category gone from the current data", { a: 50, b: 30, c: 20 }, { a: 60, b: 40 }, 44.89315261141702, 1.7847433515179248e-10],
  ] as [string, Record<string, number>, Record<string, number>, number, number][])("%s", (_n, ref, cur, g, p) => {
    const r = gTest(rep(ref), rep(cur));
    expectRel(r.statistic as number, g, 1e-13);
    expectRel(r.pValue, p, 1e-11);
  });

  it("a category unseen in the reference makes G infinite and p = 0; one category is refused", () => {
    const r = gTest(rep({ a: 5, b: 5 }), rep({ a: 4, b: 4, c: 2 }));
    expect(r.statistic).toBe(Infinity);
    expect(r.pValue).toBe(0);
    expectDriftError(() => gTest(rep({ a: 3 }), rep({ a: 3 })), "SINGLE_CATEGORY");
  });

  it("scales the reference to the current size (identical to Evidently when sizes match)", () => {
    // Doubling the reference leaves the expected shares, and so G, unchanged.
    const a = gTest(rep({ a: 50, b: 30, c: 20 }), rep({ a: 40, b: 40, c: 20 }));
    const b = gTest(rep({ a: 100, b: 60, c: 40 }), rep({ a: 40, b: 40, c: 20 }));
    expectRel(b.statistic as number, a.statistic as number, 1e-14);
  });
});

describe("TVD: ½ Σ |p_ref - p_cur| with a 1000-permutation p-value", () => {
  it("statistic by hand and the p-value within sampling error of numpy's 100,000-permutation estimate", () => {
    // ref a/b/c = 50/30/20, cur 40/40/20: ½(0.1 + 0.1 + 0) = 0.1. numpy (100,000 shuffles of the
    // pooled rows) estimates the permutation p-value at 0.26663; 1000 draws have sd 0.014.
    const r = tvdTest(rep({ a: 50, b: 30, c: 20 }), rep({ a: 40, b: 40, c: 20 }));
    expectRel(r.statistic as number, 0.1, 1e-15);
    expect(Math.abs(r.pValue - 0.26663)).toBeLessThan(4 * Math.sqrt((0.26663 * 0.73337) / TVD_PERMUTATIONS));
    // Seeded: the same input gives the same p-value.
    expect(tvdTest(rep({ a: 50, b: 30, c: 20 }), rep({ a: 40, b: 40, c: 20 })).pValue).toBe(r.pValue);
  });

  it("identical shares give p = 1; disjoint categories give p = 0 (drift at p < 0.1)", () => {
    expect(tvdTest(rep({ a: 10, b: 10 }), rep({ a: 5, b: 5 })).pValue).toBe(1);
    const r = runStattest("TVD", rep({ a: 200 }), rep({ b: 200 }), "cat");
    expect(r.statistic).toBe(1);
    expect(r.score).toBe(0);
    expect(r.drifted).toBe(true);
  });

  it("handles a million rows by redrawing counts, not rows", () => {
    const ref = new Float64Array(1_000_000).map((_, i) => i % 3);
    const cur = new Float64Array(1_000_000).map((_, i) => (i % 7 === 0 ? 0 : i % 3));
    const r = runStattest("TVD", ref, cur, "cat");
    expect(r.score).toBe(0);
  });
});

describe("empirical_mmd: RBF MMD² with the median-heuristic width and 100 permutations", () => {
  it("matches a direct numpy computation of sigma and MMD² (no sampling below 500 rows)", () => {
    // numpy: sigma = sqrt(0.5 * percentile(all (xi - xj)², 50, method='nearest')), K = exp(-d²/2σ²)
    // with a zero diagonal, MMD² = ΣKxx/(n(n-1)) + ΣKyy/(m(m-1)) - 2·mean(Kxy).
    const x = lcg(40, 7919, 13, 40);
    const y = lcg(30, 104729, 7, 30, 0.3);
    expectRel(mmdSigma(x), 0.21213203435596426, 1e-15);
    const r = empiricalMmd(x, y);
    expectRel(r.sigma, 0.21213203435596426, 1e-15);
    expectRel(r.statistic, 0.11795224804360926, 1e-12);
    // numpy's 20,000-permutation estimate of the p-value: 0.0055
    expect(r.pValue).toBeLessThanOrEqual(0.03);
    expect(runStattest("empirical_mmd", x, y, "num").drifted).toBe(true);
  });

  it("similar samples are not drifted (numpy: MMD² = -0.03367160480465059, permutation p = 1.0)", () => {
    const r = empiricalMmd(lcg(41, 7919, 13, 41), lcg(30, 104729, 7, 30));
    expectRel(r.sigma, 0.20695808229850168, 1e-15);
    expectRel(r.statistic, -0.03367160480465059, 1e-12);
    expect(r.pValue).toBeGreaterThan(0.9);
  });

  it("is deterministic", () => {
    const x = lcg(60, 7919, 13, 60);
    const y = lcg(50, 104729, 7, 50, 0.1);
    expect(empiricalMmd(x, y)).toEqual(empiricalMmd(x, y));
  });

  // A 1000×1000 kernel and 100 permutations: seconds on a busy shared machine, hence the timeout.
  it("samples each side down to 500 values", { timeout: 60_000 }, () => {
    const a = empiricalMmd(lcg(2000, 7919, 13, 2000), lcg(3000, 104729, 7, 3000, 0.01));
    expect(a.referenceUsed).toBe(MMD_MAX_ROWS);
    expect(a.currentUsed).toBe(MMD_MAX_ROWS);
    expect(a.pValue).toBeGreaterThanOrEqual(0);
    expect(a.pValue).toBeLessThanOrEqual(1);
  });

  it("a constant reference falls back to sigma = sqrt(1/2); one value a side is refused", () => {
    expect(mmdSigma([2, 2, 2])).toBe(Math.SQRT1_2);
    expectDriftError(() => empiricalMmd([1], [1, 2]), "TOO_FEW_ROWS");
  });
});
