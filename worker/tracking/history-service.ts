/**
 * Long metric histories for charts: server-side downsampling (min/max/last per bucket, the last point
 * always kept) for any set of runs and keys, and MLflow's evenly sampled bulk-interval history.
 */
import { invalid } from "../http/errors";
import { alignedPlan, chooseRollupWidth, planBuckets, type Bucket } from "../lib/downsample";
import type { MetricPoint } from "./model";
import type { MetricHistoryStore, StepRange, XAxis } from "./history-store";

export const DOWNSAMPLE_LIMITS = { maxRuns: 100, maxKeys: 20, maxSeries: 200, maxPoints: 5000, defaultPoints: 1000 } as const;

export interface DownsampledSeries {
  runId: string;
  key: string;
  /** Points in the requested range before downsampling. */
  total: number;
  buckets: Bucket[];
}

export interface SampledPoint extends MetricPoint {
  runId: string;
}

export class MetricHistoryService {
  constructor(private readonly store: MetricHistoryStore) {}

  async downsample(q: { runIds: string[]; keys: string[]; points?: number; x?: XAxis; range?: StepRange }): Promise<DownsampledSeries[]> {
    const runIds = [...new Set(q.runIds)];
    const keys = [...new Set(q.keys)];
    if (runIds.length === 0 || keys.length === 0) throw invalid("Give at least one run_id and one key");
    if (runIds.length > DOWNSAMPLE_LIMITS.maxRuns) throw invalid(`At most ${DOWNSAMPLE_LIMITS.maxRuns} runs per request`);
    if (keys.length > DOWNSAMPLE_LIMITS.maxKeys) throw invalid(`At most ${DOWNSAMPLE_LIMITS.maxKeys} keys per request`);
    if (runIds.length * keys.length > DOWNSAMPLE_LIMITS.maxSeries) throw invalid(`At most ${DOWNSAMPLE_LIMITS.maxSeries} series (runs × keys) per request`);
    const budget = q.points ?? DOWNSAMPLE_LIMITS.defaultPoints;
    if (!Number.isInteger(budget) || budget < 1 || budget > DOWNSAMPLE_LIMITS.maxPoints) throw invalid(`points must be an integer from 1 to ${DOWNSAMPLE_LIMITS.maxPoints}`);
    const x = q.x ?? "step";
    const range = q.range ?? { from: null, to: null };
    if (range.from != null && range.to != null && range.from > range.to) throw invalid("The range starts after it ends");

    // Whole series by step read the rollups (a few thousand rows per million points); a step or time
    // range reads the points themselves, so its edges are exact.
    const whole = x === "step" && range.from == null && range.to == null;
    const out: DownsampledSeries[] = [];
    for (const key of keys) {
      const extents = whole ? await this.store.rollupExtents(runIds, key) : await this.store.extents(runIds, key, x, range);
      const series = await Promise.all(
        extents.map(async (e) => {
          const unit = whole ? chooseRollupWidth(e.min, e.max, budget) : 1;
          const buckets =
            unit > 1
              ? await this.store.rollupBuckets(e.runId, key, alignedPlan(e.min, e.max, budget, unit))
              : await this.store.buckets(e.runId, key, x, x === "step" ? alignedPlan(e.min, e.max, budget, 1) : planBuckets(e.min, e.max, budget, true), range);
          return { runId: e.runId, key, total: e.count, buckets };
        }),
      );
      out.push(...series);
    }
    return out;
  }

  /** MLflow's get-history-bulk-interval: up to `maxResults` evenly spaced steps per run, first and last included. */
  async bulkInterval(q: { runIds: string[]; key: string; startStep?: number | null; endStep?: number | null; maxResults?: number | null }): Promise<SampledPoint[]> {
    if (q.runIds.length === 0) throw invalid("GetMetricHistoryBulkInterval request must specify at least one run_id.");
    if (q.runIds.length > 100) throw invalid("GetMetricHistoryBulkInterval request cannot specify more than 100 run_ids. Received 101 run_ids.".replace("101", String(q.runIds.length)));
    const maxResults = q.maxResults ?? 320;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) throw invalid("max_results must be between 1 and 1000");
    const range: StepRange = { from: q.startStep ?? null, to: q.endStep ?? null };
    if (range.from != null && range.to != null && range.from > range.to) throw invalid("end_step must be greater than start_step.");
    const extents = await this.store.extents(q.runIds, q.key, "step", range);
    const perRun = await Promise.all(
      extents.map(async (e) => {
        // One step per bucket of (maxResults - 1) buckets, plus the last step: first and last are always in.
        const steps = await this.store.sampledSteps(e.runId, q.key, planBuckets(e.min, e.max, Math.max(1, maxResults - 1), true), range);
        if (steps[steps.length - 1] !== e.max) steps.push(e.max);
        const points = await this.store.pointsAtSteps(e.runId, q.key, steps.slice(0, maxResults));
        return points.map((p) => ({ runId: e.runId, key: q.key, step: p.step, timestamp: p.timestamp, value: p.isNan ? NaN : p.value }));
      }),
    );
    const order = new Map(q.runIds.map((id, i) => [id, i]));
    return perRun.flat().sort((a, b) => order.get(a.runId)! - order.get(b.runId)! || a.step - b.step || a.timestamp - b.timestamp);
  }
}
