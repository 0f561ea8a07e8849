/**
 * Reading MLflow's TraceInfoV3 the way the trace pages show it: request time and duration as
 * milliseconds, the trace's name, user tags apart from MLflow's own, and the order_by and filter
 * wording of traces/search. Pure: no imports; TraceInfoFields is the part of the API client's
 * MlflowTraceInfo read here.
 */

interface TraceInfoFields {
  request_time: string;
  execution_duration?: string;
  tags?: Record<string, string>;
  trace_metadata?: Record<string, string>;
}

export const TRACE_NAME_TAG = "mlflow.traceName";
export const SYSTEM_PREFIX = "mlflow.";

/** traces/search order_by keys the list can sort by. */
export type TraceSortKey = "timestamp_ms" | "execution_time_ms" | "status" | "name";

export interface TraceSort {
  key: TraceSortKey;
  ascending: boolean;
}

/** Newest first, as MLflow's own trace list opens. */
export const DEFAULT_TRACE_SORT: TraceSort = { key: "timestamp_ms", ascending: false };
export const TRACE_SORT_KEYS: readonly TraceSortKey[] = ["timestamp_ms", "execution_time_ms", "status", "name"];

export const orderByClause = (sort: TraceSort): string => `${sort.key} ${sort.ascending ? "ASC" : "DESC"}`;

/** A protobuf Timestamp (RFC 3339) as epoch milliseconds, or null. */
export function requestTimeMs(info: Pick<TraceInfoFields, "request_time">): number | null {
  const ms = Date.parse(info.request_time);
  return Number.isFinite(ms) ? ms : null;
}

/** A protobuf Duration ("1.250s", "-0.5s") as milliseconds, or null when absent or unreadable. */
export function parseDurationMs(value: string | undefined): number | null {
  if (!value) return null;
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(value.trim());
  if (!m) return null;
  const ms = Number(m[2]) * 1000 + Number((m[3] ?? "").padEnd(3, "0").slice(0, 3));
  return m[1] ? -ms : ms;
}

export const executionMs = (info: Pick<TraceInfoFields, "execution_duration">): number | null => parseDurationMs(info.execution_duration);

export const traceName = (info: Pick<TraceInfoFields, "tags">): string | null => info.tags?.[TRACE_NAME_TAG] || null;

const sortedEntries = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b));

/** Tags the user set; MLflow's own (mlflow.*) are kept apart. */
export const userTags = (info: Pick<TraceInfoFields, "tags">): [string, string][] => sortedEntries(info.tags).filter(([k]) => !k.startsWith(SYSTEM_PREFIX));
export const systemTags = (info: Pick<TraceInfoFields, "tags">): [string, string][] => sortedEntries(info.tags).filter(([k]) => k.startsWith(SYSTEM_PREFIX));
export const metadataEntries = (info: Pick<TraceInfoFields, "trace_metadata">): [string, string][] => sortedEntries(info.trace_metadata);

/** Previews are JSON text as the client wrote it: shown compact on one line, as they are if not JSON. */
export function previewText(preview: string | undefined, max = 160): string {
  if (!preview) return "";
  let text = preview;
  try {
    text = JSON.stringify(JSON.parse(preview));
  } catch {
    text = preview.replace(/\s+/g, " ");
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
