/**
 * D1 access for MLflow tracing: trace infos with tags and metadata, spans, search and deletion.
 * Every multi-statement write is one batch (so a trace is never half written) and binds its rows as
 * JSON documents expanded with json_each, chunked under D1's size limit for one bound value.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { stringPredicate } from "../db/predicates";
import type { Attributes } from "../lib/otlp";
import { MLFLOW_KEYS, SPANS_IN_TRACKING_STORE, assessmentValueJson, type Assessment, type AssessmentKind, type Span, type SpanEvent, type TraceComparison, type TraceInfo, type TraceOrderBy, type TraceState } from "./model";

/** Below D1's 2 MB limit for one bound value, with room for JSON escaping. */
const CHUNK_CHARS = 900_000;

interface TraceRow {
  trace_id: string;
  experiment_id: number;
  request_time: number;
  execution_duration: number | null;
  state: TraceState;
  request_preview: string | null;
  response_preview: string | null;
  client_request_id: string | null;
  trace_metadata: string;
}

interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  otel_trace_id: string;
  name: string;
  kind: number;
  start_time_ns: string;
  end_time_ns: string | null;
  status_code: number;
  status_message: string;
  span_type: string | null;
  attributes: string;
  events: string;
}

interface AssessmentRow {
  assessment_id: string;
  trace_id: string;
  name: string;
  kind: AssessmentKind;
  span_id: string | null;
  source_type: string | null;
  source_id: string | null;
  body: string;
  rationale: string | null;
  metadata: string;
  overrides: string | null;
  valid: number;
  create_time: number;
  last_update_time: number;
}

const toAssessment = (r: AssessmentRow): Assessment => ({
  assessmentId: r.assessment_id,
  traceId: r.trace_id,
  name: r.name,
  kind: r.kind,
  spanId: r.span_id,
  source: r.source_type == null ? null : { sourceType: r.source_type, sourceId: r.source_id ?? "" },
  body: JSON.parse(r.body) as Record<string, unknown>,
  rationale: r.rationale,
  metadata: JSON.parse(r.metadata) as Record<string, string>,
  overrides: r.overrides,
  valid: r.valid === 1,
  createTime: r.create_time,
  lastUpdateTime: r.last_update_time,
});

/** What ingest writes for one trace: its spans, plus the facts the root span (if present) gives. */
export interface TraceIngest {
  traceId: string;
  experimentId: number;
  /** The earliest span start, for a trace row created by these spans. */
  requestTime: number;
  spans: Span[];
  root: {
    state: TraceState;
    executionDuration: number | null;
    requestPreview: string | null;
    responsePreview: string | null;
    name: string;
  } | null;
}

export interface TraceSearch {
  experimentIds: number[];
  filter: TraceComparison[];
  orderBy: TraceOrderBy[];
  offset: number;
  limit: number;
}

export type TraceDeletion = { experimentId: number; traceIds: string[] } | { experimentId: number; maxTimestampMillis: number; maxTraces: number | null };

const TRACE_NAME = sql`(SELECT tn.value FROM trace_tags tn WHERE tn.trace_id = t.trace_id AND tn.key = ${MLFLOW_KEYS.traceName})`;
const ATTRIBUTE_COLUMNS: Record<string, SQL> = {
  timestamp_ms: sql.raw("t.request_time"),
  execution_time_ms: sql.raw("t.execution_duration"),
  status: sql.raw("t.state"),
  name: TRACE_NAME,
  trace_id: sql.raw("t.trace_id"),
  run_id: sql`json_extract(t.trace_metadata, ${"$." + JSON.stringify(MLFLOW_KEYS.sourceRun)})`,
  client_request_id: sql.raw("t.client_request_id"),
};

/** A JSON string compares as its text, any other JSON value as its JSON text (true, 0.9, {"a": 1}). */
const jsonScalar = (column: SQL) => sql`(CASE WHEN json_valid(${column}) AND json_type(${column}) = 'text' THEN json_extract(${column}, '$') ELSE ${column} END)`;

const SPAN_COLUMNS: Record<string, SQL> = {
  name: sql.raw("s.name"),
  type: sql.raw("s.span_type"),
  status: sql.raw("(CASE s.status_code WHEN 1 THEN 'OK' WHEN 2 THEN 'ERROR' ELSE 'UNSET' END)"),
  content: sql.raw("(s.name || char(10) || s.attributes || char(10) || s.events)"),
};

function spanComparison(c: TraceComparison): SQL {
  const column = c.key.startsWith("attributes.")
    ? jsonScalar(sql`json_extract(s.attributes, '$.' || json_quote(${c.key.slice("attributes.".length)}))`)
    : SPAN_COLUMNS[c.key];
  return sql`EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND ${stringPredicate(column, c)})`;
}

/** run_id matches the run a trace was logged in (mlflow.sourceRun) or any run it was linked to. */
function runIdComparison(c: TraceComparison): SQL {
  const negated = c.comparator === "!=" || c.comparator === "NOT IN";
  const positive = { ...c, comparator: c.comparator === "!=" ? "=" : c.comparator === "NOT IN" ? "IN" : c.comparator } as TraceComparison;
  // coalesce: a trace without mlflow.sourceRun must count as "not this run", not as unknown.
  const matches = sql`(coalesce(${stringPredicate(ATTRIBUTE_COLUMNS.run_id, positive)}, 0)
    OR EXISTS (SELECT 1 FROM trace_run_links l WHERE l.trace_id = t.trace_id AND ${stringPredicate(sql.raw("l.run_uuid"), positive)}))`;
  return negated ? sql`NOT ${matches}` : matches;
}

function comparison(c: TraceComparison): SQL {
  if (c.entity === "attribute" && c.key === "run_id") return runIdComparison(c);
  if (c.entity === "span") return spanComparison(c);
  if (c.entity === "feedback" || c.entity === "expectation") {
    return sql`EXISTS (SELECT 1 FROM trace_assessments a WHERE a.trace_id = t.trace_id AND a.kind = ${c.entity} AND a.name = ${c.key}
                       AND a.valid = 1 AND ${stringPredicate(jsonScalar(sql.raw("a.value_json")), c)})`;
  }
  if (c.entity === "tag") {
    return sql`EXISTS (SELECT 1 FROM trace_tags tt WHERE tt.trace_id = t.trace_id AND tt.key = ${c.key} AND ${stringPredicate(sql.raw("tt.value"), c)})`;
  }
  if (c.entity === "metadata") return stringPredicate(sql`json_extract(t.trace_metadata, '$.' || json_quote(${c.key}))`, c);
  return stringPredicate(ATTRIBUTE_COLUMNS[c.key], c);
}

function toInfo(row: TraceRow, tags: Record<string, string>): TraceInfo {
  let metadata: Record<string, string> = {};
  try {
    metadata = JSON.parse(row.trace_metadata) as Record<string, string>;
  } catch {
    metadata = {};
  }
  return {
    traceId: row.trace_id,
    experimentId: String(row.experiment_id),
    requestTime: row.request_time,
    executionDuration: row.execution_duration,
    state: row.state,
    requestPreview: row.request_preview,
    responsePreview: row.response_preview,
    clientRequestId: row.client_request_id,
    metadata,
    tags,
  };
}

function toSpan(row: SpanRow): Span {
  return {
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id,
    otelTraceId: row.otel_trace_id,
    name: row.name,
    kind: row.kind,
    startTimeNs: row.start_time_ns,
    endTimeNs: row.end_time_ns,
    statusCode: row.status_code,
    statusMessage: row.status_message,
    spanType: row.span_type,
    attributes: JSON.parse(row.attributes) as Attributes,
    events: JSON.parse(row.events) as SpanEvent[],
  };
}

const spanOrder = (a: Span, b: Span): number => {
  const d = BigInt(a.startTimeNs) - BigInt(b.startTimeNs);
  return d < 0n ? -1 : d > 0n ? 1 : a.spanId.localeCompare(b.spanId);
};

/** Rows as JSON documents of at most CHUNK_CHARS characters each. */
function chunks(rows: unknown[]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (current.length && size + text.length > CHUNK_CHARS) {
      out.push(`[${current.join(",")}]`);
      current = [];
      size = 0;
    }
    current.push(text);
    size += text.length + 1;
  }
  if (current.length) out.push(`[${current.join(",")}]`);
  return out;
}

export class TraceStore {
  constructor(private readonly db: Db) {}

  private get d1(): D1Database {
    return this.db.$client;
  }

  /** The traces with these ids, in that order, each with its tags and assessments. */
  async getInfos(traceIds: string[]): Promise<TraceInfo[]> {
    if (traceIds.length === 0) return [];
    const ids = JSON.stringify(traceIds);
    const [rows, tagRows, assessmentRows] = await this.d1.batch<TraceRow | { trace_id: string; key: string; value: string } | AssessmentRow>([
      this.d1.prepare(`SELECT * FROM traces WHERE trace_id IN (SELECT value FROM json_each(?1))`).bind(ids),
      this.d1.prepare(`SELECT trace_id, key, value FROM trace_tags WHERE trace_id IN (SELECT value FROM json_each(?1)) ORDER BY key`).bind(ids),
      this.d1
        .prepare(`SELECT * FROM trace_assessments WHERE trace_id IN (SELECT value FROM json_each(?1)) ORDER BY create_time, assessment_id`)
        .bind(ids),
    ]);
    const tags = new Map<string, Record<string, string>>();
    for (const t of tagRows.results as { trace_id: string; key: string; value: string }[]) {
      if (!tags.has(t.trace_id)) tags.set(t.trace_id, {});
      tags.get(t.trace_id)![t.key] = t.value;
    }
    const assessments = new Map<string, Assessment[]>();
    for (const r of assessmentRows.results as AssessmentRow[]) {
      if (!assessments.has(r.trace_id)) assessments.set(r.trace_id, []);
      assessments.get(r.trace_id)!.push(toAssessment(r));
    }
    const byId = new Map<string, TraceInfo>(
      (rows.results as TraceRow[]).map((r) => [r.trace_id, { ...toInfo(r, tags.get(r.trace_id) ?? {}), assessments: assessments.get(r.trace_id) ?? [] }]),
    );
    return traceIds.map((id) => byId.get(id)).filter((i): i is TraceInfo => i != null);
  }

  async getAssessment(traceId: string, assessmentId: string): Promise<Assessment | null> {
    const row = await this.d1
      .prepare(`SELECT * FROM trace_assessments WHERE trace_id = ?1 AND assessment_id = ?2`)
      .bind(traceId, assessmentId)
      .first<AssessmentRow>();
    return row ? toAssessment(row) : null;
  }

  /** Inserts an assessment; the one it overrides (checked to exist by the caller) stops being valid in the same batch. */
  async createAssessment(a: Assessment): Promise<void> {
    const statements = [
      this.d1
        .prepare(
          `INSERT INTO trace_assessments (assessment_id, trace_id, name, kind, span_id, source_type, source_id, body, value_json,
                                          rationale, metadata, overrides, valid, create_time, last_update_time)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)`,
        )
        .bind(
          a.assessmentId,
          a.traceId,
          a.name,
          a.kind,
          a.spanId,
          a.source?.sourceType ?? null,
          a.source?.sourceId ?? null,
          JSON.stringify(a.body),
          assessmentValueJson(a.body),
          a.rationale,
          JSON.stringify(a.metadata),
          a.overrides,
          a.valid ? 1 : 0,
          a.createTime,
          a.lastUpdateTime,
        ),
    ];
    if (a.overrides) {
      statements.unshift(this.d1.prepare(`UPDATE trace_assessments SET valid = 0 WHERE trace_id = ?1 AND assessment_id = ?2`).bind(a.traceId, a.overrides));
    }
    await this.d1.batch(statements);
  }

  /** Writes the mutable fields of an assessment (name, value, rationale, metadata, update time). */
  async updateAssessment(a: Assessment): Promise<void> {
    await this.d1
      .prepare(
        `UPDATE trace_assessments SET name = ?3, body = ?4, value_json = ?5, rationale = ?6, metadata = ?7, last_update_time = ?8
         WHERE trace_id = ?1 AND assessment_id = ?2`,
      )
      .bind(a.traceId, a.assessmentId, a.name, JSON.stringify(a.body), assessmentValueJson(a.body), a.rationale, JSON.stringify(a.metadata), a.lastUpdateTime)
      .run();
  }

  /** Deletes an assessment; the one it had overridden becomes valid again, in the same batch. */
  async deleteAssessment(a: Assessment): Promise<void> {
    const statements = [this.d1.prepare(`DELETE FROM trace_assessments WHERE trace_id = ?1 AND assessment_id = ?2`).bind(a.traceId, a.assessmentId)];
    if (a.overrides) {
      statements.push(this.d1.prepare(`UPDATE trace_assessments SET valid = 1 WHERE trace_id = ?1 AND assessment_id = ?2`).bind(a.traceId, a.overrides));
    }
    await this.d1.batch(statements);
  }

  async getInfo(traceId: string): Promise<TraceInfo | null> {
    const [info] = await this.getInfos([traceId]);
    return info ?? null;
  }

  /** Spans per trace, ordered by start time. */
  async getSpans(traceIds: string[]): Promise<Map<string, Span[]>> {
    const out = new Map<string, Span[]>();
    if (traceIds.length === 0) return out;
    const { results } = await this.d1
      .prepare(`SELECT * FROM spans WHERE trace_id IN (SELECT value FROM json_each(?1))`)
      .bind(JSON.stringify(traceIds))
      .all<SpanRow>();
    for (const row of results) {
      if (!out.has(row.trace_id)) out.set(row.trace_id, []);
      out.get(row.trace_id)!.push(toSpan(row));
    }
    for (const list of out.values()) list.sort(spanOrder);
    return out;
  }

  async hasSpans(traceId: string): Promise<boolean> {
    return (await this.d1.prepare(`SELECT 1 AS one FROM spans WHERE trace_id = ?1 LIMIT 1`).bind(traceId).first()) != null;
  }

  /**
   * Creates or completes a trace from its info (start trace): the info's fields win, metadata and
   * tags merge into what spans or earlier calls already stored.
   */
  async upsertInfo(info: TraceInfo, now: number): Promise<void> {
    const statements = [
      this.d1
        .prepare(
          `INSERT INTO traces (trace_id, experiment_id, request_time, execution_duration, state, request_preview, response_preview,
                               client_request_id, trace_metadata, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
           ON CONFLICT (trace_id) DO UPDATE SET
             request_time = excluded.request_time,
             execution_duration = coalesce(excluded.execution_duration, traces.execution_duration),
             state = excluded.state,
             request_preview = coalesce(excluded.request_preview, traces.request_preview),
             response_preview = coalesce(excluded.response_preview, traces.response_preview),
             client_request_id = coalesce(excluded.client_request_id, traces.client_request_id),
             trace_metadata = json_patch(traces.trace_metadata, excluded.trace_metadata),
             updated_at = excluded.updated_at`,
        )
        .bind(
          info.traceId,
          Number(info.experimentId),
          info.requestTime,
          info.executionDuration,
          info.state,
          info.requestPreview,
          info.responsePreview,
          info.clientRequestId,
          JSON.stringify(info.metadata),
          now,
        ),
    ];
    if (Object.keys(info.tags).length) statements.push(this.upsertTags(info.traceId, info.tags));
    await this.d1.batch(statements);
  }

  private upsertTags(traceId: string, tags: Record<string, string>): D1PreparedStatement {
    return this.d1
      .prepare(
        `INSERT INTO trace_tags (trace_id, key, value)
         SELECT ?1, j.key, j.value FROM json_each(?2) j WHERE true
         ON CONFLICT (trace_id, key) DO UPDATE SET value = excluded.value`,
      )
      .bind(traceId, JSON.stringify(tags));
  }

  /** Ends a trace started with the 2.0 API: state, duration from its start, merged metadata and tags. */
  async end(traceId: string, state: TraceState, endTimeMs: number, metadata: Record<string, string>, tags: Record<string, string>, now: number): Promise<void> {
    const statements = [
      this.d1
        .prepare(
          `UPDATE traces SET state = ?2, execution_duration = ?3 - request_time, trace_metadata = json_patch(trace_metadata, ?4), updated_at = ?5
           WHERE trace_id = ?1`,
        )
        .bind(traceId, state, endTimeMs, JSON.stringify(metadata), now),
    ];
    if (Object.keys(tags).length) statements.push(this.upsertTags(traceId, tags));
    await this.d1.batch(statements);
  }

  /**
   * Writes ingested spans. Re-sending a span replaces it (idempotent per trace and span id); a trace
   * the spans arrive before is created in progress; a root span settles state, duration, previews.
   */
  async ingest(traces: TraceIngest[], now: number): Promise<void> {
    const statements: D1PreparedStatement[] = [];
    for (const t of traces) {
      statements.push(
        this.d1
          .prepare(
            `INSERT INTO traces (trace_id, experiment_id, request_time, execution_duration, state, trace_metadata, created_at, updated_at)
             VALUES (?1, ?2, ?3, NULL, 'IN_PROGRESS', '{}', ?4, ?4)
             ON CONFLICT (trace_id) DO UPDATE SET updated_at = excluded.updated_at`,
          )
          .bind(t.traceId, t.experimentId, t.requestTime, now),
      );
      const rows = t.spans.map((s) => ({ ...s, attributes: JSON.stringify(s.attributes), events: JSON.stringify(s.events) }));
      for (const chunk of chunks(rows)) {
        statements.push(
          this.d1
            .prepare(
              `INSERT INTO spans (trace_id, span_id, parent_span_id, otel_trace_id, name, kind, start_time_ns, end_time_ns,
                                  status_code, status_message, span_type, attributes, events)
               SELECT j.value ->> '$.traceId', j.value ->> '$.spanId', j.value ->> '$.parentSpanId', j.value ->> '$.otelTraceId',
                      j.value ->> '$.name', j.value ->> '$.kind', j.value ->> '$.startTimeNs', j.value ->> '$.endTimeNs',
                      j.value ->> '$.statusCode', j.value ->> '$.statusMessage', j.value ->> '$.spanType',
                      j.value ->> '$.attributes', j.value ->> '$.events'
               FROM json_each(?1) j WHERE true
               ON CONFLICT (trace_id, span_id) DO UPDATE SET
                 parent_span_id = excluded.parent_span_id, otel_trace_id = excluded.otel_trace_id, name = excluded.name,
                 kind = excluded.kind, start_time_ns = excluded.start_time_ns, end_time_ns = excluded.end_time_ns,
                 status_code = excluded.status_code, status_message = excluded.status_message, span_type = excluded.span_type,
                 attributes = excluded.attributes, events = excluded.events`,
            )
            .bind(chunk),
        );
      }
      statements.push(this.upsertTags(t.traceId, { [MLFLOW_KEYS.spansLocation]: SPANS_IN_TRACKING_STORE }));
      if (t.root) {
        statements.push(
          this.d1
            .prepare(
              `UPDATE traces SET state = ?2, execution_duration = ?3, request_preview = coalesce(request_preview, ?4),
                                 response_preview = coalesce(response_preview, ?5), updated_at = ?6
               WHERE trace_id = ?1`,
            )
            .bind(t.traceId, t.root.state, t.root.executionDuration, t.root.requestPreview, t.root.responsePreview, now),
          this.d1
            .prepare(`INSERT INTO trace_tags (trace_id, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (trace_id, key) DO NOTHING`)
            .bind(t.traceId, MLFLOW_KEYS.traceName, t.root.name),
        );
      }
    }
    await this.d1.batch(statements);
  }

  /** Links the traces among these ids that exist to a run; linking twice is a no-op. */
  async linkToRun(traceIds: string[], runId: string): Promise<void> {
    await this.d1
      .prepare(
        `INSERT INTO trace_run_links (trace_id, run_uuid)
         SELECT t.trace_id, ?2 FROM traces t WHERE t.trace_id IN (SELECT value FROM json_each(?1))
         ON CONFLICT (trace_id, run_uuid) DO NOTHING`,
      )
      .bind(JSON.stringify(traceIds), runId)
      .run();
  }

  async setTag(traceId: string, key: string, value: string): Promise<void> {
    await this.upsertTags(traceId, { [key]: value }).run();
  }

  async deleteTag(traceId: string, key: string): Promise<boolean> {
    const res = await this.d1.prepare(`DELETE FROM trace_tags WHERE trace_id = ?1 AND key = ?2`).bind(traceId, key).run();
    return res.meta.changes > 0;
  }

  async searchIds(q: TraceSearch): Promise<string[]> {
    if (q.experimentIds.length === 0) return [];
    const where = [sql`t.experiment_id IN (SELECT value FROM json_each(${JSON.stringify(q.experimentIds)}))`, ...q.filter.map(comparison)];
    const order = q.orderBy.map((o) => {
      const column = ATTRIBUTE_COLUMNS[o.key];
      return o.ascending ? sql`${column} IS NULL, ${column} ASC` : sql`${column} IS NULL, ${column} DESC`;
    });
    if (!q.orderBy.some((o) => o.key === "timestamp_ms")) order.push(sql`t.request_time DESC`);
    order.push(sql`t.trace_id ASC`);
    const rows = await this.db.all<{ trace_id: string }>(
      sql`SELECT t.trace_id FROM traces t WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${q.limit} OFFSET ${q.offset}`,
    );
    return rows.map((r) => r.trace_id);
  }

  /** Deletes the selected traces with their spans and tags in one batch; answers how many went. */
  async deleteTraces(d: TraceDeletion): Promise<number> {
    let selection: string;
    let args: unknown[];
    if ("traceIds" in d) {
      selection = `SELECT trace_id FROM traces WHERE experiment_id = ?1 AND trace_id IN (SELECT value FROM json_each(?2))`;
      args = [d.experimentId, JSON.stringify(d.traceIds)];
    } else {
      selection = `SELECT trace_id FROM traces WHERE experiment_id = ?1 AND request_time <= ?2 ORDER BY request_time ASC, trace_id ASC LIMIT ?3`;
      args = [d.experimentId, d.maxTimestampMillis, d.maxTraces ?? -1];
    }
    const results = await this.d1.batch([
      this.d1.prepare(`DELETE FROM spans WHERE trace_id IN (${selection})`).bind(...args),
      this.d1.prepare(`DELETE FROM trace_tags WHERE trace_id IN (${selection})`).bind(...args),
      this.d1.prepare(`DELETE FROM trace_assessments WHERE trace_id IN (${selection})`).bind(...args),
      this.d1.prepare(`DELETE FROM trace_run_links WHERE trace_id IN (${selection})`).bind(...args),
      this.d1.prepare(`DELETE FROM traces WHERE trace_id IN (${selection})`).bind(...args),
    ]);
    return results[4].meta.changes;
  }
}
