import { describe, expect, it } from "vitest";
import { emaSmooth, MAX_SMOOTHING } from "../../app/src/lib/charts/smoothing";

describe("EMA smoothing of metric series (TensorBoard's debiased EMA)", () => {
  it("leaves the series as it is at weight 0", () => {
    expect(emaSmooth([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5]);
  });

  it("starts at the first value instead of rising from zero (debiasing)", () => {
    const out = emaSmooth([10, 10, 20], 0.5);
    expect(out[0]).toBeCloseTo(10, 12);
    // last = 0.5*0 + 0.5*10 = 5 -> /0.5 = 10; last = 5*0.5 + 5 = 7.5 -> /0.75 = 10; last = 3.75 + 10 = 13.75 -> /0.875
    expect(out[1]).toBeCloseTo(10, 12);
    expect(out[2]).toBeCloseTo(13.75 / 0.875, 12);
  });

  it("matches the recurrence for a longer series and damps noise", () => {
    const values = Array.from({ length: 200 }, (_, i) => 1 / (i + 1) + (i % 2 ? 0.05 : -0.05));
    const w = 0.9;
    const out = emaSmooth(values, w);
    let last = 0;
    values.forEach((v, i) => {
      last = last * w + (1 - w) * v;
      expect(out[i]).toBeCloseTo(last / (1 - w ** (i + 1)), 12);
    });
    const wiggle = (xs: (number | null)[]) => {
      const tail = xs.slice(100).map(Number);
      return tail.slice(1).reduce((sum, x, i) => sum + Math.abs(x - tail[i]), 0);
    };
    expect(wiggle(out)).toBeLessThan(wiggle(values) / 5);
  });

  it("passes gaps and non-finite values through without letting them into the average", () => {
    const out = emaSmooth([1, null, Number.NaN, 3, Infinity], 0.5);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeNaN();
    expect(out[4]).toBe(Infinity);
    // Only 1 and 3 were averaged: last = 0.5 then 0.25 + 1.5 = 1.75, debiased by 1 - 0.25.
    expect(out[3]).toBeCloseTo(1.75 / 0.75, 12);
  });

  it("keeps a constant series exactly flat", () => {
    expect(emaSmooth([0.1, 0.1, 0.1, 0.1], 0.95)).toEqual([0.1, 0.1, 0.1, 0.1]);
  });

  it("clamps the weight to [0, MAX_SMOOTHING] so 1 cannot freeze the line", () => {
    expect(emaSmooth([1, 2, 3], -1)).toEqual([1, 2, 3]);
    const clamped = emaSmooth([1, 5], 1);
    expect(clamped).toEqual(emaSmooth([1, 5], MAX_SMOOTHING));
    expect(clamped[1]).toBeGreaterThan(1);
  });

  it("does not modify its input", () => {
    const input = [1, 2, 3];
    emaSmooth(input, 0.6);
    expect(input).toEqual([1, 2, 3]);
  });
});
