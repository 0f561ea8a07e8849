/**
 * /api/v1/admin: backups (export and import of a whole Tern) and the maintenance mode they run in.
 * Every route needs the admin scope. See admin/service.ts for the consistency an export gives.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../http/auth";
import { limitBody } from "../http/body";
import { invalid } from "../http/errors";
import { createRouter } from "../http/router";
import { ErrorSchema, jsonBody, jsonResponse, notFoundError, standardErrors } from "../http/schemas";
import { contentLength } from "../datasets/routes";

/** Import routes read their own bodies: raw object bytes, and dumps larger than the JSON default. */
export const ADMIN_OWN_BODY_PATHS = [/^\/api\/v1\/admin\/import\//];
/** A study or pipeline-run dump is at most 24 MiB of values (system/do-dump.ts), plus JSON's overhead. */
const DUMP_BODY_LIMIT = 48 * 1024 * 1024;
/** A chunk of table rows; the CLI sends about 1 MB. */
const ROWS_BODY_LIMIT = 8 * 1024 * 1024;
const MAX_PAGE = 1000;

const security = [{ bearer: [] }];
const Cell = z.union([z.string(), z.number(), z.null()]);
const Row = z.record(z.string(), Cell);
const ExportId = z.string().uuid();
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 is 64 lowercase hex digits");
const StringMap = z.record(z.string(), z.string());
const TableName = z.object({ table: z.string().min(1).max(64).openapi({ param: { name: "table", in: "path" } }) });
const StudyId = z.object({ study_id: z.string().regex(/^[0-9a-f]{32}$/, "a study id is 32 hex digits").openapi({ param: { name: "study_id", in: "path" } }) });
const RunId = z.object({ run_id: z.string().min(1).max(64).openapi({ param: { name: "run_id", in: "path" } }) });
const Key = z.object({ key: z.string().min(1).max(1024).refine((k) => !k.includes("\0"), "no NUL bytes").openapi({ param: { name: "key", in: "query" } }) });

const Maintenance = z.object({ kind: z.enum(["export", "import"]), id: z.string(), since: z.number() }).nullable().openapi("Maintenance");
const Catalog = {
  format_version: z.number(),
  tern_version: z.string(),
  tables: z.array(z.object({ name: z.string(), columns: z.array(z.string()) })),
  excluded_tables: z.array(z.object({ name: z.string(), reason: z.string() })),
};
const Dump = z
  .object({
    format: z.literal(1),
    tables: z.record(z.string(), z.object({ columns: z.array(z.string()), rows: z.array(z.array(Cell)) })),
    alarm: z.number().nullable(),
  })
  .openapi("DurableObjectDump");
const ObjectInfo = z
  .object({
    key: z.string(),
    size: z.number(),
    etag: z.string(),
    uploaded: z.number(),
    http_metadata: z.record(z.string(), z.unknown()),
    custom_metadata: z.record(z.string(), z.string()),
  })
  .openapi("StoredObject");
const RestoreStatus = z.object({ status: z.enum(["restored", "present"]).openapi({ description: "present: the object already held this state (a resumed import)" }) });

export const adminRoutes = createRouter();
adminRoutes.use("/admin/*", requireScope("admin"));
adminRoutes.use("/admin/import/tables/*", limitBody(ROWS_BODY_LIMIT));
adminRoutes.use("/admin/import/studies/*", limitBody(DUMP_BODY_LIMIT));
adminRoutes.use("/admin/import/pipeline-runs/*", limitBody(DUMP_BODY_LIMIT));
adminRoutes.use("/admin/import/begin", limitBody());
adminRoutes.use("/admin/import/uploads", limitBody());
adminRoutes.use("/admin/import/uploads/complete", limitBody());
adminRoutes.use("/admin/import/finish", limitBody());

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/maintenance",
    tags: ["Admin"],
    summary: "The maintenance mode an export or import holds, or null",
    security,
    responses: { 200: jsonResponse(z.object({ maintenance: Maintenance }), "The current mode"), ...standardErrors },
  }),
  async (c) => c.json({ maintenance: await c.var.services.admin.maintenance() }, 200),
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/maintenance/end",
    tags: ["Admin"],
    summary: "Leave maintenance mode (after an interrupted export); an interrupted import's progress is dropped",
    security,
    responses: { 200: jsonResponse(z.object({ ended: Maintenance }), "The mode that was ended, or null"), ...standardErrors },
  }),
  async (c) => c.json({ ended: await c.var.services.admin.endMaintenance() }, 200),
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/export/begin",
    tags: ["Admin"],
    summary: "Start an export: the instance turns read-only; answers the tables to export",
    description: "Writes outside /api/v1/admin answer 503 and scheduled jobs pause until POST /admin/export/end.",
    security,
    responses: {
      200: jsonResponse(z.object({ export_id: z.string(), started_at: z.number(), ...Catalog }), "The export and the catalog"),
      409: jsonResponse(ErrorSchema, "Another export or import holds the maintenance mode"),
      ...standardErrors,
    },
  }),
  async (c) => c.json(await c.var.services.admin.beginExport(), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/export/end",
    tags: ["Admin"],
    summary: "End an export: the instance takes writes again",
    security,
    request: { body: jsonBody(z.object({ export_id: ExportId }).strict()) },
    responses: { 200: jsonResponse(z.object({ ended: Maintenance }), "The mode that was ended"), 409: jsonResponse(ErrorSchema, "The mode belongs to another export or import"), ...standardErrors },
  }),
  async (c) => c.json({ ended: await c.var.services.admin.endMaintenance(c.req.valid("json").export_id) }, 200),
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/export/tables/{table}",
    tags: ["Admin"],
    summary: "One page of a table's rows, in storage order",
    security,
    request: {
      params: TableName,
      query: z.object({ after: z.string().max(4096).default("0"), limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(500) }),
    },
    responses: {
      200: jsonResponse(
        z.object({ table: z.string(), columns: z.array(z.string()), rows: z.array(Row), next_after: z.union([z.number().int(), z.string()]).nullable() }),
        "The rows; pass next_after as after for the next page (a rowid, or a JSON array of the primary key for a WITHOUT ROWID table)",
      ),
      ...notFoundError,
      ...standardErrors,
    },
  }),
  async (c) => {
    const { after, limit } = c.req.valid("query");
    return c.json(await c.var.services.admin.tablePage(c.req.valid("param").table, after, limit), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/export/studies/{study_id}",
    tags: ["Admin"],
    summary: "A study's Durable Object storage (trials, intermediate values, sampler state) and alarm",
    security,
    request: { params: StudyId },
    responses: { 200: jsonResponse(Dump, "The dump"), ...notFoundError, ...standardErrors },
  }),
  async (c) => c.json(await c.var.services.admin.dumpStudy(c.req.valid("param").study_id), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/export/pipeline-runs/{run_id}",
    tags: ["Admin"],
    summary: "A pipeline run's Durable Object storage (run state, attempts, logs) and alarm",
    security,
    request: { params: RunId },
    responses: { 200: jsonResponse(Dump, "The dump"), ...notFoundError, ...standardErrors },
  }),
  async (c) => c.json(await c.var.services.admin.dumpPipelineRun(c.req.valid("param").run_id), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/export/objects",
    tags: ["Admin"],
    summary: "One page of the R2 bucket's objects with their metadata",
    security,
    request: { query: z.object({ cursor: z.string().max(1024).optional(), limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(500) }) },
    responses: { 200: jsonResponse(z.object({ objects: z.array(ObjectInfo), cursor: z.string().nullable() }), "The objects; pass cursor for the next page"), ...standardErrors },
  }),
  async (c) => {
    const { cursor, limit } = c.req.valid("query");
    return c.json(await c.var.services.admin.listObjects(cursor, limit), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/export/object",
    tags: ["Admin"],
    summary: "One R2 object's bytes",
    security,
    request: { query: Key },
    responses: {
      200: { description: "The bytes", content: { "application/octet-stream": { schema: z.string().openapi({ type: "string", format: "binary" }) } } },
      ...notFoundError,
      ...standardErrors,
    },
  }),
  async (c) => {
    const o = await c.var.services.admin.object(c.req.valid("query").key);
    return new Response(o.body, { status: 200, headers: { "Content-Type": "application/octet-stream", "Content-Length": String(o.size) } });
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/import/begin",
    tags: ["Admin"],
    summary: "Start or resume importing an export into this (empty) Tern",
    description: "Refused with 409 when the instance holds data. The instance stays read-only to everything but the import until /admin/import/finish.",
    security,
    request: {
      body: jsonBody(
        z
          .object({
            export_id: ExportId,
            format_version: z.number().int(),
            tables: z.array(z.object({ name: z.string().max(64), columns: z.array(z.string().max(64)).max(200) })).max(200),
          })
          .strict(),
      ),
    },
    responses: {
      200: jsonResponse(z.object({ resumed: z.boolean(), progress: z.record(z.string(), z.number()) }), "Rows already imported per table (resumed imports)"),
      409: jsonResponse(ErrorSchema, "The instance holds data, or another export or import is in progress"),
      ...standardErrors,
    },
  }),
  async (c) => c.json(await c.var.services.admin.beginImport(c.req.valid("json")), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/import/tables/{table}",
    tags: ["Admin"],
    summary: "Append a chunk of rows to a table (one transaction)",
    security,
    request: {
      params: TableName,
      body: jsonBody(z.object({ export_id: ExportId, offset: z.number().int().min(0), rows: z.array(Row).min(1).max(5000) }).strict()),
    },
    responses: {
      200: jsonResponse(z.object({ table: z.string(), rows_done: z.number() }), "The table's rows imported so far"),
      409: jsonResponse(ErrorSchema, "No such import in progress, or the chunk does not start where the table stands"),
      ...notFoundError,
      ...standardErrors,
    },
  }),
  async (c) => {
    const { export_id, offset, rows } = c.req.valid("json");
    return c.json(await c.var.services.admin.importRows(export_id, c.req.valid("param").table, offset, rows), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/import/studies/{study_id}",
    tags: ["Admin"],
    summary: "Restore a study's Durable Object from its dump",
    security,
    request: { params: StudyId, body: jsonBody(z.object({ export_id: ExportId, dump: Dump }).strict()) },
    responses: { 200: jsonResponse(RestoreStatus, "Restored"), 409: jsonResponse(ErrorSchema, "No such import in progress"), ...standardErrors },
  }),
  async (c) => {
    const { export_id, dump } = c.req.valid("json");
    return c.json(await c.var.services.admin.importStudy(export_id, c.req.valid("param").study_id, dump), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/import/pipeline-runs/{run_id}",
    tags: ["Admin"],
    summary: "Restore a pipeline run's Durable Object from its dump",
    security,
    request: { params: RunId, body: jsonBody(z.object({ export_id: ExportId, dump: Dump }).strict()) },
    responses: { 200: jsonResponse(RestoreStatus, "Restored"), 409: jsonResponse(ErrorSchema, "No such import in progress"), ...standardErrors },
  }),
  async (c) => {
    const { export_id, dump } = c.req.valid("json");
    return c.json(await c.var.services.admin.importPipelineRun(export_id, c.req.valid("param").run_id, dump), 200);
  },
);

const metadataHeader = (value: string | undefined, name: string): Record<string, string> => {
  if (!value) return {};
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === "string")) return parsed;
  } catch {
    // reported below
  }
  throw invalid(`${name}: a JSON object of strings`);
};

const HTTP_METADATA_FIELDS = ["contentType", "contentLanguage", "contentDisposition", "contentEncoding", "cacheControl"] as const;

adminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/admin/import/object",
    tags: ["Admin"],
    summary: "Write one R2 object (its sha256 verified; a mismatch stores nothing)",
    description: "Headers: X-Tern-Sha256 (required), Content-Length (required), X-Tern-Http-Metadata and X-Tern-Custom-Metadata (JSON objects of strings).",
    security,
    request: {
      query: Key.extend({ export_id: ExportId }),
      body: { required: true, content: { "application/octet-stream": { schema: z.string().openapi({ type: "string", format: "binary" }) } } },
    },
    responses: { 200: jsonResponse(z.object({ key: z.string(), size: z.number() }), "Stored"), 409: jsonResponse(ErrorSchema, "No such import in progress"), ...standardErrors },
  }),
  async (c) => {
    const { key, export_id } = c.req.valid("query");
    const sha256 = c.req.header("x-tern-sha256") ?? "";
    if (!Sha256.safeParse(sha256).success) throw invalid("X-Tern-Sha256: the object's sha256, 64 lowercase hex digits");
    const length = contentLength(c);
    if (length === null) throw invalid("Content-Length is required");
    const http = metadataHeader(c.req.header("x-tern-http-metadata"), "X-Tern-Http-Metadata");
    const httpMetadata: R2HTTPMetadata = {};
    for (const f of HTTP_METADATA_FIELDS) if (http[f] !== undefined) httpMetadata[f] = http[f];
    const custom = metadataHeader(c.req.header("x-tern-custom-metadata"), "X-Tern-Custom-Metadata");
    return c.json(await c.var.services.admin.importObject(export_id, key, c.req.raw.body, length, sha256, httpMetadata, custom), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/import/uploads",
    tags: ["Admin"],
    summary: "Start writing one large R2 object in parts (for objects over one request body's limit)",
    security,
    request: { body: jsonBody(z.object({ export_id: ExportId, key: Key.shape.key, http_metadata: StringMap.default({}), custom_metadata: StringMap.default({}) }).strict()) },
    responses: { 200: jsonResponse(z.object({ upload_id: z.string() }), "The upload"), 409: jsonResponse(ErrorSchema, "No such import in progress"), ...standardErrors },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const httpMetadata: R2HTTPMetadata = {};
    for (const f of HTTP_METADATA_FIELDS) if (b.http_metadata[f] !== undefined) httpMetadata[f] = b.http_metadata[f];
    return c.json(await c.var.services.admin.startObjectUpload(b.export_id, b.key, httpMetadata, b.custom_metadata), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/admin/import/uploads/part",
    tags: ["Admin"],
    summary: "Send one part of a large object (Content-Length required; parts but the last at least 5 MiB and all equal)",
    security,
    request: {
      query: Key.extend({ export_id: ExportId, upload_id: z.string().min(1).max(1024), part_number: z.coerce.number().int().min(1).max(10_000) }),
      body: { required: true, content: { "application/octet-stream": { schema: z.string().openapi({ type: "string", format: "binary" }) } } },
    },
    responses: { 200: jsonResponse(z.object({ part_number: z.number(), etag: z.string() }), "The stored part"), 409: jsonResponse(ErrorSchema, "No such import in progress"), ...standardErrors },
  }),
  async (c) => {
    const { key, export_id, upload_id, part_number } = c.req.valid("query");
    const length = contentLength(c);
    if (length === null) throw invalid("Content-Length is required");
    return c.json(await c.var.services.admin.putObjectPart(export_id, key, upload_id, part_number, c.req.raw.body, length), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/import/uploads/complete",
    tags: ["Admin"],
    summary: "Complete a large object from its parts; it is read back and kept only if it hashes to sha256",
    security,
    request: {
      body: jsonBody(
        z
          .object({
            export_id: ExportId,
            key: Key.shape.key,
            upload_id: z.string().min(1).max(1024),
            sha256: Sha256,
            size: z.number().int().min(0),
            parts: z.array(z.object({ part_number: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) })).min(1).max(10_000),
          })
          .strict(),
      ),
    },
    responses: { 200: jsonResponse(z.object({ key: z.string(), size: z.number() }), "Stored"), 409: jsonResponse(ErrorSchema, "No such import in progress"), ...standardErrors },
  }),
  async (c) => {
    const b = c.req.valid("json");
    return c.json(await c.var.services.admin.completeObjectUpload(b.export_id, b.key, b.upload_id, b.parts, b.sha256, b.size), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/import/finish",
    tags: ["Admin"],
    summary: "Check every table's row count against the export and leave maintenance mode",
    security,
    request: { body: jsonBody(z.object({ export_id: ExportId, tables: z.record(z.string(), z.number().int().min(0)) }).strict()) },
    responses: {
      200: jsonResponse(z.object({ tables: z.record(z.string(), z.number()) }), "Row counts per table"),
      409: jsonResponse(ErrorSchema, "Rows are missing (resume the import), or no such import is in progress"),
      ...standardErrors,
    },
  }),
  async (c) => {
    const { export_id, tables } = c.req.valid("json");
    return c.json(await c.var.services.admin.finishImport(export_id, tables), 200);
  },
);
