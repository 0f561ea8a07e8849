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

describe("StudyState: kept sampler views", () => {
  const SPACE: Record<string, Distribution> = {
    x: { type: "float", low: -3, high: 3, log: false, step: null },
    lr: { type: "float", low: 1e-4, high: 1, log: true, step: null },
    n: { type: "int", low: 1, high: 16, log: false, step: 1 },
    c: C,
  };
  const config = (sampler: Record<string, string | number | boolean>): Partial<StudyConfig> => ({
    sampler,
    pruner: { type: "median", n_startup_trials: 2, n_warmup_steps: 0, interval_steps: 1, n_min_trials: 1 } as StudyConfig["pruner"],
    heartbeatInterval: 5,
    failedTrialMaxRetry: 1,
  });

  /** A study rebuilt from a deep copy of another's state, as the object does after an eviction. */
  function reloaded(s: StudyState): StudyState {
    const copy = structuredClone({ config: s.config, trials: s.trials, rng: s.rngState, pruner: s.prunerState });
    return new StudyState(copy.config, copy.trials, copy.rng, copy.pruner, s.revision, s.lastUpdateTime);
  }

  const samplers: Record<string, string | number | boolean>[] = [
    { type: "tpe", seed: 3, n_startup_trials: 4 },
    { type: "tpe", seed: 4, n_startup_trials: 4, multivariate: true, constant_liar: true },
  ];
  for (const sampler of samplers) {
    it(`asks give the same params as on a freshly loaded study (${JSON.stringify(sampler)})`, () => {
      const kept = study(config(sampler));
      let now = 10_000;
      for (let i = 0; i < 40; i++) {
        now += 1000;
        const fresh = reloaded(kept);
        // Define-by-run every third trial, with the search space every other time.
        const space = i % 3 === 0 ? null : SPACE;
        const a = kept.ask(space, now);
        const b = fresh.ask(space, now);
        expect(a.params, `ask ${i}`).toEqual(b.params);
        expect(kept.rngState).toEqual(fresh.rngState);
        if (space === null) {
          const again = reloaded(kept);
          expect(kept.suggest(a.number, "x", SPACE.x, now)).toBe(again.suggest(a.number, "x", SPACE.x, now));
          expect(kept.suggest(a.number, "n", SPACE.n, now)).toBe(again.suggest(a.number, "n", SPACE.n, now));
        }
        // Trials change every way the study changes them: reports, tells of each kind, stale failures
        // with retries, enqueues and attrs, and some stay RUNNING (seen by the constant liar).
        const x = Number(kept.trials[a.number].params.x ?? 0);
        kept.report(a.number, 0, x * x, now);
        if (i % 7 === 3) kept.tell(a.number, { state: "PRUNED" }, now);
        else if (i % 11 === 5) kept.tell(a.number, { state: "FAIL" }, now);
        else if (i % 9 === 4) kept.failStale(now + 11_000);
        else if (i % 5 !== 1) kept.tell(a.number, { values: [x * x] }, now);
        if (i % 8 === 2) kept.enqueue({ x: 0.5, c: "b" }, {}, now);
        kept.setTrialUserAttrs(a.number, { i }, now);
      }
      expect(kept.counts().COMPLETE).toBeGreaterThan(15);
    });
  }
});
