/**
 * What a batch of metric points adds to a run, computed before it is written, runtime-free: the
 * distinct points grouped by key in storage order, each key's step range, each key's latest point, and
 * the batch's aggregate for every rollup bucket it touches. Points arrive already encoded for storage
 * (NaN as value 0 with isNan 1, infinities clamped), so equality and order are those of the stored rows.
 */
import { floorDiv } from "./downsample";

export interface StoredPoint {
  key: string;
  step: number;
  timestamp: number;
  value: number;
  isNan: 0 | 1;
}

/** One rollup bucket's aggregate over a set of points: count, step extent, value extent, last point. */
export interface RollupAggregate {
  width: number;
  bucket: number;
  n: number;
  x0: number;
  x1: number;
  /** Extremes over the points that are not NaN; null when all of them are. */
  lo: number | null;
  hi: number | null;
  /** The last point: highest step, then latest timestamp, then largest value. */
  lastStep: number;
  lastTimestamp: number;
  lastValue: number;
  lastIsNan: 0 | 1;
}

export interface KeyBatch {
  key: string;
  minStep: number;
  maxStep: number;
  /** Distinct points of the key, ascending by (step, timestamp, value, isNan). */
  points: StoredPoint[];
  /** The key's point with the highest step, then latest timestamp, then largest value. */
  latest: StoredPoint;
  /** Aggregates per rollup level (in the order of the widths given), each in bucket order. */
  rollups: RollupAggregate[];
}

const cmp = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);

const comparePoints = (a: StoredPoint, b: StoredPoint): number =>
  (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || cmp(a.step, b.step) || cmp(a.timestamp, b.timestamp) || cmp(a.value, b.value) || a.isNan - b.isNan;

/** The aggregates of one key's sorted, distinct points for one rollup width. */
function aggregate(points: readonly StoredPoint[], width: number): RollupAggregate[] {
  const out: RollupAggregate[] = [];
  let cur: RollupAggregate | null = null;
  for (const p of points) {
    const bucket = floorDiv(p.step, width);
    if (cur === null || cur.bucket !== bucket) {
      cur = { width, bucket, n: 0, x0: p.step, x1: p.step, lo: null, hi: null, lastStep: p.step, lastTimestamp: p.timestamp, lastValue: p.value, lastIsNan: p.isNan };
      out.push(cur);
    }
    cur.n++;
    // Points are ascending, so each one is the bucket's last and highest step so far.
    cur.x1 = p.step;
    cur.lastStep = p.step;
    cur.lastTimestamp = p.timestamp;
    cur.lastValue = p.value;
    cur.lastIsNan = p.isNan;
    if (p.isNan === 0) {
      if (cur.lo === null || p.value < cur.lo) cur.lo = p.value;
      if (cur.hi === null || p.value > cur.hi) cur.hi = p.value;
    }
  }
  return out;
}

/**
 * Groups a batch by key (keys in ascending order), drops repeated points (a point is the whole row:
 * key, step, timestamp, value, isNan, as the metrics table's primary key), and aggregates each key's
 * points into the buckets of every width.
 */
export function summarizeBatch(points: readonly StoredPoint[], widths: readonly number[]): KeyBatch[] {
  const sorted = [...points].sort(comparePoints);
  const out: KeyBatch[] = [];
  let group: StoredPoint[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const last = group[group.length - 1];
    out.push({
      key: last.key,
      minStep: group[0].step,
      maxStep: last.step,
      points: group,
      latest: last,
      rollups: widths.flatMap((w) => aggregate(group, w)),
    });
    group = [];
  };
  let prev: StoredPoint | null = null;
  for (const p of sorted) {
    if (prev !== null && comparePoints(prev, p) === 0) continue;
    if (prev !== null && prev.key !== p.key) flush();
    group.push(p);
    prev = p;
  }
  flush();
  return out;
}
