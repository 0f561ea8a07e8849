/**
 * MLflow's artifact routes: the artifact proxy (mlflow_artifacts.proto) served under
 * /api/2.0/mlflow-artifacts, including the part-upload URLs its multipart rpcs hand out; the tracking
 * service's artifacts/list and MLflow 3's logged-model artifact listing; and the web UI's /get-artifact and
 * /model-versions/get-artifact. Bodies stream in and out of R2, so these
 * routes carry no JSON body limit except on the multipart rpcs, whose bodies are JSON.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import type { Download, FileInfo } from "../artifacts/service";
import { limitBody, limitJsonDepth } from "../http/body";
import { invalid } from "../http/errors";
import { attachmentDisposition, guessContentType } from "../lib/artifact-paths";
import { contentRange, rangeLength, unsatisfiedRange } from "../lib/byte-range";
import { handleMlflowError } from "./errors";
import { idString, int64, mlflowInput, repeated } from "./request";

export const ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts";
/** The web UI's copy of the artifact proxy. */
export const AJAX_ARTIFACTS_PREFIX = "/ajax-api/2.0/mlflow-artifacts";

/** 10000 parts listed with their URLs stay well under this. */
const MULTIPART_JSON_LIMIT = 8 * 1024 * 1024;

export const wireFileInfo = (f: FileInfo) => ({ path: f.path, is_dir: f.isDir, file_size: f.fileSize });

/**
 * The artifact path that follows `/mlflow-artifacts/<section>/` in the request URL, percent-decoded
 * once as Flask does (so an encoded slash separates segments too).
 */
function pathAfter(c: Context<AppEnv>, section: string): string {
  const pathname = new URL(c.req.url).pathname;
  const marker = `/mlflow-artifacts/${section}`;
  const at = pathname.indexOf(marker);
  const rest = at < 0 ? "" : pathname.slice(at + marker.length).replace(/^\//, "");
  try {
    return decodeURIComponent(rest);
  } catch {
    throw invalid(`Invalid path '${rest}': malformed percent-encoding`);
  }
}

/** The announced body length: null when the client streams without one. */
function contentLength(c: Context<AppEnv>): number | null {
  const header = c.req.header("content-length");
  if (header === undefined) return null;
  if (!/^\d{1,16}$/.test(header.trim())) throw invalid(`Invalid Content-Length '${header}'`);
  return Number(header.trim());
}

const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

function artifactHeaders(path: string, object: R2Object): Record<string, string> {
  return {
    "Content-Type": guessContentType(path),
    // Downloaded, never rendered on Tern's origin: artifacts are user content.
    "Content-Disposition": attachmentDisposition(path),
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Accept-Ranges": "bytes",
    ETag: object.httpEtag,
    "Last-Modified": object.uploaded.toUTCString(),
  };
}

function artifactResponse(c: Context<AppEnv>, d: Download): Response {
  if (d.kind === "unsatisfiable") {
    return c.json(
      { error_code: "INVALID_PARAMETER_VALUE", message: `The requested range is not satisfiable: the artifact has ${d.size} bytes` },
      416,
      { "Content-Range": unsatisfiedRange(d.size), "Accept-Ranges": "bytes" },
    );
  }
  const headers = artifactHeaders(d.path, d.object);
  if (d.kind === "partial") {
    return new Response(d.object.body, {
      status: 206,
      headers: { ...headers, "Content-Range": contentRange(d.range, d.size), "Content-Length": String(rangeLength(d.range)) },
    });
  }
  return new Response(d.object.body, { status: 200, headers: { ...headers, "Content-Length": String(d.object.size) } });
}

// --- the artifact proxy: /api/2.0/mlflow-artifacts ------------------------------------------------

export const artifactProxyRoutes = new Hono<AppEnv>();

for (const rpc of ["create", "complete", "abort"]) artifactProxyRoutes.use(`/mpu/${rpc}/*`, limitBody(MULTIPART_JSON_LIMIT), limitJsonDepth());

artifactProxyRoutes.get("/artifacts", async (c) => {
  const q = await mlflowInput(c, z.object({ path: z.string().optional() }));
  const files = await c.var.services.artifacts.list(q.path);
  return c.json(files.length ? { files: files.map(wireFileInfo) } : {});
});

artifactProxyRoutes.get("/artifacts/*", async (c) => {
  const path = pathAfter(c, "artifacts");
  // Hono answers HEAD with the GET route; skip reading the body from R2 for it.
  if (c.req.method === "HEAD") {
    const stat = await c.var.services.artifacts.stat(path);
    return new Response(null, { status: 200, headers: { ...artifactHeaders(stat.path, stat.object), "Content-Length": String(stat.object.size) } });
  }
  return artifactResponse(c, await c.var.services.artifacts.download(path, c.req.header("range")));
});

artifactProxyRoutes.put("/artifacts/*", async (c) => {
  await c.var.services.artifacts.upload(pathAfter(c, "artifacts"), c.req.raw.body, contentLength(c));
  return c.json({});
});

artifactProxyRoutes.delete("/artifacts/*", async (c) => {
  await c.var.services.artifacts.delete(pathAfter(c, "artifacts"));
  return c.json({});
});

artifactProxyRoutes.post("/mpu/create/*", async (c) => {
  const q = await mlflowInput(c, z.object({ path: z.string(), num_parts: int64.optional().default(1) }));
  const { path, uploadId } = await c.var.services.artifacts.createMultipartUpload(pathAfter(c, "mpu/create"), q.path, q.num_parts);
  // MLflow's client PUTs each part to its URL with only the headers given here, so the caller's own
  // credentials travel with them; the part URLs are Tern's, behind the same authentication.
  const authorization = c.req.header("authorization");
  const base = `${new URL(c.req.url).origin}${ARTIFACTS_PREFIX}/mpu/upload/${encodePath(path)}?upload_id=${encodeURIComponent(uploadId)}`;
  const credentials = Array.from({ length: q.num_parts }, (_, i) => ({
    url: `${base}&part_number=${i + 1}`,
    part_number: i + 1,
    headers: authorization ? { Authorization: authorization } : undefined,
  }));
  return c.json({ upload_id: uploadId, credentials });
});

artifactProxyRoutes.put("/mpu/upload/*", async (c) => {
  // The body is the part's raw bytes; the upload's identity is in the query string.
  const uploadId = c.req.query("upload_id") ?? "";
  const partNumber = Number(c.req.query("part_number"));
  const length = contentLength(c);
  if (length === null) throw invalid("A part upload needs a Content-Length header");
  const part = await c.var.services.artifacts.uploadPart(pathAfter(c, "mpu/upload"), uploadId, partNumber, c.req.raw.body, length);
  return c.json({}, 200, { ETag: `"${part.etag}"` });
});

const multipartPart = z.object({ part_number: int64, etag: z.string(), url: z.string().optional() });

artifactProxyRoutes.post("/mpu/complete/*", async (c) => {
  const q = await mlflowInput(c, z.object({ path: z.string(), upload_id: z.string(), parts: repeated(multipartPart) }));
  const parts = q.parts.map((p) => ({ partNumber: p.part_number, etag: p.etag }));
  await c.var.services.artifacts.completeMultipartUpload(pathAfter(c, "mpu/complete"), q.path, q.upload_id, parts);
  return c.json({});
});

artifactProxyRoutes.post("/mpu/abort/*", async (c) => {
  const q = await mlflowInput(c, z.object({ path: z.string(), upload_id: z.string() }));
  await c.var.services.artifacts.abortMultipartUpload(pathAfter(c, "mpu/abort"), q.path, q.upload_id);
  return c.json({});
});

// --- a run's artifacts: tracking service and web UI ---------------------------------------------

const runRef = { run_id: idString.optional(), run_uuid: idString.optional() };
const runIdOf = (x: { run_id?: string; run_uuid?: string }) => x.run_id || x.run_uuid || "";

/** Mounted with the tracking routes under /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export const runArtifactRoutes = new Hono<AppEnv>();

runArtifactRoutes.get("/artifacts/list", async (c) => {
  const q = await mlflowInput(c, z.object({ ...runRef, path: z.string().optional(), page_token: z.string().optional() }));
  const run = await c.var.services.tracking.getRun(runIdOf(q));
  const files = await c.var.services.artifacts.listRun(run.info.artifactUri, q.path);
  return c.json({ root_uri: run.info.artifactUri, files: files.length ? files.map(wireFileInfo) : undefined });
});

/** The web UI's artifact download, mounted at the root; it answers errors in MLflow's shape too. */
export const artifactUiRoutes = new Hono<AppEnv>();
artifactUiRoutes.onError(handleMlflowError);

artifactUiRoutes.get("/get-artifact", async (c) => {
  const q = await mlflowInput(c, z.object({ ...runRef, path: z.string() }));
  const run = await c.var.services.tracking.getRun(runIdOf(q));
  return artifactResponse(c, await c.var.services.artifacts.downloadRun(run.info.artifactUri, q.path, c.req.header("range")));
});

/** The web UI's download of a registered model version's files, relative to its download URI. */
artifactUiRoutes.get("/model-versions/get-artifact", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), version: idString, path: z.string() }));
  const uri = await c.var.services.registry.downloadUri(q.name, q.version);
  return artifactResponse(c, await c.var.services.artifacts.downloadRun(uri, q.path, c.req.header("range")));
});

/** MLflow 3's ListLoggedModelArtifacts: one directory level of a logged model's artifacts. */
runArtifactRoutes.get("/logged-models/:model_id/artifacts/directories", async (c) => {
  const q = await mlflowInput(c, z.object({ artifact_directory_path: z.string().optional(), page_token: z.string().optional() }));
  const model = await c.var.services.loggedModels.get(c.req.param("model_id"));
  const files = await c.var.services.artifacts.listRun(model.artifactLocation, q.artifact_directory_path);
  return c.json({ root_uri: model.artifactLocation, files: files.length ? files.map(wireFileInfo) : undefined });
});
