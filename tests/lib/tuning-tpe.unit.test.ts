import { describe, expect, it } from "vitest";
import type {
  CategoricalChoice,
  Distribution,
  StudyDirection,
  TrialState,
} from "../../worker/lib/tuning/distributions";
import { contains } from "../../worker/lib/tuning/distributions";
import { LOG_SQRT_2PI, erfcx, logGaussMass } from "../../worker/lib/tuning/normal";
import { Rng, sampleRandom } from "../../worker/lib/tuning/random";
import {
  type ParzenEstimator,
  type TpeOptions,
  type TrialRecord,
  buildParzenEstimator,
  defaultGamma,
  defaultWeights,
  hyperoptGamma,
  inferRelativeSearchSpace,
  logPdfParzen,
  sampleParzen,
  sampleSearchSpace,
  sampleTpe,
  sampleTpeRelative,
  sortedOrder,
  splitTrials,
} from "../../worker/lib/tuning/tpe";

const F = (low: number, high: number, log = false, step: number | null = null): Distribution => ({ type: "float", low, high, log, step });
const I = (low: number, high: number, log = false, step = 1): Distribution => ({ type: "int", low, high, log, step });
const C = (choices: CategoricalChoice[]): Distribution => ({ type: "categorical", choices });

function trial(
  number: number,
  state: TrialState,
  params: Record<string, CategoricalChoice>,
  space: Record<string, Distribution>,
  value?: number,
  intermediateValues?: Record<number, number | null>,
): TrialRecord {
  const distributions = Object.fromEntries(Object.keys(params).map((k) => [k, space[k]]));
  return { number, state, params, distributions, value, intermediateValues };
}

function relClose(got: number, want: number, tol = 1e-12): boolean {
  return Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));
}

describe("defaults", () => {
  it("gamma(n) = min(ceil(0.1 n), 25) and the hyperopt variant", () => {
    // Optuna 4.8.0 default_gamma for n = 0, 1, 10, 11, 100, 249, 250, 251, 1000.
    expect([0, 1, 10, 11, 100, 249, 250, 251, 1000].map(defaultGamma)).toEqual([0, 1, 1, 2, 10, 25, 25, 25, 25]);
    expect([1, 16, 17, 100, 1e5].map(hyperoptGamma)).toEqual([1, 1, 2, 3, 25]);
  });

  it("weights(n): flat below 25, a linspace ramp for the oldest n − 25 above", () => {
    expect(defaultWeights(0)).toEqual([]);
    expect(defaultWeights(24)).toEqual(new Array(24).fill(1));
    expect(defaultWeights(25)).toEqual(new Array(25).fill(1));
    expect(defaultWeights(26)).toEqual([1 / 26, ...new Array(25).fill(1)]);
    // Optuna 4.8.0 default_weights(30)[:6] and default_weights(40)[:16] (numpy 1.24.2).
    const w30 = [0.03333333333333333, 0.275, 0.5166666666666667, 0.7583333333333333, 1.0, 1.0];
    const w40 = [
      0.025, 0.09464285714285714, 0.16428571428571428, 0.23392857142857143, 0.3035714285714286, 0.3732142857142857,
      0.4428571428571429, 0.5125000000000001, 0.5821428571428572, 0.6517857142857143, 0.7214285714285714,
      0.7910714285714286, 0.8607142857142858, 0.9303571428571429, 1.0, 1.0,
    ];
    expect(defaultWeights(30).slice(0, 6)).toEqual(w30);
    expect(defaultWeights(40).slice(0, 16)).toEqual(w40);
    expect(defaultWeights(40).length).toBe(40);
  });
});

/**
 * Parzen estimator internals from Optuna 4.8.0 (source at tag v4.8.0, numpy 1.24.2): for each case,
 * `_ParzenEstimator(observations, search_space, _ParzenEstimatorParameters(prior_weight=1.0,
 * consider_magic_clip=True, consider_endpoints=False, weights=default_weights, multivariate=<case>,
 * categorical_distance_func={}))`; `weights` = `_mixture_distribution.weights`, per-dimension `mu`/`sigma`
 * (or categorical `weights` rows, here `probs`) = `_mixture_distribution.distributions[i]`, and
 * `logPdf` = `pe.log_pdf(points)`. Observations are internal values (categorical = choice index);
 * ramp30 uses 30 points of numpy.random.RandomState(3).uniform(-3, 3, 30) rounded to 6 decimals.
 */
const PARZEN_CASES: Record<
  string,
  {
    space: Record<string, Distribution>;
    multivariate: boolean;
    observations: Record<string, number[]>;
    weights: number[];
    dims: Record<string, { mus?: number[]; sigmas?: number[]; probs?: number[][] }>;
    points: Record<string, number[]>;
    logPdf: number[];
  }
> = {
  float: {
    space: { x: F(0, 10) },
    multivariate: false,
    observations: {"x": [1.0, 2.5, 7.0, 9.5, 3.0]},
    weights: [0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666],
    dims: {"x": {"mus": [1.0, 2.5, 7.0, 9.5, 3.0, 5.0], "sigmas": [1.5, 1.5, 2.5, 2.5, 2.0, 10.0]}},
    points: {"x": [0.0, 0.5, 2.5, 5.0, 9.99, 10.0]},
    logPdf: [-2.4462816943374137, -2.2225181000630876, -1.960683996609365, -2.485866486289736, -2.58762030992599, -2.5891530762894304],
  },
  floatLog: {
    space: { x: F(1e-3, 1, true) },
    multivariate: false,
    observations: {"x": [0.01, 0.5, 0.002]},
    weights: [0.25, 0.25, 0.25, 0.25],
    dims: {"x": {"mus": [-4.605170185988091, -0.6931471805599453, -6.214608098422191, -3.4538776394910684], "sigmas": [1.6094379124341005, 2.760730458931123, 1.6094379124341005, 6.907755278982137]}},
    points: {"x": [0.001, 0.0123, 0.3, 1.0]},
    logPdf: [-1.916959962158526, -1.7247225553809706, -2.2614137473640192, -2.3634872563521387],
  },
  int: {
    space: { n: I(1, 10) },
    multivariate: false,
    observations: {"n": [2, 2, 9]},
    weights: [0.25, 0.25, 0.25, 0.25],
    dims: {"n": {"mus": [2.0, 2.0, 9.0, 5.5], "sigmas": [2.0, 3.5, 3.5, 10.0]}},
    points: {"n": [1, 2, 3, 9, 10]},
    logPdf: [-2.0823181495383625, -1.9851230231792707, -2.0162915323624446, -2.6076808326628775, -2.68527036518223],
  },
  intLog: {
    space: { n: I(1, 1000, true) },
    multivariate: false,
    observations: {"n": [3, 40, 41, 900]},
    weights: [0.2, 0.2, 0.2, 0.2, 0.2],
    dims: {"n": {"mus": [1.0986122886681096, 3.6888794541139363, 3.7135720667043075, 6.802394763324311, 3.1075539867319213], "sigmas": [2.0089416980638117, 1.266900389097289, 3.0888226966200034, 3.0888226966200034, 7.601402334583733]}},
    points: {"n": [1, 2, 50, 1000]},
    logPdf: [-2.365777334278871, -2.925134681543736, -5.659033404286363, -9.230011817248819],
  },
  floatStep: {
    space: { x: F(-1, 2, false, 0.25) },
    multivariate: false,
    observations: {"x": [-1.0, 0.5, 0.75, 2.0]},
    weights: [0.2, 0.2, 0.2, 0.2, 0.2],
    dims: {"x": {"mus": [-1.0, 0.5, 0.75, 2.0, 0.5], "sigmas": [1.5, 1.5, 1.25, 1.25, 3.25]}},
    points: {"x": [-1.0, 0.0, 0.75, 2.0]},
    logPdf: [-2.8032461907757726, -2.538721572335949, -2.4610975918639344, -2.64383789292192],
  },
  categorical: {
    space: { c: C(["a", "b", "c"]) },
    multivariate: false,
    observations: {"c": [0, 2, 2]},
    weights: [0.25, 0.25, 0.25, 0.25],
    dims: {"c": {"probs": [[0.7142857142857143, 0.14285714285714285, 0.14285714285714285], [0.14285714285714285, 0.14285714285714285, 0.7142857142857143], [0.14285714285714285, 0.14285714285714285, 0.7142857142857143], [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]]}},
    points: {"c": [0, 1, 2]},
    logPdf: [-1.0986122886681098, -1.6582280766035324, -0.7419373447293772],
  },
  empty: {
    space: { x: F(-5, 5) },
    multivariate: false,
    observations: {"x": []},
    weights: [1.0],
    dims: {"x": {"mus": [0.0], "sigmas": [10.0]}},
    points: {"x": [-5.0, 0.0, 4.0]},
    logPdf: [-2.386607292503096, -2.261607292503096, -2.341607292503096],
  },
  single: {
    space: { x: F(0, 1) },
    multivariate: false,
    observations: {"x": [0.9]},
    weights: [0.5, 0.5],
    dims: {"x": {"mus": [0.9, 0.5], "sigmas": [0.4, 1.0]}},
    points: {"x": [0.0, 0.9]},
    logPdf: [-0.639883546621038, 0.28604443450334016],
  },
  multivariate: {
    space: { x: F(0, 10), y: F(1e-2, 1e2, true), c: C([true, null, 3]) },
    multivariate: true,
    observations: {"x": [1.0, 4.0, 8.0], "y": [0.1, 10.0, 50.0], "c": [0, 2, 1]},
    weights: [0.25, 0.25, 0.25, 0.25],
    dims: {"x": {"mus": [1.0, 4.0, 8.0, 5.0], "sigmas": [2.0, 2.0, 2.0, 10.0]}, "y": {"mus": [-2.3025850929940455, 2.3025850929940455, 3.912023005428146, 0.0], "sigmas": [1.8420680743952365, 1.8420680743952365, 1.8420680743952365, 9.210340371976182]}, "c": {"probs": [[0.7142857142857143, 0.14285714285714285, 0.14285714285714285], [0.14285714285714285, 0.14285714285714285, 0.7142857142857143], [0.14285714285714285, 0.7142857142857143, 0.14285714285714285], [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]]}},
    points: {"x": [1.0, 5.0], "y": [0.2, 20.0], "c": [0, 2]},
    logPdf: [-4.3759578403994945, -4.708526605660065],
  },
  ramp30: {
    space: { x: F(-3, 3) },
    multivariate: false,
    observations: {"x": [0.304787, 1.248887, -1.254572, 0.064966, 2.357682, 2.377759, -2.246488, -1.756543, -2.691197, -0.355141, -2.820743, -0.259001, 0.894864, -1.329076, 1.057529, 0.545177, -2.856109, 0.353125, -1.444485, -0.509393, -1.29885, 1.158828, -0.357278, -2.058794, 0.267894, 1.681889, -1.161819, -1.668253, -0.672172, 2.618302]},
    weights: [0.0011661807580174927, 0.009620991253644314, 0.018075801749271137, 0.026530612244897955, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776],
    dims: {"x": {"mus": [0.304787, 1.248887, -1.254572, 0.064966, 2.357682, 2.377759, -2.246488, -1.756543, -2.691197, -0.355141, -2.820743, -0.259001, 0.894864, -1.329076, 1.057529, 0.545177, -2.856109, 0.353125, -1.444485, -0.509393, -1.29885, 1.158828, -0.357278, -2.058794, 0.267894, 1.681889, -1.161819, -1.668253, -0.672172, 2.618302, 0.0], "sigmas": [0.1875, 0.4330019999999999, 0.1875, 0.20292800000000003, 0.6757930000000001, 0.24054299999999973, 0.444709, 0.3022509999999998, 0.444709, 0.1875, 0.1875, 0.259001, 0.34968699999999997, 0.1875, 0.1875, 0.34968699999999997, 0.1875, 0.192052, 0.22376799999999997, 0.1875, 0.1875, 0.1875, 0.1875, 0.3022509999999998, 0.20292800000000003, 0.6757930000000001, 0.48964699999999994, 0.22376799999999997, 0.48964699999999994, 0.24054299999999973, 6.0]}},
    points: {"x": [-2.0, 0.0, 1.5]},
    logPdf: [-1.8563466772730821, -1.6883274662777064, -2.6072451752915864],
  },
};

describe("Parzen estimator matches Optuna's _ParzenEstimator", () => {
  for (const [name, c] of Object.entries(PARZEN_CASES)) {
    it(`${name}: mixture weights, centres, bandwidths / category rows, and log pdf`, () => {
      const pe = buildParzenEstimator(c.observations, c.space, {
        priorWeight: 1,
        considerMagicClip: true,
        considerEndpoints: false,
        weights: defaultWeights,
        multivariate: c.multivariate,
      });
      expect(pe.weights.length).toBe(c.weights.length);
      pe.weights.forEach((w, i) => expect(relClose(w, c.weights[i]), `weight ${i}`).toBe(true));
      for (const [param, want] of Object.entries(c.dims)) {
        const dim = pe.dims[param];
        if (dim.kind === "numeric") {
          expect(dim.mus.length).toBe(want.mus!.length);
          dim.mus.forEach((m, i) => expect(relClose(m, want.mus![i]), `${param} mu ${i}: ${m} vs ${want.mus![i]}`).toBe(true));
          dim.sigmas.forEach((s, i) =>
            expect(relClose(s, want.sigmas![i]), `${param} sigma ${i}: ${s} vs ${want.sigmas![i]}`).toBe(true),
          );
        } else {
          expect(dim.probs.length).toBe(want.probs!.length);
          dim.probs.forEach((row, i) => row.forEach((p, j) => expect(relClose(p, want.probs![i][j])).toBe(true)));
        }
      }
      const lp = logPdfParzen(pe, c.points);
      expect(lp.length).toBe(c.logPdf.length);
      lp.forEach((v, i) => expect(relClose(v, c.logPdf[i], 1e-11), `logPdf[${i}] ${v} vs ${c.logPdf[i]}`).toBe(true));
    });
  }

  it("samples stay inside the search space and follow the mixture", () => {
    const space = { x: F(0, 10), n: I(-4, 8, false, 3), y: F(1e-3, 1, true), c: C(["a", "b"]) };
    const pe = buildParzenEstimator({ x: [1, 9], n: [-4, 8], y: [0.01, 0.5], c: [0, 1] }, space, {
      priorWeight: 1,
      considerMagicClip: true,
      considerEndpoints: false,
      weights: defaultWeights,
      multivariate: true,
    });
    const s = sampleParzen(pe, Rng.seeded(3), 2000);
    for (let i = 0; i < 2000; i++) {
      for (const [k, d] of Object.entries(space)) {
        const v = d.type === "categorical" ? d.choices[s[k][i]] : s[k][i];
        if (!contains(d, v)) throw new Error(`${k}=${v} outside its distribution`);
      }
    }
    // Joint sampling: one component drives every dimension, so x and n are positively correlated here.
    let cov = 0;
    const mx = s.x.reduce((a, b) => a + b, 0) / 2000;
    const mn = s.n.reduce((a, b) => a + b, 0) / 2000;
    for (let i = 0; i < 2000; i++) cov += (s.x[i] - mx) * (s.n[i] - mn);
    expect(cov / 2000).toBeGreaterThan(1);
  });
});

/**
 * The mixture log density of one parameter written the plain way: every component's term at every point,
 * then log Σ exp over all of them. logPdfParzen skips work (exps that cannot change the sum, far grid
 * cells, repeated values) and must still agree with this: bit for bit for continuous and categorical
 * parameters, to the last bits for grid parameters, whose components with equal terms are summed together.
 */
function plainLogPdf(pe: ParzenEstimator, name: string, xs: number[]): number[] {
  const dim = pe.dims[name];
  return xs.map((x) => {
    const terms = pe.weights.map((w, k) => {
      const lw = Math.log(w);
      if (dim.kind === "categorical") return lw + Math.log(dim.probs[k][x]);
      const { mus, sigmas, logMass, logSigma, low, high } = dim;
      const d = dim.distribution;
      if (d.step === null) {
        const t = d.log ? Math.log(x) : x;
        if (t < low || t > high) return -Infinity;
        const z = (t - mus[k]) / sigmas[k];
        return lw + (-0.5 * z * z - LOG_SQRT_2PI - logMass[k] - logSigma[k]);
      }
      const half = d.step / 2;
      const a = ((d.log ? Math.log(x - half) : x - half) - mus[k]) / sigmas[k];
      const b = ((d.log ? Math.log(x + half) : x + half) - mus[k]) / sigmas[k];
      // One side of the centre, mirrored to the left: log(Φ(b′) − Φ(a′)) with Φ(z) = e^(−z²/2)·erfcx(−z/√2)/2.
      // (logDiffExp of log Φ at the edges is the same mass, but loses up to ~1e-11 on narrow cells far
      // out; the Optuna cases above check the grid densities against Optuna itself.)
      const logSide = (near: number, far: number) =>
        -0.5 * near * near - Math.LN2 + Math.log(erfcx(-near / Math.SQRT2) - Math.exp(0.5 * (near - far) * (near + far)) * erfcx(-far / Math.SQRT2));
      const mass = b <= 0 ? logSide(b, a) : a > 0 ? logSide(-a, -b) : logGaussMass(a, b);
      return lw + (mass - logMass[k]);
    });
    let max = -Infinity;
    for (const t of terms) if (t > max) max = t;
    if (max === -Infinity || Number.isNaN(max)) return max;
    let s = 0;
    for (const t of terms) s += Math.exp(t - max);
    return Math.log(s) + max;
  });
}

describe("logPdfParzen equals the plain per-point mixture", () => {
  const spaces: Record<string, Distribution> = {
    int: I(1, 64),
    logInt: I(16, 4096, true),
    stepped: F(0, 1, false, 0.05),
    steppedInt: I(-30, 30, false, 3),
    float: F(-5, 5),
    logFloat: F(1e-5, 1, true),
    choice: C(["a", "b", "c", "d"]),
  };
  for (const [name, d] of Object.entries(spaces)) {
    it(`${name}: one-dimensional estimators from 1 to 1500 observations`, () => {
      const rng = Rng.seeded(name.length * 7919);
      for (const n of [1, 30, 400, 1500]) {
        // Clustered observations (half of them near one value) and a spread, as a study's history has.
        const obs = Array.from({ length: n }, (_, i) => {
          const v = i % 2 === 0 ? sampleRandom(d, rng) : d.type === "categorical" ? d.choices[1] : sampleRandom({ ...d, high: d.low + (d.high - d.low) / 8 } as Distribution, rng);
          return d.type === "categorical" ? d.choices.indexOf(v) : (v as number);
        });
        const pe = buildParzenEstimator({ [name]: obs }, { [name]: d }, {
          priorWeight: 1,
          considerMagicClip: true,
          considerEndpoints: false,
          weights: defaultWeights,
          multivariate: false,
        });
        const drawn = sampleParzen(pe, rng, 24)[name];
        const points = [...drawn, ...Array.from({ length: 24 }, () => {
          const v = sampleRandom(d, rng);
          return d.type === "categorical" ? d.choices.indexOf(v) : (v as number);
        })];
        if (d.type !== "categorical") points.push(d.low, d.high, d.low, d.high);
        const got = logPdfParzen(pe, { [name]: points });
        const want = plainLogPdf(pe, name, points);
        if (d.type === "categorical" || d.step === null) {
          expect(got).toEqual(want);
        } else {
          // Grid densities sum components with equal terms together: equal up to the last bits.
          got.forEach((v, i) => expect(relClose(v, want[i], 1e-14), `${name}(${points[i]}): ${v} vs ${want[i]}`).toBe(true));
        }
      }
    });
  }
});

describe("splitTrials", () => {
  it("keeps trials given in number order in that order, and sorts them otherwise, to the same halves", () => {
    // The same trials twice, numbered 0, 1, 2, … and N, N − 1, …: ties are broken by position, which is the
    // same in both, so the halves hold the same positions, in opposite orders.
    const rng = Rng.seeded(21);
    const states: TrialState[] = ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED", "RUNNING", "FAIL", "WAITING"];
    for (let round = 0; round < 40; round++) {
      const n = 1 + Math.floor(rng.random() * 80);
      const trials: TrialRecord[] = Array.from({ length: n }, (_, number) => {
        const state = states[Math.floor(rng.random() * states.length)];
        const value = rng.random() < 0.1 ? Number.NaN : Math.round(rng.random() * 20);
        const constraints = rng.random() < 0.7 ? [rng.random() - 0.6] : null;
        return { number, state, value, values: [value, -value], constraints, params: {}, distributions: {}, intermediateValues: { 1: value } };
      });
      const reversed = trials.map((t) => ({ ...t, number: n - 1 - t.number }));
      for (const direction of ["minimize", ["minimize", "maximize"]] as const) {
        for (const constraints of [false, true]) {
          const nBelow = Math.floor(rng.random() * 30);
          const a = splitTrials(trials, nBelow, direction, { constraints });
          const b = splitTrials(reversed, nBelow, direction, { constraints });
          const positions = (ts: TrialRecord[], numbered: TrialRecord[]) => ts.map((t) => numbered.indexOf(t));
          expect(positions(a.below, trials)).toEqual(positions(b.below, reversed).reverse());
          expect(positions(a.above, trials)).toEqual(positions(b.above, reversed).reverse());
          for (const half of [a.below, a.above]) expect(half.map((t) => t.number)).toEqual(half.map((t) => t.number).sort((x, y) => x - y));
        }
      }
    }
  });

  // Trials 0..10 with COMPLETE values, PRUNED intermediate values (null = NaN) and one RUNNING trial.
  const space = { x: F(0, 1) };
  const spec: [TrialState, number | undefined, Record<number, number | null> | undefined][] = [
    ["COMPLETE", 3.0, undefined],
    ["PRUNED", undefined, { 0: 5.0, 3: 1.0 }],
    ["COMPLETE", 1.0, undefined],
    ["PRUNED", undefined, { 0: 0.5 }],
    ["COMPLETE", 3.0, undefined],
    ["PRUNED", undefined, {}],
    ["PRUNED", undefined, { 0: 2.0, 3: 0.2 }],
    ["COMPLETE", 7.0, undefined],
    ["PRUNED", undefined, { 5: null }],
    ["COMPLETE", -2.0, undefined],
    ["RUNNING", undefined, undefined],
  ];
  const trials = spec.map(([state, value, iv], i) => trial(i, state, { x: 0.5 }, space, value, iv));

  // Optuna 4.8.0 optuna.samplers._tpe.sampler._split_trials(study, trials, n_below, False) on the same
  // trials built with optuna.trial.create_trial (NaN for null): trial numbers of below / above.
  const expected: Record<StudyDirection, [number, number[], number[]][]> = {
    minimize: [
      [0, [], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
      [2, [2, 9], [0, 1, 3, 4, 5, 6, 7, 8, 10]],
      [5, [0, 2, 4, 7, 9], [1, 3, 5, 6, 8, 10]],
      [7, [0, 2, 4, 6, 7, 8, 9], [1, 3, 5, 10]],
      [9, [0, 1, 2, 3, 4, 6, 7, 8, 9], [5, 10]],
      [12, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10]],
    ],
    maximize: [
      [0, [], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
      [2, [0, 7], [1, 2, 3, 4, 5, 6, 8, 9, 10]],
      [5, [0, 2, 4, 7, 9], [1, 3, 5, 6, 8, 10]],
      [7, [0, 1, 2, 4, 7, 8, 9], [3, 5, 6, 10]],
      [9, [0, 1, 2, 3, 4, 6, 7, 8, 9], [5, 10]],
      [12, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10]],
    ],
  };
  for (const direction of ["minimize", "maximize"] as const) {
    it(`orders COMPLETE by value, then PRUNED by (−last step, last value), RUNNING always above (${direction})`, () => {
      for (const [nBelow, below, above] of expected[direction]) {
        const r = splitTrials(trials, nBelow, direction);
        expect(r.below.map((t) => t.number), `n_below=${nBelow}`).toEqual(below);
        expect(r.above.map((t) => t.number), `n_below=${nBelow}`).toEqual(above);
      }
    });
  }

  it("does not depend on input order except for ties", () => {
    const shuffled = [...trials].reverse();
    expect(splitTrials(shuffled, 5, "minimize").below.map((t) => t.number)).toEqual([0, 2, 4, 7, 9]);
  });
});

const X = F(-10, 10);

function completeTrials(n: number, f: (x: number) => number, seed: number): TrialRecord[] {
  const rng = Rng.seeded(seed);
  return Array.from({ length: n }, (_, i) => {
    const x = sampleRandom(X, rng) as number;
    return trial(i, "COMPLETE", { x }, { x: X }, f(x));
  });
}

describe("sampleTpe: startup, determinism, direction, constant liar", () => {
  const f = (x: number) => (x - 3) ** 2;

  it("samples at random until 10 COMPLETE + PRUNED trials exist (RUNNING, FAIL, WAITING do not count)", () => {
    const base = completeTrials(8, f, 1);
    base.push(trial(8, "PRUNED", { x: 1 }, { x: X }, undefined, { 0: 4 }));
    base.push(trial(9, "FAIL", { x: 2 }, { x: X }));
    base.push(trial(10, "WAITING", {}, { x: X }));
    base.push(trial(11, "RUNNING", { x: 2.5 }, { x: X }));
    for (const constantLiar of [false, true]) {
      for (let seed = 0; seed < 20; seed++) {
        const got = sampleTpe({ trials: base, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(seed), options: { constantLiar } });
        expect(got).toBe(sampleRandom(X, Rng.seeded(seed)));
      }
    }
    // One more finished trial switches to TPE: the draw is no longer the random sampler's.
    const ten = [...base, trial(12, "COMPLETE", { x: 0 }, { x: X }, 9)];
    let differs = 0;
    for (let seed = 0; seed < 20; seed++) {
      const got = sampleTpe({ trials: ten, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(seed) });
      if (got !== sampleRandom(X, Rng.seeded(seed))) differs++;
    }
    expect(differs).toBe(20);
  });

  it("honours nStartupTrials", () => {
    const trials = completeTrials(5, f, 2);
    const opts = { nStartupTrials: 5 };
    const got = sampleTpe({ trials, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(1), options: opts });
    expect(got).not.toBe(sampleRandom(X, Rng.seeded(1)));
  });

  it("is deterministic for a seed and returns values inside the distribution", () => {
    const trials = completeTrials(30, f, 3);
    for (const d of [X, F(1e-3, 10, true), I(-3, 30, false, 3), I(1, 1000, true), F(-1, 1, false, 0.1)]) {
      const tr = trials.map((t) => ({ ...t, params: { x: sampleRandom(d, Rng.seeded(t.number)) }, distributions: { x: d } }));
      for (let seed = 0; seed < 10; seed++) {
        const a = sampleTpe({ trials: tr, paramName: "x", distribution: d, direction: "minimize", rng: Rng.seeded(seed) });
        const b = sampleTpe({ trials: tr, paramName: "x", distribution: d, direction: "minimize", rng: Rng.seeded(seed) });
        expect(a).toBe(b);
        expect(contains(d, a), `${JSON.stringify(d)} -> ${a}`).toBe(true);
      }
    }
  });

  it("maximising −f samples exactly what minimising f samples", () => {
    const trials = completeTrials(25, f, 4);
    const negated = trials.map((t) => ({ ...t, value: -(t.value as number) }));
    for (let seed = 0; seed < 10; seed++) {
      const a = sampleTpe({ trials, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(seed) });
      const b = sampleTpe({ trials: negated, paramName: "x", distribution: X, direction: "maximize", rng: Rng.seeded(seed) });
      expect(b).toBe(a);
    }
  });

  it("concentrates near the good region once it has data", () => {
    const trials = completeTrials(40, f, 5);
    let near = 0;
    for (let seed = 0; seed < 100; seed++) {
      const x = sampleTpe({ trials, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(seed) }) as number;
      if (Math.abs(x - 3) < 2) near++;
    }
    // A uniform draw lands within 2 of the optimum 20% of the time.
    expect(near).toBeGreaterThan(60);
  });

  it("ignores trials that lack the parameter (conditional spaces), even when none remain below", () => {
    const space = { x: X, y: F(0, 1) };
    const trials = completeTrials(20, f, 6).map((t, i) =>
      i % 2 === 0 ? trial(i, "COMPLETE", { x: t.params.x, y: i / 20 }, space, t.value as number) : t,
    );
    for (let seed = 0; seed < 10; seed++) {
      const y = sampleTpe({ trials, paramName: "y", distribution: space.y, direction: "minimize", rng: Rng.seeded(seed) }) as number;
      expect(y >= 0 && y < 1 + 1e-12).toBe(true);
    }
  });

  it("learns the best category", () => {
    const space = { c: C(["a", "b", "c", "d"]) };
    const rng = Rng.seeded(7);
    const trials = Array.from({ length: 30 }, (_, i) => {
      const c = sampleRandom(space.c, rng);
      return trial(i, "COMPLETE", { c }, space, c === "c" ? 0 : 1 + rng.random());
    });
    let hits = 0;
    for (let seed = 0; seed < 100; seed++) {
      if (sampleTpe({ trials, paramName: "c", distribution: space.c, direction: "minimize", rng: Rng.seeded(seed) }) === "c") hits++;
    }
    expect(hits).toBeGreaterThan(60);
  });

  it("single-valued distributions return their value", () => {
    const trials = completeTrials(20, f, 8);
    expect(sampleTpe({ trials, paramName: "z", distribution: F(2, 2), direction: "minimize", rng: Rng.seeded(1) })).toBe(2);
  });

  it("constant liar: other RUNNING trials push samples away; the trial being sampled is not its own liar", () => {
    const f2 = (x: number) => Math.abs(x - 3);
    const finished = completeTrials(30, f2, 9);
    const running = [30, 31, 32, 33].map((n, i) => trial(n, "RUNNING", { x: 2.6 + 0.25 * i }, { x: X }));
    const all = [...finished, ...running];
    let plain = 0;
    let liar = 0;
    for (let seed = 0; seed < 200; seed++) {
      const a = sampleTpe({ trials: all, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(seed) }) as number;
      const b = sampleTpe({ trials: all, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(seed), options: { constantLiar: true } }) as number;
      plain += Math.abs(a - 3) < 0.6 ? 1 : 0;
      liar += Math.abs(b - 3) < 0.6 ? 1 : 0;
    }
    expect(liar).toBeLessThan(plain);
    // Without other running trials the liar changes nothing.
    const own = [...finished, trial(30, "RUNNING", { x: 3 }, { x: X })];
    for (let seed = 0; seed < 10; seed++) {
      const a = sampleTpe({ trials: finished, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(seed) });
      const b = sampleTpe({ trials: own, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(seed), options: { constantLiar: true }, trialNumber: 30 });
      expect(b).toBe(a);
    }
  });

  it("rejects invalid options", () => {
    const trials = completeTrials(12, f, 10);
    expect(() =>
      sampleTpe({ trials, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(1), options: { priorWeight: -1 } }),
    ).toThrow(RangeError);
    expect(() =>
      sampleTpe({ trials, paramName: "x", distribution: X, direction: "minimize", rng: Rng.seeded(1), options: { weights: (n) => new Array(n).fill(0) } }),
    ).toThrow(RangeError);
  });
});

describe("multivariate", () => {
  const space = { a: F(0, 1), b: I(1, 5), c: C(["p", "q"]), k: F(3, 3) };

  it("infers the intersection search space of finished trials, sorted, without single-valued params", () => {
    const trials = [
      trial(0, "COMPLETE", { b: 2, a: 0.1, c: "p", k: 3 }, space, 1),
      trial(1, "PRUNED", { b: 3, a: 0.2, k: 3 }, space),
      trial(2, "RUNNING", { a: 0.3 }, space),
      trial(3, "FAIL", {}, space),
    ];
    expect(Object.keys(inferRelativeSearchSpace(trials))).toEqual(["a", "b"]);
    const changed = [...trials, trial(4, "COMPLETE", { a: 0.5, b: 2 }, { a: F(0, 2), b: space.b }, 0)];
    expect(Object.keys(inferRelativeSearchSpace(changed))).toEqual(["b"]);
    expect(inferRelativeSearchSpace([])).toEqual({});
  });

  it("sampleTpeRelative is empty during startup and a joint sample after it", () => {
    const rng = Rng.seeded(11);
    const trials: TrialRecord[] = [];
    for (let i = 0; i < 12; i++) {
      const p = { a: sampleRandom(space.a, rng), b: sampleRandom(space.b, rng) };
      trials.push(trial(i, "COMPLETE", p, space, (p.a as number) + (p.b as number)));
      const rel = sampleTpeRelative({ trials, searchSpace: { a: space.a, b: space.b }, direction: "minimize", rng: Rng.seeded(i), options: { multivariate: true } });
      if (i < 9) expect(rel).toEqual({});
      else {
        expect(contains(space.a, rel.a)).toBe(true);
        expect(contains(space.b, rel.b)).toBe(true);
      }
    }
  });

  it("sampleSearchSpace fills every parameter and falls back to independent sampling off the intersection", () => {
    const rng = Rng.seeded(12);
    const trials: TrialRecord[] = [];
    for (let i = 0; i < 30; i++) {
      const p = sampleSearchSpace({ trials, searchSpace: space, direction: "minimize", rng, options: { multivariate: true } });
      expect(Object.keys(p)).toEqual(["a", "b", "c", "k"]);
      for (const [name, d] of Object.entries(space)) expect(contains(d, p[name])).toBe(true);
      // c only in even trials: a conditional parameter outside the intersection.
      const params = i % 2 === 0 ? p : { a: p.a, b: p.b, k: p.k };
      trials.push(trial(i, "COMPLETE", params, space, (p.a as number) * (p.b as number)));
    }
    expect(Object.keys(inferRelativeSearchSpace(trials))).toEqual(["a", "b"]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Behavioural benchmark: TPE's best after 60 trials beats random search's on average over 10 seeds.

type Objective = (p: Record<string, CategoricalChoice>) => number;

function bestOf(
  sampler: "tpe" | "random",
  f: Objective,
  space: Record<string, Distribution>,
  seed: number,
  options?: Partial<TpeOptions>,
): number {
  const rng = Rng.seeded(seed);
  const trials: TrialRecord[] = [];
  let best = Infinity;
  for (let i = 0; i < 60; i++) {
    const params =
      sampler === "tpe"
        ? sampleSearchSpace({ trials, searchSpace: space, direction: "minimize", rng, options, trialNumber: i })
        : Object.fromEntries(Object.entries(space).map(([k, d]) => [k, sampleRandom(d, rng)]));
    const value = f(params);
    best = Math.min(best, value);
    trials.push(trial(i, "COMPLETE", params, space, value));
  }
  return best;
}

function meanBest(sampler: "tpe" | "random", f: Objective, space: Record<string, Distribution>, options?: Partial<TpeOptions>): number {
  let s = 0;
  for (let seed = 0; seed < 10; seed++) s += bestOf(sampler, f, space, 1000 + seed, options);
  return s / 10;
}

const quadratic: Objective = (p) => ((p.x as number) - 1.7) ** 2;
const branin: Objective = (p) => {
  const x1 = p.x1 as number;
  const x2 = p.x2 as number;
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
};
const braninSpace = { x1: F(-5, 10), x2: F(0, 15) };

describe("TPE beats random search (60 trials, 10 seeds, mean best value)", () => {
  it("1-D quadratic", () => {
    const tpe = meanBest("tpe", quadratic, { x: F(-10, 10) });
    const random = meanBest("random", quadratic, { x: F(-10, 10) });
    expect(tpe).toBeLessThan(random);
  });

  it("2-D Branin, univariate TPE", () => {
    const tpe = meanBest("tpe", branin, braninSpace);
    const random = meanBest("random", branin, braninSpace);
    expect(tpe).toBeLessThan(random);
    expect(tpe).toBeGreaterThanOrEqual(0.397887); // Branin's global minimum
  });

  it("2-D Branin, multivariate TPE", () => {
    const tpe = meanBest("tpe", branin, braninSpace, { multivariate: true });
    const random = meanBest("random", branin, braninSpace);
    expect(tpe).toBeLessThan(random);
  });
});

describe("sortedOrder", () => {
  // The reference: a stable comparator sort of the indices by value, ties (−0 and 0 included) by index.
  const reference = (xs: number[]) => xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b] || a - b);

  it("orders indices like the stable comparator sort, with many ties and signed zeros", () => {
    const rng = Rng.seeded(11);
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(rng.random() * 60);
      const pool = [-0, 0, 1.5, -2, 3, 1e-9, -1e300, 7];
      const xs = Array.from({ length: n }, () =>
        rng.random() < 0.6 ? pool[Math.floor(rng.random() * pool.length)] : rng.random() * 10 - 5,
      );
      const got = [...sortedOrder(xs, n)];
      expect(got).toEqual(reference(xs));
    }
  });

  it("orders large arrays with infinities, subnormals and values that differ in the last bit", () => {
    const rng = Rng.seeded(12);
    const pool = [Infinity, -Infinity, 5e-324, -5e-324, 1, 1 + Number.EPSILON, -1, -1 - Number.EPSILON, 0, -0, 2 ** 40, -(2 ** -40)];
    for (const n of [1, 2, 255, 256, 257, 3000]) {
      const xs = Array.from({ length: n }, () =>
        rng.random() < 0.5 ? pool[Math.floor(rng.random() * pool.length)] : (rng.random() - 0.5) * 10 ** Math.floor(rng.random() * 40 - 20),
      );
      expect([...sortedOrder(xs, n)]).toEqual(reference(xs));
    }
    expect([...sortedOrder([], 0)]).toEqual([]);
  });

  it("places −0 and 0 as one run, in index order", () => {
    expect([...sortedOrder([0, -0, 0, -1, -0], 5)]).toEqual([3, 0, 1, 2, 4]);
  });

  it("with a NaN falls back to the typed-array comparator sort used before", () => {
    const xs = [2, NaN, 1, 2, -0, 0];
    const before = Uint32Array.from(xs.keys()).sort((a, b) => xs[a] - xs[b] || a - b);
    expect([...sortedOrder(xs, xs.length)]).toEqual([...before]);
  });
});
