/**
 * D1 queries over long metric histories: extents, bucketed aggregates (min/max/last per bucket) and
 * points at chosen steps. Aggregation happens in SQLite so a million points never leave the database.
 */
import type { Db } from "../db/client";
import { ROLLUP_WIDTHS, type Bucket, type BucketPlan } from "../lib/downsample";
import type { KeyBatch } from "../lib/metric-batch";

export type XAxis = "step" | "timestamp";

export interface Extent {
  runId: string;
  min: number;
  max: number;
  count: number;
}

export interface StepRange {
  from: number | null;
  to: number | null;
}

const NO_LOWER = -Number.MAX_SAFE_INTEGER;
const NO_UPPER = Number.MAX_SAFE_INTEGER;

/** floor(step / width) in SQL, correct for negative steps too (SQLite's integer division truncates). */
// D1 binds JavaScript numbers as REAL, so the width is cast before dividing.
const floorDivSql = (x: string, w: string) => `(CASE WHEN ${x} >= 0 THEN ${x} / ${w} ELSE -((-${x} - 1) / ${w}) - 1 END)`;

/** Folds a bucket's new aggregate (excluded) into the stored one. */
const MERGE_ROLLUP = `n = n + excluded.n,
           x0 = min(x0, excluded.x0),
           x1 = max(x1, excluded.x1),
           lo = min(coalesce(lo, excluded.lo), coalesce(excluded.lo, lo)),
           hi = max(coalesce(hi, excluded.hi), coalesce(excluded.hi, hi)),
           last_value = CASE WHEN (excluded.last_step, excluded.last_timestamp) > (last_step, last_timestamp) THEN excluded.last_value ELSE last_value END,
           last_is_nan = CASE WHEN (excluded.last_step, excluded.last_timestamp) > (last_step, last_timestamp) THEN excluded.last_is_nan ELSE last_is_nan END,
           last_timestamp = CASE WHEN (excluded.last_step, excluded.last_timestamp) > (last_step, last_timestamp) THEN excluded.last_timestamp ELSE last_timestamp END,
           last_step = max(last_step, excluded.last_step)`;

/** True for a key (k.value: [key, minStep, maxStep, ...]) that has a stored point within the batch's step range. */
const keyOverlapsSql = `EXISTS (SELECT 1 FROM metrics m WHERE m.run_uuid = ?1 AND m.key = k.value ->> 0 AND m.step BETWEEN k.value ->> 1 AND k.value ->> 2)`;

/** The JSON of a batch's points that the insert and rollupStatements read: [[key, step, timestamp, value, isNan], ...]. */
export const batchPointsJson = (keys: readonly KeyBatch[]): string =>
  JSON.stringify(keys.flatMap((k) => k.points.map((p) => [k.key, p.step, p.timestamp, p.value, p.isNan])));

/**
 * Statements that fold a batch of metric points into every rollup level. They must run in the same
 * transaction as, and before, the insert of the points: points already stored are left out, so
 * counts stay exact when a client re-sends a batch. A key with no stored point in the batch's step
 * range (the usual case: new steps) has only new points, and its aggregates, computed before writing,
 * are upserted as they are. A key with stored points in that range goes the exact way: its new points
 * are found one by one and aggregated here. `pointsJson` is batchPointsJson(keys).
 */
export function rollupStatements(d1: D1Database, runId: string, keys: readonly KeyBatch[], pointsJson: string): D1PreparedStatement[] {
  const aggregates = JSON.stringify(
    keys.flatMap((k) => k.rollups.map((r) => [k.key, k.minStep, k.maxStep, r.width, r.bucket, r.n, r.x0, r.x1, r.lo, r.hi, r.lastStep, r.lastTimestamp, r.lastValue, r.lastIsNan])),
  );
  const ranges = JSON.stringify(keys.map((k) => [k.key, k.minStep, k.maxStep]));
  // One statement for every level and both ways: the rows computed before writing go to keys that do
  // not overlap, the exact way's to keys that do. The exact way's first condition does not depend on
  // the point: when no key overlaps, it is evaluated once and no point is looked up.
  const levels = ROLLUP_WIDTHS.map((w) => `SELECT ${w} AS width`).join(" UNION ALL ");
  return [
    d1
      .prepare(
        `WITH p AS (
           SELECT DISTINCT j.value ->> 0 AS key, j.value ->> 1 AS step, j.value ->> 2 AS ts, j.value ->> 3 AS value, j.value ->> 4 AS nan
           FROM json_each(?2) j
           WHERE EXISTS (SELECT 1 FROM json_each(?3) k WHERE ${keyOverlapsSql})
             AND j.value ->> 0 IN (SELECT k.value ->> 0 FROM json_each(?3) k WHERE ${keyOverlapsSql})
             AND NOT EXISTS (SELECT 1 FROM metrics m WHERE m.run_uuid = ?1 AND m.key = j.value ->> 0 AND m.step = j.value ->> 1
                             AND m.timestamp = j.value ->> 2 AND m.value = j.value ->> 3 AND m.is_nan = j.value ->> 4)
         ),
         levels AS (${levels}),
         b AS (SELECT p.*, levels.width, ${floorDivSql("p.step", "levels.width")} AS bucket FROM p CROSS JOIN levels),
         agg AS (
           SELECT width, key, bucket, count(*) AS n, min(step) AS x0, max(step) AS x1,
                  min(CASE WHEN nan = 0 THEN value END) AS lo, max(CASE WHEN nan = 0 THEN value END) AS hi
           FROM b GROUP BY width, key, bucket
         ),
         last AS (
           SELECT width, key, bucket, step, ts, value, nan FROM (
             SELECT *, row_number() OVER (PARTITION BY width, key, bucket ORDER BY step DESC, ts DESC, value DESC) AS rn FROM b
           ) WHERE rn = 1
         )
         INSERT INTO metric_rollups (run_uuid, key, width, bucket, n, x0, x1, lo, hi, last_step, last_timestamp, last_value, last_is_nan)
         SELECT ?1, k.value ->> 0, k.value ->> 3, k.value ->> 4, k.value ->> 5, k.value ->> 6, k.value ->> 7, k.value ->> 8, k.value ->> 9,
                k.value ->> 10, k.value ->> 11, k.value ->> 12, k.value ->> 13
         FROM json_each(?4) k
         WHERE NOT ${keyOverlapsSql}
         UNION ALL
         SELECT ?1, agg.key, agg.width, agg.bucket, agg.n, agg.x0, agg.x1, agg.lo, agg.hi, last.step, last.ts, last.value, last.nan
         FROM agg JOIN last ON last.width = agg.width AND last.key = agg.key AND last.bucket = agg.bucket WHERE true
         ON CONFLICT (run_uuid, key, width, bucket) DO UPDATE SET ${MERGE_ROLLUP}`,
      )
      .bind(runId, pointsJson, ranges, aggregates),
  ];
}

export class MetricHistoryStore {
  constructor(private readonly db: Db) {}

  async extents(runIds: string[], key: string, x: XAxis, range: StepRange): Promise<Extent[]> {
    const res = await this.db.$client
      .prepare(
        `SELECT run_uuid AS runId, min(${x}) AS min, max(${x}) AS max, count(*) AS count FROM metrics
         WHERE run_uuid IN (SELECT value FROM json_each(?1)) AND key = ?2 AND ${x} BETWEEN ?3 AND ?4 GROUP BY run_uuid`,
      )
      .bind(JSON.stringify(runIds), key, range.from ?? NO_LOWER, range.to ?? NO_UPPER)
      .all<Extent>();
    return res.results;
  }

  /** Extents of whole series from the coarsest rollup level: a few rows per million points. */
  async rollupExtents(runIds: string[], key: string): Promise<Extent[]> {
    const res = await this.db.$client
      .prepare(
        `SELECT run_uuid AS runId, min(x0) AS min, max(x1) AS max, sum(n) AS count FROM metric_rollups
         WHERE run_uuid IN (SELECT value FROM json_each(?1)) AND key = ?2 AND width = ?3 GROUP BY run_uuid`,
      )
      .bind(JSON.stringify(runIds), key, ROLLUP_WIDTHS[ROLLUP_WIDTHS.length - 1])
      .all<Extent>();
    return res.results;
  }

  /** Buckets of a whole series merged from one rollup level; the plan must be aligned to that level. */
  async rollupBuckets(runId: string, key: string, plan: BucketPlan & { unit: number; perBucket: number }): Promise<Bucket[]> {
    const d1 = this.db.$client;
    const first = plan.start / plan.unit;
    // D1 binds JavaScript numbers as REAL: cast, or the division would not be integral.
    const pb = "(bucket - CAST(?4 AS INTEGER)) / CAST(?5 AS INTEGER)";
    const binds = [runId, key, plan.unit, first, plan.perBucket];
    const [agg, last] = await d1.batch<Record<string, number>>([
      d1
        .prepare(
          `SELECT ${pb} AS b, sum(n) AS n, min(x0) AS x0, max(x1) AS x1, min(lo) AS lo, max(hi) AS hi
           FROM metric_rollups WHERE run_uuid = ?1 AND key = ?2 AND width = ?3 GROUP BY b ORDER BY b`,
        )
        .bind(...binds),
      d1
        .prepare(
          `SELECT ${pb} AS b, max(last_step) AS lx, last_value AS value, last_is_nan AS is_nan, last_timestamp AS lts
           FROM metric_rollups WHERE run_uuid = ?1 AND key = ?2 AND width = ?3 GROUP BY b ORDER BY b`,
        )
        .bind(...binds),
    ]);
    const lastByBucket = new Map(last.results.map((r) => [r.b, r]));
    return agg.results.map((r) => {
      const l = lastByBucket.get(r.b)!;
      return { x0: r.x0, x1: r.x1, count: r.n, min: r.lo ?? NaN, max: r.hi ?? NaN, lastX: l.lx, last: l.is_nan ? NaN : l.value, lastTimestamp: l.lts };
    });
  }

  /** Aggregates one run's series into the plan's buckets (empty buckets are absent). */
  async buckets(runId: string, key: string, x: XAxis, plan: BucketPlan, range: StepRange): Promise<Bucket[]> {
    const bucketExpr = `min(CAST((${x} - ?1) / ?2 AS INTEGER), ?3)`;
    const where = `run_uuid = ?4 AND key = ?5 AND ${x} BETWEEN ?6 AND ?7`;
    const binds = [plan.start, plan.width, plan.buckets - 1, runId, key, range.from ?? NO_LOWER, range.to ?? NO_UPPER];
    const d1 = this.db.$client;
    const [agg, last] = await d1.batch<Record<string, number>>([
      d1
        .prepare(
          `SELECT ${bucketExpr} AS b, count(*) AS n, min(${x}) AS x0, max(${x}) AS x1,
                  min(CASE WHEN is_nan = 0 THEN value END) AS lo, max(CASE WHEN is_nan = 0 THEN value END) AS hi
           FROM metrics WHERE ${where} GROUP BY b ORDER BY b`,
        )
        .bind(...binds),
      // A single max() makes SQLite take the bare columns from the row holding the maximum.
      d1.prepare(`SELECT ${bucketExpr} AS b, max(${x}) AS lx, value, is_nan, timestamp AS lts FROM metrics WHERE ${where} GROUP BY b ORDER BY b`).bind(...binds),
    ]);
    const lastByBucket = new Map(last.results.map((r) => [r.b, r]));
    return agg.results.map((r) => {
      const l = lastByBucket.get(r.b)!;
      return {
        x0: r.x0,
        x1: r.x1,
        count: r.n,
        min: r.lo ?? NaN,
        max: r.hi ?? NaN,
        lastX: l.lx,
        last: l.is_nan ? NaN : l.value,
        lastTimestamp: l.lts,
      };
    });
  }

  /** The first step of each of the plan's buckets, for MLflow's evenly sampled bulk history. */
  async sampledSteps(runId: string, key: string, plan: BucketPlan, range: StepRange): Promise<number[]> {
    const res = await this.db.$client
      .prepare(
        `SELECT min(step) AS s FROM metrics WHERE run_uuid = ?4 AND key = ?5 AND step BETWEEN ?6 AND ?7
         GROUP BY min(CAST((step - ?1) / ?2 AS INTEGER), ?3) ORDER BY s`,
      )
      .bind(plan.start, plan.width, plan.buckets - 1, runId, key, range.from ?? NO_LOWER, range.to ?? NO_UPPER)
      .all<{ s: number }>();
    return res.results.map((r) => r.s);
  }

  async pointsAtSteps(runId: string, key: string, steps: number[]): Promise<{ step: number; timestamp: number; value: number; isNan: number }[]> {
    const res = await this.db.$client
      .prepare(
        `SELECT step, timestamp, value, is_nan AS isNan FROM metrics
         WHERE run_uuid = ?1 AND key = ?2 AND step IN (SELECT value FROM json_each(?3)) ORDER BY step, timestamp, value`,
      )
      .bind(runId, key, JSON.stringify(steps))
      .all<{ step: number; timestamp: number; value: number; isNan: number }>();
    return res.results;
  }
}
