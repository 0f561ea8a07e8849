/**
 * The native API's convenience layer over tracking: get-or-create experiments by name, one call that
 * logs params, metrics and tags with server-side defaults, and idempotency keys so that a client may
 * retry a batch after a network error without logging it twice.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { idempotencyKeys } from "../db/schema";
import { ApiError } from "../http/errors";
import type { KeyValue, MetricPoint, Run } from "./model";
import type { TrackingService } from "./service";

export interface LogInput {
  params?: Record<string, string | number | boolean>;
  metrics?: Record<string, number> | { key: string; value: number; step?: number; timestamp?: number }[];
  /** Default step for metrics given as a map or without a step. */
  step?: number;
  tags?: Record<string, string>;
  idempotencyKey?: string;
}

export interface LogResult {
  params: number;
  metrics: number;
  tags: number;
  /** True when the idempotency key had been seen: nothing was written this time. */
  replayed: boolean;
}

export class RunLogger {
  constructor(
    private readonly tracking: TrackingService,
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  async experimentIdFor(ref: { experimentId?: string | null; experimentName?: string | null }): Promise<string> {
    if (ref.experimentId) return (await this.tracking.getExperiment(ref.experimentId)).experimentId;
    if (!ref.experimentName) return "0";
    const name = ref.experimentName;
    const isCode = (err: unknown, code: string) => err instanceof ApiError && err.code === code;
    try {
      return (await this.tracking.getExperimentByName(name)).experimentId;
    } catch (err) {
      if (!isCode(err, "RESOURCE_DOES_NOT_EXIST")) throw err;
    }
    try {
      return await this.tracking.createExperiment({ name });
    } catch (err) {
      // Another client created it in between: use theirs.
      if (!isCode(err, "RESOURCE_ALREADY_EXISTS")) throw err;
      return (await this.tracking.getExperimentByName(name)).experimentId;
    }
  }

  async createRun(input: { experimentId?: string | null; experimentName?: string | null; name?: string | null; startTime?: number | null; tags?: Record<string, string>; params?: Record<string, string | number | boolean> }): Promise<Run> {
    const tags: KeyValue[] = Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value }));
    // Everything is checked before anything is written: an experiment created by name, or a run, must
    // not outlive a request refused for a bad tag or param.
    this.tracking.checkRunInput({ runName: input.name, tags });
    if (input.params) this.tracking.checkBatch({ metrics: [], params: Object.entries(input.params).map(([key, value]) => ({ key, value: String(value) })), tags: [] });
    const experimentId = await this.experimentIdFor(input);
    const run = await this.tracking.createRun({ experimentId, runName: input.name, startTime: input.startTime ?? this.now(), tags });
    if (input.params && Object.keys(input.params).length) {
      await this.log(run.info.runId, { params: input.params });
      return this.tracking.getRun(run.info.runId);
    }
    return run;
  }

  async log(runId: string, input: LogInput): Promise<LogResult> {
    const scope = `run:${runId}`;
    const idemKey = input.idempotencyKey ? `${scope}:${input.idempotencyKey}` : null;
    if (idemKey && (await this.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, idemKey)).get())) {
      return { params: 0, metrics: 0, tags: 0, replayed: true };
    }
    const now = this.now();
    const step = input.step ?? 0;
    const metrics: MetricPoint[] = Array.isArray(input.metrics)
      ? input.metrics.map((m) => ({ key: m.key, value: m.value, step: m.step ?? step, timestamp: m.timestamp ?? now }))
      : Object.entries(input.metrics ?? {}).map(([key, value]) => ({ key, value, step, timestamp: now }));
    const params: KeyValue[] = Object.entries(input.params ?? {}).map(([key, value]) => ({ key, value: String(value) }));
    const tags: KeyValue[] = Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value }));
    // The key is written in the batch's own transaction: a concurrent retry that got past the check
    // above finds it taken there and writes nothing.
    const written = await this.tracking.logBatch(runId, { metrics, params, tags }, idemKey ? { key: idemKey, scope, createdAt: now } : undefined);
    if (!written) return { params: 0, metrics: 0, tags: 0, replayed: true };
    return { params: params.length, metrics: metrics.length, tags: tags.length, replayed: false };
  }
}
