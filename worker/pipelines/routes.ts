/**
 * The pipelines API under /api/v1: pipelines and their versions, runs (trigger, backfill, list, get,
 * clear, mark, cancel, task logs), and the pull-agent endpoints under /agents.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { parseOffsetToken, offsetToken } from "../http/paging";
import { createRouter } from "../http/router";
import { jsonBody, jsonResponse, notFoundError, standardErrors } from "../http/schemas";
import { ATTEMPT_STATES, MAX_ATTEMPTS_KEPT } from "../lib/pipelines/attempts";
import { RUN_STATES, TASK_STATES } from "../lib/pipelines/machine";
import { TASK_ID } from "../lib/pipelines/spec";
import { LineageRefError, parseTaskLinks, type TaskLink } from "../lib/lineage";
import { invalid } from "../http/errors";
import { DEFAULT_LEASE_MS } from "./service";

const security = [{ bearer: [] }];
const RUN_TYPES = ["manual", "scheduled", "backfill", "dataset"] as const;
const conflict = { 409: jsonResponse(z.object({}), "Conflict (RESOURCE_ALREADY_EXISTS, INVALID_STATE)") };
const hexId = (name: string) => z.string().regex(/^[0-9a-f]{32}$/, `a ${name} is 32 lowercase hex characters`);
const PipelineIdParam = z.object({ pipeline_id: hexId("pipeline id").openapi({ param: { name: "pipeline_id", in: "path" } }) });
const RunIdParam = z.object({ run_id: hexId("run id").openapi({ param: { name: "run_id", in: "path" } }) });
const time = z.union([z.number().int().min(0), z.string().min(1).max(40)]).openapi({ description: "Milliseconds since the epoch, or an ISO 8601 date-time (UTC unless it has an offset)" });
const conf = z.record(z.string(), z.unknown()).refine((c) => JSON.stringify(c).length <= 64 * 1024, "conf is limited to 64 KB of JSON");
const specInput = z.union([z.string().min(1).max(512 * 1024), z.record(z.string(), z.unknown())]).openapi({ description: "The DAG spec: a JSON object, or YAML/JSON text" });
const taskIds = z.array(z.string().regex(TASK_ID, "a task id")).min(1).max(1000);

const PipelineRef = z.object({ pipeline_id: z.string(), version: z.number().int() }).openapi("PipelineRef");
const LastRun = z.object({ run_id: z.string(), state: z.enum(RUN_STATES), logical_date: z.number() });
const PipelineSummary = z
  .object({
    pipeline_id: z.string(),
    name: z.string(),
    version: z.number().int(),
    paused: z.boolean(),
    description: z.string().nullable(),
    schedule: z.string().nullable(),
    dataset_triggers: z.array(z.string()).openapi({ description: "Datasets whose every new version starts a run (the spec's `schedule: {datasets: [...]}`)" }),
    timezone: z.string(),
    catchup: z.boolean(),
    next_run_at: z.number().nullable().openapi({ description: "When the next scheduled run will be created (the end of its data interval)" }),
    next_logical_date: z.number().nullable(),
    last_runs: z.array(LastRun),
    created_at: z.number(),
    updated_at: z.number(),
  })
  .openapi("PipelineSummary");
const PipelineDetail = PipelineSummary.extend({ spec: z.object({}).passthrough(), source: z.string() }).openapi("Pipeline");
const RunSummary = z
  .object({
    run_id: z.string(),
    pipeline_id: z.string(),
    version: z.number().int(),
    run_type: z.enum(RUN_TYPES),
    state: z.enum(RUN_STATES),
    logical_date: z.number(),
    data_interval_start: z.number(),
    data_interval_end: z.number(),
    conf: z.record(z.string(), z.unknown()),
    created_at: z.number(),
    started_at: z.number().nullable(),
    ended_at: z.number().nullable(),
  })
  .openapi("PipelineRunSummary");
const AttemptRecord = z
  .object({
    try_number: z.number().int(),
    state: z.enum(ATTEMPT_STATES).openapi({ description: "The state the try is in, or ended in" }),
    queued_at: z.number().nullable(),
    started_at: z.number().nullable(),
    ended_at: z.number().nullable(),
    duration_ms: z.number().nullable(),
    agent_id: z.string().nullable().openapi({ description: "The agent that ran it (agent tasks)" }),
    error: z.string().nullable().openapi({ description: "Why it failed, e.g. an agent command's exit status" }),
  })
  .openapi("TaskAttempt");
const TaskInstance = z
  .object({
    task_id: z.string(),
    kind: z.string(),
    state: z.enum(TASK_STATES),
    try_number: z.number().int(),
    max_tries: z.number().int(),
    queued_at: z.number().nullable(),
    started_at: z.number().nullable(),
    ended_at: z.number().nullable(),
    output: z.unknown(),
    error: z.string().nullable(),
    retry_at: z.number().nullable(),
    agent_id: z.string().nullable(),
    attempts: z.array(AttemptRecord).openapi({ description: `Every recorded try, newest first (the last ${MAX_ATTEMPTS_KEPT} are kept); clearing keeps them` }),
  })
  .openapi("TaskInstance");
const RunDetail = z
  .object({
    run_id: z.string(),
    pipeline_id: z.string(),
    version: z.number().int(),
    run_type: z.enum(RUN_TYPES),
    state: z.enum(RUN_STATES),
    logical_date: z.number(),
    data_interval_start: z.number(),
    data_interval_end: z.number(),
    conf: z.record(z.string(), z.unknown()),
    started_at: z.number().nullable(),
    ended_at: z.number().nullable(),
    tasks: z.array(TaskInstance),
  })
  .openapi("PipelineRun");
const ClaimedTask = z
  .object({
    run_id: z.string(),
    pipeline_id: z.string(),
    task_id: z.string(),
    try_number: z.number().int(),
    command: z.string(),
    env: z.record(z.string(), z.string()),
    lease_expires_at: z.number(),
  })
  .openapi("ClaimedTask");
const Attempt = {
  run_id: hexId("run id"),
  task_id: z.string().regex(TASK_ID, "a task id"),
  try_number: z.number().int().min(1),
  agent_id: z.string().min(1).max(200),
};
const leaseSeconds = z.number().int().min(5).max(3600).optional().openapi({ description: `Lease length; default ${DEFAULT_LEASE_MS / 1000} s` });

const origin = (url: string) => new URL(url).origin;

export const pipelineRoutes = createRouter();

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/pipelines",
    tags: ["Pipelines"],
    summary: "Create a pipeline from a DAG spec (JSON or YAML); it starts at version 1",
    security,
    request: { body: jsonBody(z.object({ name: z.string().trim().min(1).max(200), spec: specInput }).strict()) },
    responses: { 201: jsonResponse(PipelineRef, "The new pipeline"), ...standardErrors, ...conflict },
  }),
  async (c) => c.json(await c.var.services.pipelines.create(c.req.valid("json"), origin(c.req.url)), 201),
);

pipelineRoutes.openapi(
  createRoute({
    method: "get",
    path: "/pipelines",
    tags: ["Pipelines"],
    summary: "List pipelines with their next run time and last run states",
    security,
    responses: { 200: jsonResponse(z.object({ pipelines: z.array(PipelineSummary) }), "Every pipeline, by name"), ...standardErrors },
  }),
  async (c) => c.json({ pipelines: await c.var.services.pipelines.list() }, 200),
);

pipelineRoutes.openapi(
  createRoute({
    method: "get",
    path: "/pipelines/{pipeline_id}",
    tags: ["Pipelines"],
    summary: "Get a pipeline: its latest spec, next run time and last runs",
    security,
    request: { params: PipelineIdParam },
    responses: { 200: jsonResponse(z.object({ pipeline: PipelineDetail }), "The pipeline"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ pipeline: await c.var.services.pipelines.get(c.req.valid("param").pipeline_id) }, 200),
);

pipelineRoutes.openapi(
  createRoute({
    method: "get",
    path: "/pipelines/{pipeline_id}/versions/{version}",
    tags: ["Pipelines"],
    summary: "Get one version of a pipeline's spec (the one its runs of that version ran)",
    security,
    request: { params: PipelineIdParam.extend({ version: z.coerce.number().int().min(1).openapi({ param: { name: "version", in: "path" } }) }) },
    responses: {
      200: jsonResponse(z.object({ pipeline_id: z.string(), version: z.number().int(), created_at: z.number(), spec: z.object({}).passthrough(), source: z.string() }).openapi("PipelineVersion"), "The version"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const { pipeline_id, version } = c.req.valid("param");
    return c.json(await c.var.services.pipelines.getVersion(pipeline_id, version), 200);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "put",
    path: "/pipelines/{pipeline_id}",
    tags: ["Pipelines"],
    summary: "Replace a pipeline's spec: a new version (runs keep the version they ran)",
    security,
    request: { params: PipelineIdParam, body: jsonBody(z.object({ spec: specInput }).strict()) },
    responses: { 200: jsonResponse(PipelineRef, "The new version"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => c.json(await c.var.services.pipelines.update(c.req.valid("param").pipeline_id, c.req.valid("json").spec), 200),
);

pipelineRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/pipelines/{pipeline_id}",
    tags: ["Pipelines"],
    summary: "Delete a pipeline, its versions and its runs (running runs are cancelled first)",
    security,
    request: { params: PipelineIdParam },
    responses: { 200: jsonResponse(z.object({ pipeline_id: z.string(), deleted: z.literal(true) }), "Deleted"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const id = c.req.valid("param").pipeline_id;
    await c.var.services.pipelines.delete(id);
    return c.json({ pipeline_id: id, deleted: true as const }, 200);
  },
);

for (const [action, paused] of [
  ["pause", true],
  ["unpause", false],
] as const) {
  pipelineRoutes.openapi(
    createRoute({
      method: "post",
      path: `/pipelines/{pipeline_id}/${action}`,
      tags: ["Pipelines"],
      summary: paused ? "Pause: no new scheduled runs, queued runs wait" : "Unpause: scheduling resumes and queued runs may start",
      security,
      request: { params: PipelineIdParam },
      responses: { 200: jsonResponse(z.object({ pipeline: PipelineDetail }), "The pipeline"), ...standardErrors, ...notFoundError },
    }),
    async (c) => c.json({ pipeline: await c.var.services.pipelines.setPaused(c.req.valid("param").pipeline_id, paused) }, 200),
  );
}

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/pipelines/{pipeline_id}/runs",
    tags: ["Pipelines"],
    summary: "Trigger a run, with conf (templated as params/conf) and optionally a logical date",
    security,
    request: { params: PipelineIdParam, body: { required: false, content: { "application/json": { schema: z.object({ conf: conf.optional(), logical_date: time.optional() }).strict() } } } },
    responses: { 201: jsonResponse(z.object({ run_id: z.string() }), "The run"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const body = (c.req.valid("json") as { conf?: Record<string, unknown>; logical_date?: number | string } | undefined) ?? {};
    return c.json(await c.var.services.pipelines.trigger(c.req.valid("param").pipeline_id, body, origin(c.req.url)), 201);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "get",
    path: "/pipelines/{pipeline_id}/runs",
    tags: ["Pipelines"],
    summary: "List a pipeline's runs, newest logical date first",
    security,
    request: { params: PipelineIdParam, query: z.object({ max_results: z.coerce.number().int().min(1).max(1000).optional(), page_token: z.string().max(200).optional() }) },
    responses: { 200: jsonResponse(z.object({ runs: z.array(RunSummary), next_page_token: z.string().nullable() }), "A page of runs"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await c.var.services.pipelines.listRuns(c.req.valid("param").pipeline_id, q.max_results ?? 100, parseOffsetToken(q.page_token));
    return c.json({ runs: page.runs, next_page_token: page.next_offset === null ? null : offsetToken(page.next_offset) }, 200);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/pipelines/{pipeline_id}/backfill",
    tags: ["Pipelines"],
    summary: "Create the runs for every scheduled logical date in [start, end] (existing ones are kept)",
    security,
    request: { params: PipelineIdParam, body: jsonBody(z.object({ start: time, end: time, conf: conf.optional() }).strict()) },
    responses: {
      201: jsonResponse(z.object({ run_ids: z.array(z.string()), logical_dates: z.array(z.number()), existing: z.number().int() }), "The runs created"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(await c.var.services.pipelines.backfill(c.req.valid("param").pipeline_id, c.req.valid("json"), origin(c.req.url)), 201),
);

pipelineRoutes.openapi(
  createRoute({
    method: "get",
    path: "/pipeline-runs/{run_id}",
    tags: ["Pipelines"],
    summary: "Get a run with the state, try number, timing and output of each task",
    security,
    request: { params: RunIdParam },
    responses: { 200: jsonResponse(RunDetail, "The run"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json(await c.var.services.pipelines.getRun(c.req.valid("param").run_id), 200),
);

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/pipeline-runs/{run_id}/clear",
    tags: ["Pipelines"],
    summary: "Clear tasks (and optionally everything downstream) so they run again",
    security,
    request: { params: RunIdParam, body: jsonBody(z.object({ task_ids: taskIds, downstream: z.boolean().default(false) }).strict()) },
    responses: { 200: jsonResponse(RunDetail, "The run after clearing"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const b = c.req.valid("json");
    return c.json(await c.var.services.pipelines.clear(c.req.valid("param").run_id, b.task_ids, b.downstream), 200);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/pipeline-runs/{run_id}/mark",
    tags: ["Pipelines"],
    summary: "Mark tasks success or failed (a running attempt is stopped)",
    security,
    request: { params: RunIdParam, body: jsonBody(z.object({ task_ids: taskIds, state: z.enum(["success", "failed"]) }).strict()) },
    responses: { 200: jsonResponse(RunDetail, "The run after marking"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const b = c.req.valid("json");
    return c.json(await c.var.services.pipelines.mark(c.req.valid("param").run_id, b.task_ids, b.state), 200);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/pipeline-runs/{run_id}/cancel",
    tags: ["Pipelines"],
    summary: "Cancel a run: running tasks fail, waiting ones are skipped, the run fails",
    security,
    request: { params: RunIdParam },
    responses: { 200: jsonResponse(RunDetail, "The cancelled run"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => c.json(await c.var.services.pipelines.cancel(c.req.valid("param").run_id), 200),
);

pipelineRoutes.openapi(
  createRoute({
    method: "get",
    path: "/pipeline-runs/{run_id}/tasks/{task_id}/logs",
    tags: ["Pipelines"],
    summary: "The log of one attempt of a task (live while it runs)",
    security,
    request: {
      params: RunIdParam.extend({ task_id: z.string().regex(TASK_ID, "a task id").openapi({ param: { name: "task_id", in: "path" } }) }),
      query: z.object({ try_number: z.coerce.number().int().min(1).default(1) }),
    },
    responses: { 200: jsonResponse(z.object({ run_id: z.string(), task_id: z.string(), try_number: z.number().int(), text: z.string(), live: z.boolean() }), "The log"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const { run_id, task_id } = c.req.valid("param");
    const { try_number } = c.req.valid("query");
    const log = await c.var.services.pipelines.taskLog(run_id, task_id, try_number);
    return c.json({ run_id, task_id, try_number, ...log }, 200);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "get",
    path: "/pipeline-runs/{run_id}/tasks/{task_id}/attempts",
    tags: ["Pipelines"],
    summary: "Every try of a task: state it ended in, times, duration, agent and error (newest first)",
    security,
    request: { params: RunIdParam.extend({ task_id: z.string().regex(TASK_ID, "a task id").openapi({ param: { name: "task_id", in: "path" } }) }) },
    responses: { 200: jsonResponse(z.object({ run_id: z.string(), task_id: z.string(), attempts: z.array(AttemptRecord) }), "The tries"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const { run_id, task_id } = c.req.valid("param");
    return c.json({ run_id, task_id, attempts: await c.var.services.pipelines.taskAttempts(run_id, task_id) }, 200);
  },
);

/** A lineage object a task touched: "kind:key" as the lineage endpoint names it, and how. */
const TaskLink = z
  .object({
    object: z.string().min(3).max(600).openapi({ description: "dataset_version:<id>, model_version:<name>/<version> or run:<run id>" }),
    edge: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "an edge name is 1-64 lowercase letters, digits or '_'").optional(),
  })
  .strict();

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/pipeline-runs/{run_id}/tasks/{task_id}/lineage",
    tags: ["Pipelines"],
    summary: "Record what a task read (inputs) and made (outputs) for the lineage graph, e.g. from an agent task",
    security,
    request: {
      params: RunIdParam.extend({ task_id: z.string().regex(TASK_ID, "a task id").openapi({ param: { name: "task_id", in: "path" } }) }),
      body: jsonBody(z.object({ inputs: z.array(TaskLink).max(100).default([]), outputs: z.array(TaskLink).max(100).default([]) }).strict()),
    },
    responses: { 200: jsonResponse(z.object({ run_id: z.string(), task_id: z.string(), recorded: z.number().int() }), "The links recorded"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const { run_id, task_id } = c.req.valid("param");
    const b = c.req.valid("json");
    let links: TaskLink[];
    try {
      links = parseTaskLinks(b.inputs, b.outputs);
    } catch (err) {
      if (err instanceof LineageRefError) throw invalid(err.message);
      throw err;
    }
    for (const l of links) await c.var.services.lineage.checkExists(l.ref);
    const recorded = await c.var.services.pipelines.recordTaskLineage(
      run_id,
      task_id,
      links.map((l) => ({ nodeKind: l.ref.kind, nodeKey: l.ref.key, edge: l.edge, direction: l.direction })),
    );
    return c.json({ run_id, task_id, recorded }, 200);
  },
);

// ---- pull agents ---------------------------------------------------------------------------

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agents/claim",
    tags: ["Agents"],
    summary: "Claim the oldest queued agent task of a queue, with a lease; task is null when there is none",
    security,
    request: { body: jsonBody(z.object({ queue: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a queue name"), agent_id: Attempt.agent_id, lease_seconds: leaseSeconds }).strict()) },
    responses: { 200: jsonResponse(z.object({ task: ClaimedTask.nullable() }), "The claimed task, or null"), ...standardErrors },
  }),
  async (c) => {
    const b = c.req.valid("json");
    return c.json({ task: await c.var.services.pipelines.claim(b.queue, b.agent_id, (b.lease_seconds ?? DEFAULT_LEASE_MS / 1000) * 1000) }, 200);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agents/heartbeat",
    tags: ["Agents"],
    summary: "Extend a claimed attempt's lease; keep_running false means stop the command",
    security,
    request: { body: jsonBody(z.object({ ...Attempt, lease_seconds: leaseSeconds }).strict()) },
    responses: {
      200: jsonResponse(z.object({ keep_running: z.boolean(), state: z.string().nullable(), lease_expires_at: z.number().nullable() }), "Whether to go on"),
      ...standardErrors,
      ...notFoundError,
      ...conflict,
    },
  }),
  async (c) => {
    const b = c.req.valid("json");
    return c.json(await c.var.services.pipelines.heartbeat(b.run_id, b.task_id, b.try_number, b.agent_id, (b.lease_seconds ?? DEFAULT_LEASE_MS / 1000) * 1000), 200);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agents/logs",
    tags: ["Agents"],
    summary: "Append a chunk of an attempt's stdout/stderr (stored per attempt in R2)",
    security,
    request: { body: jsonBody(z.object({ ...Attempt, text: z.string().max(512 * 1024) }).strict()) },
    responses: { 200: jsonResponse(z.object({ ok: z.literal(true) }), "Stored"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const b = c.req.valid("json");
    await c.var.services.pipelines.appendLog(b.run_id, b.task_id, b.try_number, b.text);
    return c.json({ ok: true as const }, 200);
  },
);

pipelineRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agents/complete",
    tags: ["Agents"],
    summary: "Report an attempt's exit status (0 = success) and optional JSON output",
    security,
    request: {
      body: jsonBody(
        z
          .object({
            ...Attempt,
            exit_code: z.number().int(),
            output: z.unknown().optional().refine((v) => v === undefined || JSON.stringify(v).length <= 64 * 1024, "limited to 64 KB of JSON"),
          })
          .strict(),
      ),
    },
    responses: { 200: jsonResponse(z.object({ accepted: z.boolean(), state: z.string().nullable() }), "Whether the result counted"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const b = c.req.valid("json");
    return c.json(await c.var.services.pipelines.complete(b.run_id, b.task_id, b.try_number, b.agent_id, b.exit_code, b.output ?? null), 200);
  },
);
