import { describe, expect, it } from "vitest";
import { evaluateRule, nextAttemptAt, parseSeries, seriesValue, formatSeries, type RuleCondition, type RuleState } from "../../worker/lib/monitoring/alerts";

const summary = {
  datasetDrift: true,
  driftShare: 0.6,
  numberOfDriftedColumns: 3,
  columns: [
    { column: "age", score: 0.01 },
    { column: "a:b", score: 0.2 },
    { column: "empty", score: null },
  ],
  performance: { accuracy: 0.91 },
};

describe("series selectors", () => {
  it("parses every form, keeping colons inside column names", () => {
    expect(parseSeries("drift_share")).toEqual({ kind: "drift_share" });
    expect(parseSeries("column:a:b:score")).toEqual({ kind: "column_score", column: "a:b" });
    expect(parseSeries("performance:f1")).toEqual({ kind: "performance", metric: "f1" });
    for (const s of ["drift_share", "dataset_drift", "drifted_columns", "column:x y:score", "performance:log loss"]) expect(formatSeries(parseSeries(s))).toBe(s);
  });

  it("rejects what it does not know", () => {
    for (const bad of ["", "drift", "column::score", "column:age", "performance:", "DRIFT_SHARE"]) expect(() => parseSeries(bad)).toThrow(/Unknown series/);
  });

  it("reads values from a summary, null when absent", () => {
    expect(seriesValue(parseSeries("drift_share"), summary)).toBe(0.6);
    expect(seriesValue(parseSeries("dataset_drift"), summary)).toBe(1);
    expect(seriesValue(parseSeries("drifted_columns"), summary)).toBe(3);
    expect(seriesValue(parseSeries("column:a:b:score"), summary)).toBe(0.2);
    expect(seriesValue(parseSeries("column:empty:score"), summary)).toBeNull();
    expect(seriesValue(parseSeries("column:nope:score"), summary)).toBeNull();
    expect(seriesValue(parseSeries("performance:accuracy"), summary)).toBe(0.91);
    expect(seriesValue(parseSeries("performance:f1"), { ...summary, performance: null })).toBeNull();
  });
});

describe("rule evaluation", () => {
  const rule: RuleCondition = { operator: ">", threshold: 0.5, forChecks: 3 };
  const run = (values: (number | null)[], r = rule) => {
    let s: RuleState = { state: "ok", consecutive: 0 };
    return values.map((v) => {
      const step = evaluateRule(r, s, v);
      s = step;
      return step.transition ?? step.state;
    });
  };

  it("fires once after N consecutive breaches and resolves once on recovery", () => {
    expect(run([0.6, 0.7, 0.8, 0.9, 0.9, 0.4, 0.3])).toEqual(["ok", "ok", "fired", "firing", "firing", "resolved", "ok"]);
  });

  it("restarts the streak when a check does not breach", () => {
    expect(run([0.6, 0.7, 0.5, 0.6, 0.7, 0.8])).toEqual(["ok", "ok", "ok", "ok", "ok", "fired"]);
  });

  it("ignores checks without a value", () => {
    expect(run([0.6, null, 0.7, 0.8, null, 0.1])).toEqual(["ok", "ok", "ok", "fired", "firing", "resolved"]);
  });

  it("honours each operator at the threshold", () => {
    const at = (operator: ">" | ">=" | "<" | "<=") => run([0.5], { operator, threshold: 0.5, forChecks: 1 })[0];
    expect([at(">"), at(">="), at("<"), at("<=")]).toEqual(["ok", "fired", "ok", "fired"]);
    expect(run([0.1, 0.9], { operator: "<", threshold: 0.2, forChecks: 1 })).toEqual(["fired", "resolved"]);
  });
});

describe("webhook backoff", () => {
  it("doubles the delay after each failed try and stops after the last", () => {
    expect(nextAttemptAt(1, 1000)).toBe(61_000);
    expect(nextAttemptAt(2, 1000)).toBe(121_000);
    expect(nextAttemptAt(5, 0)).toBe(16 * 60_000);
    expect(nextAttemptAt(6, 0)).toBeNull();
    expect(nextAttemptAt(2, 0, 3, 10)).toBe(20);
  });
});
