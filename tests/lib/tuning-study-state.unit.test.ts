import { describe, expect, it } from "vitest";
import type { Distribution } from "../../worker/lib/tuning/distributions";
import { type StudyConfig, StudyError, StudyState } from "../../worker/lib/tuning/study-state";

const X: Distribution = { type: "float", low: 0, high: 1, log: false, step: null };
const C: Distribution = { type: "categorical", choices: ["a", "b"] };

function study(over: Partial<StudyConfig> = {}): StudyState {
  return StudyState.create(
    {
      studyId: "0".repeat(32),
      name: "unit",
      directions: ["minimize"],
      sampler: { type: "random", seed: 5 },
      pruner: null,
      heartbeatInterval: null,
      gracePeriod: null,
      failedTrialMaxRetry: null,
      experimentId: null,
      userAttrs: {},
      creationTime: 1000,
      ...over,
    },
    0,
  );
}

describe("StudyState", () => {
  it("numbers trials densely and hands WAITING trials out oldest first", () => {
    const s = study();
    expect(s.ask({ x: X }, 1).number).toBe(0);
    expect(s.enqueue({ x: 0.25 }, {}, 2).number).toBe(1);
    expect(s.enqueue({ x: 0.75 }, {}, 3).number).toBe(2);
    expect(s.ask({ x: X }, 4).params).toEqual({ x: 0.25 });
    expect(s.ask({ x: X }, 5).params).toEqual({ x: 0.75 });
    expect(s.ask({ x: X }, 6).number).toBe(3);
    expect(s.counts()).toEqual({ RUNNING: 4, COMPLETE: 0, PRUNED: 0, FAIL: 0, WAITING: 0 });
  });

  it("samples an enqueued categorical value that is not among the choices instead of using it", () => {
    const s = study();
    s.enqueue({ c: "z", x: 0.5 }, {}, 1);
    const t = s.ask({ c: C, x: X }, 2);
    expect(["a", "b"]).toContain(t.params.c);
    expect(t.params.x).toBe(0.5);
  });

  it("tracks revisions and dirty trials for the persisting object", () => {
    const s = study();
    const r0 = s.revision;
    s.ask({ x: X }, 2010);
    s.suggest(0, "y", X, 2011);
    s.report(0, 0, 0.5, 2012);
    expect(s.revision).toBeGreaterThan(r0);
    const dirty = s.takeDirty();
    expect([...dirty.trials]).toEqual([0]);
    expect(dirty.reports).toEqual([{ number: 0, step: 0, value: 0.5 }]);
    expect(s.takeDirty().trials.size).toBe(0);
    expect(s.lastUpdateTime).toBe(2012);
  });

  it("retries a stale trial at most failed_trial_max_retry times, chaining its history", () => {
    const s = study({ heartbeatInterval: 10, failedTrialMaxRetry: 2 });
    s.ask({ x: X }, 0);
    expect(s.nextStaleCheck()).toBe(20_001);
    expect(s.failStale(20_000)).toEqual([]);
    expect(s.failStale(20_001)).toEqual([0]);
    let now = 20_001;
    for (const expected of [1, 2]) {
      const t = s.ask({ x: X }, now);
      expect(t.number).toBe(expected);
      now += 20_001;
      expect(s.failStale(now)).toEqual([expected]);
    }
    expect(s.trials.map((t) => t.state)).toEqual(["FAIL", "FAIL", "FAIL"]);
    expect(s.trials[2].systemAttrs).toMatchObject({ failed_trial: 0, retry_history: [0, 1] });
    expect(new Set(s.trials.map((t) => t.params.x)).size).toBe(1);
    expect(s.nextStaleCheck()).toBeNull();
  });

  it("a grace period overrides twice the interval", () => {
    const s = study({ heartbeatInterval: 10, gracePeriod: 5 });
    s.ask(null, 0);
    expect(s.nextStaleCheck()).toBe(5_001);
  });

  it("refuses tells and reports with StudyError codes and leaves the trial as it was", () => {
    const s = study();
    s.ask({ x: X }, 0);
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof StudyError ? err.code : "other";
      }
      return "none";
    };
    expect(codeOf(() => s.tell(0, { values: [1, 2] }, 1))).toBe("INVALID_PARAMETER_VALUE");
    expect(codeOf(() => s.tell(0, {}, 1))).toBe("INVALID_PARAMETER_VALUE");
    expect(codeOf(() => s.tell(5, { values: [1] }, 1))).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(codeOf(() => s.report(0, -1, 1, 1))).toBe("INVALID_PARAMETER_VALUE");
    expect(s.trials[0].state).toBe("RUNNING");
    expect(s.tell(0, { values: [Number.NaN] }, 2).state).toBe("FAIL");
    expect(codeOf(() => s.tell(0, { values: [1] }, 3))).toBe("INVALID_STATE");
    expect(codeOf(() => s.report(0, 1, 1, 3))).toBe("INVALID_STATE");
  });

  it("best trial: the earliest of equal bests, by direction", () => {
    const s = study({ directions: ["maximize"] });
    for (const v of [1, 3, 3, 2]) s.tell(s.ask({ x: X }, 0).number, { values: [v] }, 1);
    expect(s.bestTrial()?.number).toBe(1);
    expect(s.summary()).toMatchObject({ best_value: 3, n_trials: 4 });
  });
});
