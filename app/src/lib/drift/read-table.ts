/**
 * Reading a CSV (papaparse, streamed in chunks) or Parquet (hyparquet) file into a columnar Table,
 * with progress. Cells are typed the way pandas' read_csv types them, since Evidently's column
 * types follow pandas dtypes: a column is numeric when every non-missing cell parses as a number,
 * integer when every cell is written as one and none is missing, otherwise its text values are kept
 * (all-boolean text becomes booleans). Runs in a Web Worker or in Node; no DOM.
 */
import Papa from "papaparse";
import { parquetMetadata, parquetMetadataAsync, parquetRead, parquetSchema } from "hyparquet";
import type { CategoryValue } from "../../../../worker/lib/drift";
import type { ColumnValues, Table } from "./table";

export type TableFormat = "csv" | "parquet";

/** Fraction of the input read so far, in [0, 1]. */
export type ReadProgress = (fraction: number) => void;

/** pandas' default missing-value markers for read_csv. */
const NA_STRINGS = new Set([
  "",
  "#N/A",
  "#N/A N/A",
  "#NA",
  "-1.#IND",
  "-1.#QNAN",
  "-NaN",
  "-nan",
  "1.#IND",
  "1.#QNAN",
  "<NA>",
  "N/A",
  "NA",
  "NULL",
  "NaN",
  "None",
  "n/a",
  "nan",
  "null",
]);
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?(inf|infinity)$/i;
const BOOLEANS: Record<string, boolean> = { True: true, true: true, TRUE: true, False: false, false: false, FALSE: false };

export function formatOf(fileName: string): TableFormat {
  return /\.parquet$/i.test(fileName) ? "parquet" : "csv";
}

/** Grows a column cell by cell: numbers until the first cell that is not one, then dictionary codes. */
class ColumnBuilder {
  private numbers: Float64Array | null = new Float64Array(1024);
  private codes: Int32Array | null = null;
  private dictionary = new Map<CategoryValue, number>();
  private integer = true;
  private missing = false;
  length = 0;

  private grow(): void {
    if (this.numbers && this.length === this.numbers.length) {
      const next = new Float64Array(this.numbers.length * 2);
      next.set(this.numbers);
      this.numbers = next;
    }
    if (this.codes && this.length === this.codes.length) {
      const next = new Int32Array(this.codes.length * 2);
      next.set(this.codes);
      this.codes = next;
    }
  }

  private code(v: CategoryValue): number {
    let c = this.dictionary.get(v);
    if (c === undefined) {
      c = this.dictionary.size;
      this.dictionary.set(v, c);
    }
    return c;
  }

  /** Switch to text storage: the numbers read so far become their shortest decimal text. */
  private toCategories(): void {
    const nums = this.numbers as Float64Array;
    const codes = new Int32Array(Math.max(1024, nums.length));
    for (let i = 0; i < this.length; i++) codes[i] = Number.isNaN(nums[i]) ? -1 : this.code(String(nums[i]));
    this.codes = codes;
    this.numbers = null;
  }

  missingCell(): void {
    this.grow();
    this.missing = true;
    if (this.numbers) this.numbers[this.length++] = NaN;
    else (this.codes as Int32Array)[this.length++] = -1;
  }

  /** A cell as text from a CSV. */
  text(cell: string): void {
    if (NA_STRINGS.has(cell)) return this.missingCell();
    this.grow();
    if (this.numbers) {
      const isInt = INTEGER.test(cell);
      if (isInt || DECIMAL.test(cell) || INFINITY.test(cell)) {
        if (!isInt) this.integer = false;
        this.numbers[this.length++] = INFINITY.test(cell) ? (cell.startsWith("-") ? -Infinity : Infinity) : Number(cell);
        return;
      }
      this.toCategories();
    }
    (this.codes as Int32Array)[this.length++] = this.code(cell);
  }

  /** A typed cell from Parquet. */
  value(v: unknown): void {
    if (v === null || v === undefined) return this.missingCell();
    if (typeof v === "number" || typeof v === "bigint") {
      const n = Number(v);
      if (Number.isNaN(n)) return this.missingCell();
      if (this.numbers) {
        this.grow();
        this.numbers[this.length++] = n;
        return;
      }
      this.grow();
      (this.codes as Int32Array)[this.length++] = this.code(n);
      return;
    }
    if (this.numbers) this.toCategories();
    this.grow();
    const cat: CategoryValue = typeof v === "boolean" || typeof v === "string" ? v : v instanceof Date ? v.toISOString() : String(v);
    (this.codes as Int32Array)[this.length++] = this.code(cat);
  }

  /** A Parquet column's physical type decides int vs float, as pandas' dtype does. */
  setIntegerSource(isInteger: boolean): void {
    this.integer = isInteger;
  }

  padTo(rows: number): void {
    while (this.length < rows) this.missingCell();
  }

  finish(): ColumnValues {
    if (this.numbers) {
      return { storage: "number", values: this.numbers.slice(0, this.length), integer: this.integer && !this.missing && this.length > 0 };
    }
    const dictionary = [...this.dictionary.keys()];
    const codes = (this.codes as Int32Array).slice(0, this.length);
    // An all-boolean text column (missing allowed) is read as booleans, as pandas does.
    if (dictionary.length > 0 && dictionary.every((k) => typeof k === "string" && k in BOOLEANS)) {
      const bools = dictionary.map((k) => BOOLEANS[k as string]);
      const uniq = [...new Set(bools)];
      const remap = bools.map((b) => uniq.indexOf(b));
      for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) codes[i] = remap[codes[i]];
      return { storage: "category", codes, dictionary: uniq };
    }
    return { storage: "category", codes, dictionary };
  }
}

/** Header names made unique the way pandas does it: a, a.1, a.2 ... */
function uniqueNames(header: string[]): string[] {
  const seen = new Map<string, number>();
  return header.map((raw, i) => {
    const name = raw === "" ? `Unnamed: ${i}` : raw;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : `${name}.${n}`;
  });
}

/**
 * A web ReadableStream of bytes presented as the Node-style readable papaparse streams from: UTF-8
 * decoded across chunk boundaries, 'data' per chunk, 'end', 'error', pause/resume. The byte count is
 * reported as chunks arrive (for progress).
 */
function papaReadable(stream: ReadableStream<Uint8Array>, onBytes: (bytes: number) => void) {
  const listeners: Record<string, ((arg?: unknown) => void)[]> = { data: [], end: [], error: [] };
  const emit = (event: string, arg?: unknown) => {
    for (const fn of [...(listeners[event] ?? [])]) fn(arg);
  };
  const reader = stream.getReader();
  const decoder = new TextDecoder("utf-8");
  let started = false;
  let paused = false;
  let pumping = false;
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (!paused) {
        const { done, value } = await reader.read();
        if (done) {
          const tail = decoder.decode();
          if (tail) emit("data", tail);
          emit("end");
          return;
        }
        onBytes(value.byteLength);
        const text = decoder.decode(value, { stream: true });
        if (text) emit("data", text);
      }
    } catch (err) {
      emit("error", err instanceof Error ? err : new Error(String(err)));
    } finally {
      pumping = false;
    }
  };
  return {
    readable: true,
    read: () => null,
    on(event: string, fn: (arg?: unknown) => void) {
      (listeners[event] ??= []).push(fn);
      // papaparse attaches its three listeners in one go; start reading after that.
      if (!started) {
        started = true;
        queueMicrotask(() => void pump());
      }
    },
    removeListener(event: string, fn: (arg?: unknown) => void) {
      listeners[event] = (listeners[event] ?? []).filter((f) => f !== fn);
    },
    pause() {
      paused = true;
    },
    resume() {
      if (!paused) return;
      paused = false;
      void pump();
    },
  };
}

/** A CSV being streamed: its bytes and (when known) their total. */
export interface CsvStream {
  stream: ReadableStream<Uint8Array>;
  size: number | null;
}

/** CSV text, a File (read in chunks; papaparse reads Files with FileReader in a worker) or a byte stream. */
export function readCsv(input: string | Blob | CsvStream, onProgress?: ReadProgress): Promise<Table> {
  const streamed = typeof input === "object" && "stream" in input && !(input instanceof Blob) ? (input as CsvStream) : null;
  let bytesSeen = 0;
  const source: unknown = streamed
    ? papaReadable(streamed.stream, (n) => {
        bytesSeen += n;
        if (onProgress && streamed.size) onProgress(Math.min(1, bytesSeen / streamed.size));
      })
    : input;
  const total = streamed ? 0 : typeof input === "string" ? input.length : (input as Blob).size;
  return new Promise((resolve, reject) => {
    let names: string[] | null = null;
    let builders: ColumnBuilder[] = [];
    let rows = 0;
    const onRows = (data: string[][]) => {
      let start = 0;
      if (names === null) {
        if (data.length === 0) return;
        names = uniqueNames(data[0]);
        builders = names.map(() => new ColumnBuilder());
        start = 1;
      }
      for (let r = start; r < data.length; r++) {
        const row = data[r];
        if (row.length === 1 && row[0] === "" && builders.length > 1) continue;
        for (let c = 0; c < builders.length; c++) {
          const cell = row[c];
          if (cell === undefined) builders[c].missingCell();
          else builders[c].text(cell);
        }
        rows++;
      }
    };
    Papa.parse<string[]>(source as File, {
      header: false,
      skipEmptyLines: true,
      chunkSize: 4 * 1024 * 1024,
      chunk: (results) => {
        onRows(results.data);
        if (onProgress && total > 0) onProgress(Math.min(1, results.meta.cursor / total));
      },
      complete: () => {
        if (names === null) return reject(new Error("The file is empty: no header row."));
        onProgress?.(1);
        resolve({ columns: names.map((name, i) => ({ name, data: builders[i].finish() })), rows });
      },
      error: (err: Error) => reject(new Error(`Could not read the CSV file: ${err.message}`)),
    });
  });
}

const INT_TYPES = new Set(["INT32", "INT64", "INT96"]);

/** A Parquet file's top-level columns. */
export async function readParquet(input: ArrayBuffer | Blob, onProgress?: ReadProgress): Promise<Table> {
  const buffer = input instanceof ArrayBuffer ? input : await input.arrayBuffer();
  let metadata;
  try {
    metadata = parquetMetadata(buffer);
  } catch (err) {
    throw new Error(`Could not read the Parquet file: ${(err as Error).message}`);
  }
  const schema = parquetSchema(metadata);
  const leaves = schema.children.filter((c) => c.children.length === 0);
  const names = leaves.map((c) => c.element.name);
  const rows = Number(metadata.num_rows);
  const builders = new Map(names.map((n) => [n, new ColumnBuilder()]));
  for (const leaf of leaves) {
    const b = builders.get(leaf.element.name) as ColumnBuilder;
    b.setIntegerSource(INT_TYPES.has(leaf.element.type ?? ""));
  }
  const chunks = Math.max(1, metadata.row_groups.length * names.length);
  let done = 0;
  // Chunks of one column arrive in row order; columns may interleave, so each column grows on its own.
  const pending = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
  await parquetRead({
    file: buffer,
    metadata,
    columns: names,
    onChunk: ({ columnName, columnData, rowStart }) => {
      const list = pending.get(columnName) ?? [];
      list.push({ rowStart, data: columnData as ArrayLike<unknown> });
      pending.set(columnName, list);
      done++;
      onProgress?.(Math.min(0.99, done / chunks));
    },
  });
  for (const name of names) {
    const b = builders.get(name) as ColumnBuilder;
    const list = (pending.get(name) ?? []).sort((x, y) => x.rowStart - y.rowStart);
    for (const { rowStart, data } of list) {
      if (rowStart < b.length) continue;
      b.padTo(rowStart);
      for (let i = 0; i < data.length; i++) b.value(data[i]);
    }
    b.padTo(rows);
  }
  onProgress?.(1);
  return { columns: names.map((name) => ({ name, data: (builders.get(name) as ColumnBuilder).finish() })), rows };
}

/** A data file served over HTTP (a Tern dataset version): where, under what name, and with which headers. */
export interface RemoteTable {
  kind: "remote";
  url: string;
  /** The file name; its extension picks the format. */
  name: string;
  size: number | null;
  headers?: Record<string, string>;
}

export const isRemoteTable = (x: unknown): x is RemoteTable => typeof x === "object" && x !== null && (x as RemoteTable).kind === "remote";

/** The API's error message from a failed download, or the HTTP status. */
async function downloadError(res: Response, name: string): Promise<Error> {
  let detail = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) detail = body.error.message;
  } catch {
    // Not the API's JSON error: the status says enough.
  }
  return new Error(`Could not download ${name}: ${detail}`);
}

/**
 * Stream a remote file straight into the parser: a CSV is parsed chunk by chunk as the bytes arrive;
 * a Parquet file (which needs its footer first) is gathered in memory, then read. Nothing is uploaded.
 */
export async function readRemoteTable(remote: RemoteTable, onProgress?: ReadProgress, fetcher: typeof fetch = fetch): Promise<Table> {
  const res = await fetcher(remote.url, { headers: remote.headers ?? {} });
  if (!res.ok || !res.body) throw await downloadError(res, remote.name);
  const announced = Number(res.headers.get("content-length"));
  const size = Number.isFinite(announced) && announced > 0 ? announced : remote.size;
  if (formatOf(remote.name) === "csv") return readCsv({ stream: res.body, size }, onProgress);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let seen = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    seen += value.byteLength;
    if (onProgress && size) onProgress(Math.min(0.5, (0.5 * seen) / size));
  }
  const bytes = new Uint8Array(seen);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return readParquet(bytes.buffer, onProgress ? (f) => onProgress(0.5 + f / 2) : undefined);
}

/** Read a data file by its name's extension (.parquet, else CSV). */
export function readTable(file: Blob & { name?: string }, onProgress?: ReadProgress): Promise<Table> {
  return formatOf(file.name ?? "") === "parquet" ? readParquet(file, onProgress) : readCsv(file, onProgress);
}

/** A remote CSV's column names from its first 256 KiB, fetched as a byte range. */
export async function readRemoteColumnNames(remote: RemoteTable, fetcher: typeof fetch = fetch): Promise<string[]> {
  if (formatOf(remote.name) === "parquet") return [];
  const res = await fetcher(remote.url, { headers: { ...(remote.headers ?? {}), Range: "bytes=0-262143" } });
  if (!res.ok) throw await downloadError(res, remote.name);
  const parsed = Papa.parse<string[]>(await res.text(), { preview: 1, header: false });
  return uniqueNames(parsed.data[0] ?? []);
}

/** Column names only, cheaply: a CSV's first line, or a Parquet file's footer. */
export async function readColumnNames(file: Blob & { name?: string }): Promise<string[]> {
  if (formatOf(file.name ?? "") === "parquet") {
    const metadata = await parquetMetadataAsync({ byteLength: file.size, slice: (start, end) => file.slice(start, end).arrayBuffer() });
    return parquetSchema(metadata)
      .children.filter((c) => c.children.length === 0)
      .map((c) => c.element.name);
  }
  const head = await file.slice(0, 256 * 1024).text();
  const parsed = Papa.parse<string[]>(head, { preview: 1, header: false });
  return uniqueNames(parsed.data[0] ?? []);
}
