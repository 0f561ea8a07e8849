/**
 * Streaming column profiles: the same profile as profileText/profileTable, built from rows or column
 * batches as they arrive, in memory bounded by the number of columns rather than the number of rows,
 * so files of any size can be profiled by the CLI and the browser.
 *
 * Per column it keeps: exact counts of present and missing cells; the type flags inferType keeps, so the
 * inferred type is the whole-file one; min, max, and mean and variance by Welford's update; the first
 * `exactValues` finite numbers, from which quantiles, mean and std are computed exactly as the whole-file
 * profile does while they fit, and beyond that a KLL sketch for quantiles (rank error within
 * QUANTILE_RANK_ERROR, flagged as `quantile_rank_error`); and category counts, exact up to
 * `exactDistinct` distinct values and then a Misra–Gries summary (counts then undercount by at most
 * `top_count_error`, and `distinct` is null). A column that is still numeric when its categories
 * outgrow the exact limit stops counting them; if text turns up later, the cells it skipped are added
 * to `top_count_error`, so the bound stays true. Values longer than 1000 characters are counted by their
 * first 1000 characters plus a hash of the whole value. A column keeps counting categories while it
 * may still turn out to be text, because one late non-number makes the whole column text.
 *
 * CSV and TSV text is cut into pieces at record boundaries (a newline outside quotes, under the line
 * ending papaparse guesses from the first MiB, as it does for a whole file) and each piece goes through
 * papaparse with the settings the whole-file reader uses; JSON lines are read line by line.
 */
import Papa from "papaparse";
import {
  asText,
  BOOLEAN,
  DATETIME,
  dedupeNames,
  INTEGER,
  jsonCell,
  NUMBER,
  numericStats,
  ProfileError,
  QUANTILES,
  textCell,
  TOP_CATEGORIES,
  type Cell,
  type ColumnProfile,
  type ColumnType,
  type NumericStats,
  type Profile,
  type TextFormat,
} from "./index";
import { FrequentItems, hashText, KllSketch, QUANTILE_RANK_ERROR } from "./sketches";

export interface StreamOptions {
  /** Finite numbers per column kept for exact statistics before the quantile sketch takes over. */
  exactValues?: number;
  /** The KLL sketch's k (about 3k numbers held per column). */
  sketchK?: number;
  /** Distinct categories per column counted exactly before the frequent-items summary takes over. */
  exactDistinct?: number;
  /** Seeds the sketches' coin flips (column i uses seed + i), so a file always gets the same profile. */
  seed?: number;
  /**
   * CSV/TSV characters held before the line ending is guessed and records are cut: papaparse guesses
   * from the first MiB of a whole file, so the default matches it; tests set less to cut small inputs.
   */
  probeChars?: number;
}

export const STREAM_DEFAULTS: Required<StreamOptions> = { exactValues: 16_384, sketchK: 1024, exactDistinct: 8192, seed: 0x7e51, probeChars: 1024 * 1024 };

/**
 * Files up to this size are profiled whole by the CLI and the browser (exact quantiles); larger ones are
 * streamed. Whole-file profiling holds every cell, several times the file's size in memory.
 */
export const DEFAULT_STREAM_BYTES = 64 * 1024 * 1024;

const PARSE_SLICE = 64 * 1024;

/** A longer record than this (an unclosed quote, or a file with no line breaks) is refused rather than held. */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

const KEY_CHARS = 1000;
const categoryKey = (s: string) => (s.length > KEY_CHARS ? `${s.slice(0, KEY_CHARS)}\u0000${hashText(s)}` : s);

export class ColumnAccumulator {
  private present = 0;
  private missing = 0;
  private integer = true;
  private number = true;
  private boolean = true;
  private datetime = true;
  private finite = 0;
  private min = Infinity;
  private max = -Infinity;
  private mean = 0;
  private m2 = 0;
  private exact: number[] | null = [];
  private sketch: KllSketch | null = null;
  private readonly categories: FrequentItems;
  private skipped = 0;

  constructor(
    private readonly opts: Required<StreamOptions>,
    private readonly seed: number,
  ) {
    this.categories = new FrequentItems(Math.max(1, Math.ceil(opts.exactDistinct / 2)));
  }

  addMissing(n: number): void {
    this.missing += n;
  }

  add(v: Cell): void {
    if (v === null) {
      this.missing++;
      return;
    }
    this.present++;
    let num: number | null = null;
    if (typeof v === "number") {
      this.boolean = this.datetime = false;
      if (!Number.isInteger(v)) this.integer = false;
      num = v;
    } else if (typeof v === "boolean") {
      this.integer = this.number = this.datetime = false;
    } else {
      const s = v.trim();
      if (this.integer && !INTEGER.test(s)) this.integer = false;
      if (this.number) {
        if (NUMBER.test(s)) num = Number(s);
        else this.number = false;
      }
      if (this.boolean && !BOOLEAN.test(s)) this.boolean = false;
      if (this.datetime && (!DATETIME.test(s) || Number.isNaN(Date.parse(s.replace(" ", "T"))))) this.datetime = false;
    }
    if (this.number) {
      if (num !== null && Number.isFinite(num)) this.addNumber(num);
    } else if (this.exact !== null || this.sketch !== null) {
      // Never numeric again: what was kept for quantiles can go.
      this.exact = null;
      this.sketch = null;
    }
    // A column still numeric past the exact limit stops counting categories (the costliest part of a
    // profile); should text turn up later, the skipped cells widen the count error it reports.
    if (this.number && !this.categories.exact) this.skipped++;
    else this.categories.add(categoryKey(asText(v)));
  }

  private addNumber(x: number): void {
    this.finite++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    const d = x - this.mean;
    this.mean += d / this.finite;
    this.m2 += d * (x - this.mean);
    if (this.exact !== null) {
      this.exact.push(x);
      if (this.exact.length > this.opts.exactValues) {
        this.sketch = new KllSketch(this.opts.sketchK, this.seed);
        for (const y of this.exact) this.sketch.update(y);
        this.exact = null;
      }
    } else {
      this.sketch?.update(x);
    }
  }

  get type(): ColumnType {
    if (this.present === 0) return "empty";
    if (this.integer) return "integer";
    if (this.number) return "number";
    if (this.boolean) return "boolean";
    if (this.datetime) return "datetime";
    return "string";
  }

  finish(name: string): ColumnProfile {
    const type = this.type;
    const total = this.present + this.missing;
    const out: ColumnProfile = {
      name,
      type,
      count: this.present,
      missing: this.missing,
      missing_share: total ? this.missing / total : 0,
      distinct: null,
      numeric: null,
      top: [],
    };
    if (type === "integer" || type === "number") {
      if (this.exact !== null) {
        out.numeric = numericStats(this.exact);
      } else if (this.sketch && this.finite > 0) {
        out.numeric = this.sketched(this.sketch);
        out.quantile_rank_error = QUANTILE_RANK_ERROR;
      }
      return out;
    }
    if (type === "empty") return out;
    let counts: Map<string, number> = new Map(this.categories.entries());
    if (type === "boolean") {
      const merged = new Map<string, number>();
      for (const [k, c] of counts) {
        const key = k.trim().toLowerCase();
        merged.set(key, (merged.get(key) ?? 0) + c);
      }
      counts = merged;
    }
    if (this.categories.exact && this.skipped === 0) out.distinct = counts.size;
    else out.top_count_error = this.categories.undercount + this.skipped;
    out.top = [...counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, TOP_CATEGORIES)
      .map(([key, count]) => ({ value: key.length > KEY_CHARS ? key.slice(0, KEY_CHARS) : key, count }));
    return out;
  }

  private sketched(sketch: KllSketch): NumericStats {
    const qs = sketch.quantiles(QUANTILES);
    return {
      min: this.min,
      max: this.max,
      mean: this.mean,
      std: this.finite > 1 ? Math.sqrt(this.m2 / (this.finite - 1)) : null,
      quantiles: Object.fromEntries(QUANTILES.map((q, i) => [String(q), Math.min(this.max, Math.max(this.min, qs[i]))])),
    };
  }
}

/** A profile built a row (or a column batch) at a time. */
export class ProfileAccumulator {
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly columns: ColumnAccumulator[] = [];
  private rows = 0;
  private readonly opts: Required<StreamOptions>;

  constructor(
    readonly format: string,
    columns: readonly string[] = [],
    options: StreamOptions = {},
  ) {
    this.opts = { ...STREAM_DEFAULTS, ...options };
    for (const name of columns) this.column(name);
  }

  get rowCount(): number {
    return this.rows;
  }

  /** The index of a column, adding it when new: the rows before it count as missing cells in it. */
  column(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.columns.length;
      this.index.set(name, i);
      this.names.push(name);
      const acc = new ColumnAccumulator(this.opts, this.opts.seed + i);
      acc.addMissing(this.rows);
      this.columns.push(acc);
    }
    return i;
  }

  /** One row aligned with the columns; short rows (and holes) are missing cells, extra cells are ignored. */
  addRow(cells: readonly (Cell | undefined)[]): void {
    this.rows++;
    for (let i = 0; i < this.columns.length; i++) this.columns[i].add(cells[i] ?? null);
  }

  /** Column-wise input (a Parquet row group): column i's values for the next rows; then endRows(n). */
  addColumnValues(i: number, values: readonly Cell[]): void {
    const acc = this.columns[i];
    for (const v of values) acc.add(v);
  }

  endRows(n: number): void {
    this.rows += n;
  }

  finish(): Profile {
    const columns = this.columns.map((c, i) => c.finish(this.names[i]));
    const profile: Profile = { format: this.format, row_count: this.rows, columns };
    if (columns.some((c) => c.quantile_rank_error !== undefined || c.top_count_error !== undefined)) profile.approximate = true;
    return profile;
  }
}

/** The line ending papaparse would pick for a whole file, from (at most) its first MiB. */
function guessLinebreak(head: string, delimiter: string): string {
  const meta = Papa.parse(head.slice(0, 1024 * 1024), { delimiter, preview: 1 }).meta;
  return meta.linebreak || "\n";
}

const QUOTE = 34;
const LF = 10;
const CR = 13;
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/** CSV/TSV text in, complete records out to papaparse, rows into the accumulator. */
class DelimitedReader {
  private pending = "";
  private scanned = 0;
  private state = FIELD_START;
  private linebreak: string | null = null;
  private header = false;
  private rowsSeen = 0;
  private readonly delimiterCode: number;

  constructor(
    private readonly delimiter: string,
    private readonly format: TextFormat,
    private readonly acc: ProfileAccumulator,
    private readonly probeChars: number,
  ) {
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  push(text: string): void {
    this.pending += text;
    if (this.linebreak === null) {
      if (this.pending.length < this.probeChars) return;
      this.linebreak = guessLinebreak(this.pending, this.delimiter);
    }
    const cut = this.scan();
    if (cut > 0) this.emit(cut);
    if (this.pending.length > MAX_RECORD_CHARS) {
      throw new ProfileError(`Could not parse the ${this.format.toUpperCase()} file: a record longer than ${MAX_RECORD_CHARS / 1024 / 1024} Mi characters (an unclosed quote?) after row ${this.rowsSeen}`);
    }
  }

  end(): void {
    if (this.linebreak === null) this.linebreak = guessLinebreak(this.pending, this.delimiter);
    if (this.pending.length) this.emit(this.pending.length);
  }

  /** Scans on from where the last scan stopped; returns the index just past the last record boundary. */
  private scan(): number {
    const s = this.pending;
    const crlf = this.linebreak === "\r\n";
    const nl = this.linebreak === "\r" ? CR : LF;
    let boundary = 0;
    let i = this.scanned;
    // Most text has no quotes: find the last line break directly.
    if ((this.state === FIELD_START || this.state === UNQUOTED) && s.indexOf('"', i) === -1) {
      const at = s.lastIndexOf(this.linebreak!);
      if (at !== -1 && at + this.linebreak!.length > i) boundary = at + this.linebreak!.length;
      if (s.length > i) {
        const last = s.charCodeAt(s.length - 1);
        this.state = last === this.delimiterCode || last === nl ? FIELD_START : UNQUOTED;
      }
      this.scanned = s.length;
      return boundary;
    }
    let state = this.state;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (state === QUOTED) {
        if (c === QUOTE) state = QUOTE_IN_QUOTED;
        continue;
      }
      if (state === QUOTE_IN_QUOTED) {
        if (c === QUOTE) {
          state = QUOTED;
          continue;
        }
        state = UNQUOTED;
      }
      if (c === this.delimiterCode) state = FIELD_START;
      else if (c === nl && (!crlf || (i > 0 && s.charCodeAt(i - 1) === CR))) {
        state = FIELD_START;
        boundary = i + 1;
      } else if (state === FIELD_START) state = c === QUOTE ? QUOTED : UNQUOTED;
    }
    this.state = state;
    this.scanned = s.length;
    return boundary;
  }

  private emit(cut: number): void {
    const piece = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    this.scanned = Math.max(0, this.scanned - cut);
    const parsed = Papa.parse<string[]>(piece, { delimiter: this.delimiter, newline: this.linebreak as "\n", skipEmptyLines: true });
    const fatal = parsed.errors.find((e) => e.type === "Quotes");
    if (fatal) throw new ProfileError(`Could not parse the ${this.format.toUpperCase()} file: ${fatal.message} (row ${fatal.row !== undefined ? fatal.row + this.rowsSeen : "?"})`);
    this.rowsSeen += parsed.data.length;
    const cells: Cell[] = [];
    for (const r of parsed.data) {
      if (!this.header) {
        this.header = true;
        for (const name of dedupeNames(r.map((h) => h.trim()))) this.acc.column(name);
        continue;
      }
      cells.length = r.length;
      for (let i = 0; i < r.length; i++) cells[i] = textCell(r[i]);
      this.acc.addRow(cells);
    }
  }
}

/** JSON lines in, one object a line, keys becoming columns in the order they first appear. */
class JsonLinesReader {
  private pending = "";
  private lineNo = 0;

  constructor(private readonly acc: ProfileAccumulator) {}

  push(text: string): void {
    this.pending += text;
    let start = 0;
    for (let nl = this.pending.indexOf("\n"); nl !== -1; nl = this.pending.indexOf("\n", start)) {
      this.line(this.pending.slice(start, nl > start && this.pending.charCodeAt(nl - 1) === CR ? nl - 1 : nl));
      start = nl + 1;
    }
    this.pending = this.pending.slice(start);
    if (this.pending.length > MAX_RECORD_CHARS) throw new ProfileError(`Could not parse the JSON lines file: line ${this.lineNo + 1} is longer than ${MAX_RECORD_CHARS / 1024 / 1024} Mi characters`);
  }

  end(): void {
    if (this.pending !== "") this.line(this.pending);
    this.pending = "";
  }

  private line(text: string): void {
    this.lineNo++;
    if (text.trim() === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      throw new ProfileError(`Could not parse the JSON lines file: line ${this.lineNo} is not JSON`);
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new ProfileError(`Could not parse the JSON lines file: line ${this.lineNo} is not a JSON object`);
    const row: Cell[] = [];
    for (const [k, v] of Object.entries(obj)) row[this.acc.column(k)] = jsonCell(v);
    this.acc.addRow(row);
  }
}

/**
 * A CSV, TSV or JSON-lines file profiled as its bytes (or text) arrive. Throws ProfileError where the
 * whole-file reader would.
 */
export class TextProfiler {
  private readonly acc: ProfileAccumulator;
  private readonly reader: DelimitedReader | JsonLinesReader;
  private readonly decoder = new TextDecoder("utf-8");
  private started = false;
  private bytes = 0;

  constructor(format: TextFormat, options: StreamOptions = {}) {
    this.acc = new ProfileAccumulator(format, [], options);
    const probe = options.probeChars ?? STREAM_DEFAULTS.probeChars;
    this.reader = format === "jsonl" ? new JsonLinesReader(this.acc) : new DelimitedReader(format === "csv" ? "," : "\t", format, this.acc, probe);
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.bytes;
  }

  pushBytes(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    // Parsed a slice at a time: the rows papaparse builds from a slice die young and are collected cheaply.
    for (let at = 0; at < chunk.byteLength; at += PARSE_SLICE) this.pushText(this.decoder.decode(chunk.subarray(at, at + PARSE_SLICE), { stream: true }));
  }

  pushText(text: string): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.reader.push(text);
  }

  finish(): Profile {
    this.pushText(this.decoder.decode());
    this.reader.end();
    return this.acc.finish();
  }
}

/** Profiles a text file from a stream of its bytes (a Node read stream, a Blob's stream reader). */
export async function profileTextChunks(chunks: AsyncIterable<Uint8Array>, format: TextFormat, options: StreamOptions = {}): Promise<Profile> {
  const p = new TextProfiler(format, options);
  for await (const chunk of chunks) p.pushBytes(chunk);
  return p.finish();
}
