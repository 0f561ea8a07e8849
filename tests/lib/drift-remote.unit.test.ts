/**
 * A dataset version read as a drift side: the download streamed into the CSV parser chunk by chunk
 * (UTF-8 characters split across chunks intact, the same table as reading the whole text), Parquet
 * gathered then read, progress by bytes, the API's error message on a failed download, a CSV
 * header read from a byte range, and monitor references ("name@3", "name@latest", ids) parsed.
 */
import { describe, expect, it } from "vitest";
import { parquetWriteBuffer } from "hyparquet-writer";
import { readCsv, readRemoteColumnNames, readRemoteTable, type RemoteTable } from "../../app/src/lib/drift/read-table";
import { parseVersionRef, versionUsable } from "../../app/src/lib/drift/dataset-versions";

/** A fetch that serves these bytes in chunks of `chunk` bytes, recording the requests. */
function servingFetch(bytes: Uint8Array, chunk: number, calls: { url: string; headers: Record<string, string> }[] = []): typeof fetch {
  return (async (url: string, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ url, headers });
    const range = /^bytes=(\d+)-(\d+)$/.exec(headers.Range ?? "");
    const body = range ? bytes.subarray(Number(range[1]), Number(range[2]) + 1) : bytes;
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= body.length) return controller.close();
        controller.enqueue(body.slice(at, at + chunk));
        at += chunk;
      },
    });
    return new Response(stream, { status: range ? 206 : 200, headers: { "content-length": String(body.length) } });
  }) as unknown as typeof fetch;
}

const remote = (name: string, size: number | null = null): RemoteTable => ({ kind: "remote", url: "/api/v1/datasets/d/versions/1/download", name, size, headers: { Authorization: "Bearer t" } });

function csvText(rows: number): string {
  const lines = ["id,city,note,score"];
  for (let i = 0; i < rows; i++) lines.push(`${i},${["Zürich", "São Paulo", "東京", "Kraków"][i % 4]},"naïve, ""quoted""\nline ${i} 🙂",${(i * 0.37).toFixed(3)}`);
  return `${lines.join("\n")}\n`;
}

describe("readRemoteTable", () => {
  it("streams a CSV into the parser: the same table as the whole text, whatever the chunk size", async () => {
    const text = csvText(500);
    const bytes = new TextEncoder().encode(text);
    const whole = await readCsv(text);
    for (const chunk of [7, 64, 4096]) {
      const calls: { url: string; headers: Record<string, string> }[] = [];
      const progress: number[] = [];
      const table = await readRemoteTable(remote("v1.csv"), (f) => progress.push(f), servingFetch(bytes, chunk, calls));
      expect(table, `chunk ${chunk}`).toEqual(whole);
      expect(calls).toEqual([{ url: "/api/v1/datasets/d/versions/1/download", headers: { Authorization: "Bearer t" } }]);
      expect(progress.at(-1)).toBe(1);
      expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    }
    const city = whole.columns.find((c) => c.name === "city")!.data;
    expect(city.storage === "category" && city.dictionary).toEqual(["Zürich", "São Paulo", "東京", "Kraków"]);
  });

  it("reads a Parquet version after gathering it", async () => {
    const buffer = parquetWriteBuffer({ columnData: [{ name: "x", data: [1.5, 2.5, 3.5], type: "DOUBLE" }, { name: "c", data: ["a", "b", "a"], type: "STRING" }] });
    const table = await readRemoteTable(remote("v.parquet"), undefined, servingFetch(new Uint8Array(buffer), 100));
    expect(table.rows).toBe(3);
    expect(table.columns.map((c) => c.name)).toEqual(["x", "c"]);
  });

  it("says what the API said when the download fails", async () => {
    const failing = (async () =>
      new Response(JSON.stringify({ error: { code: "RESOURCE_DOES_NOT_EXIST", message: "No version 9 of dataset 'd'", request_id: "r" } }), { status: 404 })) as unknown as typeof fetch;
    await expect(readRemoteTable(remote("v9.csv"), undefined, failing)).rejects.toThrow("Could not download v9.csv: No version 9 of dataset 'd'");
  });

  it("reads a remote CSV's header from a byte range", async () => {
    const calls: { url: string; headers: Record<string, string> }[] = [];
    const names = await readRemoteColumnNames(remote("v1.csv"), servingFetch(new TextEncoder().encode(csvText(20000)), 4096, calls));
    expect(names).toEqual(["id", "city", "note", "score"]);
    expect(calls[0].headers.Range).toBe("bytes=0-262143");
  });
});

describe("dataset version references", () => {
  it("parses name@N and name@latest, and leaves ids alone", () => {
    expect(parseVersionRef("sales@3")).toEqual({ dataset: "sales", version: 3 });
    expect(parseVersionRef("team@eu@latest")).toEqual({ dataset: "team@eu", version: "latest" });
    expect(parseVersionRef("0f3a9c")).toBeNull();
  });

  it("accepts only single CSV or Parquet files", () => {
    const v = { id: "1", dataset: "d", version: 1, kind: "file" as const, file_name: "a.csv", size: 1, row_count: 1, schema: null, created_at: 0 };
    expect(versionUsable(v)).toBeNull();
    expect(versionUsable({ ...v, file_name: "a.PARQUET" })).toBeNull();
    expect(versionUsable({ ...v, file_name: "a.json" })).toMatch(/not a \.csv/);
    expect(versionUsable({ ...v, kind: "directory" })).toMatch(/directory/);
  });
});
