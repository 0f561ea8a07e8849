import { describe, expect, it } from "vitest";
import {
  type PrunerStudy,
  type PrunerTrial,
  PrunerConfigError,
  parsePrunerConfig,
  shouldPrune,
  wilcoxonPValue,
} from "../../worker/lib/tuning/pruners";

describe("Wilcoxon signed-rank p-values (scipy 1.10 wilcoxon, zero_method='zsplit')", () => {
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  const cases: [number[], number, number][] = [
    // exact null distribution
    [[0.5, 1.2, 0.3, 2.0, 0.8], 0.03125, 1.0],
    [[0.5, -1.2, 0.3, 2.0, 0.8, 1.1, -0.2], 0.1484375, 0.890625],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 0.000244140625, 1.0],
    // zeros or tied magnitudes → normal approximation with the tie correction
    [[0.0, 1.0, 2.0, -1.0, 3.0], 0.11140049559056725, 0.8885995044094328],
    [[1.0, 1.0, 2.0, 3.0, -0.5, 2.0], 0.022600676488261057, 0.977399323511739],
    [[0, 0, 0], 0.5, 0.5],
    // more than 50 differences → normal approximation
    [Array.from({ length: 60 }, (_, i) => round3(Math.sin(i) * 3 + 0.5)), 0.013351145201440227, 0.9866488547985598],
  ];
  for (const [d, greater, less] of cases) {
    it(`n=${d.length}: ${d.slice(0, 4).join(", ")}…`, () => {
      expect(wilcoxonPValue(d, "greater")).toBeCloseTo(greater, 12);
      expect(wilcoxonPValue(d, "less")).toBeCloseTo(less, 12);
    });
  }
  it("no differences → NaN (never prunes)", () => {
    expect(wilcoxonPValue([], "greater")).toBeNaN();
  });
});

function trial(number: number, state: PrunerTrial["state"], values: number[], value?: number): PrunerTrial {
  return { number, state, intermediate: Object.fromEntries(values.map((v, i) => [String(i), v])), value };
}

describe("WilcoxonPruner", () => {
  const best = trial(0, "COMPLETE", [1, 2, 3, 4, 5, 6, 7, 8], 4.5);
  const study = (direction: "minimize" | "maximize", trials: PrunerTrial[]): PrunerStudy => ({ name: "s", direction, trials });

  it("config: defaults, aliases and validation", () => {
    expect(parsePrunerConfig({ type: "wilcoxon" })).toEqual({ type: "wilcoxon", p_threshold: 0.1, n_startup_steps: 0 });
    expect(parsePrunerConfig({ type: "WilcoxonPruner", p_threshold: 0.05, n_startup_steps: 3 })).toEqual({
      type: "wilcoxon",
      p_threshold: 0.05,
      n_startup_steps: 3,
    });
    expect(() => parsePrunerConfig({ type: "wilcoxon", p_threshold: 1.5 })).toThrow(PrunerConfigError);
    expect(() => parsePrunerConfig({ type: "wilcoxon", n_startup_steps: -1 })).toThrow(/n_startup_steps/);
    expect(() => parsePrunerConfig({ type: "wilcoxon", patience: 1 })).toThrow(/unknown option/);
  });

  const cfg = parsePrunerConfig({ type: "wilcoxon" });

  it("prunes a trial consistently worse than the best on the same steps (minimize)", () => {
    // Differences +2, +2, +2, +2, +2.5: p ≈ 0.017 < 0.1, and the average 5.1 is worse than the best value 4.5.
    const current = trial(1, "RUNNING", [3, 4, 5, 6, 7.5]);
    expect(shouldPrune(cfg, study("minimize", [best, current]), current).prune).toBe(true);
    // With fewer paired steps than n_startup_steps it waits.
    expect(shouldPrune({ ...cfg, n_startup_steps: 6 } as never, study("minimize", [best, current]), current).prune).toBe(false);
  });

  it("does not prune a better trial, nor a worse one whose average still beats the best value", () => {
    const better = trial(1, "RUNNING", [0, 1, 2, 3, 4]);
    expect(shouldPrune(cfg, study("minimize", [best, better]), better).prune).toBe(false);
    // Worse at every step (p ≈ 0.013), but its average 3.5 ≤ 4.5 = the best trial's value: kept (safety rule).
    const early = trial(2, "RUNNING", [1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(shouldPrune(cfg, study("minimize", [best, early]), early).prune).toBe(false);
  });

  it("maximize mirrors the test", () => {
    const bestMax = trial(0, "COMPLETE", [8, 7, 6, 5, 4, 3], 5.5);
    const worse = trial(1, "RUNNING", [7, 6, 5, 4, 3]);
    expect(shouldPrune(cfg, study("maximize", [bestMax, worse]), worse).prune).toBe(true);
    const better = trial(2, "RUNNING", [9, 8, 7, 6, 5]);
    expect(shouldPrune(cfg, study("maximize", [bestMax, better]), better).prune).toBe(false);
  });

  it("never prunes without reports, without a complete trial, or with non-finite values", () => {
    const current = trial(1, "RUNNING", [2, 3, 4, 5, 6.5]);
    expect(shouldPrune(cfg, study("minimize", [current]), current).prune).toBe(false);
    const empty = trial(2, "RUNNING", []);
    expect(shouldPrune(cfg, study("minimize", [best, empty]), empty).prune).toBe(false);
    const nan = trial(3, "RUNNING", [2, 3, NaN, 5, 6.5]);
    expect(shouldPrune(cfg, study("minimize", [best, nan]), nan).prune).toBe(false);
    const badBest = trial(4, "COMPLETE", [1, Infinity], 0);
    expect(shouldPrune(cfg, study("minimize", [badBest, current]), current).prune).toBe(false);
  });

  it("the best trial is the best COMPLETE one by value; pruned trials do not count", () => {
    const worseComplete = trial(5, "COMPLETE", [10, 10, 10, 10, 10], 10);
    const prunedGood = trial(6, "PRUNED", [-10, -10, -10, -10, -10], -10);
    const current = trial(7, "RUNNING", [3, 4, 5, 6, 7.5]);
    // Against trial 5 (the only complete one) trial 7 is better: kept.
    expect(shouldPrune(cfg, study("minimize", [worseComplete, prunedGood, current]), current).prune).toBe(false);
    // With trial 0 completed too, trial 0 is the best and trial 7 is pruned.
    expect(shouldPrune(cfg, study("minimize", [worseComplete, prunedGood, best, current]), current).prune).toBe(true);
  });
});
