import { describe, expect, it } from "vitest";
import type { Distribution, ParamValue, StudyDirection, TrialState } from "../../worker/lib/tuning/distributions";
import { contains } from "../../worker/lib/tuning/distributions";
import { hypervolume, paretoFront, toLosses } from "../../worker/lib/tuning/pareto";
import { Rng } from "../../worker/lib/tuning/random";
import {
  RELATIVE_PARAMS_ATTR,
  type Sampler,
  SamplerConfigError,
  type StudyTrial,
  createSampler,
} from "../../worker/lib/tuning/sampler-registry";
import {
  type TrialRecord,
  groupDecomposedSearchSpace,
  motpeBelowWeights,
  sampleSearchSpace,
  splitTrials,
} from "../../worker/lib/tuning/tpe";

const MIN2: StudyDirection[] = ["minimize", "minimize"];
const F = (low: number, high: number): Distribution => ({ type: "float", low, high, log: false, step: null });

function mo(number: number, values: number[], state: TrialState = "COMPLETE", constraints?: number[]): TrialRecord {
  return { number, state, params: { x: number }, distributions: { x: F(0, 1000) }, values, constraints };
}

// Optuna 3.1.0 _split_observation_pairs / _calculate_weights_below_for_multi_objective on
// numpy RandomState(0).randint(0, 20, (30, 2)) (the algorithm is unchanged in 4.x).
const VALUES_2D = [
  [12, 15], [0, 3], [3, 7], [9, 19], [18, 4], [6, 12], [1, 6], [7, 14], [17, 5], [13, 8], [9, 19], [16, 19], [5, 15],
  [15, 0], [18, 3], [17, 19], [19, 19], [14, 7], [0, 1], [9, 0], [10, 3], [11, 18], [2, 0], [0, 4], [5, 6], [8, 17],
  [15, 4], [9, 10], [1, 1], [7, 9],
];

describe("MOTPE split", () => {
  const trials = VALUES_2D.map((v, i) => mo(i, v));
  for (const [nBelow, want] of [
    [3, [18, 22, 28]],
    [5, [1, 18, 19, 22, 28]],
    [8, [1, 13, 18, 19, 20, 22, 23, 28]],
  ] as const) {
    it(`below = whole rank layers, then greedy hypervolume subset selection (n_below=${nBelow}) as Optuna`, () => {
      const { below, above } = splitTrials(trials, nBelow, MIN2);
      expect(below.map((t) => t.number)).toEqual(want);
      expect(above).toHaveLength(30 - nBelow);
      expect(new Set([...below, ...above].map((t) => t.number)).size).toBe(30);
    });
  }

  it("below weights are relative hypervolume contributions as Optuna's", () => {
    const cases: [number[], number[]][] = [
      [[18, 22, 28], [0.5, 1, 0]],
      [[1, 18, 19, 22, 28], [0, 0.285714285714, 0, 1, 0]],
    ];
    for (const [idx, want] of cases) {
      const w = motpeBelowWeights(idx.map((i) => trials[i]), MIN2, false);
      w.forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThan(1e-9));
      // Zero contributions are floored at a tiny positive weight, never 0.
      expect(Math.min(...w)).toBeGreaterThan(0);
    }
  });

  it("three objectives, as Optuna", () => {
    const v3 = [
      [0.969809, 0.65314, 0.17091], [0.358152, 0.750686, 0.607831], [0.325047, 0.038425, 0.634274],
      [0.958949, 0.65279, 0.635059], [0.9953, 0.58185, 0.414369], [0.474698, 0.62351, 0.338008],
      [0.674752, 0.317202, 0.778345], [0.949571, 0.662527, 0.013572], [0.622846, 0.67366, 0.971945],
      [0.878193, 0.509624, 0.055715], [0.451159, 0.019988, 0.441711], [0.979587, 0.359444, 0.480894],
      [0.688661, 0.880476, 0.918235], [0.216822, 0.565189, 0.865103], [0.508969, 0.916723, 0.921158],
      [0.083112, 0.277719, 0.009357], [0.842342, 0.647174, 0.841386], [0.26473, 0.397821, 0.552821],
      [0.16494, 0.369808, 0.146442], [0.569618, 0.703737, 0.288476], [0.433288, 0.756107, 0.396098],
      [0.896038, 0.638921, 0.891554], [0.680056, 0.449198, 0.978571], [0.116202, 0.767024, 0.41182],
      [0.675439, 0.249796, 0.313218],
    ];
    const dirs: StudyDirection[] = ["minimize", "minimize", "minimize"];
    const t3 = v3.map((v, i) => mo(i, v));
    const { below } = splitTrials(t3, 6, dirs);
    expect(below.map((t) => t.number)).toEqual([2, 9, 10, 15, 18, 24]);
    const want = [0.026980192205901272, 0, 0.34663245856879144, 1.0, 0, 0.014694908743997828];
    // Rounded inputs (6 decimals) move the weights by far less than this tolerance.
    motpeBelowWeights(below, dirs, false).forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThan(2e-5));
  });

  it("hand-checkable weights: contributions 0.2 and 0.1 against the reference (1.1, 2.2); dominated → ε", () => {
    const w = motpeBelowWeights([mo(0, [0, 2]), mo(1, [1, 1])], MIN2, false);
    expect(w[0]).toBeCloseTo(1, 12);
    expect(w[1]).toBeCloseTo(0.5, 12);
    // (0.5, 2) is dominated by (0, 2) and takes 0.1 of its exclusive volume: both remaining contributions are 0.1.
    const w3 = motpeBelowWeights([mo(0, [0, 2]), mo(1, [1, 1]), mo(2, [0.5, 2])], MIN2, false);
    expect(w3[0]).toBeCloseTo(1, 12);
    expect(w3[1]).toBeCloseTo(1, 12);
    expect(w3[2]).toBe(1e-12);
    expect(motpeBelowWeights([mo(0, [3, 3])], MIN2, false)).toEqual([1]);
    // Infeasible below trials get ε when constraints are on.
    const w4 = motpeBelowWeights([mo(0, [0, 2], "COMPLETE", [1]), mo(1, [1, 1], "COMPLETE", [0])], MIN2, true);
    expect(w4).toEqual([1e-12, 1]);
  });

  it("maximised objectives are negated before ranking", () => {
    const trials2 = [mo(0, [1, 1]), mo(1, [5, 5]), mo(2, [3, 3])];
    expect(splitTrials(trials2, 1, ["maximize", "maximize"]).below.map((t) => t.number)).toEqual([1]);
    expect(splitTrials(trials2, 1, ["minimize", "minimize"]).below.map((t) => t.number)).toEqual([0]);
    const trials3 = [mo(0, [5, 1]), mo(1, [1, 5]), mo(2, [3, 3])];
    expect(splitTrials(trials3, 1, ["minimize", "maximize"]).below.map((t) => t.number)).toEqual([1]);
    expect(splitTrials(trials3, 1, ["maximize", "minimize"]).below.map((t) => t.number)).toEqual([0]);
  });

  it("pruned and running trials always go above in multi-objective studies", () => {
    const t = [mo(0, [1, 1], "PRUNED"), mo(1, [5, 5]), mo(2, [3, 3], "RUNNING")];
    const { below, above } = splitTrials(t, 2, MIN2);
    expect(below.map((x) => x.number)).toEqual([1]);
    expect(above.map((x) => x.number)).toEqual([0, 2]);
  });
});

describe("constraints (Optuna's constraints_func semantics)", { timeout: 60_000 }, () => {
  it("an infeasible trial goes above even with the best value; below fills with the least violation", () => {
    const t: TrialRecord[] = [
      { number: 0, state: "COMPLETE", params: {}, distributions: {}, value: -100, constraints: [1] },
      { number: 1, state: "COMPLETE", params: {}, distributions: {}, value: 5, constraints: [0] },
      { number: 2, state: "COMPLETE", params: {}, distributions: {}, value: 3, constraints: [-1, -2] },
      { number: 3, state: "COMPLETE", params: {}, distributions: {}, value: -50, constraints: [0.5, -3] },
      { number: 4, state: "COMPLETE", params: {}, distributions: {}, value: 1 },
    ];
    const split = (n: number) => splitTrials(t, n, "minimize", { constraints: true }).below.map((x) => x.number);
    expect(split(1)).toEqual([2]);
    expect(split(2)).toEqual([1, 2]);
    // Then the infeasible ones by violation: 0.5 (trial 3), 1 (trial 0), missing constraints (+∞, trial 4).
    expect(split(3)).toEqual([1, 2, 3]);
    expect(split(4)).toEqual([0, 1, 2, 3]);
    expect(split(5)).toEqual([0, 1, 2, 3, 4]);
    // Without constraint handling the values decide.
    expect(splitTrials(t, 2, "minimize").below.map((x) => x.number)).toEqual([0, 3]);
  });

  it("TPE with constraints concentrates on the feasible optimum; without them it runs into the infeasible region", () => {
    // minimise x with the constraint x ≥ 5 (c = 5 − x ≤ 0): the optimum is at the boundary, not at 0.
    const space = { x: F(0, 10) };
    const run = (withConstraints: boolean, seed: number) => {
      const rng = Rng.seeded(seed);
      const trials: TrialRecord[] = [];
      for (let i = 0; i < 60; i++) {
        const p = sampleSearchSpace({ trials, searchSpace: space, direction: "minimize", rng, trialNumber: i });
        const x = p.x as number;
        trials.push({ number: i, state: "COMPLETE", params: p, distributions: space, value: x, constraints: withConstraints ? [5 - x] : null });
      }
      const xs = trials.map((t) => t.params.x as number);
      return { feasibleLate: xs.slice(30).filter((x) => x >= 5).length, bestFeasible: Math.min(...xs.filter((x) => x >= 5)) };
    };
    for (const seed of [11, 12]) {
      const constrained = run(true, seed);
      const plain = run(false, seed);
      expect(constrained.feasibleLate).toBeGreaterThan(2 * plain.feasibleLate);
      expect(constrained.bestFeasible).toBeLessThan(5.25);
    }
  });
});

describe("group decomposition", () => {
  const T = (number: number, names: string[], state: TrialState = "COMPLETE"): TrialRecord => ({
    number,
    state,
    params: Object.fromEntries(names.map((n) => [n, 1])),
    distributions: Object.fromEntries(names.map((n) => [n, F(0, 10)])),
    value: number,
  });

  it("splits the parameters into sets that always occur together", () => {
    const groups = groupDecomposedSearchSpace([T(0, ["kind", "a", "b"]), T(1, ["kind", "c"]), T(2, ["kind", "a", "b"]), T(3, ["z"], "FAIL")]);
    expect(groups.map((g) => Object.keys(g))).toEqual([["kind"], ["a", "b"], ["c"]]);
    expect(groupDecomposedSearchSpace([T(0, ["a", "b"]), T(1, ["a"]), T(2, ["b"])]).map((g) => Object.keys(g))).toEqual([["a"], ["b"]]);
    expect(groupDecomposedSearchSpace([])).toEqual([]);
  });
});

function runStudy(
  sampler: Sampler,
  seed: number,
  n: number,
  objective: (p: Record<string, ParamValue>) => number[],
  space: (p: Record<string, ParamValue>, suggest: (name: string, d: Distribution) => ParamValue) => void,
  directions: StudyDirection[],
): StudyTrial[] {
  const rng = Rng.seeded(seed);
  const trials: StudyTrial[] = [];
  for (let i = 0; i < n; i++) {
    const trial: StudyTrial = { number: i, state: "RUNNING", params: {}, distributions: {}, systemAttrs: {} };
    trials.push(trial);
    const ctx = { trials, directions, rng, trialNumber: i, studyName: "s" };
    const start = sampler.sampleSearchSpace(ctx, {});
    trial.systemAttrs = { ...trial.systemAttrs, ...start.systemAttrs };
    const params = trial.params as Record<string, ParamValue>;
    space(params, (name, d) => {
      const r = sampler.sampleOne(ctx, name, d);
      expect(contains(d, r.value)).toBe(true);
      params[name] = r.value;
      (trial.distributions as Record<string, Distribution>)[name] = d;
      return r.value;
    });
    trial.values = objective(params);
    trial.value = trial.values[0];
    trial.state = "COMPLETE";
  }
  return trials;
}

describe("multi-objective TPE sampler", { timeout: 60_000 }, () => {
  it("the tpe factory takes several directions; group needs multivariate", () => {
    expect(createSampler({ type: "tpe" }, MIN2).type).toBe("tpe");
    expect(() => createSampler({ type: "tpe", group: true }, ["minimize"])).toThrow(SamplerConfigError);
    expect(createSampler({ type: "tpe", group: true, multivariate: true }, ["minimize"]).type).toBe("tpe");
  });

  it("on a ZDT1-like problem it reaches a larger hypervolume than random sampling with the same budget", () => {
    const space = (_p: Record<string, ParamValue>, s: (n: string, d: Distribution) => ParamValue) => {
      s("x", F(0, 1));
      s("y", F(0, 1));
    };
    const zdt = (p: Record<string, ParamValue>) => {
      const x = p.x as number;
      const g = 1 + 9 * (p.y as number);
      return [x, g * (1 - Math.sqrt(x / g))];
    };
    const ref = [1.1, 11];
    const hv = (trials: StudyTrial[]) => hypervolume(trials.map((t) => toLosses(t.values as number[], MIN2)), ref);
    let tpeTotal = 0;
    let randomTotal = 0;
    for (const seed of [1, 2, 3]) {
      tpeTotal += hv(runStudy(createSampler({ type: "tpe" }, MIN2), seed, 60, zdt, space, MIN2));
      randomTotal += hv(runStudy(createSampler({ type: "random" }, MIN2), seed, 60, zdt, space, MIN2));
    }
    expect(tpeTotal).toBeGreaterThan(randomTotal);
  }, 120_000);

  it("is deterministic for a seed and its front is consistent with paretoFront", () => {
    const space = (_p: Record<string, ParamValue>, s: (n: string, d: Distribution) => ParamValue) => {
      s("x", F(-2, 2));
    };
    const f = (p: Record<string, ParamValue>) => [(p.x as number) ** 2, ((p.x as number) - 1) ** 2];
    const a = runStudy(createSampler({ type: "tpe", n_startup_trials: 5 }, MIN2), 9, 25, f, space, MIN2);
    const b = runStudy(createSampler({ type: "tpe", n_startup_trials: 5 }, MIN2), 9, 25, f, space, MIN2);
    expect(a.map((t) => t.params)).toEqual(b.map((t) => t.params));
    // For this problem the Pareto set is x ∈ [0, 1]; TPE's later samples land there more often than random ones.
    const r = runStudy(createSampler({ type: "random" }, MIN2), 9, 25, f, space, MIN2);
    const inSet = (ts: StudyTrial[]) => ts.slice(5).filter((t) => (t.params.x as number) >= 0 && (t.params.x as number) <= 1).length;
    expect(inSet(a)).toBeGreaterThan(inSet(r));
    const front = paretoFront(a.map((t) => ({ values: t.values as number[] })), MIN2);
    for (const i of front) expect(a[i].params.x as number).toBeGreaterThanOrEqual(0);
  });
});

describe("multivariate relative sample across define-by-run suggestions", () => {
  it("the joint sample is drawn at the trial's start, stored in system attrs, and served by sampleOne", () => {
    const sampler = createSampler({ type: "tpe", multivariate: true, group: true, n_startup_trials: 4 }, ["minimize"]);
    const trials = runStudy(
      sampler,
      4,
      20,
      (p) => [p.kind === "a" ? ((p.a as number) - 1) ** 2 : ((p.b as number) + 2) ** 2 + 0.5],
      (p, s) => {
        const kind = s("kind", { type: "categorical", choices: ["a", "b"] });
        if (kind === "a") s("a", F(-5, 5));
        else s("b", F(-5, 5));
      },
      ["minimize"],
    );
    for (const t of trials.slice(0, 4)) expect(t.systemAttrs?.[RELATIVE_PARAMS_ATTR]).toBeUndefined();
    let served = 0;
    for (const t of trials.slice(4)) {
      const rel = t.systemAttrs?.[RELATIVE_PARAMS_ATTR] as Record<string, ParamValue> | undefined;
      expect(rel).toBeDefined();
      for (const [name, v] of Object.entries(rel ?? {})) {
        if (name in t.params) {
          expect(t.params[name]).toBe(v);
          served++;
        }
      }
    }
    expect(served).toBeGreaterThan(16);
  });
});
