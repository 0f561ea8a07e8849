import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import type { WorkerBindings } from "../../worker/env";
import { ARTIFACT_KEY_PREFIX, ArtifactStore, STREAM_PART_SIZE } from "../../worker/artifacts/store";
import { ADMIN_TOKEN, call, createToken } from "./helpers";

const PROXY = "/api/2.0/mlflow-artifacts";
const MiB = 1024 * 1024;
/** For the tests that move several MiB through workerd and R2. */
const LARGE = { timeout: 60_000 };

interface Sent {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  json: any;
}

/** Like helpers.call, but keeps the body as bytes (artifacts are binary) and takes raw bodies. */
async function send(
  method: string,
  path: string,
  opts: { body?: BodyInit | null; headers?: Record<string, string>; token?: string; mode?: "open" | "token" } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  const request = new Request(`https://tern.test${path}`, { method, headers, body: opts.body ?? null });
  const testEnv = { ...env, AUTH_MODE: opts.mode ?? "open", TERN_ADMIN_TOKEN: ADMIN_TOKEN } as WorkerBindings;
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  const bytes = new Uint8Array(await res.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, bytes, json };
}

const put = (path: string, data: Uint8Array | string, extra: { headers?: Record<string, string>; token?: string; mode?: "open" | "token" } = {}) => {
  const body = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return send("PUT", `${PROXY}/artifacts/${path}`, { ...extra, body, headers: { "Content-Length": String(body.length), ...extra.headers } });
};
const download = (path: string, headers: Record<string, string> = {}) => send("GET", `${PROXY}/artifacts/${path}`, { headers });
const list = (dir?: string) => send("GET", `${PROXY}/artifacts${dir === undefined ? "" : `?path=${encodeURIComponent(dir)}`}`);
const postJson = (path: string, body: unknown, extra: { token?: string; mode?: "open" | "token" } = {}) =>
  send("POST", path, { ...extra, body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });

function mlflowError(res: Sent): string {
  expect(Object.keys(res.json).sort()).toEqual(["error_code", "message"]);
  return res.json.error_code;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  // One comparison per byte would drown vitest's diff; compare and report the first mismatch.
  const at = actual.findIndex((b, i) => b !== expected[i]);
  expect(at, `first differing byte`).toBe(-1);
}

const unique = () => `t-${crypto.randomUUID().slice(0, 8)}`;

describe("artifact upload and download", () => {
  it("round-trips text with MLflow's response shapes and download headers", async () => {
    const dir = unique();
    const up = await put(`${dir}/model/MLmodel`, "artifact_path: model\nflavors: {}\n");
    expect(up.status).toBe(200);
    expect(up.json).toEqual({});
    const got = await download(`${dir}/model/MLmodel`);
    expect(got.status).toBe(200);
    expect(new TextDecoder().decode(got.bytes)).toBe("artifact_path: model\nflavors: {}\n");
    expect(got.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(got.headers.get("content-length")).toBe(String(got.bytes.length));
    expect(got.headers.get("etag")).toMatch(/^"[0-9a-f]+"$/);
    expect(got.headers.get("accept-ranges")).toBe("bytes");
    expect(got.headers.get("content-disposition")).toBe('attachment; filename="MLmodel"');
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");

    const png = await put(`${dir}/plots/roc curve.png`, new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    expect(png.status).toBe(200);
    const img = await download(`${dir}/plots/roc%20curve.png`);
    expect(img.headers.get("content-type")).toBe("image/png");
    expect([...img.bytes]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it("round-trips a 3 MiB random binary byte-exact, and overwrites in place", LARGE, async () => {
    const dir = unique();
    const data = randomBytes(3 * MiB);
    expect((await put(`${dir}/weights.bin`, data)).status).toBe(200);
    const got = await download(`${dir}/weights.bin`);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("application/octet-stream");
    expect(got.headers.get("content-length")).toBe(String(3 * MiB));
    expectSameBytes(got.bytes, data);

    const replacement = randomBytes(1000);
    expect((await put(`${dir}/weights.bin`, replacement)).status).toBe(200);
    expectSameBytes((await download(`${dir}/weights.bin`)).bytes, replacement);
  });

  it("stores empty files", async () => {
    const dir = unique();
    expect((await put(`${dir}/empty.txt`, "")).status).toBe(200);
    const got = await download(`${dir}/empty.txt`);
    expect(got.status).toBe(200);
    expect(got.bytes.length).toBe(0);
    expect((await list(dir)).json.files).toEqual([{ path: "empty.txt", is_dir: false, file_size: 0 }]);
  });

  it("streams bodies sent without a Content-Length, in parts when they are large", LARGE, async () => {
    const dir = unique();
    const streamOf = (data: Uint8Array, chunk: number) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < data.length; i += chunk) controller.enqueue(data.slice(i, i + chunk));
          controller.close();
        },
      });
    const small = randomBytes(100_000);
    expect((await send("PUT", `${PROXY}/artifacts/${dir}/small.bin`, { body: streamOf(small, 7000) })).status).toBe(200);
    expectSameBytes((await download(`${dir}/small.bin`)).bytes, small);

    // One full STREAM_PART_SIZE part and a remainder: the store's multipart path.
    const large = randomBytes(STREAM_PART_SIZE + MiB + 17);
    const res = await send("PUT", `${PROXY}/artifacts/${dir}/large.bin`, { body: streamOf(large, 1_000_003) });
    expect(res.status).toBe(200);
    const got = await download(`${dir}/large.bin`);
    expectSameBytes(got.bytes, large);
    // R2 marks an object written in parts by the part count in its etag.
    expect(got.headers.get("etag")).toMatch(/-2"$/);
  });

  it("refuses a body whose length differs from its Content-Length, and stores nothing", async () => {
    const dir = unique();
    const res = await send("PUT", `${PROXY}/artifacts/${dir}/short.bin`, {
      body: new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(10));
          c.close();
        },
      }),
      headers: { "Content-Length": "20" },
    });
    expect(res.status).toBe(400);
    expect(mlflowError(res)).toBe("INVALID_PARAMETER_VALUE");
    expect((await download(`${dir}/short.bin`)).status).toBe(404);
    const long = await send("PUT", `${PROXY}/artifacts/${dir}/long.bin`, {
      body: new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(30));
          c.close();
        },
      }),
      headers: { "Content-Length": "20" },
    });
    expect(long.status).toBe(400);
    expect((await download(`${dir}/long.bin`)).status).toBe(404);
    const badHeader = await send("PUT", `${PROXY}/artifacts/${dir}/x.bin`, { body: "abc", headers: { "Content-Length": "abc" } });
    expect(badHeader.status).toBe(400);
  });

  it("answers HEAD with the headers and no body", async () => {
    const dir = unique();
    await put(`${dir}/a.csv`, "x,y\n1,2\n");
    const head = await send("HEAD", `${PROXY}/artifacts/${dir}/a.csv`);
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);
    expect(head.headers.get("content-length")).toBe("8");
    expect(head.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect((await send("HEAD", `${PROXY}/artifacts/${dir}/missing.csv`)).status).toBe(404);
  });

  it("answers a missing artifact with 404 RESOURCE_DOES_NOT_EXIST in MLflow's shape", async () => {
    const res = await download(`${unique()}/nope.txt`);
    expect(res.status).toBe(404);
    expect(mlflowError(res)).toBe("RESOURCE_DOES_NOT_EXIST");
  });
});

describe("byte ranges", () => {
  const data = new TextEncoder().encode("0123456789abcdefghij"); // 20 bytes

  it("serves first bytes, suffixes and open-ended ranges with 206 and Content-Range", async () => {
    const dir = unique();
    await put(`${dir}/r.bin`, data);
    const first = await download(`${dir}/r.bin`, { Range: "bytes=0-9" });
    expect(first.status).toBe(206);
    expect(new TextDecoder().decode(first.bytes)).toBe("0123456789");
    expect(first.headers.get("content-range")).toBe("bytes 0-9/20");
    expect(first.headers.get("content-length")).toBe("10");
    expect(first.headers.get("etag")).toBeTruthy();

    const suffix = await download(`${dir}/r.bin`, { Range: "bytes=-5" });
    expect(suffix.status).toBe(206);
    expect(new TextDecoder().decode(suffix.bytes)).toBe("fghij");
    expect(suffix.headers.get("content-range")).toBe("bytes 15-19/20");

    const open = await download(`${dir}/r.bin`, { Range: "bytes=12-" });
    expect(open.status).toBe(206);
    expect(new TextDecoder().decode(open.bytes)).toBe("cdefghij");
    expect(open.headers.get("content-range")).toBe("bytes 12-19/20");

    const past = await download(`${dir}/r.bin`, { Range: "bytes=18-100" });
    expect(new TextDecoder().decode(past.bytes)).toBe("ij");
    expect(past.headers.get("content-range")).toBe("bytes 18-19/20");
  });

  it("answers 416 for an unsatisfiable range and ignores ranges it does not serve", async () => {
    const dir = unique();
    await put(`${dir}/r.bin`, data);
    const beyond = await download(`${dir}/r.bin`, { Range: "bytes=20-" });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */20");
    expect(beyond.json.error_code).toBe("INVALID_PARAMETER_VALUE");

    const multi = await download(`${dir}/r.bin`, { Range: "bytes=0-1,5-6" });
    expect(multi.status).toBe(200);
    expect(multi.bytes.length).toBe(20);
    expect((await download(`${unique()}/missing.bin`, { Range: "bytes=0-1" })).status).toBe(404);
  });

  it("reads a range of a large binary byte-exact", LARGE, async () => {
    const dir = unique();
    const big = randomBytes(3 * MiB);
    await put(`${dir}/big.bin`, big);
    const mid = await download(`${dir}/big.bin`, { Range: `bytes=${MiB}-${2 * MiB - 1}` });
    expect(mid.status).toBe(206);
    expectSameBytes(mid.bytes, big.subarray(MiB, 2 * MiB));
  });
});

describe("listing", () => {
  it("lists a directory with paths relative to it, directories without a size", async () => {
    const dir = unique();
    await put(`${dir}/b.txt`, "bb");
    await put(`${dir}/a.txt`, "a");
    await put(`${dir}/model/MLmodel`, "m");
    await put(`${dir}/model/data/weights.bin`, "123456");
    const top = await list(dir);
    expect(top.status).toBe(200);
    expect(top.json).toEqual({
      files: [
        { path: "a.txt", is_dir: false, file_size: 1 },
        { path: "b.txt", is_dir: false, file_size: 2 },
        { path: "model", is_dir: true },
      ],
    });
    // Sorted by code point, as MLflow's client sorts: upper case first.
    expect((await list(`${dir}/model`)).json.files).toEqual([
      { path: "MLmodel", is_dir: false, file_size: 1 },
      { path: "data", is_dir: true },
    ]);
    expect((await list(`${dir}/model/data`)).json.files).toEqual([{ path: "weights.bin", is_dir: false, file_size: 6 }]);
    expect((await list(`${dir}/model/`)).json.files).toHaveLength(2);
  });

  it("lists the root of the store, and a missing directory or a file as {}", async () => {
    const dir = unique();
    await put(`${dir}/x.txt`, "x");
    const root = await list();
    expect(root.status).toBe(200);
    expect(root.json.files).toContainEqual({ path: dir, is_dir: true });
    expect((await list("")).json.files).toContainEqual({ path: dir, is_dir: true });
    expect((await list(`${dir}/nothing-here`)).json).toEqual({});
    expect((await list(`${dir}/x.txt`)).json).toEqual({});
  });

  it("follows R2's pages to the end when listing and deleting (store with 7-key pages)", async () => {
    const dir = unique();
    const store = new ArtifactStore(env.BLOBS, { pageSize: 7 });
    const names = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, "0")}.txt`);
    await Promise.all(names.map((n) => store.put(`${dir}/many/${n}`, null, 0)));
    await Promise.all(["a", "b", "c", "d", "e", "f", "g", "h"].map((d) => store.put(`${dir}/many/sub-${d}/x.txt`, null, 0)));
    const entries = await store.list(`${dir}/many`);
    expect(entries).toHaveLength(38);
    expect(entries.filter((e) => e.isDir).map((e) => e.name)).toEqual(["sub-a", "sub-b", "sub-c", "sub-d", "sub-e", "sub-f", "sub-g", "sub-h"]);
    expect(new Set(entries.map((e) => e.name)).size).toBe(38);

    await store.deleteTree(`${dir}/many`);
    expect(await store.list(`${dir}/many`)).toEqual([]);
    expect((await env.BLOBS.list({ prefix: `${ARTIFACT_KEY_PREFIX}${dir}/` })).objects).toEqual([]);
  });
});

describe("deleting", () => {
  it("deletes a file, then a directory tree, and nothing that only shares a name prefix", async () => {
    const dir = unique();
    await put(`${dir}/keep.txt`, "k");
    await put(`${dir}/gone.txt`, "g");
    await put(`${dir}/d/one.txt`, "1");
    await put(`${dir}/d/deep/two.txt`, "2");
    await put(`${dir}/d2/three.txt`, "3");
    await put(`${dir}/dx`, "4");

    const delFile = await send("DELETE", `${PROXY}/artifacts/${dir}/gone.txt`);
    expect(delFile.status).toBe(200);
    expect(delFile.json).toEqual({});
    expect((await download(`${dir}/gone.txt`)).status).toBe(404);

    expect((await send("DELETE", `${PROXY}/artifacts/${dir}/d`)).status).toBe(200);
    expect((await download(`${dir}/d/one.txt`)).status).toBe(404);
    expect((await download(`${dir}/d/deep/two.txt`)).status).toBe(404);
    expect((await list(dir)).json.files.map((f: any) => f.path)).toEqual(["d2", "dx", "keep.txt"]);

    // MLflow's client deletes a run's whole tree with a trailing slash.
    expect((await send("DELETE", `${PROXY}/artifacts/${dir}/`)).status).toBe(200);
    expect((await list(dir)).json).toEqual({});
    expect((await send("DELETE", `${PROXY}/artifacts/${dir}/never-existed`)).status).toBe(200);
  });

  it("refuses to delete the whole store", async () => {
    const res = await send("DELETE", `${PROXY}/artifacts/`);
    expect(res.status).toBe(400);
    expect(mlflowError(res)).toBe("INVALID_PARAMETER_VALUE");
  });
});

describe("path confinement", () => {
  it("refuses traversal, absolute paths, backslashes, NUL and empty segments with 400", async () => {
    for (const bad of ["..%2Fsecret", "a/..%2F..%2Fsecret", "%252e%252e/secret", "a%5Cb", "a%00b", "a//b", "%2Fetc%2Fpasswd", "a%23b"]) {
      const up = await send("PUT", `${PROXY}/artifacts/${bad}`, { body: "x", headers: { "Content-Length": "1" } });
      expect(up.status, bad).toBe(400);
      expect(mlflowError(up)).toBe("INVALID_PARAMETER_VALUE");
      expect(up.json.message).toMatch(/^Invalid path/);
      expect((await download(bad)).status, bad).toBe(400);
      expect((await send("DELETE", `${PROXY}/artifacts/${bad}`)).status, bad).toBe(400);
    }
    for (const bad of ["../x", "/abs", "a\u0000b", "a\\b"]) {
      const res = await list(bad);
      expect(res.status, bad).toBe(400);
      expect(mlflowError(res)).toBe("INVALID_PARAMETER_VALUE");
    }
    expect((await env.BLOBS.list({ prefix: "secret" })).objects).toEqual([]);
  });

  it("refuses overlong paths and malformed percent-encoding", async () => {
    const long = "a/".repeat(520) + "f.txt";
    const res = await put(long, "x");
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/longer than/);
    expect((await send("PUT", `${PROXY}/artifacts/%E0%A4%A.txt`, { body: "x", headers: { "Content-Length": "1" } })).status).toBe(400);
  });

  it("keeps keys under the artifact prefix of the bucket", async () => {
    const dir = unique();
    await put(`${dir}/k.txt`, "k");
    expect(await env.BLOBS.head(`${ARTIFACT_KEY_PREFIX}${dir}/k.txt`)).not.toBeNull();
  });
});

describe("multipart uploads", () => {
  async function createUpload(dir: string, localPath: string, numParts: number, extra: { token?: string; mode?: "open" | "token" } = {}) {
    const res = await postJson(`${PROXY}/mpu/create/${dir}`, { path: localPath, num_parts: numParts }, extra);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    return res.json as { upload_id: string; credentials: { url: string; part_number: number; headers?: Record<string, string> }[] };
  }

  /** PUTs a part the way MLflow's client does: to the credential's URL with only its headers. */
  async function putPart(credential: { url: string; headers?: Record<string, string> }, data: Uint8Array, mode: "open" | "token" = "open") {
    const url = new URL(credential.url);
    expect(url.origin).toBe("https://tern.test");
    return send("PUT", url.pathname + url.search, { body: data, headers: { ...credential.headers, "Content-Length": String(data.length) }, mode });
  }

  it("uploads 3 parts through the credential URLs, completes, and reads back byte-exact (token mode)", LARGE, async () => {
    const writer = await createToken(["read", "write"], "mpu-writer");
    const dir = unique();
    const data = randomBytes(11 * MiB);
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];
    const create = await createUpload(`${dir}/model`, "/home/me/outputs/model.safetensors", 3, { token: writer.secret, mode: "token" });
    expect(create.upload_id).toBeTypeOf("string");
    expect(create.credentials.map((c) => c.part_number)).toEqual([1, 2, 3]);
    expect(create.credentials[0].url).toContain(`${PROXY}/mpu/upload/${dir}/model/model.safetensors?upload_id=`);
    expect(create.credentials[0].headers).toEqual({ Authorization: `Bearer ${writer.secret}` });

    const uploaded = [];
    for (const [i, credential] of create.credentials.entries()) {
      const res = await putPart(credential, parts[i], "token");
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      const etag = res.headers.get("etag");
      expect(etag).toMatch(/^".+"$/);
      uploaded.push({ part_number: credential.part_number, etag, url: credential.url });
    }
    // Nothing is readable until the upload completes.
    expect((await download(`${dir}/model/model.safetensors`)).status).toBe(404);

    const done = await postJson(
      `${PROXY}/mpu/complete/${dir}/model`,
      { path: "/home/me/outputs/model.safetensors", upload_id: create.upload_id, parts: uploaded },
      { token: writer.secret, mode: "token" },
    );
    expect(done.status, JSON.stringify(done.json)).toBe(200);
    expect(done.json).toEqual({});

    const got = await download(`${dir}/model/model.safetensors`);
    expect(got.status).toBe(200);
    expectSameBytes(got.bytes, data);
    expect((await list(`${dir}/model`)).json.files).toEqual([{ path: "model.safetensors", is_dir: false, file_size: 11 * MiB }]);
  });

  it("leaves nothing readable after an abort, and refuses the aborted upload afterwards", LARGE, async () => {
    const dir = unique();
    const create = await createUpload(dir, "C:\\data\\big.bin", 2);
    const part1 = await putPart(create.credentials[0], randomBytes(5 * MiB));
    expect(part1.status).toBe(200);

    const abort = await postJson(`${PROXY}/mpu/abort/${dir}`, { path: "C:\\data\\big.bin", upload_id: create.upload_id });
    expect(abort.status).toBe(200);
    expect(abort.json).toEqual({});
    expect((await download(`${dir}/big.bin`)).status).toBe(404);
    expect((await list(dir)).json).toEqual({});

    const late = await putPart(create.credentials[1], randomBytes(1024));
    expect(late.status).toBe(404);
    expect(mlflowError(late)).toBe("RESOURCE_DOES_NOT_EXIST");
    const complete = await postJson(`${PROXY}/mpu/complete/${dir}`, {
      path: "big.bin",
      upload_id: create.upload_id,
      parts: [{ part_number: 1, etag: part1.headers.get("etag") }],
    });
    expect(complete.status).toBe(404);
    expect((await download(`${dir}/big.bin`)).status).toBe(404);
  });

  it("refuses bad multipart requests with 400", async () => {
    const dir = unique();
    expect((await postJson(`${PROXY}/mpu/create/${dir}`, { num_parts: 2 })).status).toBe(400);
    expect((await postJson(`${PROXY}/mpu/create/${dir}`, { path: "x.bin", num_parts: 0 })).status).toBe(400);
    expect((await postJson(`${PROXY}/mpu/create/${dir}`, { path: "x.bin", num_parts: 10_001 })).status).toBe(400);
    expect((await postJson(`${PROXY}/mpu/create/${dir}`, { path: "/tmp/", num_parts: 1 })).status).toBe(400);
    expect((await postJson(`${PROXY}/mpu/create/..%2F${dir}`, { path: "x.bin", num_parts: 1 })).status).toBe(400);
    const asText = await send("POST", `${PROXY}/mpu/create/${dir}`, { body: '{"path":"x.bin"}', headers: { "Content-Type": "text/plain" } });
    expect(asText.status).toBe(400);

    const create = await createUpload(dir, "x.bin", 2);
    const noLength = await send("PUT", new URL(create.credentials[0].url).pathname + new URL(create.credentials[0].url).search, {
      body: new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(4));
          c.close();
        },
      }),
    });
    expect(noLength.status).toBe(400);
    const partZero = create.credentials[0].url.replace("part_number=1", "part_number=0");
    expect((await putPart({ url: partZero }, new Uint8Array(4))).status).toBe(400);

    // A first part below R2's 5 MiB minimum makes the completion fail, as a client error.
    const small1 = await putPart(create.credentials[0], new Uint8Array(1024));
    const small2 = await putPart(create.credentials[1], new Uint8Array(1024));
    const tooSmall = await postJson(`${PROXY}/mpu/complete/${dir}`, {
      path: "x.bin",
      upload_id: create.upload_id,
      parts: [
        { part_number: 1, etag: small1.headers.get("etag") },
        { part_number: 2, etag: small2.headers.get("etag") },
      ],
    });
    expect(tooSmall.status).toBe(400);
    expect(mlflowError(tooSmall)).toBe("INVALID_PARAMETER_VALUE");
    const wrongEtag = await postJson(`${PROXY}/mpu/complete/${dir}`, { path: "x.bin", upload_id: create.upload_id, parts: [{ part_number: 1, etag: '"nope"' }] });
    expect(wrongEtag.status).toBe(400);
    expect((await postJson(`${PROXY}/mpu/complete/${dir}`, { path: "x.bin", upload_id: create.upload_id, parts: [] })).status).toBe(400);
  });
});

describe("a run's artifacts through the tracking API and the UI route", () => {
  async function newRun(experimentArtifactLocation?: string): Promise<{ runId: string; artifactUri: string }> {
    const exp = await call("POST", "/api/2.0/mlflow/experiments/create", {
      mode: "open",
      body: { name: `exp-${crypto.randomUUID()}`, ...(experimentArtifactLocation ? { artifact_location: experimentArtifactLocation } : {}) },
    });
    const run = await call("POST", "/api/2.0/mlflow/runs/create", { mode: "open", body: { experiment_id: exp.json.experiment_id } });
    return { runId: run.json.run.info.run_id, artifactUri: run.json.run.info.artifact_uri };
  }

  it("lists a run's artifacts with root_uri and run-relative paths (run_id, run_uuid, /ajax-api)", async () => {
    const { runId, artifactUri } = await newRun();
    const root = artifactUri.replace("mlflow-artifacts:/", "");
    await put(`${root}/metrics.json`, "{}");
    await put(`${root}/model/MLmodel`, "flavors: {}");
    await put(`${root}/model/data/w.bin`, "1234");

    const top = await call("GET", `/api/2.0/mlflow/artifacts/list?run_id=${runId}`, { mode: "open" });
    expect(top.status).toBe(200);
    expect(top.json).toEqual({
      root_uri: artifactUri,
      files: [
        { path: "metrics.json", is_dir: false, file_size: 2 },
        { path: "model", is_dir: true },
      ],
    });
    const sub = await call("GET", `/ajax-api/2.0/mlflow/artifacts/list?run_uuid=${runId}&path=model`, { mode: "open" });
    expect(sub.json.files).toEqual([
      { path: "model/MLmodel", is_dir: false, file_size: 11 },
      { path: "model/data", is_dir: true },
    ]);
    const empty = await call("GET", `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=nothing`, { mode: "open" });
    expect(empty.json).toEqual({ root_uri: artifactUri });

    const traversal = await call("GET", `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=${encodeURIComponent("../..")}`, { mode: "open" });
    expect(traversal.status).toBe(400);
    const unknown = await call("GET", `/api/2.0/mlflow/artifacts/list?run_id=${"0".repeat(32)}`, { mode: "open" });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("serves a run's artifact at /get-artifact, with ranges, errors in MLflow's shape", async () => {
    const { runId, artifactUri } = await newRun();
    const root = artifactUri.replace("mlflow-artifacts:/", "");
    const data = randomBytes(4096);
    await put(`${root}/plots/roc.png`, data);

    const got = await send("GET", `/get-artifact?run_uuid=${runId}&path=${encodeURIComponent("plots/roc.png")}`);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(got.headers.get("content-disposition")).toBe('attachment; filename="roc.png"');
    expectSameBytes(got.bytes, data);
    const ranged = await send("GET", `/get-artifact?run_id=${runId}&path=plots/roc.png`, { headers: { Range: "bytes=0-15" } });
    expect(ranged.status).toBe(206);
    expectSameBytes(ranged.bytes, data.subarray(0, 16));

    const missing = await send("GET", `/get-artifact?run_uuid=${runId}&path=plots/none.png`);
    expect(missing.status).toBe(404);
    expect(mlflowError(missing)).toBe("RESOURCE_DOES_NOT_EXIST");
    const escape = await send("GET", `/get-artifact?run_uuid=${runId}&path=${encodeURIComponent("../../other/secret.txt")}`);
    expect(escape.status).toBe(400);
    expect(mlflowError(escape)).toBe("INVALID_PARAMETER_VALUE");
    const noPath = await send("GET", `/get-artifact?run_uuid=${runId}`);
    expect(noPath.status).toBe(400);
    expect(mlflowError(noPath)).toBe("INVALID_PARAMETER_VALUE");
    expect((await send("GET", `/get-artifact?run_uuid=${"f".repeat(32)}&path=a.txt`)).status).toBe(404);
  });

  it("refuses runs whose artifacts live outside the proxy, or whose root escapes it", async () => {
    const s3 = await newRun("s3://bucket/prefix");
    const res = await call("GET", `/api/2.0/mlflow/artifacts/list?run_id=${s3.runId}`, { mode: "open" });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect(res.json.message).toContain("s3://bucket/prefix");

    const sneaky = await newRun("mlflow-artifacts:/../escape");
    const get = await send("GET", `/get-artifact?run_uuid=${sneaky.runId}&path=a.txt`);
    expect(get.status).toBe(400);
  });
});

describe("token mode", () => {
  it("lets a read token download and list but not upload, delete or start uploads", async () => {
    const dir = unique();
    await put(`${dir}/r.txt`, "readable", { token: ADMIN_TOKEN, mode: "token" });
    const reader = await createToken(["read"], "artifact-reader");

    const got = await send("GET", `${PROXY}/artifacts/${dir}/r.txt`, { token: reader.secret, mode: "token" });
    expect(got.status).toBe(200);
    expect(new TextDecoder().decode(got.bytes)).toBe("readable");
    expect((await send("GET", `${PROXY}/artifacts?path=${dir}`, { token: reader.secret, mode: "token" })).json.files).toHaveLength(1);

    const denied = await put(`${dir}/w.txt`, "nope", { token: reader.secret, mode: "token" });
    expect(denied.status).toBe(403);
    expect(mlflowError(denied)).toBe("PERMISSION_DENIED");
    expect((await send("DELETE", `${PROXY}/artifacts/${dir}/r.txt`, { token: reader.secret, mode: "token" })).status).toBe(403);
    expect((await postJson(`${PROXY}/mpu/create/${dir}`, { path: "x.bin", num_parts: 1 }, { token: reader.secret, mode: "token" })).status).toBe(403);
    expect((await download(`${dir}/w.txt`)).status).toBe(404);

    const anonymous = await send("GET", `${PROXY}/artifacts/${dir}/r.txt`, { mode: "token" });
    expect(anonymous.status).toBe(401);
    expect(mlflowError(anonymous)).toBe("UNAUTHENTICATED");
    expect((await send("GET", `/get-artifact?run_uuid=x&path=r.txt`, { mode: "token" })).status).toBe(401);
  });
});
