/**
 * OTLP trace export requests (opentelemetry-proto collector/trace/v1 ExportTraceServiceRequest) in both
 * encodings OTLP/HTTP allows: the protobuf wire format, decoded by hand because workerd forbids the
 * code generation protobuf libraries rely on, and OTLP/JSON. Both decode to the same flat list of
 * spans with exact nanosecond times (decimal strings: fixed64 nanoseconds exceed 2^53). The encoder
 * exists so tests and tools can build real protobuf bodies. Pure: no runtime imports.
 */

/** An attribute value as JSON can hold it: int64 beyond 2^53 stays a decimal string, bytes are base64. */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export interface OtlpEvent {
  name: string;
  timeUnixNano: string;
  attributes: Attributes;
}

export interface OtlpSpan {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  parentSpanId: string | null;
  traceState: string;
  name: string;
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attributes;
  events: OtlpEvent[];
  /** StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  /** The attributes of the resource the span was reported under (e.g. service.name). */
  resourceAttributes: Attributes;
}

/** The message is what the API answers as INVALID_PARAMETER_VALUE. */
export class OtlpDecodeError extends Error {
  override readonly name = "OtlpDecodeError";
}

const fail = (message: string): never => {
  throw new OtlpDecodeError(message);
};

// ---------------------------------------------------------------------------------------------
// Protobuf wire format: a message is a run of (tag varint, value) fields; unknown fields are skipped.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const MAX_DEPTH = 32;

interface Field {
  no: number;
  wire: number;
  /** varint and fixed values as bigint; length-delimited values as the bytes. */
  value: bigint | Uint8Array;
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) fail("Truncated varint in protobuf body");
      const byte = this.buf[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    return fail("Malformed varint in protobuf body");
  }

  private fixed(bytes: number): bigint {
    if (this.pos + bytes > this.buf.length) fail("Truncated fixed-width field in protobuf body");
    let result = 0n;
    for (let i = bytes - 1; i >= 0; i--) result = (result << 8n) | BigInt(this.buf[this.pos + i]);
    this.pos += bytes;
    return result;
  }

  field(): Field {
    const tag = this.varint();
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (no < 1 || no > 536_870_911) fail(`Invalid protobuf field number ${no}`);
    switch (wire) {
      case WIRE_VARINT:
        return { no, wire, value: this.varint() };
      case WIRE_I64:
        return { no, wire, value: this.fixed(8) };
      case WIRE_I32:
        return { no, wire, value: this.fixed(4) };
      case WIRE_LEN: {
        const length = this.varint();
        if (length > BigInt(this.buf.length - this.pos)) fail("Length-delimited field runs past the end of the protobuf body");
        const start = this.pos;
        this.pos += Number(length);
        return { no, wire, value: this.buf.subarray(start, this.pos) };
      }
      default:
        return fail(`Unsupported protobuf wire type ${wire}`);
    }
  }
}

function fields(buf: Uint8Array): Field[] {
  const reader = new Reader(buf);
  const out: Field[] = [];
  while (!reader.done) out.push(reader.field());
  return out;
}

const bytesOf = (f: Field, what: string): Uint8Array => (f.wire === WIRE_LEN ? (f.value as Uint8Array) : fail(`${what} must be length-delimited`));
const intOf = (f: Field, what: string): bigint => (f.wire === WIRE_LEN ? fail(`${what} must be a number`) : (f.value as bigint));

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
function text(f: Field, what: string): string {
  try {
    return utf8.decode(bytesOf(f, what));
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw err;
    return fail(`${what} is not valid UTF-8`);
  }
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** int64 as a JSON number when exact, else as its decimal string. */
function int64Value(raw: bigint): number | string {
  const signed = BigInt.asIntN(64, raw);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : signed.toString();
}

function doubleValue(raw: bigint): number | string {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, raw, true);
  const value = view.getFloat64(0, true);
  // JSON has no NaN or Infinity; protobuf JSON writes them as these strings.
  return Number.isFinite(value) ? value : String(value);
}

function decodeAnyValue(buf: Uint8Array, depth: number): AttributeValue {
  if (depth > MAX_DEPTH) fail("Attribute values are nested too deeply");
  let value: AttributeValue = null;
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        value = text(f, "AnyValue.string_value");
        break;
      case 2:
        value = intOf(f, "AnyValue.bool_value") !== 0n;
        break;
      case 3:
        value = int64Value(intOf(f, "AnyValue.int_value"));
        break;
      case 4:
        if (f.wire !== WIRE_I64) fail("AnyValue.double_value must be a fixed64");
        value = doubleValue(f.value as bigint);
        break;
      case 5:
        value = fields(bytesOf(f, "AnyValue.array_value"))
          .filter((v) => v.no === 1)
          .map((v) => decodeAnyValue(bytesOf(v, "ArrayValue.values"), depth + 1));
        break;
      case 6:
        value = decodeKeyValues(
          fields(bytesOf(f, "AnyValue.kvlist_value")).filter((v) => v.no === 1),
          depth + 1,
        );
        break;
      case 7:
        value = base64(bytesOf(f, "AnyValue.bytes_value"));
        break;
    }
  }
  return value;
}

function decodeKeyValues(kvs: Field[], depth: number): Attributes {
  const out: Attributes = {};
  for (const kv of kvs) {
    let key = "";
    let value: AttributeValue = null;
    for (const f of fields(bytesOf(kv, "KeyValue"))) {
      if (f.no === 1) key = text(f, "KeyValue.key");
      else if (f.no === 2) value = decodeAnyValue(bytesOf(f, "KeyValue.value"), depth);
    }
    out[key] = value;
  }
  return out;
}

function idHex(bytes: Uint8Array, length: number, what: string): string {
  if (bytes.length !== length) fail(`${what} must be ${length} bytes, got ${bytes.length}`);
  return hex(bytes);
}

function decodeSpan(buf: Uint8Array, resourceAttributes: Attributes): OtlpSpan {
  const span: OtlpSpan = {
    traceId: "",
    spanId: "",
    parentSpanId: null,
    traceState: "",
    name: "",
    kind: 0,
    startTimeUnixNano: "0",
    endTimeUnixNano: "0",
    attributes: {},
    events: [],
    status: { code: 0, message: "" },
    resourceAttributes,
  };
  const attributeFields: Field[] = [];
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        span.traceId = idHex(bytesOf(f, "Span.trace_id"), 16, "Span.trace_id");
        break;
      case 2:
        span.spanId = idHex(bytesOf(f, "Span.span_id"), 8, "Span.span_id");
        break;
      case 3:
        span.traceState = text(f, "Span.trace_state");
        break;
      case 4: {
        const parent = bytesOf(f, "Span.parent_span_id");
        span.parentSpanId = parent.length === 0 ? null : idHex(parent, 8, "Span.parent_span_id");
        break;
      }
      case 5:
        span.name = text(f, "Span.name");
        break;
      case 6:
        span.kind = Number(intOf(f, "Span.kind"));
        break;
      case 7:
        span.startTimeUnixNano = intOf(f, "Span.start_time_unix_nano").toString();
        break;
      case 8:
        span.endTimeUnixNano = intOf(f, "Span.end_time_unix_nano").toString();
        break;
      case 9:
        attributeFields.push(f);
        break;
      case 11: {
        const event: OtlpEvent = { name: "", timeUnixNano: "0", attributes: {} };
        const eventAttributes: Field[] = [];
        for (const e of fields(bytesOf(f, "Span.events"))) {
          if (e.no === 1) event.timeUnixNano = intOf(e, "Event.time_unix_nano").toString();
          else if (e.no === 2) event.name = text(e, "Event.name");
          else if (e.no === 3) eventAttributes.push(e);
        }
        event.attributes = decodeKeyValues(eventAttributes, 0);
        span.events.push(event);
        break;
      }
      case 15:
        for (const s of fields(bytesOf(f, "Span.status"))) {
          if (s.no === 2) span.status.message = text(s, "Status.message");
          else if (s.no === 3) span.status.code = Number(intOf(s, "Status.code"));
        }
        break;
    }
  }
  span.attributes = decodeKeyValues(attributeFields, 0);
  if (!span.traceId) fail("A span has no trace_id");
  if (!span.spanId) fail("A span has no span_id");
  return span;
}

/** Decodes a binary ExportTraceServiceRequest into its spans (in body order). */
export function decodeExportTraceRequest(body: Uint8Array): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const rs of fields(body)) {
    if (rs.no !== 1) continue;
    const resourceSpans = fields(bytesOf(rs, "ExportTraceServiceRequest.resource_spans"));
    let resourceAttributes: Attributes = {};
    for (const f of resourceSpans) {
      if (f.no === 1) resourceAttributes = decodeKeyValues(fields(bytesOf(f, "ResourceSpans.resource")).filter((a) => a.no === 1), 0);
    }
    for (const f of resourceSpans) {
      if (f.no !== 2) continue;
      for (const s of fields(bytesOf(f, "ResourceSpans.scope_spans"))) {
        if (s.no === 2) spans.push(decodeSpan(bytesOf(s, "ScopeSpans.spans"), resourceAttributes));
      }
    }
  }
  return spans;
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON: lowerCamelCase names (protobuf JSON also allows the original snake_case), ids as hex,
// 64-bit integers as strings or numbers, enums as integers (or names).

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

function member(o: Record<string, Json>, camel: string, snake: string): Json {
  return o[camel] !== undefined ? o[camel] : o[snake];
}

function jsonList(o: Record<string, Json>, camel: string, snake: string, what: string): Record<string, Json>[] {
  const v = member(o, camel, snake);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`${what} must be an array`);
  return (v as Json[]).map((x) => (isObject(x) ? x : fail(`${what} must hold objects`)));
}

function jsonString(v: Json, what: string): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : fail(`${what} must be a string`);
}

function jsonUint64(v: Json, what: string): string {
  if (v === undefined || v === null) return "0";
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === "string" && /^\d{1,20}$/.test(v) && BigInt(v) < 2n ** 64n) return BigInt(v).toString();
  return fail(`${what} must be an unsigned 64-bit integer`);
}

function jsonEnum(v: Json, names: readonly string[], what: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "string" && names.includes(v)) return names.indexOf(v);
  return fail(`${what} has an invalid value`);
}

const HEX_ID = /^[0-9a-fA-F]+$/;
function jsonId(v: Json, length: number, what: string): string {
  const s = jsonString(v, what);
  if (!s) return "";
  if (s.length === length * 2 && HEX_ID.test(s)) return s.toLowerCase();
  // Protobuf's own JSON mapping writes bytes as base64, which some exporters send.
  let binary: string;
  try {
    binary = atob(s);
  } catch {
    return fail(`${what} must be ${length * 2} hex digits`);
  }
  if (binary.length !== length) fail(`${what} must be ${length * 2} hex digits`);
  return Array.from(binary, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}

function jsonAnyValue(v: Json, depth: number): AttributeValue {
  if (depth > MAX_DEPTH) fail("Attribute values are nested too deeply");
  if (!isObject(v)) return fail("An attribute value must be an AnyValue object");
  const str = member(v, "stringValue", "string_value");
  if (str !== undefined) return jsonString(str, "stringValue");
  const bool = member(v, "boolValue", "bool_value");
  if (bool !== undefined) return typeof bool === "boolean" ? bool : fail("boolValue must be a boolean");
  const int = member(v, "intValue", "int_value");
  if (int !== undefined) {
    if (typeof int === "number" && Number.isInteger(int)) return int;
    if (typeof int === "string" && /^-?\d{1,19}$/.test(int) && BigInt(int) >= -(2n ** 63n) && BigInt(int) < 2n ** 63n) {
      return int64Value(BigInt.asUintN(64, BigInt(int)));
    }
    return fail("intValue must be an integer");
  }
  const dbl = member(v, "doubleValue", "double_value");
  if (dbl !== undefined) {
    if (typeof dbl === "number") return dbl;
    if (dbl === "NaN" || dbl === "Infinity" || dbl === "-Infinity") return dbl;
    if (typeof dbl === "string" && dbl.trim() !== "" && Number.isFinite(Number(dbl))) return Number(dbl);
    return fail("doubleValue must be a number");
  }
  const arr = member(v, "arrayValue", "array_value");
  if (arr !== undefined) {
    if (!isObject(arr)) fail("arrayValue must be an object");
    const values = (arr as Record<string, Json>).values ?? [];
    if (!Array.isArray(values)) fail("arrayValue.values must be an array");
    return (values as Json[]).map((x) => jsonAnyValue(x, depth + 1));
  }
  const kv = member(v, "kvlistValue", "kvlist_value");
  if (kv !== undefined) {
    if (!isObject(kv)) fail("kvlistValue must be an object");
    return jsonKeyValues(jsonList(kv as Record<string, Json>, "values", "values", "kvlistValue.values"), depth + 1);
  }
  const bytes = member(v, "bytesValue", "bytes_value");
  if (bytes !== undefined) return jsonString(bytes, "bytesValue");
  return null;
}

function jsonKeyValues(kvs: Record<string, Json>[], depth: number): Attributes {
  const out: Attributes = {};
  for (const kv of kvs) out[jsonString(kv.key, "KeyValue.key")] = kv.value === undefined || kv.value === null ? null : jsonAnyValue(kv.value, depth);
  return out;
}

const SPAN_KINDS = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"] as const;
const STATUS_CODES = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"] as const;

export const spanKindName = (kind: number): string => SPAN_KINDS[kind] ?? SPAN_KINDS[0];
export const statusCodeName = (code: number): string => STATUS_CODES[code] ?? STATUS_CODES[0];

function jsonSpan(s: Record<string, Json>, resourceAttributes: Attributes): OtlpSpan {
  const traceId = jsonId(member(s, "traceId", "trace_id"), 16, "traceId");
  const spanId = jsonId(member(s, "spanId", "span_id"), 8, "spanId");
  if (!traceId) fail("A span has no traceId");
  if (!spanId) fail("A span has no spanId");
  const status = member(s, "status", "status");
  if (status !== undefined && status !== null && !isObject(status)) fail("status must be an object");
  const st = (status ?? {}) as Record<string, Json>;
  return {
    traceId,
    spanId,
    parentSpanId: jsonId(member(s, "parentSpanId", "parent_span_id"), 8, "parentSpanId") || null,
    traceState: jsonString(member(s, "traceState", "trace_state"), "traceState"),
    name: jsonString(s.name, "name"),
    kind: jsonEnum(s.kind, SPAN_KINDS, "kind"),
    startTimeUnixNano: jsonUint64(member(s, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano"),
    endTimeUnixNano: jsonUint64(member(s, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano"),
    attributes: jsonKeyValues(jsonList(s, "attributes", "attributes", "attributes"), 0),
    events: jsonList(s, "events", "events", "events").map((e) => ({
      name: jsonString(e.name, "event name"),
      timeUnixNano: jsonUint64(member(e, "timeUnixNano", "time_unix_nano"), "timeUnixNano"),
      attributes: jsonKeyValues(jsonList(e, "attributes", "attributes", "event attributes"), 0),
    })),
    status: { code: jsonEnum(st.code, STATUS_CODES, "status.code"), message: jsonString(st.message, "status.message") },
    resourceAttributes,
  };
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest (already parsed from text). */
export function decodeExportTraceRequestJson(body: Json): OtlpSpan[] {
  if (!isObject(body)) return fail("The OTLP/JSON body must be an object");
  const spans: OtlpSpan[] = [];
  for (const rs of jsonList(body, "resourceSpans", "resource_spans", "resourceSpans")) {
    const resource = rs.resource;
    const resourceAttributes = isObject(resource) ? jsonKeyValues(jsonList(resource, "attributes", "attributes", "resource.attributes"), 0) : {};
    for (const ss of jsonList(rs, "scopeSpans", "scope_spans", "scopeSpans")) {
      for (const s of jsonList(ss, "spans", "spans", "spans")) spans.push(jsonSpan(s, resourceAttributes));
    }
  }
  return spans;
}

// ---------------------------------------------------------------------------------------------
// Encoder: the same message, written back to the wire format.

class Writer {
  private chunks: number[] = [];

  varint(v: bigint): this {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.chunks.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.chunks.push(Number(x));
    return this;
  }

  tag(no: number, wire: number): this {
    return this.varint(BigInt((no << 3) | wire));
  }

  fixed64(no: number, v: bigint): this {
    this.tag(no, WIRE_I64);
    let x = BigInt.asUintN(64, v);
    for (let i = 0; i < 8; i++) {
      this.chunks.push(Number(x & 0xffn));
      x >>= 8n;
    }
    return this;
  }

  bytes(no: number, b: Uint8Array): this {
    this.tag(no, WIRE_LEN).varint(BigInt(b.length));
    for (const x of b) this.chunks.push(x);
    return this;
  }

  string(no: number, s: string): this {
    return this.bytes(no, new TextEncoder().encode(s));
  }

  message(no: number, w: Writer): this {
    return this.bytes(no, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

const fromHex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));

function encodeAnyValue(v: AttributeValue): Writer {
  const w = new Writer();
  if (v === null) return w;
  if (typeof v === "string") return w.string(1, v);
  if (typeof v === "boolean") return w.tag(2, WIRE_VARINT).varint(v ? 1n : 0n);
  if (typeof v === "number") {
    if (Number.isInteger(v)) return w.tag(3, WIRE_VARINT).varint(BigInt(v));
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, v, true);
    return w.fixed64(4, view.getBigUint64(0, true));
  }
  if (Array.isArray(v)) {
    const arr = new Writer();
    for (const x of v) arr.message(1, encodeAnyValue(x));
    return w.message(5, arr);
  }
  return w.message(6, encodeKeyValues(v, 1));
}

function encodeKeyValues(attrs: Attributes, fieldNo: number): Writer {
  const w = new Writer();
  for (const [key, value] of Object.entries(attrs)) w.message(fieldNo, new Writer().string(1, key).message(2, encodeAnyValue(value)));
  return w;
}

function appendKeyValues(w: Writer, fieldNo: number, attrs: Attributes): void {
  for (const [key, value] of Object.entries(attrs)) w.message(fieldNo, new Writer().string(1, key).message(2, encodeAnyValue(value)));
}

export type OtlpSpanInput = Omit<OtlpSpan, "resourceAttributes" | "traceState" | "kind" | "events" | "status" | "parentSpanId"> &
  Partial<Pick<OtlpSpan, "traceState" | "kind" | "events" | "status" | "parentSpanId">>;

/** Encodes spans as one ResourceSpans with one ScopeSpans, as MLflow's client does. */
export function encodeExportTraceRequest(spans: OtlpSpanInput[], resourceAttributes: Attributes = {}): Uint8Array {
  const scope = new Writer();
  for (const s of spans) {
    const span = new Writer().bytes(1, fromHex(s.traceId)).bytes(2, fromHex(s.spanId));
    if (s.traceState) span.string(3, s.traceState);
    if (s.parentSpanId) span.bytes(4, fromHex(s.parentSpanId));
    span.string(5, s.name);
    if (s.kind) span.tag(6, WIRE_VARINT).varint(BigInt(s.kind));
    span.fixed64(7, BigInt(s.startTimeUnixNano)).fixed64(8, BigInt(s.endTimeUnixNano));
    appendKeyValues(span, 9, s.attributes);
    for (const e of s.events ?? []) {
      const event = new Writer().fixed64(1, BigInt(e.timeUnixNano)).string(2, e.name);
      appendKeyValues(event, 3, e.attributes);
      span.message(11, event);
    }
    const status = new Writer();
    if (s.status?.message) status.string(2, s.status.message);
    if (s.status?.code) status.tag(3, WIRE_VARINT).varint(BigInt(s.status.code));
    span.message(15, status);
    scope.message(2, span);
  }
  const resource = new Writer();
  appendKeyValues(resource, 1, resourceAttributes);
  const resourceSpans = new Writer().message(1, resource).message(2, scope);
  return new Writer().message(1, resourceSpans).finish();
}
