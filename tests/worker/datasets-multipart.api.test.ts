import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sweepAbandonedUploads } from "../../worker/datasets/jobs";
import { dispatchScheduled } from "../../worker/system/scheduler";
import { describe, expect, it } from "vitest";
import { call, errorCode } from "./helpers";
import { api, createDataset, keysUnder, md5, mode, raw, sha256 } from "./datasets-helpers";

const MiB = 1024 * 1024;
const blobKey = (h: string) => `blobs/sha256/${h.slice(0, 2)}/${h.slice(2)}`;

/** Deterministic pseudo-random bytes, so parts differ from each other. */
function content(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const part = (data: Uint8Array, partSize: number, n: number) => data.subarray((n - 1) * partSize, Math.min(n * partSize, data.length));

async function start(data: Uint8Array, partSize = 5 * MiB, declared?: string) {
  const res = await api("POST", "/blobs/uploads", { sha256: declared ?? (await sha256(data)), size: data.length, part_size: partSize });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

const putPart = (id: string, n: number, body: Uint8Array, headers: Record<string, string> = {}) => raw("PUT", `/api/v1/blobs/uploads/${id}/parts/${n}`, body, headers);

describe("multipart uploads", () => {
  it("uploads parts in any order and in parallel, resumes from the listed parts, and verifies on completion", async () => {
    const data = content(11 * MiB + 123, 7);
    const hash = await sha256(data);
    const up = await start(data);
    expect(up).toMatchObject({ exists: false, part_count: 3, part_size: 5 * MiB, parts: [] });

    // An interrupted client got parts 3 and 2 up (in parallel), then died.
    const [p3, p2] = await Promise.all([putPart(up.upload_id, 3, part(data, 5 * MiB, 3)), putPart(up.upload_id, 2, part(data, 5 * MiB, 2))]);
    expect(p3.status, p3.text).toBe(200);
    expect(p2.json.sha256).toBe(await sha256(part(data, 5 * MiB, 2)));
    expect((await api("POST", "/blobs/missing", { sha256: [hash] })).json.missing).toEqual([hash]);

    // Resuming: ask which parts the server has, upload the rest.
    const state = await api("GET", `/blobs/uploads/${up.upload_id}`);
    expect(state.json.parts.map((p: any) => p.part_number)).toEqual([2, 3]);
    const early = await api("POST", `/blobs/uploads/${up.upload_id}/complete`);
    expect(early.status).toBe(400);
    expect(early.json.error.message).toContain("1");
    const p1 = await putPart(up.upload_id, 1, part(data, 5 * MiB, 1), { "X-Content-SHA256": await sha256(part(data, 5 * MiB, 1)) });
    expect(p1.status, p1.text).toBe(200);

    const done = await api("POST", `/blobs/uploads/${up.upload_id}/complete`);
    expect(done.status, done.text).toBe(200);
    expect(done.json).toEqual({ sha256: hash, md5: await md5(data), size: data.length, created: true });
    expect((await api("POST", "/blobs/missing", { sha256: [hash] })).json.missing).toEqual([]);
    expect(await keysUnder(env.BLOBS, "staging/")).toEqual([]);
    expect((await api("GET", `/blobs/uploads/${up.upload_id}`)).status).toBe(404);

    await createDataset("big-file");
    const v = await api("POST", "/datasets/big-file/versions", { sha256: hash, file_name: "big.bin" });
    expect(v.status, v.text).toBe(201);
    const down = await call("GET", "/api/v1/datasets/big-file/versions/1/download", { mode, headers: { Range: `bytes=${5 * MiB - 2}-${5 * MiB + 1}` } });
    expect(down.status).toBe(206);
    expect(down.headers.get("content-range")).toBe(`bytes ${5 * MiB - 2}-${5 * MiB + 1}/${data.length}`);

    // Content the store holds needs no upload at all.
    const again = await api("POST", "/blobs/uploads", { sha256: hash, size: data.length, part_size: 5 * MiB });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ exists: true, sha256: hash });
  }, 120_000);

  it("leaves nothing behind when aborted", async () => {
    const data = content(6 * MiB, 11);
    const hash = await sha256(data);
    const up = await start(data);
    expect((await putPart(up.upload_id, 1, part(data, 5 * MiB, 1))).status).toBe(200);
    expect(await env.BLOBS.head(blobKey(hash))).toBeNull();
    const aborted = await api("DELETE", `/blobs/uploads/${up.upload_id}`);
    expect(aborted.status, aborted.text).toBe(200);
    expect((await api("GET", `/blobs/uploads/${up.upload_id}`)).status).toBe(404);
    expect((await putPart(up.upload_id, 2, part(data, 5 * MiB, 2))).status).toBe(404);
    expect((await api("POST", `/blobs/uploads/${up.upload_id}/complete`)).status).toBe(404);
    expect(await keysUnder(env.BLOBS, "staging/")).toEqual([]);
    expect(await env.BLOBS.head(blobKey(hash))).toBeNull();
    const rows = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM blob_uploads WHERE upload_id = ?1) + (SELECT COUNT(*) FROM blob_upload_parts WHERE upload_id = ?1) + (SELECT COUNT(*) FROM blobs WHERE sha256 = ?2) AS n",
    )
      .bind(up.upload_id, hash)
      .first<{ n: number }>();
    expect(rows!.n).toBe(0);
    expect((await api("POST", "/blobs/missing", { sha256: [hash] })).json.missing).toEqual([hash]);
  }, 60_000);

  it("drops an upload whose assembled bytes do not hash to the declared sha256", async () => {
    const data = content(5 * MiB + 10, 3);
    const wrong = await sha256("not these bytes");
    const up = await start(data, 5 * MiB, wrong);
    await putPart(up.upload_id, 1, part(data, 5 * MiB, 1));
    await putPart(up.upload_id, 2, part(data, 5 * MiB, 2));
    const done = await api("POST", `/blobs/uploads/${up.upload_id}/complete`);
    expect(done.status).toBe(400);
    expect(done.json.error.message).toMatch(/mismatch/i);
    expect(await keysUnder(env.BLOBS, "staging/")).toEqual([]);
    expect(await env.BLOBS.head(blobKey(wrong))).toBeNull();
    expect(await env.BLOBS.head(blobKey(await sha256(data)))).toBeNull();
    expect((await api("GET", `/blobs/uploads/${up.upload_id}`)).status).toBe(404);
    expect((await api("POST", "/blobs/missing", { sha256: [wrong, await sha256(data)] })).json.missing).toHaveLength(2);
  }, 60_000);

  it("refuses parts of the wrong size, out of range, or with a wrong declared hash", async () => {
    const data = content(5 * MiB + 100, 5);
    const up = await start(data);
    const short = await putPart(up.upload_id, 1, part(data, 5 * MiB, 1).subarray(0, 1000));
    expect(short.status).toBe(400);
    expect(short.json.error.message).toContain(String(5 * MiB));
    expect((await putPart(up.upload_id, 3, new Uint8Array(10))).status).toBe(400);
    const badHash = await putPart(up.upload_id, 2, part(data, 5 * MiB, 2), { "X-Content-SHA256": await sha256("x") });
    expect(badHash.status).toBe(400);
    expect((await api("GET", `/blobs/uploads/${up.upload_id}`)).json.parts).toEqual([]);
    expect(errorCode(await api("POST", "/blobs/uploads", { sha256: await sha256(data), size: 100, part_size: 1024 }))).toBe("INVALID_PARAMETER_VALUE");
    expect((await api("POST", "/blobs/uploads", { sha256: await sha256(data), size: 10_001 * 5 * MiB, part_size: 5 * MiB })).status).toBe(400);
    expect((await api("DELETE", `/blobs/uploads/${up.upload_id}`)).status).toBe(200);
  });

  it("forgets uploads abandoned for longer than R2 keeps them, on the hourly sweep", async () => {
    const data = content(5 * MiB + 1, 13);
    const old = await start(data);
    await putPart(old.upload_id, 1, part(data, 5 * MiB, 1));
    const fresh = await start(content(5 * MiB + 2, 17));
    await env.DB.prepare("UPDATE blob_uploads SET created_at = ?1 WHERE upload_id = ?2").bind(Date.now() - 8 * 24 * 3600 * 1000, old.upload_id).run();
    // Not at minute 0: nothing happens.
    await dispatchScheduled({ "* * * * *": [sweepAbandonedUploads] }, { cron: "* * * * *", scheduledTime: Date.UTC(2026, 0, 1, 5, 7) }, env, createExecutionContext());
    expect((await api("GET", `/blobs/uploads/${old.upload_id}`)).status).toBe(200);
    const outcomes = await dispatchScheduled({ "* * * * *": [sweepAbandonedUploads] }, { cron: "* * * * *", scheduledTime: Date.UTC(2026, 0, 1, 6, 0) }, env, createExecutionContext());
    expect(outcomes[0].ok).toBe(true);
    expect((await api("GET", `/blobs/uploads/${old.upload_id}`)).status).toBe(404);
    expect((await api("GET", `/blobs/uploads/${fresh.upload_id}`)).status).toBe(200);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM blob_upload_parts WHERE upload_id = ?1").bind(old.upload_id).first("n")).toBe(0);
  }, 60_000);
});
