import { describe, expect, it } from "vitest";
import { alignSeries, buildChartData, lastValue, parseMetricValue, positiveOnly, toXY, type MetricPoint } from "../../app/src/lib/charts/metric-series";
import { layoutParallel } from "../../app/src/lib/charts/parallel-coords";
import { formatDuration, formatNumber } from "../../app/src/lib/charts/format";

const pt = (step: number, value: number, timestamp: number): MetricPoint => ({ key: "loss", value, step, timestamp });

describe("metric histories as chart series", () => {
  it("reads protobuf JSON's non-finite values", () => {
    expect(parseMetricValue(1.5)).toBe(1.5);
    expect(parseMetricValue("NaN")).toBeNaN();
    expect(parseMetricValue("Infinity")).toBe(Infinity);
    expect(parseMetricValue("-Infinity")).toBe(-Infinity);
  });

  it("puts points on step, relative-time or wall-time x, sorted", () => {
    const points = [pt(2, 0.3, 5_000), pt(0, 0.9, 1_000), pt(1, 0.5, 3_500)];
    expect(toXY(points, "step")).toEqual({ x: [0, 1, 2], y: [0.9, 0.5, 0.3] });
    expect(toXY(points, "relative")).toEqual({ x: [0, 2.5, 4], y: [0.9, 0.5, 0.3] });
    expect(toXY(points, "wall")).toEqual({ x: [1, 3.5, 5], y: [0.9, 0.5, 0.3] });
  });

  it("keeps the value logged last when points share a step, and makes non-finite values gaps", () => {
    const points = [pt(1, 0.5, 2_000), pt(1, 0.4, 3_000), pt(1, 0.45, 2_500), pt(2, Number.NaN, 4_000)];
    expect(toXY(points, "step")).toEqual({ x: [1, 2], y: [0.4, null] });
  });

  it("aligns runs with different steps on the union of their x values", () => {
    const a = { x: [0, 2, 4], y: [1, 2, 3] };
    const b = { x: [1, 2, 3], y: [10, 20, 30] };
    expect(alignSeries([a, b])).toEqual({ x: [0, 1, 2, 3, 4], ys: [[1, null, 2, null, 3], [null, 10, 20, 30, null]] });
    expect(alignSeries([])).toEqual({ x: [], ys: [] });
  });

  it("draws smoothed lines over faint raw ones, and drops what a log axis cannot show", () => {
    const inputs = [
      { label: "run a", color: "#111111", points: [pt(0, 1, 0), pt(1, -1, 1), pt(2, 3, 2)] },
      { label: "run b", color: "#222222", points: [pt(1, 2, 0)] },
    ];
    const plain = buildChartData(inputs, { xMode: "step", smoothing: 0, logY: false });
    expect(plain.x).toEqual([0, 1, 2]);
    expect(plain.lines.map((l) => [l.label, l.faded])).toEqual([
      ["run a", false],
      ["run b", false],
    ]);
    expect(plain.lines[0].y).toEqual([1, -1, 3]);

    const smoothed = buildChartData(inputs, { xMode: "step", smoothing: 0.5, logY: true });
    expect(smoothed.lines.map((l) => [l.label, l.faded])).toEqual([
      ["run a (raw)", true],
      ["run a", false],
      ["run b (raw)", true],
      ["run b", false],
    ]);
    expect(smoothed.lines[0].y).toEqual([1, null, 3]);
    expect(smoothed.lines[1].y[0]).toBeCloseTo(1, 12);
    expect(smoothed.lines[3].y).toEqual([null, 2, null]);
    expect(positiveOnly([0, 2, -3, null])).toEqual([null, 2, null, null]);
    expect(lastValue([1, 2, null])).toBe(2);
    expect(lastValue([null])).toBeNull();
  });
});

describe("parallel-coordinates layout", () => {
  const runs = [
    { id: "a", label: "a", color: "#000", values: { lr: "0.0001", opt: "adam", rmse: 0.5 } },
    { id: "b", label: "b", color: "#000", values: { lr: "0.1", opt: "sgd", rmse: 0.25 } },
    { id: "c", label: "c", color: "#000", values: { lr: "0.01", rmse: 1 } },
  ];
  const dims = [
    { key: "lr", label: "lr" },
    { key: "opt", label: "opt" },
    { key: "rmse", label: "rmse" },
  ];

  it("chooses log, categorical and linear axes from the values", () => {
    const { axes } = layoutParallel(dims, runs);
    expect(axes.map((a) => a.kind)).toEqual(["log", "categorical", "numeric"]);
    expect(axes[1].ticks).toEqual([
      { label: "adam", pos: 0 },
      { label: "sgd", pos: 1 },
    ]);
    // Three runs: each axis labels the values themselves.
    expect(axes[2].ticks.map((t) => t.label)).toEqual(["0.25", "0.5", "1"]);
    expect(axes[0].ticks.map((t) => t.label)).toEqual(["0.0001", "0.01", "0.1"]);
  });

  it("labels many values with round linear steps or whole decades", () => {
    const many = (values: number[]) => values.map((v, i) => ({ id: String(i), label: String(i), color: "#000", values: { x: v } }));
    const linear = layoutParallel([{ key: "x", label: "x" }], many([0.13, 0.2, 0.35, 0.4, 0.5, 0.61, 0.72, 0.97]));
    expect(linear.axes[0].kind).toBe("numeric");
    expect(linear.axes[0].ticks.map((t) => t.label)).toEqual(["0.2", "0.4", "0.6", "0.8"]);
    expect(linear.axes[0].ticks[0].pos).toBeCloseTo((0.2 - 0.13) / (0.97 - 0.13), 12);
    const log = layoutParallel([{ key: "x", label: "x" }], many([3e-5, 1e-4, 5e-4, 2e-3, 1e-2, 0.05, 0.2, 0.9]));
    expect(log.axes[0].kind).toBe("log");
    expect(log.axes[0].ticks.map((t) => t.label)).toEqual(["0.0001", "0.001", "0.01", "0.1"]);
  });

  it("places each run on every axis, with a gap where it has no value", () => {
    const { lines } = layoutParallel(dims, runs);
    expect(lines[0].points[0]).toBeCloseTo(0, 12);
    expect(lines[1].points[0]).toBeCloseTo(1, 12);
    expect(lines[2].points[0]).toBeCloseTo(2 / 3, 12);
    expect(lines[2].points[1]).toBeNull();
    expect(lines.map((l) => l.points[2])).toEqual([1 / 3, 0, 1]);
  });

  it("centres an axis whose runs all share one value", () => {
    const { axes, lines } = layoutParallel([{ key: "seed", label: "seed" }], [{ id: "a", label: "a", color: "#000", values: { seed: "7" } }]);
    expect(axes[0].ticks).toEqual([{ label: "7", pos: 0.5 }]);
    expect(lines[0].points).toEqual([0.5]);
  });
});

describe("formatting", () => {
  it("writes durations short", () => {
    expect(formatDuration(850)).toBe("850ms");
    expect(formatDuration(12_340)).toBe("12s");
    expect(formatDuration(4_300)).toBe("4.3s");
    expect(formatDuration(245_000)).toBe("4m 05s");
    expect(formatDuration(7_380_000)).toBe("2h 03m");
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe("3d 4h");
    expect(formatDuration(null)).toBe("—");
  });

  it("writes numbers with five significant digits", () => {
    expect(formatNumber(0.123456789)).toBe("0.12346");
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(1.5e-7)).toBe("1.5e-7");
    expect(formatNumber(Number.NaN)).toBe("NaN");
    expect(formatNumber(null)).toBe("—");
  });
});
