import { parquetWriteBuffer } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { profileText, ProfileError, type Profile, type TextFormat } from "../../worker/lib/profile/index";
import { profileParquet, profileParquetStream } from "../../worker/lib/profile/parquet";
import { FrequentItems, KllSketch, QUANTILE_RANK_ERROR } from "../../worker/lib/profile/sketches";
import { ProfileAccumulator, TextProfiler, profileTextChunks, type StreamOptions } from "../../worker/lib/profile/stream";
import { mulberry32 } from "../../worker/lib/random";

/** Streams `text` in pieces of the given sizes (cycled), as bytes, so pieces split UTF-8 sequences too. */
function streamed(text: string, format: TextFormat, sizes: number[], options: StreamOptions = {}): Profile {
  const bytes = new TextEncoder().encode(text);
  const p = new TextProfiler(format, options);
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    p.pushBytes(bytes.subarray(at, at + n));
    at += n;
  }
  return p.finish();
}

const CHUNKINGS = [[1], [3, 7], [64], [1000, 1], [1 << 20]];

/** Equal for every chunking, with records cut as soon as the line ending is known (a probe of 64 characters) and by default. */
function expectSameAsWholeFile(text: string, format: TextFormat) {
  const whole = profileText(text, format);
  for (const sizes of CHUNKINGS) {
    expect(streamed(text, format, sizes, { probeChars: 64 }), `chunks of ${sizes}`).toEqual(whole);
    expect(streamed(text, format, sizes), `chunks of ${sizes}, default probe`).toEqual(whole);
  }
  return whole;
}

/** A table with every kind of column, generated from a seed. */
function generatedCsv(rows: number, seed: number, eol = "\n"): string {
  const r = mulberry32(seed);
  const cities = ["Oslo", "Bergen", "Tromsø", "Ålesund", 'Quote "town"', "Comma, city", "Line\nbreak"];
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ["id,price,city,flag,when,mixed,sparse"];
  for (let i = 0; i < rows; i++) {
    const price = r() < 0.1 ? "" : r() < 0.05 ? "NA" : (r() * 1000 - 100).toFixed(2);
    const city = cities[Math.floor(r() * r() * cities.length)];
    const flag = ["true", "FALSE", "True", "false", ""][Math.floor(r() * 5)];
    const when = r() < 0.2 ? "" : `2024-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 10)}`;
    const mixed = i === rows - 3 ? "late text" : String(Math.floor(r() * 50));
    const sparse = r() < 0.98 ? "" : String(r());
    lines.push([i, price, quote(city), flag, when, mixed, sparse].join(","));
  }
  return lines.join(eol) + eol;
}

describe("streaming profile equals the whole-file profile", () => {
  it("on the hand-checked CSV, TSV, quoted fields, BOM, duplicate headers and empty input", () => {
    const csv = ["id,price,city,flag,when", "1,10.5,Oslo,true,2024-01-01", "2,,Bergen,false,2024-01-02", "3,20,Oslo,TRUE,2024-01-03", "4,30.5,,false,", "5,NA,Oslo,true,2024-01-05"].join("\n");
    const p = expectSameAsWholeFile(csv, "csv");
    expect(p.columns[1].numeric!.quantiles).toEqual({ "0.05": 11.45, "0.25": 15.25, "0.5": 20, "0.75": 25.25, "0.95": expect.closeTo(29.45, 10) });
    expect(p.approximate).toBeUndefined();
    expectSameAsWholeFile("a\tb\n1\tx y\n2\tz\n", "tsv");
    expectSameAsWholeFile('name,note\n"Smith, J","said ""hi"""\n"multi\nline",x\n', "csv");
    expectSameAsWholeFile("a,a,\n1,2,3\n", "csv");
    expectSameAsWholeFile("\ufeffx,y\n1,é\n2,日本\n", "csv");
    expectSameAsWholeFile("", "csv");
    expectSameAsWholeFile("only,a,header\n", "csv");
    expectSameAsWholeFile("a,b\n1,2,3,4\n5\n\n6,7", "csv");
    const oneRow = expectSameAsWholeFile("a,b\n1,x\n", "csv");
    expect(oneRow.columns[0].numeric).toEqual({ min: 1, max: 1, mean: 1, std: null, quantiles: { "0.05": 1, "0.25": 1, "0.5": 1, "0.75": 1, "0.95": 1 } });
  });

  it("on CRLF and CR line endings, with line breaks inside quoted fields", () => {
    for (const eol of ["\r\n", "\r"]) expectSameAsWholeFile(generatedCsv(300, 7, eol), "csv");
    // A lone \n inside an unquoted field of a CRLF file is field content, as papaparse reads it.
    expectSameAsWholeFile(`a,b\r\n${'x\ny,1\r\n"q",2\r\n'.repeat(20)}`, "csv");
  });

  it("on a generated table of a few thousand rows with every column type", () => {
    const p = expectSameAsWholeFile(generatedCsv(4000, 42), "csv");
    expect(p.columns.map((c) => c.type)).toEqual(["integer", "number", "string", "boolean", "datetime", "string", "number"]);
    // The one late text value turns 'mixed' into text, and its earlier numbers still count as categories.
    expect(p.columns[5].top.length).toBe(10);
    expect(p.columns[5].distinct).toBe(51);
  });

  it("on JSON lines whose keys come and go", () => {
    const jsonl = '{"a": 1, "b": "x"}\n{"a": 2.5}\r\n\n{"b": null, "c": true}\n{"d": {"nested": [1, 2]}, "a": -1}\n{"c": false, "e": "NaN"}';
    const p = expectSameAsWholeFile(jsonl, "jsonl");
    expect(p.columns.map((c) => [c.name, c.type, c.missing])).toEqual([["a", "number", 2], ["b", "string", 4], ["c", "boolean", 3], ["d", "string", 4], ["e", "empty", 5]]);
  });

  it("refuses what the whole-file reader refuses", () => {
    expect(() => streamed('a,b\n"open,1\n2,3\n', "csv", [4])).toThrow(ProfileError);
    expect(() => streamed('a,b\n1,2\n"open,1\n2,3\n', "csv", [4], { probeChars: 4 })).toThrow(/Quoted field unterminated/);
    expect(() => streamed('{"a":1}\n\n[1,2]\n', "jsonl", [5])).toThrow(/line 3 is not a JSON object/);
    expect(() => streamed('{"a":1}\n{nope\n', "jsonl", [2])).toThrow(/line 2 is not JSON/);
  });

  it("on more than the MiB papaparse guesses line endings from", () => {
    const text = generatedCsv(30_000, 9, "\r\n");
    expect(text.length).toBeGreaterThan(1024 * 1024);
    // Exact statistics for all 30,000 values, so the comparison is about cutting the text alone.
    expect(streamed(text, "csv", [65_536, 4093], { exactValues: 50_000 })).toEqual(profileText(text, "csv"));
  });

  it("reads a byte stream (profileTextChunks)", async () => {
    const text = generatedCsv(500, 3);
    async function* chunks() {
      const bytes = new TextEncoder().encode(text);
      for (let i = 0; i < bytes.length; i += 999) yield bytes.subarray(i, i + 999);
    }
    expect(await profileTextChunks(chunks(), "csv")).toEqual(profileText(text, "csv"));
  });
});

describe("edge cases", () => {
  it("all missing, constants, one row, overflowing numbers and mixed types", () => {
    const p = streamed("none,const,one,big,mixed\n,7,1.5,1e999,1\nNA,7,,2,x\nnull,7,,1e999,2\n", "csv", [5]);
    const [none, constant, one, big, mixed] = p.columns;
    expect(none).toMatchObject({ type: "empty", count: 0, missing: 3, missing_share: 1, numeric: null, top: [], distinct: null });
    expect(constant.numeric).toEqual({ min: 7, max: 7, mean: 7, std: 0, quantiles: { "0.05": 7, "0.25": 7, "0.5": 7, "0.75": 7, "0.95": 7 } });
    expect(one).toMatchObject({ type: "number", count: 1, missing: 2 });
    expect(one.numeric).toMatchObject({ min: 1.5, max: 1.5, mean: 1.5, std: null });
    // 1e999 is a number too large for a double: the column stays numeric, the statistics use what is finite.
    expect(big).toMatchObject({ type: "number", count: 3 });
    expect(big.numeric).toMatchObject({ min: 2, max: 2, mean: 2, std: null });
    expect(mixed).toMatchObject({ type: "string", distinct: 3, top: [{ value: "1", count: 1 }, { value: "2", count: 1 }, { value: "x", count: 1 }] });
    expect(p).toEqual(profileText("none,const,one,big,mixed\n,7,1.5,1e999,1\nNA,7,,2,x\nnull,7,,1e999,2\n", "csv"));
    // JSON can only write finite numbers, so a profile with an overflowing column still serialises.
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it("counts booleans case-insensitively and long values by their first 1000 characters", () => {
    const long = "x".repeat(1500);
    const p = streamed(`flag,text\nTrue,${long}a\ntrue,${long}b\nFALSE,${long}a\n`, "csv", [100]);
    expect(p.columns[0].top).toEqual([{ value: "true", count: 2 }, { value: "false", count: 1 }]);
    expect(p.columns[1].distinct).toBe(2);
    expect(p.columns[1].top).toEqual([{ value: "x".repeat(1000), count: 2 }, { value: "x".repeat(1000), count: 1 }]);
  });
});

describe("beyond the exact limits", () => {
  it("sketches quantiles from the exact-buffer limit on, with hand-checked values for 1..10", () => {
    const acc = new ProfileAccumulator("csv", ["n"], { exactValues: 4 });
    for (let i = 1; i <= 10; i++) acc.addRow([String(i)]);
    const p = acc.finish();
    expect(p.approximate).toBe(true);
    const c = p.columns[0];
    expect(c.quantile_rank_error).toBe(QUANTILE_RANK_ERROR);
    expect(c.numeric).toMatchObject({ min: 1, max: 10, mean: 5.5 });
    expect(c.numeric!.std).toBeCloseTo(Math.sqrt(82.5 / 9), 12);
    // The sketch holds all ten at weight 1; the q-quantile is the value at rank floor-crossing q·(n−1).
    expect(c.numeric!.quantiles).toEqual({ "0.05": 1, "0.25": 3, "0.5": 5, "0.75": 7, "0.95": 9 });
  });

  it("keeps mean and std exact (to rounding) and quantiles within the declared rank error over 200,000 values", () => {
    const r = mulberry32(11);
    const values = Array.from({ length: 200_000 }, () => Math.exp(3 * r()) * 1e6 + 0.25);
    const acc = new ProfileAccumulator("csv", ["v"]);
    for (const v of values) acc.addRow([v]);
    const c = acc.finish().columns[0];
    const sorted = [...values].sort((a, b) => a - b);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
    expect(c.numeric!.min).toBe(sorted[0]);
    expect(c.numeric!.max).toBe(sorted[sorted.length - 1]);
    expect(c.numeric!.mean / mean).toBeCloseTo(1, 12);
    expect(c.numeric!.std! / std).toBeCloseTo(1, 10);
    for (const [q, v] of Object.entries(c.numeric!.quantiles)) {
      const rank = sorted.findIndex((x) => x >= v) / (sorted.length - 1);
      expect(Math.abs(rank - Number(q)), `q=${q}`).toBeLessThanOrEqual(QUANTILE_RANK_ERROR);
    }
  });

  it("counts categories exactly under the cap, then approximately with a stated undercount", () => {
    const exact = new ProfileAccumulator("csv", ["c"], { exactDistinct: 8 });
    for (const v of ["a", "b", "a", "c", "a", "b"]) exact.addRow([v]);
    expect(exact.finish().columns[0]).toMatchObject({ distinct: 3, top: [{ value: "a", count: 3 }, { value: "b", count: 2 }, { value: "c", count: 1 }] });

    const r = mulberry32(5);
    const truth = new Map<string, number>();
    const acc = new ProfileAccumulator("csv", ["c"], { exactDistinct: 64 });
    for (let i = 0; i < 50_000; i++) {
      // Heavy hitters h0..h4 and a long tail of unique values.
      const v = r() < 0.5 ? `h${Math.floor(r() * 5)}` : `t${i}`;
      truth.set(v, (truth.get(v) ?? 0) + 1);
      acc.addRow([v]);
    }
    const p = acc.finish();
    const c = p.columns[0];
    expect(p.approximate).toBe(true);
    expect(c.distinct).toBeNull();
    expect(c.top_count_error).toBeGreaterThan(0);
    expect(c.top_count_error).toBeLessThanOrEqual(50_000 / 33);
    expect(c.top.slice(0, 5).map((t) => t.value).sort()).toEqual(["h0", "h1", "h2", "h3", "h4"]);
    for (const t of c.top) {
      expect(t.count).toBeLessThanOrEqual(truth.get(t.value)!);
      expect(t.count + c.top_count_error!).toBeGreaterThanOrEqual(truth.get(t.value)!);
    }
  });

  it("stops counting categories of a column that stays numeric, and widens the count error if text turns up", () => {
    const acc = new ProfileAccumulator("csv", ["n"], { exactDistinct: 16 });
    const truth = new Map<string, number>();
    const values = [...Array.from({ length: 1000 }, (_, i) => String(i % 40)), "x", "x", "7"];
    for (const v of values) {
      truth.set(v, (truth.get(v) ?? 0) + 1);
      acc.addRow([v]);
    }
    const c = acc.finish().columns[0];
    expect(c.type).toBe("string");
    expect(c.distinct).toBeNull();
    // The 17th distinct value made the summary reduce (subtracting 1 from every count); the 983 numeric
    // cells after it were not counted.
    expect(c.top_count_error).toBe(1 + 983);
    for (const t of c.top) {
      expect(t.count).toBeLessThanOrEqual(truth.get(t.value)!);
      expect(t.count + c.top_count_error!).toBeGreaterThanOrEqual(truth.get(t.value)!);
    }
    const stillNumeric = new ProfileAccumulator("csv", ["n"], { exactDistinct: 16 });
    for (let i = 0; i < 1000; i++) stillNumeric.addRow([String(i % 40)]);
    expect(stillNumeric.finish().columns[0]).toMatchObject({ type: "integer", distinct: null, top: [] });
  });
});

describe("sketches", () => {
  it("KLL is exact while it holds everything and stays small after", () => {
    const s = new KllSketch(16, 1);
    [5, 1, 4, 2, 3].forEach((x) => s.update(x));
    expect(s.quantiles([0, 0.5, 1])).toEqual([1, 3, 5]);
    for (let i = 0; i < 100_000; i++) s.update(i);
    expect(s.count).toBe(100_005);
    // About 3k values plus at most 8 a level: 13 levels for 100,000 values at k = 16.
    expect(s.size).toBeLessThan(3 * 16 + 8 * 14);
    expect(new KllSketch(16).quantiles([0.5])).toEqual([NaN]);
  });

  it("KLL gives the same answer for the same input and seed", () => {
    const run = (seed: number) => {
      const s = new KllSketch(64, seed);
      const r = mulberry32(3);
      for (let i = 0; i < 20_000; i++) s.update(r());
      return s.quantiles([0.1, 0.5, 0.9]);
    };
    expect(run(9)).toEqual(run(9));
  });

  it("Misra–Gries reduces by the (capacity+1)-th largest count, worked by hand", () => {
    const f = new FrequentItems(2);
    // a×3, b×2, c×1, d×1, then e makes five keys > 2·2: the third largest count (1) is subtracted.
    for (const k of ["a", "a", "a", "b", "b", "c", "d"]) f.add(k);
    expect(f.exact).toBe(true);
    f.add("e");
    expect(f.exact).toBe(false);
    expect(f.undercount).toBe(1);
    expect(Object.fromEntries(f.entries())).toEqual({ a: 2, b: 1 });
  });
});

describe("Parquet streamed by row group and column", () => {
  const table = (rows: number) => {
    const r = mulberry32(8);
    return [
      { name: "id", data: Array.from({ length: rows }, (_, i) => BigInt(i)), type: "INT64" as const },
      { name: "price", data: Array.from({ length: rows }, () => (r() < 0.1 ? null : r() * 100)), type: "DOUBLE" as const },
      { name: "city", data: Array.from({ length: rows }, () => (r() < 0.05 ? null : ["Oslo", "Bergen", "Bodø"][Math.floor(r() * 3)])), type: "STRING" as const },
      { name: "flag", data: Array.from({ length: rows }, () => r() < 0.5), type: "BOOLEAN" as const },
    ];
  };

  it("equals the whole-file profile on a file of several row groups, reading only byte ranges", async () => {
    const buffer = parquetWriteBuffer({ columnData: table(5000), rowGroupSize: 700 });
    const reads: number[] = [];
    const file = {
      byteLength: buffer.byteLength,
      slice(start: number, end?: number) {
        reads.push((end ?? buffer.byteLength) - start);
        return Promise.resolve(buffer.slice(start, end));
      },
    };
    const seen: number[] = [];
    const streamedProfile = await profileParquetStream(file, {}, (done) => seen.push(done));
    expect(streamedProfile).toEqual(await profileParquet(buffer));
    expect(seen).toEqual([700, 1400, 2100, 2800, 3500, 4200, 4900, 5000]);
    // After the footer (hyparquet's first read takes up to 512 KiB from the end, here the whole small
    // file), each read is one column chunk of one row group.
    expect(reads.length).toBeGreaterThan(8 * 4);
    expect(Math.max(...reads.slice(1))).toBeLessThan(buffer.byteLength / 8);
  });

  it("reads NaN and infinite doubles as missing, as the whole-file reader does", async () => {
    const buffer = parquetWriteBuffer({ columnData: [{ name: "x", data: [1, NaN, Infinity, -Infinity, 3], type: "DOUBLE" }], rowGroupSize: 2 });
    const p = await profileParquetStream({ byteLength: buffer.byteLength, slice: (s: number, e?: number) => buffer.slice(s, e) });
    expect(p).toEqual(await profileParquet(buffer));
    expect(p.columns[0]).toMatchObject({ count: 2, missing: 3, numeric: { min: 1, max: 3, mean: 2 } });
  });

  it("refuses bytes that are not Parquet", async () => {
    const bytes = new TextEncoder().encode("id,price\n1,2\n").buffer as ArrayBuffer;
    await expect(profileParquetStream({ byteLength: bytes.byteLength, slice: (s: number, e?: number) => bytes.slice(s, e) })).rejects.toThrow(ProfileError);
  });
});
