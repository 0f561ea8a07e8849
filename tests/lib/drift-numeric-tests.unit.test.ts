/**
 * anderson, cramer_von_mises, mannw, ed, es and t_test against scipy 1.17.1 (Python 3.11). Each
 * expected number is the output of the scipy call named next to it on data built by the same
 * integer formulas as `lcg` below (bit-identical inputs on both sides). Tail values were checked
 * with mpmath 1.3 at 40-50 digits where scipy's own value is not accurate; those cases say so.
 */
import { describe, expect, it } from "vitest";
import {
  andersonDarling,
  cramerVonMises,
  cvmLimitCdf,
  cvmLimitSf,
  DriftTestError,
  energyDistance,
  eppsSingleton,
  mannWhitney,
  runStattest,
  tTest,
} from "../../worker/lib/drift";

function lcg(n: number, mult: number, add: number, m: number, off = 0): number[] {
  return Array.from({ length: n }, (_, i) => ((i * mult + add) % m) / m + off);
}
const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

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

const DATA: Record<string, [number[], number[]]> = {
  small: [
    [1, 2, 3, 4, 5],
    [2, 3, 4, 5, 6, 7],
  ],
  ties: [range(200, (i) => (i * 37) % 5), range(150, (i) => ((i * 11) % 5) + 1)],
  lcg: [lcg(300, 7919, 13, 300), lcg(250, 104729, 7, 250, 0.2)],
  untied8: [lcg(8, 5, 1, 8), lcg(30, 7, 3, 30, 0.05)],
  es12: [lcg(12, 5, 1, 12), lcg(15, 7, 3, 15, 0.3)],
  cvm10: [
    [1.5, 2.25, 3, 4.5, 5, 6.5, 7, 8, 9.25, 10],
    [3.1, 4, 5.5, 6, 7.75, 8.5, 9, 11, 12, 13, 14],
  ],
  cvmties: [
    [1, 1, 2, 3, 3, 3, 4, 5],
    [2, 2, 3, 4, 4, 5, 6, 6, 7],
  ],
};

describe("anderson: scipy.stats.anderson_ksamp([ref, cur]) (midrank), p capped to [0.001, 0.25]", () => {
  it.each([
    ["small", 0.2527450121468346, 0.25],
    ["ties", 34.77981644572271, 0.001],
    ["lcg", 38.05342243914937, 0.001],
    ["untied8", -0.6316978550192576, 0.25],
    ["es12", 2.735184472639261, 0.02474054908171627],
    ["cvm10", 1.1536836202566603, 0.10896556702139164],
    ["cvmties", 1.6447197069597428, 0.06809900608911144],
  ] as [string, number, number][])("%s", (name, stat, p) => {
    const [a, b] = DATA[name];
    const r = andersonDarling(a, b);
    expectRel(r.statistic, stat, 1e-13);
    expectRel(r.pValue, p, 1e-13);
    expect(r.capped).toBe(p === 0.25 ? "cap" : p === 0.001 ? "floor" : null);
  });

  it("two values only (heavy ties): scipy gives A2 = 0.783875085425699, p = 0.15615409664859092", () => {
    const r = andersonDarling([0, 0, 0, 1, 1], [0, 1, 1, 1, 1]);
    expectRel(r.statistic, 0.783875085425699, 1e-13);
    expectRel(r.pValue, 0.15615409664859092, 1e-13);
  });

  it("decides p < 0.1 through runStattest and refuses constant or too-small data", () => {
    const r = runStattest("anderson", ...DATA.cvmties, "num");
    expect(r.threshold).toBe(0.1);
    expect(r.drifted).toBe(true);
    expect(runStattest("anderson", ...DATA.cvm10, "num").drifted).toBe(false);
    expectDriftError(() => andersonDarling([3, 3, 3], [3, 3]), "CONSTANT_COLUMN");
    expectDriftError(() => andersonDarling([1], [2, 3]), "TOO_FEW_ROWS");
  });
});

describe("cramer_von_mises: scipy.stats.cramervonmises_2samp(ref, cur)", () => {
  it.each([
    // exact (both sides <= 20)
    ["small", 0.16969696969696968, 0.3787878787878788, "exact", 1e-14],
    ["untied8", 0.06502192982456201, 0.8341010700211446, "asymp", 1e-12],
    ["es12", 0.5026234567901238, 0.039985423260426624, "exact", 1e-14],
    ["cvm10", 0.2929292929292928, 0.1523123419408249, "exact", 1e-14],
    ["cvmties", 0.33251633986928075, 0.11875771287535994, "exact", 1e-14],
  ] as [string, number, number, string, number][])("%s", (name, stat, p, mode, rel) => {
    const [a, b] = DATA[name];
    const r = cramerVonMises(a, b);
    expect(r.mode).toBe(mode);
    expectRel(r.statistic, stat, 1e-13);
    expectRel(r.pValue, p, rel);
  });

  it("asymptotic p-values below 1e-6 come from the tail integral, not scipy's cancelled 1 - cdf", () => {
    // ties: scipy reports 2.920220509849969e-08, whose last 4 digits are rounding noise of 1 - cdf;
    // statistic from scipy: 3.1829166666666637.
    const ties = cramerVonMises(...DATA.ties);
    expectRel(ties.statistic, 3.1829166666666637, 1e-13);
    expectRel(ties.pValue, 2.920220509849969e-8, 1e-4);
    // Fully separated samples 0..29 vs 30..59: T = 5.002777777777778 (scipy); normalised tn =
    // 5.0421658004250445; mpmath (Smirnov's integral, 40 digits) gives 2.4700640577516298e-12,
    // scipy gives 5.68e-11 (noise).
    const sep = cramerVonMises(range(30, (i) => i), range(30, (i) => 30 + i));
    expectRel(sep.statistic, 5.002777777777778, 1e-14);
    expectRel(sep.pValue, 2.4700640577516298e-12, 1e-9);
    // 0..799 vs 800..1599: tn = 133.37501950073289, mpmath sf = 4.4556071072574175e-288.
    const far = cramerVonMises(range(800, (i) => i), range(800, (i) => 800 + i));
    expectRel(far.statistic, 133.3334375, 1e-13);
    expect(far.pValue).toBeGreaterThan(0);
    expectRel(far.pValue, 4.4556071072574175e-288, 1e-8);
  });

  it("limit distribution: the series cdf and the integral sf agree where both are accurate", () => {
    for (const x of [0.05, 0.2, 0.5, 1, 2]) expectRel(cvmLimitSf(x), 1 - cvmLimitCdf(x), 1e-8);
    // mpmath: 0.0024604521801339634 at x = 1; 3.0539290331033825e-12 at x = 5
    expectRel(cvmLimitSf(1), 0.0024604521801339634, 1e-13);
    expectRel(cvmLimitSf(5), 3.0539290331033825e-12, 1e-12);
  });

  it("uses p <= t with t = 0.1, and needs two values a side", () => {
    const p = cramerVonMises(...DATA.cvm10).pValue;
    expect(runStattest("cramer_von_mises", ...DATA.cvm10, "num", p).drifted).toBe(true);
    expectDriftError(() => cramerVonMises([1], [1, 2, 3]), "TOO_FEW_ROWS");
    expectDriftError(() => cramerVonMises([2, 2], [2, 2, 2]), "CONSTANT_COLUMN");
  });
});

describe("mannw: scipy.stats.mannwhitneyu(x=ref, y=cur, alternative='less')", () => {
  it.each([
    // 2..5 occur on both sides: ties, so the normal approximation even with 5 values
    ["small", 8, 0.11552274413575647, "asymp", 1e-14],
    ["ties", 9600, 2.245817442587297e-9, "asymp", 1e-12],
    ["lcg", 24016.5, 1.857055970823026e-13, "asymp", 1e-12],
    // 0.25 = 6/30 + 0.05 in floating point: one tie, so asymptotic although one side has 8 values
    ["untied8", 98, 0.2206773116208796, "asymp", 1e-13],
    ["es12", 43.5, 0.012386864757539208, "asymp", 1e-12],
    ["cvm10", 31, 0.04898049196299628, "asymp", 1e-12],
    ["cvmties", 18, 0.04400087329869785, "asymp", 1e-12],
  ] as [string, number, number, string, number][])("%s", (name, u, p, mode, rel) => {
    const [a, b] = DATA[name];
    const r = mannWhitney(a, b);
    expect(r.mode).toBe(mode);
    expect(r.statistic).toBe(u);
    expectRel(r.pValue, p, rel);
  });

  it("exact distribution for a small side with no ties (3 vs 4, 5 vs 300)", () => {
    expectRel(mannWhitney([1, 5, 9], [2, 3, 4, 6]).pValue, 0.6857142857142857, 1e-14);
    const r = mannWhitney([10.5, 20.5, 30.5, 40.5, 50.5], range(300, (i) => i));
    expect(r.statistic).toBe(155);
    expectRel(r.pValue, 0.0003748037800095964, 1e-12);
  });

  it("is one-sided: a downward shift of the current data is never drift (scipy: p = 1.0)", () => {
    const r = runStattest("mannw", range(100, (i) => 100 + i), range(100, (i) => i), "num");
    expect(r.score).toBe(1);
    expect(r.drifted).toBe(false);
    expect(runStattest("mannw", range(100, (i) => i), range(100, (i) => 100 + i), "num").drifted).toBe(true);
  });

  it("keeps the far tail: 0..899 vs 900..1799 gives 1.1226934185380553e-295 (scipy; mpmath agrees to 1e-13)", () => {
    const r = mannWhitney(range(900, (i) => i), range(900, (i) => 900 + i));
    expect(r.statistic).toBe(0);
    expectRel(r.pValue, 1.1226934185381354e-295, 1e-11);
  });

  it("refuses a column where every value is the same", () => {
    expectDriftError(() => mannWhitney([1, 1], [1, 1, 1]), "CONSTANT_COLUMN");
  });
});

describe("ed: scipy.stats.energy_distance(ref, cur), drift when d > 0.1 (strict)", () => {
  it.each([
    ["small", 0.8881941729649486],
    ["ties", 0.6324555320336759],
    ["lcg", 0.27282255798989236],
    ["cvm10", 1.2075177735974403],
    ["cvmties", 0.9848387722908799],
  ] as [string, number][])("%s", (name, d) => {
    expectRel(energyDistance(...DATA[name]), d, 1e-13);
  });

  it("small samples and constants: scipy gives 1.0069204977995476 and 0.0", () => {
    expectRel(energyDistance([0, 0, 1], [1, 1, 1, 2]), 1.0069204977995476, 1e-14);
    expect(energyDistance([5], [5])).toBe(0);
  });

  it("uses the strict operator", () => {
    const d = energyDistance(...DATA.lcg);
    expect(runStattest("ed", ...DATA.lcg, "num", d).drifted).toBe(false);
    expect(runStattest("ed", ...DATA.lcg, "num", d * (1 - 1e-12)).drifted).toBe(true);
    expect(runStattest("ed", ...DATA.lcg, "num").pValue).toBeUndefined();
  });
});

describe("t_test: scipy.stats.ttest_ind(ref, cur) (pooled variance, two-sided)", () => {
  it.each([
    ["small", -1.4171324789199904, 0.19011811321303282],
    ["ties", -6.52780551931192, 2.3623814830637715e-10],
    ["lcg", -8.062269427529088, 4.730104432942637e-15],
    ["untied8", -0.8137428063340373, 0.42114220465126834],
    ["es12", -2.661113087346301, 0.013409502640640768],
  ] as [string, number, number][])("%s", (name, t, p) => {
    const r = tTest(...DATA[name]);
    expectRel(r.statistic, t, 1e-12);
    expectRel(r.pValue, p, 1e-12);
  });

  it("keeps the tail: shift by 1.25 gives t = -52.94484060018884, p = 6.800684598519229e-228 (mpmath agrees)", () => {
    const r = tTest(lcg(300, 7919, 13, 300), lcg(300, 7919, 13, 300, 1.25));
    expectRel(r.statistic, -52.94484060018884, 1e-11);
    expectRel(r.pValue, 6.8006845985190855e-228, 1e-9);
  });

  it("two different constants: t = -inf, p = 0 (scipy); the same constant is undefined", () => {
    const r = tTest([1, 1, 1], [2, 2, 2]);
    expect(r.statistic).toBe(-Infinity);
    expect(r.pValue).toBe(0);
    expectDriftError(() => tTest([4, 4], [4, 4, 4]), "CONSTANT_COLUMN");
    expectDriftError(() => tTest([1], [1, 2, 3]), "TOO_FEW_ROWS");
  });
});

describe("es: scipy.stats.epps_singleton_2samp(ref, cur), t = (0.4, 0.8)", () => {
  it.each([
    ["small", 1.5665845399845282, 0.8147849837323619, 1e-11],
    ["ties", 85.36770769903582, 1.2675314744412195e-17, 1e-10],
    ["lcg", 108.08623020954235, 1.86241443677252e-22, 1e-10],
    ["untied8", 2.5551338567011124, 0.6347911753647398, 1e-11],
    ["es12", 6.218031238715414, 0.18344651447805102, 1e-11],
    ["cvm10", 4.0126101131873595, 0.40430194650283163, 1e-11],
  ] as [string, number, number, number][])("%s", (name, w, p, rel) => {
    const r = eppsSingleton(...DATA[name]);
    expect(r.df).toBe(4);
    expectRel(r.statistic, w, rel);
    expectRel(r.pValue, p, rel);
  });

  it("n = 5 vs 6 with the small-sample correction: W = 2.1054385235101334, p = 0.7163733005250486", () => {
    const r = eppsSingleton([1, 2, 3, 4, 5.5], [2.5, 3, 4.5, 6, 7, 8]);
    expectRel(r.statistic, 2.1054385235101334, 1e-11);
    expectRel(r.pValue, 0.7163733005250486, 1e-11);
  });

  it("refuses fewer than 5 values a side and a zero pooled IQR (Evidently's check)", () => {
    expectDriftError(() => eppsSingleton([1, 2, 3, 4], [1, 2, 3, 4, 5]), "TOO_FEW_ROWS");
    expectDriftError(() => eppsSingleton([1, 5, 5, 5, 5, 5], [5, 5, 5, 5, 9]), "CONSTANT_COLUMN");
  });
});

describe("typed arrays and cleaning", () => {
  it("every numeric test gives the same result on Float64Array input", () => {
    const [a, b] = DATA.es12;
    const fa = Float64Array.from(a);
    const fb = Float64Array.from(b);
    for (const m of ["anderson", "cramer_von_mises", "mannw", "ed", "es", "t_test", "empirical_mmd", "ks", "wasserstein"] as const) {
      expect(runStattest(m, fa, fb, "num")).toEqual(runStattest(m, a, b, "num"));
    }
  });

  it("numeric-only tests refuse categorical columns", () => {
    for (const m of ["anderson", "cramer_von_mises", "mannw", "ed", "es", "t_test", "empirical_mmd"] as const) {
      expectDriftError(() => runStattest(m, ["a", "b"], ["b", "c"], "cat"), "WRONG_COLUMN_TYPE");
    }
  });
});
