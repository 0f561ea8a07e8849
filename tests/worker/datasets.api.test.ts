import { env } from "cloudflare:workers";
import { parquetWriteBuffer } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { call, createToken, errorCode } from "./helpers";
import { api, commitFile, createDataset, keysUnder, md5, mode, raw, sha256, upload } from "./datasets-helpers";

describe("dataset content store", () => {
  it("stores a declared-hash upload at blobs/sha256/<xx>/<rest> and records both hashes", async () => {
    const content = "a,b\n1,2\n";
    const hash = await sha256(content);
    const res = await raw("PUT", `/api/v1/blobs/${hash}`, new TextEncoder().encode(content));
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ sha256: hash, md5: await md5(content), size: content.length, created: true });
    const object = await env.BLOBS.get(`blobs/sha256/${hash.slice(0, 2)}/${hash.slice(2)}`);
    expect(await object!.text()).toBe(content);
    const again = await raw("PUT", `/api/v1/blobs/${hash}`, new TextEncoder().encode(content));
    expect(again.json.created).toBe(false);
  });

  it("computes the hash of an undeclared upload and leaves no staging object behind", async () => {
    const content = "undeclared content";
    const res = await raw("POST", "/api/v1/blobs", new TextEncoder().encode(content));
    expect(res.status, res.text).toBe(200);
    expect(res.json.sha256).toBe(await sha256(content));
    expect(await keysUnder(env.BLOBS, "staging/")).toEqual([]);
    expect(await env.BLOBS.head(`blobs/sha256/${res.json.sha256.slice(0, 2)}/${res.json.sha256.slice(2)}`)).not.toBeNull();
  });

  it("rejects a body that does not hash to the declared sha256 and stores nothing", async () => {
    const claimed = await sha256("the real content");
    const res = await raw("PUT", `/api/v1/blobs/${claimed}`, new TextEncoder().encode("something else"));
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
    expect(res.json.error.message).toMatch(/mismatch/i);
    expect(await env.BLOBS.head(`blobs/sha256/${claimed.slice(0, 2)}/${claimed.slice(2)}`)).toBeNull();
    expect((await api("POST", "/blobs/missing", { sha256: [claimed] })).json.missing).toEqual([claimed]);

    const viaHeader = await raw("POST", "/api/v1/blobs", new TextEncoder().encode("other bytes"), { "X-Content-SHA256": claimed });
    expect(viaHeader.status).toBe(400);
    expect(await keysUnder(env.BLOBS, "staging/")).toEqual([]);
    expect((await api("POST", "/blobs/missing", { sha256: [claimed] })).json.missing).toEqual([claimed]);
  });

  it("stores an empty file", async () => {
    const empty = await sha256("");
    const put = await raw("PUT", `/api/v1/blobs/${empty}`, new Uint8Array(0));
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ sha256: empty, md5: await md5(""), size: 0 });
    const post = await raw("POST", "/api/v1/blobs", new Uint8Array(0));
    expect(post.json).toMatchObject({ sha256: empty, size: 0, created: false });
  });

  it("answers which of many hashes are missing in one call, beyond D1's parameter limit", async () => {
    const present = [await upload("m-1"), await upload("m-2")];
    const absent = await Promise.all(Array.from({ length: 2500 }, (_, i) => sha256(`absent-${i}`)));
    const asked = [absent[0], present[0], ...absent.slice(1), present[1], absent[0]];
    const res = await api("POST", "/blobs/missing", { sha256: asked });
    expect(res.status, res.text).toBe(200);
    expect(res.json.missing).toEqual(absent);
    expect((await api("POST", "/blobs/missing", { sha256: ["XYZ"] })).status).toBe(400);
    const tooMany = await api("POST", "/blobs/missing", { sha256: Array.from({ length: 10_001 }, () => present[0]) });
    expect(tooMany.status).toBe(400);
  });

  it("lets a read-only token ask for missing hashes but not upload", async () => {
    const read = await createToken(["read"]);
    const hash = await sha256("read-only");
    const asked = await call("POST", "/api/v1/blobs/missing", { token: read.secret, body: { sha256: [hash] } });
    expect(asked.status, asked.text).toBe(200);
    const put = await call("PUT", `/api/v1/blobs/${hash}`, { token: read.secret, raw: new TextEncoder().encode("read-only") });
    expect(put.status).toBe(403);
  });
});

describe("datasets and versions", () => {
  it("creates, lists, searches, updates and deletes datasets", async () => {
    await createDataset("prices-daily", { description: "daily close prices", tags: { team: "quant" } });
    await createDataset("news-headlines", { tags: { team: "nlp" } });
    expect(errorCode(await api("POST", "/datasets", { name: "prices-daily" }))).toBe("RESOURCE_ALREADY_EXISTS");
    expect((await api("POST", "/datasets", { name: "../evil" })).status).toBe(400);
    const byText = await api("GET", "/datasets?q=close");
    expect(byText.json.datasets.map((d: any) => d.name)).toEqual(["prices-daily"]);
    const byTag = await api("GET", "/datasets?tag=team%3Dnlp");
    expect(byTag.json.datasets.map((d: any) => d.name)).toEqual(["news-headlines"]);
    const patched = await api("PATCH", "/datasets/news-headlines", { description: "headlines" });
    expect(patched.json.dataset).toMatchObject({ description: "headlines", tags: { team: "nlp" } });
    expect((await api("DELETE", "/datasets/news-headlines")).status).toBe(200);
    expect((await api("GET", "/datasets/news-headlines")).status).toBe(404);
  });

  it("numbers versions in order, records who made them and defaults the parent to the latest", async () => {
    await createDataset("numbered");
    const token = await createToken(["write"], "ci-bot");
    const h1 = await upload("v1 content");
    const v1 = await call("POST", "/api/v1/datasets/numbered/versions", { token: token.secret, body: { sha256: h1, file_name: "data.bin", message: "first", git_commit: "abc123", git_branch: "main" } });
    expect(v1.status, v1.text).toBe(201);
    expect(v1.json.version).toMatchObject({
      version: 1,
      kind: "file",
      sha256: h1,
      size: 10,
      file_count: 1,
      message: "first",
      git_commit: "abc123",
      git_branch: "main",
      parent_version_id: null,
      created_by: { token_id: token.id, name: "ci-bot" },
    });
    const v2 = await commitFile("numbered", "v2 content", { file_name: "data.bin" });
    expect(v2).toMatchObject({ version: 2, parent_version_id: v1.json.version.id });
    const list = await api("GET", "/datasets/numbered/versions");
    expect(list.json.versions.map((v: any) => v.version)).toEqual([2, 1]);
    expect((await api("GET", "/datasets/numbered/versions/latest")).json.version.version).toBe(2);
    expect((await api("GET", "/datasets/numbered")).json.dataset.latest_version).toBe(2);
    expect((await api("GET", "/datasets/numbered/versions/9")).status).toBe(404);

    const same = await api("POST", "/datasets/numbered/versions", { sha256: v2.sha256, file_name: "data.bin", skip_if_unchanged: true });
    expect(same.status).toBe(200);
    expect(same.json).toMatchObject({ created: false, version: { version: 2 } });
  });

  it("stores identical content once across datasets and versions", async () => {
    const content = "shared bytes across datasets";
    await createDataset("dedup-a");
    await createDataset("dedup-b");
    const before = await keysUnder(env.BLOBS, "blobs/sha256/");
    const a = await commitFile("dedup-a", content, { file_name: "x.txt" });
    const b = await commitFile("dedup-b", content, { file_name: "y.txt" });
    const hash = await sha256(content);
    expect(a.sha256).toBe(hash);
    expect(b.sha256).toBe(hash);
    const h2 = await sha256("other");
    await raw("PUT", `/api/v1/blobs/${h2}`, new TextEncoder().encode("other"));
    const dir = await api("POST", "/datasets/dedup-b/versions", { manifest: [{ path: "again/x.txt", sha256: hash, size: content.length }, { path: "o.txt", sha256: h2, size: 5 }] });
    expect(dir.status, dir.text).toBe(201);
    const after = await keysUnder(env.BLOBS, "blobs/sha256/");
    expect(after.filter((k) => !before.includes(k)).sort()).toEqual([hash, h2].map((h) => `blobs/sha256/${h.slice(0, 2)}/${h.slice(2)}`).sort());
  });

  it("commits a manifest atomically: a missing blob is refused and nothing is written", async () => {
    await createDataset("atomic");
    const present = await upload("present file");
    const absent = await sha256("never uploaded");
    const res = await api("POST", "/datasets/atomic/versions", {
      manifest: [
        { path: "a.txt", sha256: present, size: 12 },
        { path: "sub/b.txt", sha256: absent, size: 14 },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain("sub/b.txt");
    expect((await api("GET", "/datasets/atomic/versions")).json.versions).toEqual([]);
    expect((await api("GET", "/datasets/atomic")).json.dataset.latest_version).toBe(0);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM manifest_entries WHERE sha256 = ?1").bind(absent).first<{ n: number }>();
    expect(rows!.n).toBe(0);
    const wrongSize = await api("POST", "/datasets/atomic/versions", { manifest: [{ path: "a.txt", sha256: present, size: 13 }] });
    expect(wrongSize.status).toBe(400);
    expect(wrongSize.json.error.message).toContain("a.txt");
    const notUploaded = await api("POST", "/datasets/atomic/versions", { sha256: absent });
    expect(notUploaded.status).toBe(400);
    expect((await api("POST", "/datasets/atomic/versions", { sha256: present, manifest: [] })).status).toBe(400);
    expect((await api("POST", "/datasets/nope/versions", { sha256: present })).status).toBe(404);
  });

  it("refuses unsafe manifest paths, naming the path", async () => {
    await createDataset("paths");
    const h = await upload("path content");
    const bad = ["../etc/passwd", "/abs/file", "a//b", "a/./b", "dir/", "", "a\u0000b", "C:/x", "a\\b", "x/../../y", "a".repeat(1100), "a/b/../c"];
    for (const path of bad) {
      const res = await api("POST", "/datasets/paths/versions", { manifest: [{ path, sha256: h, size: 12 }] });
      expect(res.status, `${JSON.stringify(path)}: ${res.text}`).toBe(400);
      expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
      if (path && path.length < 100) expect(res.json.error.message).toContain(JSON.stringify(path).slice(1, -1).slice(0, 10));
    }
    const dup = await api("POST", "/datasets/paths/versions", { manifest: [{ path: "a", sha256: h, size: 12 }, { path: "a", sha256: h, size: 12 }] });
    expect(dup.status).toBe(400);
    const fileAndDir = await api("POST", "/datasets/paths/versions", { manifest: [{ path: "a", sha256: h, size: 12 }, { path: "a/b", sha256: h, size: 12 }] });
    expect(fileAndDir.status).toBe(400);
    expect((await api("POST", "/datasets/paths/versions", { sha256: h, file_name: "../x.csv" })).status).toBe(400);
    expect((await api("GET", "/datasets/paths/versions")).json.versions).toEqual([]);
  });

  it("lists a directory version's files in pages and downloads one by path", async () => {
    await createDataset("images");
    const files = await Promise.all(
      Array.from({ length: 7 }, async (_, i) => {
        const content = `image ${i}`;
        return { path: i < 4 ? `train/img-${i}.png` : `test/img-${i}.png`, sha256: await upload(content), size: content.length };
      }),
    );
    const committed = await api("POST", "/datasets/images/versions", { manifest: files });
    expect(committed.status, committed.text).toBe(201);
    expect(committed.json.version).toMatchObject({ kind: "directory", file_count: 7, size: files.reduce((s, f) => s + f.size, 0) });
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page: any = await api("GET", `/datasets/images/versions/1/files?max_results=3${token ? `&page_token=${encodeURIComponent(token)}` : ""}`);
      expect(page.status, page.text).toBe(200);
      seen.push(...page.json.files.map((f: any) => f.path));
      token = page.json.next_page_token;
    } while (token);
    expect(seen).toEqual(files.map((f) => f.path).sort());
    const train = await api("GET", "/datasets/images/versions/1/files?prefix=train");
    expect(train.json.files).toHaveLength(4);
    const one = await call("GET", `/api/v1/datasets/images/versions/1/download?path=${encodeURIComponent("test/img-5.png")}`, { mode });
    expect(one.status).toBe(200);
    expect(one.text).toBe("image 5");
    expect((await call("GET", "/api/v1/datasets/images/versions/1/download", { mode })).status).toBe(400);
    expect((await call("GET", "/api/v1/datasets/images/versions/1/download?path=nope.png", { mode })).status).toBe(404);
    expect((await call("GET", `/api/v1/datasets/images/versions/1/download?path=${encodeURIComponent("../x")}`, { mode })).status).toBe(400);
  });

  it("downloads with byte ranges", async () => {
    await createDataset("ranged");
    const content = "0123456789abcdefghij";
    await commitFile("ranged", content, { file_name: "digits.txt" });
    const full = await call("GET", "/api/v1/datasets/ranged/versions/1/download", { mode });
    expect(full.status).toBe(200);
    expect(full.text).toBe(content);
    expect(full.headers.get("accept-ranges")).toBe("bytes");
    expect(full.headers.get("content-disposition")).toContain("digits.txt");
    const part = await call("GET", "/api/v1/datasets/ranged/versions/latest/download", { mode, headers: { Range: "bytes=5-9" } });
    expect(part.status).toBe(206);
    expect(part.text).toBe("56789");
    expect(part.headers.get("content-range")).toBe("bytes 5-9/20");
    const suffix = await call("GET", "/api/v1/datasets/ranged/versions/1/download", { mode, headers: { Range: "bytes=-3" } });
    expect(suffix.text).toBe("hij");
    const open = await call("GET", "/api/v1/datasets/ranged/versions/1/download", { mode, headers: { Range: "bytes=18-" } });
    expect(open.text).toBe("ij");
    const beyond = await call("GET", "/api/v1/datasets/ranged/versions/1/download", { mode, headers: { Range: "bytes=50-60" } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */20");
    const head = await call("HEAD", "/api/v1/datasets/ranged/versions/1/download", { mode });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("20");
    expect(head.text).toBe("");
  });

  it("diffs two versions: files, rows, schema and column statistics", async () => {
    await createDataset("diffed");
    await commitFile("diffed", "id,price,city\n1,10,Oslo\n2,20,Oslo\n3,30,Bergen\n", { file_name: "t.csv" });
    await commitFile("diffed", "id,price,region\n1,10,N\n2,25,N\n3,30,S\n4,40,S\n", { file_name: "t.csv" });
    const res = await api("GET", "/datasets/diffed/diff?from=1&to=2");
    expect(res.status, res.text).toBe(200);
    const d = res.json.diff;
    expect(d.row_count).toEqual({ before: 3, after: 4, delta: 1 });
    expect(d.files.counts).toMatchObject({ changed: 1, added: 0, removed: 0 });
    const byName = Object.fromEntries(d.columns.map((c: any) => [c.name, c]));
    expect(byName.city.change).toBe("removed");
    expect(byName.region.change).toBe("added");
    expect(byName.id.change).toBe("stats_changed");
    expect(byName.price.stats.mean).toEqual([20, 26.25]);
    expect(byName.price.stats.max).toEqual([30, 40]);
    expect(byName.price.stats.min).toBeUndefined();
  });

  it("profiles a small CSV at commit, keeps a client's profile for large files, and refuses a malformed one", async () => {
    await createDataset("profiled");
    const csv = "id,price,city\n1,10.5,Oslo\n2,,Bergen\n3,20,Oslo\n4,30.5,\n";
    const v = await commitFile("profiled", csv, { file_name: "prices.csv" });
    expect(v.row_count).toBe(4);
    expect(v.profile_source).toBe("server");
    expect(v.schema).toEqual([
      { name: "id", type: "integer" },
      { name: "price", type: "number" },
      { name: "city", type: "string" },
    ]);
    const [id, price, city] = v.profile.columns;
    expect(id.numeric).toMatchObject({ min: 1, max: 4, mean: 2.5 });
    expect(price).toMatchObject({ count: 3, missing: 1, missing_share: 0.25 });
    expect(price.numeric.mean).toBeCloseTo(61 / 3, 10);
    expect(price.numeric.quantiles["0.5"]).toBe(20);
    expect(city.top).toEqual([
      { value: "Oslo", count: 2 },
      { value: "Bergen", count: 1 },
    ]);
    expect((await api("GET", "/datasets/profiled/versions/1")).json.version.profile).toEqual(v.profile);

    const clientProfile = { format: "parquet", row_count: 1_000_000, columns: [{ name: "x", type: "number", count: 999_000, missing: 1000, missing_share: 0.001, distinct: null, numeric: { min: 0, max: 1, mean: 0.5, std: 0.29, quantiles: { "0.5": 0.5 } }, top: [] }] };
    const h = await upload("pretend this is a large parquet file");
    const withProfile = await api("POST", "/datasets/profiled/versions", { sha256: h, file_name: "big.parquet", profile: clientProfile });
    expect(withProfile.status, withProfile.text).toBe(201);
    expect(withProfile.json.version).toMatchObject({ row_count: 1_000_000, profile_source: "client", schema: [{ name: "x", type: "number" }] });
    const bad = await api("POST", "/datasets/profiled/versions", { sha256: h, profile: { format: "csv", row_count: -1, columns: [] } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("row_count");

    const binary = await commitFile("profiled", "not a table", { file_name: "notes.bin" });
    expect(binary).toMatchObject({ row_count: null, schema: null, profile: null });
  });

  it("records and serves tabular files with their own media types, other files as artifacts are", async () => {
    await createDataset("typed");
    const cases: [string, string | Uint8Array, string][] = [
      ["t.csv", "a,b\n1,2\n", "text/csv"],
      ["t.TSV", "a\tb\n1\t2\n", "text/tab-separated-values"],
      ["t.jsonl", '{"a":1}\n', "application/x-ndjson"],
      ["t.ndjson", '{"a":2}\n', "application/x-ndjson"],
      ["t.parquet", new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "x", data: [1.5], type: "DOUBLE" }] })), "application/vnd.apache.parquet"],
      ["notes.txt", "plain", "text/plain; charset=utf-8"],
      ["blob.bin", "bytes", "application/octet-stream"],
    ];
    for (const [i, [name, content, type]] of cases.entries()) {
      const v = await commitFile("typed", content, { file_name: name });
      expect(v.content_type, name).toBe(type);
      const res = await call("HEAD", `/api/v1/datasets/typed/versions/${i + 1}/download`, { mode });
      expect(res.headers.get("content-type"), name).toBe(type);
      expect(res.headers.get("content-disposition")).toContain("attachment");
    }
    // A type the client names wins.
    expect((await commitFile("typed", "x,y\n", { file_name: "u.csv", content_type: "text/csv; header=present" })).content_type).toBe("text/csv; header=present");
    // Files inside a directory version are served by the same rule.
    const dir = await api("POST", "/datasets/typed/versions", { manifest: [{ path: "part/a.csv", sha256: await upload("q\n1\n"), size: 4 }] });
    expect(dir.status, dir.text).toBe(201);
    const part = await call("HEAD", `/api/v1/datasets/typed/versions/${dir.json.version.version}/download?path=part%2Fa.csv`, { mode });
    expect(part.headers.get("content-type")).toBe("text/csv");
  });

  it("profiles a small Parquet file at commit", async () => {
    await createDataset("parquet-set");
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: "x", data: [1.5, 2.5, null], type: "DOUBLE" },
        { name: "label", data: ["a", "b", "a"], type: "STRING" },
      ],
    });
    const v = await commitFile("parquet-set", new Uint8Array(buffer), { file_name: "part-0.parquet" });
    expect(v).toMatchObject({ row_count: 3, profile_source: "server", schema: [{ name: "x", type: "number" }, { name: "label", type: "string" }] });
    expect(v.profile.columns[0]).toMatchObject({ count: 2, missing: 1, numeric: { min: 1.5, max: 2.5, mean: 2 } });
  });
});
