import { describe, expect, it } from "vitest";
import type { Distribution, ParamValue, TrialState } from "../../worker/lib/tuning/distributions";
import { paramImportances } from "../../worker/lib/tuning/importance";
import { Rng, sampleRandom } from "../../worker/lib/tuning/random";
import type { StudyTrial } from "../../worker/lib/tuning/sampler";

const F = (low: number, high: number, log = false): Distribution => ({ type: "float", low, high, log, step: null });

function study(
  n: number,
  space: Record<string, Distribution>,
  f: (p: Record<string, ParamValue>) => number,
  seed = 1,
  state: (i: number) => TrialState = () => "COMPLETE",
): StudyTrial[] {
  const rng = Rng.seeded(seed);
  return Array.from({ length: n }, (_, i) => {
    const params = Object.fromEntries(Object.entries(space).map(([k, d]) => [k, sampleRandom(d, rng)]));
    const s = state(i);
    return { number: i, state: s, params, distributions: space, value: s === "COMPLETE" ? f(params) : null };
  });
}

const sum = (xs: { importance: number }[]) => xs.reduce((a, x) => a + x.importance, 0);
const imp = (r: { name: string; importance: number }[], name: string) => r.find((x) => x.name === name)?.importance as number;

describe("paramImportances (fANOVA)", { timeout: 60_000 }, () => {
  it("a function of x alone gives x ≈ 1", () => {
    const r = paramImportances(study(60, { x: F(-3, 3), y: F(0, 1), z: F(0, 1) }, (p) => (p.x as number) ** 2));
    expect(r[0].name).toBe("x");
    expect(r[0].importance).toBeGreaterThan(0.9);
    expect(sum(r)).toBeCloseTo(1, 12);
    expect(r.map((x) => x.importance)).toEqual([...r.map((x) => x.importance)].sort((a, b) => b - a));
  });

  it("y = 10x + z on equal ranges: x ≫ z (first-order variances 100:1 in theory)", () => {
    const r = paramImportances(study(80, { x: F(0, 1), z: F(0, 1) }, (p) => 10 * (p.x as number) + (p.z as number)));
    expect(r.map((x) => x.name)).toEqual(["x", "z"]);
    expect(imp(r, "x")).toBeGreaterThan(0.9);
    expect(imp(r, "x") / imp(r, "z")).toBeGreaterThan(10);
  });

  it("log params are judged in log space: y = ln(lr) over [1e-5, 1] is all lr", () => {
    const r = paramImportances(study(60, { lr: F(1e-5, 1, true), u: F(0, 1) }, (p) => Math.log(p.lr as number)));
    expect(r[0].name).toBe("lr");
    expect(imp(r, "lr")).toBeGreaterThan(0.9);
  });

  it("categorical and int params", () => {
    const space: Record<string, Distribution> = {
      opt: { type: "categorical", choices: ["sgd", "adam", "rmsprop"] },
      layers: { type: "int", low: 1, high: 8, log: false, step: 1 },
    };
    const r = paramImportances(study(60, space, (p) => (p.opt === "adam" ? 0 : 5) + 0.01 * (p.layers as number)));
    expect(r[0].name).toBe("opt");
    expect(imp(r, "opt")).toBeGreaterThan(0.9);
  });

  it("a constant objective gives equal shares, never NaN", () => {
    const r = paramImportances(study(30, { a: F(0, 1), b: F(0, 1), c: F(0, 1) }, () => 7));
    expect(r.map((x) => x.importance)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(r.map((x) => x.name)).toEqual(["a", "b", "c"]);
    const one = paramImportances(study(1, { a: F(0, 1), b: F(0, 1) }, (p) => p.a as number));
    expect(one.map((x) => x.importance)).toEqual([0.5, 0.5]);
  });

  it("uses COMPLETE trials only, shared params only, the chosen objective, and is seeded", () => {
    const trials = study(60, { x: F(0, 1), z: F(0, 1) }, (p) => p.x as number, 3, (i) => (i % 4 === 3 ? "FAIL" : "COMPLETE"));
    for (const t of trials) t.values = t.value === null ? null : [t.value as number, t.params.z as number];
    const r0 = paramImportances(trials, { objective: 0 });
    const r1 = paramImportances(trials, { objective: 1 });
    expect(r0[0].name).toBe("x");
    expect(r1[0].name).toBe("z");
    expect(paramImportances(trials, { seed: 5 })).toEqual(paramImportances(trials, { seed: 5 }));
    // One COMPLETE trial without z removes z from the shared space.
    const withPartial: StudyTrial[] = [...trials, { number: 99, state: "COMPLETE", params: { x: 0.5 }, distributions: { x: F(0, 1) }, value: 0.5 }];
    expect(paramImportances(withPartial).map((x) => x.name)).toEqual(["x"]);
    expect(paramImportances(withPartial)[0].importance).toBe(1);
    expect(paramImportances([])).toEqual([]);
    // NaN/∞ targets are skipped rather than poisoning the forest.
    const withNaN: StudyTrial[] = [...trials, { ...trials[0], number: 100, value: NaN, values: [NaN, 0] }];
    expect(paramImportances(withNaN, { seed: 1 })[0].importance).toBeGreaterThan(0.8);
  });

  it("single-valued params score 0 while the rest share 1", () => {
    const r = paramImportances(study(40, { x: F(0, 1), k: F(2, 2) }, (p) => p.x as number));
    expect(r).toEqual([{ name: "x", importance: 1 }, { name: "k", importance: 0 }]);
  });
});
