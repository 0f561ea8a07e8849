// `tern export <folder>` and `tern import <folder>`: a whole Tern to a folder and back into an empty one.
//
// The folder holds
//   manifest.json                      written last: format, versions, row counts and sha256 of every file
//   tables/<table>.jsonl               one JSON object per row, in the order the table stores them
//   durable-objects/studies/<id>.json  each study's Durable Object storage (trials, sampler state)
//   durable-objects/pipeline-runs/<id>.json   each pipeline run's (run state, attempts, logs)
//   objects.jsonl                      every R2 object: key, sha256, size, metadata
//   blobs/sha256/<xx>/<rest>           the objects' bytes, stored once per content
//
// An export holds the instance read-only while it runs (see worker/admin/service.ts). An import checks
// every file against the manifest before it writes anything, refuses a Tern that holds data, and can be
// run again after an interruption: tables continue at the first row not yet written, Durable Objects
// already restored are skipped, and objects are sent again (a verified, idempotent write). Bytes are
// streamed both ways; no object is held in memory whole, and a large one goes back in R2 multipart parts.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TernApi, explain } from "./api.mjs";
import { serverFor, serverOptions } from "./config.mjs";
import { formatBytes } from "./data-files.mjs";
import { pool } from "./data-local.mjs";

export const FORMAT = "tern-export";
export const FORMAT_VERSION = 1;
const PAGE = 500;
const OBJECTS_AT_ONCE = 4;
/** A chunk of rows posted at once: one D1 transaction on the server. */
const CHUNK_BYTES = 900_000;
const CHUNK_ROWS = 1000;
/**
 * Objects up to this size go in one request; larger ones in parts of this size (Cloudflare's Free and
 * Pro plans take request bodies up to 100 MB). TERN_BACKUP_PART_SIZE (bytes, at least R2's 5 MiB) lets
 * tests send small objects in parts.
 */
const DEFAULT_PART_SIZE = 64 * 1024 * 1024;
const MIN_PART_SIZE = 5 * 1024 * 1024;

function partSize(env = process.env) {
  if (!env.TERN_BACKUP_PART_SIZE) return DEFAULT_PART_SIZE;
  const n = Number(env.TERN_BACKUP_PART_SIZE);
  if (!Number.isSafeInteger(n) || n < MIN_PART_SIZE) throw new UsageError(`TERN_BACKUP_PART_SIZE must be a whole number of bytes, at least ${MIN_PART_SIZE}`);
  return n;
}

class UsageError extends Error {}
class IntegrityError extends Error {}

const blobPath = (folder, sha256) => join(folder, "blobs", "sha256", sha256.slice(0, 2), sha256.slice(2));
const tableFile = (name) => `tables/${name}.jsonl`;
const dumpFile = (kind, id) => `durable-objects/${kind}/${id}.json`;
/** Names from the server become file names: only plain ones. */
const SAFE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

const sha256Of = (text) => createHash("sha256").update(text).digest("hex");

async function sha256File(path) {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}

/** Lines of a JSON-lines file, streamed. */
async function* lines(path) {
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of rl) if (line !== "") yield line;
}

/** A file written line by line while its sha256 is computed. */
function lineWriter(path) {
  const out = createWriteStream(path);
  const hash = createHash("sha256");
  let count = 0;
  return {
    async write(line) {
      const text = `${line}\n`;
      hash.update(text);
      count++;
      if (!out.write(text)) await new Promise((r) => out.once("drain", r));
    },
    async close() {
      await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
      return { rows: count, sha256: hash.digest("hex") };
    },
  };
}

async function writeJson(path, value) {
  const text = JSON.stringify(value);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return sha256Of(text);
}

// --- export ---------------------------------------------------------------------------------------

/** Streams one object into the content store of the folder, hashing it on the way. */
async function downloadObject(api, folder, info) {
  const res = await api.stream("/admin/export/object", { query: { key: info.key } });
  const tmp = join(folder, "blobs", `.${randomUUID()}.part`);
  const hash = createHash("sha256");
  let size = 0;
  const hashing = new Transform({
    transform(chunk, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body), hashing, createWriteStream(tmp));
  if (size !== info.size) {
    await rm(tmp, { force: true });
    throw new IntegrityError(`object ${info.key}: received ${size} bytes, the store lists ${info.size}`);
  }
  const sha256 = hash.digest("hex");
  const target = blobPath(folder, sha256);
  await mkdir(dirname(target), { recursive: true });
  await rename(tmp, target);
  return sha256;
}

export async function exportTern(api, folder, say = () => {}) {
  folder = resolve(folder);
  await mkdir(folder, { recursive: true });
  if ((await readdir(folder)).length) throw new UsageError(`${folder} is not empty; export into a new or empty folder`);
  await mkdir(join(folder, "tables"));
  await mkdir(join(folder, "blobs"));
  const begin = (await api.call("POST", "/admin/export/begin")).json;
  say(`Export ${begin.export_id}: ${api.url} is read-only until it ends`);
  const manifest = {
    format: FORMAT,
    format_version: FORMAT_VERSION,
    tern_version: begin.tern_version,
    export_id: begin.export_id,
    source: api.url,
    started_at: new Date(begin.started_at).toISOString(),
    finished_at: null,
    tables: {},
    excluded_tables: begin.excluded_tables,
    durable_objects: { studies: {}, pipeline_runs: {} },
    objects: { count: 0, bytes: 0, index: "objects.jsonl", sha256: null },
    blobs: {},
  };
  try {
    const ids = { studies: [], pipeline_runs: [] };
    for (const t of begin.tables) {
      if (!SAFE_NAME.test(t.name)) throw new IntegrityError(`the server names a table '${t.name}'`);
      const w = lineWriter(join(folder, tableFile(t.name)));
      let after = 0;
      for (;;) {
        const page = await api.get(`/admin/export/tables/${t.name}`, { after, limit: PAGE });
        for (const row of page.rows) {
          await w.write(JSON.stringify(row));
          if (t.name === "studies") ids.studies.push(row.study_id);
          if (t.name === "pipeline_runs") ids.pipeline_runs.push(row.run_id);
        }
        if (page.next_after === null) break;
        after = page.next_after;
      }
      const done = await w.close();
      manifest.tables[t.name] = { file: tableFile(t.name), columns: t.columns, ...done };
    }
    const totalRows = Object.values(manifest.tables).reduce((n, t) => n + t.rows, 0);
    say(`tables: ${begin.tables.length} tables, ${totalRows} rows`);
    for (const [kind, path] of [["studies", "studies"], ["pipeline_runs", "pipeline-runs"]]) {
      for (const id of ids[kind]) {
        if (!SAFE_NAME.test(id)) throw new IntegrityError(`the server names a ${kind} object '${id}'`);
        const dump = await api.get(`/admin/export/${path}/${id}`);
        const file = dumpFile(path, id);
        manifest.durable_objects[kind][id] = { file, sha256: await writeJson(join(folder, file), dump) };
      }
    }
    say(`durable objects: ${ids.studies.length} studies, ${ids.pipeline_runs.length} pipeline runs`);
    const index = lineWriter(join(folder, "objects.jsonl"));
    let cursor;
    do {
      const page = await api.get("/admin/export/objects", { cursor, limit: PAGE });
      const shas = await pool(page.objects, OBJECTS_AT_ONCE, (info) => downloadObject(api, folder, info));
      for (const [i, info] of page.objects.entries()) {
        const entry = { key: info.key, sha256: shas[i], size: info.size, http_metadata: info.http_metadata, custom_metadata: info.custom_metadata };
        await index.write(JSON.stringify(entry));
        manifest.blobs[shas[i]] = info.size;
        manifest.objects.count++;
        manifest.objects.bytes += info.size;
      }
      cursor = page.cursor ?? undefined;
    } while (cursor);
    manifest.objects.sha256 = (await index.close()).sha256;
    say(`objects: ${manifest.objects.count} (${formatBytes(manifest.objects.bytes)}), ${Object.keys(manifest.blobs).length} distinct blobs`);
  } finally {
    await api.call("POST", "/admin/export/end", { json: { export_id: begin.export_id } }).catch((err) => say(`could not end the read-only mode: ${explain(err, api.url)}; run \`tern export --unlock\``));
  }
  manifest.finished_at = new Date().toISOString();
  // The manifest goes last: a folder without one is an export that did not finish.
  await writeFile(join(folder, "manifest.json.tmp"), `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(join(folder, "manifest.json.tmp"), join(folder, "manifest.json"));
  return manifest;
}

// --- import ---------------------------------------------------------------------------------------

async function readManifest(folder) {
  let manifest;
  try {
    manifest = JSON.parse(await readFile(join(folder, "manifest.json"), "utf8"));
  } catch (err) {
    throw new UsageError(err.code === "ENOENT" ? `${folder} has no manifest.json: not a finished \`tern export\`` : `${folder}/manifest.json is not valid JSON`);
  }
  if (manifest?.format !== FORMAT) throw new UsageError(`${folder}/manifest.json is not a Tern export`);
  if (manifest.format_version !== FORMAT_VERSION) throw new UsageError(`the export has format ${manifest.format_version}; this tern reads ${FORMAT_VERSION}`);
  return manifest;
}

/** Every file against the manifest, before anything is written. */
async function verify(folder, manifest, say) {
  const check = async (file, expected, what) => {
    const got = await sha256File(join(folder, file)).catch(() => null);
    if (!got) throw new IntegrityError(`${what}: ${file} is missing`);
    if (got.sha256 !== expected) throw new IntegrityError(`${what}: ${file} does not match its sha256 in the manifest`);
    return got;
  };
  for (const [name, t] of Object.entries(manifest.tables)) {
    if (!SAFE_NAME.test(name)) throw new IntegrityError(`the manifest names a table '${name}'`);
    await check(t.file, t.sha256, `table ${name}`);
  }
  for (const kind of ["studies", "pipeline_runs"]) {
    for (const [id, d] of Object.entries(manifest.durable_objects[kind])) {
      if (!SAFE_NAME.test(id)) throw new IntegrityError(`the manifest names a ${kind} object '${id}'`);
      await check(d.file, d.sha256, `${kind} ${id}`);
    }
  }
  await check(manifest.objects.index, manifest.objects.sha256, "the object index");
  let n = 0;
  for (const [sha256, size] of Object.entries(manifest.blobs)) {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new IntegrityError(`the manifest names a blob '${sha256}'`);
    const got = await sha256File(blobPath(folder, sha256)).catch(() => null);
    if (!got) throw new IntegrityError(`blob ${sha256} is missing`);
    if (got.sha256 !== sha256 || got.size !== size) throw new IntegrityError(`blob ${sha256} is damaged: its bytes hash to ${got.sha256} (${got.size} bytes)`);
    n++;
  }
  say(`verified: ${Object.keys(manifest.tables).length} tables, ${n} blobs`);
}

async function importTable(api, folder, manifest, name, done) {
  const t = manifest.tables[name];
  let offset = 0;
  let chunk = [];
  let bytes = 0;
  const send = async () => {
    if (!chunk.length) return;
    const body = `{"export_id":${JSON.stringify(manifest.export_id)},"offset":${offset - chunk.length},"rows":[${chunk.join(",")}]}`;
    const res = await api.send("POST", `/admin/import/tables/${name}`, { body, headers: { "Content-Type": "application/json" } });
    if (!res.ok) throw await TernApi.failure("POST", `/admin/import/tables/${name}`, res);
    await res.arrayBuffer();
    chunk = [];
    bytes = 0;
  };
  for await (const line of lines(join(folder, t.file))) {
    offset++;
    if (offset <= done) continue;
    if (chunk.length && (bytes + line.length > CHUNK_BYTES || chunk.length >= CHUNK_ROWS)) await send();
    chunk.push(line);
    bytes += line.length + 1;
  }
  await send();
  if (offset !== t.rows) throw new IntegrityError(`table ${name}: the file holds ${offset} rows, the manifest says ${t.rows}`);
}

/** Sends one request with a byte range of a file as its body, streamed. */
async function putRange(api, path, query, file, start, length, headers) {
  const body = length ? Readable.toWeb(createReadStream(file, { start, end: start + length - 1 })) : undefined;
  const res = await api.send("PUT", path, { query, body, headers: { "Content-Type": "application/octet-stream", "Content-Length": String(length), ...headers } });
  if (!res.ok) throw await TernApi.failure("PUT", `${path} (${query.key})`, res);
  return res.json();
}

async function uploadInParts(api, exportId, entry, file, size, part) {
  const { upload_id } = (await api.call("POST", "/admin/import/uploads", { json: { export_id: exportId, key: entry.key, http_metadata: entry.http_metadata ?? {}, custom_metadata: entry.custom_metadata ?? {} } })).json;
  const parts = [];
  for (let n = 1, start = 0; start < size; n++, start += part) {
    const length = Math.min(part, size - start);
    parts.push(await putRange(api, "/admin/import/uploads/part", { key: entry.key, export_id: exportId, upload_id, part_number: n }, file, start, length, {}));
  }
  await api.call("POST", "/admin/import/uploads/complete", { json: { export_id: exportId, key: entry.key, upload_id, sha256: entry.sha256, size, parts } });
}

async function uploadObject(api, folder, exportId, entry) {
  const path = blobPath(folder, entry.sha256);
  const { size } = await stat(path);
  const part = partSize();
  if (size > part) return uploadInParts(api, exportId, entry, path, size, part);
  await putRange(api, "/admin/import/object", { key: entry.key, export_id: exportId }, path, 0, size, {
    "X-Tern-Sha256": entry.sha256,
    "X-Tern-Http-Metadata": JSON.stringify(entry.http_metadata ?? {}),
    "X-Tern-Custom-Metadata": JSON.stringify(entry.custom_metadata ?? {}),
  });
}

export async function importTern(api, folder, say = () => {}) {
  folder = resolve(folder);
  const manifest = await readManifest(folder);
  await verify(folder, manifest, say);
  const order = Object.keys(manifest.tables);
  const begin = (
    await api.call("POST", "/admin/import/begin", {
      json: { export_id: manifest.export_id, format_version: manifest.format_version, tables: order.map((name) => ({ name, columns: manifest.tables[name].columns })) },
    })
  ).json;
  say(begin.resumed ? `Resuming the import of ${manifest.export_id} into ${api.url}` : `Importing ${manifest.export_id} into ${api.url} (read-only to everything else until it ends)`);
  for (const name of order) await importTable(api, folder, manifest, name, begin.progress[name] ?? 0);
  say(`tables: ${order.length} tables, ${order.reduce((n, name) => n + manifest.tables[name].rows, 0)} rows`);
  let present = 0;
  for (const [kind, path] of [["studies", "studies"], ["pipeline_runs", "pipeline-runs"]]) {
    for (const [id, d] of Object.entries(manifest.durable_objects[kind])) {
      const dump = JSON.parse(await readFile(join(folder, d.file), "utf8"));
      const r = (await api.call("POST", `/admin/import/${path}/${id}`, { json: { export_id: manifest.export_id, dump } })).json;
      if (r.status === "present") present++;
    }
  }
  say(`durable objects: ${Object.keys(manifest.durable_objects.studies).length} studies, ${Object.keys(manifest.durable_objects.pipeline_runs).length} pipeline runs${present ? ` (${present} restored before)` : ""}`);
  let batch = [];
  const flush = async () => {
    await pool(batch, OBJECTS_AT_ONCE, (entry) => uploadObject(api, folder, manifest.export_id, entry));
    batch = [];
  };
  for await (const line of lines(join(folder, manifest.objects.index))) {
    const entry = JSON.parse(line);
    if (manifest.blobs[entry.sha256] === undefined) throw new IntegrityError(`object ${entry.key} names a blob the manifest does not list`);
    batch.push(entry);
    if (batch.length >= PAGE) await flush();
  }
  await flush();
  say(`objects: ${manifest.objects.count} (${formatBytes(manifest.objects.bytes)})`);
  const counts = Object.fromEntries(order.map((name) => [name, manifest.tables[name].rows]));
  await api.call("POST", "/admin/import/finish", { json: { export_id: manifest.export_id, tables: counts } });
  return manifest;
}

// --- commands ---------------------------------------------------------------------------------------

async function runCommand(name, opts, work) {
  const server = serverFor(opts);
  const api = new TernApi(server);
  const say = (line) => {
    if (!opts.quiet) process.stdout.write(`${line}\n`);
  };
  try {
    await work(api, say);
  } catch (err) {
    console.error(`tern ${name}: ${err instanceof UsageError || err instanceof IntegrityError ? err.message : explain(err, server.url)}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}

export function registerBackup(program) {
  serverOptions(
    program
      .command("export")
      .description("Export everything in a Tern (tables, studies, pipeline runs, artifacts and data) to a new folder; the server is read-only meanwhile")
      .argument("[folder]", "where to write the export (new or empty)")
      .option("--unlock", "only end the read-only mode an interrupted export left behind")
      .option("-q, --quiet", "print nothing but errors"),
  ).action(async (folder, opts) =>
    runCommand("export", opts, async (api, say) => {
      if (opts.unlock) {
        const ended = (await api.call("POST", "/admin/maintenance/end")).json.ended;
        say(ended ? `Ended the ${ended.kind} ${ended.id}: ${api.url} takes writes again` : `${api.url} was not read-only`);
        return;
      }
      if (!folder) throw new UsageError("name the folder to export into");
      const m = await exportTern(api, folder, say);
      say(`Exported ${api.url} to ${resolve(folder)} (${m.export_id})`);
    }),
  );
  serverOptions(
    program
      .command("import")
      .description("Import a `tern export` folder into an empty Tern (run it again to resume an interrupted import)")
      .argument("<folder>", "the export's folder")
      .option("-q, --quiet", "print nothing but errors"),
  ).action(async (folder, opts) =>
    runCommand("import", opts, async (api, say) => {
      const m = await importTern(api, folder, say);
      say(`Imported ${m.export_id} into ${api.url}`);
    }),
  );
}
