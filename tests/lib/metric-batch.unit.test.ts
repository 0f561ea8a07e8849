import { describe, expect, it } from "vitest";
import { floorDiv } from "../../worker/lib/downsample";
import { summarizeBatch, type StoredPoint } from "../../worker/lib/metric-batch";

/** A small deterministic generator, so failures reproduce. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const same = (a: StoredPoint, b: StoredPoint) => a.key === b.key && a.step === b.step && a.timestamp === b.timestamp && a.value === b.value && a.isNan === b.isNan;
const later = (a: StoredPoint, b: StoredPoint) => a.step > b.step || (a.step === b.step && (a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.value > b.value)));

/** What the batch adds, recounted point by point the slow way (as SQL's DISTINCT and GROUP BY would). */
function reference(points: StoredPoint[], widths: number[]) {
  const distinct: StoredPoint[] = [];
  for (const p of points) if (!distinct.some((d) => same(d, p))) distinct.push(p);
  const keys = [...new Set(distinct.map((p) => p.key))].sort();
  return keys.map((key) => {
    const own = distinct.filter((p) => p.key === key);
    const latest = own.reduce((a, b) => (later(b, a) ? b : a));
    const rollups = widths.flatMap((width) => {
      const buckets = [...new Set(own.map((p) => Math.floor(p.step / width)))].sort((a, b) => a - b);
      return buckets.map((bucket) => {
        const inside = own.filter((p) => Math.floor(p.step / width) === bucket);
        const values = inside.filter((p) => p.isNan === 0).map((p) => p.value);
        const last = inside.reduce((a, b) => (later(b, a) ? b : a));
        return {
          width,
          bucket,
          n: inside.length,
          x0: Math.min(...inside.map((p) => p.step)),
          x1: Math.max(...inside.map((p) => p.step)),
          lo: values.length ? Math.min(...values) : null,
          hi: values.length ? Math.max(...values) : null,
          lastStep: last.step,
          lastTimestamp: last.timestamp,
          lastValue: last.value,
          lastIsNan: last.isNan,
        };
      });
    });
    return { key, minStep: Math.min(...own.map((p) => p.step)), maxStep: Math.max(...own.map((p) => p.step)), count: own.length, latest: [latest.step, latest.timestamp, latest.value], rollups };
  });
}

describe("floorDiv", () => {
  it("is the floor of the exact quotient, for negative and very large steps too", () => {
    const xs = [0, 1, 31, 32, 33, -1, -31, -32, -33, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 52 + 3, 9_007_199_254_740_000];
    for (const x of xs) {
      for (const w of [1, 3, 7, 32, 100, 512, 1000]) {
        const big = BigInt(x);
        const bw = BigInt(w);
        const q = big / bw - (big % bw !== 0n && big < 0n ? 1n : 0n);
        expect(floorDiv(x, w), `${x} / ${w}`).toBe(Number(q));
      }
    }
  });
});

describe("summarizeBatch", () => {
  it("aggregates one key's contiguous steps into the buckets of each width", () => {
    const points: StoredPoint[] = Array.from({ length: 1000 }, (_, i) => ({ key: "loss", step: 1000 + i, timestamp: 5 + i, value: i === 500 ? -9 : i % 10, isNan: 0 }));
    const [k] = summarizeBatch(points, [32, 512]);
    expect([k.key, k.minStep, k.maxStep, k.points.length]).toEqual(["loss", 1000, 1999, 1000]);
    expect(k.latest).toEqual(points[999]);
    const fine = k.rollups.filter((r) => r.width === 32);
    const coarse = k.rollups.filter((r) => r.width === 512);
    // 1000..1023 is the end of bucket 31, then 31 buckets of 32, then 1984..1999.
    expect(fine.map((r) => r.bucket)).toEqual(Array.from({ length: 32 }, (_, i) => 31 + i));
    expect(fine.reduce((s, r) => s + r.n, 0)).toBe(1000);
    expect(fine[0]).toMatchObject({ n: 24, x0: 1000, x1: 1023, lastStep: 1023 });
    expect(coarse.map((r) => [r.bucket, r.n, r.x0, r.x1])).toEqual([
      [1, 24, 1000, 1023],
      [2, 512, 1024, 1535],
      [3, 464, 1536, 1999],
    ]);
    expect(Math.min(...coarse.map((r) => r.lo!))).toBe(-9);
  });

  it("counts a point repeated in the batch once, and keeps keys apart", () => {
    const p = (key: string, step: number, value: number, isNan: 0 | 1 = 0): StoredPoint => ({ key, step, timestamp: 100, value, isNan });
    const out = summarizeBatch([p("b", 1, 2), p("a", 1, 2), p("b", 1, 2), p("b", 1, 3), p("a", -40, 0, 1), p("a", -40, 0)], [32]);
    expect(out.map((k) => [k.key, k.points.length])).toEqual([
      ["a", 3],
      ["b", 2],
    ]);
    const a = out[0];
    expect(a.rollups).toEqual([
      { width: 32, bucket: -2, n: 2, x0: -40, x1: -40, lo: 0, hi: 0, lastStep: -40, lastTimestamp: 100, lastValue: 0, lastIsNan: 1 },
      { width: 32, bucket: 0, n: 1, x0: 1, x1: 1, lo: 2, hi: 2, lastStep: 1, lastTimestamp: 100, lastValue: 2, lastIsNan: 0 },
    ]);
    expect(out[1].latest).toEqual(p("b", 1, 3));
    expect(out[1].rollups[0]).toMatchObject({ n: 2, lo: 2, hi: 3, lastValue: 3 });
  });

  it("leaves lo and hi null for a bucket of NaN points only", () => {
    const [k] = summarizeBatch([{ key: "x", step: 3, timestamp: 1, value: 0, isNan: 1 }], [32]);
    expect(k.rollups[0]).toMatchObject({ n: 1, lo: null, hi: null, lastIsNan: 1 });
  });

  it("agrees with a point-by-point recount on random batches with repeats, ties, NaN and negative steps", () => {
    const next = rng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
    for (let trial = 0; trial < 200; trial++) {
      const size = 1 + Math.floor(next() * 120);
      const points: StoredPoint[] = [];
      for (let i = 0; i < size; i++) {
        if (points.length && next() < 0.15) {
          points.push({ ...pick(points) });
          continue;
        }
        const nan = next() < 0.1;
        points.push({
          key: pick(["loss", "acc", "lr"]),
          step: Math.floor(next() * 2000) - 700,
          timestamp: pick([1, 2, 3]),
          value: nan ? 0 : pick([-1.5, 0, 2, 7.25, 1e300]),
          isNan: nan ? 1 : 0,
        });
      }
      const widths = [32, 512];
      const got = summarizeBatch(points, widths).map((k) => ({
        key: k.key,
        minStep: k.minStep,
        maxStep: k.maxStep,
        count: k.points.length,
        latest: [k.latest.step, k.latest.timestamp, k.latest.value],
        rollups: k.rollups,
      }));
      const want = reference(points, widths);
      // The last point's isNan may differ only between rows that tie on (step, timestamp, value).
      const strip = (xs: typeof want) => xs.map((k) => ({ ...k, rollups: k.rollups.map(({ lastIsNan: _, ...r }) => r) }));
      expect(strip(got), `trial ${trial}`).toEqual(strip(want));
      for (const k of summarizeBatch(points, widths)) {
        for (let i = 1; i < k.points.length; i++) expect(same(k.points[i - 1], k.points[i])).toBe(false);
      }
    }
  });
});
