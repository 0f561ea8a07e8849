import { describe, expect, it } from "vitest";
import {
  CMA_GENERATION_ATTR,
  CMA_SPACE_ATTR,
  fromUnit,
  initCma,
  replayCma,
  symmetricEigen,
  tellCma,
  toUnit,
  unitTransform,
} from "../../worker/lib/tuning/cmaes";
import { type Distribution, type ParamValue, type TrialState, contains } from "../../worker/lib/tuning/distributions";
import { Rng } from "../../worker/lib/tuning/random";
import {
  type Sampler,
  SamplerConfigError,
  type StudyTrial,
  createSampler,
} from "../../worker/lib/tuning/sampler-registry";

const F = (low: number, high: number, log = false, step: number | null = null): Distribution => ({ type: "float", low, high, log, step });
const I = (low: number, high: number, log = false, step = 1): Distribution => ({ type: "int", low, high, log, step });

function close(got: number, want: number, tol = 1e-12): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
}

describe("CMA-ES core (checked against the cmaes 0.9.1 library that Optuna drives)", () => {
  it("strategy parameters for n = 2 and n = 5", () => {
    const want = {
      2: { popsize: 6, mu: 3, muEff: 2.0286114646100617, c1: 0.1548153998964136, cmu: 0.057859085071916304, cSigma: 0.44620498737831715, dSigma: 1.4462049873783172, cc: 0.6245545390268264, chiN: 1.254272742818995,
        weights: [0.6370425712412168, 0.28457025743803294, 0.07838717132075033, -0.28638378259655295, -0.7649580940851276, -1.1559817781589212] },
      5: { popsize: 8, mu: 4, muEff: 2.6001788261131793, c1: 0.047292304159400896, cmu: 0.03816916070385781, cSigma: 0.3650883760934854, dSigma: 1.3650883760934853, cc: 0.4501995579928079, chiN: 2.1285237557247996,
        weights: [0.5299301844787792, 0.2857142857142857, 0.14285714285714282, 0.041498386949792215, -0.1672795068098809, -0.45674904775585873, -0.7014920573635213, -0.9134980955117175] },
    } as const;
    for (const n of [2, 5] as const) {
      const s = initCma(new Array(n).fill(0.5), 1 / 6, Array.from({ length: n }, () => [0, 1] as [number, number]));
      const w = want[n];
      expect(s.popsize).toBe(w.popsize);
      expect(s.mu).toBe(w.mu);
      for (const key of ["muEff", "c1", "cmu", "cSigma", "dSigma", "cc", "chiN"] as const) close(s[key], w[key]);
      s.weights.forEach((x, i) => close(x, w.weights[i]));
    }
  });

  it("four generations of tell() give the library's mean, sigma, C and paths", () => {
    const n = 3;
    const s = initCma([0.5, 0.5, 0.5], 1 / 6, [[0, 1], [0, 1], [0, 1]]);
    expect(s.popsize).toBe(7);
    for (let g = 0; g < 4; g++) {
      const sols = Array.from({ length: s.popsize }, (_, k) => {
        const x = Array.from({ length: n }, (__, i) => 0.5 + 0.2 * Math.sin(g * 11 + k * 7 + i * 3));
        return { x, y: x.reduce((a, v) => a + (v - 0.3) ** 2, 0) };
      });
      tellCma(s, sols);
    }
    expect(s.generation).toBe(4);
    [0.38835643317015633, 0.6035510311685413, 0.4066140790856544].forEach((v, i) => close(s.mean[i], v, 1e-10));
    close(s.sigma, 0.09180039358041323, 1e-10);
    const C = [
      [0.685754775257517, 0.20057401845721695, -0.20459456851149727],
      [0.20057401845721695, 0.6861405569996658, 0.17988642664729904],
      [-0.2045945685114973, 0.179886426647299, 0.726715896586619],
    ];
    C.forEach((row, i) => row.forEach((v, j) => close(s.C[i][j], v, 1e-10)));
    [-0.769638800959123, 0.5751893646757719, -0.3692275093476608].forEach((v, i) => close(s.pSigma[i], v, 1e-10));
    [-0.5623067334459345, 0.36066262914718794, -0.15179985987387634].forEach((v, i) => close(s.pc[i], v, 1e-10));
  });

  it("symmetric eigen-decomposition reconstructs the matrix with orthonormal vectors", () => {
    const m = [
      [4, 1, -2, 0.5],
      [1, 3, 0, 1],
      [-2, 0, 5, -1],
      [0.5, 1, -1, 2],
    ];
    const { values, vectors } = symmetricEigen(m);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let rec = 0;
        let dot = 0;
        for (let k = 0; k < 4; k++) {
          rec += vectors[i][k] * values[k] * vectors[j][k];
          dot += vectors[k][i] * vectors[k][j];
        }
        close(rec, m[i][j], 1e-12);
        close(dot, i === j ? 1 : 0, 1e-12);
      }
    }
  });

  it("the [0, 1] transform: log in log space, ints widened by half a step, rounded back", () => {
    const tr = unitTransform({ a: F(1, 100, true) as never, b: I(0, 9) as never, c: F(0, 1, false, 0.25) as never });
    expect(tr.names).toEqual(["a", "b", "c"]);
    const u = toUnit(tr, { a: 10, b: 0, c: 1 });
    close(u[0], 0.5);
    close(u[1], 0.5 / 10);
    close(u[2], 1.125 / 1.25);
    // b: −0.5 + 0.5·10 = 4.5 rounds half to even, as numpy does.
    expect(fromUnit(tr, [0.5, 0.5, 0.5])).toEqual({ a: expect.closeTo(10, 10) as unknown as number, b: 4, c: 0.5 });
    expect(fromUnit(tr, [1, 1, 1])).toEqual({ a: expect.closeTo(100, 10) as unknown as number, b: 9, c: 1 });
    expect(fromUnit(tr, [0, 0, 0])).toEqual({ a: 1, b: 0, c: 0 });
  });
});

interface Run {
  trials: StudyTrial[];
}

function run(
  sampler: Sampler,
  seed: number,
  n: number,
  objective: (p: Record<string, ParamValue>) => number,
  suggest: (s: (name: string, d: Distribution) => ParamValue) => void,
  stateOf: (i: number) => TrialState = () => "COMPLETE",
): Run {
  const rng = Rng.seeded(seed);
  const trials: StudyTrial[] = [];
  for (let i = 0; i < n; i++) {
    const trial: StudyTrial = { number: i, state: "RUNNING", params: {}, distributions: {}, systemAttrs: {} };
    trials.push(trial);
    const ctx = { trials, directions: ["minimize" as const], rng, trialNumber: i, studyName: "s" };
    trial.systemAttrs = { ...trial.systemAttrs, ...sampler.sampleSearchSpace(ctx, {}).systemAttrs };
    const params = trial.params as Record<string, ParamValue>;
    suggest((name, d) => {
      const r = sampler.sampleOne(ctx, name, d);
      expect(contains(d, r.value)).toBe(true);
      params[name] = r.value;
      (trial.distributions as Record<string, Distribution>)[name] = d;
      return r.value;
    });
    trial.state = stateOf(i);
    if (trial.state === "COMPLETE") trial.value = objective(params);
  }
  return { trials };
}

const sphereSpace = (s: (name: string, d: Distribution) => ParamValue) => {
  for (const name of ["x0", "x1", "x2", "x3"]) s(name, F(-5, 5));
};
const sphere = (p: Record<string, ParamValue>) => ["x0", "x1", "x2", "x3"].reduce((a, k) => a + ((p[k] as number) - 1) ** 2, 0);

describe("cmaes sampler", { timeout: 60_000 }, () => {
  it("is registered; options are validated; multi-objective is refused", () => {
    expect(createSampler({ type: "cmaes" }, ["minimize"]).type).toBe("cmaes");
    expect(() => createSampler({ type: "cmaes", popsize: 1 }, ["minimize"])).toThrow(SamplerConfigError);
    expect(() => createSampler({ type: "cmaes", sigma0: -1 }, ["minimize"])).toThrow(SamplerConfigError);
    expect(() => createSampler({ type: "cmaes", foo: 1 }, ["minimize"])).toThrow(/foo/);
    expect(() => createSampler({ type: "cmaes" }, ["minimize", "minimize"])).toThrow(SamplerConfigError);
  });

  it("on a 4-D sphere it ends well below random sampling with the same budget and seeds", () => {
    let cmaBest = 0;
    let randomBest = 0;
    for (const seed of [1, 2, 3]) {
      const best = (r: Run) => Math.min(...r.trials.map((t) => t.value as number));
      cmaBest += best(run(createSampler({ type: "cmaes" }, ["minimize"]), seed, 200, sphere, sphereSpace));
      randomBest += best(run(createSampler({ type: "random" }, ["minimize"]), seed, 200, sphere, sphereSpace));
    }
    expect(cmaBest * 20).toBeLessThan(randomBest);
  }, 120_000);

  it("records generations in system attrs so the optimizer is rebuilt from the trials alone", () => {
    const { trials } = run(createSampler({ type: "cmaes" }, ["minimize"]), 5, 30, sphere, sphereSpace);
    // Trial 0 is the startup trial (random, no attrs); popsize for n = 4 is 8.
    expect(trials[0].systemAttrs?.[CMA_GENERATION_ATTR]).toBeUndefined();
    const gens = trials.slice(1).map((t) => t.systemAttrs?.[CMA_GENERATION_ATTR]);
    expect(gens).toEqual([...new Array(8).fill(0), ...new Array(8).fill(1), ...new Array(8).fill(2), ...new Array(5).fill(3)]);
    expect(trials[1].systemAttrs?.[CMA_SPACE_ATTR]).toEqual(["x0", "x1", "x2", "x3"]);
    const space = Object.fromEntries(["x0", "x1", "x2", "x3"].map((n) => [n, F(-5, 5)])) as never;
    const state = replayCma(trials, unitTransform(space), { nStartupTrials: 1, considerPrunedTrials: false }, 1);
    expect(state.generation).toBe(3);
    // The mean moved towards the optimum at 1 (unit coordinate 0.6) from the centre.
    const dist = (m: number[]) => Math.hypot(...m.map((v) => v - 0.6));
    expect(dist(state.mean)).toBeLessThan(dist([0.5, 0.5, 0.5, 0.5]));
  });

  it("a generation waits for popsize COMPLETE trials: failed and pruned ones do not count", () => {
    const states: TrialState[] = ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE", "PRUNED"];
    const { trials } = run(createSampler({ type: "cmaes" }, ["minimize"]), 6, 24, sphere, sphereSpace, (i) => states[i % 5]);
    const completeGen0 = trials.filter((t) => t.state === "COMPLETE" && t.systemAttrs?.[CMA_GENERATION_ATTR] === 0).length;
    const firstGen1 = trials.findIndex((t) => t.systemAttrs?.[CMA_GENERATION_ATTR] === 1);
    expect(firstGen1).toBeGreaterThan(0);
    expect(trials.slice(0, firstGen1).filter((t) => t.state === "COMPLETE" && t.systemAttrs?.[CMA_GENERATION_ATTR] === 0).length).toBe(8);
    expect(completeGen0).toBeGreaterThanOrEqual(8);
  });

  it("ints come back as ints, log params stay in range, categoricals and 1-D spaces fall back to random", () => {
    const { trials } = run(createSampler({ type: "cmaes" }, ["minimize"]), 8, 30, (p) => ((p.n as number) - 3) ** 2 + Math.log(p.lr as number) ** 2 + (p.c === "a" ? 0 : 1), (s) => {
      s("n", I(0, 10));
      s("lr", F(1e-4, 1, true));
      s("c", { type: "categorical", choices: ["a", "b", "c"] });
    });
    for (const t of trials) {
      expect(Number.isInteger(t.params.n)).toBe(true);
      expect(t.params.lr as number).toBeGreaterThanOrEqual(1e-4);
      expect(t.params.lr as number).toBeLessThanOrEqual(1);
    }
    // The categorical is never in the CMA space.
    expect(trials[5].systemAttrs?.[CMA_SPACE_ATTR]).toEqual(["lr", "n"]);
    const oneD = run(createSampler({ type: "cmaes" }, ["minimize"]), 8, 10, (p) => p.x as number, (s) => {
      s("x", F(0, 1));
    });
    for (const t of oneD.trials) expect(t.systemAttrs?.[CMA_GENERATION_ATTR]).toBeUndefined();
  });

  it("same seed and same trials → same params", () => {
    const a = run(createSampler({ type: "cmaes", popsize: 5 }, ["minimize"]), 12, 20, sphere, sphereSpace);
    const b = run(createSampler({ type: "cmaes", popsize: 5 }, ["minimize"]), 12, 20, sphere, sphereSpace);
    expect(a.trials.map((t) => t.params)).toEqual(b.trials.map((t) => t.params));
    const c = run(createSampler({ type: "cmaes", popsize: 5 }, ["minimize"]), 13, 20, sphere, sphereSpace);
    expect(c.trials.map((t) => t.params)).not.toEqual(a.trials.map((t) => t.params));
  });

  it("x0 and sigma0 set the start: a tiny sigma0 keeps the first generation near x0", () => {
    const { trials } = run(createSampler({ type: "cmaes", x0: { x0: 2, x1: 2, x2: 2, x3: 2 }, sigma0: 0.001 }, ["minimize"]), 3, 9, sphere, sphereSpace);
    for (const t of trials.slice(1)) for (const k of ["x0", "x1", "x2", "x3"]) expect(Math.abs((t.params[k] as number) - 2)).toBeLessThan(0.1);
  });
});
