/**
 * Dataset versions as drift sides, the pure part: their wire shape, how a monitor may name one
 * ("name@3", "name@latest" or an id), which versions a report can read, and their label.
 */

export interface DatasetChoice {
  name: string;
  latest_version: number;
}

export interface VersionChoice {
  id: string;
  dataset: string;
  version: number;
  kind: "file" | "directory";
  file_name: string | null;
  size: number;
  row_count: number | null;
  schema: { name: string; type: string }[] | null;
  created_at: number;
}

/** "name@3" / "name@latest" as monitors may store a reference; null for anything else (a version id). */
export function parseVersionRef(ref: string): { dataset: string; version: number | "latest" } | null {
  const m = /^(.+)@(\d+|latest)$/.exec(ref);
  if (!m) return null;
  return { dataset: m[1], version: m[2] === "latest" ? "latest" : Number(m[2]) };
}

/** Only single-file CSV or Parquet versions can be compared. */
export function versionUsable(v: VersionChoice): string | null {
  if (v.kind === "directory") return "is a directory";
  if (!v.file_name || !/\.(csv|parquet)$/i.test(v.file_name)) return "is not a .csv or .parquet file";
  return null;
}

export const versionLabel = (v: VersionChoice): string => `${v.dataset} v${v.version}${v.file_name ? ` · ${v.file_name}` : ""}`;
