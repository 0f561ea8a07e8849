/**
 * D1 access for tracking: experiments, runs, params, tags and metrics. Multi-row writes bind one JSON
 * document and expand it with json_each (D1 allows at most 100 bound values per statement), and a
 * batch of statements is one transaction, so a log-batch is all-or-nothing. Also the dataset inputs of
 * runs (log-inputs, datasets.* filters, search-datasets) and reading the model outputs of runs.
 */
import { and, asc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { stringPredicate } from "../db/predicates";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { batchPointsJson, rollupStatements } from "./history-store";
import { ROLLUP_WIDTHS } from "../lib/downsample";
import { summarizeBatch } from "../lib/metric-batch";
import { experiments, experimentTags, latestMetrics, metrics, mlflowDatasets, params, runInputs, runModelInputs, runOutputs, runs, runTags } from "../db/schema";
import type { Comparison, OrderBy } from "../lib/mlflow-search";
import { TAG_DATASET_CONTEXT, type DatasetInput, type DatasetSummary, type Experiment, type KeyValue, type LifecycleStage, type LoggedMetricPoint, type MetricPoint, type Run, type RunInfo, type RunStatus, type ViewType } from "./model";

type ExperimentRow = typeof experiments.$inferSelect;
type RunRow = typeof runs.$inferSelect;

/** How a metric value is stored: SQLite REAL has no NaN, and MLflow clamps infinities. */
export function encodeMetricValue(value: number): { value: number; isNan: 0 | 1 } {
  if (Number.isNaN(value)) return { value: 0, isNan: 1 };
  if (value === Infinity) return { value: Number.MAX_VALUE, isNan: 0 };
  if (value === -Infinity) return { value: -Number.MAX_VALUE, isNan: 0 };
  return { value, isNan: 0 };
}

const decodeMetric = (r: { key: string; value: number; isNan: number; timestamp: number; step: number }): MetricPoint => ({
  key: r.key,
  value: r.isNan ? NaN : r.value,
  timestamp: r.timestamp,
  step: r.step,
});

function toExperiment(row: ExperimentRow, tags: KeyValue[]): Experiment {
  return {
    experimentId: String(row.experimentId),
    name: row.name,
    artifactLocation: row.artifactLocation,
    lifecycleStage: row.lifecycleStage,
    creationTime: row.creationTime,
    lastUpdateTime: row.lastUpdateTime,
    tags,
  };
}

function toRunInfo(row: RunRow): RunInfo {
  return {
    runId: row.runUuid,
    experimentId: String(row.experimentId),
    runName: row.name,
    userId: row.userId,
    status: row.status,
    startTime: row.startTime,
    endTime: row.endTime,
    artifactUri: row.artifactUri,
    lifecycleStage: row.lifecycleStage,
  };
}

function toDatasetInput(tags: string, d: typeof mlflowDatasets.$inferSelect): DatasetInput {
  return {
    tags: JSON.parse(tags) as KeyValue[],
    dataset: { name: d.name, digest: d.digest, sourceType: d.sourceType, source: d.source, schema: d.schema, profile: d.profile },
  };
}

const lifecycleFilter = (column: SQL | typeof runs.lifecycleStage | typeof experiments.lifecycleStage, view: ViewType): SQL => {
  if (view === "ALL") return sql`1 = 1`;
  return sql`${column} = ${view === "DELETED_ONLY" ? "deleted" : "active"}`;
};

const RUN_ATTRIBUTE_COLUMNS: Record<string, SQL> = {
  run_id: sql.raw("r.run_uuid"),
  run_name: sql.raw("r.name"),
  status: sql.raw("r.status"),
  user_id: sql.raw("r.user_id"),
  artifact_uri: sql.raw("r.artifact_uri"),
  lifecycle_stage: sql.raw("r.lifecycle_stage"),
  start_time: sql.raw("r.start_time"),
  end_time: sql.raw("r.end_time"),
  experiment_id: sql.raw("CAST(r.experiment_id AS TEXT)"),
};

const KV_TABLES = { param: "params", tag: "run_tags" } as const;

function runComparison(c: Comparison): SQL {
  if (c.entity === "metric") {
    const inner = sql`SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ${c.key}`;
    if (c.comparator === "IS NULL") return sql`NOT EXISTS (${inner})`;
    if (c.comparator === "IS NOT NULL") return sql`EXISTS (${inner})`;
    return sql`EXISTS (${inner} AND m.is_nan = 0 AND ${stringPredicate(sql.raw("m.value"), c)})`;
  }
  if (c.entity === "param" || c.entity === "tag") {
    const table = sql.raw(KV_TABLES[c.entity]);
    const inner = sql`SELECT 1 FROM ${table} kv WHERE kv.run_uuid = r.run_uuid AND kv.key = ${c.key}`;
    if (c.comparator === "IS NULL") return sql`NOT EXISTS (${inner})`;
    if (c.comparator === "IS NOT NULL") return sql`EXISTS (${inner})`;
    return sql`EXISTS (${inner} AND ${stringPredicate(sql.raw("kv.value"), c)})`;
  }
  if (c.entity === "attribute") {
    const column = RUN_ATTRIBUTE_COLUMNS[c.key];
    if (!column) throw new UnsupportedSearch(`Invalid attribute key '${c.key}'`);
    if (c.comparator === "IS NULL") return sql`${column} IS NULL`;
    if (c.comparator === "IS NOT NULL") return sql`${column} IS NOT NULL`;
    return stringPredicate(column, c);
  }
  return datasetComparison(c);
}

/**
 * datasets.name / datasets.digest / datasets.context: some input of the run matches, as MLflow's join
 * does (so `!=` means "has an input that differs"). The context is the input tag mlflow.data.context.
 */
function datasetComparison(c: Comparison): SQL {
  if (c.key === "context") {
    return sql`EXISTS (SELECT 1 FROM run_inputs ri, json_each(ri.tags) t
      WHERE ri.run_uuid = r.run_uuid AND t.value ->> '$.key' = ${TAG_DATASET_CONTEXT} AND ${stringPredicate(sql`(t.value ->> '$.value')`, c)})`;
  }
  const column = DATASET_COLUMNS[c.key];
  if (!column) throw new UnsupportedSearch(`Invalid dataset key '${c.key}'`);
  return sql`EXISTS (SELECT 1 FROM run_inputs ri JOIN mlflow_datasets d ON d.dataset_uuid = ri.dataset_uuid
    WHERE ri.run_uuid = r.run_uuid AND ${stringPredicate(column, c)})`;
}

const DATASET_COLUMNS: Record<string, SQL> = { name: sql.raw("d.name"), digest: sql.raw("d.digest") };

function runOrderExpression(o: OrderBy): SQL {
  if (o.entity === "metric") return sql`(SELECT m.value FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ${o.key})`;
  if (o.entity === "param" || o.entity === "tag") {
    return sql`(SELECT kv.value FROM ${sql.raw(KV_TABLES[o.entity])} kv WHERE kv.run_uuid = r.run_uuid AND kv.key = ${o.key})`;
  }
  if (o.entity === "attribute" && RUN_ATTRIBUTE_COLUMNS[o.key]) return RUN_ATTRIBUTE_COLUMNS[o.key];
  throw new UnsupportedSearch(`Invalid order_by key '${o.key}'`);
}

/** A valid filter the store cannot evaluate; the service turns it into INVALID_PARAMETER_VALUE. */
export class UnsupportedSearch extends Error {}

const EXPERIMENT_ATTRIBUTE_COLUMNS: Record<string, SQL> = {
  name: sql.raw("e.name"),
  experiment_id: sql.raw("CAST(e.experiment_id AS TEXT)"),
  creation_time: sql.raw("e.creation_time"),
  last_update_time: sql.raw("e.last_update_time"),
  lifecycle_stage: sql.raw("e.lifecycle_stage"),
};

function experimentComparison(c: Comparison): SQL {
  if (c.entity === "tag") {
    const inner = sql`SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ${c.key}`;
    if (c.comparator === "IS NULL") return sql`NOT EXISTS (${inner})`;
    if (c.comparator === "IS NOT NULL") return sql`EXISTS (${inner})`;
    return sql`EXISTS (${inner} AND ${stringPredicate(sql.raw("t.value"), c)})`;
  }
  const column = c.entity === "attribute" ? EXPERIMENT_ATTRIBUTE_COLUMNS[c.key] : undefined;
  if (!column) throw new UnsupportedSearch(`Invalid experiment filter key '${c.key}'`);
  return stringPredicate(column, c);
}

function experimentOrderExpression(o: OrderBy): SQL {
  const column = o.entity === "attribute" ? EXPERIMENT_ATTRIBUTE_COLUMNS[o.key] : undefined;
  if (!column) throw new UnsupportedSearch(`Invalid order_by key '${o.key}'`);
  return column;
}

const orderClause = (expr: SQL, ascending: boolean): SQL =>
  // NULLs (runs without that metric, param or tag) come last in either direction, as in MLflow.
  ascending ? sql`(${expr}) IS NULL, ${expr} ASC` : sql`(${expr}) IS NULL, ${expr} DESC`;

/**
 * Upserts the latest point per (model, key, dataset) of metrics logged for a logged model, with
 * MLflow's rule for "latest": highest step, then latest timestamp, then largest value.
 */
function loggedModelMetricStatement(d1: D1Database, runId: string, points: LoggedMetricPoint[]): D1PreparedStatement {
  const rows = JSON.stringify(
    points.map((m) => {
      const enc = encodeMetricValue(m.value);
      return [m.modelId, m.key, m.datasetName ?? "", m.datasetDigest ?? "", m.step, m.timestamp, enc.value, enc.isNan];
    }),
  );
  return d1
    .prepare(
      `INSERT INTO logged_model_metrics (model_id, key, dataset_name, dataset_digest, run_uuid, step, timestamp, value, is_nan)
       SELECT model_id, key, dataset_name, dataset_digest, ?1, step, timestamp, value, is_nan FROM (
         SELECT j.value ->> 0 AS model_id, j.value ->> 1 AS key, j.value ->> 2 AS dataset_name, j.value ->> 3 AS dataset_digest,
                j.value ->> 4 AS step, j.value ->> 5 AS timestamp, j.value ->> 6 AS value, j.value ->> 7 AS is_nan,
                row_number() OVER (PARTITION BY j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3
                                   ORDER BY j.value ->> 4 DESC, j.value ->> 5 DESC, j.value ->> 6 DESC) AS rn
         FROM json_each(?2) j
       ) WHERE rn = 1
       ON CONFLICT (model_id, key, dataset_name, dataset_digest) DO UPDATE SET
         run_uuid = excluded.run_uuid, step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan
       WHERE (excluded.step, excluded.timestamp, excluded.value) >= (logged_model_metrics.step, logged_model_metrics.timestamp, logged_model_metrics.value)`,
    )
    .bind(runId, rows);
}

export interface BatchWrite {
  runId: string;
  metrics: LoggedMetricPoint[];
  params: KeyValue[];
  tags: KeyValue[];
  /** When the batch sets mlflow.runName, the run's name follows it. */
  runName: string | null;
  /**
   * An idempotency key the batch claims in its own transaction: when the key is taken, the insert of
   * it fails and nothing of the batch is written.
   */
  claim?: IdempotencyClaim;
}

export interface IdempotencyClaim {
  key: string;
  scope: string;
  createdAt: number;
}

/** The error of a batch whose idempotency key had already been claimed. */
export const isClaimTaken = (err: unknown): boolean => {
  const text = `${String((err as Error)?.cause ?? "")} ${String(err)}`;
  return text.includes("UNIQUE") && text.includes("idempotency_keys");
};

export class TrackingStore {
  constructor(private readonly db: Db) {}

  // --- experiments -------------------------------------------------------------------------

  private async experimentTagsOf(ids: number[]): Promise<Map<number, KeyValue[]>> {
    const out = new Map<number, KeyValue[]>();
    if (ids.length === 0) return out;
    const rows = await this.db
      .select()
      .from(experimentTags)
      .where(sql`${experimentTags.experimentId} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`)
      .orderBy(asc(experimentTags.key));
    for (const r of rows) {
      if (!out.has(r.experimentId)) out.set(r.experimentId, []);
      out.get(r.experimentId)!.push({ key: r.key, value: r.value });
    }
    return out;
  }

  async insertExperiment(input: { name: string; artifactLocation: string | null; tags: KeyValue[]; now: number }): Promise<string> {
    const row = await this.db
      .insert(experiments)
      .values({ name: input.name, artifactLocation: input.artifactLocation ?? "", creationTime: input.now, lastUpdateTime: input.now })
      .returning({ id: experiments.experimentId })
      .get();
    const writes = [];
    if (!input.artifactLocation) {
      writes.push(this.db.update(experiments).set({ artifactLocation: `mlflow-artifacts:/${row.id}` }).where(eq(experiments.experimentId, row.id)));
    }
    if (input.tags.length) {
      writes.push(this.db.insert(experimentTags).values(input.tags.map((t) => ({ experimentId: row.id, ...t }))));
    }
    if (writes.length) await this.db.batch(writes as [(typeof writes)[number], ...typeof writes]);
    return String(row.id);
  }

  async getExperiment(id: number): Promise<Experiment | null> {
    const row = await this.db.select().from(experiments).where(eq(experiments.experimentId, id)).get();
    if (!row) return null;
    return toExperiment(row, (await this.experimentTagsOf([row.experimentId])).get(row.experimentId) ?? []);
  }

  async getExperimentByName(name: string): Promise<Experiment | null> {
    const row = await this.db.select().from(experiments).where(eq(experiments.name, name)).get();
    if (!row) return null;
    return toExperiment(row, (await this.experimentTagsOf([row.experimentId])).get(row.experimentId) ?? []);
  }

  async searchExperiments(q: { filter: Comparison[]; orderBy: OrderBy[]; view: ViewType; offset: number; limit: number }): Promise<Experiment[]> {
    const where = [lifecycleFilter(sql.raw("e.lifecycle_stage"), q.view), ...q.filter.map(experimentComparison)];
    const order = [...q.orderBy.map((o) => orderClause(experimentOrderExpression(o), o.ascending)), sql`e.experiment_id ASC`];
    const rows = await this.db.all<Record<string, unknown>>(
      sql`SELECT e.* FROM experiments e WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${q.limit} OFFSET ${q.offset}`,
    );
    const mapped: ExperimentRow[] = rows.map((r) => ({
      experimentId: Number(r.experiment_id),
      name: String(r.name),
      artifactLocation: String(r.artifact_location),
      lifecycleStage: r.lifecycle_stage as LifecycleStage,
      creationTime: Number(r.creation_time),
      lastUpdateTime: Number(r.last_update_time),
    }));
    const tags = await this.experimentTagsOf(mapped.map((r) => r.experimentId));
    return mapped.map((r) => toExperiment(r, tags.get(r.experimentId) ?? []));
  }

  async renameExperiment(id: number, name: string, now: number): Promise<void> {
    await this.db.update(experiments).set({ name, lastUpdateTime: now }).where(eq(experiments.experimentId, id));
  }

  /** Deleting an experiment deletes its runs too (and restoring restores them), as in MLflow. */
  async setExperimentLifecycle(id: number, stage: LifecycleStage, now: number): Promise<void> {
    await this.db.batch([
      this.db.update(experiments).set({ lifecycleStage: stage, lastUpdateTime: now }).where(eq(experiments.experimentId, id)),
      this.db
        .update(runs)
        .set({ lifecycleStage: stage, deletedTime: stage === "deleted" ? now : null })
        .where(and(eq(runs.experimentId, id), eq(runs.lifecycleStage, stage === "deleted" ? "active" : "deleted"))),
    ]);
  }

  async setExperimentTag(id: number, tag: KeyValue, now: number): Promise<void> {
    await this.db.batch([
      this.db
        .insert(experimentTags)
        .values({ experimentId: id, ...tag })
        .onConflictDoUpdate({ target: [experimentTags.experimentId, experimentTags.key], set: { value: tag.value } }),
      this.db.update(experiments).set({ lastUpdateTime: now }).where(eq(experiments.experimentId, id)),
    ]);
  }

  /** Answers whether the tag was there; the experiment's update time moves only then. */
  async deleteExperimentTag(id: number, key: string, now: number): Promise<boolean> {
    // The update runs first, while the tag it checks for is still there.
    const [, deleted] = await this.db.batch([
      this.db
        .update(experiments)
        .set({ lastUpdateTime: now })
        .where(and(eq(experiments.experimentId, id), sql`EXISTS (SELECT 1 FROM experiment_tags WHERE experiment_id = ${id} AND key = ${key})`)),
      this.db.delete(experimentTags).where(and(eq(experimentTags.experimentId, id), eq(experimentTags.key, key))).returning({ key: experimentTags.key }),
    ]);
    return deleted.length > 0;
  }

  // --- runs --------------------------------------------------------------------------------

  async insertRun(info: RunInfo, tags: KeyValue[]): Promise<void> {
    const insertRun = this.db.insert(runs).values({
      runUuid: info.runId,
      experimentId: Number(info.experimentId),
      name: info.runName,
      userId: info.userId,
      status: info.status,
      startTime: info.startTime,
      endTime: info.endTime,
      artifactUri: info.artifactUri,
      lifecycleStage: "active",
    });
    if (tags.length === 0) {
      await insertRun;
      return;
    }
    await this.db.batch([insertRun, this.db.insert(runTags).values(tags.map((t) => ({ runUuid: info.runId, ...t })))]);
  }

  async getRunInfo(runId: string): Promise<RunInfo | null> {
    const row = await this.db.select().from(runs).where(eq(runs.runUuid, runId)).get();
    return row ? toRunInfo(row) : null;
  }

  async getRuns(runIds: string[]): Promise<Run[]> {
    if (runIds.length === 0) return [];
    const ids = JSON.stringify(runIds);
    const inIds = (col: SQLiteColumn) => sql`${col} IN (SELECT value FROM json_each(${ids}))`;
    const [runRows, paramRows, tagRows, metricRows, inputRows, outputRows, modelInputRows] = await this.db.batch([
      this.db.select().from(runs).where(inIds(runs.runUuid)),
      this.db.select().from(params).where(inIds(params.runUuid)).orderBy(asc(params.key)),
      this.db.select().from(runTags).where(inIds(runTags.runUuid)).orderBy(asc(runTags.key)),
      this.db.select().from(latestMetrics).where(inIds(latestMetrics.runUuid)).orderBy(asc(latestMetrics.key)),
      // Inputs and outputs keep the order they were logged in (rowid).
      this.db
        .select({ runUuid: runInputs.runUuid, tags: runInputs.tags, dataset: mlflowDatasets })
        .from(runInputs)
        .innerJoin(mlflowDatasets, eq(mlflowDatasets.datasetUuid, runInputs.datasetUuid))
        .where(inIds(runInputs.runUuid))
        .orderBy(sql`run_inputs.rowid`),
      this.db.select().from(runOutputs).where(inIds(runOutputs.runUuid)).orderBy(sql`run_outputs.rowid`),
      this.db.select().from(runModelInputs).where(inIds(runModelInputs.runUuid)).orderBy(sql`run_model_inputs.rowid`),
    ]);
    const byId = new Map<string, Run>();
    for (const r of runRows) {
      byId.set(r.runUuid, { info: toRunInfo(r), data: { metrics: [], params: [], tags: [] }, inputs: { datasetInputs: [], modelInputs: [] }, outputs: { modelOutputs: [] } });
    }
    for (const p of paramRows) byId.get(p.runUuid)?.data.params.push({ key: p.key, value: p.value });
    for (const t of tagRows) byId.get(t.runUuid)?.data.tags.push({ key: t.key, value: t.value });
    for (const m of metricRows) byId.get(m.runUuid)?.data.metrics.push(decodeMetric(m));
    for (const i of inputRows) byId.get(i.runUuid)?.inputs.datasetInputs.push(toDatasetInput(i.tags, i.dataset));
    for (const o of outputRows) byId.get(o.runUuid)?.outputs.modelOutputs.push({ modelId: o.modelId, step: o.step });
    for (const m of modelInputRows) byId.get(m.runUuid)?.inputs.modelInputs.push({ modelId: m.modelId });
    return runIds.map((id) => byId.get(id)).filter((r): r is Run => r != null);
  }

  async updateRun(runId: string, set: { status?: RunStatus; endTime?: number | null; name?: string }): Promise<void> {
    const writes = [this.db.update(runs).set(set).where(eq(runs.runUuid, runId))];
    if (set.name !== undefined) {
      writes.push(
        this.db
          .insert(runTags)
          .values({ runUuid: runId, key: "mlflow.runName", value: set.name })
          .onConflictDoUpdate({ target: [runTags.runUuid, runTags.key], set: { value: set.name } }) as never,
      );
    }
    await this.db.batch(writes as [(typeof writes)[number], ...typeof writes]);
  }

  async setRunLifecycle(runId: string, stage: LifecycleStage, now: number): Promise<void> {
    await this.db.update(runs).set({ lifecycleStage: stage, deletedTime: stage === "deleted" ? now : null }).where(eq(runs.runUuid, runId));
  }

  async deleteTag(runId: string, key: string): Promise<boolean> {
    const res = await this.db.delete(runTags).where(and(eq(runTags.runUuid, runId), eq(runTags.key, key))).returning({ key: runTags.key });
    return res.length > 0;
  }

  async existingParams(runId: string, keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db
      .select({ key: params.key, value: params.value })
      .from(params)
      .where(and(eq(params.runUuid, runId), sql`${params.key} IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`));
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  /** One transaction: params (immutable, enforced by a trigger too), tags, metric points, latest metrics. */
  async writeBatch(b: BatchWrite): Promise<void> {
    const d1 = this.db.$client;
    const statements: D1PreparedStatement[] = [];
    if (b.claim) {
      statements.push(d1.prepare("INSERT INTO idempotency_keys (key, scope, created_at) VALUES (?1, ?2, ?3)").bind(b.claim.key, b.claim.scope, b.claim.createdAt));
    }
    if (b.params.length) {
      statements.push(
        d1
          .prepare(
            `INSERT INTO params (run_uuid, key, value)
             SELECT ?1, j.value ->> '$.key', j.value ->> '$.value' FROM json_each(?2) j WHERE true
             ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value`,
          )
          .bind(b.runId, JSON.stringify(b.params)),
      );
    }
    if (b.tags.length) {
      statements.push(
        d1
          .prepare(
            `INSERT INTO run_tags (run_uuid, key, value)
             SELECT ?1, j.value ->> '$.key', j.value ->> '$.value' FROM json_each(?2) j WHERE true
             ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value`,
          )
          .bind(b.runId, JSON.stringify(b.tags)),
      );
    }
    if (b.runName !== null) statements.push(d1.prepare("UPDATE runs SET name = ?1 WHERE run_uuid = ?2").bind(b.runName, b.runId));
    if (b.metrics.length) {
      const keys = summarizeBatch(
        b.metrics.map((m) => {
          const enc = encodeMetricValue(m.value);
          return { key: m.key, step: m.step, timestamp: m.timestamp, value: enc.value, isNan: enc.isNan };
        }),
        ROLLUP_WIDTHS,
      );
      const points = batchPointsJson(keys);
      const latest = JSON.stringify(keys.map(({ latest: l }) => [l.key, l.step, l.timestamp, l.value, l.isNan]));
      statements.push(
        // Rollups first: they leave out points that are already stored, which the insert below ignores.
        ...rollupStatements(d1, b.runId, keys, points),
        d1
          .prepare(
            `INSERT OR IGNORE INTO metrics (run_uuid, key, step, timestamp, value, is_nan)
             SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 FROM json_each(?2) j`,
          )
          .bind(b.runId, points),
        d1
          .prepare(
            `INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan)
             SELECT ?1, l.value ->> 0, l.value ->> 1, l.value ->> 2, l.value ->> 3, l.value ->> 4 FROM json_each(?2) l WHERE true
             ON CONFLICT (run_uuid, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan
             WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)`,
          )
          .bind(b.runId, latest),
      );
      const modelPoints = b.metrics.filter((m) => m.modelId);
      if (modelPoints.length) statements.push(loggedModelMetricStatement(d1, b.runId, modelPoints));
    }
    if (statements.length) await d1.batch(statements);
  }

  async metricHistory(runId: string, key: string, offset: number, limit: number): Promise<MetricPoint[]> {
    const rows = await this.db
      .select()
      .from(metrics)
      .where(and(eq(metrics.runUuid, runId), eq(metrics.key, key)))
      .orderBy(asc(metrics.step), asc(metrics.timestamp), asc(metrics.value))
      .limit(limit)
      .offset(offset);
    return rows.map(decodeMetric);
  }

  async searchRunIds(q: { experimentIds: number[]; filter: Comparison[]; orderBy: OrderBy[]; view: ViewType; offset: number; limit: number }): Promise<string[]> {
    const where = [
      sql`r.experiment_id IN (SELECT value FROM json_each(${JSON.stringify(q.experimentIds)}))`,
      lifecycleFilter(sql.raw("r.lifecycle_stage"), q.view),
      ...q.filter.map(runComparison),
    ];
    const order = [...q.orderBy.map((o) => orderClause(runOrderExpression(o), o.ascending)), sql`r.start_time DESC`, sql`r.run_uuid ASC`];
    const rows = await this.db.all<{ run_uuid: string }>(
      sql`SELECT r.run_uuid FROM runs r WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${q.limit} OFFSET ${q.offset}`,
    );
    return rows.map((r) => r.run_uuid);
  }

  // --- inputs --------------------------------------------------------------------------------

  /**
   * One transaction: datasets new to the experiment are created (an existing (name, digest) keeps its
   * row), then the run's inputs are linked; an input the run already has keeps its first tags.
   */
  async logInputs(experimentId: number, runId: string, inputs: DatasetInput[], modelIds: string[] = []): Promise<void> {
    const d1 = this.db.$client;
    const modelInputs = d1
      .prepare(`INSERT INTO run_model_inputs (run_uuid, model_id) SELECT ?1, j.value FROM json_each(?2) j WHERE true ON CONFLICT (run_uuid, model_id) DO NOTHING`)
      .bind(runId, JSON.stringify(modelIds));
    if (inputs.length === 0) {
      if (modelIds.length) await modelInputs.run();
      return;
    }
    const rows = JSON.stringify(
      inputs.map((i) => ({
        uuid: crypto.randomUUID().replaceAll("-", ""),
        name: i.dataset.name,
        digest: i.dataset.digest,
        sourceType: i.dataset.sourceType,
        source: i.dataset.source,
        schema: i.dataset.schema,
        profile: i.dataset.profile,
        tags: i.tags,
      })),
    );
    await d1.batch([
      d1
        .prepare(
          `INSERT INTO mlflow_datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile)
           SELECT j.value ->> '$.uuid', ?1, j.value ->> '$.name', j.value ->> '$.digest', j.value ->> '$.sourceType',
                  j.value ->> '$.source', j.value ->> '$.schema', j.value ->> '$.profile'
           FROM json_each(?2) j WHERE true
           ON CONFLICT (experiment_id, name, digest) DO NOTHING`,
        )
        .bind(experimentId, rows),
      d1
        .prepare(
          `INSERT INTO run_inputs (run_uuid, dataset_uuid, tags)
           SELECT ?1, d.dataset_uuid, j.value ->> '$.tags'
           FROM json_each(?3) j JOIN mlflow_datasets d
             ON d.experiment_id = ?2 AND d.name = j.value ->> '$.name' AND d.digest = j.value ->> '$.digest'
           WHERE true
           ON CONFLICT (run_uuid, dataset_uuid) DO NOTHING`,
        )
        .bind(runId, experimentId, rows),
      ...(modelIds.length ? [modelInputs] : []),
    ]);
  }

  /** Distinct (experiment, name, digest, context) of the datasets runs used, most recent datasets first. */
  async searchDatasets(experimentIds: number[], limit: number): Promise<DatasetSummary[]> {
    if (experimentIds.length === 0) return [];
    const rows = await this.db.all<{ experiment_id: number; name: string; digest: string; context: string | null }>(
      sql`SELECT d.experiment_id, d.name, d.digest,
                 (SELECT t.value ->> '$.value' FROM json_each(ri.tags) t WHERE t.value ->> '$.key' = ${TAG_DATASET_CONTEXT}) AS context
          FROM mlflow_datasets d JOIN run_inputs ri ON ri.dataset_uuid = d.dataset_uuid
          WHERE d.experiment_id IN (SELECT value FROM json_each(${JSON.stringify(experimentIds)}))
          GROUP BY d.experiment_id, d.name, d.digest, context
          ORDER BY max(d.rowid) DESC, context ASC
          LIMIT ${limit}`,
    );
    return rows.map((r) => ({ experimentId: String(r.experiment_id), name: r.name, digest: r.digest, context: r.context ?? null }));
  }

  async experimentIdsExisting(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.select({ id: experiments.experimentId }).from(experiments).where(inArray(experiments.experimentId, ids.slice(0, 90)));
    return rows.map((r) => r.id);
  }
}
