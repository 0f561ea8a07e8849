/**
 * Directory manifests of dataset versions, runtime-free: the path rules every entry must obey, the
 * canonical form whose sha256 is the manifest's content address, and the difference between two
 * manifests. Runs in the Worker, in the browser and in the CLI, so all three compute the same hash.
 */

/** Thrown for a manifest that must be refused; the message names the offending path. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

export interface ManifestEntry {
  path: string;
  sha256: string;
  size: number;
}

/** R2 keys are not involved (blobs are keyed by hash), but paths travel in URLs and headers. */
export const MAX_PATH_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_DEPTH = 64;

const SHA256 = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();

export const isSha256 = (s: string) => SHA256.test(s);

function shown(path: string): string {
  return JSON.stringify(path.length > 120 ? `${path.slice(0, 120)}...` : path);
}

/** Why a relative path inside a dataset is unacceptable, or null when it is acceptable as it is. */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return "it is empty";
  if (path.includes("\u0000")) return "it contains a NUL character";
  if (/[\u0001-\u001f\u007f]/.test(path)) return "it contains control characters";
  if (path.includes("\\")) return "it contains a backslash (use '/' to separate directories)";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "it is absolute";
  if (utf8.encode(path).length > MAX_PATH_BYTES) return `it is longer than ${MAX_PATH_BYTES} bytes`;
  const segments = path.split("/");
  if (segments.length > MAX_PATH_DEPTH) return `it is nested deeper than ${MAX_PATH_DEPTH} directories`;
  for (const s of segments) {
    if (s === "") return "it has an empty segment ('//' or a trailing '/')";
    if (s === "..") return "it refers to a parent directory ('..')";
    if (s === ".") return "it has a '.' segment";
    if (utf8.encode(s).length > MAX_SEGMENT_BYTES) return `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  if (path !== path.normalize("NFC")) return "it is not in Unicode normal form NFC";
  return null;
}

/** The path itself when acceptable; otherwise a ManifestError naming it and the reason. */
export function checkPath(path: string): string {
  const problem = pathProblem(path);
  if (problem) throw new ManifestError(`Invalid path ${shown(path)}: ${problem}`);
  return path;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Validates every entry and returns them sorted by path (code-unit order). Refuses duplicates, and a
 * path that is both a file and a directory ("a" and "a/b"), which no file system can check out.
 */
export function normalizeManifest(entries: readonly ManifestEntry[]): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const e of entries) {
    checkPath(e.path);
    if (!isSha256(e.sha256)) throw new ManifestError(`Invalid sha256 for path ${shown(e.path)}: expected 64 lowercase hex digits`);
    if (!Number.isSafeInteger(e.size) || e.size < 0) throw new ManifestError(`Invalid size for path ${shown(e.path)}: expected a non-negative integer`);
    out.push({ path: e.path, sha256: e.sha256, size: e.size });
  }
  out.sort(byPath);
  const files = new Set<string>();
  for (let i = 0; i < out.length; i++) {
    if (i > 0 && out[i].path === out[i - 1].path) throw new ManifestError(`Duplicate path ${shown(out[i].path)}`);
    files.add(out[i].path);
  }
  for (const e of out) {
    const segments = e.path.split("/");
    for (let n = 1; n < segments.length; n++) {
      const dir = segments.slice(0, n).join("/");
      if (files.has(dir)) throw new ManifestError(`Path ${shown(e.path)} is inside ${shown(dir)}, which is a file`);
    }
  }
  return out;
}

/** The canonical bytes a manifest is hashed over: one JSON array of [path, sha256, size], sorted. */
export function canonicalManifest(sorted: readonly ManifestEntry[]): string {
  return JSON.stringify(sorted.map((e) => [e.path, e.sha256, e.size]));
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? utf8.encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A manifest's content address: normalises the entries, then hashes the canonical form. */
export async function manifestHash(entries: readonly ManifestEntry[]): Promise<{ sha256: string; entries: ManifestEntry[]; size: number }> {
  const sorted = normalizeManifest(entries);
  const size = sorted.reduce((s, e) => s + e.size, 0);
  return { sha256: await sha256Hex(canonicalManifest(sorted)), entries: sorted, size };
}

export interface ManifestDiff {
  added: ManifestEntry[];
  removed: ManifestEntry[];
  changed: { path: string; before: ManifestEntry; after: ManifestEntry }[];
  unchanged: number;
}

/** Files added, removed and changed (same path, other content) from `before` to `after`. */
export function diffManifests(before: readonly ManifestEntry[], after: readonly ManifestEntry[]): ManifestDiff {
  const old = new Map(before.map((e) => [e.path, e]));
  const diff: ManifestDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const e of after) {
    const prev = old.get(e.path);
    if (!prev) diff.added.push(e);
    else if (prev.sha256 !== e.sha256) diff.changed.push({ path: e.path, before: prev, after: e });
    else diff.unchanged++;
    old.delete(e.path);
  }
  diff.removed = [...old.values()].sort(byPath);
  diff.added.sort(byPath);
  diff.changed.sort(byPath);
  return diff;
}
