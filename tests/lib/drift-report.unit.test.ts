/**
 * The whole-table entry point: per-column settings, errors kept per column, the dataset verdict,
 * the all-tests listing and Float64Array input. Scores are the scipy values already pinned in
 * drift-stattests / drift-numeric-tests (named next to each use).
 */
import { describe, expect, it } from "vitest";
import { applicableStattests, driftReport, inferColumnType, STATTESTS, type StattestName } from "../../worker/lib/drift";

const rep = (counts: Record<string, number>): string[] => Object.entries(counts).flatMap(([k, v]) => Array<string>(v).fill(k));

describe("driftReport", () => {
  const reference = {
    shifted: [1, 2, 3, 4, 0.5],
    answer: rep({ y: 60, n: 40 }),
    same: [1.5, 2.5, 3.5, 4.5, 5.5],
    gone: [Number.NaN, null, Infinity],
    constant: [3, 3, 3, 3, 3],
  };
  const current = {
    shifted: [5, 6, 7, 8, 9, Number.NaN],
    answer: rep({ y: 45, n: 55 }),
    same: [1.5, 2.5, 3.5, 4.5, 5.5],
    gone: [1.5, 2.5],
    constant: [3.5, 3.5, 3.5],
    extra: [1],
  };

  it("one row per column present on both sides, errors kept per column, dataset verdict over the rest", () => {
    const r = driftReport({ reference, current, settings: { shifted: { type: "num" }, same: { type: "num" } } });
    expect(r.columns.map((c) => c.column)).toEqual(["shifted", "answer", "same", "gone", "constant"]);
    const byName = Object.fromEntries(r.columns.map((c) => [c.column, c]));
    // [0.5, 1, 2, 3, 4] vs [5, 6, 7, 8, 9]: scipy.stats.ks_2samp p = 0.007936507936507936 (2/C(10,5))
    expect(byName.shifted).toMatchObject({ type: "num", method: "ks", threshold: 0.05, drifted: true, statistic: 1, reference_rows: 5, current_rows: 5 });
    expect(byName.shifted.p_value).toBeCloseTo(0.007936507936507936, 15);
    // z-test, y/n 60/40 vs 45/55: 2·norm.sf(2.1239769762143657) = 0.033672068856345855
    expect(byName.answer).toMatchObject({ type: "cat", method: "z", drifted: true });
    expect(byName.answer.score).toBeCloseTo(0.033672068856345855, 15);
    // Five distinct values in all: chisquare (3..5 values), X² = 0, p = 1.
    expect(byName.same).toMatchObject({ method: "chisquare", score: 1, statistic: 0, drifted: false });
    expect(byName.gone.error).toEqual({ code: "EMPTY_COLUMN", message: "An empty column 'gone' was provided for drift calculation in the reference dataset." });
    expect(byName.gone.drifted).toBe(false);
    // The current data are floats (3.5), so numeric; two pooled values pick z. By hand: p1 = 0,
    // p2 = 1, P = 3/8, z = -1/sqrt(P(1-P)(1/5 + 1/3)) = -2√2, p = erfc(2) = 0.004677734981047266.
    expect(byName.constant).toMatchObject({ type: "num", method: "z", drifted: true });
    expect(byName.constant.statistic).toBeCloseTo(-2 * Math.SQRT2, 14);
    expect(byName.constant.p_value).toBeCloseTo(0.004677734981047266, 15);
    expect(r.failed_columns).toBe(1);
    expect(r.dataset).toEqual({ numberOfColumns: 4, numberOfDriftedColumns: 3, shareOfDriftedColumns: 0.75, driftShare: 0.5, datasetDrift: true });
  });

  it("honours per-column method and threshold overrides, the drift share, and names a wrong method", () => {
    const r = driftReport({
      reference,
      current,
      columns: ["shifted", "answer", "same"],
      settings: {
        shifted: { type: "num", method: "t_test", threshold: 1e-9 },
        answer: { method: "chisquare" },
        same: { type: "num", method: "fisher_exact" },
      },
      driftShare: 0.9,
    });
    const [shifted, answer, same] = r.columns;
    expect(shifted).toMatchObject({ method: "t_test", display_name: "t_test", threshold: 1e-9, drifted: false });
    expect(answer).toMatchObject({ method: "chisquare", threshold: 0.05 });
    expect(same.error?.code).toBe("WRONG_COLUMN_TYPE");
    expect(same.method).toBe("fisher_exact");
    expect(r.dataset).toMatchObject({ numberOfColumns: 2, datasetDrift: false, driftShare: 0.9 });
  });

  it("reports a column missing on one side and a text column as errors, and null when nothing is scored", () => {
    const r = driftReport({
      reference: { a: [1, 2] },
      current: { b: [1] , t: ["x y", "z w"] },
      columns: ["a", "t"],
    });
    expect(r.columns[0].error?.message).toBe("Column 'a' is missing from the current dataset.");
    expect(r.columns[1].error?.code).toBe("EMPTY_COLUMN");
    expect(r.dataset).toBeNull();
    // Single letters are no words for the text classifier.
    const text = driftReport({ reference: { t: ["a b", "c d", "e f"] }, current: { t: ["x y", "z w", "q r"] } });
    expect(text.columns[0]).toMatchObject({ type: "text", method: "text", error: { code: "EMPTY_VOCABULARY" } });
  });

  it("gives the same answer for Float64Array columns (NaN and ±Infinity as missing)", () => {
    const ref = [0.5, 1, 2, 3, 4, 1.25, 2.75];
    const cur = [5, 6, 7, 8, 9, 2.5, 3.25];
    const plain = driftReport({ reference: { x: ref }, current: { x: cur }, allTests: true });
    const typed = driftReport({
      reference: { x: Float64Array.from([...ref, Number.NaN, Infinity]) },
      current: { x: Float64Array.from([-Infinity, ...cur]) },
      allTests: true,
    });
    expect(typed).toEqual(plain);
    expect(plain.columns[0].type).toBe("num");
  });

  it("typed arrays of few whole numbers are categorical, as pandas integer columns are", () => {
    expect(inferColumnType(Float64Array.from([0, 1, 1, 0, 2]))).toBe("cat");
    expect(inferColumnType(Float64Array.from([0, 1, 1, 0, 2.5]))).toBe("num");
    expect(inferColumnType(Float64Array.from({ length: 20 }, (_, i) => i))).toBe("num");
  });
});

describe("allTests: every applicable test by Evidently's name", () => {
  it("numeric columns list every num test; categorical columns every cat test", () => {
    expect(applicableStattests("num")).toEqual([
      "ks",
      "wasserstein",
      "psi",
      "kl_div",
      "jensenshannon",
      "hellinger",
      "anderson",
      "cramer_von_mises",
      "mannw",
      "ed",
      "es",
      "t_test",
      "empirical_mmd",
    ]);
    expect(applicableStattests("cat")).toEqual(["chisquare", "z", "psi", "kl_div", "jensenshannon", "hellinger", "fisher_exact", "g_test", "TVD"]);
  });

  it("each listed test carries its statistic and p-value or its error; the chosen method comes first when not listed", () => {
    const ref = Array.from({ length: 40 }, (_, i) => (i * 7) % 13);
    const cur = Array.from({ length: 30 }, (_, i) => ((i * 5) % 13) + 2);
    const r = driftReport({ reference: { x: ref }, current: { x: cur }, settings: { x: { type: "num" } }, allTests: true });
    const col = r.columns[0];
    expect(col.method).toBe("ks");
    const names = (col.tests ?? []).map((t) => t.method);
    expect(names).toEqual(applicableStattests("num"));
    for (const t of col.tests ?? []) {
      const spec = STATTESTS[t.method as StattestName];
      expect(t.display_name).toBe(spec.displayName);
      expect(t.error).toBeUndefined();
      if (spec.scoreKind === "p_value") {
        expect(t.p_value).toBe(t.score);
        expect(t.p_value).toBeGreaterThanOrEqual(0);
        expect(t.p_value).toBeLessThanOrEqual(1);
      }
      expect(t.threshold).toBe(spec.defaultThreshold);
    }
    // The listed ks entry is the column's own result.
    expect(col.tests?.[0].p_value).toBe(col.p_value);

    const cat = driftReport({ reference: { c: rep({ a: 10, b: 10, c: 5 }) }, current: { c: rep({ a: 12, b: 3, c: 10 }) }, allTests: true });
    const byName = Object.fromEntries((cat.columns[0].tests ?? []).map((t) => [t.method, t])) as Record<StattestName, (typeof cat.columns)[0]["tests"] extends (infer T)[] | undefined ? T : never>;
    expect(byName.fisher_exact.error?.code).toBe("TOO_MANY_CATEGORIES");
    expect(byName.g_test.p_value).toBeGreaterThan(0);
    expect(Object.keys(byName)).toEqual(applicableStattests("cat"));
  });
});
