/**
 * A trace's spans as the trace page shows them: OpenTelemetry protobuf JSON read into typed spans
 * (hex ids, decoded attribute values, MLflow's inputs/outputs/type), the parent/child tree, the rows
 * a collapsible tree shows, and the waterfall layout of each span against the trace's extent.
 * Times stay nanosecond BigInts: a float cannot hold epoch nanoseconds exactly. Pure: only type imports,
 * so it runs in Node tests as it does in the app.
 */

export type { OtelAnyValue, OtelKeyValue } from "../api/trace-types";
import type { OtelAnyValue, OtelKeyValue, OtelSpan } from "../api/trace-types";

/** The part of a span this module reads. */
export type WireSpan = Omit<OtelSpan, "trace_id">;

/** The span attribute keys MLflow's client writes. */
export const SPAN_KEYS = {
  inputs: "mlflow.spanInputs",
  outputs: "mlflow.spanOutputs",
  spanType: "mlflow.spanType",
} as const;

export type SpanStatus = "OK" | "ERROR" | "UNSET";

export interface SpanEventView {
  name: string;
  timeNs: bigint;
  attributes: Record<string, unknown>;
}

export interface SpanNode {
  /** Hex, as OpenTelemetry tools print span ids. */
  spanId: string;
  parentId: string | null;
  name: string;
  spanType: string | null;
  kind: string | null;
  status: SpanStatus;
  statusMessage: string;
  startNs: bigint;
  /** null while the span has not ended. */
  endNs: bigint | null;
  /** undefined when the span recorded none. */
  inputs: unknown;
  outputs: unknown;
  /** Every other attribute, decoded. */
  attributes: Record<string, unknown>;
  events: SpanEventView[];
  depth: number;
  children: SpanNode[];
}

export interface SpanTree {
  roots: SpanNode[];
  byId: ReadonlyMap<string, SpanNode>;
  /** The earliest start and the latest end (or start, for spans still open) over all spans. */
  startNs: bigint;
  endNs: bigint;
}

/** Base64 (standard or URL-safe) to lowercase hex; text that is not base64 is kept as it is. */
export function base64ToHex(value: string): string {
  if (!value) return "";
  try {
    const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    let hex = "";
    for (let i = 0; i < binary.length; i++) hex += binary.charCodeAt(i).toString(16).padStart(2, "0");
    return hex;
  } catch {
    return value;
  }
}

/** A nanosecond time as protobuf JSON writes it; anything that is not a whole number is null. */
export function parseNanos(value: string | number | undefined | null): bigint | null {
  if (value === undefined || value === null || value === "") return null;
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) return null;
  return BigInt(text);
}

/** MLflow writes attribute values as JSON text; newer clients send the decoded value. Read both. */
export function decodeJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An AnyValue as a plain value; int64 beyond 2^53 stays a decimal string rather than losing digits. */
export function anyValue(v: OtelAnyValue | undefined): unknown {
  if (!v) return null;
  if (v.string_value !== undefined) return v.string_value;
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.int_value !== undefined) {
    const n = Number(v.int_value);
    return Number.isSafeInteger(n) ? n : String(v.int_value);
  }
  if (v.double_value !== undefined) return typeof v.double_value === "number" ? v.double_value : Number(v.double_value);
  if (v.bytes_value !== undefined) return v.bytes_value;
  if (v.array_value !== undefined) return (v.array_value.values ?? []).map(anyValue);
  if (v.kvlist_value !== undefined) return attributeMap(v.kvlist_value.values);
  return null;
}

/** Attributes as an object; string values are read as MLflow's JSON text where they parse. */
export function attributeMap(kvs: OtelKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) {
    const value = anyValue(kv.value);
    out[kv.key] = typeof value === "string" ? decodeJsonText(value) : value;
  }
  return out;
}

function statusOf(code: string | undefined): SpanStatus {
  if (code === "STATUS_CODE_OK" || code === "OK" || code === "1") return "OK";
  if (code === "STATUS_CODE_ERROR" || code === "ERROR" || code === "2") return "ERROR";
  return "UNSET";
}

/** One wire span as a tree node, not yet linked. Spans without a readable start time start at 0. */
export function readSpan(span: WireSpan): SpanNode {
  const attributes = attributeMap(span.attributes);
  const take = (key: string) => {
    if (!(key in attributes)) return undefined;
    const value = attributes[key];
    delete attributes[key];
    return value;
  };
  const inputs = take(SPAN_KEYS.inputs);
  const outputs = take(SPAN_KEYS.outputs);
  const type = take(SPAN_KEYS.spanType);
  const kind = span.kind && span.kind !== "SPAN_KIND_UNSPECIFIED" ? span.kind.replace(/^SPAN_KIND_/, "") : null;
  return {
    spanId: base64ToHex(span.span_id),
    parentId: span.parent_span_id ? base64ToHex(span.parent_span_id) : null,
    name: span.name || "(unnamed)",
    spanType: type === undefined || type === null || type === "" ? null : String(type),
    kind,
    status: statusOf(span.status?.code),
    statusMessage: span.status?.message ?? "",
    startNs: parseNanos(span.start_time_unix_nano) ?? 0n,
    endNs: parseNanos(span.end_time_unix_nano),
    inputs,
    outputs,
    attributes,
    events: (span.events ?? []).map((e) => ({ name: e.name, timeNs: parseNanos(e.time_unix_nano) ?? 0n, attributes: attributeMap(e.attributes) })),
    depth: 0,
    children: [],
  };
}

const byStart = (a: SpanNode, b: SpanNode) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0);

/**
 * Links spans into a forest. A span whose parent is missing (not yet arrived, or dropped) becomes a
 * root, as does a span caught in a parent cycle; siblings are ordered by start time (stable, so equal
 * starts keep the order the server sent). A repeated span id keeps its first span.
 */
export function buildSpanTree(spans: readonly WireSpan[]): SpanTree {
  const byId = new Map<string, SpanNode>();
  for (const span of spans) {
    const node = readSpan(span);
    if (!byId.has(node.spanId)) byId.set(node.spanId, node);
  }
  const roots: SpanNode[] = [];
  for (const node of byId.values()) {
    const parent = node.parentId && node.parentId !== node.spanId ? byId.get(node.parentId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  // Nodes in a cycle hang off each other and are reached from no root: break each cycle at the
  // span that started first, so every span is shown exactly once.
  const reached = new Set<SpanNode>();
  const mark = (node: SpanNode) => {
    const stack = [node];
    while (stack.length) {
      const n = stack.pop()!;
      if (reached.has(n)) continue;
      reached.add(n);
      stack.push(...n.children);
    }
  };
  roots.forEach(mark);
  const stranded = [...byId.values()].filter((n) => !reached.has(n)).sort(byStart);
  for (const node of stranded) {
    if (reached.has(node)) continue;
    const parent = byId.get(node.parentId!)!;
    parent.children = parent.children.filter((c) => c !== node);
    roots.push(node);
    mark(node);
  }

  const sortAndDepth = (nodes: SpanNode[], depth: number) => {
    nodes.sort(byStart);
    for (const n of nodes) {
      n.depth = depth;
      sortAndDepth(n.children, depth + 1);
    }
  };
  sortAndDepth(roots, 0);

  let startNs: bigint | null = null;
  let endNs: bigint | null = null;
  for (const n of byId.values()) {
    const end = n.endNs !== null && n.endNs > n.startNs ? n.endNs : n.startNs;
    if (startNs === null || n.startNs < startNs) startNs = n.startNs;
    if (endNs === null || end > endNs) endNs = end;
  }
  return { roots, byId, startNs: startNs ?? 0n, endNs: endNs ?? 0n };
}

/** The rows a tree view shows: depth-first, skipping the descendants of collapsed spans. */
export function visibleSpans(roots: readonly SpanNode[], collapsed: ReadonlySet<string>): SpanNode[] {
  const rows: SpanNode[] = [];
  const walk = (nodes: readonly SpanNode[]) => {
    for (const n of nodes) {
      rows.push(n);
      if (!collapsed.has(n.spanId)) walk(n.children);
    }
  };
  walk(roots);
  return rows;
}

/** The span's ancestors, root first: expanding them makes the span visible. */
export function ancestorsOf(tree: SpanTree, spanId: string): SpanNode[] {
  const chain: SpanNode[] = [];
  const seen = new Set<string>([spanId]);
  let node = tree.byId.get(spanId);
  while (node?.parentId && !seen.has(node.parentId)) {
    const parent = tree.byId.get(node.parentId);
    if (!parent || !parent.children.includes(node)) break;
    seen.add(parent.spanId);
    chain.unshift(parent);
    node = parent;
  }
  return chain;
}

export interface WaterfallBar {
  /** Where the bar starts, as a fraction of the trace's extent. */
  offset: number;
  /** How long it is, as a fraction of the trace's extent (0 for an instant). */
  width: number;
  /** The span has not ended: the bar runs to the end of the trace. */
  open: boolean;
}

/** Only the differences go through floats, so nanosecond precision survives at epoch magnitudes. */
export function waterfallBar(span: SpanNode, tree: Pick<SpanTree, "startNs" | "endNs">): WaterfallBar {
  const total = tree.endNs - tree.startNs;
  const open = span.endNs === null;
  const end = span.endNs === null ? tree.endNs : span.endNs < span.startNs ? span.startNs : span.endNs;
  if (total <= 0n) return { offset: 0, width: 1, open };
  const clamp = (x: number) => Math.min(1, Math.max(0, x));
  const offset = clamp(Number(span.startNs - tree.startNs) / Number(total));
  const width = clamp(Number(end - span.startNs) / Number(total));
  return { offset, width: Math.min(width, 1 - offset), open };
}

/** A span's duration in nanoseconds, or null while it is open. */
export function spanDurationNs(span: SpanNode): bigint | null {
  if (span.endNs === null) return null;
  return span.endNs >= span.startNs ? span.endNs - span.startNs : 0n;
}

/** "420ns", "12.5µs", "3.25ms", "250ms", "1.50s", "2m 05s": short, with three significant digits. */
export function formatNanos(ns: bigint | null): string {
  if (ns === null) return "—";
  if (ns < 0n) return "—";
  if (ns < 1_000n) return `${ns}ns`;
  const sig = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
  if (ns < 1_000_000n) return `${sig(Number(ns) / 1e3)}µs`;
  if (ns < 1_000_000_000n) return `${sig(Number(ns) / 1e6)}ms`;
  const seconds = Number(ns / 1_000_000n) / 1000;
  if (seconds < 60) return `${sig(seconds)}s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor(total / 60) % 60;
  const s = total % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, "0")}m` : `${m}m ${String(s).padStart(2, "0")}s`;
}

/** A value as the detail panel prints it: JSON, two-space indented; text that is not JSON as it is. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) ?? String(value);
  } catch {
    return String(value);
  }
}
