/**
 * MLflow tracing: the domain types of traces and spans, the MLflow attribute keys Tern reads from
 * spans, and the search grammar of traces/search (filter strings over trace attributes, tags and
 * metadata; order_by clauses). Pure: no runtime imports.
 */
import type { Comparator } from "../lib/mlflow-search";
import type { AttributeValue, Attributes } from "../lib/otlp";

export const TRACE_STATES = ["STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS"] as const;
export type TraceState = (typeof TRACE_STATES)[number];

export interface TraceInfo {
  traceId: string;
  experimentId: string;
  requestTime: number;
  executionDuration: number | null;
  state: TraceState;
  requestPreview: string | null;
  responsePreview: string | null;
  clientRequestId: string | null;
  metadata: Record<string, string>;
  tags: Record<string, string>;
  /** Filled where MLflow's TraceInfoV3 carries them (get, batch get, search). */
  assessments?: Assessment[];
}

export interface SpanEvent {
  name: string;
  timeUnixNano: string;
  attributes: Attributes;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  otelTraceId: string;
  name: string;
  kind: number;
  startTimeNs: string;
  endTimeNs: string | null;
  statusCode: number;
  statusMessage: string;
  spanType: string | null;
  attributes: Attributes;
  events: SpanEvent[];
}

export interface Trace {
  info: TraceInfo;
  spans: Span[];
}

export const ASSESSMENT_KINDS = ["feedback", "expectation"] as const;
export type AssessmentKind = (typeof ASSESSMENT_KINDS)[number];

/**
 * A judgement of a trace or one of its spans (assessments.proto): feedback (a value or an error,
 * from a human, an LLM judge or code) or an expectation (the ground truth). `body` is the Feedback
 * or Expectation message as the client sent it, kept verbatim so any google.protobuf.Value survives.
 */
export interface Assessment {
  assessmentId: string;
  traceId: string;
  name: string;
  kind: AssessmentKind;
  spanId: string | null;
  source: { sourceType: string; sourceId: string } | null;
  body: Record<string, unknown>;
  rationale: string | null;
  metadata: Record<string, string>;
  /** The id of the assessment this one replaces; the replaced one is no longer valid. */
  overrides: string | null;
  valid: boolean;
  createTime: number;
  lastUpdateTime: number;
}

/** The assessed value as JSON text (what feedback./expectation. filters compare), or null when there is none. */
export function assessmentValueJson(body: Record<string, unknown>): string | null {
  if ("value" in body && body.value !== undefined) return JSON.stringify(body.value);
  const serialized = body.serialized_value as { value?: unknown } | undefined;
  if (serialized && typeof serialized.value === "string") return serialized.value;
  return null;
}

/** Span attribute and trace tag keys MLflow's client writes (mlflow/tracing/constant.py). */
export const MLFLOW_KEYS = {
  requestId: "mlflow.traceRequestId",
  experimentId: "mlflow.experimentId",
  inputs: "mlflow.spanInputs",
  outputs: "mlflow.spanOutputs",
  spanType: "mlflow.spanType",
  spansLocation: "mlflow.trace.spansLocation",
  artifactLocation: "mlflow.artifactLocation",
  traceName: "mlflow.traceName",
  sourceRun: "mlflow.sourceRun",
} as const;

/** The spansLocation value that tells the client the spans are in the tracking store, not artifacts. */
export const SPANS_IN_TRACKING_STORE = "TRACKING_STORE";

export const TRACE_LIMITS = {
  /** MLflow's server truncates previews to this many characters. */
  previewLength: 1000,
  tagKeyLength: 250,
  tagValueLength: 8000,
  searchDefault: 100,
  searchMax: 50000,
  deleteMax: 10000,
} as const;

/**
 * MLflow writes every span attribute as JSON text (`"\"LLM\""`), newer clients send the decoded
 * value over OTLP (`"LLM"`); read both the way the client does: JSON if it parses, else as is.
 */
export function mlflowAttribute(value: AttributeValue | undefined): AttributeValue | undefined {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as AttributeValue;
  } catch {
    return value;
  }
}

/** The root span's inputs or outputs as MLflow's previews show them: JSON text, truncated. */
export function previewOf(value: AttributeValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === "string" && mlflowAttribute(value) !== value ? value : JSON.stringify(value);
  return text.slice(0, TRACE_LIMITS.previewLength);
}

export const nsToMs = (ns: string): number => Number(BigInt(ns) / 1_000_000n);

// ---------------------------------------------------------------------------------------------
// Wire times: TraceInfoV3 carries request_time as a protobuf Timestamp and execution_duration as a
// Duration, whose JSON forms are RFC 3339 text and seconds with an "s" suffix.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseTimestamp(value: string): number | null {
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = "", zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Number(frac.padEnd(3, "0").slice(0, 3));
  if (zone !== "Z" && zone !== "z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  return Number.isFinite(ms) ? ms : null;
}

export const formatTimestamp = (ms: number): string => new Date(ms).toISOString();

const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

export function parseDuration(value: string): number | null {
  const m = DURATION.exec(value);
  if (!m) return null;
  const ms = Number(m[2]) * 1000 + Number((m[3] ?? "").padEnd(3, "0").slice(0, 3));
  return m[1] ? -ms : ms;
}

export const formatDuration = (ms: number): string => `${ms < 0 ? "-" : ""}${Math.floor(Math.abs(ms) / 1000)}.${String(Math.abs(ms) % 1000).padStart(3, "0")}s`;

// ---------------------------------------------------------------------------------------------
// Search grammar (MLflow's SearchTraceUtils): `<entity>.<key> <op> <value>` clauses joined by AND.
// Entities: attributes (`attribute.`, `attributes.`, `trace.` or bare), `tag.`/`tags.`,
// `metadata.`/`request_metadata.`, `span.` (name, type, status, attributes.<key>, content; the bare
// `text` is span content), and `feedback.<name>` / `expectation.<name>` over the trace's valid
// assessments. Keys may be backquoted (tags.`mlflow.traceName`).

export type TraceSearchEntity = "attribute" | "tag" | "metadata" | "span" | "feedback" | "expectation";

/** The span fields a `span.` filter may name besides `attributes.<key>`. */
export const SPAN_FILTER_KEYS = ["name", "type", "status", "content"] as const;

export interface TraceComparison {
  entity: TraceSearchEntity;
  /** For attributes the canonical name: timestamp_ms, execution_time_ms, status, name, trace_id, run_id, client_request_id. */
  key: string;
  comparator: Comparator;
  value: string | number | string[];
}

export interface TraceOrderBy {
  key: "timestamp_ms" | "execution_time_ms" | "status" | "name" | "trace_id";
  ascending: boolean;
}

/** The message is what the API answers as INVALID_PARAMETER_VALUE. */
export class TraceSearchError extends Error {
  override readonly name = "TraceSearchError";
}

const NUMERIC_ATTRIBUTES: ReadonlyMap<string, string> = new Map([
  ["timestamp_ms", "timestamp_ms"],
  ["timestamp", "timestamp_ms"],
  ["request_time", "timestamp_ms"],
  ["execution_time_ms", "execution_time_ms"],
  ["execution_time", "execution_time_ms"],
  ["execution_duration", "execution_time_ms"],
]);
const STRING_ATTRIBUTES: ReadonlyMap<string, string> = new Map([
  ["status", "status"],
  ["state", "status"],
  ["name", "name"],
  ["trace_name", "name"],
  ["request_id", "trace_id"],
  ["trace_id", "trace_id"],
  ["run_id", "run_id"],
  ["client_request_id", "client_request_id"],
]);
const ENTITY_PREFIXES: ReadonlyMap<string, TraceSearchEntity> = new Map([
  ["attribute", "attribute"],
  ["attributes", "attribute"],
  ["attr", "attribute"],
  ["trace", "attribute"],
  ["tag", "tag"],
  ["tags", "tag"],
  ["metadata", "metadata"],
  ["request_metadata", "metadata"],
  ["span", "span"],
  ["feedback", "feedback"],
  ["expectation", "expectation"],
]);
const NUMERIC_OPS: readonly Comparator[] = ["=", "!=", "<", "<=", ">", ">="];
const STRING_OPS: readonly Comparator[] = ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"];
const CONTENT_OPS: readonly Comparator[] = ["LIKE", "ILIKE"];

type TokenKind = "key" | "string" | "number" | "op" | "and" | "not" | "in" | "like" | "ilike" | "lparen" | "rparen" | "comma";
interface Token {
  kind: TokenKind;
  text: string;
}

const KEY_SEGMENT = /[A-Za-z_][\w]*|`(?:``|[^`])*`/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])/y;
const OPERATOR = /<=|>=|!=|<>|==|=|<|>/y;

function at(re: RegExp, src: string, pos: number): string | null {
  re.lastIndex = pos;
  return re.exec(src)?.[0] ?? null;
}

function readString(src: string, pos: number): [string, number] {
  const quote = src[pos];
  let out = "";
  for (let i = pos + 1; i < src.length; i++) {
    const ch = src[i];
    if (ch === "\\" && i + 1 < src.length) {
      out += src[++i];
    } else if (ch === quote) {
      if (src[i + 1] === quote) {
        out += quote;
        i++;
      } else return [out, i + 1];
    } else out += ch;
  }
  throw new TraceSearchError(`Invalid filter string: unterminated string starting at ${pos}`);
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    const ch = src[pos];
    if (/\s/.test(ch)) {
      pos++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const [value, next] = readString(src, pos);
      tokens.push({ kind: "string", text: value });
      pos = next;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === ",") {
      tokens.push({ kind: ch === "(" ? "lparen" : ch === ")" ? "rparen" : "comma", text: ch });
      pos++;
      continue;
    }
    const op = at(OPERATOR, src, pos);
    if (op) {
      tokens.push({ kind: "op", text: op === "==" ? "=" : op === "<>" ? "!=" : op });
      pos += op.length;
      continue;
    }
    const num = at(NUMBER, src, pos);
    if (num) {
      tokens.push({ kind: "number", text: num });
      pos += num.length;
      continue;
    }
    // A key: dot-separated identifier or backquoted segments.
    const segments: string[] = [];
    let p = pos;
    for (;;) {
      const seg = at(KEY_SEGMENT, src, p);
      if (!seg) break;
      segments.push(seg.startsWith("`") ? seg.slice(1, -1).replaceAll("``", "`") : seg);
      p += seg.length;
      if (src[p] !== ".") break;
      p++;
    }
    if (segments.length === 0) throw new TraceSearchError(`Invalid filter string: unexpected character '${ch}' at ${pos}`);
    const word = src.slice(pos, p);
    const upper = word.toUpperCase();
    const keyword: Record<string, TokenKind> = { AND: "and", NOT: "not", IN: "in", LIKE: "like", ILIKE: "ilike" };
    if (segments.length === 1 && !word.startsWith("`") && keyword[upper]) tokens.push({ kind: keyword[upper], text: upper });
    else tokens.push({ kind: "key", text: JSON.stringify(segments) });
    pos = p;
  }
  return tokens;
}

function resolveKey(segments: string[]): { entity: TraceSearchEntity; key: string } {
  let entity: TraceSearchEntity = "attribute";
  let rest = segments;
  if (segments.length > 1 && ENTITY_PREFIXES.has(segments[0])) {
    entity = ENTITY_PREFIXES.get(segments[0])!;
    rest = segments.slice(1);
  }
  const key = rest.join(".");
  if (entity === "span") {
    if (key.startsWith("attributes.") && key.length > "attributes.".length) return { entity, key };
    if (key === "attributes.") throw new TraceSearchError("Span attribute name cannot be empty after 'attributes.'");
    if (!(SPAN_FILTER_KEYS as readonly string[]).includes(key)) {
      throw new TraceSearchError(`Invalid span field '${key}'. Supported: ${SPAN_FILTER_KEYS.join(", ")}, attributes.<name>`);
    }
    return { entity, key };
  }
  if (entity !== "attribute") {
    if (!key) throw new TraceSearchError(`Invalid filter string: a ${entity} key is missing`);
    return { entity, key };
  }
  if (key === "text") return { entity: "span", key: "content" };
  const canonical = NUMERIC_ATTRIBUTES.get(key) ?? STRING_ATTRIBUTES.get(key);
  if (!canonical) {
    throw new TraceSearchError(
      `Invalid attribute key '${key}' specified. Valid keys are '${[...new Set([...NUMERIC_ATTRIBUTES.values(), ...STRING_ATTRIBUTES.values()])].join("', '")}'`,
    );
  }
  return { entity, key: canonical };
}

/** Parses a traces/search filter; an empty filter matches every trace. */
export function parseTraceFilter(filter: string | null | undefined): TraceComparison[] {
  if (!filter || !filter.trim()) return [];
  const tokens = tokenize(filter);
  const out: TraceComparison[] = [];
  let i = 0;
  const expect = (kind: TokenKind, what: string): Token => {
    const t = tokens[i];
    if (!t || t.kind !== kind) throw new TraceSearchError(`Invalid filter string '${filter}': expected ${what}`);
    i++;
    return t;
  };
  for (;;) {
    const { entity, key } = resolveKey(JSON.parse(expect("key", "a key").text) as string[]);
    const numeric = entity === "attribute" && NUMERIC_ATTRIBUTES.has(key);
    let comparator: Comparator;
    const t = tokens[i++];
    if (!t) throw new TraceSearchError(`Invalid filter string '${filter}': expected a comparator`);
    if (t.kind === "op") comparator = t.text as Comparator;
    else if (t.kind === "like") comparator = "LIKE";
    else if (t.kind === "ilike") comparator = "ILIKE";
    else if (t.kind === "in") comparator = "IN";
    else if (t.kind === "not" && tokens[i]?.kind === "in") {
      i++;
      comparator = "NOT IN";
    } else throw new TraceSearchError(`Invalid comparator '${t.text}' in filter string '${filter}'`);
    const allowed = numeric
      ? NUMERIC_OPS
      : entity === "span" && key === "content"
        ? CONTENT_OPS
        : entity === "tag" || entity === "metadata"
          ? STRING_OPS.filter((c) => c !== "IN" && c !== "NOT IN")
          : STRING_OPS;
    if (!allowed.includes(comparator)) {
      throw new TraceSearchError(`Invalid comparator '${comparator}' for ${entity} '${key}'; expected one of ${allowed.join(", ")}`);
    }
    let value: string | number | string[];
    if (comparator === "IN" || comparator === "NOT IN") {
      expect("lparen", "'('");
      const values: string[] = [];
      for (;;) {
        values.push(expect("string", "a quoted string").text);
        if (tokens[i]?.kind === "comma") {
          i++;
          continue;
        }
        break;
      }
      expect("rparen", "')'");
      value = values;
    } else if (numeric) {
      const v = tokens[i++];
      const n = v && (v.kind === "number" || v.kind === "string") ? Number(v.text) : NaN;
      if (!v || !Number.isFinite(n) || (v.kind === "string" && !v.text.trim())) {
        throw new TraceSearchError(`Invalid filter string '${filter}': '${key}' needs a numeric value`);
      }
      value = n;
    } else {
      value = expect("string", `a quoted string value for '${key}'`).text;
    }
    if ((entity === "attribute" || entity === "span") && key === "status") {
      const states = (Array.isArray(value) ? value : [String(value)]).map((s) => s.toUpperCase());
      value = Array.isArray(value) ? states : comparator === "LIKE" || comparator === "ILIKE" ? String(value) : states[0];
    }
    out.push({ entity, key, comparator, value });
    if (i >= tokens.length) return out;
    expect("and", "AND");
  }
}

const ORDER_KEYS: ReadonlyMap<string, TraceOrderBy["key"]> = new Map([
  ["timestamp_ms", "timestamp_ms"],
  ["timestamp", "timestamp_ms"],
  ["request_time", "timestamp_ms"],
  ["execution_time_ms", "execution_time_ms"],
  ["execution_time", "execution_time_ms"],
  ["execution_duration", "execution_time_ms"],
  ["status", "status"],
  ["state", "status"],
  ["name", "name"],
  ["request_id", "trace_id"],
  ["trace_id", "trace_id"],
]);

export function parseTraceOrderBy(clause: string): TraceOrderBy {
  const parts = clause.trim().split(/\s+/);
  if (parts.length === 0 || parts.length > 2 || !parts[0]) throw new TraceSearchError(`Invalid order_by clause '${clause}'`);
  const field = parts[0].replace(/^(attributes?|trace)\./, "").replaceAll("`", "");
  const key = ORDER_KEYS.get(field);
  if (!key) throw new TraceSearchError(`Invalid order_by clause '${clause}': cannot order by '${field}'`);
  const direction = (parts[1] ?? "ASC").toUpperCase();
  if (direction !== "ASC" && direction !== "DESC") throw new TraceSearchError(`Invalid order_by clause '${clause}': expected ASC or DESC`);
  return { key, ascending: direction === "ASC" };
}

/** The state an enum name or number stands for (protobuf JSON sends either). */
export function traceStateOf(value: string | number): TraceState | null {
  if (typeof value === "number") return TRACE_STATES[value] ?? null;
  if (value === "TRACE_STATUS_UNSPECIFIED") return "STATE_UNSPECIFIED";
  return (TRACE_STATES as readonly string[]).includes(value) ? (value as TraceState) : null;
}
