/**
 * Drift statistics against reference values. Unless a comment says otherwise every expected number
 * was produced with scipy 1.17.1 / numpy 2.4.6 (Python 3.11) by the call named next to it, on data
 * built by the same integer formulas as `lcg` below, so both sides see bit-identical inputs.
 * The PSI / KL / JS / Hellinger values come from numpy/scipy code following Evidently 0.7.21's
 * formulas (np.histogram_bin_edges "sturges", np.histogram, the empty-bin fill, scipy.stats.entropy,
 * scipy.spatial.distance.jensenshannon).
 */
import { describe, expect, it } from "vitest";
import {
  binnedPercents,
  chiSquareSf,
  columnDrift,
  datasetDrift,
  defaultStattest,
  DriftTestError,
  fillEmptyBins,
  hellingerStattest,
  histogramCounts,
  inferColumnType,
  jensenShannonDistance,
  jensenShannonStattest,
  klDivStattest,
  kolmogorovSf,
  ks2Sample,
  ksStattest,
  psiStattest,
  runStattest,
  STATTESTS,
  sturgesEdges,
  wassersteinDistance,
  wassersteinStattest,
  zStattest,
  chiSquareStattest,
  type CategoryValue,
} from "../../worker/lib/drift";

/** ((i·mult + add) mod m) / m + off for i < n: exact integer maths, one correctly rounded division. */
function lcg(n: number, mult: number, add: number, m: number, off = 0): number[] {
  return Array.from({ length: n }, (_, i) => ((i * mult + add) % m) / m + off);
}
const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));
/** Repeated categories: rep({a: 2, b: 1}) = ["a", "a", "b"]. */
const rep = (counts: Record<string, number>): string[] => Object.entries(counts).flatMap(([k, v]) => Array<string>(v).fill(k));
const sorted = (a: number[]): number[] => [...a].sort((x, y) => x - y);

/** |actual - expected| <= rel·|expected|, with exact equality required for 0. */
function expectRel(actual: number, expected: number, rel: number): void {
  if (expected === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThanOrEqual(rel);
}

function expectDriftError(fn: () => unknown, code: string): DriftTestError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DriftTestError);
    expect((e as DriftTestError).code).toBe(code);
    return e as DriftTestError;
  }
  throw new Error(`expected DriftTestError ${code}`);
}

describe("ks: scipy.stats.ks_2samp(a, b) (two-sided, method='auto')", () => {
  // [a, b, statistic, pvalue] from scipy.stats.ks_2samp(a, b)
  const small: [number[], number[], number, number][] = [
    [[1], [2], 1, 1],
    [[1], [1], 0, 1],
    [[1, 2], [3, 4, 5], 1, 0.2],
    [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5], 0, 1],
    [[1, 1, 2, 2, 3], [2, 2, 3, 3, 3], 0.4, 0.873015873015873],
    [[0.1, 0.5, 0.9], [0.2, 0.3], 0.6666666666666666, 0.6],
    [[1, 2, 3, 4], [5, 6, 7, 8, 9], 1, 0.015873015873015872],
    [[3, 1, 2], [2, 2, 2, 2], 0.3333333333333333, 0.9714285714285715],
    [[0, 0, 0, 1, 1], [0, 1, 1, 1, 1], 0.4, 0.873015873015873],
    [[3], [1, 2, 3, 4, 5], 0.4, 1],
    [Array(10).fill(5), Array(10).fill(6), 1, 1.0825088224469026e-5],
    [Array(4).fill(7), Array(9).fill(7), 0, 1],
  ];
  it.each(small)("small samples with ties: %j vs %j", (a, b, d, p) => {
    const r = ksStattest(a, b);
    expect(r.statistic).toBe(d);
    expectRel(r.score, p, 1e-14);
    expect(r.pValue).toBe(r.score);
  });

  // [name, a, b, statistic, pvalue, mode]; mode follows scipy's rule max(n1, n2) <= 10000 -> exact.
  const large: [string, number[], number[], number, number, "exact" | "asymp", number][] = [
    ["unequal sizes (lattice band)", lcg(3000, 7919, 13, 3000), lcg(1200, 104729, 7, 1200, 0.35), 0.35033333333333333, 5.937813680855915e-94, "exact", 1e-13],
    ["ties", range(200, (i) => (i * 37) % 5), range(150, (i) => ((i * 11) % 5) + 1), 0.2, 0.0018205013013670869, "exact", 1e-13],
    ["10,000 vs 10,000, p far below 1e-100", range(10000, (i) => i / 10000), range(10000, (i) => (i + 2000) / 10000), 0.2, 2.600432412128435e-175, "exact", 1e-13],
    ["10,000 vs 9,000", range(10000, (i) => i / 10000), range(9000, (i) => (i + 1800) / 9000), 0.2000888888888889, 2.5199094601981196e-166, "exact", 1e-13],
    ["20,000 vs 20,000 (asymptotic, Smirnov tail)", range(20000, (i) => i / 20000), range(20000, (i) => (i + 3000) / 20000), 0.15000000000000008, 6.919863759779323e-197, "asymp", 1e-10],
    ["12,000 vs 50 (asymptotic, n = 50)", lcg(12000, 7919, 13, 12000), lcg(50, 17, 3, 50, 0.1), 0.10008333333333333, 0.6613136606021706, "asymp", 1e-12],
    ["15,000 vs 15,000 (asymptotic, Pelz-Good)", lcg(15000, 7919, 13, 15000), lcg(15000, 104729, 7, 15000, 0.01), 0.010066666666666668, 0.4300232671083416, "asymp", 1e-12],
  ];
  it.each(large)("%s", (_name, a, b, d, p, mode, rel) => {
    const r = ks2Sample(sorted(a), sorted(b));
    expect(r.mode).toBe(mode);
    expectRel(r.statistic, d, 1e-15);
    expect(r.pValue).toBeGreaterThan(0);
    expectRel(r.pValue, p, rel);
  });

  it("falls back to the asymptotic distribution when the exact sum leaves [0, 1], as scipy does", () => {
    // scipy: the exact sum for 2000 vs 2000 at D = 1/2000 is 1.000000000000002, so ks_2samp warns
    // "Exact calculation unsuccessful" and returns kstwo.sf(0.0005, 1000) = 1.0.
    const r = ks2Sample(range(2000, (i) => i / 2000), range(2000, (i) => (i + 0.5) / 2000));
    expect(r.mode).toBe("asymp");
    expect(r.statistic).toBe(0.0005);
    expect(r.pValue).toBe(1);
  });

  it("is symmetric in its two samples", () => {
    const a = lcg(300, 7919, 13, 300);
    const b = lcg(170, 104729, 7, 170, 0.1);
    expect(ksStattest(a, b).score).toBe(ksStattest(b, a).score);
  });

  // [n, x, scipy.stats.kstwo.sf(x, n)] covering each region of scipy's algorithm choice.
  const kstwo: [number, number, number, number][] = [
    [10, 0.07, 0.9999999619492741, 1e-14], // n·x <= 1: closed-form product
    [5, 0.85, 0.0001518750000000001, 1e-13], // n·x >= n - 1: 2(1 - x)^n
    [10, 0.95, 1.9531250000000172e-13, 1e-12],
    [10, 0.6, 0.0005681672000000003, 1e-12], // x >= 0.5: 2·smirnov
    [10, 0.1, 0.99963712, 1e-13], // Durbin matrix
    [50, 0.1, 0.6623112704658186, 1e-12], // scipy: Pomeranz; here: Durbin
    [50, 0.2, 0.03143877776953241, 1e-11],
    [50, 0.35, 5.573523514803185e-6, 1e-11], // n <= 140, n·x² > 4: 2·smirnov
    [120, 0.3, 4.488623458478932e-10, 1e-11],
    [300, 0.0031, 1, 0], // n > 140, n·x <= 1
    [141, 0.02, 0.9999999744561288, 1e-12], // n > 140, Durbin
    [1000, 0.012, 0.9984464668620097, 1e-12],
    [200, 0.1, 0.03411035080315383, 1e-11], // Pelz-Good
    [5000, 0.01, 0.6954557253913853, 1e-12],
    [20000, 0.004, 0.9048968240702959, 1e-12],
    [200000, 0.002, 0.39995085369038097, 1e-12],
    [1000, 0.05, 0.013012074781090332, 1e-11], // n·x² >= 2.2: 2·smirnov
    [5000, 0.03, 0.00024159234422666817, 1e-10],
    [5000, 0.3, 0, 0], // n·x² >= 370: scipy returns exactly 0
  ];
  it.each(kstwo)("kstwo.sf at n=%s, x=%s", (n, x, p, rel) => {
    expectRel(kolmogorovSf(n, x), p, rel);
  });
});

describe("chisquare: scipy.stats.chisquare(f_obs=current counts, f_exp=reference counts · n_c/n_r)", () => {
  it.each([
    ["same keys", rep({ a: 50, b: 30, c: 20 }), rep({ a: 40, b: 40, c: 20 }), 5.333333333333334, 0.0694834512228015],
    ["different sizes", rep({ a: 50, b: 30, c: 20 }), rep({ a: 30, b: 20, c: 10 }), 0.5555555555555556, 0.7574651283969664],
    ["category only in the reference", rep({ a: 50, b: 30, c: 20 }), rep({ a: 60, b: 40 }), 25.333333333333336, 3.1545438051702295e-6],
    ["tiny p-value keeps its digits", rep({ a: 3000, b: 3000, c: 3000 }), rep({ a: 4000, b: 3000, c: 2000 }), 666.6666666666666, 1.7185916560562193e-145],
  ] as [string, string[], string[], number, number][])("%s", (_n, ref, cur, stat, p) => {
    const r = chiSquareStattest(ref, cur);
    expectRel(r.statistic as number, stat, 1e-14);
    expectRel(r.score, p, 1e-12);
    expect(r.drifted).toBe(p < 0.05);
  });

  it("a category unseen in the reference gives an infinite statistic and p = 0 (scipy: inf, 0.0)", () => {
    const r = chiSquareStattest(rep({ a: 50, b: 50 }), rep({ a: 40, b: 40, d: 1 }));
    expect(r.statistic).toBe(Infinity);
    expect(r.score).toBe(0);
    expect(r.drifted).toBe(true);
  });

  it("refuses a single category (zero degrees of freedom; scipy gives NaN)", () => {
    expectDriftError(() => chiSquareStattest(rep({ a: 5 }), rep({ a: 9 })), "SINGLE_CATEGORY");
  });

  it("chi2 survival function: scipy.stats.chi2.sf", () => {
    expectRel(chiSquareSf(700, 2), 9.929590396265143e-153, 1e-12);
    expectRel(chiSquareSf(3.5, 4), 0.477878344488724, 1e-13);
    // scipy returns 0.0 here; the true value is subnormal: mpmath 1.3.0 gammainc(3.5, 750, inf,
    // regularized=True) = 8.84430377975875e-320, which this keeps to the precision a subnormal has.
    expectRel(chiSquareSf(1500, 7), 8.84430377975875e-320, 1e-3);
    expect(chiSquareSf(0, 3)).toBe(1);
  });
});

describe("z: two-proportion z-test, smallest category = 0", () => {
  // [ref, cur, z, 2·scipy.stats.norm.sf(|z|)]
  it.each([
    ["y/n", rep({ y: 60, n: 40 }), rep({ y: 45, n: 55 }), 2.1239769762143657, 0.033672068856345855],
    ["numeric 0/1", [...Array(70).fill(0), ...Array(30).fill(1)], [...Array(50).fill(0), ...Array(50).fill(1)], -2.886751345948129, 0.003892417122778628],
    ["more than two values: all but the smallest count as 1", rep({ a: 10, b: 10, c: 10 }), rep({ a: 20, b: 5, c: 5 }), 2.581988897471611, 0.009823274507519249],
    ["two different constants", rep({ a: 10 }), rep({ b: 7 }), -4.123105625617661, 3.737981840170154e-5],
  ] as [string, CategoryValue[], CategoryValue[], number, number][])("%s", (_n, ref, cur, z, p) => {
    const r = zStattest(ref, cur);
    expectRel(r.statistic as number, z, 1e-14);
    expectRel(r.score, p, 1e-12);
  });

  it("reports the accurate tail where Evidently's 2·(1 - cdf) cancels to 0", () => {
    // scipy: z = -19.518001458970662, 2·norm.sf(|z|) = 7.719934594295634e-85, 2·(1 - norm.cdf(|z|)) = 0.0
    const r = zStattest(rep({ y: 500, n: 500 }), rep({ y: 900, n: 100 }));
    expectRel(r.statistic as number, -19.518001458970662, 1e-14);
    expectRel(r.score, 7.719934594295634e-85, 1e-12);
    expect(r.drifted).toBe(true);
  });

  it("gives p = 1 when both sides are the same single value", () => {
    const r = zStattest(rep({ a: 3 }), rep({ a: 8 }));
    expect(r.score).toBe(1);
    expect(r.drifted).toBe(false);
  });
});

describe("wasserstein: scipy.stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)", () => {
  it.each([
    ["small", [1, 2, 3, 4, 5], [2, 3, 4, 5, 6, 7], 1.5, 1.0606601717798212],
    ["lcg", lcg(300, 7919, 13, 300), lcg(250, 104729, 7, 250, 0.2), 0.1996666666666667, 0.6916694651079852],
    ["ties", [0, 0, 1, 1, 1, 2], [1, 1, 2, 2, 3], 0.9666666666666666, 1.406706625210731],
    ["constant reference divides by 0.001", Array(10).fill(5), [5, 6], 0.5, 500],
  ] as [string, number[], number[], number, number][])("%s", (_n, ref, cur, dist, normed) => {
    expectRel(wassersteinDistance(ref, cur), dist, 1e-13);
    const r = wassersteinStattest(ref, cur);
    expectRel(r.score, normed, 1e-13);
    expect(r.drifted).toBe(normed >= 0.1);
    expect(r.pValue).toBeUndefined();
  });

  it("is 0 for identical samples and symmetric as a distance", () => {
    const a = lcg(100, 7919, 13, 100);
    expect(wassersteinDistance(a, [...a].reverse())).toBe(0);
    const b = lcg(80, 17, 3, 80, 0.3);
    expectRel(wassersteinDistance(a, b), wassersteinDistance(b, a), 1e-15);
  });
});

describe("binning shared by psi, kl_div and jensenshannon", () => {
  it("Sturges edges match np.histogram_bin_edges(x, bins='sturges') bit for bit", () => {
    expect(sturgesEdges([0.1, 0.2, 0.7, 1.3, 2.9])).toEqual([0.1, 0.7999999999999999, 1.5, 2.1999999999999997, 2.9]);
    expect(sturgesEdges([-3.7, 11.9, ...Array(98).fill(0.3)])).toEqual([
      -3.7, -1.75, 0.20000000000000018, 2.1500000000000004, 4.1000000000000005, 6.05, 8, 9.950000000000003, 11.9,
    ]);
    expect(sturgesEdges([4, 4, 4])).toEqual([3.5, 4.5]);
  });

  it("adds the extra bin numpy adds when ptp/(ptp/(log2 n + 1)) rounds up at a power of two", () => {
    // numpy: 64 values spanning [0, 0.035] give 8 Sturges bins although log2(64) + 1 = 7.
    expect(sturgesEdges([...Array(63).fill(0), 0.035])).toHaveLength(9);
    expect(sturgesEdges([...Array(63).fill(0), 0.034])).toHaveLength(8);
  });

  it("counts [e_i, e_{i+1}) with the last bin closed and ignores values outside", () => {
    expect(histogramCounts([0, 1, 1.5, 2, 3, 3.5, -1, 4], [0, 1, 2, 3])).toEqual([1, 2, 2]);
  });

  it("numeric column with > 20 reference uniques: Sturges bins over the pooled data", () => {
    const b = binnedPercents(lcg(400, 7919, 13, 400), lcg(300, 104729, 7, 300, 0.15), "num");
    // np.histogram_bin_edges(concat, "sturges"): 11 bins from 0.0 to 1.1466666666666667
    expect(b.edges).toHaveLength(12);
    expect(b.edges?.slice(0, 3)).toEqual([0, 0.10424242424242425, 0.2084848484848485]);
    expect(b.edges?.[11]).toBe(1.1466666666666667);
    expect(b.reference).toEqual([0.105, 0.105, 0.105, 0.1025, 0.105, 0.105, 0.1025, 0.105, 0.105, 0.06, 0]);
    expect(b.current).toEqual([
      0, 0.06, 0.10333333333333333, 0.10666666666666667, 0.10333333333333333, 0.10333333333333333, 0.10333333333333333,
      0.10666666666666667, 0.10333333333333333, 0.10333333333333333, 0.10666666666666667,
    ]);
  });

  it("fills empty bins with 1e-4, or a millionth of the smallest share when that is <= 1e-4, without renormalising", () => {
    expect(fillEmptyBins([0.5, 0.3, 0.2, 0])).toEqual([0.5, 0.3, 0.2, 0.0001]);
    expect(fillEmptyBins([0.99995, 0.00005, 0])).toEqual([0.99995, 0.00005, 5e-11]);
    expect(fillEmptyBins([0.5, 0, 0.5])).toEqual([0.5, 0.0001, 0.5]);
  });
});

describe("psi, kl_div, jensenshannon, hellinger", () => {
  const numRef = lcg(400, 7919, 13, 400);
  const numCur = lcg(300, 104729, 7, 300, 0.15);
  const catRef = rep({ a: 50, b: 30, c: 20 });
  const catCur = rep({ a: 40, b: 30, d: 30 });
  const fewRef = range(100, (i) => i % 7);
  const fewCur = range(90, (i) => i % 9);

  it.each([
    // [name, ref, cur, type, psi, kl, js, hellinger]
    ["numeric, Sturges bins (one empty bin per side)", numRef, numCur, "num", 1.52180079459337, 0.7559595733403682, 0.2818022992659926, 0.3345528242513586],
    ["categorical, unseen categories both ways", catRef, catCur, "cat", 3.9428443903321924, 1.630788551953561, 0.41960733659358984, 0.5027786834185018],
    ["numeric with <= 20 reference uniques: one bin per value", fewRef, fewCur, "num", 1.6137918258685793, 0.25015690787030304, 0.28997711205842025, 0.34378997337111966],
  ] as [string, CategoryValue[], CategoryValue[], "num" | "cat", number, number, number, number][])(
    "%s",
    (_n, ref, cur, type, psi, kl, js, hel) => {
      expectRel(psiStattest(ref, cur, type).score, psi, 1e-12);
      expectRel(klDivStattest(ref, cur, type).score, kl, 1e-12);
      expectRel(jensenShannonStattest(ref, cur, type).score, js, 1e-12);
      expectRel(hellingerStattest(ref, cur, type).score, hel, 1e-12);
    },
  );

  it("jensenshannon is scipy.spatial.distance.jensenshannon (base e) on fixed histograms", () => {
    expectRel(jensenShannonDistance([0.5, 0.3, 0.2, 0], [0.1, 0.2, 0.3, 0.4]), 0.47060916310185213, 1e-14);
    expectRel(jensenShannonDistance([0.99995, 0.00005, 0], [0.5, 0, 0.5]), 0.46451231541787724, 1e-14);
    // disjoint supports reach the maximum sqrt(ln 2) = 0.8325546111576977
    expectRel(jensenShannonDistance([1, 0], [0, 1]), 0.8325546111576977, 1e-15);
  });

  it("identical samples are at distance 0 and not drifted", () => {
    for (const f of [psiStattest, klDivStattest, jensenShannonStattest, hellingerStattest]) {
      const r = f(numRef, [...numRef].reverse(), "num");
      expect(Math.abs(r.score)).toBeLessThan(1e-7);
      expect(r.drifted).toBe(false);
    }
  });

  it("hellinger on one shared value is 0; on disjoint categories is 1", () => {
    expect(hellingerStattest([3, 3], [3], "num").score).toBe(0);
    expect(hellingerStattest(["a"], ["b"], "cat").score).toBe(1);
  });
});

describe("thresholds and decision operators", () => {
  it("ks drifts at p <= t, chisquare and z only at p < t, distances at d >= t", () => {
    const ks = ksStattest([1, 2, 3, 4], [5, 6, 7, 8, 9]);
    expect(ksStattest([1, 2, 3, 4], [5, 6, 7, 8, 9], ks.score).drifted).toBe(true);
    const chi = chiSquareStattest(rep({ a: 50, b: 30, c: 20 }), rep({ a: 40, b: 40, c: 20 }));
    expect(chiSquareStattest(rep({ a: 50, b: 30, c: 20 }), rep({ a: 40, b: 40, c: 20 }), chi.score).drifted).toBe(false);
    const z = zStattest(rep({ y: 60, n: 40 }), rep({ y: 45, n: 55 }));
    expect(zStattest(rep({ y: 60, n: 40 }), rep({ y: 45, n: 55 }), z.score).drifted).toBe(false);
    const w = wassersteinStattest([1, 2, 3], [2, 3, 4]);
    expect(wassersteinStattest([1, 2, 3], [2, 3, 4], w.score).drifted).toBe(true);
    expect(wassersteinStattest([1, 2, 3], [2, 3, 4], w.score * (1 + 1e-12)).drifted).toBe(false);
  });

  it("uses Evidently's default thresholds and display names", () => {
    expect(Object.values(STATTESTS).map((s) => [s.name, s.defaultThreshold, s.displayName])).toEqual([
      ["ks", 0.05, "K-S p_value"],
      ["chisquare", 0.05, "chi-square p_value"],
      ["z", 0.05, "Z-test p_value"],
      ["wasserstein", 0.1, "Wasserstein distance (normed)"],
      ["psi", 0.1, "PSI"],
      ["kl_div", 0.1, "Kullback-Leibler divergence"],
      ["jensenshannon", 0.1, "Jensen-Shannon distance"],
      ["hellinger", 0.1, "Hellinger distance"],
      ["anderson", 0.1, "Anderson-Darling"],
      ["cramer_von_mises", 0.1, "Cramer-von Mises"],
      ["mannw", 0.05, "Mann-Whitney U-rank test"],
      ["ed", 0.1, "Energy-distance"],
      ["es", 0.05, "Epps-Singleton"],
      ["t_test", 0.05, "t_test"],
      ["empirical_mmd", 0.1, "empirical_mmd"],
      ["fisher_exact", 0.1, "Fisher's Exact test"],
      ["g_test", 0.1, "g_test"],
      ["TVD", 0.1, "Total-Variation-Distance"],
    ]);
    expect(Object.values(STATTESTS).map((s) => [s.name, s.drift, s.columnTypes.join("+")])).toEqual([
      ["ks", "p<=t", "num"],
      ["chisquare", "p<t", "cat"],
      ["z", "p<t", "cat"],
      ["wasserstein", "d>=t", "num"],
      ["psi", "d>=t", "cat+num"],
      ["kl_div", "d>=t", "cat+num"],
      ["jensenshannon", "d>=t", "cat+num"],
      ["hellinger", "d>=t", "cat+num"],
      ["anderson", "p<t", "num"],
      ["cramer_von_mises", "p<=t", "num"],
      ["mannw", "p<t", "num"],
      ["ed", "d>t", "num"],
      ["es", "p<t", "num"],
      ["t_test", "p<t", "num"],
      ["empirical_mmd", "p<t", "num"],
      ["fisher_exact", "p<t", "cat"],
      ["g_test", "p<t", "cat"],
      ["TVD", "p<t", "cat"],
    ]);
    expect(psiStattest(["a", "b"], ["a", "b"], "cat").threshold).toBe(0.1);
    expect(ksStattest([1], [2]).threshold).toBe(0.05);
  });

  it("rejects a non-finite threshold", () => {
    expectDriftError(() => ksStattest([1], [2], Number.NaN), "INVALID_THRESHOLD");
  });
});

describe("column cleaning and default method selection (columnDrift)", () => {
  it("drops NaN, ±Infinity, null and undefined on each side before testing", () => {
    const dirty = [1, 2, Number.NaN, 3, Infinity, 4, -Infinity, null, undefined, 5];
    const r = columnDrift(dirty, [5, 6, 7, 8, 9, Number.NaN], { columnType: "num", method: "ks" });
    expect(r.referenceRows).toBe(5);
    expect(r.currentRows).toBe(5);
    expect(r.score).toBe(ksStattest([1, 2, 3, 4, 5], [5, 6, 7, 8, 9]).score);
  });

  it("refuses a side that is empty after cleaning, naming the side", () => {
    const e = expectDriftError(() => columnDrift([1, 2], [Number.NaN, Infinity, null], { columnType: "num", column: "age" }), "EMPTY_COLUMN");
    expect(e.side).toBe("current");
    expect(e.message).toBe("An empty column 'age' was provided for drift calculation in the current dataset.");
    expect(expectDriftError(() => columnDrift([], ["a"], { columnType: "cat" }), "EMPTY_COLUMN").side).toBe("reference");
  });

  it("refuses strings in a numeric column and a numeric-only test on a categorical column", () => {
    expectDriftError(() => columnDrift([1, "2"], [1], { columnType: "num" }), "NOT_NUMERIC");
    expectDriftError(() => columnDrift(["a"], ["b"], { columnType: "cat", method: "ks" }), "WRONG_COLUMN_TYPE");
    expectDriftError(() => runStattest("wasserstein", ["a"], ["b"], "cat"), "WRONG_COLUMN_TYPE");
    expectDriftError(() => columnDrift(["xx yy"], ["zz"], { columnType: "text" }), "TOO_FEW_ROWS");
  });

  it("picks by cleaned reference size (1000 vs 1001) and pooled distinct values", () => {
    const num = (n: number, k: number): number[] => range(n, (i) => i % k);
    expect(columnDrift(num(1000, 6), num(50, 6), { columnType: "num" }).method).toBe("ks");
    expect(columnDrift(num(1001, 6), num(50, 6), { columnType: "num" }).method).toBe("wasserstein");
    // one NaN in 1001 rows leaves 1000 after cleaning
    expect(columnDrift([...num(1000, 6), Number.NaN], num(50, 6), { columnType: "num" }).method).toBe("ks");
    expect(columnDrift(num(1000, 5), num(50, 5), { columnType: "num" }).method).toBe("chisquare");
    expect(columnDrift(num(1000, 3), num(50, 3), { columnType: "num" }).method).toBe("chisquare");
    expect(columnDrift(num(1000, 2), num(50, 2), { columnType: "num" }).method).toBe("z");
    expect(columnDrift(num(1001, 2), num(50, 2), { columnType: "num" }).method).toBe("jensenshannon");
    expect(columnDrift(num(1001, 5), num(50, 5), { columnType: "num" }).method).toBe("jensenshannon");
    // reference has 3 values, current adds 3 more: 6 pooled -> ks
    expect(columnDrift(num(100, 3), range(30, (i) => 3 + (i % 3)), { columnType: "num" }).method).toBe("ks");
    expect(columnDrift(rep({ a: 5, b: 5 }), rep({ a: 1 }), { columnType: "cat" }).method).toBe("z");
    expect(columnDrift(rep({ a: 5, b: 5 }), rep({ c: 1 }), { columnType: "cat" }).method).toBe("chisquare");
    expect(columnDrift(rep({ a: 600, b: 401 }), rep({ a: 1 }), { columnType: "cat" }).method).toBe("jensenshannon");
  });

  it("the rule table, text included", () => {
    expect(defaultStattest("text", 50, 1000)).toBe("perc_text_content_drift");
    expect(defaultStattest("text", 50, 1001)).toBe("abs_text_content_drift");
    expect(defaultStattest("cat", 100, 10)).toBe("chisquare");
    expect(defaultStattest("num", 100, 10)).toBe("ks");
    expect(defaultStattest("num", 1, 10)).toBe("z");
  });

  it("a user-chosen method with a custom threshold is honoured", () => {
    const r = columnDrift([1, 2, 3], [1, 2, 3], { columnType: "num", method: "psi", threshold: 0.5 });
    expect(r.method).toBe("psi");
    expect(r.threshold).toBe(0.5);
    expect(r.drifted).toBe(false);
  });
});

describe("column type inference (Evidently's current API, from the current data)", () => {
  it.each([
    ["floats", [1.5, 2, 3], "num"],
    ["integers with <= 10 distinct values", range(50, (i) => i % 10), "cat"],
    ["integers with 11 distinct values", range(50, (i) => i % 11), "num"],
    ["integers with a missing cell become float", [1, 2, null, 1], "num"],
    ["booleans", [true, false, true], "cat"],
    ["strings, few distinct", ["a", "b", "a", "a", null], "cat"],
    ["strings, more than half distinct", ["a", "b", "c", "a"], "text"],
    ["two distinct strings in two rows are text", ["x", "y"], "text"],
    ["mixed types", [1, "a", 1, "a"], "cat"],
  ] as [string, (CategoryValue | null)[], string][])("%s", (_n, values, type) => {
    expect(inferColumnType(values)).toBe(type);
  });
});

describe("dataset-level rule", () => {
  const cols = (drifted: number, total: number): { drifted: boolean }[] => range(total, (i) => i).map((i) => ({ drifted: i < drifted }));
  it("drifts when the share of drifted columns is >= 0.5 (exactly half counts)", () => {
    expect(datasetDrift(cols(2, 4))).toMatchObject({ numberOfColumns: 4, numberOfDriftedColumns: 2, shareOfDriftedColumns: 0.5, datasetDrift: true });
    expect(datasetDrift(cols(1, 4)).datasetDrift).toBe(false);
    expect(datasetDrift(cols(1, 4), 0.25).datasetDrift).toBe(true);
    expect(datasetDrift(cols(0, 3), 0).datasetDrift).toBe(true);
  });
  it("refuses no columns and a share outside [0, 1]", () => {
    expectDriftError(() => datasetDrift([]), "NO_COLUMNS");
    expectDriftError(() => datasetDrift(cols(1, 2), 1.5), "INVALID_THRESHOLD");
  });
});
