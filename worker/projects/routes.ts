/**
 * Project runs over HTTP: submit a recorded run to an agent queue, reproduce a run, and compare a run
 * with its reproductions (or with any other run).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../http/router";
import { jsonBody, jsonResponse, notFoundError, standardErrors } from "../http/schemas";
import { DEFAULT_QUEUE } from "./service";

const security = [{ bearer: [] }];
const runId = z.string().regex(/^[0-9a-f]{32}$/, "a run id is 32 lowercase hex characters");
const RunId = z.object({ run_id: runId.openapi({ param: { name: "run_id", in: "path" } }) });
const queue = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a queue name is 1-64 letters, digits, '_', '.' or '-'");
const conflict = { 409: jsonResponse(z.object({}), "The run is in the wrong state (INVALID_STATE)") };
const origin = (url: string) => new URL(url).origin;

const Submitted = z
  .object({ run_id: z.string(), pipeline_id: z.string(), pipeline_run_id: z.string(), queue: z.string() })
  .openapi("SubmittedProjectRun");

const ValueRow = z.object({ key: z.string(), original: z.string().nullable(), reproduction: z.string().nullable(), equal: z.boolean() });
const MetricRow = z.object({
  key: z.string(),
  original: z.number().nullable(),
  reproduction: z.number().nullable(),
  difference: z.number().nullable(),
  relative_difference: z.number().nullable(),
  equal: z.boolean(),
});
const ArtifactSide = z.object({ size: z.number(), hash: z.string() }).nullable();
const RunComparison = z
  .object({
    original: z.object({ run_id: z.string(), status: z.string() }),
    reproduction: z.object({ run_id: z.string(), status: z.string() }),
    reproduced: z.boolean().openapi({ description: "Params and data versions are equal" }),
    params: z.object({ equal: z.boolean(), rows: z.array(ValueRow) }),
    data: z.object({ equal: z.boolean(), rows: z.array(ValueRow) }),
    metrics: z.object({ equal: z.boolean(), rows: z.array(MetricRow) }),
    artifacts: z.object({ equal: z.boolean(), compared: z.number(), differing: z.array(z.object({ path: z.string(), original: ArtifactSide, reproduction: ArtifactSide })), truncated: z.boolean() }),
  })
  .openapi("RunComparison");

export const projectRoutes = createRouter();

projectRoutes.openapi(
  createRoute({
    method: "post",
    path: "/runs/{run_id}/reproduce",
    tags: ["Projects"],
    summary: "Reproduce a project run on an agent: same commit (and recorded diff), data versions, entry point and params",
    description:
      "Records a new SCHEDULED run in the same experiment, tagged tern.reproduction_of, and starts a one-task run of the pipeline " +
      "`tern-runs-<queue>` whose agent task is `tern run --execute <new run id>`. 400 when the run was not recorded by `tern run` " +
      "from a git repository with a remote; 409 while it is still running or when it ran on a dirty tree without a recorded diff.",
    security,
    request: { params: RunId, body: jsonBody(z.object({ queue: queue.optional() }).strict()) },
    responses: { 201: jsonResponse(Submitted, "The reproduction run and the pipeline run that executes it"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const body = c.req.valid("json");
    return c.json(await c.var.services.projectRuns.reproduce(c.req.valid("param").run_id, body.queue ?? DEFAULT_QUEUE, origin(c.req.url)), 201);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "post",
    path: "/runs/{run_id}/submit",
    tags: ["Projects"],
    summary: "Hand a SCHEDULED project run (from `tern run --remote`) to an agent queue",
    security,
    request: { params: RunId, body: jsonBody(z.object({ queue }).strict()) },
    responses: { 201: jsonResponse(Submitted, "The pipeline run that executes it"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => c.json(await c.var.services.projectRuns.submit(c.req.valid("param").run_id, c.req.valid("json").queue, origin(c.req.url)), 201),
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/runs/{run_id}/reproductions",
    tags: ["Projects"],
    summary: "The reproductions of a run, newest first, each compared with it",
    security,
    request: { params: RunId },
    responses: {
      200: jsonResponse(
        z.object({
          reproductions: z.array(
            z.object({ run_id: z.string(), name: z.string(), status: z.string(), start_time: z.number(), pipeline_run_id: z.string().nullable(), comparison: RunComparison }),
          ),
        }),
        "The reproductions",
      ),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json({ reproductions: await c.var.services.projectRuns.reproductions(c.req.valid("param").run_id) }, 200),
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/runs/{run_id}/comparison",
    tags: ["Projects"],
    summary: "Compare a run with another (its reproduction): params, data versions, metrics, artifact hashes",
    security,
    request: { params: RunId, query: z.object({ with: runId }) },
    responses: { 200: jsonResponse(RunComparison, "The comparison"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json(await c.var.services.projectRuns.compare(c.req.valid("param").run_id, c.req.valid("query").with), 200),
);
