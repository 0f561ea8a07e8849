/**
 * Downsampling of metric series for charts, runtime-free: fixed-width buckets over x that keep each
 * bucket's min and max (so spikes survive), its last point, and always the series' last point.
 * The same bucket plan serves the SQL aggregation in the Worker and in-memory series in the app.
 */

export interface XY {
  x: number;
  y: number;
}

/** One bucket of a downsampled series: the extremes and the last point inside [x0, x1]. */
export interface Bucket {
  x0: number;
  x1: number;
  count: number;
  min: number;
  max: number;
  /** x and y of the bucket's last point (highest x). */
  lastX: number;
  last: number;
  /** Wall time of the last point, when the series has one (metric histories do). */
  lastTimestamp?: number;
}

export interface BucketPlan {
  start: number;
  width: number;
  buckets: number;
}

/**
 * Integer-width buckets over the closed range [min, max] such that there are at most `budget`.
 * Steps are integers; a width below 1 would make empty buckets, so it is never below 1 for them.
 */
export function planBuckets(min: number, max: number, budget: number, integral = true): BucketPlan {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) throw new RangeError(`invalid range [${min}, ${max}]`);
  const n = Math.max(1, Math.floor(budget));
  const span = max - min + (integral ? 1 : 0);
  let width = span / n;
  if (integral) width = Math.max(1, Math.ceil(width));
  if (width === 0) width = 1;
  return { start: min, width, buckets: Math.max(1, Math.ceil(span / width)) };
}

export const bucketIndex = (x: number, plan: BucketPlan): number => Math.min(plan.buckets - 1, Math.floor((x - plan.start) / plan.width));

/** In-memory bucketing of points sorted by x (NaN y values are skipped for min/max but never for last). */
export function downsample(points: readonly XY[], budget: number, integral = true): Bucket[] {
  if (points.length === 0) return [];
  const plan = planBuckets(points[0].x, points[points.length - 1].x, budget, integral);
  const out: Bucket[] = [];
  let current: Bucket | null = null;
  let currentIndex = -1;
  for (const p of points) {
    const b = bucketIndex(p.x, plan);
    if (b !== currentIndex || current === null) {
      current = { x0: p.x, x1: p.x, count: 0, min: Infinity, max: -Infinity, lastX: p.x, last: p.y };
      out.push(current);
      currentIndex = b;
    }
    current.count++;
    current.x1 = p.x;
    current.lastX = p.x;
    current.last = p.y;
    if (!Number.isNaN(p.y)) {
      if (p.y < current.min) current.min = p.y;
      if (p.y > current.max) current.max = p.y;
    }
  }
  for (const b of out) {
    if (b.min === Infinity) {
      b.min = NaN;
      b.max = NaN;
    }
  }
  return out;
}

/** Points to draw for a series of buckets: min and max in x order, then the last point (deduplicated). */
export function bucketsToPolyline(buckets: readonly Bucket[]): XY[] {
  const out: XY[] = [];
  for (const b of buckets) {
    if (b.count === 1 || Number.isNaN(b.min)) {
      out.push({ x: b.lastX, y: b.last });
      continue;
    }
    const mid = (b.x0 + b.x1) / 2;
    out.push({ x: b.x0, y: b.min === b.last ? b.max : b.min }, { x: mid, y: b.min === b.last ? b.min : b.max }, { x: b.lastX, y: b.last });
  }
  return out;
}

/** Step widths of the pre-aggregated rollup levels kept for every metric (1 means raw points). */
export const ROLLUP_WIDTHS = [32, 512] as const;

/**
 * floor(x / w) for integers, exact for every safe integer x and positive integer w: the rollup bucket of
 * step x at width w, the same on the write side (rollups) and the read side (bucket plans).
 */
export function floorDiv(x: number, w: number): number {
  let q = Math.floor(x / w);
  // The float quotient can round across an integer for large x; step back to the exact floor.
  if (q * w > x) q -= 1;
  else if ((q + 1) * w <= x) q += 1;
  return q;
}

/**
 * The coarsest rollup level that still has at least `budget` buckets over [min, max], so that reading
 * it loses no resolution the chart can show; 1 (raw points) when no level is fine enough.
 */
export function chooseRollupWidth(min: number, max: number, budget: number): number {
  let best = 1;
  for (const w of ROLLUP_WIDTHS) if (floorDiv(max, w) - floorDiv(min, w) + 1 >= budget) best = w;
  return best;
}

/** A bucket plan whose buckets are whole runs of `unit`-wide rollup buckets (unit 1: raw steps). */
export function alignedPlan(min: number, max: number, budget: number, unit: number): BucketPlan & { unit: number; perBucket: number } {
  const first = floorDiv(min, unit);
  const units = floorDiv(max, unit) - first + 1;
  const perBucket = Math.max(1, Math.ceil(units / Math.max(1, Math.floor(budget))));
  return { start: first * unit, width: perBucket * unit, buckets: Math.ceil(units / perBucket), unit, perBucket };
}
