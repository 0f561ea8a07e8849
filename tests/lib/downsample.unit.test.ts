import { describe, expect, it } from "vitest";
import { alignedPlan, bucketIndex, bucketsToPolyline, chooseRollupWidth, downsample, planBuckets } from "../../worker/lib/downsample";

const series = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ x: i, y: f(i) }));

describe("planBuckets", () => {
  it("never plans more buckets than the budget, and covers the whole range", () => {
    for (const [min, max, budget] of [
      [0, 999_999, 1000],
      [0, 9, 1000],
      [5, 5, 10],
      [0, 1000, 7],
      [-50, 50, 3],
    ]) {
      const plan = planBuckets(min, max, budget);
      expect(plan.buckets).toBeLessThanOrEqual(budget);
      expect(bucketIndex(min, plan)).toBe(0);
      expect(bucketIndex(max, plan)).toBe(plan.buckets - 1);
      expect(plan.width).toBeGreaterThanOrEqual(1);
    }
  });

  it("rejects an empty or inverted range", () => {
    expect(() => planBuckets(5, 4, 10)).toThrow(RangeError);
    expect(() => planBuckets(NaN, 4, 10)).toThrow(RangeError);
  });
});

describe("downsample", () => {
  it("keeps every point when the series fits the budget", () => {
    const pts = series(10, (i) => i * i);
    const b = downsample(pts, 100);
    expect(b).toHaveLength(10);
    expect(b.map((x) => x.last)).toEqual(pts.map((p) => p.y));
  });

  it("keeps a single-point spike in a million points", () => {
    const pts = series(1_000_000, (i) => (i === 654_321 ? 1e6 : Math.sin(i / 1000)));
    const b = downsample(pts, 1000);
    expect(b.length).toBeLessThanOrEqual(1000);
    expect(Math.max(...b.map((x) => x.max))).toBe(1e6);
    expect(b.reduce((s, x) => s + x.count, 0)).toBe(1_000_000);
  });

  it("always ends with the series' last point", () => {
    const pts = series(12_345, (i) => i % 17);
    const b = downsample(pts, 100);
    expect(b[b.length - 1].lastX).toBe(12_344);
    expect(b[b.length - 1].last).toBe(12_344 % 17);
  });

  it("keeps NaN points as last values but out of min/max", () => {
    const b = downsample(
      [
        { x: 0, y: 1 },
        { x: 1, y: NaN },
        { x: 2, y: 3 },
        { x: 3, y: NaN },
      ],
      1,
    );
    expect(b).toEqual([{ x0: 0, x1: 3, count: 4, min: 1, max: 3, lastX: 3, last: NaN }]);
    expect(downsample([{ x: 0, y: NaN }], 5)[0].min).toBeNaN();
  });

  it("works on non-integral x (wall time in seconds)", () => {
    const pts = [0, 0.5, 1.25, 2, 2.75].map((x, i) => ({ x, y: i }));
    const b = downsample(pts, 2, false);
    expect(b.length).toBeLessThanOrEqual(2);
    expect(b.reduce((s, x) => s + x.count, 0)).toBe(5);
  });
});

describe("bucketsToPolyline", () => {
  it("draws min and max in each bucket and ends at the last point", () => {
    const line = bucketsToPolyline(downsample(series(100, (i) => (i === 42 ? -9 : i % 2)), 10));
    expect(Math.min(...line.map((p) => p.y))).toBe(-9);
    expect(line[line.length - 1]).toEqual({ x: 99, y: 1 });
  });
});

describe("rollup planning", () => {
  it("picks the coarsest level that keeps the budget's resolution", () => {
    expect(chooseRollupWidth(0, 999, 1000)).toBe(1);
    expect(chooseRollupWidth(0, 99_999, 1000)).toBe(32);
    expect(chooseRollupWidth(0, 999_999, 1000)).toBe(512);
    expect(chooseRollupWidth(0, 99_999, 10)).toBe(512);
  });

  it("aligns plan buckets to whole rollup buckets and stays within the budget", () => {
    for (const [min, max, budget, unit] of [
      [0, 999_999, 1000, 512],
      [123, 456_789, 700, 32],
      [-5000, 5000, 100, 32],
      [0, 9, 1000, 1],
    ]) {
      const plan = alignedPlan(min, max, budget, unit);
      expect(plan.buckets).toBeLessThanOrEqual(budget);
      expect(Math.abs(plan.start % unit)).toBe(0);
      expect(plan.width % unit).toBe(0);
      expect(plan.start).toBeLessThanOrEqual(min);
      expect(plan.start + plan.width * plan.buckets).toBeGreaterThan(max);
    }
  });
});
