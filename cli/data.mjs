// `tern data add|pull|status|ls|diff`: version data files and directories in Tern from a project
// directory. `add` hashes locally, uploads only content the server lacks (large files in resumable
// multipart uploads), commits a version and writes PATH.tern, a small pointer to commit to git in place
// of the data; `pull` brings the content a pointer names back, verified; `status` compares local files
// with their pointers. Exit codes: 0 done, 1 the server or a file refused (message printed), 2 bad usage.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TernApi, TernApiError, explain } from "./api.mjs";
import { loadTypeScript } from "./bundle.mjs";
import { cacheDir, serverFor, serverOptions } from "./config.mjs";
import { addIgnoreEntry, compareWithPointer, formatBytes, formatPointer, parsePointer, parseRef, pointerPathFor, POINTER_SUFFIX, PointerError, targetOfPointer } from "./data-files.mjs";
import { HashCache, PARTIAL_SUFFIX, hashAll, pool, walk } from "./data-local.mjs";
import { byteBar, showProgress } from "./progress.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
/** R2's smallest part; files above one part size go multipart. */
const MIN_PART_SIZE = 5 * MiB;
const DEFAULT_PART_SIZE = 16 * MiB;
const MISSING_BATCH = 5000;
const SMALL_UPLOADS_AT_ONCE = 16;
const PARTS_AT_ONCE = 4;
const DOWNLOADS_AT_ONCE = 8;
const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** What the test hook TERN_TEST_STOP_AFTER_PARTS exits with: an upload interrupted on purpose. */
export const EXIT_INTERRUPTED = 75;

class UsageError extends Error {}
class Interrupted extends Error {}

/** The part size: TERN_PART_SIZE (bytes, at least R2's 5 MiB) lets tests exercise multipart on small files. */
function partSize(env = process.env) {
  if (!env.TERN_PART_SIZE) return DEFAULT_PART_SIZE;
  const n = Number(env.TERN_PART_SIZE);
  if (!Number.isSafeInteger(n) || n < MIN_PART_SIZE) throw new UsageError(`TERN_PART_SIZE must be a whole number of bytes, at least ${MIN_PART_SIZE}`);
  return n;
}

const say = (opts, line) => {
  if (!opts.quiet) process.stdout.write(`${line}\n`);
};

let manifestModule;
/** worker/lib/manifest.ts (path rules and the manifest hash the server computes), bundled once. */
const manifestLib = async () => (manifestModule ??= await loadTypeScript(join(here, "..", "worker", "lib"), "manifest.ts", "tern data"));

// --- manifests cached locally, so `status` works without the server -----------------------------------

const manifestFile = (sha256) => join(cacheDir(), "manifests", `${sha256}.json`);

async function rememberManifest(sha256, entries) {
  const file = manifestFile(sha256);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.${process.pid}.tmp`, JSON.stringify(entries));
  await rename(`${file}.${process.pid}.tmp`, file);
}

/** A directory version's files: from the local cache when known, else listed by the server and checked against the pointer. */
async function manifestOf(api, p) {
  try {
    return JSON.parse(await readFile(manifestFile(p.sha256), "utf8"));
  } catch {
    // not cached: ask the server
  }
  const entries = [];
  let token;
  do {
    const page = await api.get(`/datasets/${encodeURIComponent(p.dataset)}/versions/${p.version}/files`, { max_results: 1000, page_token: token });
    entries.push(...page.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })));
    token = page.next_page_token;
  } while (token);
  const { manifestHash } = await manifestLib();
  const h = await manifestHash(entries);
  if (h.sha256 !== p.sha256) throw new Error(`${p.dataset}@${p.version} lists files whose manifest hash is ${h.sha256}, not the pointer's ${p.sha256}`);
  await rememberManifest(p.sha256, h.entries);
  return h.entries;
}

// --- uploads ------------------------------------------------------------------------------------------

/** Which of the hashes the server lacks, asked in batches. */
async function missingOf(api, hashes) {
  const missing = new Set();
  for (let i = 0; i < hashes.length; i += MISSING_BATCH) {
    const { json } = await api.call("POST", "/blobs/missing", { json: { sha256: hashes.slice(i, i + MISSING_BATCH) }, retry: true });
    json.missing.forEach((h) => missing.add(h));
  }
  return missing;
}

const uploadStateFile = (sha256) => join(cacheDir(), "uploads", `${sha256}.json`);

async function readUploadState(sha256) {
  try {
    return JSON.parse(await readFile(uploadStateFile(sha256), "utf8"));
  } catch {
    return null;
  }
}

/**
 * One large file through a multipart upload: parts read from disk and sent in parallel, each with its
 * sha256 for the server to verify. The upload's id is kept in a state file until it completes, so a run
 * that was interrupted continues with the parts the server does not have yet.
 */
async function uploadLarge(api, f, opts, bar) {
  const stateFile = uploadStateFile(f.sha256);
  const size = partSize();
  let upload = null;
  const saved = await readUploadState(f.sha256);
  if (saved && saved.url === api.url && saved.size === f.size) {
    try {
      upload = await api.get(`/blobs/uploads/${saved.upload_id}`);
      if (upload.sha256 !== f.sha256) upload = null;
    } catch (err) {
      if (!(err instanceof TernApiError && err.status === 404)) throw err;
      upload = null;
    }
  }
  if (upload) {
    say(opts, `resuming the upload of ${f.path}: ${upload.parts.length} of ${upload.part_count} parts already uploaded`);
  } else {
    const { json } = await api.call("POST", "/blobs/uploads", { json: { sha256: f.sha256, size: f.size, part_size: size } });
    if (json.exists) {
      bar.add(f.size);
      return;
    }
    upload = json;
    await mkdir(dirname(stateFile), { recursive: true });
    await writeFile(stateFile, JSON.stringify({ url: api.url, upload_id: upload.upload_id, sha256: f.sha256, size: f.size, part_size: upload.part_size }));
  }
  const partLength = (n) => (n < upload.part_count ? upload.part_size : upload.size - (upload.part_count - 1) * upload.part_size);
  const have = new Set(upload.parts.filter((p) => p.size === partLength(p.part_number)).map((p) => p.part_number));
  const todo = [];
  for (let n = 1; n <= upload.part_count; n++) {
    if (have.has(n)) bar.add(partLength(n));
    else todo.push(n);
  }
  const stopAfter = process.env.TERN_TEST_STOP_AFTER_PARTS ? Number(process.env.TERN_TEST_STOP_AFTER_PARTS) : null;
  let started = 0;
  const fh = await open(f.abs, "r");
  try {
    await pool(todo, PARTS_AT_ONCE, async (n) => {
      if (stopAfter !== null && started >= stopAfter) throw new Interrupted(`stopped after ${stopAfter} part(s) of ${f.path} (TERN_TEST_STOP_AFTER_PARTS); run again to resume`);
      started++;
      const length = partLength(n);
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, (n - 1) * upload.part_size);
      if (bytesRead !== length) throw new Error(`${f.path} changed while it was uploaded (it is shorter than when hashed); run again`);
      const sha = createHash("sha256").update(buf).digest("hex");
      await api.putBytes(`/blobs/uploads/${upload.upload_id}/parts/${n}`, buf, { "X-Content-SHA256": sha });
      bar.add(length);
    });
  } finally {
    await fh.close();
  }
  await completeUpload(api, upload.upload_id, f.sha256, stateFile);
}

/**
 * Completes an upload. A refused assembly (the file changed since it was hashed) drops the upload on
 * the server too. A lost answer (network, 5xx) is ambiguous: the assembly may have finished, so the
 * store is asked whether it now holds the content before the upload is completed again.
 */
async function completeUpload(api, uploadId, sha256, stateFile) {
  for (let attempt = 1; ; attempt++) {
    try {
      await api.call("POST", `/blobs/uploads/${uploadId}/complete`);
      break;
    } catch (err) {
      if (err instanceof TernApiError && err.status > 0 && err.status < 500) {
        if (err.status !== 404 || (await missingOf(api, [sha256])).has(sha256)) {
          await rm(stateFile, { force: true });
          throw err;
        }
        break; // an earlier attempt completed it
      }
      if (attempt >= 4) throw err;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt));
      if (!(await missingOf(api, [sha256])).has(sha256)) break;
    }
  }
  await rm(stateFile, { force: true });
}

async function uploadSmall(api, f, bar) {
  const bytes = await readFile(f.abs);
  await api.putBytes(`/blobs/${f.sha256}`, bytes);
  bar.add(f.size);
}

function gitInfo(dir) {
  const git = (...args) => {
    try {
      return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
    } catch {
      return null;
    }
  };
  const commit = git("rev-parse", "HEAD");
  if (!commit) return {};
  const branch = git("rev-parse", "--abbrev-ref", "HEAD");
  return { git_commit: commit, ...(branch && branch !== "HEAD" ? { git_branch: branch } : {}) };
}

async function ensureDataset(api, name) {
  try {
    await api.get(`/datasets/${encodeURIComponent(name)}`);
  } catch (err) {
    if (!(err instanceof TernApiError && err.status === 404)) throw err;
    try {
      await api.call("POST", "/datasets", { json: { name } });
    } catch (e) {
      if (!(e instanceof TernApiError && e.status === 409)) throw e;
    }
  }
}

async function latestVersion(api, name) {
  try {
    return (await api.get(`/datasets/${encodeURIComponent(name)}/versions/latest`)).version;
  } catch (err) {
    if (err instanceof TernApiError && err.status === 404) return null;
    throw err;
  }
}

async function readPointerFile(path) {
  let text;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
  }
  return parsePointer(text, path);
}

let coreModule;
/** cli/data-core.ts (the profile module), bundled once. */
const dataCore = async () => (coreModule ??= await loadTypeScript(here, "data-core.ts", "tern data"));

/**
 * A single file's profile: read whole up to the streaming threshold (exact), else streamed in bounded
 * memory, from the hash pass when that read the file, or from a read of its own.
 */
async function profileOf(core, f, shared, progress) {
  if (f.size <= core.streamThreshold()) return { profile: await core.profileBytes(f.path, new Uint8Array(await readFile(f.abs))), streamed: false };
  const fromHash = shared?.result(f.size);
  if (fromHash?.complete) return { profile: fromHash.profile, streamed: true };
  const bar = byteBar(progress, "profiling", f.size, 1);
  try {
    return { profile: await core.profileFileStreaming(f.abs, f.path, f.size, { onBytes: (n) => bar.add(n) }), streamed: true };
  } finally {
    bar.stop();
  }
}

export async function addCommand(target, opts) {
  const api = new TernApi(serverFor(opts));
  const abs = resolve(target);
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw new UsageError(`${target} does not exist`);
  }
  const kind = st.isDirectory() ? "directory" : st.isFile() ? "file" : null;
  if (!kind) throw new UsageError(`${target} is neither a regular file nor a directory`);
  const pointerPath = pointerPathFor(abs);
  const previous = existsSync(pointerPath) ? await readPointerFile(pointerPath).catch(() => null) : null;
  const dataset = opts.dataset ?? previous?.dataset;
  if (!dataset) throw new UsageError("name the dataset with --dataset NAME");
  if (!DATASET_NAME.test(dataset)) throw new UsageError(`invalid dataset name '${dataset}': use letters, digits, '.', '_' and '-' (at most 128, starting with a letter or digit)`);
  const progress = showProgress(opts.quiet);
  const started = Date.now();

  const listed = kind === "file" ? [{ path: basename(abs).normalize("NFC"), abs }] : await walk(abs);
  const { pathProblem } = await manifestLib();
  for (const f of listed) {
    const problem = pathProblem(f.path);
    if (problem) throw new UsageError(`cannot version ${kind === "directory" ? join(target, f.path) : target}: ${problem}`);
  }
  const sizes = await pool(listed, 32, async (f) => Number((await stat(f.abs)).size));
  const core = kind === "file" ? await dataCore() : null;
  let shared = null;
  if (core) {
    try {
      // A large text file is profiled from the same read that hashes it.
      shared = core.sharedProfileFor(listed[0].path, sizes[0]);
    } catch (err) {
      throw new UsageError(err.message);
    }
  }
  const cache = await HashCache.open(cacheDir(), abs);
  const hashBar = byteBar(progress, "hashing", sizes.reduce((a, b) => a + b, 0), listed.length);
  const onChunk = shared ? (_f, chunk) => shared.push(chunk) : null;
  const { files, read } = await hashAll(listed, cache, { onBytes: (n) => hashBar.add(n), onFile: () => hashBar.file(), onChunk });
  hashBar.stop();
  cache.keepOnly(listed.map((f) => f.abs));
  await cache.save();

  // When the latest version already holds exactly this content, every blob of it is on the server:
  // nothing to ask, upload or commit (this is what makes re-adding unchanged data take seconds).
  const manifest = kind === "directory" ? await (await manifestLib()).manifestHash(files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }))) : null;
  const rootSha = manifest ? manifest.sha256 : files[0].sha256;
  const latest = await latestVersion(api, dataset);
  const unchanged = latest !== null && latest.sha256 === rootSha && latest.kind === kind && (kind === "directory" || latest.file_name === files[0].path);

  const unique = new Map();
  for (const f of files) if (!unique.has(f.sha256)) unique.set(f.sha256, f);
  const missing = unchanged ? new Set() : await missingOf(api, [...unique.keys()]);
  const toUpload = [...unique.values()].filter((f) => missing.has(f.sha256));
  const uploadBytes = toUpload.reduce((a, f) => a + f.size, 0);
  const threshold = partSize();
  const upBar = byteBar(progress && toUpload.length > 0, "uploading", uploadBytes, toUpload.length);
  try {
    const small = toUpload.filter((f) => f.size <= threshold);
    const large = toUpload.filter((f) => f.size > threshold);
    await pool(small, SMALL_UPLOADS_AT_ONCE, async (f) => {
      await uploadSmall(api, f, upBar);
      upBar.file();
    });
    for (const f of large) {
      await uploadLarge(api, f, opts, upBar);
      upBar.file();
    }
  } finally {
    upBar.stop();
  }

  let v = latest;
  let created = false;
  let profiled = null;
  if (!unchanged) {
    await ensureDataset(api, dataset);
    const body = { message: opts.message ?? "", skip_if_unchanged: true, ...gitInfo(kind === "directory" ? abs : dirname(abs)) };
    if (previous && previous.dataset === dataset) body.parent_version = previous.version;
    if (kind === "file") {
      const f = files[0];
      body.sha256 = f.sha256;
      body.file_name = f.path;
      profiled = await profileOf(core, f, shared, progress);
      if (profiled.profile) body.profile = profiled.profile;
    } else {
      body.manifest = manifest.entries;
    }
    const { json } = await api.call("POST", `/datasets/${encodeURIComponent(dataset)}/versions`, { json: body });
    v = json.version;
    created = json.created;
  }
  if (manifest) await rememberManifest(manifest.sha256, manifest.entries);

  const pointer = { dataset, version: v.version, kind, sha256: v.sha256, size: v.size, files: v.file_count, ...(kind === "file" ? { md5: files[0].md5 } : {}) };
  await writeFile(pointerPath, formatPointer(pointer));
  const ignoreFile = join(dirname(abs), ".gitignore");
  const current = existsSync(ignoreFile) ? await readFile(ignoreFile, "utf8") : "";
  const edited = addIgnoreEntry(current, basename(abs));
  if (edited.changed) await writeFile(ignoreFile, edited.text);

  const seconds = (Date.now() - started) / 1000;
  const totalBytes = files.reduce((a, f) => a + f.size, 0);
  say(opts, `${relative(process.cwd(), abs) || "."}: ${files.length} file(s), ${formatBytes(totalBytes)}; hashed ${read}, ${files.length - read} unchanged since hashed before (cache)`);
  say(opts, `uploaded ${toUpload.length} file(s) (${formatBytes(uploadBytes)}); ${unique.size - toUpload.length} already stored`);
  if (profiled?.profile) {
    const p = profiled.profile;
    const how = profiled.streamed ? `streamed${p.approximate ? "; some statistics approximate" : ""}` : "read whole";
    say(opts, `profiled ${p.row_count} row(s), ${p.columns.length} column(s) (${how})`);
  }
  say(opts, created ? `${dataset} version ${v.version} committed` : `${dataset} version ${v.version} unchanged (same content as the latest version)`);
  say(opts, `wrote ${relative(process.cwd(), pointerPath)}${edited.changed ? ` and added /${basename(abs)} to ${relative(process.cwd(), ignoreFile)}` : ""} (${seconds.toFixed(1)} s)`);
}

// --- pull ---------------------------------------------------------------------------------------------

/** Every *.tern under dir (not inside .git or node_modules). */
async function findPointers(dir) {
  const out = [];
  const { readdir } = await import("node:fs/promises");
  const visit = async (d) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== ".git" && e.name !== "node_modules") await visit(p);
      } else if (e.isFile() && e.name.endsWith(POINTER_SUFFIX) && e.name !== POINTER_SUFFIX) out.push(p);
    }
  };
  await visit(dir);
  return out.sort();
}

async function pointerList(args) {
  const paths = args.length ? args.map((a) => resolve(a.endsWith(POINTER_SUFFIX) ? a : pointerPathFor(a))) : await findPointers(process.cwd());
  if (!paths.length) throw new UsageError("no pointer files (*.tern) here: `tern data add PATH --dataset NAME` makes one");
  return Promise.all(paths.map(async (path) => ({ path, pointer: await readPointerFile(path), target: targetOfPointer(path) })));
}

/** The files a pointer names, with where each lives locally. */
async function expectedFiles(api, { pointer: p, target }) {
  if (p.kind === "file") return [{ path: basename(target), abs: target, sha256: p.sha256, size: p.size }];
  return (await manifestOf(api, p)).map((e) => ({ ...e, abs: join(target, ...e.path.split("/")) }));
}

/** The local file's hash when it exists as a regular file (cached by stat), else null. */
async function localDigest(abs, cache) {
  let st;
  try {
    st = await stat(abs, { bigint: true });
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  const { files } = await hashAll([{ path: abs, abs }], cache, { concurrency: 1 });
  return files[0];
}

/**
 * Downloads one file to `abs` via a side file, continuing a side file left by an interrupted pull with a
 * byte range, hashing as it writes; the file is moved into place only when its sha256 is the expected one.
 */
async function download(api, p, e, bar) {
  const partial = `${e.abs}${PARTIAL_SUFFIX}`;
  await mkdir(dirname(e.abs), { recursive: true });
  const sha = createHash("sha256");
  const md5 = createHash("md5");
  let have = 0;
  try {
    have = (await stat(partial)).size;
  } catch {
    have = 0;
  }
  if (have > e.size) {
    await rm(partial, { force: true });
    have = 0;
  }
  const path = `/datasets/${encodeURIComponent(p.dataset)}/versions/${p.version}/download`;
  const query = p.kind === "directory" ? { path: e.path } : undefined;
  let res = null;
  if (have < e.size) {
    res = await api.stream(path, { query, range: have > 0 ? `bytes=${have}-` : undefined });
    if (have > 0 && res.status !== 206) have = 0; // the range was not honoured: start over
  }
  if (!res && have === 0) await writeFile(partial, ""); // an empty file: nothing to download
  if (have > 0) {
    const fh = await open(partial, "r");
    try {
      for await (const chunk of fh.createReadStream({ highWaterMark: 4 * MiB, autoClose: false })) {
        sha.update(chunk);
        md5.update(chunk);
      }
    } finally {
      await fh.close();
    }
    bar.add(have);
  }
  if (res) {
    const out = await open(partial, have > 0 ? "a" : "w");
    try {
      for await (const chunk of res.body) {
        sha.update(chunk);
        md5.update(chunk);
        await out.write(chunk);
        bar.add(chunk.length);
      }
    } finally {
      await out.close();
    }
  }
  const got = sha.digest("hex");
  if (got !== e.sha256) {
    await rm(partial, { force: true });
    throw new Error(`${e.abs}: downloaded content has sha256 ${got}, not ${e.sha256}; nothing was written (run pull again)`);
  }
  await rename(partial, e.abs);
  return { sha256: got, md5: md5.digest("hex") };
}

export async function pullCommand(args, opts) {
  const api = new TernApi(serverFor(opts));
  const progress = showProgress(opts.quiet);
  let failed = 0;
  for (const item of await pointerList(args)) {
    const { pointer: p, target } = item;
    const name = relative(process.cwd(), target) || ".";
    if (p.kind === "directory") await mkdir(target, { recursive: true });
    const cache = await HashCache.open(cacheDir(), target);
    const expected = await expectedFiles(api, item);
    const local = await pool(expected, DOWNLOADS_AT_ONCE, (e) => localDigest(e.abs, cache));
    const todo = expected.filter((e, i) => local[i]?.sha256 !== e.sha256);
    const bar = byteBar(progress && todo.length > 0, "downloading", todo.reduce((a, e) => a + e.size, 0), todo.length);
    const errors = [];
    try {
      await pool(todo, DOWNLOADS_AT_ONCE, async (e) => {
        try {
          const digests = await download(api, p, e, bar);
          cache.remember(e.abs, await stat(e.abs, { bigint: true }), digests);
        } catch (err) {
          if (err instanceof TernApiError && (err.status === 401 || err.status === 403 || err.status === 0)) throw err;
          errors.push(err);
        }
        bar.file();
      });
    } finally {
      bar.stop();
      await cache.save();
    }
    for (const err of errors) process.stderr.write(`tern data pull: ${explain(err, api.url)}\n`);
    failed += errors.length;
    say(opts, `${name}: ${p.dataset}@${p.version}, ${expected.length} file(s); ${todo.length - errors.length} downloaded, ${expected.length - todo.length} already up to date${errors.length ? `, ${errors.length} failed` : ""}`);
  }
  if (failed) throw new Error(`${failed} file(s) could not be pulled`);
}

// --- status -------------------------------------------------------------------------------------------

export async function statusCommand(args, opts) {
  const api = new TernApi(serverFor(opts));
  const report = [];
  for (const item of await pointerList(args)) {
    const { pointer: p, target } = item;
    const expected = await expectedFiles(api, item);
    const cache = await HashCache.open(cacheDir(), target);
    let local = null;
    let st = null;
    try {
      st = await stat(target);
    } catch {
      st = null;
    }
    if (st && p.kind === "file" && st.isFile()) {
      local = [{ ...(await localDigest(target, cache)), path: basename(target) }];
    } else if (st && p.kind === "directory" && st.isDirectory()) {
      const listed = await walk(target);
      const sizes = await pool(listed, 32, async (f) => Number((await stat(f.abs)).size));
      const bar = byteBar(showProgress(opts.quiet || opts.json), "hashing", sizes.reduce((a, b) => a + b, 0), listed.length);
      const { files } = await hashAll(listed, cache, { onBytes: (n) => bar.add(n), onFile: () => bar.file() });
      bar.stop();
      local = files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }));
    } else if (st) {
      local = [{ path: basename(target), sha256: "", size: -1 }];
    }
    await cache.save();
    const cmp = compareWithPointer(
      expected.map((e) => ({ path: e.path, sha256: e.sha256, size: e.size })),
      local,
    );
    report.push({ pointer: relative(process.cwd(), item.path), path: relative(process.cwd(), target) || ".", dataset: p.dataset, version: p.version, ...cmp });
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const LIST = 20;
  for (const r of report) {
    const counts = [r.modified.length && `${r.modified.length} modified`, r.missing.length && `${r.missing.length} missing`, r.added.length && `${r.added.length} new`].filter(Boolean).join(", ");
    process.stdout.write(`${r.path} (${r.dataset}@${r.version}): ${r.state}${r.state === "changed" ? `: ${counts}` : ""}\n`);
    if (r.state !== "changed") continue;
    for (const [label, list] of [["modified", r.modified], ["missing", r.missing], ["new", r.added]]) {
      for (const path of list.slice(0, LIST)) process.stdout.write(`  ${label}: ${path}\n`);
      if (list.length > LIST) process.stdout.write(`  ... and ${list.length - LIST} more ${label}\n`);
    }
  }
  if (report.some((r) => r.state !== "up to date")) {
    process.stdout.write("`tern data add PATH` records local changes as a new version; `tern data pull` restores the pointed-to content.\n");
  }
}

// --- ls and diff --------------------------------------------------------------------------------------

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

const when = (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 16);
const oneLine = (s, n) => {
  const t = String(s ?? "").replace(/\s+/g, " ");
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
};

async function allPages(api, path, key) {
  const out = [];
  let token;
  do {
    const page = await api.get(path, { max_results: 1000, page_token: token });
    out.push(...page[key]);
    token = page.next_page_token;
  } while (token);
  return out;
}

export async function lsCommand(name, opts) {
  const api = new TernApi(serverFor(opts));
  if (!name) {
    const datasets = await allPages(api, "/datasets", "datasets");
    if (opts.json) return void process.stdout.write(`${JSON.stringify(datasets, null, 2)}\n`);
    if (!datasets.length) return void process.stdout.write("no datasets yet: `tern data add PATH --dataset NAME` makes one\n");
    process.stdout.write(`${table([["DATASET", "LATEST", "UPDATED", "DESCRIPTION"], ...datasets.map((d) => [d.name, d.latest_version, when(d.updated_at), oneLine(d.description, 60)])])}\n`);
    return;
  }
  const versions = await allPages(api, `/datasets/${encodeURIComponent(name)}/versions`, "versions");
  if (opts.json) return void process.stdout.write(`${JSON.stringify(versions, null, 2)}\n`);
  if (!versions.length) return void process.stdout.write(`${name} has no versions yet\n`);
  const rows = versions.map((v) => [v.version, when(v.created_at), formatBytes(v.size), v.file_count, v.row_count ?? "", oneLine(v.message, 40), v.created_by.name, v.git_commit ? v.git_commit.slice(0, 10) : ""]);
  process.stdout.write(`${table([["VERSION", "CREATED", "SIZE", "FILES", "ROWS", "MESSAGE", "AUTHOR", "COMMIT"], ...rows])}\n`);
}

const signed = (n) => (n > 0 ? `+${n}` : String(n));
const num = (x) => (x === null || x === undefined ? "null" : typeof x === "number" && !Number.isInteger(x) ? String(Math.round(x * 1e4) / 1e4) : String(x));

/** The diff for people: counts, schema changes, moved statistics, files. */
export function formatDiff(d) {
  const lines = [`${d.from.dataset}@${d.from.version} -> ${d.to.dataset}@${d.to.version}`];
  if (d.row_count.before !== null || d.row_count.after !== null) {
    lines.push(`rows:  ${num(d.row_count.before)} -> ${num(d.row_count.after)}${d.row_count.delta !== null ? ` (${signed(d.row_count.delta)})` : ""}`);
  }
  lines.push(`size:  ${formatBytes(d.size.before)} -> ${formatBytes(d.size.after)} (${d.size.delta < 0 ? "-" : "+"}${formatBytes(Math.abs(d.size.delta))})`);
  lines.push(`file count: ${d.file_count.before} -> ${d.file_count.after} (${signed(d.file_count.delta)})`);
  const schema = d.columns.filter((c) => c.change === "added" || c.change === "removed" || c.change === "type_changed");
  if (schema.length) {
    lines.push("schema:");
    for (const c of schema) {
      if (c.change === "added") lines.push(`  + ${c.name} (${c.type_after})`);
      else if (c.change === "removed") lines.push(`  - ${c.name} (${c.type_before})`);
      else lines.push(`  ~ ${c.name}: ${c.type_before} -> ${c.type_after}`);
    }
  } else if (d.columns.length) {
    lines.push("schema: unchanged");
  }
  const moved = d.columns.filter((c) => Object.keys(c.stats).length > 0);
  if (moved.length) {
    lines.push("column statistics:");
    for (const c of moved) lines.push(`  ${c.name}: ${Object.entries(c.stats).map(([k, [a, b]]) => `${k} ${num(a)} -> ${num(b)}`).join(", ")}`);
  }
  const f = d.files;
  lines.push(`files: ${f.counts.added} added, ${f.counts.removed} removed, ${f.counts.changed} changed, ${f.counts.unchanged} unchanged`);
  for (const e of f.added) lines.push(`  + ${e.path} (${formatBytes(e.size)})`);
  for (const e of f.removed) lines.push(`  - ${e.path} (${formatBytes(e.size)})`);
  for (const e of f.changed) lines.push(`  ~ ${e.path} (${formatBytes(e.before.size)} -> ${formatBytes(e.after.size)})`);
  if (f.truncated) lines.push("  (lists cut at 1000 entries each; --json for the counts)");
  return lines.join("\n");
}

export async function diffCommand(a, b, opts) {
  const api = new TernApi(serverFor(opts));
  let from;
  let to;
  try {
    from = parseRef(a);
    to = parseRef(b, from.dataset);
  } catch (err) {
    throw new UsageError(err.message);
  }
  const query = { from: from.version, to: to.version, ...(to.dataset !== from.dataset ? { to_dataset: to.dataset } : {}) };
  const { diff } = await api.get(`/datasets/${encodeURIComponent(from.dataset)}/diff`, query);
  process.stdout.write(opts.json ? `${JSON.stringify(diff, null, 2)}\n` : `${formatDiff(diff)}\n`);
}

// --- registration -------------------------------------------------------------------------------------

/** Runs a command body, turning failures into a message on stderr and an exit code. */
function run(fn) {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      const opts = args.find((x) => x && typeof x === "object" && !Array.isArray(x)) ?? {};
      if (err instanceof Interrupted) {
        process.stderr.write(`tern data: ${err.message}\n`);
        process.exitCode = EXIT_INTERRUPTED;
        return;
      }
      const usage = err instanceof UsageError || err instanceof PointerError;
      process.stderr.write(`tern data: ${explain(err, serverFor(opts).url)}\n`);
      if (process.env.TERN_DEBUG && !usage && !(err instanceof TernApiError)) process.stderr.write(`${err.stack}\n`);
      process.exitCode = usage ? EXIT_USAGE : EXIT_FAILED;
    }
  };
}

export function registerData(program) {
  const data = program.command("data").description("Version data files and directories: add, pull, status, ls, diff");
  const common = (cmd) => serverOptions(cmd).option("-q, --quiet", "no progress bars or summary lines");
  common(data.command("add").argument("<path>", "a file or a directory").description("Upload what changed, commit a version and write PATH.tern (a pointer to commit to git)"))
    .option("-d, --dataset <name>", "the dataset (created if new; defaults to the one in PATH.tern)")
    .option("-m, --message <text>", "what this version is")
    .action(run((path, opts) => addCommand(path, opts)));
  common(data.command("pull").argument("[pointers...]", "pointer files (default: every *.tern under the current directory)").description("Download the content pointer files name, verified by hash"))
    .action(run((pointers, opts) => pullCommand(pointers, opts)));
  common(data.command("status").argument("[pointers...]", "pointer files (default: every *.tern under the current directory)").description("What differs locally from the pointers: modified, missing, not pulled, new files"))
    .option("--json", "print the comparison as JSON")
    .action(run((pointers, opts) => statusCommand(pointers, opts)));
  common(data.command("ls").argument("[dataset]", "list this dataset's versions").description("Datasets, or the versions of one"))
    .option("--json", "print JSON")
    .action(run((name, opts) => lsCommand(name, opts)));
  common(data.command("diff").argument("<a>", "DATASET@VERSION").argument("<b>", "DATASET@VERSION, or just VERSION of the same dataset").description("What changed between two versions: rows, schema, column statistics, files"))
    .option("--json", "print the diff as JSON")
    .action(run((a, b, opts) => diffCommand(a, b, opts)));
  data.commands.forEach((c) => c.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE)));
}
