/** Helpers of the dataset API tests: hashing, uploads and commits through the real Worker. */
import { expect } from "vitest";
import { call, type CallOptions } from "./helpers";

export const mode = "open" as const;
const enc = new TextEncoder();

export const bytes = (s: string | Uint8Array) => (typeof s === "string" ? enc.encode(s) : s);

async function digest(algo: string, data: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest(algo, data))].map((b) => b.toString(16).padStart(2, "0")).join("");
}
export const sha256 = (data: string | Uint8Array) => digest("SHA-256", bytes(data));
export const md5 = (data: string | Uint8Array) => digest("MD5", bytes(data));

export const api = (method: string, path: string, body?: unknown, opts: CallOptions = {}) =>
  call(method, `/api/v1${path}`, { mode, ...opts, ...(body === undefined ? {} : { body }) });

export const raw = (method: string, path: string, data: Uint8Array, headers: Record<string, string> = {}, opts: CallOptions = {}) =>
  call(method, path, { mode, raw: data.slice(), headers: { "Content-Type": "application/octet-stream", "Content-Length": String(data.byteLength), ...headers }, ...opts });

/** Uploads content (declaring its hash) and returns the sha256. */
export async function upload(content: string | Uint8Array): Promise<string> {
  const data = bytes(content);
  const hash = await sha256(data);
  const res = await raw("PUT", `/api/v1/blobs/${hash}`, data);
  expect(res.status, res.text).toBe(200);
  return hash;
}

export async function createDataset(name: string, extra: Record<string, unknown> = {}) {
  const res = await api("POST", "/datasets", { name, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.json.dataset;
}

export async function commitFile(name: string, content: string | Uint8Array, extra: Record<string, unknown> = {}) {
  const hash = await upload(content);
  const res = await api("POST", `/datasets/${name}/versions`, { sha256: hash, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.json.version;
}

/** Every key the bucket holds under a prefix. */
export async function keysUnder(bucket: R2Bucket, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await bucket.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    if (!page.truncated) return keys;
    cursor = page.cursor;
  }
}
