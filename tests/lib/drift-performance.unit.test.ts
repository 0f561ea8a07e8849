/**
 * Classification and regression quality and data quality. The classification numbers are counted
 * by hand from the confusion matrix written next to each; R², MAE and MSE of the regression
 * example are scikit-learn's documented values for y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0, 2, 8];
 * the log loss and MAPE values were evaluated in Python from their formulas.
 */
import { describe, expect, it } from "vitest";
import {
  categoryChanges,
  classificationQuality,
  columnQuality,
  dataQuality,
  DriftTestError,
  labelsFromProbabilities,
  outOfRange,
  regressionQuality,
  rocAuc,
} from "../../worker/lib/drift";

describe("classification quality", () => {
  // TP = 4 (rows 0, 3, 6, 8), FN = 2 (2, 9), FP = 1 (5), TN = 3 (1, 4, 7)
  const target = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1];
  const prediction = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0];
  const proba = [0.9, 0.1, 0.4, 0.8, 0.4, 0.6, 0.7, 0.2, 0.9, 0.4];

  it("binary at the positive label, with rates, ROC AUC with a tied score and clipped log loss", () => {
    const q = classificationQuality({ target, prediction, probabilities: proba });
    expect(q.binary).toBe(true);
    expect(q.labels).toEqual([0, 1]);
    expect(q.confusionMatrix).toEqual([
      [3, 1],
      [2, 4],
    ]);
    expect(q.accuracy).toBe(0.7);
    expect(q.precision).toBe(0.8);
    expect(q.recall).toBeCloseTo(4 / 6, 15);
    expect(q.f1).toBeCloseTo(8 / 11, 15);
    expect(q.rates).toEqual({ tpr: 4 / 6, tnr: 3 / 4, fpr: 1 / 4, fnr: 2 / 6 });
    // Pairs (positive, negative) ranked right: 0.9×2 → 8, 0.8 → 4, 0.7 → 4, 0.4×2 → 2.5 each
    // (beats 0.1 and 0.2, ties 0.4, loses to 0.6): 21 of 24.
    expect(q.rocAuc).toBe(0.875);
    expect(q.logLoss).toBeCloseTo(0.43787414129290864, 15);
  });

  it("clips probabilities of exactly 0 and 1 so the log loss stays finite", () => {
    const q = classificationQuality({ target: [1, 0], prediction: [1, 1], probabilities: [0, 1] });
    expect(Number.isFinite(q.logLoss)).toBe(true);
    expect(q.logLoss).toBeCloseTo(-Math.log(2 ** -52), 10);
  });

  it("drops rows missing a target or a prediction", () => {
    const q = classificationQuality({ target: [1, null, 0, 1], prediction: [1, 0, Number.NaN, 0] });
    expect(q.rows).toBe(2);
    expect(q.droppedRows).toBe(2);
    expect(q.accuracy).toBe(0.5);
  });

  it("multiclass: macro (Evidently's default) and weighted averages, per-label one-vs-rest AUC", () => {
    // actual a: predicted a, a, a, b; b: b, c; c: b, c
    const q = classificationQuality({
      target: ["a", "b", "c", "a", "b", "c", "a", "a"],
      prediction: ["a", "b", "b", "a", "c", "c", "a", "b"],
      probabilities: {
        a: [0.8, 0.1, 0.2, 0.7, 0.1, 0.2, 0.6, 0.3],
        b: [0.1, 0.6, 0.5, 0.2, 0.3, 0.2, 0.2, 0.4],
        c: [0.1, 0.3, 0.3, 0.1, 0.6, 0.6, 0.2, 0.3],
      },
    });
    expect(q.binary).toBe(false);
    expect(q.confusionMatrix).toEqual([
      [3, 1, 0],
      [0, 1, 1],
      [0, 1, 1],
    ]);
    expect(q.accuracy).toBe(5 / 8);
    // precision a 1, b 1/3, c 1/2; recall a 3/4, b 1/2, c 1/2; f1 a 6/7, b 2/5, c 1/2
    expect(q.precision).toBeCloseTo((1 + 1 / 3 + 1 / 2) / 3, 15);
    expect(q.recall).toBeCloseTo((3 / 4 + 1 / 2 + 1 / 2) / 3, 15);
    expect(q.f1).toBeCloseTo((6 / 7 + 2 / 5 + 1 / 2) / 3, 15);
    expect(q.weighted?.precision).toBeCloseTo((4 * 1 + 2 / 3 + 1) / 8, 15);
    expect(q.weighted?.recall).toBe(5 / 8);
    // a vs rest: positives 0.8 0.7 0.6 0.3, negatives 0.1 0.2 0.1 0.2 → 0.3 beats all → AUC 1.
    // b vs rest: positives 0.6, 0.3; negatives 0.1 0.5 0.2 0.2 0.2 0.4 → (6 + 4)/12.
    // c vs rest: positives 0.3, 0.6; negatives 0.1 0.3 0.1 0.6 0.2 0.3 → (3 + 2·0.5 + 5 + 0.5)/12.
    const auc = Object.fromEntries(q.perLabel.map((l) => [l.label, l.rocAuc]));
    expect(auc).toEqual({ a: 1, b: 10 / 12, c: 9.5 / 12 });
    expect(q.rocAuc).toBeCloseTo((1 + 10 / 12 + 9.5 / 12) / 3, 15);
    expect(q.logLoss).toBeGreaterThan(0);
  });

  it("ROC AUC is undefined for one class; probabilities become labels at p >= 0.5", () => {
    expect(() => rocAuc([0.1, 0.2], [true, true])).toThrow(DriftTestError);
    expect(labelsFromProbabilities([0.5, 0.49, 0.9], 1, 0)).toEqual([1, 0, 1]);
  });
});

describe("regression quality", () => {
  it("scikit-learn's documented example: MAE 0.5, MSE 0.375, R² 0.9486081370449679", () => {
    const q = regressionQuality([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(q.mae).toBe(0.5);
    expect(q.rmse).toBeCloseTo(Math.sqrt(0.375), 15);
    expect(q.r2).toBeCloseTo(0.9486081370449679, 15);
    // errors (pred - target) -0.5, 0.5, 0, 1: mean 0.25, max |error| 1, median 0.25
    expect(q.meanError).toBe(0.25);
    expect(q.absErrorMax).toBe(1);
    expect(q.errorQuantiles.find((e) => e.q === 0.5)?.value).toBe(0.25);
    expect(q.errorHistogram.counts.reduce((s, c) => s + c, 0)).toBe(4);
    // MAPE divides by max(target, eps), not |target|: the -0.5 target divides by eps.
    // 100·(0.5/3 + 0.5/eps + 0 + 1/7)/4 = 5.62949953421312e16
    expect(q.mape).toBeCloseTo(5.62949953421312e16, 0);
  });

  it("near-zero targets: replaced by 100% (current) or dropped (reference)", () => {
    const replaced = regressionQuality([2, 0, 4], [3, 1, 4]);
    // 100·(1/2 + 1 + 0)/3 = 50
    expect(replaced.mape).toBeCloseTo(50, 12);
    const dropped = regressionQuality([2, 0, 4], [3, 1, 4], { mapeZeroHandling: "drop" });
    // 100·(1/2 + 0)/2 = 25
    expect(dropped.mape).toBeCloseTo(25, 12);
  });

  it("a constant target scores R² 1 only if predicted exactly (sklearn's finite convention)", () => {
    expect(regressionQuality([2, 2], [2, 2]).r2).toBe(1);
    expect(regressionQuality([2, 2], [2, 3]).r2).toBe(0);
  });

  it("drops non-finite rows and refuses no usable row", () => {
    expect(regressionQuality([1, Number.NaN, 3], [1, 2, Infinity]).rows).toBe(1);
    expect(() => regressionQuality([null], [1])).toThrow(DriftTestError);
  });
});

describe("data quality", () => {
  it("missing values and numeric summaries (pandas quartiles)", () => {
    const q = columnQuality([1, 2, null, 4, Number.NaN, 10], "num");
    expect(q).toMatchObject({ rows: 6, missing: 2, missingShare: 2 / 6, uniqueValues: 4 });
    // [1, 2, 4, 10]: mean 4.25, q25 1.75, q50 3, q75 5.5
    expect(q.numeric).toMatchObject({ min: 1, max: 10, mean: 4.25, q25: 1.75, q50: 3, q75: 5.5 });
    expect(q.numeric?.std).toBeCloseTo(Math.sqrt((3.25 ** 2 + 2.25 ** 2 + 0.25 ** 2 + 5.75 ** 2) / 3), 14);
    expect(columnQuality(Float64Array.from([1, Number.NaN]), "num").missing).toBe(1);
  });

  it("new and unused categories, missing counted as one value on both sides", () => {
    expect(categoryChanges(["a", "b", null, "c"], ["b", "d", null, "e", "d"])).toEqual({ newInCurrent: ["d", "e"], unusedInCurrent: ["a", "c"] });
    expect(categoryChanges(["a"], ["a", null])).toEqual({ newInCurrent: [null], unusedInCurrent: [] });
  });

  it("out-of-range values against the reference min/max, both ends inclusive, missing not counted", () => {
    expect(outOfRange([1, 5, 3, null], [0, 1, 5, 6, 7, Number.NaN])).toEqual({ left: 1, right: 5, count: 3, share: 3 / 5, below: 1, above: 2 });
    expect(outOfRange([null], [1])).toBeNull();
  });

  it("per-column report", () => {
    const r = dataQuality({ x: [1, 2, 3], c: ["a", "b"] }, { x: [0, 2, 9], c: ["b", "z"] }, { x: "num", c: "cat" });
    expect(r[0].outOfRange?.count).toBe(2);
    expect(r[1].categories).toEqual({ newInCurrent: ["z"], unusedInCurrent: ["a"] });
  });
});
