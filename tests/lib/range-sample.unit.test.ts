import { parquetWriteBuffer } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { ProfileError } from "../../worker/lib/profile/index";
import { sampleParquetRanges, sampleTextRanges, type RangeSource } from "../../worker/lib/profile/range-sample";

/** A file in memory read by ranges, recording every range asked for. */
function source(bytes: Uint8Array) {
  const reads: [number, number][] = [];
  const src: RangeSource = {
    size: bytes.length,
    read: async (offset, length) => {
      reads.push([offset, length]);
      return bytes.slice(offset, Math.min(bytes.length, offset + length));
    },
  };
  return { src, reads };
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Rows whose every field can be recomputed from the id, so a torn or shifted row is detectable. */
function csvText(n: number, sep = ",", eol = "\n"): string {
  const lines = [["id", "value", "label"].join(sep)];
  for (let i = 0; i < n; i++) lines.push([i, (i * 0.37).toFixed(2), `L${i % 7}`].join(sep));
  return lines.join(eol) + eol;
}

function expectIntact(rows: unknown[][]) {
  for (const [id, value, label] of rows) {
    const i = Number(id);
    expect(Number(value)).toBeCloseTo(i * 0.37, 6);
    expect(label).toBe(`L${i % 7}`);
  }
}

describe("range-read samples of text files", () => {
  const text = csvText(20_000);
  const bytes = encode(text);

  it("reads about the budget in windows spread over the file, keeping only whole rows", async () => {
    const { src, reads } = source(bytes);
    const s = await sampleTextRanges(src, "csv", { budgetBytes: 64 * 1024, chunks: 4, seed: 7 });
    expect(s.method).toBe("byte-ranges");
    expect(s.table.columns).toEqual(["id", "value", "label"]);
    expect(s.table.rows.length).toBeGreaterThan(2000);
    expectIntact(s.table.rows);
    // every row at most once, in file order
    const ids = s.table.rows.map((r) => Number(r[0]));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    // four runs of consecutive rows, one window in each quarter of the bytes
    const runs = ids.filter((id, i) => i === 0 || id !== ids[i - 1] + 1);
    expect(runs).toHaveLength(4);
    runs.forEach((first, q) => expect(text.indexOf(`\n${first},`) / bytes.length, `window ${q}`).toBeGreaterThanOrEqual(q / 4 - 0.001));
    expect(text.indexOf(`\n${runs[3]},`) / bytes.length).toBeGreaterThan(0.75);
    // the header read plus four windows of budget / 4 (+1 byte each to see the line boundary)
    expect(reads).toHaveLength(5);
    expect(s.bytesRead).toBeLessThanOrEqual(64 * 1024 + 4);
    expect(s.bytesRead).toBeLessThan(bytes.length / 4);
    expect(s.droppedLines).toBe(0);
    expect(s.totalRows).toBeNull();
    expect(Math.abs(s.estimatedRows! - 20_000) / 20_000).toBeLessThan(0.05);
  });

  it("is reproducible from its seed and differs across seeds", async () => {
    const a = await sampleTextRanges(source(bytes).src, "csv", { budgetBytes: 32 * 1024, chunks: 2, seed: 1 });
    const b = await sampleTextRanges(source(bytes).src, "csv", { budgetBytes: 32 * 1024, chunks: 2, seed: 1 });
    const c = await sampleTextRanges(source(bytes).src, "csv", { budgetBytes: 32 * 1024, chunks: 2, seed: 2 });
    expect(b.table.rows).toEqual(a.table.rows);
    expect(c.table.rows[0]).not.toEqual(a.table.rows[0]);
  });

  it("reads TSV with CRLF line ends", async () => {
    const s = await sampleTextRanges(source(encode(csvText(20_000, "\t", "\r\n"))).src, "tsv", { budgetBytes: 64 * 1024, chunks: 4, seed: 3 });
    expect(s.table.columns).toEqual(["id", "value", "label"]);
    expect(s.table.rows.length).toBeGreaterThan(2000);
    expectIntact(s.table.rows);
  });

  it("reads JSON lines, dropping lines that are not JSON objects", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(i % 1000 === 999 ? "not json" : JSON.stringify({ id: i, value: Number((i * 0.37).toFixed(2)), label: `L${i % 7}` }));
    const s = await sampleTextRanges(source(encode(lines.join("\n") + "\n")).src, "jsonl", { budgetBytes: 128 * 1024, chunks: 4, seed: 5 });
    expect(s.table.columns).toEqual(["id", "value", "label"]);
    expectIntact(s.table.rows);
    expect(s.droppedLines).toBeGreaterThan(0);
    expect(s.table.rows.length + s.droppedLines).toBeGreaterThan(2000);
  });

  it("drops rows torn by quoted fields that span lines instead of returning shifted rows", async () => {
    const lines = ["id,value,label"];
    for (let i = 0; i < 20_000; i++) lines.push(`${i},${(i * 0.37).toFixed(2)},"L${i % 7}\nsecond line, with a comma"`);
    const s = await sampleTextRanges(source(encode(lines.join("\n") + "\n")).src, "csv", { budgetBytes: 64 * 1024, chunks: 8, seed: 11 });
    const intact = s.table.rows.filter((r) => !String(r[2]).includes("\n"));
    expectIntact(intact);
    for (const r of s.table.rows.filter((r) => String(r[2]).includes("\n"))) expect(r[2]).toBe(`L${Number(r[0]) % 7}\nsecond line, with a comma`);
    expect(s.droppedLines + s.droppedChunks).toBeGreaterThan(0);
  });

  it("refuses a header line longer than a mebibyte", async () => {
    const wide = encode("x".repeat(1_100_000) + "\n1\n");
    await expect(sampleTextRanges(source(wide).src, "csv", { budgetBytes: 64 * 1024, seed: 1 })).rejects.toThrow(ProfileError);
  });
});

describe("range-read samples of Parquet files", () => {
  const n = 40_000;
  const columns = (offsetIndex = true) => [
    { name: "id", data: Int32Array.from({ length: n }, (_, i) => i), type: "INT32" as const, offsetIndex },
    { name: "value", data: Float64Array.from({ length: n }, (_, i) => i * 0.37), type: "DOUBLE" as const, offsetIndex },
    { name: "label", data: Array.from({ length: n }, (_, i) => `L${i % 7}`), type: "STRING" as const, offsetIndex },
  ];

  it("reads whole row groups chosen at random within the budget, with the exact row count from the footer", async () => {
    const buf = new Uint8Array(parquetWriteBuffer({ columnData: columns(), rowGroupSize: 2000 }));
    const { src } = source(buf);
    const s = await sampleParquetRanges(src, { budgetBytes: Math.floor(buf.length / 4), seed: 9 });
    expect(s.method).toBe("row-groups");
    expect(s.totalRows).toBe(n);
    expect(s.table.columns).toEqual(["id", "value", "label"]);
    expectIntact(s.table.rows);
    const ids = s.table.rows.map((r) => Number(r[0]));
    expect(ids.length % 2000).toBe(0);
    expect(ids.length).toBeGreaterThanOrEqual(2000);
    expect(ids.length).toBeLessThan(n / 2);
    expect(s.bytesRead).toBeLessThanOrEqual(buf.length / 4 + 64 * 1024);
    const again = await sampleParquetRanges(source(buf).src, { budgetBytes: Math.floor(buf.length / 4), seed: 9 });
    expect(again.table.rows).toEqual(s.table.rows);
  });

  it("reads windows of rows page by page when one row group is larger than the budget", async () => {
    const buf = new Uint8Array(parquetWriteBuffer({ columnData: columns(), rowGroupSize: n, pageSize: 8 * 1024 }));
    const s = await sampleParquetRanges(source(buf).src, { budgetBytes: Math.floor(buf.length / 5), chunks: 4, seed: 4 });
    expect(s.method).toBe("row-windows");
    expect(s.totalRows).toBe(n);
    expectIntact(s.table.rows);
    const ids = s.table.rows.map((r) => Number(r[0]));
    for (let q = 0; q < 4; q++) expect(ids.some((id) => id >= q * 10_000 && id < (q + 1) * 10_000), `quarter ${q}`).toBe(true);
    expect(s.bytesRead).toBeLessThan(buf.length / 2);
  });

  it("refuses, with the sizes, a file whose only row group exceeds the budget and that has no page index", async () => {
    const buf = new Uint8Array(parquetWriteBuffer({ columnData: columns(false), rowGroupSize: n, pageSize: 8 * 1024 }));
    await expect(sampleParquetRanges(source(buf).src, { budgetBytes: 10_000, seed: 1 })).rejects.toThrow(/larger than the 10000-byte sampling budget \(the smallest is \d+ bytes\) and the file has no page index/);
  });

  it("refuses bytes that are not Parquet", async () => {
    await expect(sampleParquetRanges(source(encode("id\n1\n")).src, { budgetBytes: 1000, seed: 1 })).rejects.toThrow(ProfileError);
  });
});
