import { describe, expect, it } from "vitest";
import { downsampledPoints } from "../../app/src/lib/charts/downsampled";
import { downsample } from "../../worker/lib/downsample";

function asSeries(points: { x: number; y: number }[], budget: number) {
  const b = downsample(points, budget);
  return {
    run_id: "r",
    key: "loss",
    total: points.length,
    x0: b.map((x) => x.x0),
    x1: b.map((x) => x.x1),
    count: b.map((x) => x.count),
    min: b.map((x) => (Number.isNaN(x.min) ? null : x.min)),
    max: b.map((x) => (Number.isNaN(x.max) ? null : x.max)),
    last_x: b.map((x) => x.lastX),
    last: b.map((x) => (Number.isNaN(x.last) ? null : x.last)),
    last_timestamp: b.map((x) => 1000 + x.lastX),
  };
}

describe("downsampledPoints", () => {
  it("keeps spikes and the last point, in x order, with wall times from their bucket", () => {
    const pts = Array.from({ length: 100_000 }, (_, i) => ({ x: i, y: i === 31_337 ? 500 : Math.sin(i / 100) }));
    const out = downsampledPoints(asSeries(pts, 500));
    expect(out.length).toBeLessThanOrEqual(1500);
    expect(Math.max(...out.map((p) => p.value))).toBe(500);
    expect(out.at(-1)).toMatchObject({ step: 99_999, timestamp: 1000 + 99_999 });
    for (let i = 1; i < out.length; i++) expect(out[i].step).toBeGreaterThanOrEqual(out[i - 1].step);
    expect(out.every((p) => p.key === "loss" && Number.isFinite(p.timestamp))).toBe(true);
  });

  it("passes single-point buckets through exactly", () => {
    const pts = [0, 1, 2].map((x) => ({ x, y: x * 2 }));
    expect(downsampledPoints(asSeries(pts, 10)).map((p) => [p.step, p.value, p.timestamp])).toEqual([
      [0, 0, 1000],
      [1, 2, 1001],
      [2, 4, 1002],
    ]);
  });
});
