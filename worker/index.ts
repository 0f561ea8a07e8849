/**
 * Tern's Worker: composition only. Builds the Hono app from the pillar routers, wires the
 * cross-cutting middleware, and exports fetch, scheduled and the Durable Object classes.
 * The SvelteKit app is served as static assets; only the paths in wrangler.toml's
 * run_worker_first reach this code.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { except } from "hono/combine";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import type { AppEnv, WorkerBindings } from "./env";
import { authenticate, authorize } from "./http/auth";
import { limitBody, limitJsonDepth, requireJsonBody } from "./http/body";
import { ApiError, handleError } from "./http/errors";
import { validationHook } from "./http/router";
import { buildServices } from "./services";
import { authRoutes } from "./auth/routes";
import { handleMlflowError, isMlflowPath } from "./mlflow/errors";
import { MLFLOW_READ_ONLY_POSTS, mlflowRoutes } from "./mlflow/routes";
import { AJAX_ARTIFACTS_PREFIX, ARTIFACTS_PREFIX, artifactProxyRoutes, artifactUiRoutes } from "./mlflow/artifact-routes";
import { otlpRoutes, traceV3Routes } from "./mlflow/trace-routes";
import { systemRoutes } from "./system/routes";
import { metricsRoutes, monitoringRoutes } from "./monitoring/routes";
import { monitoringJob } from "./monitoring/jobs";
import { TRACKING_READ_ONLY_POSTS, trackingApiRoutes } from "./tracking/routes";
import { TUNING_READ_ONLY_POSTS, tuningRoutes } from "./tuning/routes";
import { pipelineRoutes } from "./pipelines/routes";
import { projectRoutes } from "./projects/routes";
import { schedulePipelines } from "./pipelines/jobs";
import { DATASETS_COMMIT_JSON_LIMIT, DATASETS_OWN_BODY_PATHS, DATASETS_RAW_BODY_PATHS, DATASETS_READ_ONLY_POSTS, datasetRoutes } from "./datasets/routes";
import { DVC_PREFIX, dvcRoutes } from "./datasets/dvc-routes";
import { sweepAbandonedUploads } from "./datasets/jobs";
import { recordTick, sweepIdempotencyKeys } from "./system/jobs";
import { idempotency } from "./http/idempotency";
import { dispatchScheduled, type JobRegistry } from "./system/scheduler";
import { VERSION } from "./system/service";
import { ADMIN_OWN_BODY_PATHS, adminRoutes } from "./admin/routes";
import { maintenanceGate } from "./http/maintenance";

export { RateLimiterObject } from "./auth/rate-limiter-object";
export { StudyObject } from "./tuning/study-object";
export { PipelineRunObject } from "./pipelines/pipeline-run-object";

const API_V1 = "/api/v1";
/** A full log-batch (1000 metrics) is about 150 KB; leave room for long tag values. */
const MLFLOW_JSON_LIMIT = 4 * 1024 * 1024;
/** The MLflow server version Tern answers as, for the client's feature checks. */
const MLFLOW_SERVER_VERSION = "3.4.0";
// /health is MLflow's liveness probe, public there too; MLflow's /version needs read like the rest.
const PUBLIC_PATHS = new Set([`${API_V1}/health`, `${API_V1}/openapi.json`, `${API_V1}/docs`, "/health"]);

const READ_ONLY_POSTS = [
  ...MLFLOW_READ_ONLY_POSTS,
  ...TRACKING_READ_ONLY_POSTS,
  ...TUNING_READ_ONLY_POSTS,
  ...DATASETS_READ_ONLY_POSTS,
];
/** Routes that stream raw bodies or take large JSON guard their bodies themselves. */
const OWN_BODY_PATHS = [...DATASETS_OWN_BODY_PATHS, ...ADMIN_OWN_BODY_PATHS];

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

app.use("*", requestId({ headerName: "X-Request-Id" }));
app.use("*", async (c, next) => {
  c.set("services", buildServices(c.env));
  await next();
});
app.use(
  "*",
  cors({
    origin: "*",
    allowHeaders: ["Authorization", "Content-Type", "X-Request-Id", "Range", "Idempotency-Key"],
    allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    exposeHeaders: ["X-Request-Id", "Retry-After", "Content-Length", "ETag", "Content-Range", "Accept-Ranges", "Idempotent-Replayed"],
    maxAge: 86400,
  }),
);
app.use("*", async (c, next) => (PUBLIC_PATHS.has(c.req.path) ? next() : authenticate()(c, next)));
app.use("*", async (c, next) => (PUBLIC_PATHS.has(c.req.path) ? next() : authorize(READ_ONLY_POSTS)(c, next)));
app.use("*", maintenanceGate(READ_ONLY_POSTS));
app.use(`${API_V1}/*`, except((c) => OWN_BODY_PATHS.some((r) => r.test(c.req.path)), limitBody(), requireJsonBody(), limitJsonDepth()));
// Idempotency-Key on native writes. Raw uploads stream (and are content-addressed, so a retry is
// harmless); backup imports are resumable chunks checked on their own; read-only POSTs change nothing;
// a new token's secret is never stored for a replay.
app.use(
  `${API_V1}/*`,
  idempotency({
    skip: (c) => [...DATASETS_RAW_BODY_PATHS, ...ADMIN_OWN_BODY_PATHS, ...READ_ONLY_POSTS].some((r) => r.test(c.req.path)),
    secretResponses: [/^\/api\/v1\/tokens$/],
    maxBody: DATASETS_COMMIT_JSON_LIMIT,
  }),
);

app.route(API_V1, systemRoutes);
app.route(API_V1, authRoutes);
app.route(API_V1, trackingApiRoutes);
app.route(API_V1, monitoringRoutes);
app.route("/", metricsRoutes);
app.route(API_V1, tuningRoutes);
app.route(API_V1, pipelineRoutes);
app.route(API_V1, datasetRoutes);
app.route(API_V1, projectRoutes);
app.route(DVC_PREFIX, dvcRoutes);
app.route(API_V1, adminRoutes);

// MLflow REST API 2.0 (the web UI's copy lives under /ajax-api).
for (const prefix of ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"]) {
  app.use(`${prefix}/*`, limitBody(MLFLOW_JSON_LIMIT), limitJsonDepth());
  app.route(prefix, mlflowRoutes);
}
// MLflow REST API 3.0 (tracing) and OTLP/HTTP span ingest, where MLflow 3 clients send spans.
for (const prefix of ["/api/3.0/mlflow", "/ajax-api/3.0/mlflow"]) {
  app.use(`${prefix}/*`, limitBody(MLFLOW_JSON_LIMIT), limitJsonDepth());
  app.route(prefix, traceV3Routes);
}
app.route("/v1", otlpRoutes);
// MLflow's artifact proxy and the UI's /get-artifact: raw bodies stream to and from R2, so no JSON limit.
for (const prefix of [ARTIFACTS_PREFIX, AJAX_ARTIFACTS_PREFIX]) app.route(prefix, artifactProxyRoutes);
app.route("/", artifactUiRoutes);
// MLflow's plain-text server routes, which MLflow 3 clients call.
app.get("/health", (c) => c.text("OK"));
// MLflow clients read /version only to gate features: 3.4 is the first whose span logging
// (POST /v1/traces) they use; below it they upload spans as artifacts instead.
app.get("/version", (c) => c.text(MLFLOW_SERVER_VERSION));

app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
  type: "http",
  scheme: "bearer",
  description: "An API token (`tern_...`) from Settings → API tokens or POST /api/v1/tokens",
});
app.doc(`${API_V1}/openapi.json`, {
  openapi: "3.0.3",
  info: {
    title: "Tern API",
    version: VERSION,
    description:
      "Tern's native JSON API. Errors have the shape {\"error\":{\"code\",\"message\",\"request_id\"}}; every response carries X-Request-Id. " +
      "Writes (POST, PUT, PATCH, DELETE) take an optional Idempotency-Key header (1-255 printable ASCII characters, per token): a retry with the " +
      "same key, method, path and body gets the first answer back with Idempotent-Replayed: true and changes nothing; the same key on another " +
      "request is a 400, a retry while the first still runs a 409 with Retry-After. Answers below 500 are kept 24 hours; a 5xx frees the key.",
  },
  servers: [{ url: "/" }],
});
app.get(`${API_V1}/docs`, (c) => c.redirect("/api-reference", 302));

app.notFound((c) => {
  throw new ApiError("ENDPOINT_NOT_FOUND", `No endpoint ${c.req.method} ${c.req.path}`);
});
app.onError((err, c) => (isMlflowPath(c.req.path) ? handleMlflowError(err, c) : handleError(err, c)));

/** cron expression (as in wrangler.toml [triggers]) → jobs; pillars add theirs here. */
export const jobs: JobRegistry = {
  "* * * * *": [recordTick, monitoringJob, schedulePipelines, sweepAbandonedUploads, sweepIdempotencyKeys],
};

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // Scheduled jobs write; they wait while an export or import holds the instance read-only.
    if (await buildServices(env).admin.maintenance()) return;
    await dispatchScheduled(jobs, controller, env, ctx);
  },
} satisfies ExportedHandler<WorkerBindings>;
