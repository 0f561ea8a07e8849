/**
 * The sampler contract, run over every registered sampler type (a new sampler module added to the registry
 * is picked up automatically; add configs for it below if `{type}` alone is not a valid config).
 */
import { describe, expect, it } from "vitest";
import {
  type Distribution,
  type ParamValue,
  type StudyDirection,
  type TrialState,
  contains,
} from "../../worker/lib/tuning/distributions";
import { Rng } from "../../worker/lib/tuning/random";
import {
  type JsonValue,
  type Sampler,
  SamplerConfigError,
  type StudyTrial,
  createSampler,
  samplerTypes,
} from "../../worker/lib/tuning/sampler-registry";

const SPACE: Record<string, Distribution> = {
  f: { type: "float", low: -2, high: 3, log: false, step: null },
  lf: { type: "float", low: 1e-4, high: 1, log: true, step: null },
  sf: { type: "float", low: 0, high: 1, log: false, step: 0.1 },
  i: { type: "int", low: -3, high: 7, log: false, step: 1 },
  li: { type: "int", low: 1, high: 1024, log: true, step: 1 },
  si: { type: "int", low: 0, high: 20, log: false, step: 5 },
  c: { type: "categorical", choices: ["a", 1, true, null] },
  one: { type: "float", low: 2, high: 2, log: false, step: null },
};
const A_ONLY: Distribution = { type: "float", low: 0, high: 1, log: false, step: null };
const B_ONLY: Distribution = { type: "int", low: 0, high: 3, log: false, step: 1 };

/** Configs each sampler type is exercised with. */
const CONFIGS: Record<string, Record<string, unknown>[]> = {
  random: [{}],
  tpe: [
    { n_startup_trials: 4 },
    { n_startup_trials: 4, multivariate: true },
    { n_startup_trials: 4, multivariate: true, group: true, constant_liar: true },
  ],
  cmaes: [{}, { popsize: 4, consider_pruned_trials: true }],
  grid: [
    {
      search_space: {
        f: [-2, 0.5, 3],
        lf: [1e-4, 0.01],
        sf: [0.3],
        i: [-3, 7],
        li: [1, 32],
        si: [5],
        c: ["a", 1],
        one: [2],
        a_only: [0.5],
        b_only: [2],
      },
    },
  ],
};

function configsOf(type: string): Record<string, unknown>[] {
  return (CONFIGS[type] ?? [{}]).map((o) => ({ type, ...o }));
}

type Mode = "define-by-run" | "search-space";

interface RunOptions {
  seed: number;
  n: number;
  mode: Mode;
  conditional: boolean;
  /** State each trial ends in. */
  stateOf?: (i: number) => TrialState;
  directions?: StudyDirection[];
}

const objective = (p: Record<string, ParamValue>) =>
  ((p.f as number) - 1) ** 2 + Math.abs(Math.log(p.lf as number)) + (p.i as number) ** 2 / 10 + (p.c === "a" ? 0 : 1);

function check(name: string, d: Distribution, v: ParamValue): void {
  expect(contains(d, v), `${name}=${JSON.stringify(v)} outside ${JSON.stringify(d)}`).toBe(true);
  if (d.type === "int") expect(Number.isInteger(v)).toBe(true);
  if (d.type === "float") expect(typeof v).toBe("number");
  if (d.type === "categorical") expect(d.choices.includes(v)).toBe(true);
}

/** A study loop as the Durable Object runs it: the RUNNING trial is appended, then sampled, then told. */
function runStudy(sampler: Sampler, o: RunOptions): StudyTrial[] {
  const rng = Rng.seeded(o.seed);
  const directions = o.directions ?? ["minimize"];
  const trials: StudyTrial[] = [];
  for (let n = 0; n < o.n; n++) {
    const trial: StudyTrial = { number: n, state: "RUNNING", params: {}, distributions: {}, systemAttrs: {} };
    trials.push(trial);
    const ctx = { trials, directions, rng, trialNumber: n, studyName: "contract" };
    const merge = (attrs?: Record<string, JsonValue>) => {
      if (attrs) trial.systemAttrs = { ...trial.systemAttrs, ...attrs };
    };
    const params = trial.params as Record<string, ParamValue>;
    const dists = trial.distributions as Record<string, Distribution>;
    const suggest = (name: string, d: Distribution): ParamValue => {
      if (name in params) return params[name];
      const r = sampler.sampleOne(ctx, name, d);
      check(name, d, r.value);
      merge(r.systemAttrs);
      params[name] = r.value;
      dists[name] = d;
      return r.value;
    };
    if (o.mode === "search-space") {
      const r = sampler.sampleSearchSpace(ctx, SPACE);
      expect(Object.keys(r.params).sort()).toEqual(Object.keys(SPACE).sort());
      for (const [name, d] of Object.entries(SPACE)) {
        check(name, d, r.params[name]);
        params[name] = r.params[name];
        dists[name] = d;
      }
      merge(r.systemAttrs);
    } else {
      merge(sampler.sampleSearchSpace(ctx, {}).systemAttrs);
      for (const [name, d] of Object.entries(SPACE)) suggest(name, d);
    }
    if (o.conditional) {
      if (params.c === "a") suggest("a_only", A_ONLY);
      else suggest("b_only", B_ONLY);
    }
    expect(params.one).toBe(2);
    const state = o.stateOf?.(n) ?? "COMPLETE";
    trial.state = state;
    const v = objective(params);
    if (state === "COMPLETE") {
      trial.values = directions.map((_, k) => (k === 0 ? v : -(params.i as number)));
      trial.value = trial.values[0];
    }
    if (state === "PRUNED") trial.intermediateValues = { 0: v, 1: v / 2 };
  }
  return trials;
}

const MIXED: TrialState[] = ["COMPLETE", "FAIL", "COMPLETE", "PRUNED", "COMPLETE", "RUNNING", "COMPLETE"];

describe("sampler contract", () => {
  it("covers the built-in samplers", () => {
    expect(samplerTypes()).toEqual(expect.arrayContaining(["cmaes", "grid", "random", "tpe"]));
  });

  for (const type of samplerTypes()) {
    for (const config of configsOf(type)) {
      const label = JSON.stringify(config);
      // Generous timeout: each case runs whole studies; none measures speed.
      describe(label, { timeout: 60_000 }, () => {
        for (const mode of ["define-by-run", "search-space"] as Mode[]) {
          it(`${mode}: values belong to their distributions (steps, log, ints, choices) over a whole study`, () => {
            runStudy(createSampler(config, ["minimize"]), { seed: 1, n: 30, mode, conditional: false });
          });
        }

        it("works with 0 trials, in both modes", () => {
          for (const mode of ["define-by-run", "search-space"] as Mode[]) {
            const trials = runStudy(createSampler(config, ["minimize"]), { seed: 2, n: 1, mode, conditional: true });
            expect(Object.keys(trials[0].params).length).toBeGreaterThanOrEqual(Object.keys(SPACE).length);
          }
        });

        it("same seed and same trials give the same params; another seed gives others", () => {
          const opts = { n: 25, mode: "define-by-run" as Mode, conditional: true, stateOf: (i: number) => MIXED[i % MIXED.length] };
          const a = runStudy(createSampler(config, ["minimize"]), { ...opts, seed: 7 });
          const b = runStudy(createSampler(config, ["minimize"]), { ...opts, seed: 7 });
          const c = runStudy(createSampler(config, ["minimize"]), { ...opts, seed: 8 });
          expect(b.map((t) => t.params)).toEqual(a.map((t) => t.params));
          expect(b.map((t) => t.systemAttrs)).toEqual(a.map((t) => t.systemAttrs));
          expect(c.map((t) => t.params)).not.toEqual(a.map((t) => t.params));
        });

        it("a sampler rebuilt from the config (a fresh instance per request) continues identically", () => {
          const base = runStudy(createSampler(config, ["minimize"]), { seed: 3, n: 15, mode: "define-by-run", conditional: false });
          // Sampling trial 15 with one instance or a new one from the same trials and Rng state agrees.
          const next = (s: Sampler, rng: Rng) => {
            const trials: StudyTrial[] = [...base, { number: 15, state: "RUNNING", params: {}, distributions: {}, systemAttrs: {} }];
            return s.sampleSearchSpace({ trials, directions: ["minimize"], rng, trialNumber: 15, studyName: "contract" }, SPACE);
          };
          const state = Rng.seeded(33).state();
          const x = next(createSampler(config, ["minimize"]), Rng.fromState(state));
          const y = next(createSampler(config, ["minimize"]), Rng.fromState(state));
          expect(y).toEqual(x);
        });

        it("FAIL, PRUNED and RUNNING trials in the study are tolerated", () => {
          for (const mode of ["define-by-run", "search-space"] as Mode[]) {
            runStudy(createSampler(config, ["minimize"]), { seed: 4, n: 30, mode, conditional: true, stateOf: (i) => MIXED[i % MIXED.length] });
          }
        });

        it("a conditional (define-by-run) space: each branch's params come from their own distributions", () => {
          const trials = runStudy(createSampler(config, ["minimize"]), { seed: 5, n: 30, mode: "define-by-run", conditional: true });
          for (const t of trials) {
            expect("a_only" in t.params).toBe(t.params.c === "a");
            expect("b_only" in t.params).toBe(t.params.c !== "a");
          }
        });

        it("maximize studies and multi-objective studies: valid values, or a clear config error", () => {
          runStudy(createSampler(config, ["maximize"]), { seed: 6, n: 12, mode: "define-by-run", conditional: true });
          let sampler: Sampler | null = null;
          try {
            sampler = createSampler(config, ["minimize", "maximize"]);
          } catch (e) {
            expect(e).toBeInstanceOf(SamplerConfigError);
          }
          if (sampler) {
            runStudy(sampler, { seed: 6, n: 15, mode: "define-by-run", conditional: true, directions: ["minimize", "maximize"], stateOf: (i) => MIXED[i % MIXED.length] });
          }
        });
      });
    }
  }
});
