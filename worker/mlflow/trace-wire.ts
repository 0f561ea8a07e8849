/**
 * Traces → MLflow's JSON: TraceInfoV3 (request_time as a protobuf Timestamp, execution_duration as a
 * Duration, maps as JSON objects), the 2.0 TraceInfo (key/value lists, status instead of state), and
 * spans as OpenTelemetry Span messages in protobuf JSON (ids base64, nanoseconds as decimal strings,
 * attribute values as AnyValue), which is what MLflow's Trace message carries and its client parses.
 */
import { spanKindName, statusCodeName, type AttributeValue, type Attributes } from "../lib/otlp";
import { formatDuration, formatTimestamp, type Assessment, type Span, type Trace, type TraceInfo } from "../traces/model";

const nonEmptyMap = (m: Record<string, string>) => (Object.keys(m).length ? m : undefined);
const kvList = (m: Record<string, string>) => {
  const entries = Object.entries(m);
  return entries.length ? entries.map(([key, value]) => ({ key, value })) : undefined;
};

/** An Assessment message: the Feedback or Expectation body under its own field name. */
export const wireAssessment = (a: Assessment) => ({
  assessment_id: a.assessmentId,
  assessment_name: a.name,
  trace_id: a.traceId,
  span_id: a.spanId ?? undefined,
  source: a.source ? { source_type: a.source.sourceType, source_id: a.source.sourceId } : undefined,
  create_time: formatTimestamp(a.createTime),
  last_update_time: formatTimestamp(a.lastUpdateTime),
  [a.kind]: a.body,
  rationale: a.rationale ?? undefined,
  metadata: nonEmptyMap(a.metadata),
  overrides: a.overrides ?? undefined,
  valid: a.valid,
});

export const wireTraceInfoV3 = (i: TraceInfo) => ({
  trace_id: i.traceId,
  client_request_id: i.clientRequestId ?? undefined,
  trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: i.experimentId } },
  request_preview: i.requestPreview ?? undefined,
  response_preview: i.responsePreview ?? undefined,
  request_time: formatTimestamp(i.requestTime),
  execution_duration: i.executionDuration == null ? undefined : formatDuration(i.executionDuration),
  state: i.state,
  trace_metadata: nonEmptyMap(i.metadata),
  assessments: i.assessments?.length ? i.assessments.map(wireAssessment) : undefined,
  tags: nonEmptyMap(i.tags),
});

/** The 2.0 TraceInfo: the trace id is called request_id and the state status. */
export const wireTraceInfoV2 = (i: TraceInfo) => ({
  request_id: i.traceId,
  experiment_id: i.experimentId,
  timestamp_ms: i.requestTime,
  execution_time_ms: i.executionDuration ?? undefined,
  status: i.state === "STATE_UNSPECIFIED" ? "TRACE_STATUS_UNSPECIFIED" : i.state,
  request_metadata: kvList(i.metadata),
  tags: kvList(i.tags),
});

function base64FromHex(hex: string): string {
  let binary = "";
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return btoa(binary);
}

type AnyValueJson =
  | { string_value: string }
  | { bool_value: boolean }
  | { int_value: string }
  | { double_value: number | string }
  | { array_value: { values: AnyValueJson[] } }
  | { kvlist_value: { values: { key: string; value: AnyValueJson }[] } }
  | Record<string, never>;

export function wireAnyValue(v: AttributeValue): AnyValueJson {
  if (v === null) return {};
  if (typeof v === "string") return { string_value: v };
  if (typeof v === "boolean") return { bool_value: v };
  if (typeof v === "number") return Number.isInteger(v) ? { int_value: String(v) } : { double_value: v };
  if (Array.isArray(v)) return { array_value: { values: v.map(wireAnyValue) } };
  return { kvlist_value: { values: wireAttributes(v) } };
}

const wireAttributes = (attrs: Attributes) => Object.entries(attrs).map(([key, value]) => ({ key, value: wireAnyValue(value) }));

export const wireSpan = (s: Span) => ({
  trace_id: base64FromHex(s.otelTraceId),
  span_id: base64FromHex(s.spanId),
  parent_span_id: s.parentSpanId ? base64FromHex(s.parentSpanId) : undefined,
  name: s.name,
  kind: s.kind ? spanKindName(s.kind) : undefined,
  start_time_unix_nano: s.startTimeNs,
  end_time_unix_nano: s.endTimeNs ?? undefined,
  attributes: wireAttributes(s.attributes),
  events: s.events.length
    ? s.events.map((e) => ({ time_unix_nano: e.timeUnixNano, name: e.name, attributes: wireAttributes(e.attributes) }))
    : undefined,
  status: { code: statusCodeName(s.statusCode), message: s.statusMessage || undefined },
});

export const wireTrace = (t: Trace) => ({
  trace_info: wireTraceInfoV3(t.info),
  spans: t.spans.length ? t.spans.map(wireSpan) : undefined,
});
