/**
 * Data versioning: datasets with immutable, numbered versions over one content-addressed store.
 * Uploads (one request, or R2 multipart for large files, resumable) only add blobs, which no dataset
 * shows until a version that names them is committed; a commit checks that every named blob exists and
 * writes the version in one batch. Also downloads with byte ranges, manifests, diffs, profiles of small
 * tabular files, and the DVC HTTP remote's view of the same store (objects named by md5).
 */
import { ApiError, invalid, notFound } from "../http/errors";
import { parseOffsetToken, offsetToken } from "../http/paging";
import type { Principal } from "../auth/service";
import { guessContentType } from "../lib/artifact-paths";
import { checkPath, diffManifests, isSha256, ManifestError, manifestHash, type ManifestEntry } from "../lib/manifest";
import { profileParquet } from "../lib/profile/parquet";
import { diffProfiles, profileText, ProfileError, schemaOf, tabularContentType, tabularFormat, type ColumnChange, type Profile, type SchemaField } from "../lib/profile/index";
import { StoreRejection } from "../artifacts/store";
import type { ArtifactService, Download } from "../artifacts/service";
import { blobPath, ChecksumMismatch, type ContentStore, type DatasetRow, type DatasetStore, type Digests, type VersionRow } from "./store";

export const MiB = 1024 * 1024;
/** R2's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** A part travels in one request body, which Cloudflare caps at 100 MB on most plans. */
export const MAX_PART_SIZE = 95 * MiB;
export const DEFAULT_PART_SIZE = 16 * MiB;
export const MAX_PARTS = 10_000;
/** The completed object is copied to its content key in one put, which R2 caps at 5 GiB - 5 MiB. */
export const MAX_BLOB_SIZE = 5 * 1024 * MiB - 5 * MiB;
/**
 * The content type a dataset file is recorded and served with when the client names none: the tabular
 * formats by their own media types (text/csv, text/tab-separated-values, application/x-ndjson,
 * application/vnd.apache.parquet), anything else as artifacts are. Every upload path (CLI, browser,
 * pipeline snapshot) leaves this to the server, so the same file name always gets the same type.
 */
export function datasetContentType(fileName: string): string {
  const format = tabularFormat(fileName);
  return format ? tabularContentType(format) : guessContentType(fileName);
}

/** Files up to this size are profiled by the Worker at commit; larger ones by the client. */
export const SERVER_PROFILE_LIMIT = 10 * MiB;
export const MAX_MISSING_QUERY = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;
export const UPLOAD_LIFETIME_MS = 7 * DAY_MS;
/** No single request streams for a day, so a staging object that old is a leftover. */
export const STAGING_LIFETIME_MS = DAY_MS;
export const MAX_MANIFEST_ENTRIES = 100_000;
const DIFF_LIST_LIMIT = 1000;

export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DVC_NAME = /^([0-9a-f]{2})\/([0-9a-f]{30})(\.dir)?$/;

export interface Dataset {
  datasetId: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
}

export interface Version {
  versionId: string;
  dataset: string;
  version: number;
  kind: "file" | "directory";
  sha256: string;
  fileName: string | null;
  size: number;
  fileCount: number;
  contentType: string | null;
  createdBy: { tokenId: string | null; name: string };
  message: string;
  gitCommit: string | null;
  gitBranch: string | null;
  parentVersionId: string | null;
  rowCount: number | null;
  schema: SchemaField[] | null;
  profile: Profile | null;
  profileSource: string | null;
  createdAt: number;
}

export interface CommitInput {
  sha256?: string;
  fileName?: string;
  manifest?: ManifestEntry[];
  message?: string;
  gitCommit?: string;
  gitBranch?: string;
  parentVersion?: number;
  contentType?: string;
  profile?: Profile;
  skipIfUnchanged?: boolean;
  /** The pipeline run task that made this version (a dataset_snapshot task), for listeners. */
  producer?: { pipeline_id: string; run_id: string; task_id: string };
}

/** A version was committed (not a skip_if_unchanged no-op): what listeners such as data-aware triggers see. */
export interface VersionCommitted {
  dataset: string;
  datasetId: string;
  version: number;
  versionId: string;
  sha256: string;
  size: number;
  createdAt: number;
  producer: CommitInput["producer"] | null;
}

export type VersionCommittedListener = (event: VersionCommitted) => Promise<void>;

export interface UploadState {
  uploadId: string;
  sha256: string;
  size: number;
  partSize: number;
  partCount: number;
  parts: { partNumber: number; size: number; sha256: string; etag: string }[];
  createdAt: number;
}

export type BlobDownload = Download;

export interface VersionDiff {
  from: Version;
  to: Version;
  rowCount: { before: number | null; after: number | null; delta: number | null };
  size: { before: number; after: number; delta: number };
  fileCount: { before: number; after: number; delta: number };
  columns: ColumnChange[];
  files: {
    added: ManifestEntry[];
    removed: ManifestEntry[];
    changed: { path: string; before: ManifestEntry; after: ManifestEntry }[];
    counts: { added: number; removed: number; changed: number; unchanged: number };
    truncated: boolean;
  };
}

const parseJson = <T>(s: string | null): T | null => (s == null ? null : (JSON.parse(s) as T));

function toDataset(r: DatasetRow): Dataset {
  return { ...r, tags: parseJson<Record<string, string>>(r.tags) ?? {} };
}

function toVersion(r: VersionRow, dataset: string): Version {
  return {
    versionId: r.versionId,
    dataset,
    version: r.version,
    kind: r.kind,
    sha256: r.rootSha256,
    fileName: r.fileName,
    size: r.size,
    fileCount: r.fileCount,
    contentType: r.contentType,
    createdBy: { tokenId: r.createdByTokenId, name: r.createdByName },
    message: r.message,
    gitCommit: r.gitCommit,
    gitBranch: r.gitBranch,
    parentVersionId: r.parentVersionId,
    rowCount: r.rowCount,
    schema: parseJson<SchemaField[]>(r.schema),
    profile: parseJson<Profile>(r.profile),
    profileSource: r.profileSource,
    createdAt: r.createdAt,
  };
}

function checkSha(sha256: string, what = "sha256"): string {
  if (!isSha256(sha256)) throw invalid(`Invalid ${what} '${sha256.slice(0, 80)}': expected 64 lowercase hex digits`);
  return sha256;
}

function mismatch(err: unknown): never {
  if (err instanceof ChecksumMismatch) throw invalid(`Hash mismatch: ${err.message}; nothing was stored`);
  if (err instanceof StoreRejection) {
    if (err.reason === "length-mismatch") throw invalid("The request body does not have the length its Content-Length announced; nothing was stored");
    if (err.reason === "too-large") throw new ApiError("PAYLOAD_TOO_LARGE", "The body exceeds the largest object the store accepts");
    throw invalid(`The store refused the upload: ${err.reason}`);
  }
  throw err;
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (body) await body.cancel().catch(() => undefined);
}

export class DatasetService {
  private readonly listeners: VersionCommittedListener[] = [];

  constructor(
    private readonly store: DatasetStore,
    private readonly content: ContentStore,
    /** Reads blobs by their key under the content prefix, with byte ranges. */
    private readonly reader: ArtifactService,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Registers a listener called after every committed version, wherever the commit came from (API,
   * CLI, DVC, a pipeline task). The composition root wires other pillars here, so datasets imports none.
   * A failing listener is logged; the commit stands.
   */
  onVersionCommitted(listener: VersionCommittedListener): void {
    this.listeners.push(listener);
  }

  private async notify(event: VersionCommitted): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (err) {
        console.error(JSON.stringify({ event: "datasets.listener_failed", dataset: event.dataset, version: event.version, error: String(err) }));
      }
    }
  }

  // --- blobs -------------------------------------------------------------------------------

  /** Which of the given hashes the store lacks, in the order asked (duplicates once). */
  async missingBlobs(hashes: string[]): Promise<string[]> {
    if (hashes.length > MAX_MISSING_QUERY) throw invalid(`At most ${MAX_MISSING_QUERY} hashes per call; got ${hashes.length}`);
    hashes.forEach((h) => checkSha(h));
    const unique = [...new Set(hashes)];
    const present = await this.store.presentBlobs(unique);
    return unique.filter((h) => !present.has(h));
  }

  /**
   * Stores one body. With a declared sha256 the bytes go straight to their key and a mismatch stores
   * nothing; without one they are hashed on the way into a staging key and then moved.
   */
  async putBlob(declared: string | null, body: ReadableStream<Uint8Array> | null, length: number | null): Promise<Digests & { created: boolean }> {
    if (declared !== null) checkSha(declared);
    if (length !== null && length > MAX_BLOB_SIZE) {
      await drain(body);
      throw new ApiError("PAYLOAD_TOO_LARGE", `A single upload may be at most ${MAX_BLOB_SIZE} bytes; use a multipart upload`);
    }
    if (declared !== null) {
      const existing = await this.store.getBlob(declared);
      if (existing) {
        await drain(body);
        return { sha256: existing.sha256, md5: existing.md5, size: existing.size, created: false };
      }
      if (length !== null && length > 0 && body !== null) {
        let d: Digests;
        try {
          d = await this.content.putVerified(declared, body, length);
        } catch (err) {
          mismatch(err);
        }
        await this.store.insertBlob(d, this.now());
        return { ...d, created: true };
      }
    }
    const staged = await this.stage(body, length);
    if (declared !== null && staged.digests.sha256 !== declared) {
      await this.content.discard(staged.stagingPath);
      throw invalid(`Hash mismatch: the body's sha256 is ${staged.digests.sha256}, not ${declared}; nothing was stored`);
    }
    return this.keepStaged(staged.stagingPath, staged.digests);
  }

  private async stage(body: ReadableStream<Uint8Array> | null, length: number | null) {
    try {
      return await this.content.stage(body, length);
    } catch (err) {
      mismatch(err);
    }
  }

  /** Moves a staged, hashed body to its content key unless the store already holds it. */
  private async keepStaged(stagingPath: string, d: Digests, dvcName?: string): Promise<Digests & { created: boolean }> {
    const existing = await this.store.getBlob(d.sha256);
    if (existing) {
      await this.content.discard(stagingPath);
    } else {
      try {
        await this.content.promote(stagingPath, d.sha256);
      } catch (err) {
        mismatch(err);
      }
    }
    if (dvcName) await this.store.insertDvcObject(dvcName, d, this.now());
    else await this.store.insertBlob(d, this.now());
    return { ...d, created: !existing };
  }

  // --- multipart uploads -------------------------------------------------------------------

  async createUpload(input: { sha256: string; size: number; partSize?: number }): Promise<{ exists: true; sha256: string } | ({ exists: false } & UploadState)> {
    const sha256 = checkSha(input.sha256);
    if (!Number.isSafeInteger(input.size) || input.size < 1) throw invalid("size must be a positive integer (upload empty files in one request)");
    if (input.size > MAX_BLOB_SIZE) throw invalid(`size ${input.size} exceeds the largest blob the store accepts (${MAX_BLOB_SIZE} bytes)`);
    const partSize = input.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
      throw invalid(`part_size must be between ${MIN_PART_SIZE} and ${MAX_PART_SIZE} bytes`);
    }
    const partCount = Math.ceil(input.size / partSize);
    if (partCount > MAX_PARTS) throw invalid(`${partCount} parts of ${partSize} bytes exceed R2's ${MAX_PARTS}; choose a larger part_size`);
    if (await this.store.getBlob(sha256)) return { exists: true, sha256 };
    const uploadId = crypto.randomUUID();
    const stagingPath = `multipart/${uploadId}`;
    const r2UploadId = await this.content.createMultipart(stagingPath);
    const createdAt = this.now();
    await this.store.insertUpload({ uploadId, r2UploadId, stagingKey: stagingPath, sha256, size: input.size, partSize, partCount, createdAt });
    return { exists: false, uploadId, sha256, size: input.size, partSize, partCount, parts: [], createdAt };
  }

  private async upload(uploadId: string) {
    const row = await this.store.getUpload(uploadId);
    if (!row) throw notFound(`Upload ${uploadId} does not exist (it was completed, aborted or never created)`);
    return row;
  }

  async getUpload(uploadId: string): Promise<UploadState> {
    const row = await this.upload(uploadId);
    const parts = await this.store.uploadParts(uploadId);
    return {
      uploadId,
      sha256: row.sha256,
      size: row.size,
      partSize: row.partSize,
      partCount: row.partCount,
      parts: parts.map((p) => ({ partNumber: p.partNumber, size: p.size, sha256: p.sha256, etag: p.etag })),
      createdAt: row.createdAt,
    };
  }

  /** The size part `n` of an upload must have: part_size, except the last, which holds the rest. */
  private static partLength(row: { size: number; partSize: number; partCount: number }, n: number): number {
    return n < row.partCount ? row.partSize : row.size - (row.partCount - 1) * row.partSize;
  }

  async uploadPart(uploadId: string, partNumber: number, body: ReadableStream<Uint8Array> | null, length: number | null, declaredSha: string | null) {
    const row = await this.upload(uploadId).catch(async (err) => {
      await drain(body);
      throw err;
    });
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > row.partCount) {
      await drain(body);
      throw invalid(`part_number must be between 1 and ${row.partCount} for this upload`);
    }
    const expected = DatasetService.partLength(row, partNumber);
    if (length !== expected) {
      await drain(body);
      throw invalid(`Part ${partNumber} must be exactly ${expected} bytes (Content-Length ${length ?? "missing"})`);
    }
    if (declaredSha !== null) checkSha(declaredSha, "part sha256");
    let part: { etag: string; sha256: string; size: number };
    try {
      part = await this.content.uploadPart(row.stagingKey, row.r2UploadId, partNumber, body, expected);
    } catch (err) {
      if (err instanceof StoreRejection && err.reason === "no-such-upload") throw notFound(`Upload ${uploadId} no longer exists in the object store`);
      mismatch(err);
    }
    if (declaredSha !== null && part.sha256 !== declaredSha) {
      throw invalid(`Hash mismatch: part ${partNumber} has sha256 ${part.sha256}, not ${declaredSha}; upload the part again`);
    }
    await this.store.upsertPart({ uploadId, partNumber, etag: part.etag, size: part.size, sha256: part.sha256 });
    return { partNumber, size: part.size, sha256: part.sha256, etag: part.etag };
  }

  /**
   * Assembles the parts and moves the object to its content key, hashing it on the way: when it does
   * not hash to the declared sha256 the upload is dropped and nothing is stored.
   */
  async completeUpload(uploadId: string): Promise<Digests & { created: boolean }> {
    const row = await this.upload(uploadId);
    const parts = await this.store.uploadParts(uploadId);
    const have = new Map(parts.map((p) => [p.partNumber, p]));
    const missing: number[] = [];
    for (let n = 1; n <= row.partCount; n++) if (!have.has(n)) missing.push(n);
    if (missing.length) throw invalid(`Parts not uploaded yet: ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", ..." : ""}`);
    const existing = await this.store.getBlob(row.sha256);
    if (existing) {
      await this.content.abortMultipart(row.stagingKey, row.r2UploadId);
      await this.store.finishUpload(uploadId, null, this.now());
      return { sha256: existing.sha256, md5: existing.md5, size: existing.size, created: false };
    }
    try {
      await this.content.completeMultipart(row.stagingKey, row.r2UploadId, parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
    } catch (err) {
      if (err instanceof StoreRejection) {
        await this.dropUpload(row);
        throw invalid(`The object store refused to assemble the parts (${err.reason}); the upload was aborted`);
      }
      throw err;
    }
    let d: Digests;
    try {
      d = await this.content.promote(row.stagingKey, row.sha256);
    } catch (err) {
      await this.dropUpload(row);
      mismatch(err);
    }
    await this.store.finishUpload(uploadId, d, this.now());
    return { ...d, created: true };
  }

  private async dropUpload(row: { uploadId: string; stagingKey: string; r2UploadId: string }): Promise<void> {
    await this.content.abortMultipart(row.stagingKey, row.r2UploadId);
    await this.store.finishUpload(row.uploadId, null, this.now());
  }

  async abortUpload(uploadId: string): Promise<void> {
    await this.dropUpload(await this.upload(uploadId));
  }

  /**
   * Drops multipart uploads older than R2 keeps them (R2 aborts incomplete ones after 7 days) and
   * staging objects left by requests that died mid-upload.
   */
  async sweepAbandoned(): Promise<{ uploads: number; staged: number }> {
    const now = this.now();
    const stale = await this.store.staleUploads(now - UPLOAD_LIFETIME_MS, 50);
    for (const row of stale) await this.dropUpload(row);
    const staged = await this.content.sweepStaging(now - STAGING_LIFETIME_MS);
    return { uploads: stale.length, staged };
  }

  // --- datasets ----------------------------------------------------------------------------

  private checkName(name: string): void {
    if (!DATASET_NAME.test(name)) throw invalid(`Invalid dataset name '${name.slice(0, 140)}': use letters, digits, '.', '_' and '-' (at most 128, starting with a letter or digit)`);
  }

  async createDataset(input: { name: string; description?: string; tags?: Record<string, string> }): Promise<Dataset> {
    this.checkName(input.name);
    const datasetId = crypto.randomUUID();
    const ok = await this.store.insertDataset({ datasetId, name: input.name, description: input.description ?? "", tags: input.tags ?? {}, now: this.now() });
    if (!ok) throw new ApiError("RESOURCE_ALREADY_EXISTS", `Dataset '${input.name}' already exists`);
    return this.getDataset(input.name);
  }

  private async datasetRow(name: string): Promise<DatasetRow> {
    const row = await this.store.getDataset(name);
    if (!row) throw notFound(`Dataset '${name}' does not exist`);
    return row;
  }

  async getDataset(name: string): Promise<Dataset> {
    return toDataset(await this.datasetRow(name));
  }

  async listDatasets(q: { query?: string; tags?: Record<string, string>; maxResults?: number; pageToken?: string }): Promise<{ items: Dataset[]; nextPageToken: string | null }> {
    const limit = q.maxResults ?? 100;
    const offset = parseOffsetToken(q.pageToken);
    const rows = await this.store.listDatasets({ query: q.query ?? null, tags: q.tags ?? {}, offset, limit: limit + 1 });
    return { items: rows.slice(0, limit).map(toDataset), nextPageToken: rows.length > limit ? offsetToken(offset + limit) : null };
  }

  async updateDataset(name: string, patch: { description?: string; tags?: Record<string, string> }): Promise<Dataset> {
    const row = await this.datasetRow(name);
    await this.store.updateDataset(row.datasetId, { ...patch, now: this.now() });
    return this.getDataset(name);
  }

  async deleteDataset(name: string): Promise<void> {
    const row = await this.datasetRow(name);
    await this.store.deleteDataset(row.datasetId);
  }

  // --- versions ----------------------------------------------------------------------------

  async commitVersion(name: string, input: CommitInput, principal: Pick<Principal, "token_id" | "name">): Promise<{ version: Version; created: boolean }> {
    const ds = await this.datasetRow(name);
    if ((input.sha256 === undefined) === (input.manifest === undefined)) throw invalid("Give exactly one of 'sha256' (a single file) and 'manifest' (a directory)");
    let parentVersionId: string | null = null;
    if (input.parentVersion !== undefined) {
      const parent = await this.store.getVersion(ds.datasetId, input.parentVersion);
      if (!parent) throw notFound(`Dataset '${name}' has no version ${input.parentVersion}`);
      parentVersionId = parent.versionId;
    }
    const base = {
      versionId: crypto.randomUUID(),
      datasetId: ds.datasetId,
      createdByTokenId: principal.token_id,
      createdByName: principal.name,
      message: input.message ?? "",
      gitCommit: input.gitCommit ?? null,
      gitBranch: input.gitBranch ?? null,
      parentVersionId,
      createdAt: this.now(),
    };
    let manifest: Awaited<ReturnType<typeof manifestHash>> | null = null;
    let rootSha256: string;
    let size: number;
    let fileName: string | null = null;
    if (input.sha256 !== undefined) {
      rootSha256 = checkSha(input.sha256);
      const blob = await this.store.getBlob(rootSha256);
      if (!blob) throw invalid(`Blob ${rootSha256} has not been uploaded; upload it before committing`);
      size = blob.size;
      if (input.fileName !== undefined) fileName = this.checkedPath(input.fileName);
    } else {
      if (input.fileName !== undefined) throw invalid("'file_name' is for single-file versions; a manifest names its own paths");
      const entries = input.manifest!;
      if (entries.length > MAX_MANIFEST_ENTRIES) throw invalid(`A manifest may list at most ${MAX_MANIFEST_ENTRIES} files; got ${entries.length}`);
      try {
        manifest = await manifestHash(entries);
      } catch (err) {
        if (err instanceof ManifestError) throw invalid(err.message);
        throw err;
      }
      const present = await this.store.presentBlobs([...new Set(manifest.entries.map((e) => e.sha256))]);
      const absent = manifest.entries.filter((e) => !present.has(e.sha256));
      if (absent.length) {
        const shown = absent.slice(0, 10).map((e) => `'${e.path}' (${e.sha256})`);
        throw invalid(`${absent.length} file(s) of the manifest have not been uploaded: ${shown.join(", ")}${absent.length > 10 ? ", ..." : ""}; nothing was committed`);
      }
      const wrongSize = manifest.entries.find((e) => present.get(e.sha256) !== e.size);
      if (wrongSize) throw invalid(`The manifest says '${wrongSize.path}' has ${wrongSize.size} bytes, but blob ${wrongSize.sha256} has ${present.get(wrongSize.sha256)}`);
      rootSha256 = manifest.sha256;
      size = manifest.size;
    }
    if (input.skipIfUnchanged && ds.latestVersion > 0) {
      const latest = await this.store.getVersion(ds.datasetId, ds.latestVersion);
      if (latest && latest.rootSha256 === rootSha256 && latest.fileName === fileName) return { version: toVersion(latest, name), created: false };
    }
    const contentType = input.contentType ?? (fileName ? datasetContentType(fileName) : input.sha256 !== undefined ? "application/octet-stream" : null);
    const profiled = await this.profileFor(input, rootSha256, size, fileName, contentType);
    const row = await this.store.commitVersion(
      {
        ...base,
        kind: manifest ? "directory" : "file",
        rootSha256,
        fileName,
        size,
        fileCount: manifest ? manifest.entries.length : 1,
        contentType,
        rowCount: profiled?.profile.row_count ?? null,
        schema: profiled ? JSON.stringify(schemaOf(profiled.profile)) : null,
        profile: profiled ? JSON.stringify(profiled.profile) : null,
        profileSource: profiled?.source ?? null,
      },
      manifest,
      input.skipIfUnchanged ?? false,
    );
    if (!row) {
      // A concurrent commit of the same content got there first: it is the latest version now.
      const fresh = await this.datasetRow(name);
      const latest = await this.store.getVersion(fresh.datasetId, fresh.latestVersion);
      if (!latest) throw new Error("the latest version is missing");
      return { version: toVersion(latest, name), created: false };
    }
    await this.notify({
      dataset: name,
      datasetId: ds.datasetId,
      version: row.version,
      versionId: row.versionId,
      sha256: row.rootSha256,
      size: row.size,
      createdAt: row.createdAt,
      producer: input.producer ?? null,
    });
    return { version: toVersion(row, name), created: true };
  }

  private checkedPath(path: string): string {
    try {
      return checkPath(path);
    } catch (err) {
      if (err instanceof ManifestError) throw invalid(err.message);
      throw err;
    }
  }

  /** The client's profile when it sent one; else, for a small tabular file, one computed here. */
  private async profileFor(input: CommitInput, sha256: string, size: number, fileName: string | null, contentType: string | null) {
    if (input.profile) return { profile: input.profile, source: "client" };
    if (input.sha256 === undefined || size > SERVER_PROFILE_LIMIT) return null;
    const format = tabularFormat(fileName, contentType);
    if (!format) return null;
    const object = await this.content.get(sha256);
    if (!object) return null;
    try {
      const profile = format === "parquet" ? await profileParquet(await object.arrayBuffer()) : profileText(await object.text(), format);
      return { profile, source: "server" };
    } catch (err) {
      // A file that does not parse is still a valid version; it just has no profile.
      if (err instanceof ProfileError) return null;
      throw err;
    }
  }

  private async versionRow(name: string, version: number | "latest"): Promise<{ ds: DatasetRow; row: VersionRow }> {
    const ds = await this.datasetRow(name);
    const n = version === "latest" ? ds.latestVersion : version;
    const row = n > 0 ? await this.store.getVersion(ds.datasetId, n) : null;
    if (!row) throw notFound(version === "latest" ? `Dataset '${name}' has no versions yet` : `Dataset '${name}' has no version ${version}`);
    return { ds, row };
  }

  async getVersion(name: string, version: number | "latest"): Promise<Version> {
    return toVersion((await this.versionRow(name, version)).row, name);
  }

  async listVersions(name: string, q: { maxResults?: number; pageToken?: string }): Promise<{ items: Version[]; nextPageToken: string | null }> {
    const ds = await this.datasetRow(name);
    const limit = q.maxResults ?? 100;
    const offset = parseOffsetToken(q.pageToken);
    const rows = await this.store.listVersions(ds.datasetId, offset, limit + 1);
    return { items: rows.slice(0, limit).map((r) => toVersion(r, name)), nextPageToken: rows.length > limit ? offsetToken(offset + limit) : null };
  }

  /** A page of the version's files in path order; the page token is the last path of the page before. */
  async listFiles(name: string, version: number | "latest", q: { prefix?: string; maxResults?: number; pageToken?: string }) {
    const { row } = await this.versionRow(name, version);
    const limit = q.maxResults ?? 1000;
    if (row.kind === "file") {
      return { version: toVersion(row, name), files: [{ path: row.fileName ?? "", sha256: row.rootSha256, size: row.size }], nextPageToken: null };
    }
    let after: string | null = null;
    if (q.pageToken) {
      try {
        after = new TextDecoder().decode(Uint8Array.from(atob(q.pageToken), (c) => c.charCodeAt(0)));
      } catch {
        throw invalid("Invalid page token");
      }
    }
    const prefix = q.prefix ? `${q.prefix.replace(/\/+$/, "")}/` : null;
    const files = await this.store.manifestPage(row.rootSha256, { prefix, after, limit: limit + 1 });
    const page = files.slice(0, limit);
    const next = files.length > limit ? btoa(String.fromCharCode(...new TextEncoder().encode(page[page.length - 1].path))) : null;
    return { version: toVersion(row, name), files: page, nextPageToken: next };
  }

  /** The bytes of a version (a file version), or of one file of it (`path`, for directories). */
  async download(name: string, version: number | "latest", path: string | null, rangeHeader: string | null): Promise<BlobDownload & { fileName: string; contentType: string }> {
    const { row } = await this.versionRow(name, version);
    let sha256 = row.rootSha256;
    let fileName = row.fileName ?? `${name}-v${row.version}`;
    if (row.kind === "directory") {
      if (!path) throw invalid(`Version ${row.version} of '${name}' is a directory: name a file with ?path= (list them at .../files)`);
      const entry = await this.store.manifestEntry(row.rootSha256, this.checkedPath(path));
      if (!entry) throw notFound(`Version ${row.version} of '${name}' has no file '${path}'`);
      sha256 = entry.sha256;
      fileName = path;
    } else if (path && path !== row.fileName) {
      throw notFound(`Version ${row.version} of '${name}' is the single file '${row.fileName ?? ""}', not '${path}'`);
    }
    const d = await this.readBlob(sha256, rangeHeader);
    return { ...d, fileName, contentType: row.kind === "file" && row.contentType ? row.contentType : datasetContentType(fileName) };
  }

  /** Streams a stored blob, honouring a single byte range (the artifact proxy's reader over blob keys). */
  async readBlob(sha256: string, rangeHeader: string | null): Promise<BlobDownload> {
    try {
      return await this.reader.download(blobPath(sha256), rangeHeader);
    } catch (err) {
      if (err instanceof ApiError && err.code === "RESOURCE_DOES_NOT_EXIST") throw new ApiError("INTERNAL_ERROR", `Blob ${sha256} is missing from the object store`);
      throw err;
    }
  }

  async diff(name: string, a: number | "latest", b: number | "latest", otherDataset?: string): Promise<VersionDiff> {
    const from = (await this.versionRow(name, a)).row;
    const to = (await this.versionRow(otherDataset ?? name, b)).row;
    const vf = toVersion(from, name);
    const vt = toVersion(to, otherDataset ?? name);
    const [ea, eb] = await Promise.all([this.entries(from), this.entries(to)]);
    const files = diffManifests(ea, eb);
    const cut = <T>(xs: T[]) => xs.slice(0, DIFF_LIST_LIMIT);
    return {
      from: vf,
      to: vt,
      rowCount: { before: vf.rowCount, after: vt.rowCount, delta: vf.rowCount != null && vt.rowCount != null ? vt.rowCount - vf.rowCount : null },
      size: { before: vf.size, after: vt.size, delta: vt.size - vf.size },
      fileCount: { before: vf.fileCount, after: vt.fileCount, delta: vt.fileCount - vf.fileCount },
      columns: vf.profile || vt.profile ? diffProfiles(vf.profile, vt.profile) : [],
      files: {
        added: cut(files.added),
        removed: cut(files.removed),
        changed: cut(files.changed),
        counts: { added: files.added.length, removed: files.removed.length, changed: files.changed.length, unchanged: files.unchanged },
        truncated: Math.max(files.added.length, files.removed.length, files.changed.length) > DIFF_LIST_LIMIT,
      },
    };
  }

  private async entries(row: VersionRow): Promise<ManifestEntry[]> {
    if (row.kind === "file") return [{ path: row.fileName ?? "", sha256: row.rootSha256, size: row.size }];
    return this.store.manifestAll(row.rootSha256);
  }

  // --- DVC HTTP remote ---------------------------------------------------------------------

  private dvcName(rest: string): string {
    const m = DVC_NAME.exec(rest);
    if (!m) throw notFound(`No object files/md5/${rest.slice(0, 100)}: DVC 3 objects are files/md5/<2 hex>/<30 hex>[.dir]`);
    return `${m[1]}${m[2]}${m[3] ?? ""}`;
  }

  async dvcDownload(rest: string, rangeHeader: string | null): Promise<BlobDownload> {
    const name = this.dvcName(rest);
    const blob = await this.store.dvcObject(name);
    if (!blob) throw notFound(`No object files/md5/${rest}`);
    return this.readBlob(blob.sha256, rangeHeader);
  }

  /**
   * DVC's push: the URL names the object by md5. Plain objects must hash to it; a ".dir" listing is kept
   * under its name as DVC wrote it (DVC names it by the md5 of its own serialisation).
   */
  async dvcUpload(rest: string, body: ReadableStream<Uint8Array> | null, length: number | null): Promise<{ created: boolean }> {
    const name = this.dvcName(rest);
    if (await this.store.dvcObject(name)) {
      await drain(body);
      return { created: false };
    }
    if (length !== null && length > MAX_BLOB_SIZE) {
      await drain(body);
      throw new ApiError("PAYLOAD_TOO_LARGE", `An object may be at most ${MAX_BLOB_SIZE} bytes`);
    }
    const staged = await this.stage(body, length);
    const md5 = name.slice(0, 32);
    if (!name.endsWith(".dir") && staged.digests.md5 !== md5) {
      await this.content.discard(staged.stagingPath);
      throw invalid(`Hash mismatch: the body's md5 is ${staged.digests.md5}, not ${md5}; nothing was stored`);
    }
    await this.keepStaged(staged.stagingPath, staged.digests, name);
    // The DVC name is new even when its bytes were already stored (then only the name is recorded).
    return { created: true };
  }
}
