/**
 * The columnar drift engine (sorted numerics, category counts) against the array-based tests it
 * must agree with: the same data through both paths gives the same scores and decisions, including
 * ties, few distinct values, unseen categories, cleaning and the default method choice.
 */
import { describe, expect, it } from "vitest";
import { columnDrift, DriftTestError, runStattest, STATTESTS, type CategoryValue, type StattestName } from "../../worker/lib/drift";
import {
  categoricalStattest,
  countCodes,
  countDistinctMerged,
  defaultColumnarStattest,
  histogramSorted,
  numericStattest,
  sortNumeric,
  wassersteinSorted,
} from "../../worker/lib/drift/columnar";
import { histogramCounts, sturgesEdges } from "../../worker/lib/drift/binning";
import { wassersteinDistance } from "../../worker/lib/drift/stattests";
import { mulberry32, standardNormal } from "../../worker/lib/random";

function normals(n: number, seed: number, mean = 0, sd = 1): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => mean + sd * standardNormal(r));
}

const NUMERIC_METHODS: StattestName[] = ["ks", "wasserstein", "psi", "kl_div", "jensenshannon", "hellinger", "chisquare", "z"];
const CAT_METHODS: StattestName[] = ["chisquare", "z", "psi", "kl_div", "jensenshannon", "hellinger"];

function numericCases(): [string, number[], number[]][] {
  const r = mulberry32(7);
  return [
    ["continuous, shifted", normals(3000, 1), normals(2500, 2, 0.3, 1.2)],
    ["continuous, same", normals(1200, 3), normals(900, 4)],
    ["many ties (rounded)", normals(2000, 5).map((x) => Math.round(x * 4) / 4), normals(1500, 6, 0.1).map((x) => Math.round(x * 4) / 4)],
    ["few values", Array.from({ length: 800 }, () => Math.floor(r() * 4)), Array.from({ length: 700 }, () => Math.floor(r() * 5))],
    ["exact KS region", normals(300, 8), normals(200, 9, 0.5)],
    ["two values", Array.from({ length: 50 }, (_, i) => i % 2), Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 1 : 0))],
  ];
}

describe("numeric columns: sorted engine equals the array tests", () => {
  for (const [name, ref, cur] of numericCases()) {
    it(name, () => {
      const a = sortNumeric(Float64Array.from(ref), "reference");
      const b = sortNumeric(Float64Array.from(cur), "current");
      for (const method of NUMERIC_METHODS) {
        const expected = runStattest(method, ref, cur, "num");
        const got = numericStattest(method, a, b);
        // Hellinger has no columnar form and runs on the sorted copy: same value up to summation order.
        if (method === "hellinger") expect(got.score).toBeCloseTo(expected.score, 12);
        else expect(got.score, method).toBe(expected.score);
        expect(got.drifted, method).toBe(expected.drifted);
        expect(got.statistic, method).toBe(expected.statistic);
      }
      const auto = columnDrift(ref, cur, { columnType: "num" });
      expect(defaultColumnarStattest({ type: "num", ref: a, cur: b })).toBe(auto.method);
    });
  }

  it("cleans NaN and infinities like the array path and refuses an empty side", () => {
    const ref = [1, NaN, 2, Infinity, 3, -Infinity, 4, 5, 6, 7];
    const cur = [2, 3, NaN, 4, 5, 6, 7, 8, 9, 10];
    const a = sortNumeric(Float64Array.from(ref), "reference");
    expect(Array.from(a.sorted)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const b = sortNumeric(Float64Array.from(cur), "current");
    const expected = columnDrift(ref, cur, { columnType: "num", method: "ks" });
    expect(numericStattest("ks", a, b).score).toBe(expected.score);
    expect(() => sortNumeric(Float64Array.from([NaN, Infinity]), "current", "age")).toThrow(DriftTestError);
    expect(() => sortNumeric(Float64Array.from([NaN]), "current", "age")).toThrow(/empty column 'age'.*current/);
  });

  it("merged Wasserstein, histogram and distinct count agree with the array helpers", () => {
    const ref = normals(777, 11).map((x) => Math.round(x * 10) / 10);
    const cur = normals(555, 12, 0.2).map((x) => Math.round(x * 10) / 10);
    const a = Float64Array.from(ref).sort();
    const b = Float64Array.from(cur).sort();
    expect(wassersteinSorted(a, b)).toBe(wassersteinDistance(ref, cur));
    const edges = sturgesEdges([...ref, ...cur]);
    expect(histogramSorted(a, edges)).toEqual(histogramCounts(ref, edges));
    expect(countDistinctMerged(a, b)).toBe(new Set([...ref, ...cur]).size);
  });
});

describe("categorical columns: counts engine equals the array tests", () => {
  const dict: CategoryValue[] = ["a", "b", "c", "d", "é", "zz"];
  const r = mulberry32(21);
  const codesRef = Int32Array.from({ length: 1500 }, () => (r() < 0.05 ? -1 : Math.floor(r() * 4)));
  const codesCur = Int32Array.from({ length: 1300 }, () => (r() < 0.05 ? -1 : Math.floor(r() * 6)));
  const cells = (codes: Int32Array) => Array.from(codes, (c) => (c < 0 ? null : dict[c]));

  it("every categorical test, including categories unseen in the reference", () => {
    const ref = countCodes(codesRef, dict, "reference");
    const cur = countCodes(codesCur, dict, "current");
    const refCells = cells(codesRef).filter((v): v is CategoryValue => v !== null);
    const curCells = cells(codesCur).filter((v): v is CategoryValue => v !== null);
    for (const method of CAT_METHODS) {
      const expected = runStattest(method, refCells, curCells, "cat");
      const got = categoricalStattest(method, ref, cur);
      expect(got.score, method).toBe(expected.score);
      expect(got.drifted, method).toBe(expected.drifted);
    }
    expect(defaultColumnarStattest({ type: "cat", ref, cur })).toBe(columnDrift(cells(codesRef), cells(codesCur), { columnType: "cat" }).method);
  });

  it("refuses numeric-only tests and single categories the way the array tests do", () => {
    const one = countCodes(Int32Array.from([0, 0, 0]), dict, "reference");
    expect(() => categoricalStattest("ks", one, one)).toThrow(DriftTestError);
    expect(() => categoricalStattest("chisquare", one, one)).toThrow(/two categories/);
    expect(categoricalStattest("z", one, one).score).toBe(1);
    expect(() => countCodes(Int32Array.from([-1, -1]), dict, "current", "city")).toThrow(/empty column 'city'/);
  });

  it("keeps the thresholds and display names of the catalogue", () => {
    const ref = countCodes(codesRef, dict, "reference");
    const cur = countCodes(codesCur, dict, "current");
    const res = categoricalStattest("psi", ref, cur, 0.2);
    expect(res.threshold).toBe(0.2);
    expect(res.displayName).toBe(STATTESTS.psi.displayName);
  });
});
