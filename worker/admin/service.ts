/**
 * Backups: exporting a whole Tern (every catalog table, every study's and pipeline run's Durable Object,
 * every R2 object) and importing it into an empty one.
 *
 * Consistency. D1 has no snapshot that spans requests, so an export puts the instance into a read-only
 * maintenance mode for its duration: every write request outside /api/v1/admin answers 503, and the
 * scheduled jobs do not run. Workers cache the mode for MODE_CACHE_MS, so beginning an export waits
 * GRACE_MS before it answers; from then on D1 and R2 change only through work already inside a Durable
 * Object (a pipeline run's alarm, a study's stale-trial alarm). Each object's dump is one consistent read
 * of its own storage, taken after the tables; a restored run that is still unfinished re-mirrors itself
 * to D1, so the object, which is authoritative, wins.
 *
 * Imports run in the same mode (kind "import"), so nothing else writes while rows arrive. Rows go in
 * chunks, each one D1 transaction together with the table's new row count, so an interrupted import
 * resumes at the first row not yet written; a chunk is all or nothing.
 */
import { ApiError, invalid } from "../http/errors";
import { hashing } from "../datasets/store";
import type { DurableObjectDump } from "../system/do-dump";
import { VERSION } from "../system/service";
import type { PipelineRunApi, PipelineRunObject } from "../pipelines/pipeline-run-object";
import type { StudyObject } from "../tuning/study-object";
import { type Cell, type ObjectInfo, type PageStart, type Row, AdminStore, MAINTENANCE_KEY } from "./store";
import { type CatalogTable, EXCLUDED_TABLES, SEEDED_ROWS, TARGET_MAY_HOLD, exportedTables } from "./tables";

export const FORMAT_VERSION = 1;
/** How long a Worker trusts the maintenance mode it read. */
export const MODE_CACHE_MS = 1000;
/** How long beginning an export or import waits by default, so every Worker has seen the mode. */
export const GRACE_MS = 1500;

export interface Maintenance {
  kind: "export" | "import";
  id: string;
  since: number;
}

type StudyDumps = Pick<StudyObject, "exportDump" | "importDump">;
type RunDumps = Pick<PipelineRunApi, "exportDump" | "importDump">;

let cachedMode: { at: number; value: Maintenance | null } | null = null;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Catalog {
  format_version: number;
  tern_version: string;
  tables: { name: string; columns: string[] }[];
  excluded_tables: { name: string; reason: string }[];
}

type RestoreResult = Awaited<ReturnType<RunDumps["importDump"]>>;

/** A restore's outcome: an object that already holds state was restored by an earlier try of this import. */
function restored(r: RestoreResult): { status: "restored" | "present" } {
  if (r.ok) return { status: "restored" };
  if (r.code === "RESOURCE_ALREADY_EXISTS") return { status: "present" };
  throw new ApiError(r.code, r.message);
}

function rowidStart(after: string): PageStart {
  if (!/^\d{1,16}$/.test(after)) throw invalid(`after: expected 0 or the next_after of the previous page, got '${after}'`);
  return { rowid: Number(after) };
}

/** The primary key a page of a WITHOUT ROWID table starts after: "0" (the start) or a JSON array of its values. */
function keyStart(t: CatalogTable, after: string): PageStart {
  if (after === "0") return { key: null };
  let key: unknown;
  try {
    key = JSON.parse(after);
  } catch {
    key = undefined;
  }
  const cell = (v: unknown) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
  if (!Array.isArray(key) || key.length !== t.primaryKey.length || !key.every(cell)) {
    throw invalid(`after: expected 0 or the next_after of the previous page (a JSON array of ${t.name}'s ${t.primaryKey.join(", ")}), got '${after}'`);
  }
  return { key: key as Cell[] };
}

export class AdminService {
  private readonly tables = exportedTables();

  constructor(
    private readonly store: AdminStore,
    private readonly studies: DurableObjectNamespace<StudyObject>,
    private readonly runs: DurableObjectNamespace<PipelineRunObject>,
    private readonly graceMs: number = GRACE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  catalog(): Catalog {
    return {
      format_version: FORMAT_VERSION,
      tern_version: VERSION,
      tables: this.tables.map((t) => ({ name: t.name, columns: t.columns })),
      excluded_tables: Object.entries(EXCLUDED_TABLES).map(([name, reason]) => ({ name, reason })),
    };
  }

  private table(name: string): CatalogTable {
    const t = this.tables.find((x) => x.name === name);
    if (!t) {
      const why = EXCLUDED_TABLES[name];
      throw new ApiError("RESOURCE_DOES_NOT_EXIST", why ? `Table '${name}' is not exported: ${why}` : `No exported table '${name}'`);
    }
    return t;
  }

  // ---- maintenance mode ----------------------------------------------------------------------

  /** The current mode, as cached by this Worker for up to MODE_CACHE_MS. */
  async maintenance(): Promise<Maintenance | null> {
    const now = this.now();
    if (cachedMode && now - cachedMode.at < MODE_CACHE_MS) return cachedMode.value;
    const raw = await this.store.getState(MAINTENANCE_KEY);
    const value = raw ? (JSON.parse(raw) as Maintenance) : null;
    cachedMode = { at: now, value };
    return value;
  }

  private async enter(kind: Maintenance["kind"], id: string): Promise<Maintenance> {
    const mode: Maintenance = { kind, id, since: this.now() };
    if (!(await this.store.claimState(MAINTENANCE_KEY, JSON.stringify(mode), mode.since))) {
      const current = await this.currentMode();
      throw new ApiError("INVALID_STATE", `An ${current?.kind ?? "export or import"} (${current?.id ?? "?"}) is in progress since ${current ? new Date(current.since).toISOString() : "?"}; wait for it, or end it with POST /api/v1/admin/maintenance/end`);
    }
    cachedMode = { at: this.now(), value: mode };
    if (this.graceMs > 0) await sleep(this.graceMs);
    return mode;
  }

  private async currentMode(): Promise<Maintenance | null> {
    const raw = await this.store.getState(MAINTENANCE_KEY);
    return raw ? (JSON.parse(raw) as Maintenance) : null;
  }

  /** Leaves maintenance mode; with `id`, only when that export or import holds it. */
  async endMaintenance(id?: string): Promise<Maintenance | null> {
    const current = await this.currentMode();
    if (current && id !== undefined && current.id !== id) throw new ApiError("INVALID_STATE", `The maintenance mode belongs to ${current.kind} ${current.id}, not ${id}`);
    await this.store.deleteState(MAINTENANCE_KEY);
    if (current?.kind === "import") await this.store.clearProgress();
    cachedMode = { at: this.now(), value: null };
    return current;
  }

  // ---- export ------------------------------------------------------------------------------

  async beginExport(): Promise<{ export_id: string; started_at: number } & Catalog> {
    const mode = await this.enter("export", crypto.randomUUID());
    return { export_id: mode.id, started_at: mode.since, ...this.catalog() };
  }

  /**
   * One page of a table. `after` is "0" for the first page, then the previous page's next_after: a
   * rowid, or for a WITHOUT ROWID table the JSON array of the last row's primary key.
   */
  async tablePage(name: string, after: string, limit: number): Promise<{ table: string; columns: string[]; rows: Row[]; next_after: number | string | null }> {
    const t = this.table(name);
    const start = (await this.store.withoutRowid(t.name)) ? keyStart(t, after) : rowidStart(after);
    const { rows, last } = await this.store.page(t, start, limit);
    const next = rows.length === limit ? last : null;
    return { table: t.name, columns: t.columns, rows, next_after: next === null ? null : "rowid" in next ? next.rowid : JSON.stringify(next.key) };
  }

  private study(studyId: string): StudyDumps {
    return this.studies.get(this.studies.idFromName(studyId)) as unknown as StudyDumps;
  }

  private run(runId: string): RunDumps {
    return this.runs.get(this.runs.idFromName(runId)) as unknown as RunDumps;
  }

  async dumpStudy(studyId: string): Promise<DurableObjectDump> {
    const dump = await this.study(studyId).exportDump();
    if (!dump) throw new ApiError("RESOURCE_DOES_NOT_EXIST", `No study '${studyId}'`);
    return dump;
  }

  async dumpPipelineRun(runId: string): Promise<DurableObjectDump> {
    const dump = await this.run(runId).exportDump();
    if (!dump) throw new ApiError("RESOURCE_DOES_NOT_EXIST", `No pipeline run '${runId}'`);
    return dump;
  }

  listObjects(cursor: string | undefined, limit: number): Promise<{ objects: ObjectInfo[]; cursor: string | null }> {
    return this.store.listObjects(cursor, limit);
  }

  async object(key: string): Promise<R2ObjectBody> {
    const o = await this.store.getObject(key);
    if (!o) throw new ApiError("RESOURCE_DOES_NOT_EXIST", `No object '${key}'`);
    return o;
  }

  // ---- import ------------------------------------------------------------------------------

  /** The import of `exportId` must be the one in progress. */
  private async importing(exportId: string): Promise<void> {
    const mode = await this.currentMode();
    if (mode?.kind !== "import" || mode.id !== exportId) {
      throw new ApiError("INVALID_STATE", `No import of export ${exportId} is in progress: call POST /api/v1/admin/import/begin first`);
    }
  }

  /** What keeps this instance from being an import target, or [] when it holds no data. */
  private async contents(): Promise<string[]> {
    const counts = await this.store.counts(this.tables);
    const found: string[] = [];
    for (const t of this.tables) {
      if (TARGET_MAY_HOLD.has(t.name)) continue;
      const seed = SEEDED_ROWS[t.name];
      const n = seed ? await this.store.countExcept(t.name, seed.column, seed.value) : counts[t.name];
      if (n > 0) found.push(`${t.name}: ${n} row${n === 1 ? "" : "s"}`);
    }
    if (await this.store.anyObject()) found.push("R2 holds objects");
    return found;
  }

  /**
   * Starts (or resumes) importing an export. A fresh import needs an instance without data; the
   * seeded Default experiment is replaced by the export's. Resuming answers the rows already written.
   */
  async beginImport(input: { export_id: string; format_version: number; tables: { name: string; columns: string[] }[] }): Promise<{ resumed: boolean; progress: Record<string, number> }> {
    if (input.format_version !== FORMAT_VERSION) throw invalid(`format_version: this Tern reads exports of format ${FORMAT_VERSION}, not ${input.format_version}`);
    for (const t of input.tables) {
      const mine = this.tables.find((x) => x.name === t.name);
      if (!mine) throw invalid(`tables: this Tern has no table '${t.name}' to import into`);
      const missing = mine.columns.filter((c) => !t.columns.includes(c));
      const extra = t.columns.filter((c) => !mine.columns.includes(c));
      if (missing.length || extra.length) throw invalid(`tables: ${t.name} differs from this Tern's (missing ${missing.join(", ") || "none"}; unknown ${extra.join(", ") || "none"})`);
    }
    const current = await this.currentMode();
    if (current?.kind === "import" && current.id === input.export_id) return { resumed: true, progress: await this.store.progress() };
    if (current) throw new ApiError("INVALID_STATE", `An ${current.kind} (${current.id}) is in progress; finish it or end it with POST /api/v1/admin/maintenance/end`);
    const found = await this.contents();
    if (found.length) throw new ApiError("INVALID_STATE", `Import needs an empty Tern, and this one holds data (${found.join("; ")})`);
    await this.enter("import", input.export_id);
    await this.store.clearProgress();
    for (const [table, seed] of Object.entries(SEEDED_ROWS)) await this.store.deleteRow(table, seed.column, seed.value);
    return { resumed: false, progress: {} };
  }

  /** Appends a chunk at `offset`, which must be the table's row count so far (a replayed chunk is refused). */
  async importRows(exportId: string, name: string, offset: number, rows: Row[]): Promise<{ table: string; rows_done: number }> {
    await this.importing(exportId);
    const t = this.table(name);
    const done = (await this.store.progress())[t.name] ?? 0;
    if (offset !== done) throw new ApiError("INVALID_STATE", `${t.name}: ${done} rows are imported, so the next chunk starts at offset ${done}, not ${offset}`);
    const cells: Cell[][] = rows.map((row, i) => {
      const extra = Object.keys(row).filter((k) => !t.columns.includes(k));
      if (extra.length) throw invalid(`rows[${i}]: ${t.name} has no column ${extra.join(", ")}`);
      return t.columns.map((c) => {
        if (!(c in row)) throw invalid(`rows[${i}]: the value of ${c} is missing`);
        return row[c];
      });
    });
    try {
      await this.store.appendRows(t, cells, done + rows.length, this.now());
    } catch (err) {
      const message = String((err as Error)?.message ?? err);
      if (/constraint/i.test(message)) throw invalid(`${t.name}: the chunk at offset ${offset} breaks a constraint (${message.replace(/^.*?(constraint)/i, "$1")}); nothing of it was written`);
      throw err;
    }
    return { table: t.name, rows_done: done + rows.length };
  }

  async importStudy(exportId: string, studyId: string, dump: DurableObjectDump): Promise<{ status: "restored" | "present" }> {
    await this.importing(exportId);
    return restored(await this.study(studyId).importDump(dump));
  }

  async importPipelineRun(exportId: string, runId: string, dump: DurableObjectDump): Promise<{ status: "restored" | "present" }> {
    await this.importing(exportId);
    return restored(await this.run(runId).importDump(dump));
  }

  /** Writes one object; its bytes must hash to `sha256` and be `length` long, or nothing is stored. */
  async importObject(exportId: string, key: string, body: ReadableStream<Uint8Array> | null, length: number, sha256: string, httpMetadata: R2HTTPMetadata, customMetadata: Record<string, string>): Promise<{ key: string; size: number }> {
    await this.importing(exportId);
    const { stream, digests } = hashing(body ?? new Blob([]).stream());
    const fixed = new FixedLengthStream(length);
    const piped = stream.pipeTo(fixed.writable);
    piped.catch(() => undefined);
    try {
      await this.store.putObject(key, fixed.readable, sha256, httpMetadata, customMetadata);
      await piped;
    } catch (err) {
      if (/BadDigest|10037|checksum|digest|length/i.test(String((err as Error)?.message ?? err))) throw invalid(`The bytes of '${key}' do not hash to ${sha256} (or are not ${length} bytes); nothing was stored`);
      throw err;
    }
    const d = await digests;
    if (d.sha256 !== sha256 || d.size !== length) {
      // Only reached where R2 stored bytes without checking them: take them away again.
      await this.store.deleteObject(key);
      throw invalid(`The bytes of '${key}' hash to ${d.sha256} (${d.size} bytes), not ${sha256} (${length} bytes)`);
    }
    return { key, size: d.size };
  }

  /**
   * Objects too large for one request body go in parts (R2 multipart): start, send parts, complete.
   * Completing reads the whole object back and hashes it; bytes that do not hash to `sha256` are deleted.
   */
  async startObjectUpload(exportId: string, key: string, httpMetadata: R2HTTPMetadata, customMetadata: Record<string, string>): Promise<{ upload_id: string }> {
    await this.importing(exportId);
    return { upload_id: (await this.store.createUpload(key, httpMetadata, customMetadata)).uploadId };
  }

  async putObjectPart(exportId: string, key: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array> | null, length: number): Promise<{ part_number: number; etag: string }> {
    await this.importing(exportId);
    const fixed = new FixedLengthStream(length);
    const piped = (body ?? new Blob([]).stream()).pipeTo(fixed.writable);
    piped.catch(() => undefined);
    try {
      const part = await this.store.upload(key, uploadId).uploadPart(partNumber, fixed.readable);
      await piped;
      return { part_number: part.partNumber, etag: part.etag };
    } catch (err) {
      if (/upload|NoSuchUpload|10024|length/i.test(String((err as Error)?.message ?? err))) throw invalid(`Part ${partNumber} of '${key}' was refused: ${(err as Error).message}`);
      throw err;
    }
  }

  async completeObjectUpload(exportId: string, key: string, uploadId: string, parts: { part_number: number; etag: string }[], sha256: string, size: number): Promise<{ key: string; size: number }> {
    await this.importing(exportId);
    try {
      await this.store.upload(key, uploadId).complete(parts.map((p) => ({ partNumber: p.part_number, etag: p.etag })));
    } catch (err) {
      throw invalid(`The upload of '${key}' could not be completed: ${(err as Error)?.message ?? err}`);
    }
    const stored = await this.store.getObject(key);
    const { stream, digests } = hashing(stored?.body ?? new Blob([]).stream());
    await stream.pipeTo(new WritableStream());
    const d = await digests;
    if (d.sha256 !== sha256 || d.size !== size) {
      await this.store.deleteObject(key);
      throw invalid(`The parts of '${key}' hash to ${d.sha256} (${d.size} bytes), not ${sha256} (${size} bytes); nothing was kept`);
    }
    return { key, size };
  }

  /** Checks every table holds the export's row count, then leaves maintenance mode. */
  async finishImport(exportId: string, expected: Record<string, number>): Promise<{ tables: Record<string, number> }> {
    await this.importing(exportId);
    const counts = await this.store.counts(this.tables);
    const progress = await this.store.progress();
    const wrong = Object.entries(expected)
      .map(([name, n]) => {
        this.table(name);
        // A table the target may already hold rows in is checked by what the import wrote.
        const have = TARGET_MAY_HOLD.has(name) ? (progress[name] ?? 0) : counts[name];
        return have === n ? null : `${name}: ${have} rows, expected ${n}`;
      })
      .filter((x): x is string => x !== null);
    if (wrong.length) throw new ApiError("INVALID_STATE", `The import is incomplete (${wrong.join("; ")}); run the import again to resume it`);
    await this.endMaintenance(exportId);
    return { tables: counts };
  }
}
