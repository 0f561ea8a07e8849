import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createToken } from "./helpers";
import { api, bytes, createDataset, md5, mode, sha256, upload } from "./datasets-helpers";

const objectPath = (hash: string, dir = false) => `/dvc/files/md5/${hash.slice(0, 2)}/${hash.slice(2)}${dir ? ".dir" : ""}`;

/** What dvc-http sends: the object as the body of a POST (or PUT with `method PUT`). */
const push = (path: string, data: string, opts: { method?: string; headers?: Record<string, string>; mode?: "open" | "token" } = {}) =>
  call(opts.method ?? "POST", path, { mode: opts.mode ?? mode, raw: bytes(data), headers: { "Content-Length": String(bytes(data).length), ...opts.headers } });

describe("DVC HTTP remote", () => {
  it("answers a missing object with 404 to GET and HEAD (DVC's exists probe)", async () => {
    const hash = await md5("never pushed");
    expect((await call("GET", objectPath(hash), { mode })).status).toBe(404);
    expect((await call("HEAD", objectPath(hash), { mode })).status).toBe(404);
    expect((await call("GET", "/dvc/files/md5/zz/not-hex", { mode })).status).toBe(404);
  });

  it("pushes with POST and pulls with GET, byte for byte, with ranges", async () => {
    const data = "feature,label\n0.5,1\n0.7,0\n";
    const hash = await md5(data);
    const pushed = await push(objectPath(hash), data);
    expect(pushed.status, pushed.text).toBe(201);
    const pulled = await call("GET", objectPath(hash), { mode });
    expect(pulled.status).toBe(200);
    expect(pulled.text).toBe(data);
    const head = await call("HEAD", objectPath(hash), { mode });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(data.length));
    const ranged = await call("GET", objectPath(hash), { mode, headers: { Range: "bytes=0-6" } });
    expect(ranged.status).toBe(206);
    expect(ranged.text).toBe("feature");
    // A second push of the same object (DVC retries) is accepted and changes nothing.
    expect((await push(objectPath(hash), data)).status).toBe(200);
  });

  it("accepts PUT (`dvc remote modify <r> method PUT`) and rejects a body that is not the named md5", async () => {
    const data = "put object";
    const hash = await md5(data);
    expect((await push(objectPath(hash), data, { method: "PUT" })).status).toBe(201);
    const wrong = await md5("something else");
    const bad = await push(objectPath(wrong), data);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/mismatch/i);
    expect((await call("GET", objectPath(wrong), { mode })).status).toBe(404);
    expect((await env.BLOBS.list({ prefix: "staging/" })).objects).toEqual([]);
  });

  it("stores a .dir listing under its name and serves it back", async () => {
    const listing = JSON.stringify([{ md5: await md5("a"), relpath: "a.txt" }]);
    const name = await md5("the directory hash DVC computed");
    expect((await push(objectPath(name, true), listing)).status).toBe(201);
    const got = await call("GET", objectPath(name, true), { mode });
    expect(got.status).toBe(200);
    expect(got.text).toBe(listing);
    expect((await call("GET", objectPath(name), { mode })).status).toBe(404);
  });

  it("shares one content store with Tern's own uploads", async () => {
    const data = "shared between dvc and tern";
    const hash = await md5(data);
    await push(objectPath(hash), data);
    const sha = await sha256(data);
    expect((await api("POST", "/blobs/missing", { sha256: [sha] })).json.missing).toEqual([]);
    await createDataset("from-dvc");
    const v = await api("POST", "/datasets/from-dvc/versions", { sha256: sha, file_name: "shared.txt" });
    expect(v.status, v.text).toBe(201);
    const keys = (await env.BLOBS.list({ prefix: `blobs/sha256/${sha.slice(0, 2)}/` })).objects.map((o) => o.key);
    expect(keys).toEqual([`blobs/sha256/${sha.slice(0, 2)}/${sha.slice(2)}`]);

    // And the other way round: content uploaded through the API is then stored once when DVC pushes it.
    const other = "uploaded first through the API";
    const otherSha = await upload(other);
    expect((await push(objectPath(await md5(other)), other)).status).toBe(201);
    expect((await call("GET", objectPath(await md5(other)), { mode })).text).toBe(other);
    expect((await env.BLOBS.list({ prefix: `blobs/sha256/${otherSha.slice(0, 2)}/` })).objects).toHaveLength(1);
  });

  it("needs a token in token mode: DVC's custom header, Basic, or bearer; read tokens cannot push", async () => {
    const data = "auth object";
    const hash = await md5(data);
    const writer = await createToken(["write"]);
    const reader = await createToken(["read"]);
    expect((await push(objectPath(hash), data, { mode: "token" })).status).toBe(401);
    expect((await push(objectPath(hash), data, { mode: "token", headers: { "X-Tern-Token": reader.secret } })).status).toBe(403);
    expect((await push(objectPath(hash), data, { mode: "token", headers: { "X-Tern-Token": writer.secret } })).status).toBe(201);
    const basic = await call("GET", objectPath(hash), { mode: "token", headers: { Authorization: `Basic ${btoa(`dvc:${reader.secret}`)}` } });
    expect(basic.status).toBe(200);
    expect(basic.text).toBe(data);
    const custom = await call("GET", objectPath(hash), { mode: "token", headers: { Authorization: `Bearer ${reader.secret}` } });
    expect(custom.status).toBe(200);
    expect((await call("GET", objectPath(hash), { mode: "token", headers: { "X-Tern-Token": "tern_bogus_secret" } })).status).toBe(401);
  });
});
