// Local files for `tern data`: walking a directory into dataset paths, streaming sha256 + md5 of many
// files at once, and the per-path hash cache (keyed by size, mtime and inode) that lets `add` and
// `status` skip re-reading files that have not changed since they were last hashed.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { cacheHit, statKey } from "./data-files.mjs";

const READ_CHUNK = 4 * 1024 * 1024;

/** Runs fn over items with at most `limit` at once; results in item order; the first error rejects. */
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  let failed = null;
  const worker = async () => {
    while (failed === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed;
  return results;
}

/** Names a walk leaves out: git's own store, and what an interrupted `pull` leaves behind. */
const SKIP_DIRS = new Set([".git"]);
export const PARTIAL_SUFFIX = ".tern-partial";

/**
 * Regular files under `root` as { path, abs }: `path` relative with '/' separators in Unicode NFC, the
 * form a dataset manifest takes. Symbolic links are not followed (a dataset holds content, not links).
 */
export async function walk(root) {
  const out = [];
  const visit = async (dir) => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await visit(abs);
      } else if (e.isFile() && !e.name.endsWith(PARTIAL_SUFFIX)) {
        out.push({ path: relative(root, abs).split(sep).join("/").normalize("NFC"), abs });
      }
    }
  };
  await visit(root);
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/**
 * sha256 and md5 of one file in a single streaming read; onBytes(n) as chunks go by, and onChunk(chunk)
 * with each chunk in order (so a profile can be computed from the same read).
 */
export function hashFile(abs, onBytes = () => {}, onChunk = null) {
  return new Promise((resolvePromise, reject) => {
    const sha = createHash("sha256");
    const md5 = createHash("md5");
    let size = 0;
    const s = createReadStream(abs, { highWaterMark: READ_CHUNK });
    s.on("data", (chunk) => {
      sha.update(chunk);
      md5.update(chunk);
      size += chunk.length;
      try {
        onChunk?.(chunk);
      } catch (err) {
        s.destroy(err);
        return;
      }
      onBytes(chunk.length);
    });
    s.on("error", reject);
    s.on("end", () => resolvePromise({ sha256: sha.digest("hex"), md5: md5.digest("hex"), size }));
  });
}

/**
 * Remembered hashes of local files, one JSON file per data path under the cache directory. An entry
 * stands only while the file's size, mtime (nanoseconds) and inode are what they were when hashed.
 */
export class HashCache {
  constructor(file) {
    this.file = file;
    this.entries = {};
    this.dirty = false;
  }

  static async open(cacheRoot, target) {
    const key = createHash("sha256").update(resolve(target)).digest("hex").slice(0, 32);
    const c = new HashCache(join(cacheRoot, "hashes", `${key}.json`));
    try {
      c.entries = JSON.parse(await readFile(c.file, "utf8")).entries ?? {};
    } catch {
      c.entries = {};
    }
    return c;
  }

  lookup(abs, st) {
    const e = this.entries[abs];
    return cacheHit(e, st) ? { sha256: e.sha256, md5: e.md5, size: e.size } : null;
  }

  remember(abs, st, digests) {
    this.entries[abs] = { ...statKey(st), sha256: digests.sha256, md5: digests.md5 };
    this.dirty = true;
  }

  /** Drops entries for files that no longer exist under the data path. */
  keepOnly(absPaths) {
    const keep = new Set(absPaths);
    for (const k of Object.keys(this.entries)) {
      if (!keep.has(k)) {
        delete this.entries[k];
        this.dirty = true;
      }
    }
  }

  async save() {
    if (!this.dirty) return;
    await mkdir(join(this.file, ".."), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ entries: this.entries }));
    await rename(tmp, this.file);
    this.dirty = false;
  }
}

/**
 * Hashes `files` ({ path, abs }) with the cache's help, `concurrency` at a time. progress.onFile() per
 * file and progress.onBytes(n) per chunk read; onChunk(f, chunk) sees the bytes of each file that is read.
 * Returns [{ path, abs, sha256, md5, size }] in input order, and how many were read (the rest came from
 * the cache).
 */
export async function hashAll(files, cache, { concurrency = 8, onBytes = () => {}, onFile = () => {}, onChunk = null } = {}) {
  let read = 0;
  const out = await pool(files, concurrency, async (f) => {
    const st = await stat(f.abs, { bigint: true });
    let d = cache?.lookup(f.abs, st) ?? null;
    if (d) {
      onBytes(d.size);
    } else {
      d = await hashFile(f.abs, onBytes, onChunk ? (chunk) => onChunk(f, chunk) : null);
      read++;
      // A file that changed while it was read gets hashed again next time rather than trusted.
      const after = await stat(f.abs, { bigint: true });
      if (cacheHit(statKey(st), after)) cache?.remember(f.abs, st, d);
    }
    onFile();
    return { path: f.path, abs: f.abs, sha256: d.sha256, md5: d.md5, size: d.size };
  });
  return { files: out, read };
}
