/**
 * MLflow tracing over HTTP: the 2.0 trace rpcs (mounted with the other MLflow routers), the 3.0
 * rpcs (mounted under /api/3.0/mlflow and /ajax-api/3.0/mlflow), and OTLP/HTTP span ingest at
 * POST /v1/traces (protobuf or JSON, optionally gzip/deflate), where MLflow 3 clients send spans with
 * the experiment in the x-mlflow-experiment-id header. Each handler reads the request as MLflow
 * does, makes one service call and answers MLflow's response message.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { assertJsonDepth, limitBody } from "../http/body";
import { invalid } from "../http/errors";
import { decodeExportTraceRequest, decodeExportTraceRequestJson, OtlpDecodeError, type OtlpSpan } from "../lib/otlp";
import { parseDuration, parseTimestamp, traceStateOf, type TraceState } from "../traces/model";
import { handleMlflowError } from "./errors";
import { idString, int64, keyValue, mlflowInput, repeated } from "./request";
import { ASSESSMENT_SOURCE_TYPES, type AssessmentPatch } from "../traces/service";
import { wireAssessment, wireTrace, wireTraceInfoV2, wireTraceInfoV3 } from "./trace-wire";
import { readAtMost } from "../lib/bounded-read";

/** OTLP batches can carry large inputs and outputs; D1 bounds what one span may hold anyway. */
const OTLP_BODY_LIMIT = 16 * 1024 * 1024;
/** A compressed body may not expand beyond this. */
const OTLP_INFLATED_LIMIT = 64 * 1024 * 1024;

const kvMap = (kvs: { key: string; value: string }[]) => Object.fromEntries(kvs.map((kv) => [kv.key, kv.value]));

function stateOf(value: string | number | undefined, field: string, fallback: TraceState): TraceState {
  if (value === undefined) return fallback;
  const state = traceStateOf(value);
  if (!state) throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied. Expected one of OK, ERROR, IN_PROGRESS.`);
  return state;
}

// --- 2.0 ------------------------------------------------------------------------------------

export const traceRoutes = new Hono<AppEnv>();

const tagRoutes = (router: Hono<AppEnv>) => {
  router.patch("/traces/:trace_id/tags", async (c) => {
    const q = await mlflowInput(c, z.object({ key: z.string().optional().default(""), value: z.string() }));
    await c.var.services.traces.setTag(c.req.param("trace_id"), q.key, q.value);
    return c.json({});
  });
  router.delete("/traces/:trace_id/tags", async (c) => {
    const q = await mlflowInput(c, z.object({ key: z.string().optional().default("") }));
    await c.var.services.traces.deleteTag(c.req.param("trace_id"), q.key);
    return c.json({});
  });
};

const deleteTracesRoute = (router: Hono<AppEnv>) => {
  router.post("/traces/delete-traces", async (c) => {
    const q = await mlflowInput(
      c,
      z.object({
        experiment_id: idString.optional().default(""),
        max_timestamp_millis: int64.optional(),
        max_traces: int64.optional(),
        request_ids: repeated(z.string()),
        trace_ids: repeated(z.string()),
      }),
    );
    const deleted = await c.var.services.traces.deleteTraces({
      experimentId: q.experiment_id,
      maxTimestampMillis: q.max_timestamp_millis,
      maxTraces: q.max_traces,
      traceIds: [...q.request_ids, ...q.trace_ids],
    });
    return c.json({ traces_deleted: deleted });
  });
};

deleteTracesRoute(traceRoutes);

traceRoutes.post("/traces", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({ experiment_id: idString.optional().default(""), timestamp_ms: int64.optional(), request_metadata: repeated(keyValue), tags: repeated(keyValue) }),
  );
  const info = await c.var.services.traces.startTraceV2({
    experimentId: q.experiment_id,
    timestampMs: q.timestamp_ms ?? Date.now(),
    metadata: kvMap(q.request_metadata),
    tags: kvMap(q.tags),
  });
  return c.json({ trace_info: wireTraceInfoV2(info) });
});

traceRoutes.get("/traces", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({ experiment_ids: repeated(idString), filter: z.string().optional(), max_results: int64.optional(), order_by: repeated(z.string()), page_token: z.string().optional() }),
  );
  const page = await c.var.services.traces.search({ experimentIds: q.experiment_ids, filter: q.filter, orderBy: q.order_by, maxResults: q.max_results, pageToken: q.page_token });
  return c.json({ traces: page.items.length ? page.items.map(wireTraceInfoV2) : undefined, next_page_token: page.nextPageToken ?? undefined });
});

traceRoutes.get("/traces/:trace_id/info", async (c) => {
  return c.json({ trace_info: wireTraceInfoV2(await c.var.services.traces.getInfo(c.req.param("trace_id"))) });
});

/** End trace (2.0): the status enum by name or number, as protobuf JSON allows. */
traceRoutes.patch("/traces/:trace_id", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({ timestamp_ms: int64.optional(), status: z.union([z.string(), int64]).optional(), request_metadata: repeated(keyValue), tags: repeated(keyValue) }),
  );
  const info = await c.var.services.traces.endTraceV2(c.req.param("trace_id"), {
    timestampMs: q.timestamp_ms ?? Date.now(),
    state: stateOf(q.status, "status", "OK"),
    metadata: kvMap(q.request_metadata),
    tags: kvMap(q.tags),
  });
  return c.json({ trace_info: wireTraceInfoV2(info) });
});

tagRoutes(traceRoutes);

traceRoutes.post("/traces/link-to-run", async (c) => {
  const q = await mlflowInput(c, z.object({ trace_ids: repeated(z.string()), run_id: z.string().optional().default("") }));
  await c.var.services.traces.linkToRun(q.trace_ids, q.run_id);
  return c.json({});
});

// --- 3.0 ------------------------------------------------------------------------------------

export const traceV3Routes = new Hono<AppEnv>();

const timeString = z.union([z.string(), z.number()]);
const traceInfoV3 = z.object({
  trace_id: z.string().optional(),
  client_request_id: z.string().optional(),
  trace_location: z
    .object({ type: z.union([z.string(), int64]).optional(), mlflow_experiment: z.object({ experiment_id: idString.optional() }).optional() })
    .optional(),
  request_preview: z.string().optional(),
  response_preview: z.string().optional(),
  request_time: timeString.optional(),
  execution_duration: timeString.optional(),
  state: z.union([z.string(), int64]).optional(),
  trace_metadata: z.record(z.string(), z.string()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

function millisOf(value: string | number | undefined, field: string, parse: (s: string) => number | null): number | null {
  if (value === undefined) return null;
  const ms = typeof value === "number" ? value : parse(value);
  if (ms === null || !Number.isFinite(ms)) throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied.`);
  return Math.trunc(ms);
}

/** Start trace (3.0): the client's finished trace info; the spans it carries are ignored, they come over OTLP. */
traceV3Routes.post("/traces", async (c) => {
  const q = await mlflowInput(c, z.object({ trace: z.object({ trace_info: traceInfoV3 }) }));
  const i = q.trace.trace_info;
  const requestTime = millisOf(i.request_time, "trace.trace_info.request_time", parseTimestamp);
  if (requestTime === null) throw invalid("Missing value for required parameter 'trace.trace_info.request_time'. See the API docs for more information about request parameters.");
  const info = await c.var.services.traces.startTrace({
    traceId: i.trace_id,
    experimentId: i.trace_location?.mlflow_experiment?.experiment_id ?? "",
    requestTime,
    executionDuration: millisOf(i.execution_duration, "trace.trace_info.execution_duration", parseDuration),
    state: stateOf(i.state, "trace.trace_info.state", "STATE_UNSPECIFIED"),
    requestPreview: i.request_preview ?? null,
    responsePreview: i.response_preview ?? null,
    clientRequestId: i.client_request_id ?? null,
    metadata: i.trace_metadata ?? {},
    tags: i.tags ?? {},
  });
  return c.json({ trace: { trace_info: wireTraceInfoV3(info) } });
});

traceV3Routes.post("/traces/search", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({
      locations: repeated(z.object({ type: z.union([z.string(), int64]).optional(), mlflow_experiment: z.object({ experiment_id: idString.optional() }).optional() })),
      experiment_ids: repeated(idString),
      filter: z.string().optional(),
      max_results: int64.optional(),
      order_by: repeated(z.string()),
      page_token: z.string().optional(),
    }),
  );
  const experimentIds = [...q.experiment_ids, ...q.locations.map((l) => l.mlflow_experiment?.experiment_id).filter((id): id is string => !!id)];
  const page = await c.var.services.traces.search({ experimentIds, filter: q.filter, orderBy: q.order_by, maxResults: q.max_results, pageToken: q.page_token });
  return c.json({ traces: page.items.length ? page.items.map(wireTraceInfoV3) : undefined, next_page_token: page.nextPageToken ?? undefined });
});

/** Get trace: the info with its spans. allow_partial is accepted; spans are served as far as they arrived. */
traceV3Routes.get("/traces/get", async (c) => {
  const q = await mlflowInput(c, z.object({ trace_id: z.string(), allow_partial: z.string().optional() }));
  return c.json({ trace: wireTrace(await c.var.services.traces.getTrace(q.trace_id)) });
});

traceV3Routes.get("/traces/batchGet", async (c) => {
  const q = await mlflowInput(c, z.object({ trace_ids: repeated(z.string()) }));
  const traces = await c.var.services.traces.batchGet(q.trace_ids);
  return c.json({ traces: traces.length ? traces.map(wireTrace) : undefined });
});

deleteTracesRoute(traceV3Routes);

traceV3Routes.get("/traces/:trace_id", async (c) => {
  return c.json({ trace: { trace_info: wireTraceInfoV3(await c.var.services.traces.getInfo(c.req.param("trace_id"))) } });
});

tagRoutes(traceV3Routes);

// Assessments (assessments.proto). Feedback and Expectation bodies are kept as sent: their value is a
// google.protobuf.Value, any JSON.
const jsonObject = z.record(z.string(), z.unknown());
const assessmentMessage = z.object({
  assessment_name: z.string().optional(),
  span_id: z.string().optional(),
  source: z.object({ source_type: z.union([z.string(), int64]).optional(), source_id: z.string().optional() }).optional(),
  create_time: z.string().optional(),
  last_update_time: z.string().optional(),
  feedback: jsonObject.optional(),
  expectation: jsonObject.optional(),
  rationale: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  overrides: z.string().optional(),
  valid: z.boolean().optional(),
});

const sourceTypeName = (v: string | number | undefined): string =>
  v === undefined ? "SOURCE_TYPE_UNSPECIFIED" : typeof v === "number" ? (ASSESSMENT_SOURCE_TYPES[v] ?? String(v)) : v;

function assessmentTime(value: string | undefined, field: string): number | null {
  if (value === undefined) return null;
  const ms = parseTimestamp(value);
  if (ms === null) throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied.`);
  return ms;
}

traceV3Routes.post("/traces/:trace_id/assessments", async (c) => {
  const q = await mlflowInput(c, z.object({ assessment: assessmentMessage }));
  const a = q.assessment;
  const created = await c.var.services.traces.createAssessment(c.req.param("trace_id"), {
    name: a.assessment_name,
    spanId: a.span_id || null,
    source: a.source ? { sourceType: sourceTypeName(a.source.source_type), sourceId: a.source.source_id ?? "" } : null,
    feedback: a.feedback,
    expectation: a.expectation,
    rationale: a.rationale ?? null,
    metadata: a.metadata ?? {},
    overrides: a.overrides || null,
    valid: a.valid,
    createTime: assessmentTime(a.create_time, "assessment.create_time"),
    lastUpdateTime: assessmentTime(a.last_update_time, "assessment.last_update_time"),
  });
  return c.json({ assessment: wireAssessment(created) });
});

traceV3Routes.get("/traces/:trace_id/assessments/:assessment_id", async (c) => {
  const found = await c.var.services.traces.getAssessment(c.req.param("trace_id"), c.req.param("assessment_id"));
  return c.json({ assessment: wireAssessment(found) });
});

/** update_mask is a FieldMask: protobuf JSON writes it as one comma-separated string of camelCase paths. */
const snakeCase = (path: string) => path.trim().replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
const MASKABLE = ["assessment_name", "feedback", "expectation", "rationale", "metadata"] as const;

traceV3Routes.patch("/traces/:trace_id/assessments/:assessment_id", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({ assessment: assessmentMessage, update_mask: z.union([z.string(), z.object({ paths: repeated(z.string()) })]).optional() }),
  );
  const paths = q.update_mask === undefined ? null : (typeof q.update_mask === "string" ? q.update_mask.split(",") : q.update_mask.paths).map(snakeCase).filter(Boolean);
  for (const p of paths ?? []) {
    if (!(MASKABLE as readonly string[]).includes(p)) throw invalid(`Invalid value '${p}' in 'update_mask': only ${MASKABLE.join(", ")} can be updated.`);
  }
  const masked = (field: (typeof MASKABLE)[number]) => paths === null || paths.includes(field);
  const a = q.assessment;
  const patch: AssessmentPatch = {
    name: masked("assessment_name") ? a.assessment_name : undefined,
    feedback: masked("feedback") ? a.feedback : undefined,
    expectation: masked("expectation") ? a.expectation : undefined,
    rationale: masked("rationale") ? a.rationale : undefined,
    metadata: masked("metadata") ? a.metadata : undefined,
  };
  const updated = await c.var.services.traces.updateAssessment(c.req.param("trace_id"), c.req.param("assessment_id"), patch);
  return c.json({ assessment: wireAssessment(updated) });
});

traceV3Routes.delete("/traces/:trace_id/assessments/:assessment_id", async (c) => {
  await c.var.services.traces.deleteAssessment(c.req.param("trace_id"), c.req.param("assessment_id"));
  return c.json({});
});

// --- OTLP/HTTP --------------------------------------------------------------------------------

export const otlpRoutes = new Hono<AppEnv>();
otlpRoutes.use("*", limitBody(OTLP_BODY_LIMIT));
otlpRoutes.onError(handleMlflowError);

async function inflate(body: Uint8Array, encoding: string): Promise<Uint8Array> {
  if (encoding === "identity" || encoding === "") return body;
  if (encoding !== "gzip" && encoding !== "deflate") throw invalid(`Unsupported Content-Encoding: ${encoding}`);
  try {
    const out = await readAtMost(new Blob([body]).stream().pipeThrough(new DecompressionStream(encoding)), OTLP_INFLATED_LIMIT);
    if (out === null) throw invalid(`The decompressed request body exceeds the limit of ${OTLP_INFLATED_LIMIT} bytes`);
    return out;
  } catch (err) {
    if (err instanceof Error && err.name === "ApiError") throw err;
    throw invalid(`Failed to decompress ${encoding} payload`);
  }
}

otlpRoutes.post("/traces", async (c) => {
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const isProtobuf = type === "application/x-protobuf" || type === "application/protobuf";
  if (!isProtobuf && type !== "application/json") {
    throw invalid(`Invalid Content-Type: ${type || "none"}. Expected: application/x-protobuf or application/json`);
  }
  const body = await inflate(new Uint8Array(await c.req.arrayBuffer()), (c.req.header("content-encoding") ?? "identity").trim().toLowerCase());
  let spans: OtlpSpan[];
  try {
    if (isProtobuf) {
      spans = decodeExportTraceRequest(body);
    } else {
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
      } catch {
        throw invalid("Invalid OpenTelemetry JSON: the body is not JSON");
      }
      // Checked on the inflated text: a gzip body's depth is only visible once decoded.
      assertJsonDepth(text);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw invalid("Invalid OpenTelemetry JSON: the body is not JSON");
      }
      spans = decodeExportTraceRequestJson(parsed);
    }
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw invalid(`Invalid OpenTelemetry ${isProtobuf ? "protobuf" : "JSON"} format: ${err.message}`);
    throw err;
  }
  if (spans.length === 0) throw invalid(`Invalid OpenTelemetry ${isProtobuf ? "protobuf" : "JSON"} format - no spans found`);
  await c.var.services.traces.ingest(c.req.header("x-mlflow-experiment-id") ?? null, spans);
  // An empty ExportTraceServiceResponse: zero bytes in protobuf, {} in JSON.
  return isProtobuf ? c.body(null, 200, { "Content-Type": "application/x-protobuf" }) : c.json({});
});
