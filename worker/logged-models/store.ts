/**
 * D1 access for MLflow 3 logged models: the model rows with their tags and params, search over them,
 * and the run outputs that point at them. Multi-row writes bind one JSON document and expand it with
 * json_each; a create is one batch, so a model never exists without its tags and params.
 */
import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { loggedModelMetrics, loggedModelParams, loggedModels, loggedModelTags } from "../db/schema";
import type { KeyValue, LifecycleStage } from "../tracking/model";
import { stringPredicate } from "../db/predicates";
import type { LoggedModel, LoggedModelComparison, LoggedModelMetric, LoggedModelOrderBy, LoggedModelStatus, ModelOutputInput } from "./model";

const toMetric = (r: typeof loggedModelMetrics.$inferSelect): LoggedModelMetric => ({
  key: r.key,
  value: r.isNan ? NaN : r.value,
  timestamp: r.timestamp,
  step: r.step,
  runId: r.runUuid,
  datasetName: r.datasetName || null,
  datasetDigest: r.datasetDigest || null,
});

/** The datasets a search restricts metric filters and orderings to (none: every dataset and none). */
type DatasetScope = { dataset_name?: string; dataset_digest?: string }[];

function datasetPredicate(datasets: DatasetScope): SQL {
  if (datasets.length === 0) return sql`1`;
  return sql`EXISTS (SELECT 1 FROM json_each(${JSON.stringify(datasets)}) d
                     WHERE lm.dataset_name = d.value ->> '$.dataset_name'
                       AND (coalesce(d.value ->> '$.dataset_digest', '') = '' OR lm.dataset_digest = d.value ->> '$.dataset_digest'))`;
}

type LoggedModelRow = typeof loggedModels.$inferSelect;

const ATTRIBUTE_COLUMNS: Record<string, SQL> = {
  name: sql.raw("m.name"),
  model_id: sql.raw("m.model_id"),
  model_type: sql.raw("m.model_type"),
  status: sql.raw("m.status"),
  source_run_id: sql.raw("m.source_run_id"),
  creation_timestamp: sql.raw("m.creation_timestamp_ms"),
  last_updated_timestamp: sql.raw("m.last_updated_timestamp_ms"),
};

const KV_TABLES = { param: "logged_model_params", tag: "logged_model_tags" } as const;

function comparison(c: LoggedModelComparison, datasets: DatasetScope): SQL {
  if (c.entity === "metric") {
    return sql`EXISTS (SELECT 1 FROM logged_model_metrics lm WHERE lm.model_id = m.model_id AND lm.key = ${c.key} AND lm.is_nan = 0
                       AND ${datasetPredicate(datasets)} AND ${stringPredicate(sql.raw("lm.value"), c)})`;
  }
  if (c.entity === "param" || c.entity === "tag") {
    return sql`EXISTS (SELECT 1 FROM ${sql.raw(KV_TABLES[c.entity])} kv WHERE kv.model_id = m.model_id AND kv.key = ${c.key} AND ${stringPredicate(sql.raw("kv.value"), c)})`;
  }
  const column = ATTRIBUTE_COLUMNS[c.key];
  if (!column) throw new Error(`no column for logged model attribute ${c.key}`);
  return stringPredicate(column, c);
}

function toLoggedModel(row: LoggedModelRow, tags: KeyValue[], params: KeyValue[], metrics: LoggedModelMetric[]): LoggedModel {
  return {
    modelId: row.modelId,
    experimentId: String(row.experimentId),
    name: row.name,
    artifactLocation: row.artifactLocation,
    creationTimestampMs: row.creationTimestampMs,
    lastUpdatedTimestampMs: row.lastUpdatedTimestampMs,
    status: row.status as LoggedModelStatus,
    statusMessage: row.statusMessage,
    lifecycleStage: row.lifecycleStage,
    modelType: row.modelType,
    sourceRunId: row.sourceRunId,
    tags,
    params,
    metrics,
  };
}

export interface LoggedModelSearch {
  experimentIds: number[];
  filter: LoggedModelComparison[];
  /** Metric filters then only count metrics of these datasets, and a model needs a metric of one of them. */
  datasets: DatasetScope;
  orderBy: LoggedModelOrderBy[];
  offset: number;
  limit: number;
}

export class LoggedModelStore {
  constructor(private readonly db: Db) {}

  async insert(model: LoggedModel): Promise<void> {
    const d1 = this.db.$client;
    const statements = [
      d1
        .prepare(
          `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms,
                                      status, status_message, lifecycle_stage, model_type, source_run_id)
           VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, NULL, 'active', ?7, ?8)`,
        )
        .bind(model.modelId, Number(model.experimentId), model.name, model.artifactLocation, model.creationTimestampMs, model.status, model.modelType, model.sourceRunId),
    ];
    if (model.tags.length) statements.push(this.upsertKvs("logged_model_tags", model.modelId, model.tags));
    if (model.params.length) statements.push(this.upsertKvs("logged_model_params", model.modelId, model.params));
    await d1.batch(statements);
  }

  private upsertKvs(table: "logged_model_tags" | "logged_model_params", modelId: string, kvs: KeyValue[]): D1PreparedStatement {
    return this.db.$client
      .prepare(
        `INSERT INTO ${table} (model_id, key, value)
         SELECT ?1, j.value ->> '$.key', j.value ->> '$.value' FROM json_each(?2) j WHERE true
         ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value`,
      )
      .bind(modelId, JSON.stringify(kvs));
  }

  /** The models with these ids, in that order; deleted ones only when asked for. */
  async getMany(modelIds: string[], includeDeleted = false): Promise<LoggedModel[]> {
    if (modelIds.length === 0) return [];
    const ids = JSON.stringify(modelIds);
    const [rows, tagRows, paramRows, metricRows] = await this.db.batch([
      this.db
        .select()
        .from(loggedModels)
        .where(
          and(
            sql`${loggedModels.modelId} IN (SELECT value FROM json_each(${ids}))`,
            includeDeleted ? undefined : eq(loggedModels.lifecycleStage, "active"),
          ),
        ),
      this.db.select().from(loggedModelTags).where(sql`${loggedModelTags.modelId} IN (SELECT value FROM json_each(${ids}))`).orderBy(asc(loggedModelTags.key)),
      this.db.select().from(loggedModelParams).where(sql`${loggedModelParams.modelId} IN (SELECT value FROM json_each(${ids}))`).orderBy(asc(loggedModelParams.key)),
      this.db
        .select()
        .from(loggedModelMetrics)
        .where(sql`${loggedModelMetrics.modelId} IN (SELECT value FROM json_each(${ids}))`)
        .orderBy(asc(loggedModelMetrics.key), asc(loggedModelMetrics.datasetName), asc(loggedModelMetrics.datasetDigest)),
    ]);
    const group = (kvs: { modelId: string; key: string; value: string }[]) => {
      const out = new Map<string, KeyValue[]>();
      for (const kv of kvs) {
        if (!out.has(kv.modelId)) out.set(kv.modelId, []);
        out.get(kv.modelId)!.push({ key: kv.key, value: kv.value });
      }
      return out;
    };
    const tags = group(tagRows);
    const params = group(paramRows);
    const metrics = new Map<string, LoggedModelMetric[]>();
    for (const r of metricRows) {
      if (!metrics.has(r.modelId)) metrics.set(r.modelId, []);
      metrics.get(r.modelId)!.push(toMetric(r));
    }
    const byId = new Map(rows.map((r) => [r.modelId, toLoggedModel(r, tags.get(r.modelId) ?? [], params.get(r.modelId) ?? [], metrics.get(r.modelId) ?? [])]));
    return modelIds.map((id) => byId.get(id)).filter((m): m is LoggedModel => m != null);
  }

  async get(modelId: string): Promise<LoggedModel | null> {
    const [model] = await this.getMany([modelId]);
    return model ?? null;
  }

  async lifecycleOf(modelId: string): Promise<LifecycleStage | null> {
    const row = await this.db.select({ stage: loggedModels.lifecycleStage }).from(loggedModels).where(eq(loggedModels.modelId, modelId)).get();
    return row?.stage ?? null;
  }

  async setStatus(modelId: string, status: LoggedModelStatus, now: number): Promise<void> {
    await this.db.update(loggedModels).set({ status, lastUpdatedTimestampMs: now }).where(eq(loggedModels.modelId, modelId));
  }

  async markDeleted(modelId: string, now: number): Promise<void> {
    await this.db.update(loggedModels).set({ lifecycleStage: "deleted", lastUpdatedTimestampMs: now }).where(eq(loggedModels.modelId, modelId));
  }

  async setTags(modelId: string, tags: KeyValue[]): Promise<void> {
    if (tags.length) await this.upsertKvs("logged_model_tags", modelId, tags).run();
  }

  async deleteTag(modelId: string, key: string): Promise<boolean> {
    const res = await this.db
      .delete(loggedModelTags)
      .where(and(eq(loggedModelTags.modelId, modelId), eq(loggedModelTags.key, key)))
      .returning({ key: loggedModelTags.key });
    return res.length > 0;
  }

  async existingParams(modelId: string, keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db
      .select({ key: loggedModelParams.key, value: loggedModelParams.value })
      .from(loggedModelParams)
      .where(and(eq(loggedModelParams.modelId, modelId), sql`${loggedModelParams.key} IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`));
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  /** Params are immutable: a key already logged keeps its value (the service refuses a different one). */
  async addParams(modelId: string, params: KeyValue[]): Promise<void> {
    if (params.length === 0) return;
    await this.db.$client
      .prepare(
        `INSERT INTO logged_model_params (model_id, key, value)
         SELECT ?1, j.value ->> '$.key', j.value ->> '$.value' FROM json_each(?2) j WHERE true
         ON CONFLICT (model_id, key) DO NOTHING`,
      )
      .bind(modelId, JSON.stringify(params))
      .run();
  }

  /** Ids of the active models among these. */
  async activeIds(modelIds: string[]): Promise<Set<string>> {
    if (modelIds.length === 0) return new Set();
    const rows = await this.db
      .select({ id: loggedModels.modelId })
      .from(loggedModels)
      .where(and(sql`${loggedModels.modelId} IN (SELECT value FROM json_each(${JSON.stringify(modelIds)}))`, eq(loggedModels.lifecycleStage, "active")));
    return new Set(rows.map((r) => r.id));
  }

  /** A model logged again as the run's output keeps one row, at the latest step given. */
  async logOutputs(runId: string, outputs: ModelOutputInput[]): Promise<void> {
    if (outputs.length === 0) return;
    await this.db.$client
      .prepare(
        `INSERT INTO run_outputs (run_uuid, model_id, step)
         SELECT ?1, j.value ->> '$.modelId', j.value ->> '$.step' FROM json_each(?2) j WHERE true
         ON CONFLICT (run_uuid, model_id) DO UPDATE SET step = excluded.step`,
      )
      .bind(runId, JSON.stringify(outputs))
      .run();
  }

  async searchIds(q: LoggedModelSearch): Promise<string[]> {
    if (q.experimentIds.length === 0) return [];
    const where = [
      sql`m.lifecycle_stage = 'active'`,
      sql`m.experiment_id IN (SELECT value FROM json_each(${JSON.stringify(q.experimentIds)}))`,
      ...q.filter.map((c) => comparison(c, q.datasets)),
    ];
    if (q.datasets.length) where.push(sql`EXISTS (SELECT 1 FROM logged_model_metrics lm WHERE lm.model_id = m.model_id AND ${datasetPredicate(q.datasets)})`);
    // A metric ordering reads the model's value of that metric (for the dataset the clause names, if any); models without it sort last.
    const order = q.orderBy.map((o) => {
      const column = o.metric
        ? sql`(SELECT max(lm.value) FROM logged_model_metrics lm WHERE lm.model_id = m.model_id AND lm.key = ${o.key} AND lm.is_nan = 0
                 AND ${datasetPredicate(o.datasetName ? [{ dataset_name: o.datasetName, dataset_digest: o.datasetDigest ?? undefined }] : [])})`
        : ATTRIBUTE_COLUMNS[o.key];
      return o.ascending ? sql`${column} IS NULL, ${column} ASC` : sql`${column} IS NULL, ${column} DESC`;
    });
    if (!q.orderBy.some((o) => !o.metric && o.key === "creation_timestamp")) order.push(sql`m.creation_timestamp_ms DESC`);
    order.push(sql`m.model_id ASC`);
    const rows = await this.db.all<{ model_id: string }>(
      sql`SELECT m.model_id FROM logged_models m WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${q.limit} OFFSET ${q.offset}`,
    );
    return rows.map((r) => r.model_id);
  }
}
