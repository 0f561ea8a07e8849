/**
 * The first rows of a version's file, read in the browser with byte-range requests to the download
 * endpoint: the head of a CSV/TSV/JSON-lines file (cut at its last complete line, parsed with the same
 * parser as the profile), or, for Parquet, only the footer and the first row group's pages that
 * hyparquet asks for. Counts the bytes it fetched, so the page can say how little it read.
 */
import { cachedAsyncBuffer, parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer } from "hyparquet";
import { authHeaders } from "$lib/api/datasets";
import { parseText, tabularFormat, type Cell } from "../../../../worker/lib/profile/index";

export const PREVIEW_ROWS = 20;
/** Text files: how much of the head to fetch. Enough for 20 rows of all but very wide tables. */
export const TEXT_HEAD_BYTES = 64 * 1024;

export interface Preview {
  columns: string[];
  rows: Cell[][];
  /** Bytes fetched to build it. */
  bytesRead: number;
  format: string;
}

/** Whether a file's name or type says it can be previewed. */
export function previewable(fileName: string | null, contentType: string | null): boolean {
  return tabularFormat(fileName, contentType) !== null;
}

async function fetchRange(url: string, start: number, end: number): Promise<ArrayBuffer> {
  const res = await fetch(url, { headers: { ...authHeaders(), Range: `bytes=${start}-${end - 1}` } });
  if (!res.ok) throw new Error(`Could not read the file: HTTP ${res.status}`);
  const buf = await res.arrayBuffer();
  // A server that ignores Range answers 200 with the whole body: keep only what was asked for.
  return res.status === 206 ? buf : buf.slice(start, end);
}

function displayCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
}

export async function readPreview(url: string, fileName: string | null, contentType: string | null, size: number, maxRows = PREVIEW_ROWS): Promise<Preview> {
  const format = tabularFormat(fileName, contentType);
  if (!format) throw new Error("This file is not CSV, TSV, JSON lines or Parquet");
  if (size === 0) return { columns: [], rows: [], bytesRead: 0, format };
  if (format === "parquet") {
    let bytesRead = 0;
    const remote: AsyncBuffer = {
      byteLength: size,
      slice: async (start, end) => {
        const stop = Math.min(size, end ?? size);
        bytesRead += stop - start;
        return fetchRange(url, start, stop);
      },
    };
    const file = cachedAsyncBuffer(remote);
    const metadata = await parquetMetadataAsync(file);
    const columns = parquetSchema(metadata).children.map((c) => c.element.name);
    const objects = await parquetReadObjects({ file, metadata, rowStart: 0, rowEnd: Math.min(maxRows, Number(metadata.num_rows)) });
    return { columns, rows: objects.map((o) => columns.map((c) => displayCell(o[c]))), bytesRead, format };
  }
  const end = Math.min(size, TEXT_HEAD_BYTES);
  const bytes = await fetchRange(url, 0, end);
  let text = new TextDecoder().decode(bytes);
  if (end < size) {
    // Drop the last line: it is probably cut short.
    const cut = text.lastIndexOf("\n");
    text = cut > 0 ? text.slice(0, cut) : text;
  }
  const table = parseText(text, format);
  return { columns: table.columns, rows: table.rows.slice(0, maxRows), bytesRead: bytes.byteLength, format };
}
