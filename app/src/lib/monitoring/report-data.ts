/**
 * What a saved report says about the data it compared, for the monitor dashboard: each side's dataset
 * version as people write it (name@N, linked to its page) and how many rows the check looked at, with
 * how a large version was sampled. Reports from the browser name files instead and carry no version.
 */
import { formatBytes } from "../artifacts/preview";

type Side = Record<string, unknown> | null;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const count = (n: number) => n.toLocaleString("en-US");

/** "name@N" and the version's page, or the bare version id when the report predates version numbers. */
export function reportVersion(side: Side): { label: string; href: string | null } | null {
  if (!side) return null;
  const dataset = str(side.dataset);
  const version = num(side.version);
  if (dataset && version !== null) return { label: `${dataset}@${version}`, href: `/datasets/${encodeURIComponent(dataset)}/versions/${version}` };
  const id = str(side.dataset_version) ?? str(side.name);
  return id ? { label: id, href: null } : null;
}

const METHODS: Record<string, string> = {
  "byte-ranges": "line-aligned byte ranges spread over the file",
  "row-groups": "whole Parquet row groups chosen at random",
  "row-windows": "windows of rows read page by page",
};

/** One side's rows: "50,000 of ≈600,000" and a sentence on how they were read. */
export function sideRows(side: Side): { text: string; title: string } | null {
  if (!side) return null;
  const rows = num(side.rows);
  const checked = num(side.checked_rows);
  if (rows === null) return null;
  const total = `${side.rows_estimated ? "≈" : ""}${count(rows)}`;
  const text = checked !== null && checked < rows ? `${count(checked)} of ${total}` : total;
  const parts: string[] = [];
  const method = str(side.sample_method);
  if (method) {
    const bytes = num(side.sample_bytes);
    parts.push(`Too large to read whole: sampled by ${METHODS[method] ?? method}${bytes !== null ? ` (${formatBytes(bytes)} read)` : ""}.`);
    const dropped = num(side.sample_dropped_rows);
    if (dropped) parts.push(`${count(dropped)} unparseable rows left out.`);
  }
  if (side.rows_estimated) parts.push("The row count is estimated from the sample.");
  if (checked !== null && checked < rows) parts.push(`${count(checked)} rows drawn at random were checked.`);
  return { text, title: parts.join(" ") };
}
