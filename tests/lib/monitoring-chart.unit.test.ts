import { describe, expect, it } from "vitest";
import { monitorChartData } from "../../app/src/lib/charts/monitor-series";
import { reportVersion, sideRows } from "../../app/src/lib/monitoring/report-data";

describe("monitor series as chart data", () => {
  it("puts series on one wall-clock axis in seconds, with gaps where a series has no point", () => {
    const data = monitorChartData([
      { label: "drift share", points: [{ time: 1000, value: 0.25 }, { time: 3000, value: 0.5 }] },
      { label: "age (ks)", points: [{ time: 2000, value: 0.01 }, { time: 3000, value: 0.02 }] },
    ]);
    expect(data.x).toEqual([1, 2, 3]);
    expect(data.lines.map((l) => [l.label, l.y, l.faded])).toEqual([
      ["drift share", [0.25, null, 0.5], false],
      ["age (ks)", [null, 0.01, 0.02], false],
    ]);
    expect(new Set(data.lines.map((l) => l.color)).size).toBe(2);
  });

  it("is empty without points", () => {
    expect(monitorChartData([{ label: "x", points: [] }])).toEqual({ x: [], lines: [{ label: "x", color: expect.any(String), y: [], faded: false }] });
  });
});

describe("what a report says about its data", () => {
  it("names versions as name@N with their page, and falls back to the id or file name", () => {
    expect(reportVersion({ dataset: "prices daily", version: 3, dataset_version: "v-1" })).toEqual({ label: "prices daily@3", href: "/datasets/prices%20daily/versions/3" });
    expect(reportVersion({ dataset_version: "v-1" })).toEqual({ label: "v-1", href: null });
    expect(reportVersion({ name: "current.csv" })).toEqual({ label: "current.csv", href: null });
    expect(reportVersion(null)).toBeNull();
  });

  it("says how many rows were checked and how a large version was sampled", () => {
    expect(sideRows({ rows: 300, checked_rows: 300 })).toEqual({ text: "300", title: "" });
    const big = sideRows({ rows: 600_000, rows_estimated: true, checked_rows: 50_000, sample_method: "byte-ranges", sample_bytes: 4 * 1024 * 1024, sample_dropped_rows: 2 });
    expect(big!.text).toBe("50,000 of ≈600,000");
    expect(big!.title).toBe(
      "Too large to read whole: sampled by line-aligned byte ranges spread over the file (4.0 MiB read). 2 unparseable rows left out. The row count is estimated from the sample. 50,000 rows drawn at random were checked.",
    );
    expect(sideRows({ rows: 30_000, checked_rows: 4000, sample_method: "row-groups" })!.text).toBe("4,000 of 30,000");
    expect(sideRows({ name: "x.csv" })).toBeNull();
  });
});
