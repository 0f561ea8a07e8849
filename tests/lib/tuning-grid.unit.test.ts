import { describe, expect, it } from "vitest";
import type { Distribution, ParamValue, TrialState } from "../../worker/lib/tuning/distributions";
import { GRID_EXHAUSTED_ATTR, GRID_ID_ATTR, Grid, gridCandidates } from "../../worker/lib/tuning/grid";
import { Rng } from "../../worker/lib/tuning/random";
import {
  type JsonValue,
  type Sampler,
  type SamplerContext,
  SamplerConfigError,
  type StudyTrial,
  createSampler,
  samplerTypes,
} from "../../worker/lib/tuning/sampler-registry";

const X: Distribution = { type: "float", low: -10, high: 10, log: false, step: null };
const Y: Distribution = { type: "int", low: 0, high: 100, log: false, step: 1 };
const C: Distribution = { type: "categorical", choices: ["a", "b"] };
const SPACE = { x: [-1, 0, 1], y: [5, 50], c: ["a", "b"] };

interface Study {
  trials: StudyTrial[];
  rng: Rng;
}

function ctxFor(study: Study, trialNumber: number): SamplerContext {
  return { trials: study.trials, directions: ["minimize"], rng: study.rng, trialNumber, studyName: "s" };
}

/** Ask one trial the way a study does (RUNNING trial appended first), then finish it in `state`. */
function run(sampler: Sampler, study: Study, state: TrialState, defineByRun = false): StudyTrial {
  const number = study.trials.length;
  const trial: StudyTrial = { number, state: "RUNNING", params: {}, distributions: {}, systemAttrs: {} };
  study.trials.push(trial);
  const merge = (attrs?: Record<string, JsonValue>) => {
    if (attrs) trial.systemAttrs = { ...trial.systemAttrs, ...attrs };
  };
  const space: Record<string, Distribution> = { c: C, x: X, y: Y };
  if (defineByRun) {
    merge(sampler.sampleSearchSpace(ctxFor(study, number), {}).systemAttrs);
    for (const [name, d] of Object.entries(space)) {
      const r = sampler.sampleOne(ctxFor(study, number), name, d);
      merge(r.systemAttrs);
      (trial.params as Record<string, ParamValue>)[name] = r.value;
      (trial.distributions as Record<string, Distribution>)[name] = d;
    }
  } else {
    const r = sampler.sampleSearchSpace(ctxFor(study, number), space);
    merge(r.systemAttrs);
    trial.params = r.params;
    trial.distributions = space;
  }
  trial.state = state;
  if (state === "COMPLETE") trial.value = 0;
  return trial;
}

const key = (t: StudyTrial) => JSON.stringify([t.params.c, t.params.x, t.params.y]);

describe("grid sampler", () => {
  it("is registered and validates its options", () => {
    expect(samplerTypes()).toContain("grid");
    expect(() => createSampler({ type: "grid" }, ["minimize"])).toThrow(SamplerConfigError);
    expect(() => createSampler({ type: "grid", search_space: { x: [] } }, ["minimize"])).toThrow(/non-empty/);
    expect(() => createSampler({ type: "grid", search_space: { x: [{}] } }, ["minimize"])).toThrow(SamplerConfigError);
    expect(() => createSampler({ type: "grid", search_space: { x: [1] }, foo: 1 }, ["minimize"])).toThrow(/foo/);
  });

  it("product order: names sorted, last name fastest; idOf inverts point", () => {
    const g = new Grid(SPACE);
    expect(g.size).toBe(12);
    expect(g.point(0)).toEqual({ c: "a", x: -1, y: 5 });
    expect(g.point(1)).toEqual({ c: "a", x: -1, y: 50 });
    expect(g.point(2)).toEqual({ c: "a", x: 0, y: 5 });
    expect(g.point(11)).toEqual({ c: "b", x: 1, y: 50 });
    for (let i = 0; i < 12; i++) expect(g.idOf(g.point(i))).toBe(i);
    expect(g.idOf({ c: "a", x: 2, y: 5 })).toBe(-1);
  });

  for (const defineByRun of [false, true]) {
    it(`visits every grid point exactly once before repeating (${defineByRun ? "define-by-run" : "search space"})`, () => {
      const sampler = createSampler({ type: "grid", search_space: SPACE }, ["minimize"]);
      const study: Study = { trials: [], rng: Rng.seeded(1) };
      const states: TrialState[] = ["COMPLETE", "PRUNED", "FAIL"];
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const t = run(sampler, study, states[i % 3], defineByRun);
        expect(seen.has(key(t))).toBe(false);
        seen.add(key(t));
        expect(t.systemAttrs?.[GRID_EXHAUSTED_ATTR]).toBeUndefined();
        expect(t.params).toEqual(new Grid(SPACE).point(t.systemAttrs?.[GRID_ID_ATTR] as number));
      }
      expect(seen.size).toBe(12);
      const again = run(sampler, study, "COMPLETE", defineByRun);
      expect(again.systemAttrs?.[GRID_EXHAUSTED_ATTR]).toBe(true);
      expect(seen.has(key(again))).toBe(true);
    });
  }

  it("the order is random, seeded: same seed → same order, another seed → another order", () => {
    const order = (seed: number) => {
      const sampler = createSampler({ type: "grid", search_space: SPACE }, ["minimize"]);
      const study: Study = { trials: [], rng: Rng.seeded(seed) };
      return Array.from({ length: 12 }, () => run(sampler, study, "COMPLETE").systemAttrs?.[GRID_ID_ATTR]);
    };
    expect(order(5)).toEqual(order(5));
    expect(order(5)).not.toEqual(order(6));
    expect(order(5)).not.toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it("RUNNING trials take their point; when all are started, unfinished points are picked again", () => {
    const g = new Grid({ x: [1, 2, 3] });
    const t = (number: number, state: TrialState, x: number, withAttr = true): StudyTrial => ({
      number,
      state,
      params: { x },
      distributions: { x: X },
      systemAttrs: withAttr ? { [GRID_ID_ATTR]: g.idOf({ x }), search_space: { x: [1, 2, 3] } } : {},
    });
    expect(gridCandidates(g, [t(0, "RUNNING", 1), t(1, "COMPLETE", 2)])).toEqual({ ids: [2], exhausted: false });
    // WAITING trials do not hold a point; enqueued trials without grid_id count by their params.
    expect(gridCandidates(g, [t(0, "WAITING", 1), t(1, "FAIL", 2, false)])).toEqual({ ids: [0, 2], exhausted: false });
    expect(gridCandidates(g, [t(0, "RUNNING", 1), t(1, "COMPLETE", 2), t(2, "PRUNED", 3)])).toEqual({ ids: [0], exhausted: false });
    expect(gridCandidates(g, [t(0, "COMPLETE", 1), t(1, "COMPLETE", 2), t(2, "PRUNED", 3)])).toEqual({ ids: [0, 1, 2], exhausted: true });
    // A grid_id recorded for another grid does not count; the params decide.
    const foreign: StudyTrial = { ...t(0, "COMPLETE", 3), systemAttrs: { [GRID_ID_ATTR]: 0, search_space: { x: [9] } } };
    expect(gridCandidates(g, [foreign])).toEqual({ ids: [0, 1], exhausted: false });
  });

  it("an enqueued trial that already names a grid point keeps it", () => {
    const sampler = createSampler({ type: "grid", search_space: { x: [-1, 0, 1] } }, ["minimize"]);
    const study: Study = { trials: [{ number: 0, state: "RUNNING", params: { x: 1 }, distributions: { x: X } }], rng: Rng.seeded(0) };
    const r = sampler.sampleSearchSpace(ctxFor(study, 0), { x: X });
    expect(r.params).toEqual({ x: 1 });
    expect(r.systemAttrs?.[GRID_ID_ATTR]).toBe(2);
  });

  it("a parameter missing from the grid, or a grid value outside the distribution, is an error", () => {
    const sampler = createSampler({ type: "grid", search_space: { x: [-1, 0, 1] } }, ["minimize"]);
    const study: Study = { trials: [], rng: Rng.seeded(0) };
    expect(() => sampler.sampleSearchSpace(ctxFor(study, 0), { x: X, z: X })).toThrow(/'z' is not in the grid/);
    expect(() => sampler.sampleOne(ctxFor(study, 0), "z", X)).toThrow(SamplerConfigError);
    const narrow: Distribution = { type: "float", low: 5, high: 6, log: false, step: null };
    expect(() => sampler.sampleSearchSpace(ctxFor(study, 0), { x: narrow })).toThrow(/outside the requested distribution/);
  });
});
