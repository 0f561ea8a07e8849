/**
 * Parquet files read with hyparquet (pure JavaScript) into the same profile as CSV: the column names
 * come from the file's schema, 64-bit integers become numbers, timestamps ISO-8601 text, nested values
 * JSON text. A whole file in memory, or, for files too large to hold, streamed: one column of one row
 * group at a time through an AsyncBuffer (byte ranges of a file handle or a Blob).
 */
import { parquetMetadata, parquetMetadataAsync, parquetRead, parquetReadObjects, parquetSchema } from "hyparquet/src/index.js";
import type { AsyncBuffer } from "hyparquet/src/types.js";
import { ProfileError, profileTable, type Cell, type Profile, type Table } from "./index";
import { ProfileAccumulator, type StreamOptions } from "./stream";

export type { AsyncBuffer };

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

const CELL_SLICE = 64 * 1024;

const readError = (err: unknown) => new ProfileError(`Could not read the Parquet file: ${(err as Error)?.message ?? String(err)}`);

/**
 * The profile of a Parquet file read a column chunk at a time: memory holds the footer, the sketches,
 * and one decoded column of one row group. `onRows(done, total)` after each row group.
 */
export async function profileParquetStream(file: AsyncBuffer, options: StreamOptions = {}, onRows?: (done: number, total: number) => void): Promise<Profile> {
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  let names: string[];
  try {
    metadata = await parquetMetadataAsync(file);
    names = parquetSchema(metadata).children.map((c) => c.element.name);
  } catch (err) {
    throw readError(err);
  }
  const acc = new ProfileAccumulator("parquet", names, options);
  const total = Number(metadata.num_rows);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const n = Number(group.num_rows);
    const rowEnd = rowStart + n;
    for (let i = 0; i < names.length; i++) {
      // Column chunks as decoded (typed arrays for numbers), without building a row object per row.
      let got = 0;
      const chunks: { data: ArrayLike<unknown>; from: number; to: number }[] = [];
      try {
        await parquetRead({
          file,
          metadata,
          columns: [names[i]],
          rowStart,
          rowEnd,
          onChunk: (c) => chunks.push({ data: c.columnData, from: c.rowStart, to: c.rowEnd }),
        });
      } catch (err) {
        throw readError(err);
      }
      chunks.sort((a, b) => a.from - b.from);
      for (const c of chunks) {
        const lo = Math.max(rowStart, c.from) - c.from;
        const hi = Math.min(rowEnd, c.to) - c.from;
        // Converted in slices, so only one slice of cells exists at a time beside the decoded chunk.
        for (let from = lo; from < hi; from += CELL_SLICE) {
          const to = Math.min(hi, from + CELL_SLICE);
          const values: Cell[] = new Array(to - from);
          for (let j = from; j < to; j++) values[j - from] = parquetCell(c.data[j]);
          acc.addColumnValues(i, values);
        }
        got += Math.max(0, hi - lo);
      }
      if (got !== n) throw new ProfileError(`Could not read the Parquet file: a row group of ${n} rows gave ${got} values of column '${names[i]}'`);
    }
    acc.endRows(n);
    rowStart = rowEnd;
    onRows?.(rowStart, total);
  }
  return acc.finish();
}
