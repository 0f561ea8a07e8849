/**
 * The browser side of drift without a browser: reading CSV and Parquet into columns the way pandas
 * types them, the worker's computeColumn against the pure module's columnDrift on the same cells,
 * the report plan (types from the current data, missing columns) and the dataset summary.
 */
import { describe, expect, it } from "vitest";
import { parquetWriteBuffer } from "hyparquet-writer";
import { columnDrift, datasetDrift, type RawValue } from "../../worker/lib/drift";
import { readCsv, readParquet } from "../../app/src/lib/drift/read-table";
import { inferTableColumnType, type ColumnValues, type Table } from "../../app/src/lib/drift/table";
import { computeColumn } from "../../app/src/lib/workers/drift/api";
import { monitorReportBody, planReport, sortOutcomes, summarize, summaryTitle, formatScore } from "../../app/src/lib/drift/report";
import { mulberry32 } from "../../worker/lib/random";

/** The cells of a column as the pure module takes them. */
function cells(data: ColumnValues): RawValue[] {
  if (data.storage === "number") return Array.from(data.values, (v) => (Number.isNaN(v) ? null : v));
  return Array.from(data.codes, (c) => (c < 0 ? null : data.dictionary[c]));
}

function csv(rows: number, seed: number, shift: number): string {
  const r = mulberry32(seed);
  const cities = ["Lyon", "Paris", "Nice", "Lille"];
  const lines = ["age,income,city,flag,id,score"];
  for (let i = 0; i < rows; i++) {
    const age = Math.floor(20 + r() * 40 + shift * 10);
    const income = (r() * 1000 + shift * 300).toFixed(2);
    const city = cities[Math.floor(r() * (shift ? 4 : 3))];
    const flag = r() < 0.3 + shift * 0.3 ? "True" : "False";
    const score = i % 97 === 0 ? "" : (r() * 3).toFixed(3);
    lines.push(`${age},${income},${city},${flag},id-${seed}-${i},${score}`);
  }
  return lines.join("\n");
}

describe("reading CSV", () => {
  it("types columns as pandas would and keeps missing cells", async () => {
    const t = await readCsv('a,b,c,d,a\n1,1.5,x,True,7\n2,NA,y,false,8\n3,2e3,,True,9\n4,inf,x,,10\n', undefined);
    expect(t.rows).toBe(4);
    expect(t.columns.map((c) => c.name)).toEqual(["a", "b", "c", "d", "a.1"]);
    const [a, b, c, d] = t.columns.map((x) => x.data);
    expect(a).toMatchObject({ storage: "number", integer: true });
    expect(b.storage).toBe("number");
    expect(Array.from((b as { values: Float64Array }).values)).toEqual([1.5, NaN, 2000, Infinity]);
    expect(b.storage === "number" && b.integer).toBe(false);
    expect(cells(c)).toEqual(["x", "y", null, "x"]);
    expect(cells(d)).toEqual([true, false, true, null]);
    expect(inferTableColumnType(a)).toBe("cat");
    expect(inferTableColumnType(b)).toBe("num");
  });

  it("switches a column to text at its first non-number and reports progress up to 1", async () => {
    const seen: number[] = [];
    const t = await readCsv("v\n1\n2\nabc\n4\n", (f) => seen.push(f));
    expect(cells(t.columns[0].data)).toEqual(["1", "2", "abc", "4"]);
    expect(seen.at(-1)).toBe(1);
  });

  it("rejects an empty file", async () => {
    await expect(readCsv("", undefined)).rejects.toThrow(/empty/);
  });
});

describe("reading Parquet", () => {
  it("reads numbers, integers with gaps, strings and booleans", async () => {
    const buf = parquetWriteBuffer({
      columnData: [
        { name: "x", data: [1.5, 2.5, null, 4], type: "DOUBLE" },
        { name: "n", data: [1, 2, 3, 4], type: "INT32" },
        { name: "g", data: [1, null, 3, 4], type: "INT32" },
        { name: "s", data: ["a", "b", "a", null], type: "STRING" },
        { name: "b", data: [true, false, true, true], type: "BOOLEAN" },
      ],
    });
    const t = await readParquet(buf);
    expect(t.rows).toBe(4);
    const byName = Object.fromEntries(t.columns.map((c) => [c.name, c.data]));
    expect(cells(byName.x)).toEqual([1.5, 2.5, null, 4]);
    expect(byName.n).toMatchObject({ storage: "number", integer: true });
    expect(byName.g).toMatchObject({ storage: "number", integer: false });
    expect(cells(byName.s)).toEqual(["a", "b", "a", null]);
    expect(cells(byName.b)).toEqual([true, false, true, true]);
  });

  it("says clearly when a file is not Parquet", async () => {
    await expect(readParquet(new TextEncoder().encode("a,b\n1,2\n").buffer as ArrayBuffer)).rejects.toThrow(/Parquet/);
  });
});

describe("computeColumn equals the pure module", () => {
  it("on every column of two generated files, with defaults, an override and extra tests", async () => {
    const ref = await readCsv(csv(1500, 1, 0));
    const cur = await readCsv(csv(1200, 2, 1));
    const plan = planReport(ref, cur, { columns: { income: { method: "ks", threshold: 0.01 } }, extraMethods: ["psi", "jensenshannon"] });
    expect(plan.unmatched).toEqual([]);
    const types = Object.fromEntries(plan.tasks.map((t) => [t.column, t.columnType]));
    expect(types).toEqual({ age: "num", income: "num", city: "cat", flag: "cat", id: "text", score: "num" });
    for (const task of plan.tasks) {
      const out = computeColumn(task);
      if (task.columnType === "text") {
        // The domain classifier on the same cells as the pure module; text-length charts; extras refused.
        const expected = columnDrift(cells(task.reference), cells(task.current), { columnType: "text", column: task.column });
        expect(out.result).toMatchObject({ method: expected.method, score: expected.score, drifted: expected.drifted, scoreKind: "roc_auc" });
        expect(out.text).toEqual(expected.text);
        expect(out.charts?.kind).toBe("num");
        expect(out.extra.map((e) => e.error?.code)).toEqual(["WRONG_COLUMN_TYPE", "WRONG_COLUMN_TYPE"]);
        continue;
      }
      const expected = columnDrift(cells(task.reference), cells(task.current), { columnType: task.columnType, method: task.method, threshold: task.threshold, column: task.column });
      expect(out.result?.method, task.column).toBe(expected.method);
      expect(out.result?.score, task.column).toBe(expected.score);
      expect(out.result?.drifted, task.column).toBe(expected.drifted);
      expect(out.result?.threshold).toBe(expected.threshold);
      for (const extra of out.extra) {
        const e = columnDrift(cells(task.reference), cells(task.current), { columnType: task.columnType, method: extra.method });
        expect(extra.result?.score, `${task.column} ${extra.method}`).toBe(e.score);
      }
      expect(out.referenceRows).toBe(expected.referenceRows);
      expect(out.charts?.kind).toBe(task.columnType);
    }
  });

  it("reports a constant or empty column as an error, never a number", () => {
    const empty = computeColumn({
      column: "gone",
      columnType: "num",
      reference: { storage: "number", values: Float64Array.from([1, 2, 3]), integer: false },
      current: { storage: "number", values: Float64Array.from([NaN, NaN]), integer: false },
    });
    expect(empty.result).toBeUndefined();
    expect(empty.error).toEqual({ code: "EMPTY_COLUMN", message: expect.stringContaining("'gone'") });
    const constant = computeColumn({
      column: "k",
      columnType: "cat",
      reference: { storage: "category", codes: Int32Array.from([0, 0, 0, 0]), dictionary: ["a"] },
      current: { storage: "category", codes: Int32Array.from([0, 0, 0]), dictionary: ["a"] },
      method: "chisquare",
    });
    expect(constant.result).toBeUndefined();
    expect(constant.error?.code).toBe("SINGLE_CATEGORY");
    const textInRef = computeColumn({
      column: "m",
      columnType: "num",
      reference: { storage: "category", codes: Int32Array.from([0]), dictionary: ["x"] },
      current: { storage: "number", values: Float64Array.from([1]), integer: false },
    });
    expect(textInRef.error?.code).toBe("NOT_NUMERIC");
  });

  it("draws Evidently's sparklines: ten density bins per side, categories by text", () => {
    const out = computeColumn({
      column: "x",
      columnType: "num",
      reference: { storage: "number", values: Float64Array.from({ length: 100 }, (_, i) => i), integer: false },
      current: { storage: "number", values: Float64Array.from({ length: 50 }, (_, i) => 2 * i), integer: false },
    });
    if (out.charts?.kind !== "num") throw new Error("numeric charts expected");
    expect(out.charts.reference.edges).toHaveLength(11);
    const area = out.charts.reference.density.reduce((s, d, i) => s + d * (out.charts!.kind === "num" ? (out.charts as { reference: { edges: number[] } }).reference.edges[i + 1] - (out.charts as { reference: { edges: number[] } }).reference.edges[i] : 0), 0);
    expect(area).toBeCloseTo(1, 12);
    expect(out.charts.overlay.reference.reduce((s, c) => s + c, 0)).toBe(100);
    expect(out.charts.overlay.current.reduce((s, c) => s + c, 0)).toBe(50);
  });
});

describe("report summary", () => {
  const table = (cols: Record<string, number[]>): Table => ({
    rows: Object.values(cols)[0].length,
    columns: Object.entries(cols).map(([name, v]) => ({ name, data: { storage: "number", values: Float64Array.from(v), integer: false } })),
  });

  it("lists columns missing on either side as errors and counts only scored columns", () => {
    const plan = planReport(table({ a: [1.5, 2.5], b: [1.5, 2.5] }), table({ a: [1.5, 2.5], c: [0.5, 1.5] }));
    expect(plan.tasks.map((t) => t.column)).toEqual(["a"]);
    expect(plan.unmatched.map((u) => [u.column, u.error?.code])).toEqual([
      ["c", "MISSING_COLUMN"],
      ["b", "MISSING_COLUMN"],
    ]);
    const outcomes = [...plan.tasks.map(computeColumn), ...plan.unmatched];
    const s = summarize(outcomes, 0.5);
    expect(s).toMatchObject({ numberOfColumns: 1, errors: 2 });
    expect(sortOutcomes(outcomes).map((o) => o.column)).toEqual(["a", "b", "c"]);
  });

  it("uses the dataset rule: exactly the drift share counts as drift", () => {
    const mk = (column: string, drifted: boolean, score: number) => ({
      column,
      columnType: "num" as const,
      result: { method: "ks" as const, displayName: "K-S p_value", scoreKind: "p_value" as const, score, threshold: 0.05, drifted },
      extra: [],
      referenceRows: 1,
      currentRows: 1,
      timings: { prepare: 0, main: 0, charts: 0 },
    });
    const cols = [mk("a", true, 0.01), mk("b", false, 0.5), mk("c", true, 0), mk("d", false, 0.9)];
    const s = summarize(cols, 0.5);
    expect(s?.datasetDrift).toBe(datasetDrift(cols.map((c) => c.result), 0.5).datasetDrift);
    expect(s?.datasetDrift).toBe(true);
    expect(summaryTitle(s!)).toBe("Drift is detected for 50% of columns (2 of 4).");
    expect(summarize(cols, 0.75)?.datasetDrift).toBe(false);
    expect(sortOutcomes(cols).map((c) => c.column)).toEqual(["d", "b", "a", "c"]);
  });

  it("formats scores without inventing digits", () => {
    expect(formatScore(0.1234567)).toBe("0.123457");
    expect(formatScore(3e-12)).toBe("3.000e-12");
    expect(formatScore(0)).toBe("0");
    expect(formatScore(NaN)).toBe("NaN");
    expect(formatScore(Infinity)).toBe("inf");
  });

  it("builds the monitor summary: scores and decisions, errors as text, no infinite numbers", () => {
    const base = { extra: [], referenceRows: 5, currentRows: 5, timings: { prepare: 0, main: 0, charts: 0 } };
    const cols = [
      { ...base, column: "a", columnType: "num" as const, result: { method: "ks" as const, displayName: "K-S p_value", scoreKind: "p_value" as const, score: 0.01, statistic: 0.4, threshold: 0.05, drifted: true } },
      { ...base, column: "b", columnType: "cat" as const, result: { method: "kl_div" as const, displayName: "KL", scoreKind: "distance" as const, score: Infinity, threshold: 0.1, drifted: true } },
      { ...base, column: "c", columnType: "num" as const, error: { code: "EMPTY_COLUMN", message: "An empty column 'c'" } },
    ];
    const body = monitorReportBody(cols, 0.5, { name: "ref.csv", rows: 5 }, { name: "cur.csv", rows: 5, bytes: 40 });
    expect(body.summary).toMatchObject({ dataset_drift: true, drift_share: 1, number_of_columns: 2, number_of_drifted_columns: 2 });
    expect(body.summary.columns).toEqual([
      { column: "b", type: "cat", method: "kl_div", threshold: 0.1, score: null, drifted: true },
      { column: "a", type: "num", method: "ks", threshold: 0.05, score: 0.01, drifted: true, statistic: 0.4, p_value: 0.01 },
      { column: "c", type: "num", method: "", threshold: null, score: null, drifted: false, error: "An empty column 'c'" },
    ]);
    expect(body.current).toEqual({ name: "cur.csv", rows: 5, bytes: 40 });
  });
});
