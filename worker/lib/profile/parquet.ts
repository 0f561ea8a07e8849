/**
 * Parquet files read with hyparquet (pure JavaScript) into the same profile as CSV: the column names
 * come from the file's schema, 64-bit integers become numbers, timestamps ISO-8601 text, nested values
 * JSON text.
 */
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet/src/index.js";
import { ProfileError, profileTable, type Cell, type Profile, type Table } from "./index";

/** One Parquet value as a profile cell. */
export function parquetCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "boolean" || typeof v === "string") return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
}

/** A Parquet file's columns and rows, as its profile reads them. */
export async function readParquet(buffer: ArrayBuffer): Promise<Table> {
  let names: string[];
  let rows: Record<string, unknown>[];
  try {
    const metadata = parquetMetadata(buffer);
    names = parquetSchema(metadata).children.map((c) => c.element.name);
    rows = await parquetReadObjects({ file: buffer, metadata });
  } catch (err) {
    throw new ProfileError(`Could not read the Parquet file: ${(err as Error)?.message ?? String(err)}`);
  }
  return { columns: names, rows: rows.map((r) => names.map((n) => parquetCell(r[n]))) };
}

export async function profileParquet(buffer: ArrayBuffer): Promise<Profile> {
  const t = await readParquet(buffer);
  return profileTable("parquet", t.columns, t.rows);
}
