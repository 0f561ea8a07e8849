/**
 * The native tracking API under /api/v1: the same experiments and runs as the MLflow routes, shaped for
 * curl and scripts (maps instead of key/value lists, one call to log everything, idempotency keys), and
 * the downsampled metric history that charts use.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../http/router";
import { jsonBody, jsonResponse, notFoundError, standardErrors } from "../http/schemas";
import type { Experiment, Run } from "./model";
import { RUN_STATUSES } from "./model";

const security = [{ bearer: [] }];
const finite = z.number().refine(Number.isFinite, "must be a finite number");
const name250 = z.string().min(1).max(250);

const ExperimentSchema = z
  .object({
    experiment_id: z.string(),
    name: z.string(),
    artifact_location: z.string(),
    lifecycle_stage: z.enum(["active", "deleted"]),
    creation_time: z.number(),
    last_update_time: z.number(),
    tags: z.record(z.string(), z.string()),
  })
  .openapi("Experiment");

const RunSchema = z
  .object({
    run_id: z.string(),
    experiment_id: z.string(),
    name: z.string(),
    status: z.enum(RUN_STATUSES as [string, ...string[]]),
    user_id: z.string(),
    start_time: z.number(),
    end_time: z.number().nullable(),
    artifact_uri: z.string(),
    lifecycle_stage: z.enum(["active", "deleted"]),
    params: z.record(z.string(), z.string()),
    metrics: z.record(z.string(), z.object({ value: z.number().nullable(), step: z.number(), timestamp: z.number() })),
    tags: z.record(z.string(), z.string()),
  })
  .openapi("Run");

const toExperiment = (e: Experiment) => ({
  experiment_id: e.experimentId,
  name: e.name,
  artifact_location: e.artifactLocation,
  lifecycle_stage: e.lifecycleStage,
  creation_time: e.creationTime,
  last_update_time: e.lastUpdateTime,
  tags: Object.fromEntries(e.tags.map((t) => [t.key, t.value])),
});

const toRun = (r: Run) => ({
  run_id: r.info.runId,
  experiment_id: r.info.experimentId,
  name: r.info.runName,
  status: r.info.status,
  user_id: r.info.userId,
  start_time: r.info.startTime,
  end_time: r.info.endTime,
  artifact_uri: r.info.artifactUri,
  lifecycle_stage: r.info.lifecycleStage,
  params: Object.fromEntries(r.data.params.map((p) => [p.key, p.value])),
  // JSON has no NaN: a NaN latest value is null.
  metrics: Object.fromEntries(r.data.metrics.map((m) => [m.key, { value: Number.isNaN(m.value) ? null : m.value, step: m.step, timestamp: m.timestamp }])),
  tags: Object.fromEntries(r.data.tags.map((t) => [t.key, t.value])),
});

const ExperimentId = z.object({ experiment_id: z.string().regex(/^\d{1,15}$/).openapi({ param: { name: "experiment_id", in: "path" } }) });
const RunId = z.object({ run_id: z.string().regex(/^[0-9a-f]{32}$/, "a run id is 32 lowercase hex characters").openapi({ param: { name: "run_id", in: "path" } }) });
const Paging = {
  max_results: z.coerce.number().int().min(1).max(50000).optional(),
  page_token: z.string().max(2000).optional(),
};

export const trackingApiRoutes = createRouter();

trackingApiRoutes.openapi(
  createRoute({
    method: "post",
    path: "/experiments",
    tags: ["Tracking"],
    summary: "Create an experiment",
    security,
    request: { body: jsonBody(z.object({ name: z.string().min(1).max(500), tags: z.record(name250, z.string().max(5000)).optional() }).strict()) },
    responses: { 201: jsonResponse(z.object({ experiment: ExperimentSchema }), "The experiment"), ...standardErrors, 409: jsonResponse(z.object({}), "The name is taken (RESOURCE_ALREADY_EXISTS)") },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const tracking = c.var.services.tracking;
    const id = await tracking.createExperiment({ name: body.name, tags: Object.entries(body.tags ?? {}).map(([key, value]) => ({ key, value })) });
    return c.json({ experiment: toExperiment(await tracking.getExperiment(id)) }, 201);
  },
);

trackingApiRoutes.openapi(
  createRoute({
    method: "get",
    path: "/experiments",
    tags: ["Tracking"],
    summary: "Search experiments with MLflow's filter grammar",
    security,
    request: { query: z.object({ filter: z.string().max(10000).optional(), order_by: z.string().max(500).optional(), view: z.enum(["ACTIVE_ONLY", "DELETED_ONLY", "ALL"]).optional(), ...Paging }) },
    responses: { 200: jsonResponse(z.object({ experiments: z.array(ExperimentSchema), next_page_token: z.string().nullable() }), "A page of experiments"), ...standardErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await c.var.services.tracking.searchExperiments({ filter: q.filter, orderBy: q.order_by ? [q.order_by] : [], maxResults: q.max_results, pageToken: q.page_token, viewType: q.view });
    return c.json({ experiments: page.items.map(toExperiment), next_page_token: page.nextPageToken }, 200);
  },
);

trackingApiRoutes.openapi(
  createRoute({
    method: "get",
    path: "/experiments/{experiment_id}",
    tags: ["Tracking"],
    summary: "Get an experiment",
    security,
    request: { params: ExperimentId },
    responses: { 200: jsonResponse(z.object({ experiment: ExperimentSchema }), "The experiment"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ experiment: toExperiment(await c.var.services.tracking.getExperiment(c.req.valid("param").experiment_id)) }, 200),
);

trackingApiRoutes.openapi(
  createRoute({
    method: "post",
    path: "/runs",
    tags: ["Tracking"],
    summary: "Start a run (in an experiment by id or by name, created when missing)",
    security,
    request: {
      body: jsonBody(
        z
          .object({
            experiment_id: z.string().regex(/^\d{1,15}$/).optional(),
            experiment_name: z.string().min(1).max(500).optional(),
            name: z.string().max(250).optional(),
            start_time: z.number().int().nonnegative().optional(),
            tags: z.record(name250, z.string().max(5000)).optional(),
            params: z.record(name250, z.union([z.string().max(6000), finite, z.boolean()])).optional(),
          })
          .strict(),
      ),
    },
    responses: { 201: jsonResponse(z.object({ run: RunSchema }), "The run, RUNNING"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const run = await c.var.services.runLogger.createRun({ experimentId: b.experiment_id, experimentName: b.experiment_name, name: b.name, startTime: b.start_time, tags: b.tags, params: b.params });
    return c.json({ run: toRun(run) }, 201);
  },
);

trackingApiRoutes.openapi(
  createRoute({
    method: "get",
    path: "/runs/{run_id}",
    tags: ["Tracking"],
    summary: "Get a run with its params, latest metrics and tags",
    security,
    request: { params: RunId },
    responses: { 200: jsonResponse(z.object({ run: RunSchema }), "The run"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ run: toRun(await c.var.services.tracking.getRun(c.req.valid("param").run_id)) }, 200),
);

trackingApiRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/runs/{run_id}",
    tags: ["Tracking"],
    summary: "End or rename a run",
    security,
    request: {
      params: RunId,
      body: jsonBody(
        z
          .object({
            status: z.enum(RUN_STATUSES as [string, ...string[]]).optional(),
            end_time: z.number().int().nonnegative().optional(),
            name: z.string().min(1).max(250).optional(),
          })
          .strict(),
      ),
    },
    responses: { 200: jsonResponse(z.object({ run: RunSchema }), "The updated run"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const { run_id } = c.req.valid("param");
    const b = c.req.valid("json");
    const tracking = c.var.services.tracking;
    const ending = b.status && b.status !== "RUNNING" && b.status !== "SCHEDULED";
    await tracking.updateRun(run_id, { status: b.status as never, endTime: b.end_time ?? (ending ? Date.now() : null), runName: b.name });
    return c.json({ run: toRun(await tracking.getRun(run_id)) }, 200);
  },
);

trackingApiRoutes.openapi(
  createRoute({
    method: "post",
    path: "/runs/{run_id}/log",
    tags: ["Tracking"],
    summary: "Log params, metrics and tags in one all-or-nothing call",
    description:
      "metrics is either a map {key: value} (logged at `step`, now) or a list of {key, value, step?, timestamp?}. " +
      "With an idempotency_key, a retried call is a no-op. MLflow's limits apply (1000 metrics, 100 params, 100 tags).",
    security,
    request: {
      params: RunId,
      body: jsonBody(
        z
          .object({
            params: z.record(name250, z.union([z.string().max(6000), finite, z.boolean()])).optional(),
            metrics: z
              .union([
                z.record(name250, finite),
                z.array(z.object({ key: name250, value: finite, step: z.number().int().optional(), timestamp: z.number().int().nonnegative().optional() }).strict()).max(1000),
              ])
              .optional(),
            step: z.number().int().optional(),
            tags: z.record(name250, z.string().max(5000)).optional(),
            idempotency_key: z.string().min(1).max(200).optional(),
          })
          .strict(),
      ),
    },
    responses: {
      200: jsonResponse(z.object({ logged: z.object({ params: z.number(), metrics: z.number(), tags: z.number() }), replayed: z.boolean() }), "What was logged"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const { run_id } = c.req.valid("param");
    const b = c.req.valid("json");
    const r = await c.var.services.runLogger.log(run_id, { params: b.params, metrics: b.metrics, step: b.step, tags: b.tags, idempotencyKey: b.idempotency_key });
    return c.json({ logged: { params: r.params, metrics: r.metrics, tags: r.tags }, replayed: r.replayed }, 200);
  },
);

trackingApiRoutes.openapi(
  createRoute({
    method: "post",
    path: "/runs/search",
    tags: ["Tracking"],
    summary: "Search runs with MLflow's filter grammar",
    security,
    request: {
      body: jsonBody(
        z
          .object({
            experiment_ids: z.array(z.string().regex(/^\d{1,15}$/)).min(1).max(100),
            filter: z.string().max(10000).optional(),
            order_by: z.array(z.string().max(500)).max(10).optional(),
            view: z.enum(["ACTIVE_ONLY", "DELETED_ONLY", "ALL"]).optional(),
            max_results: z.number().int().min(1).max(50000).optional(),
            page_token: z.string().max(2000).optional(),
          })
          .strict(),
      ),
    },
    responses: { 200: jsonResponse(z.object({ runs: z.array(RunSchema), next_page_token: z.string().nullable() }), "A page of runs"), ...standardErrors },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const page = await c.var.services.tracking.searchRuns({
      experimentIds: b.experiment_ids,
      filter: b.filter,
      orderBy: b.order_by,
      maxResults: b.max_results,
      pageToken: b.page_token,
      viewType: b.view,
    });
    return c.json({ runs: page.items.map(toRun), next_page_token: page.nextPageToken }, 200);
  },
);

const repeatedQuery = (item: z.ZodType<string>) => z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : String(v).split(",")), z.array(item));

const Series = z
  .object({
    run_id: z.string(),
    key: z.string(),
    total: z.number().openapi({ description: "Points in range before downsampling" }),
    x0: z.array(z.number()),
    x1: z.array(z.number()),
    count: z.array(z.number()),
    min: z.array(z.number().nullable()),
    max: z.array(z.number().nullable()),
    last_x: z.array(z.number()),
    last: z.array(z.number().nullable()),
    last_timestamp: z.array(z.number().nullable()).openapi({ description: "Wall time (ms) of each bucket's last point" }),
  })
  .openapi("DownsampledSeries");

const nullIfNaN = (v: number) => (Number.isNaN(v) ? null : v);

trackingApiRoutes.openapi(
  createRoute({
    method: "get",
    path: "/metrics/downsample",
    tags: ["Tracking"],
    summary: "Downsampled metric histories for charts: min, max and last per bucket",
    description:
      "Splits the x range into at most `points` equal buckets per series and returns, per bucket, the x extent, the point count, " +
      "the minimum and maximum (so spikes survive) and the last point; the series' last point is always included.",
    security,
    request: {
      query: z.object({
        run_ids: repeatedQuery(z.string().regex(/^[0-9a-f]{32}$/)).openapi({ type: "array", items: { type: "string" } }),
        keys: repeatedQuery(z.string().min(1).max(250)).openapi({ type: "array", items: { type: "string" } }),
        points: z.coerce.number().int().min(1).max(5000).optional(),
        x: z.enum(["step", "timestamp"]).optional(),
        from: z.coerce.number().int().optional(),
        to: z.coerce.number().int().optional(),
      }),
    },
    responses: { 200: jsonResponse(z.object({ series: z.array(Series) }), "One entry per run and key that has points"), ...standardErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const series = await c.var.services.history.downsample({ runIds: q.run_ids, keys: q.keys, points: q.points, x: q.x, range: { from: q.from ?? null, to: q.to ?? null } });
    return c.json(
      {
        series: series.map((s) => ({
          run_id: s.runId,
          key: s.key,
          total: s.total,
          x0: s.buckets.map((b) => b.x0),
          x1: s.buckets.map((b) => b.x1),
          count: s.buckets.map((b) => b.count),
          min: s.buckets.map((b) => nullIfNaN(b.min)),
          max: s.buckets.map((b) => nullIfNaN(b.max)),
          last_x: s.buckets.map((b) => b.lastX),
          last: s.buckets.map((b) => nullIfNaN(b.last)),
          last_timestamp: s.buckets.map((b) => b.lastTimestamp ?? null),
        })),
      },
      200,
    );
  },
);

/** POSTs of this router that only read. */
export const TRACKING_READ_ONLY_POSTS = [/^\/api\/v1\/runs\/search$/];
