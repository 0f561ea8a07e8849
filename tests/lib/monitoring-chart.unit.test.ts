import { describe, expect, it } from "vitest";
import { monitorChartData } from "../../app/src/lib/charts/monitor-series";

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
