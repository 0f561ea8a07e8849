/**
 * Data versioning's storage. ContentStore: the bytes in R2, one object per sha256 at
 * blobs/sha256/<xx>/<rest>, written so that a key only ever holds bytes that hash to it (R2 checks the
 * sha256 on put; bodies of unknown hash go to a staging key first and are copied once hashed).
 * DatasetStore: the catalogue in D1 (datasets, immutable versions, blobs, manifests, DVC names,
 * multipart uploads in progress, lineage inputs); every multi-statement write is one batch().
 */
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { blobUploadParts, blobUploads, blobs, datasetVersions, datasets, dvcObjects, manifestEntries } from "../db/schema";
import { ArtifactStore, StoreRejection } from "../artifacts/store";
import type { ManifestEntry } from "../lib/manifest";

export const BLOB_PREFIX = "blobs/sha256/";
export const STAGING_PREFIX = "staging/blobs/";

/** json_each over one bound JSON text stays far below D1's 2 MB value limit at this many items. */
const JSON_CHUNK = 2000;

export const blobPath = (sha256: string) => `${sha256.slice(0, 2)}/${sha256.slice(2)}`;
export const blobKey = (sha256: string) => BLOB_PREFIX + blobPath(sha256);

export interface Digests {
  sha256: string;
  md5: string;
  size: number;
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Passes a stream through unchanged while computing its sha256, md5 and length. */
export function hashing(body: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; digests: Promise<Digests> } {
  const sha = new crypto.DigestStream("SHA-256");
  const md5 = new crypto.DigestStream("MD5");
  const shaWriter = sha.getWriter();
  const md5Writer = md5.getWriter();
  let size = 0;
  let settle!: (d: Promise<Digests>) => void;
  const digests = new Promise<Digests>((resolve) => (settle = resolve));
  const tee = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      size += chunk.byteLength;
      await Promise.all([shaWriter.write(chunk), md5Writer.write(chunk)]);
      controller.enqueue(chunk);
    },
    async flush() {
      await Promise.all([shaWriter.close(), md5Writer.close()]);
      settle(Promise.all([sha.digest, md5.digest]).then(([s, m]) => ({ sha256: hex(s), md5: hex(m), size })));
    },
  });
  return { stream: body.pipeThrough(tee), digests };
}

export class ChecksumMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChecksumMismatch";
  }
}

// R2 answers a put whose bytes do not match the checksum it was given with BadDigest.
const isBadDigest = (err: unknown) => /BadDigest|10037|checksum|digest/i.test(String((err as Error)?.message ?? err));

export class ContentStore {
  private readonly staging: ArtifactStore;
  private readonly content: ArtifactStore;

  constructor(private readonly bucket: R2Bucket) {
    this.staging = new ArtifactStore(bucket, { prefix: STAGING_PREFIX });
    this.content = new ArtifactStore(bucket, { prefix: BLOB_PREFIX });
  }

  /**
   * Writes a body whose sha256 is known in advance straight to its key, R2 verifying the bytes.
   * Throws ChecksumMismatch (nothing written) when they do not hash to it.
   */
  async putVerified(sha256: string, body: ReadableStream<Uint8Array>, length: number): Promise<Digests> {
    const { stream, digests } = hashing(body);
    const fixed = new FixedLengthStream(length);
    const piped = stream.pipeTo(fixed.writable);
    piped.catch(() => undefined);
    try {
      await this.bucket.put(blobKey(sha256), fixed.readable, { sha256 });
      await piped;
    } catch (err) {
      if (isBadDigest(err)) throw new ChecksumMismatch(`The body's sha256 is not ${sha256}`);
      throw err;
    }
    const d = await digests;
    if (d.sha256 !== sha256) {
      // Only reached if R2 stored bytes without checking them: take them away again.
      await this.deleteBlob(sha256);
      throw new ChecksumMismatch(`The body's sha256 is ${d.sha256}, not ${sha256}`);
    }
    return d;
  }

  /** Writes a body of unknown hash to a fresh staging key, returning the key and its digests. */
  async stage(body: ReadableStream<Uint8Array> | null, length: number | null): Promise<{ stagingPath: string; digests: Digests }> {
    const stagingPath = crypto.randomUUID();
    if (body === null || length === 0) {
      // An empty body: nothing to stream (and a cancelled stream would never finish hashing).
      if (body) await body.cancel();
      body = new Blob([]).stream();
      length = null;
    }
    const { stream, digests } = hashing(body);
    try {
      await this.staging.put(stagingPath, stream, length);
    } catch (err) {
      await this.staging.deleteTree(stagingPath).catch(() => undefined);
      throw err;
    }
    return { stagingPath, digests: await digests };
  }

  /**
   * Moves staged bytes to the content key of `sha256` (a streamed copy, hashed on the way and verified
   * by R2), then drops the staging key. ChecksumMismatch when the bytes do not hash to `sha256`.
   */
  async promote(stagingPath: string, sha256: string): Promise<Digests> {
    try {
      const object = await this.staging.get(stagingPath);
      if (!object) throw new Error(`staged object ${stagingPath} vanished`);
      return await this.putVerified(sha256, object.body, object.size);
    } finally {
      await this.discard(stagingPath);
    }
  }

  /** Deletes staging objects older than `cutoff` (ms): leftovers of requests that died mid-upload. */
  async sweepStaging(cutoff: number, limit = 1000): Promise<number> {
    const page = await this.bucket.list({ prefix: STAGING_PREFIX, limit });
    const stale = page.objects.filter((o) => o.uploaded.getTime() < cutoff).map((o) => o.key);
    if (stale.length) await this.bucket.delete(stale);
    return stale.length;
  }

  async discard(stagingPath: string): Promise<void> {
    await this.staging.deleteTree(stagingPath).catch(() => undefined);
  }

  stagingKey(stagingPath: string): string {
    return STAGING_PREFIX + stagingPath;
  }

  get(sha256: string): Promise<R2ObjectBody | null> {
    return this.content.get(blobPath(sha256));
  }

  /** `length` bytes of a blob from `offset` (fewer at its end); null when the blob is missing. */
  async readRange(sha256: string, offset: number, length: number): Promise<Uint8Array | null> {
    const object = await this.bucket.get(blobKey(sha256), { range: { offset, length } });
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  async deleteBlob(sha256: string): Promise<void> {
    await this.bucket.delete(blobKey(sha256));
  }

  // --- multipart: parts go to a staging key, the completed object is then promoted ------------

  createMultipart(stagingPath: string): Promise<string> {
    return this.staging.createMultipartUpload(stagingPath);
  }

  /** Uploads one part while hashing it; the part's sha256 is returned with R2's etag. */
  async uploadPart(
    stagingPath: string,
    r2UploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array> | null,
    length: number,
  ): Promise<{ etag: string; sha256: string; size: number }> {
    const { stream, digests } = hashing(body ?? new Blob([]).stream());
    const part = await this.staging.uploadPart(stagingPath, r2UploadId, partNumber, stream, length);
    const d = await digests;
    return { etag: part.etag, sha256: d.sha256, size: d.size };
  }

  completeMultipart(stagingPath: string, r2UploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
    return this.staging.completeMultipartUpload(stagingPath, r2UploadId, parts);
  }

  async abortMultipart(stagingPath: string, r2UploadId: string): Promise<void> {
    try {
      await this.staging.abortMultipartUpload(stagingPath, r2UploadId);
    } catch (err) {
      if (!(err instanceof StoreRejection && err.reason === "no-such-upload")) throw err;
    }
    await this.discard(stagingPath);
  }
}

// ---------------------------------------------------------------------------------------------

export type DatasetRow = typeof datasets.$inferSelect;
export type VersionRow = typeof datasetVersions.$inferSelect;
export type BlobRow = typeof blobs.$inferSelect;
export type UploadRow = typeof blobUploads.$inferSelect;
export type UploadPartRow = typeof blobUploadParts.$inferSelect;

export interface NewVersion {
  versionId: string;
  datasetId: string;
  kind: "file" | "directory";
  rootSha256: string;
  fileName: string | null;
  size: number;
  fileCount: number;
  contentType: string | null;
  createdByTokenId: string | null;
  createdByName: string;
  message: string;
  gitCommit: string | null;
  gitBranch: string | null;
  /** An explicit parent; null means "the dataset's latest version at commit time". */
  parentVersionId: string | null;
  rowCount: number | null;
  schema: string | null;
  profile: string | null;
  profileSource: string | null;
  createdAt: number;
}

export interface LineageRunRef {
  runId: string;
  versionId: string;
  context: string | null;
  via: "native" | "mlflow";
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class DatasetStore {
  constructor(private readonly db: Db) {}

  private get d1(): D1Database {
    return this.db.$client;
  }

  // --- blobs -------------------------------------------------------------------------------

  /** Which of these hashes the store holds (any number: chunked into json_each statements in one batch). */
  async presentBlobs(hashes: readonly string[]): Promise<Map<string, number>> {
    const present = new Map<string, number>();
    if (hashes.length === 0) return present;
    const statements = chunks(hashes, JSON_CHUNK).map((c) =>
      this.d1.prepare("SELECT sha256, size FROM blobs WHERE sha256 IN (SELECT value FROM json_each(?1))").bind(JSON.stringify(c)),
    );
    const results = await this.d1.batch<{ sha256: string; size: number }>(statements);
    for (const r of results) for (const row of r.results) present.set(row.sha256, Number(row.size));
    return present;
  }

  async getBlob(sha256: string): Promise<BlobRow | null> {
    return (await this.db.select().from(blobs).where(eq(blobs.sha256, sha256)).get()) ?? null;
  }

  async insertBlob(d: Digests, now: number): Promise<void> {
    await this.db.insert(blobs).values({ sha256: d.sha256, md5: d.md5, size: d.size, createdAt: now }).onConflictDoNothing();
  }

  // --- DVC names ---------------------------------------------------------------------------

  async dvcObject(name: string): Promise<BlobRow | null> {
    const row = await this.db
      .select({ sha256: blobs.sha256, md5: blobs.md5, size: blobs.size, createdAt: blobs.createdAt })
      .from(dvcObjects)
      .innerJoin(blobs, eq(blobs.sha256, dvcObjects.sha256))
      .where(eq(dvcObjects.name, name))
      .get();
    return row ?? null;
  }

  /** Records the blob and the DVC name for it in one batch. */
  async insertDvcObject(name: string, d: Digests, now: number): Promise<void> {
    await this.db.batch([
      this.db.insert(blobs).values({ sha256: d.sha256, md5: d.md5, size: d.size, createdAt: now }).onConflictDoNothing(),
      this.db.insert(dvcObjects).values({ name, sha256: d.sha256, createdAt: now }).onConflictDoNothing(),
    ]);
  }

  // --- multipart uploads -------------------------------------------------------------------

  async insertUpload(row: UploadRow): Promise<void> {
    await this.db.insert(blobUploads).values(row);
  }

  async staleUploads(cutoff: number, limit: number): Promise<UploadRow[]> {
    return this.db.select().from(blobUploads).where(sql`${blobUploads.createdAt} < ${cutoff}`).orderBy(asc(blobUploads.createdAt)).limit(limit);
  }

  async getUpload(uploadId: string): Promise<UploadRow | null> {
    return (await this.db.select().from(blobUploads).where(eq(blobUploads.uploadId, uploadId)).get()) ?? null;
  }

  async uploadParts(uploadId: string): Promise<UploadPartRow[]> {
    return this.db.select().from(blobUploadParts).where(eq(blobUploadParts.uploadId, uploadId)).orderBy(asc(blobUploadParts.partNumber));
  }

  /** A part uploaded again (a resumed upload) replaces the record of the earlier attempt. */
  async upsertPart(row: UploadPartRow): Promise<void> {
    await this.db
      .insert(blobUploadParts)
      .values(row)
      .onConflictDoUpdate({ target: [blobUploadParts.uploadId, blobUploadParts.partNumber], set: { etag: row.etag, size: row.size, sha256: row.sha256 } });
  }

  /** Forgets the upload; with `blob`, records the blob in the same batch. */
  async finishUpload(uploadId: string, blob: Digests | null, now: number): Promise<void> {
    const del = [this.db.delete(blobUploadParts).where(eq(blobUploadParts.uploadId, uploadId)), this.db.delete(blobUploads).where(eq(blobUploads.uploadId, uploadId))] as const;
    if (blob) {
      await this.db.batch([this.db.insert(blobs).values({ sha256: blob.sha256, md5: blob.md5, size: blob.size, createdAt: now }).onConflictDoNothing(), ...del]);
    } else {
      await this.db.batch([...del]);
    }
  }

  // --- datasets ----------------------------------------------------------------------------

  /** false when the name is taken. */
  async insertDataset(row: { datasetId: string; name: string; description: string; tags: Record<string, string>; now: number }): Promise<boolean> {
    const r = await this.db
      .insert(datasets)
      .values({ datasetId: row.datasetId, name: row.name, description: row.description, tags: JSON.stringify(row.tags), createdAt: row.now, updatedAt: row.now })
      .onConflictDoNothing()
      .returning({ id: datasets.datasetId });
    return r.length === 1;
  }

  async getDataset(name: string): Promise<DatasetRow | null> {
    return (await this.db.select().from(datasets).where(eq(datasets.name, name)).get()) ?? null;
  }

  async getDatasetById(id: string): Promise<DatasetRow | null> {
    return (await this.db.select().from(datasets).where(eq(datasets.datasetId, id)).get()) ?? null;
  }

  /** Datasets whose name or description contains `q` and that carry every tag in `tags`; newest first. */
  async listDatasets(q: { query: string | null; tags: Record<string, string>; offset: number; limit: number }): Promise<DatasetRow[]> {
    const where = [];
    if (q.query) {
      const like = `%${q.query.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      where.push(sql`(${datasets.name} LIKE ${like} ESCAPE '\\' OR ${datasets.description} LIKE ${like} ESCAPE '\\')`);
    }
    for (const [k, v] of Object.entries(q.tags)) where.push(sql`json_extract(${datasets.tags}, ${"$." + JSON.stringify(k)}) = ${v}`);
    return this.db
      .select()
      .from(datasets)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(datasets.updatedAt), asc(datasets.name))
      .limit(q.limit)
      .offset(q.offset);
  }

  async updateDataset(id: string, patch: { description?: string; tags?: Record<string, string>; now: number }): Promise<void> {
    await this.db
      .update(datasets)
      .set({ ...(patch.description !== undefined ? { description: patch.description } : {}), ...(patch.tags ? { tags: JSON.stringify(patch.tags) } : {}), updatedAt: patch.now })
      .where(eq(datasets.datasetId, id));
  }

  /** Deletes the dataset, its versions and the lineage inputs that name them; blobs stay (shared). */
  async deleteDataset(id: string): Promise<void> {
    await this.d1.batch([
      this.d1.prepare("DELETE FROM dataset_version_inputs WHERE version_id IN (SELECT version_id FROM dataset_versions WHERE dataset_id = ?1)").bind(id),
      this.d1.prepare("DELETE FROM dataset_versions WHERE dataset_id = ?1").bind(id),
      this.d1.prepare("DELETE FROM datasets WHERE dataset_id = ?1").bind(id),
    ]);
  }

  // --- versions ----------------------------------------------------------------------------

  async manifestExists(sha256: string): Promise<boolean> {
    const r = await this.d1.prepare("SELECT 1 AS x FROM manifests WHERE sha256 = ?1").bind(sha256).first();
    return r != null;
  }

  /**
   * Commits a version in one batch: the manifest and its entries (when new), the version numbered
   * latest + 1 inside the transaction (so concurrent commits never share a number), and the dataset's
   * latest pointer. Returns the stored row. With skipIfUnchanged, the version is written only when the
   * latest version (read inside the same transaction) has other content or another file name; else
   * nothing is written and this answers null, so concurrent identical commits make one version.
   */
  async commitVersion(v: NewVersion, manifest: { sha256: string; entries: ManifestEntry[]; size: number } | null, skipIfUnchanged = false): Promise<VersionRow | null> {
    const statements: D1PreparedStatement[] = [];
    if (manifest) {
      statements.push(
        this.d1
          .prepare("INSERT INTO manifests (sha256, file_count, size, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING")
          .bind(manifest.sha256, manifest.entries.length, manifest.size, v.createdAt),
      );
      for (const c of chunks(manifest.entries, JSON_CHUNK)) {
        statements.push(
          this.d1
            .prepare(
              `INSERT INTO manifest_entries (manifest_sha256, path, sha256, size)
               SELECT ?1, j.value ->> '$[0]', j.value ->> '$[1]', j.value ->> '$[2]' FROM json_each(?2) j WHERE true
               ON CONFLICT DO NOTHING`,
            )
            .bind(manifest.sha256, JSON.stringify(c.map((e) => [e.path, e.sha256, e.size]))),
        );
      }
    }
    statements.push(
      this.d1
        .prepare(
          `INSERT INTO dataset_versions (version_id, dataset_id, version, kind, root_sha256, file_name, size, file_count, content_type,
             created_by_token_id, created_by_name, message, git_commit, git_branch, parent_version_id, row_count, schema, profile,
             profile_source, created_at)
           SELECT ?1, d.dataset_id, d.latest_version + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
             COALESCE(?14, (SELECT v.version_id FROM dataset_versions v WHERE v.dataset_id = d.dataset_id AND v.version = d.latest_version)),
             ?15, ?16, ?17, ?18, ?19
           FROM datasets d WHERE d.dataset_id = ?2
             AND NOT (?20 AND EXISTS (SELECT 1 FROM dataset_versions lv
               WHERE lv.dataset_id = d.dataset_id AND lv.version = d.latest_version AND lv.root_sha256 = ?4 AND lv.file_name IS ?5))`,
        )
        .bind(
          v.versionId,
          v.datasetId,
          v.kind,
          v.rootSha256,
          v.fileName,
          v.size,
          v.fileCount,
          v.contentType,
          v.createdByTokenId,
          v.createdByName,
          v.message,
          v.gitCommit,
          v.gitBranch,
          v.parentVersionId,
          v.rowCount,
          v.schema,
          v.profile,
          v.profileSource,
          v.createdAt,
          skipIfUnchanged ? 1 : 0,
        ),
      this.d1
        .prepare("UPDATE datasets SET latest_version = latest_version + 1, updated_at = ?2 WHERE dataset_id = ?1 AND EXISTS (SELECT 1 FROM dataset_versions WHERE version_id = ?3)")
        .bind(v.datasetId, v.createdAt, v.versionId),
    );
    await this.d1.batch(statements);
    const row = await this.db.select().from(datasetVersions).where(eq(datasetVersions.versionId, v.versionId)).get();
    if (!row && !skipIfUnchanged) throw new Error("the committed version is missing");
    return row ?? null;
  }

  async listVersions(datasetId: string, offset: number, limit: number): Promise<VersionRow[]> {
    return this.db.select().from(datasetVersions).where(eq(datasetVersions.datasetId, datasetId)).orderBy(desc(datasetVersions.version)).limit(limit).offset(offset);
  }

  async getVersion(datasetId: string, version: number): Promise<VersionRow | null> {
    return (await this.db.select().from(datasetVersions).where(and(eq(datasetVersions.datasetId, datasetId), eq(datasetVersions.version, version))).get()) ?? null;
  }

  async getVersionsById(ids: readonly string[]): Promise<(VersionRow & { datasetName: string })[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .select({ v: datasetVersions, datasetName: datasets.name })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.datasetId, datasetVersions.datasetId))
      .where(sql`${datasetVersions.versionId} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
    return rows.map((r) => ({ ...r.v, datasetName: r.datasetName }));
  }

  /** Versions whose root sha256 starts with these hex digits (a full hash, or a prefix as MLflow digests are). */
  async versionsByRootPrefix(prefix: string): Promise<(VersionRow & { datasetName: string })[]> {
    const rows = await this.db
      .select({ v: datasetVersions, datasetName: datasets.name })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.datasetId, datasetVersions.datasetId))
      // Hex digits all sort below 'g', so this range is exactly the prefix, and it can use the index.
      .where(and(sql`${datasetVersions.rootSha256} >= ${prefix}`, sql`${datasetVersions.rootSha256} < ${prefix + "g"}`))
      .limit(100);
    return rows.map((r) => ({ ...r.v, datasetName: r.datasetName }));
  }

  async childVersions(versionId: string): Promise<(VersionRow & { datasetName: string })[]> {
    const rows = await this.db
      .select({ v: datasetVersions, datasetName: datasets.name })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.datasetId, datasetVersions.datasetId))
      .where(eq(datasetVersions.parentVersionId, versionId));
    return rows.map((r) => ({ ...r.v, datasetName: r.datasetName }));
  }

  /** A page of a manifest's entries in path order, optionally under a directory prefix. */
  async manifestPage(manifestSha256: string, q: { prefix: string | null; after: string | null; limit: number }): Promise<ManifestEntry[]> {
    const where = [eq(manifestEntries.manifestSha256, manifestSha256)];
    if (q.prefix) where.push(sql`substr(${manifestEntries.path}, 1, ${q.prefix.length}) = ${q.prefix}`);
    if (q.after !== null) where.push(sql`${manifestEntries.path} > ${q.after}`);
    return this.db
      .select({ path: manifestEntries.path, sha256: manifestEntries.sha256, size: manifestEntries.size })
      .from(manifestEntries)
      .where(and(...where))
      .orderBy(asc(manifestEntries.path))
      .limit(q.limit);
  }

  async manifestEntry(manifestSha256: string, path: string): Promise<ManifestEntry | null> {
    const row = await this.db
      .select({ path: manifestEntries.path, sha256: manifestEntries.sha256, size: manifestEntries.size })
      .from(manifestEntries)
      .where(and(eq(manifestEntries.manifestSha256, manifestSha256), eq(manifestEntries.path, path)))
      .get();
    return row ?? null;
  }

  async manifestAll(manifestSha256: string): Promise<ManifestEntry[]> {
    return this.db
      .select({ path: manifestEntries.path, sha256: manifestEntries.sha256, size: manifestEntries.size })
      .from(manifestEntries)
      .where(eq(manifestEntries.manifestSha256, manifestSha256))
      .orderBy(asc(manifestEntries.path));
  }

  // --- lineage -----------------------------------------------------------------------------

  async runExists(runId: string): Promise<boolean> {
    return (await this.d1.prepare("SELECT 1 AS x FROM runs WHERE run_uuid = ?1").bind(runId).first()) != null;
  }

  async insertInput(i: { runId: string; versionId: string; context: string | null; now: number }): Promise<void> {
    await this.d1
      .prepare(
        `INSERT INTO dataset_version_inputs (run_uuid, version_id, context, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (run_uuid, version_id) DO UPDATE SET context = excluded.context`,
      )
      .bind(i.runId, i.versionId, i.context, i.now)
      .run();
  }

  async nativeInputsOfRun(runId: string): Promise<LineageRunRef[]> {
    const r = await this.d1.prepare("SELECT run_uuid, version_id, context FROM dataset_version_inputs WHERE run_uuid = ?1").bind(runId).all<Record<string, string | null>>();
    return r.results.map((x) => ({ runId: String(x.run_uuid), versionId: String(x.version_id), context: x.context, via: "native" as const }));
  }

  async nativeRunsOfVersion(versionId: string): Promise<LineageRunRef[]> {
    const r = await this.d1.prepare("SELECT run_uuid, version_id, context FROM dataset_version_inputs WHERE version_id = ?1").bind(versionId).all<Record<string, string | null>>();
    return r.results.map((x) => ({ runId: String(x.run_uuid), versionId: String(x.version_id), context: x.context, via: "native" as const }));
  }

  /** A run's MLflow dataset inputs (log-inputs), with the input's context tag. */
  async mlflowInputsOfRun(runId: string): Promise<{ name: string; digest: string; source: string; context: string | null }[]> {
    const r = await this.d1
      .prepare(
        `SELECT d.name, d.digest, d.source,
           (SELECT t.value ->> '$.value' FROM json_each(ri.tags) t WHERE t.value ->> '$.key' = 'mlflow.data.context') AS context
         FROM run_inputs ri JOIN mlflow_datasets d ON d.dataset_uuid = ri.dataset_uuid WHERE ri.run_uuid = ?1`,
      )
      .bind(runId)
      .all<{ name: string; digest: string; source: string; context: string | null }>();
    return r.results;
  }

  /**
   * MLflow inputs that may name a dataset version: digest equal to its id or to a prefix (at least
   * `minPrefix` long) of its sha256, or a source that mentions `datasets/<name>/versions/<n>` (the
   * caller parses the source exactly).
   */
  async mlflowInputsNaming(versionId: string, rootSha256: string, minPrefix: number, sourceNeedle: string): Promise<{ runId: string; source: string; digest: string; context: string | null }[]> {
    const like = `%${sourceNeedle.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    const r = await this.d1
      .prepare(
        `SELECT ri.run_uuid AS run_id, d.source, d.digest,
           (SELECT t.value ->> '$.value' FROM json_each(ri.tags) t WHERE t.value ->> '$.key' = 'mlflow.data.context') AS context
         FROM run_inputs ri JOIN mlflow_datasets d ON d.dataset_uuid = ri.dataset_uuid
         WHERE d.digest = ?1 OR (length(d.digest) >= ?4 AND substr(?3, 1, length(d.digest)) = d.digest) OR d.source LIKE ?2 ESCAPE '\\'`,
      )
      .bind(versionId, like, rootSha256, minPrefix)
      .all<{ run_id: string; source: string; digest: string; context: string | null }>();
    return r.results.map((x) => ({ runId: x.run_id, source: x.source, digest: x.digest, context: x.context }));
  }

  async runs(runIds: readonly string[]): Promise<{ runId: string; name: string; experimentId: string; status: string; startTime: number; gitCommit: string | null }[]> {
    if (runIds.length === 0) return [];
    const r = await this.d1
      .prepare(
        `SELECT r.run_uuid, r.name, r.experiment_id, r.status, r.start_time,
           (SELECT value FROM run_tags t WHERE t.run_uuid = r.run_uuid AND t.key = 'mlflow.source.git.commit') AS git_commit
         FROM runs r WHERE r.run_uuid IN (SELECT value FROM json_each(?1))`,
      )
      .bind(JSON.stringify(runIds))
      .all<Record<string, unknown>>();
    return r.results.map((x) => ({
      runId: String(x.run_uuid),
      name: String(x.name),
      experimentId: String(x.experiment_id),
      status: String(x.status),
      startTime: Number(x.start_time),
      gitCommit: x.git_commit == null ? null : String(x.git_commit),
    }));
  }

  async modelVersionsOfRun(runId: string): Promise<{ name: string; version: number; status: string; stage: string }[]> {
    const r = await this.d1
      .prepare("SELECT name, version, status, current_stage FROM model_versions WHERE run_id = ?1 ORDER BY name, version")
      .bind(runId)
      .all<{ name: string; version: number; status: string; current_stage: string }>();
    return r.results.map((x) => ({ name: x.name, version: Number(x.version), status: x.status, stage: x.current_stage }));
  }

  async modelVersion(name: string, version: number): Promise<{ name: string; version: number; runId: string | null; status: string; stage: string } | null> {
    const x = await this.d1
      .prepare("SELECT name, version, run_id, status, current_stage FROM model_versions WHERE name = ?1 AND version = ?2")
      .bind(name, version)
      .first<{ name: string; version: number; run_id: string | null; status: string; current_stage: string }>();
    return x ? { name: x.name, version: Number(x.version), runId: x.run_id, status: x.status, stage: x.current_stage } : null;
  }
}
