/**
 * The data-versioning API under /api/v1: datasets and their immutable versions, the content store's
 * uploads (one request, or multipart for large files) and the "which hashes are missing" query a client
 * asks before uploading, downloads with byte ranges, diffs, and lineage. Raw-body upload routes and the
 * commit (whose manifests can be large) set their own body guards, listed in DATASETS_OWN_BODY_PATHS.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { except } from "hono/combine";
import type { AppEnv } from "../env";
import { limitBody, limitJsonDepth, requireJsonBody } from "../http/body";
import { ApiError, errorBody, invalid } from "../http/errors";
import { createRouter } from "../http/router";
import { jsonBody, jsonResponse, notFoundError, standardErrors } from "../http/schemas";
import type { Download } from "../artifacts/service";
import { attachmentDisposition } from "../lib/artifact-paths";
import { contentRange, rangeLength, unsatisfiedRange } from "../lib/byte-range";
import { ProfileSchema } from "../lib/profile/index";
import { MAX_MANIFEST_ENTRIES, MAX_MISSING_QUERY, type Dataset, type UploadState, type Version, type VersionDiff } from "./service";

const security = [{ bearer: [] }];
/** A 100,000-entry manifest is about 12 MB of JSON. */
export const DATASETS_COMMIT_JSON_LIMIT = 32 * 1024 * 1024;

/** Paths whose bodies these routes guard themselves (raw uploads; the large-JSON commit). */
/** Routes whose body is a raw file streamed to R2 (never buffered). */
export const DATASETS_RAW_BODY_PATHS = [/^\/api\/v1\/blobs(\/(?!missing$|uploads$)[^/]+)?$/, /^\/api\/v1\/blobs\/uploads\/[^/]+\/parts\/[^/]+$/];
export const DATASETS_OWN_BODY_PATHS = [...DATASETS_RAW_BODY_PATHS, /^\/api\/v1\/datasets\/[^/]+\/versions$/];
/** POSTs of this router that only read. */
export const DATASETS_READ_ONLY_POSTS = [/^\/api\/v1\/blobs\/missing$/];

const sha = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 is 64 lowercase hex digits");
const datasetName = z.string().min(1).max(128);
const tags = z.record(z.string().min(1).max(250), z.string().max(5000));
const VersionRef = z.union([z.literal("latest"), z.coerce.number().int().min(1)]);

const DatasetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    tags: z.record(z.string(), z.string()),
    latest_version: z.number().int(),
    created_at: z.number(),
    updated_at: z.number(),
  })
  .openapi("Dataset");

const SchemaFieldSchema = z.object({ name: z.string(), type: z.string() });

const VersionSchema = z
  .object({
    id: z.string(),
    dataset: z.string(),
    version: z.number().int(),
    kind: z.enum(["file", "directory"]),
    sha256: z.string().openapi({ description: "The file's sha256, or the manifest's for a directory" }),
    file_name: z.string().nullable(),
    size: z.number(),
    file_count: z.number(),
    content_type: z.string().nullable(),
    created_by: z.object({ token_id: z.string().nullable(), name: z.string() }),
    message: z.string(),
    git_commit: z.string().nullable(),
    git_branch: z.string().nullable(),
    parent_version_id: z.string().nullable(),
    row_count: z.number().nullable(),
    schema: z.array(SchemaFieldSchema).nullable(),
    profile: ProfileSchema.nullable(),
    profile_source: z.string().nullable(),
    created_at: z.number(),
  })
  .openapi("DatasetVersion");

const EntrySchema = z.object({ path: z.string(), sha256: z.string(), size: z.number() }).openapi("ManifestEntry");

const UploadSchema = z
  .object({
    upload_id: z.string(),
    sha256: z.string(),
    size: z.number(),
    part_size: z.number(),
    part_count: z.number(),
    parts: z.array(z.object({ part_number: z.number(), size: z.number(), sha256: z.string(), etag: z.string() })),
    created_at: z.number(),
  })
  .openapi("BlobUpload");

const BlobSchema = z.object({ sha256: z.string(), md5: z.string(), size: z.number(), created: z.boolean().openapi({ description: "false when the store already held it" }) }).openapi("Blob");

const toDataset = (d: Dataset) => ({
  id: d.datasetId,
  name: d.name,
  description: d.description,
  tags: d.tags,
  latest_version: d.latestVersion,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

export const toVersionWire = (v: Version) => ({
  id: v.versionId,
  dataset: v.dataset,
  version: v.version,
  kind: v.kind,
  sha256: v.sha256,
  file_name: v.fileName,
  size: v.size,
  file_count: v.fileCount,
  content_type: v.contentType,
  created_by: { token_id: v.createdBy.tokenId, name: v.createdBy.name },
  message: v.message,
  git_commit: v.gitCommit,
  git_branch: v.gitBranch,
  parent_version_id: v.parentVersionId,
  row_count: v.rowCount,
  schema: v.schema,
  profile: v.profile,
  profile_source: v.profileSource,
  created_at: v.createdAt,
});

const toUpload = (u: UploadState) => ({
  upload_id: u.uploadId,
  sha256: u.sha256,
  size: u.size,
  part_size: u.partSize,
  part_count: u.partCount,
  parts: u.parts.map((p) => ({ part_number: p.partNumber, size: p.size, sha256: p.sha256, etag: p.etag })),
  created_at: u.createdAt,
});

const toDiff = (d: VersionDiff) => ({
  from: toVersionWire(d.from),
  to: toVersionWire(d.to),
  row_count: d.rowCount,
  size: d.size,
  file_count: d.fileCount,
  columns: d.columns,
  files: d.files,
});

const NameParam = z.object({ name: datasetName.openapi({ param: { name: "name", in: "path" } }) });
const VersionParams = z.object({
  name: datasetName.openapi({ param: { name: "name", in: "path" } }),
  version: VersionRef.openapi({ param: { name: "version", in: "path" }, type: "string", description: "A version number or 'latest'" }),
});
const UploadParam = z.object({ upload_id: z.string().uuid().openapi({ param: { name: "upload_id", in: "path" } }) });
const Paging = {
  max_results: z.coerce.number().int().min(1).max(1000).optional(),
  page_token: z.string().max(4000).optional(),
};

const binaryBody = (description: string) => ({
  required: true,
  description,
  content: { "application/octet-stream": { schema: z.string().openapi({ type: "string", format: "binary" }) } },
});
const binaryResponse = (description: string) => ({ description, content: { "application/octet-stream": { schema: z.string().openapi({ type: "string", format: "binary" }) } } });

/** The announced body length: null when the client streams without one. */
export function contentLength(c: Context<AppEnv>): number | null {
  const header = c.req.header("content-length");
  if (header === undefined) return null;
  if (!/^\d{1,16}$/.test(header.trim())) throw invalid(`Invalid Content-Length '${header}'`);
  return Number(header.trim());
}

function optionalSha(header: string | undefined): string | null {
  if (header === undefined || header === "") return null;
  return header.trim().toLowerCase();
}

/** A blob as an HTTP response: 200, 206 for a range, 416 (in the native error shape) for a bad range. */
export function blobResponse(c: Context<AppEnv>, d: Download, file: { name: string; contentType: string; etag?: string }): Response {
  const base: Record<string, string> = { "Accept-Ranges": "bytes" };
  if (d.kind === "unsatisfiable") {
    const error = new ApiError("INVALID_PARAMETER_VALUE", `The requested range is not satisfiable: the file has ${d.size} bytes`);
    return c.json(errorBody(error, c.get("requestId")), 416, { ...base, "Content-Range": unsatisfiedRange(d.size) });
  }
  const headers: Record<string, string> = {
    ...base,
    "Content-Type": file.contentType,
    "Content-Disposition": attachmentDisposition(file.name),
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    // Content-addressed: the bytes behind a URL never change, so the hash is the entity tag.
    ETag: file.etag ?? d.object.httpEtag,
    "Cache-Control": "private, max-age=31536000, immutable",
  };
  const body = c.req.method === "HEAD" ? null : d.object.body;
  if (body === null) void d.object.body.cancel();
  if (d.kind === "partial") {
    return new Response(body, { status: 206, headers: { ...headers, "Content-Range": contentRange(d.range, d.size), "Content-Length": String(rangeLength(d.range)) } });
  }
  return new Response(body, { status: 200, headers: { ...headers, "Content-Length": String(d.object.size) } });
}

export const datasetRoutes = createRouter();

datasetRoutes.use("/datasets/:name/versions", except((c) => c.req.method !== "POST", limitBody(DATASETS_COMMIT_JSON_LIMIT), requireJsonBody(), limitJsonDepth()));

// --- content store ------------------------------------------------------------------------------

datasetRoutes.openapi(
  createRoute({
    method: "post",
    path: "/blobs/missing",
    tags: ["Datasets"],
    summary: "Which of these hashes the store does not hold yet",
    description: `Ask before uploading: only the returned hashes need uploading. At most ${MAX_MISSING_QUERY} hashes per call. Needs only the read scope.`,
    security,
    request: { body: jsonBody(z.object({ sha256: z.array(z.string().max(64)).max(MAX_MISSING_QUERY) }).strict()) },
    responses: { 200: jsonResponse(z.object({ missing: z.array(z.string()) }), "The hashes to upload, in the order asked"), ...standardErrors },
  }),
  async (c) => c.json({ missing: await c.var.services.datasets.missingBlobs(c.req.valid("json").sha256) }, 200),
);

datasetRoutes.openapi(
  createRoute({
    method: "put",
    path: "/blobs/{hash}",
    tags: ["Datasets"],
    summary: "Upload one file whose sha256 you know (verified; a mismatch stores nothing)",
    description: "The raw bytes are the body (Content-Length required for a direct write). Idempotent: a hash the store holds is not written again.",
    security,
    request: { params: z.object({ hash: sha.openapi({ param: { name: "hash", in: "path" }, description: "The file's sha256" }) }), body: binaryBody("The file's bytes") },
    responses: { 200: jsonResponse(BlobSchema, "The stored blob"), ...standardErrors },
  }),
  async (c) => {
    const r = await c.var.services.datasets.putBlob(c.req.valid("param").hash, c.req.raw.body, contentLength(c));
    return c.json(r, 200);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "post",
    path: "/blobs",
    tags: ["Datasets"],
    summary: "Upload one file; the server computes its hashes",
    description: "Send X-Content-SHA256 to have the body verified against it.",
    security,
    request: { body: binaryBody("The file's bytes") },
    responses: { 200: jsonResponse(BlobSchema, "The stored blob"), ...standardErrors },
  }),
  async (c) => {
    const r = await c.var.services.datasets.putBlob(optionalSha(c.req.header("x-content-sha256")), c.req.raw.body, contentLength(c));
    return c.json(r, 200);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "post",
    path: "/blobs/uploads",
    tags: ["Datasets"],
    summary: "Start a multipart upload of a large file",
    description:
      "Declare the file's sha256 and size; upload parts of exactly part_size bytes (the last holds the rest), in any order and in parallel, " +
      "then complete. When the store already holds the hash, answers {exists: true} and nothing needs uploading.",
    security,
    request: { body: jsonBody(z.object({ sha256: sha, size: z.number().int().positive(), part_size: z.number().int().positive().optional() }).strict()) },
    responses: {
      200: jsonResponse(z.object({ exists: z.literal(true), sha256: z.string() }), "The store already holds this content"),
      201: jsonResponse(UploadSchema.extend({ exists: z.literal(false) }), "The upload, with no parts yet"),
      ...standardErrors,
    },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const r = await c.var.services.datasets.createUpload({ sha256: b.sha256, size: b.size, partSize: b.part_size });
    if (r.exists) return c.json({ exists: true as const, sha256: r.sha256 }, 200);
    return c.json({ exists: false as const, ...toUpload(r) }, 201);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/blobs/uploads/{upload_id}",
    tags: ["Datasets"],
    summary: "A multipart upload and the parts it has (to resume an interrupted upload)",
    security,
    request: { params: UploadParam },
    responses: { 200: jsonResponse(UploadSchema, "The upload"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json(toUpload(await c.var.services.datasets.getUpload(c.req.valid("param").upload_id)), 200),
);

datasetRoutes.openapi(
  createRoute({
    method: "put",
    path: "/blobs/uploads/{upload_id}/parts/{part_number}",
    tags: ["Datasets"],
    summary: "Upload one part (uploading a part again replaces it)",
    description: "Content-Length must be the part's exact size. Send X-Content-SHA256 to have the part verified.",
    security,
    request: {
      params: UploadParam.extend({ part_number: z.coerce.number().int().min(1).max(10_000).openapi({ param: { name: "part_number", in: "path", required: true }, type: "integer" }) }),
      body: binaryBody("The part's bytes"),
    },
    responses: { 200: jsonResponse(z.object({ part_number: z.number(), size: z.number(), sha256: z.string(), etag: z.string() }), "The stored part"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const { upload_id, part_number } = c.req.valid("param");
    const p = await c.var.services.datasets.uploadPart(upload_id, part_number, c.req.raw.body, contentLength(c), optionalSha(c.req.header("x-content-sha256")));
    return c.json({ part_number: p.partNumber, size: p.size, sha256: p.sha256, etag: p.etag }, 200);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "post",
    path: "/blobs/uploads/{upload_id}/complete",
    tags: ["Datasets"],
    summary: "Assemble the parts and verify the file's sha256 (a mismatch drops the upload)",
    security,
    request: { params: UploadParam },
    responses: { 200: jsonResponse(BlobSchema, "The stored blob"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json(await c.var.services.datasets.completeUpload(c.req.valid("param").upload_id), 200),
);

datasetRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/blobs/uploads/{upload_id}",
    tags: ["Datasets"],
    summary: "Abort a multipart upload; its parts are discarded",
    security,
    request: { params: UploadParam },
    responses: { 200: jsonResponse(z.object({}), "Aborted"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    await c.var.services.datasets.abortUpload(c.req.valid("param").upload_id);
    return c.json({}, 200);
  },
);

// --- datasets -----------------------------------------------------------------------------------

datasetRoutes.openapi(
  createRoute({
    method: "post",
    path: "/datasets",
    tags: ["Datasets"],
    summary: "Create a dataset",
    security,
    request: { body: jsonBody(z.object({ name: datasetName, description: z.string().max(5000).optional(), tags: tags.optional() }).strict()) },
    responses: { 201: jsonResponse(z.object({ dataset: DatasetSchema }), "The dataset"), ...standardErrors, 409: jsonResponse(z.object({}), "The name is taken (RESOURCE_ALREADY_EXISTS)") },
  }),
  async (c) => c.json({ dataset: toDataset(await c.var.services.datasets.createDataset(c.req.valid("json"))) }, 201),
);

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/datasets",
    tags: ["Datasets"],
    summary: "List or search datasets (by text in name or description, and by tags)",
    security,
    request: {
      query: z.object({
        q: z.string().max(200).optional(),
        tag: z
          .preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string().regex(/^[^=]+=.*$/, "tag filters read key=value")))
          .openapi({ type: "array", items: { type: "string" }, description: "key=value; repeat for several" }),
        ...Paging,
      }),
    },
    responses: { 200: jsonResponse(z.object({ datasets: z.array(DatasetSchema), next_page_token: z.string().nullable() }), "A page of datasets, most recently updated first"), ...standardErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const tagFilter = Object.fromEntries(q.tag.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]));
    const page = await c.var.services.datasets.listDatasets({ query: q.q, tags: tagFilter, maxResults: q.max_results, pageToken: q.page_token });
    return c.json({ datasets: page.items.map(toDataset), next_page_token: page.nextPageToken }, 200);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/datasets/{name}",
    tags: ["Datasets"],
    summary: "Get a dataset",
    security,
    request: { params: NameParam },
    responses: { 200: jsonResponse(z.object({ dataset: DatasetSchema }), "The dataset"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ dataset: toDataset(await c.var.services.datasets.getDataset(c.req.valid("param").name)) }, 200),
);

datasetRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/datasets/{name}",
    tags: ["Datasets"],
    summary: "Change a dataset's description or tags (versions are immutable)",
    security,
    request: { params: NameParam, body: jsonBody(z.object({ description: z.string().max(5000).optional(), tags: tags.optional() }).strict()) },
    responses: { 200: jsonResponse(z.object({ dataset: DatasetSchema }), "The dataset"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ dataset: toDataset(await c.var.services.datasets.updateDataset(c.req.valid("param").name, c.req.valid("json"))) }, 200),
);

datasetRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/datasets/{name}",
    tags: ["Datasets"],
    summary: "Delete a dataset and its versions (content shared with other versions stays)",
    security,
    request: { params: NameParam },
    responses: { 200: jsonResponse(z.object({}), "Deleted"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    await c.var.services.datasets.deleteDataset(c.req.valid("param").name);
    return c.json({}, 200);
  },
);

// --- versions -----------------------------------------------------------------------------------

datasetRoutes.openapi(
  createRoute({
    method: "post",
    path: "/datasets/{name}/versions",
    tags: ["Datasets"],
    summary: "Commit a version: one uploaded file (sha256) or a directory manifest whose files are all uploaded",
    description:
      "All or nothing: a manifest naming content the store does not hold is refused and nothing is written. CSV, TSV, JSON lines and Parquet " +
      "files up to 10 MiB are profiled here; send `profile` for larger ones. With skip_if_unchanged, committing the latest version's content again " +
      "returns that version (200) instead of creating one.",
    security,
    request: {
      params: NameParam,
      body: jsonBody(
        z
          .object({
            sha256: sha.optional(),
            file_name: z.string().max(1024).optional(),
            manifest: z.array(z.object({ path: z.string().max(4096), sha256: z.string().max(64), size: z.number().int().nonnegative() }).strict()).max(MAX_MANIFEST_ENTRIES).optional(),
            message: z.string().max(5000).optional(),
            git_commit: z.string().max(100).optional(),
            git_branch: z.string().max(250).optional(),
            parent_version: z.number().int().min(1).optional(),
            content_type: z.string().max(200).optional(),
            profile: ProfileSchema.optional(),
            skip_if_unchanged: z.boolean().optional(),
          })
          .strict(),
      ),
    },
    responses: {
      201: jsonResponse(z.object({ version: VersionSchema, created: z.literal(true) }), "The new version"),
      200: jsonResponse(z.object({ version: VersionSchema, created: z.literal(false) }), "Unchanged: the latest version (skip_if_unchanged)"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const r = await c.var.services.datasets.commitVersion(
      c.req.valid("param").name,
      {
        sha256: b.sha256,
        fileName: b.file_name,
        manifest: b.manifest,
        message: b.message,
        gitCommit: b.git_commit,
        gitBranch: b.git_branch,
        parentVersion: b.parent_version,
        contentType: b.content_type,
        profile: b.profile,
        skipIfUnchanged: b.skip_if_unchanged,
      },
      c.var.principal,
    );
    return r.created ? c.json({ version: toVersionWire(r.version), created: true as const }, 201) : c.json({ version: toVersionWire(r.version), created: false as const }, 200);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/datasets/{name}/versions",
    tags: ["Datasets"],
    summary: "A dataset's versions, newest first",
    security,
    request: { params: NameParam, query: z.object(Paging) },
    responses: { 200: jsonResponse(z.object({ versions: z.array(VersionSchema), next_page_token: z.string().nullable() }), "A page of versions"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await c.var.services.datasets.listVersions(c.req.valid("param").name, { maxResults: q.max_results, pageToken: q.page_token });
    return c.json({ versions: page.items.map(toVersionWire), next_page_token: page.nextPageToken }, 200);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/datasets/{name}/versions/{version}",
    tags: ["Datasets"],
    summary: "One version (a number or 'latest') with its schema and profile",
    security,
    request: { params: VersionParams },
    responses: { 200: jsonResponse(z.object({ version: VersionSchema }), "The version"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const p = c.req.valid("param");
    return c.json({ version: toVersionWire(await c.var.services.datasets.getVersion(p.name, p.version)) }, 200);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/datasets/{name}/versions/{version}/files",
    tags: ["Datasets"],
    summary: "The files of a version in path order, paged (optionally under a directory)",
    security,
    request: { params: VersionParams, query: z.object({ prefix: z.string().max(1024).optional(), ...Paging }) },
    responses: { 200: jsonResponse(z.object({ files: z.array(EntrySchema), next_page_token: z.string().nullable() }), "A page of files"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const p = c.req.valid("param");
    const q = c.req.valid("query");
    const r = await c.var.services.datasets.listFiles(p.name, p.version, { prefix: q.prefix, maxResults: q.max_results, pageToken: q.page_token });
    return c.json({ files: r.files, next_page_token: r.nextPageToken }, 200);
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/datasets/{name}/versions/{version}/download",
    tags: ["Datasets"],
    summary: "Download a version's file (or, for a directory, the file at ?path=), with byte ranges",
    security,
    request: { params: VersionParams, query: z.object({ path: z.string().max(4096).optional() }) },
    responses: {
      200: binaryResponse("The bytes"),
      206: binaryResponse("The requested range"),
      416: jsonResponse(z.object({}), "The range is outside the file"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const p = c.req.valid("param");
    const d = await c.var.services.datasets.download(p.name, p.version, c.req.valid("query").path ?? null, c.req.header("range") ?? null);
    return blobResponse(c, d, { name: d.fileName, contentType: d.contentType }) as never;
  },
);

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/datasets/{name}/diff",
    tags: ["Datasets"],
    summary: "What changed between two versions: files, row count, schema and per-column statistics",
    security,
    request: {
      params: NameParam,
      query: z.object({
        from: VersionRef.openapi({ type: "string" }),
        to: VersionRef.openapi({ type: "string" }),
        to_dataset: datasetName.optional().openapi({ description: "Compare with a version of another dataset" }),
      }),
    },
    responses: { 200: jsonResponse(z.object({ diff: z.any() }), "The difference"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json({ diff: toDiff(await c.var.services.datasets.diff(c.req.valid("param").name, q.from, q.to, q.to_dataset)) }, 200);
  },
);

// --- lineage ------------------------------------------------------------------------------------

datasetRoutes.openapi(
  createRoute({
    method: "post",
    path: "/runs/{run_id}/dataset-inputs",
    tags: ["Datasets"],
    summary: "Declare that a run read a dataset version",
    description: "MLflow's log-inputs also counts when the input's digest is the version's sha256 or id, or its source names /api/v1/datasets/<name>/versions/<n>.",
    security,
    request: {
      params: z.object({ run_id: z.string().regex(/^[0-9a-f]{32}$/).openapi({ param: { name: "run_id", in: "path" } }) }),
      body: jsonBody(z.object({ dataset: datasetName, version: z.union([z.literal("latest"), z.number().int().min(1)]), context: z.string().max(500).optional() }).strict()),
    },
    responses: { 200: jsonResponse(z.object({ version: VersionSchema }), "The version the run now has as an input"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const v = await c.var.services.lineage.declareInput(c.req.valid("param").run_id, b.dataset, b.version, b.context ?? null);
    return c.json({ version: toVersionWire(v) }, 200);
  },
);

const NodeSchema = z.object({ id: z.string(), kind: z.string(), key: z.string(), label: z.string(), data: z.record(z.string(), z.unknown()) }).openapi("LineageNode");
const EdgeSchema = z.object({ from: z.string(), to: z.string(), kind: z.string() }).openapi("LineageEdge");

datasetRoutes.openapi(
  createRoute({
    method: "get",
    path: "/lineage",
    tags: ["Datasets"],
    summary: "The lineage graph around an object, upstream and downstream",
    description: "object is dataset_version:<id>, run:<run id>, model_version:<name>/<version> or monitor:<monitor id>. Edges point the way data flows.",
    security,
    request: { query: z.object({ object: z.string().min(3).max(600), depth: z.coerce.number().int().min(1).max(10).optional() }) },
    responses: {
      200: jsonResponse(z.object({ root: z.string(), nodes: z.array(NodeSchema), edges: z.array(EdgeSchema), truncated: z.boolean() }), "Nodes and edges"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json(await c.var.services.lineage.graph(q.object, q.depth), 200);
  },
);
