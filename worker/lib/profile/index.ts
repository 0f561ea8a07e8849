/**
 * Schema inference and column profiles of tabular files (CSV, TSV, JSON lines), runtime-free: the
 * Worker profiles small uploads with it, the app's Web Worker and the CLI profile local files with it,
 * so every profile of the same bytes is the same. Statistics follow pandas' describe(): sample
 * standard deviation (n - 1), quantiles by linear interpolation between order statistics.
 */
import Papa from "papaparse";
import { z } from "zod";

export type ColumnType = "integer" | "number" | "boolean" | "datetime" | "string" | "empty";
export type TextFormat = "csv" | "tsv" | "jsonl";
export type TabularFormat = TextFormat | "parquet";

export const QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;
export const TOP_CATEGORIES = 10;

/** The cells pandas reads as missing by default (a subset that covers what files in the wild use). */
const MISSING_TEXT = new Set(["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None"]);

export const NumericStatsSchema = z.object({
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  std: z.number().nullable(),
  quantiles: z.record(z.string(), z.number()),
});

export const ColumnProfileSchema = z.object({
  name: z.string().max(1000),
  type: z.enum(["integer", "number", "boolean", "datetime", "string", "empty"]),
  count: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  missing_share: z.number().min(0).max(1),
  distinct: z.number().int().nonnegative().nullable(),
  numeric: NumericStatsSchema.nullable(),
  top: z.array(z.object({ value: z.string().max(1000), count: z.number().int().nonnegative() })).max(100),
  /** Present when the quantiles come from a sketch: each lies within this fraction of rank of the true one. */
  quantile_rank_error: z.number().min(0).max(1).optional(),
  /** Present when the top counts come from a frequent-items summary: each true count is in [count, count + this]; `distinct` is then null. */
  top_count_error: z.number().int().nonnegative().optional(),
});

export const ProfileSchema = z.object({
  format: z.string().max(50),
  row_count: z.number().int().nonnegative(),
  columns: z.array(ColumnProfileSchema).max(10_000),
  /** True when some statistic is approximate (a profile streamed from a file too large to hold). */
  approximate: z.boolean().optional(),
});

export type NumericStats = z.infer<typeof NumericStatsSchema>;
export type ColumnProfile = z.infer<typeof ColumnProfileSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type SchemaField = { name: string; type: ColumnType };

export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProfileError";
  }
}

/** The tabular format a file name (or content type) says, or null for anything else. */
export function tabularFormat(fileName: string | null, contentType?: string | null): TabularFormat | null {
  const name = (fileName ?? "").toLowerCase();
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".tsv") || name.endsWith(".tab")) return "tsv";
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  if (name.endsWith(".parquet") || name.endsWith(".pq")) return "parquet";
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("text/csv")) return "csv";
  if (type.startsWith("text/tab-separated-values")) return "tsv";
  if (type.startsWith("application/x-ndjson") || type.startsWith("application/jsonl")) return "jsonl";
  if (type.startsWith("application/vnd.apache.parquet") || type.startsWith("application/x-parquet")) return "parquet";
  return null;
}

const TABULAR_CONTENT_TYPES: Record<TabularFormat, string> = {
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  jsonl: "application/x-ndjson",
  parquet: "application/vnd.apache.parquet",
};

/** The media type a dataset file of this tabular format is stored and served with (RFC 4180, IANA, ndjson). */
export function tabularContentType(format: TabularFormat): string {
  return TABULAR_CONTENT_TYPES[format];
}

/** The value of one cell: missing (null), a number, a boolean or text. */
export type Cell = null | number | boolean | string;

export const INTEGER = /^[+-]?\d+$/;
export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
export const BOOLEAN = /^(true|false)$/i;
export const DATETIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function textCell(raw: string): Cell {
  return MISSING_TEXT.has(raw.trim()) ? null : raw;
}

export function jsonCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "boolean" || typeof v === "string") return typeof v === "string" ? textCell(v) : v;
  return JSON.stringify(v);
}

/** The narrowest type every present value of a column fits. */
export function inferType(values: readonly Cell[]): ColumnType {
  let integer = true;
  let number = true;
  let boolean = true;
  let datetime = true;
  let seen = false;
  for (const v of values) {
    if (v === null) continue;
    seen = true;
    if (typeof v === "number") {
      boolean = datetime = false;
      if (!Number.isInteger(v)) integer = false;
    } else if (typeof v === "boolean") {
      integer = number = datetime = false;
    } else {
      const s = v.trim();
      if (!INTEGER.test(s)) integer = false;
      if (!NUMBER.test(s)) number = false;
      if (!BOOLEAN.test(s)) boolean = false;
      if (!DATETIME.test(s) || Number.isNaN(Date.parse(s.replace(" ", "T")))) datetime = false;
    }
    if (!integer && !number && !boolean && !datetime) return "string";
  }
  if (!seen) return "empty";
  if (integer) return "integer";
  if (number) return "number";
  if (boolean) return "boolean";
  if (datetime) return "datetime";
  return "string";
}

/** Quantile q of sorted values by linear interpolation (numpy's default, pandas' describe). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Statistics of the finite values: text that overflows a double ("1e999") keeps its column numeric
 * but stays out of min, max, mean and quantiles, which JSON could not carry as Infinity or NaN.
 */
export function numericStats(values: readonly number[]): NumericStats | null {
  const sorted = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  let mean = 0;
  // Welford's update: stable for large values with small spread.
  let m2 = 0;
  sorted.forEach((x, i) => {
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  });
  const n = sorted.length;
  return {
    min: sorted[0],
    max: sorted[n - 1],
    mean,
    std: n > 1 ? Math.sqrt(m2 / (n - 1)) : null,
    quantiles: Object.fromEntries(QUANTILES.map((q) => [String(q), quantile(sorted, q)])),
  };
}

export function asText(v: Exclude<Cell, null>): string {
  return typeof v === "string" ? v : String(v);
}

export function profileColumn(name: string, values: readonly Cell[]): ColumnProfile {
  const type = inferType(values);
  const present = values.filter((v): v is Exclude<Cell, null> => v !== null);
  const missing = values.length - present.length;
  let numeric: NumericStats | null = null;
  let top: { value: string; count: number }[] = [];
  let distinct: number | null = null;
  if (type === "integer" || type === "number") {
    numeric = numericStats(present.map((v) => (typeof v === "number" ? v : Number(String(v).trim()))));
  } else if (type !== "empty") {
    const counts = new Map<string, number>();
    for (const v of present) {
      const key = type === "boolean" ? asText(v).trim().toLowerCase() : asText(v);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    distinct = counts.size;
    top = [...counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, TOP_CATEGORIES)
      .map(([value, count]) => ({ value: value.length > 1000 ? value.slice(0, 1000) : value, count }));
  }
  return { name, type, count: present.length, missing, missing_share: values.length ? missing / values.length : 0, distinct, numeric, top };
}

/** Profiles rows given as arrays aligned with `columns`; short rows count as missing cells. */
export function profileTable(format: string, columns: readonly string[], rows: readonly (readonly Cell[])[]): Profile {
  return {
    format,
    row_count: rows.length,
    columns: columns.map((name, i) => profileColumn(name, rows.map((r) => (i < r.length ? r[i] : null)))),
  };
}

/** A parsed file: its column names and its rows of cells, before any profiling. */
export interface Table {
  columns: string[];
  rows: Cell[][];
}

function delimited(text: string, delimiter: string, format: TabularFormat): Table {
  const parsed = Papa.parse<string[]>(text, { delimiter, skipEmptyLines: true });
  const fatal = parsed.errors.find((e) => e.type === "Quotes");
  if (fatal) throw new ProfileError(`Could not parse the ${format.toUpperCase()} file: ${fatal.message} (row ${fatal.row ?? "?"})`);
  const [header, ...body] = parsed.data;
  if (!header) return { columns: [], rows: [] };
  const names = dedupeNames(header.map((h) => h.trim()));
  return { columns: names, rows: body.map((r) => r.map(textCell)) };
}

function jsonLines(text: string): Table {
  const names: string[] = [];
  const index = new Map<string, number>();
  const rows: Cell[][] = [];
  let lineNo = 0;
  for (const line of text.split(/\r?\n/)) {
    lineNo++;
    if (line.trim() === "") continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new ProfileError(`Could not parse the JSON lines file: line ${lineNo} is not JSON`);
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new ProfileError(`Could not parse the JSON lines file: line ${lineNo} is not a JSON object`);
    const row: Cell[] = [];
    for (const [k, v] of Object.entries(obj)) {
      let i = index.get(k);
      if (i === undefined) {
        i = names.length;
        index.set(k, i);
        names.push(k);
      }
      row[i] = jsonCell(v);
    }
    rows.push(row);
  }
  return { columns: names, rows: rows.map((r) => Array.from({ length: names.length }, (_, i) => r[i] ?? null)) };
}

/** Header cells made unique the way pandas does it (a, a.1, a.2); empty ones become Unnamed: i. */
export function dedupeNames(header: string[]): string[] {
  const seen = new Map<string, number>();
  return header.map((h, i) => {
    const base = h === "" ? `Unnamed: ${i}` : h;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? base : `${base}.${n}`;
  });
}

/** A text file's header and rows, as every profile of it reads them. */
export function parseText(text: string, format: TextFormat): Table {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (format === "csv") return delimited(body, ",", format);
  if (format === "tsv") return delimited(body, "\t", format);
  return jsonLines(body);
}

export function profileText(text: string, format: TextFormat): Profile {
  const t = parseText(text, format);
  return profileTable(format, t.columns, t.rows);
}

/**
 * A table as columns of typed values (name → values in row order): text cells of a column that
 * inferType calls numeric become numbers and of a boolean column booleans, so consumers such as drift
 * checks see the same column types the profile reports.
 */
export function tableColumns(t: Table): Record<string, Cell[]> {
  const out: Record<string, Cell[]> = {};
  t.columns.forEach((name, i) => {
    const values = t.rows.map((r) => (i < r.length ? r[i] : null));
    const type = inferType(values);
    if (type === "integer" || type === "number") out[name] = values.map((v) => (typeof v === "string" ? Number(v.trim()) : v));
    else if (type === "boolean") out[name] = values.map((v) => (typeof v === "string" ? v.trim().toLowerCase() === "true" : v));
    else out[name] = values;
  });
  return out;
}

export const schemaOf = (p: Profile): SchemaField[] => p.columns.map((c) => ({ name: c.name, type: c.type }));

export interface ColumnChange {
  name: string;
  change: "added" | "removed" | "type_changed" | "stats_changed" | "unchanged";
  type_before: ColumnType | null;
  type_after: ColumnType | null;
  /** Per statistic: [before, after] for every statistic that differs. */
  stats: Record<string, [number | null, number | null]>;
}

function flatStats(c: ColumnProfile): Record<string, number | null> {
  const out: Record<string, number | null> = { count: c.count, missing_share: c.missing_share, distinct: c.distinct };
  if (c.numeric) {
    out.min = c.numeric.min;
    out.max = c.numeric.max;
    out.mean = c.numeric.mean;
    out.std = c.numeric.std;
    for (const [q, v] of Object.entries(c.numeric.quantiles)) out[`q${q}`] = v;
  }
  return out;
}

/** Column by column: what was added, removed, retyped, and which statistics moved. */
export function diffProfiles(before: Profile | null, after: Profile | null): ColumnChange[] {
  const a = new Map((before?.columns ?? []).map((c) => [c.name, c]));
  const b = new Map((after?.columns ?? []).map((c) => [c.name, c]));
  const names = [...(before?.columns ?? []).map((c) => c.name), ...(after?.columns ?? []).map((c) => c.name).filter((n) => !a.has(n))];
  return names.map((name) => {
    const x = a.get(name);
    const y = b.get(name);
    if (!x) return { name, change: "added", type_before: null, type_after: y!.type, stats: {} };
    if (!y) return { name, change: "removed", type_before: x.type, type_after: null, stats: {} };
    const sx = flatStats(x);
    const sy = flatStats(y);
    const stats: Record<string, [number | null, number | null]> = {};
    for (const k of new Set([...Object.keys(sx), ...Object.keys(sy)])) {
      if ((sx[k] ?? null) !== (sy[k] ?? null)) stats[k] = [sx[k] ?? null, sy[k] ?? null];
    }
    const change = x.type !== y.type ? "type_changed" : Object.keys(stats).length ? "stats_changed" : "unchanged";
    return { name, change, type_before: x.type, type_after: y.type, stats };
  });
}
