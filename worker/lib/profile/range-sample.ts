/**
 * A sample of a large tabular file read through byte ranges, so a Worker can look at a file far bigger
 * than it could hold: the bytes come from any ranged source (R2 in the Worker), and only about
 * `budgetBytes` of them are fetched.
 *
 * - CSV, TSV and JSON lines: the header line, then `chunks` windows of budget / chunks bytes, one at a
 *   random place inside each of `chunks` equal strata of the body, so every part of a file written in
 *   time order is represented. Each window keeps only its complete lines (the partial line at either
 *   end is dropped). A line is kept when it lies wholly inside a window, so lines much longer than a
 *   window are under-represented; a check's windows are 128 KiB (4 MiB in 32), rows are rarely that long. A window that
 *   starts inside a quoted CSV field that spans lines can parse as nonsense: its rows with the wrong
 *   number of fields are dropped and counted, and a window the CSV parser rejects outright is dropped
 *   whole and counted.
 * - Parquet: the footer, then whole row groups in a seeded random order, each taken if it fits what is
 *   left of the budget. When no row group fits, and the file has page indexes, windows of rows spread
 *   over the file are read page by page instead; without page indexes such a file is refused.
 *
 * The seed makes the sample reproducible: the same file and seed give the same rows.
 */
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet/src/index.js";
import type { AsyncBuffer, FileMetaData } from "hyparquet/src/types.js";
import { mulberry32 } from "../random";
import { parseText, ProfileError, type Cell, type Table, type TextFormat } from "./index";
import { parquetCell } from "./parquet";

/** Bytes of a file by range: `read(offset, length)` returns exactly those bytes (fewer only at the end). */
export interface RangeSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface RangeSampleOptions {
  /** About how many bytes of the file to fetch (headers and footers come on top). */
  budgetBytes: number;
  /** Windows a text file is read in; each is budget / chunks bytes. */
  chunks?: number;
  seed: number;
}

export interface RangeSample {
  table: Table;
  method: "byte-ranges" | "row-groups" | "row-windows";
  /** Bytes fetched for the sample's rows (not counting the header or footer). */
  bytesRead: number;
  /** Exact row count when the file says it (Parquet), else null. */
  totalRows: number | null;
  /** An estimate from the rows per byte of the sample, when the exact count is unknown. */
  estimatedRows: number | null;
  /** Lines or windows that could not be read as rows and were left out. */
  droppedLines: number;
  droppedChunks: number;
}

const NEWLINE = 0x0a;
const MAX_HEADER_BYTES = 1 << 20;
/** Windows are never smaller than this, so few lines are lost at their edges. */
const MIN_WINDOW_BYTES = 4096;

/** The header line of a delimited file and the offset where its body starts. */
async function headerLine(src: RangeSource): Promise<{ header: string; bodyStart: number }> {
  for (let want = 64 * 1024; ; want *= 2) {
    const bytes = await src.read(0, Math.min(want, src.size, MAX_HEADER_BYTES));
    const nl = bytes.indexOf(NEWLINE);
    if (nl >= 0) return { header: new TextDecoder().decode(bytes.subarray(0, nl)).replace(/\r$/, ""), bodyStart: nl + 1 };
    if (bytes.length >= src.size) return { header: new TextDecoder().decode(bytes).replace(/\r$/, ""), bodyStart: src.size };
    if (bytes.length >= MAX_HEADER_BYTES) throw new ProfileError(`The header line is longer than ${MAX_HEADER_BYTES} bytes`);
  }
}

/** The complete lines of the window [offset, offset + length): text after the first and up to the last newline. */
async function windowLines(src: RangeSource, offset: number, length: number, bodyStart: number): Promise<{ text: string; bytes: number }> {
  // One byte before the window says whether it starts on a line boundary.
  const from = Math.max(bodyStart, offset - 1);
  const bytes = await src.read(from, offset + length - from);
  let start = 0;
  if (offset > bodyStart) {
    const nl = bytes.indexOf(NEWLINE);
    if (nl < 0) return { text: "", bytes: bytes.length };
    start = nl + 1;
  }
  const atEnd = from + bytes.length >= src.size;
  const end = atEnd ? bytes.length : bytes.lastIndexOf(NEWLINE) + 1;
  if (end <= start) return { text: "", bytes: bytes.length };
  // One line-end convention, so the lines parse like the header they are joined to.
  return { text: new TextDecoder().decode(bytes.subarray(start, end)).replace(/\r\n/g, "\n"), bytes: bytes.length };
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== "");
}

export async function sampleTextRanges(src: RangeSource, format: TextFormat, opts: RangeSampleOptions): Promise<RangeSample> {
  const { header, bodyStart } = format === "jsonl" ? { header: "", bodyStart: 0 } : await headerLine(src);
  const body = src.size - bodyStart;
  const chunks = Math.max(1, Math.min(opts.chunks ?? 32, Math.floor(opts.budgetBytes / MIN_WINDOW_BYTES) || 1));
  const window = Math.max(1, Math.floor(Math.min(opts.budgetBytes, body) / chunks));
  const rand = mulberry32(opts.seed);
  const stratum = body / chunks;
  const offsets = Array.from({ length: chunks }, (_, s) => {
    const lo = bodyStart + Math.floor(s * stratum);
    const room = Math.max(0, Math.floor(stratum) - window);
    return lo + Math.floor(rand() * (room + 1));
  });
  const windows = await Promise.all(offsets.map((o) => windowLines(src, o, Math.min(window, src.size - o), bodyStart)));
  let bytesRead = 0;
  let droppedLines = 0;
  let droppedChunks = 0;
  let table: Table;
  if (format === "jsonl") {
    const good: string[] = [];
    for (const w of windows) {
      bytesRead += w.bytes;
      for (const line of splitLines(w.text)) {
        let ok = false;
        try {
          const v: unknown = JSON.parse(line);
          ok = typeof v === "object" && v !== null && !Array.isArray(v);
        } catch {
          ok = false;
        }
        if (ok) good.push(line);
        else droppedLines++;
      }
    }
    table = parseText(good.join("\n"), "jsonl");
  } else {
    table = parseText(header, format);
    const width = table.columns.length;
    for (const w of windows) {
      bytesRead += w.bytes;
      if (!w.text) continue;
      let part: Table;
      try {
        part = parseText(`${header}\n${w.text}`, format);
      } catch (err) {
        if (!(err instanceof ProfileError)) throw err;
        droppedChunks++;
        continue;
      }
      for (const row of part.rows) {
        if (row.length === width) table.rows.push(row);
        else droppedLines++;
      }
    }
  }
  const kept = table.rows.length + droppedLines;
  return {
    table,
    method: "byte-ranges",
    bytesRead,
    totalRows: null,
    estimatedRows: bytesRead > 0 ? Math.round((kept / bytesRead) * body) : 0,
    droppedLines,
    droppedChunks,
  };
}

function asyncBuffer(src: RangeSource, counter: { bytes: number }): AsyncBuffer {
  return {
    byteLength: src.size,
    async slice(start: number, end?: number) {
      const stop = end ?? src.size;
      const bytes = await src.read(start, stop - start);
      counter.bytes += bytes.length;
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
    },
  };
}

function groupBytes(metadata: FileMetaData, i: number): number {
  return metadata.row_groups[i].columns.reduce((s, c) => s + Number(c.meta_data?.total_compressed_size ?? 0n), 0);
}

function shuffled(n: number, rand: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export async function sampleParquetRanges(src: RangeSource, opts: RangeSampleOptions): Promise<RangeSample> {
  const footer = { bytes: 0 };
  let metadata: FileMetaData;
  let names: string[];
  try {
    metadata = await parquetMetadataAsync(asyncBuffer(src, footer));
    names = parquetSchema(metadata).children.map((c) => c.element.name);
  } catch (err) {
    throw new ProfileError(`Could not read the Parquet file: ${(err as Error)?.message ?? String(err)}`);
  }
  const counter = { bytes: 0 };
  const file = asyncBuffer(src, counter);
  const totalRows = Number(metadata.num_rows);
  const rand = mulberry32(opts.seed);
  const starts: number[] = [];
  metadata.row_groups.reduce((at, g) => (starts.push(at), at + Number(g.num_rows)), 0);

  // Whole row groups in random order, each if it fits what is left of the budget; read in file order.
  let left = opts.budgetBytes;
  const chosen: number[] = [];
  for (const g of shuffled(metadata.row_groups.length, rand)) {
    const bytes = groupBytes(metadata, g);
    if (bytes <= left && Number(metadata.row_groups[g].num_rows) > 0) {
      chosen.push(g);
      left -= bytes;
    }
  }
  const ranges: [number, number][] = [];
  let method: RangeSample["method"] = "row-groups";
  if (chosen.length > 0) {
    for (const g of chosen.sort((a, b) => a - b)) ranges.push([starts[g], starts[g] + Number(metadata.row_groups[g].num_rows)]);
  } else if (totalRows > 0) {
    const indexed = metadata.row_groups.every((g) => g.columns.every((c) => c.offset_index_offset !== undefined));
    if (!indexed) {
      const smallest = Math.min(...metadata.row_groups.map((_, i) => groupBytes(metadata, i)));
      throw new ProfileError(
        `every row group is larger than the ${opts.budgetBytes}-byte sampling budget (the smallest is ${smallest} bytes) and the file has no page index to read part of one; write it with smaller row groups or with page indexes`,
      );
    }
    // Windows of rows spread over the file; the offset index limits each read to the pages it touches.
    method = "row-windows";
    const totalBytes = metadata.row_groups.reduce((s, _, i) => s + groupBytes(metadata, i), 0);
    const budgetRows = Math.max(1, Math.floor((totalRows * opts.budgetBytes) / Math.max(1, totalBytes)));
    const windows = Math.max(1, Math.min(opts.chunks ?? 8, budgetRows));
    const width = Math.max(1, Math.floor(budgetRows / windows));
    const stratum = totalRows / windows;
    for (let s = 0; s < windows; s++) {
      const lo = Math.floor(s * stratum);
      const start = lo + Math.floor(rand() * (Math.max(0, Math.floor(stratum) - width) + 1));
      ranges.push([start, Math.min(totalRows, start + width)]);
    }
  }
  const rows: Cell[][] = [];
  try {
    for (const [rowStart, rowEnd] of ranges) {
      const objects = await parquetReadObjects({ file, metadata, rowStart, rowEnd, useOffsetIndex: method === "row-windows" });
      for (const o of objects) rows.push(names.map((n) => parquetCell(o[n])));
    }
  } catch (err) {
    throw new ProfileError(`Could not read the Parquet file: ${(err as Error)?.message ?? String(err)}`);
  }
  return { table: { columns: names, rows }, method, bytesRead: counter.bytes, totalRows, estimatedRows: null, droppedLines: 0, droppedChunks: 0 };
}
