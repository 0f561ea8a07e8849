/**
 * D1 queries over long metric histories: extents, bucketed aggregates (min/max/last per bucket) and
 * points at chosen steps. Aggregation happens in SQLite so a million points never leave the database.
 */
import type { Db } from "../db/client";
import type { Bucket, BucketPlan } from "../lib/downsample";

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
      d1.prepare(`SELECT ${bucketExpr} AS b, max(${x}) AS lx, value, is_nan FROM metrics WHERE ${where} GROUP BY b ORDER BY b`).bind(...binds),
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
