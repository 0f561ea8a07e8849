/**
 * The tuning API under /api/v1: studies and their trials, Optuna's ask-and-tell over HTTP (ask with a
 * search space or define-by-run suggest, report with the pruner's verdict, tell, heartbeat, enqueue),
 * best trials and the listing of studies.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../http/router";
import { jsonBody, jsonResponse, notFoundError, standardErrors } from "../http/schemas";
import { TRIAL_STATES, type TrialState } from "../lib/tuning/distributions";
import { invalid } from "../http/errors";

const security = [{ bearer: [] }];
const tags = ["Tuning"];
const conflict = { 409: jsonResponse(z.object({}), "Not allowed in the trial's or study's current state (INVALID_STATE, RESOURCE_ALREADY_EXISTS)") };

const Json: z.ZodType<unknown> = z.unknown();
const Attrs = z.record(z.string().min(1).max(250), Json);
const ParamValue = z.union([z.null(), z.boolean(), z.number(), z.string().max(6000)]);
/** A told number: JSON has no NaN or infinity, so null or "NaN", "inf", "-inf" stand for them. */
const WireNumber = z.union([z.number(), z.null(), z.string().max(16)]).openapi({ description: 'A number; null or "NaN" for NaN, "inf"/"-inf" for infinities' });
const DistributionSchema = z
  .record(z.string(), Json)
  .openapi("Distribution", {
    description: '{"type":"float","low","high","log"?,"step"?} | {"type":"int","low","high","log"?,"step"?} | {"type":"categorical","choices":[...]}',
    example: { type: "float", low: 1e-5, high: 1e-1, log: true },
  });

const TrialSchema = z
  .object({
    number: z.number().int(),
    state: z.enum(TRIAL_STATES as [TrialState, ...TrialState[]]),
    params: z.record(z.string(), ParamValue),
    distributions: z.record(z.string(), DistributionSchema),
    values: z.array(z.number()).nullable(),
    intermediate_values: z.array(z.object({ step: z.number().int(), value: z.number().nullable() })),
    user_attrs: z.record(z.string(), Json),
    constraints: z.array(z.number()).nullable(),
    start_time: z.number().nullable(),
    complete_time: z.number().nullable(),
    last_heartbeat_time: z.number().nullable(),
    run_id: z.string().nullable(),
  })
  .openapi("Trial");

const StudySchema = z
  .object({
    study_id: z.string(),
    name: z.string(),
    directions: z.array(z.enum(["minimize", "maximize"])),
    sampler: z.record(z.string(), Json),
    pruner: z.record(z.string(), Json).nullable(),
    heartbeat_interval: z.number().nullable(),
    grace_period: z.number().nullable(),
    failed_trial_max_retry: z.number().nullable(),
    experiment_id: z.string().nullable(),
    user_attrs: z.record(z.string(), Json),
    creation_time: z.number(),
    last_update_time: z.number(),
    n_trials: z.number().int(),
    state_counts: z.object({ RUNNING: z.number(), COMPLETE: z.number(), PRUNED: z.number(), FAIL: z.number(), WAITING: z.number() }),
    best_trial: TrialSchema.nullable(),
  })
  .openapi("Study");

const StudyId = z.object({
  study_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/, "a study id is 32 lowercase hex characters")
    .openapi({ param: { name: "study_id", in: "path" } }),
});
const TrialRef = StudyId.extend({
  number: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ param: { name: "number", in: "path", required: true }, type: "integer" }),
});
const Paging = {
  max_results: z.coerce.number().int().min(1).max(10000).optional(),
  page_token: z.string().max(2000).optional(),
};

export const tuningRoutes = createRouter();

tuningRoutes.openapi(
  createRoute({
    method: "post",
    path: "/studies",
    tags,
    summary: "Create a study (or load it by name with load_if_exists)",
    security,
    request: {
      body: jsonBody(
        z
          .object({
            name: z.string().min(1).max(500),
            directions: z.array(z.enum(["minimize", "maximize"])).min(1).max(16).optional(),
            sampler: z.object({ type: z.string().min(1).max(100) }).catchall(Json).optional(),
            pruner: z.object({ type: z.string().min(1).max(100) }).catchall(Json).nullable().optional(),
            heartbeat_interval: z.number().positive().max(86400).nullable().optional(),
            grace_period: z.number().positive().max(7 * 86400).nullable().optional(),
            failed_trial_max_retry: z.number().int().min(0).max(1000).nullable().optional(),
            experiment_id: z.string().regex(/^\d{1,15}$/).nullable().optional(),
            user_attrs: Attrs.optional(),
            load_if_exists: z.boolean().optional(),
          })
          .strict(),
      ),
    },
    responses: {
      201: jsonResponse(z.object({ study_id: z.string(), study: StudySchema }), "The new study"),
      200: jsonResponse(z.object({ study_id: z.string(), study: StudySchema }), "The existing study (load_if_exists)"),
      ...standardErrors,
      ...conflict,
    },
  }),
  async (c) => {
    const { study, created } = await c.var.services.tuning.createStudy(c.req.valid("json") as never);
    return c.json({ study_id: study.study_id, study }, created ? 201 : 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "get",
    path: "/studies",
    tags,
    summary: "List studies, newest first; filter like `name LIKE 'resnet-%'`",
    security,
    request: { query: z.object({ filter: z.string().max(10000).optional(), ...Paging }) },
    responses: { 200: jsonResponse(z.object({ studies: z.array(StudySchema), next_page_token: z.string().nullable() }), "A page of studies"), ...standardErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await c.var.services.tuning.listStudies({ filter: q.filter, maxResults: q.max_results, pageToken: q.page_token });
    return c.json({ studies: page.studies, next_page_token: page.nextPageToken } as never, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "get",
    path: "/studies/by-name/{name}",
    tags,
    summary: "Get a study by its name",
    security,
    request: { params: z.object({ name: z.string().min(1).max(500).openapi({ param: { name: "name", in: "path" } }) }) },
    responses: { 200: jsonResponse(z.object({ study: StudySchema }), "The study"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ study: await c.var.services.tuning.getStudyByName(c.req.valid("param").name) } as never, 200),
);

tuningRoutes.openapi(
  createRoute({
    method: "get",
    path: "/studies/{study_id}",
    tags,
    summary: "Get a study",
    security,
    request: { params: StudyId },
    responses: { 200: jsonResponse(z.object({ study: StudySchema }), "The study"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ study: await c.var.services.tuning.getStudy(c.req.valid("param").study_id) } as never, 200),
);

tuningRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/studies/{study_id}",
    tags,
    summary: "Delete a study and all its trials",
    security,
    request: { params: StudyId },
    responses: { 200: jsonResponse(z.object({}), "Deleted"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    await c.var.services.tuning.deleteStudy(c.req.valid("param").study_id);
    return c.json({}, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/studies/{study_id}",
    tags,
    summary: "Merge user attrs into the study",
    security,
    request: { params: StudyId, body: jsonBody(z.object({ user_attrs: Attrs }).strict()) },
    responses: { 200: jsonResponse(z.object({ study: StudySchema }), "The study"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const study = await c.var.services.tuning.setStudyUserAttrs(c.req.valid("param").study_id, c.req.valid("json").user_attrs as never);
    return c.json({ study } as never, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "post",
    path: "/studies/{study_id}/ask",
    tags,
    summary: "Start a trial (an enqueued one first); with a search space its params are sampled at once",
    security,
    request: {
      params: StudyId,
      body: { required: false, content: { "application/json": { schema: z.object({ search_space: z.record(z.string().min(1).max(250), DistributionSchema).optional() }).strict() } } },
    },
    responses: {
      200: jsonResponse(z.object({ trial_number: z.number().int(), params: z.record(z.string(), ParamValue), trial: TrialSchema }), "The new RUNNING trial"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const body = c.req.valid("json") ?? {};
    const trial = await c.var.services.tuning.ask(c.req.valid("param").study_id, body.search_space);
    return c.json({ trial_number: trial.number, params: trial.params, trial } as never, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "post",
    path: "/studies/{study_id}/trials/{number}/suggest",
    tags,
    summary: "Define-by-run: the value of one parameter of a RUNNING trial",
    security,
    request: { params: TrialRef, body: jsonBody(z.object({ name: z.string().min(1).max(250), distribution: DistributionSchema }).strict()) },
    responses: { 200: jsonResponse(z.object({ value: ParamValue }), "The value"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const p = c.req.valid("param");
    const b = c.req.valid("json");
    return c.json({ value: await c.var.services.tuning.suggest(p.study_id, p.number, b.name, b.distribution) }, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "post",
    path: "/studies/{study_id}/trials/{number}/report",
    tags,
    summary: "Report an intermediate value; answers whether the pruner stops the trial",
    security,
    request: { params: TrialRef, body: jsonBody(z.object({ step: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), value: WireNumber }).strict()) },
    responses: { 200: jsonResponse(z.object({ should_prune: z.boolean() }), "The pruner's verdict"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const p = c.req.valid("param");
    const b = c.req.valid("json");
    return c.json({ should_prune: await c.var.services.tuning.report(p.study_id, p.number, b.step, b.value) }, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "post",
    path: "/studies/{study_id}/trials/{number}/tell",
    tags,
    summary: "Finish a RUNNING trial with its objective value(s), or as FAIL or PRUNED",
    security,
    request: {
      params: TrialRef,
      body: jsonBody(
        z
          .object({
            values: z.array(WireNumber).min(1).max(16).optional(),
            value: WireNumber.optional(),
            state: z.enum(["COMPLETE", "FAIL", "PRUNED"]).optional(),
            constraints: z.array(z.number()).max(100).optional(),
          })
          .strict(),
      ),
    },
    responses: { 200: jsonResponse(z.object({ trial: TrialSchema }), "The finished trial"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const p = c.req.valid("param");
    return c.json({ trial: await c.var.services.tuning.tell(p.study_id, p.number, c.req.valid("json")) } as never, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "post",
    path: "/studies/{study_id}/trials/{number}/heartbeat",
    tags,
    summary: "Record that a RUNNING trial's worker is alive",
    security,
    request: { params: TrialRef },
    responses: { 200: jsonResponse(z.object({}), "Recorded"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const p = c.req.valid("param");
    await c.var.services.tuning.heartbeat(p.study_id, p.number);
    return c.json({}, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/studies/{study_id}/trials/{number}",
    tags,
    summary: "Merge user attrs into a trial",
    security,
    request: { params: TrialRef, body: jsonBody(z.object({ user_attrs: Attrs }).strict()) },
    responses: { 200: jsonResponse(z.object({ trial: TrialSchema }), "The trial"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const p = c.req.valid("param");
    return c.json({ trial: await c.var.services.tuning.setTrialUserAttrs(p.study_id, p.number, c.req.valid("json").user_attrs as never) } as never, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "post",
    path: "/studies/{study_id}/enqueue",
    tags,
    summary: "Enqueue a WAITING trial whose given params are used when it is asked for them",
    security,
    request: { params: StudyId, body: jsonBody(z.object({ params: z.record(z.string().min(1).max(250), ParamValue), user_attrs: Attrs.optional() }).strict()) },
    responses: { 200: jsonResponse(z.object({ trial_number: z.number().int() }), "The WAITING trial's number"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const b = c.req.valid("json");
    return c.json({ trial_number: await c.var.services.tuning.enqueue(c.req.valid("param").study_id, b.params, b.user_attrs as never) }, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "get",
    path: "/studies/{study_id}/trials",
    tags,
    summary: "List trials in number order, optionally of some states (state=COMPLETE,PRUNED)",
    security,
    request: { params: StudyId, query: z.object({ state: z.string().max(100).optional(), ...Paging }) },
    responses: { 200: jsonResponse(z.object({ trials: z.array(TrialSchema), next_page_token: z.string().nullable() }), "A page of trials"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const q = c.req.valid("query");
    let states: TrialState[] | undefined;
    if (q.state) {
      states = q.state.split(",").map((s) => s.trim().toUpperCase()) as TrialState[];
      const bad = states.filter((s) => !TRIAL_STATES.includes(s));
      if (bad.length) throw invalid(`state: unknown trial state(s) ${bad.join(", ")}; use ${TRIAL_STATES.join(", ")}`);
    }
    const page = await c.var.services.tuning.listTrials(c.req.valid("param").study_id, { states, maxResults: q.max_results, pageToken: q.page_token });
    return c.json({ trials: page.trials, next_page_token: page.nextPageToken } as never, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "get",
    path: "/studies/{study_id}/trials/{number}",
    tags,
    summary: "Get a trial",
    security,
    request: { params: TrialRef },
    responses: { 200: jsonResponse(z.object({ trial: TrialSchema }), "The trial"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const p = c.req.valid("param");
    return c.json({ trial: await c.var.services.tuning.getTrial(p.study_id, p.number) } as never, 200);
  },
);

tuningRoutes.openapi(
  createRoute({
    method: "get",
    path: "/studies/{study_id}/best-trials",
    tags,
    summary: "The best trial, or the Pareto front of a multi-objective study",
    security,
    request: { params: StudyId },
    responses: { 200: jsonResponse(z.object({ trials: z.array(TrialSchema) }), "Best trials"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ trials: await c.var.services.tuning.bestTrials(c.req.valid("param").study_id) } as never, 200),
);

tuningRoutes.openapi(
  createRoute({
    method: "get",
    path: "/studies/{study_id}/param-importances",
    tags,
    summary: "fANOVA importance of each parameter for one objective (COMPLETE trials; sums to 1, largest first)",
    security,
    request: { params: StudyId, query: z.object({ objective: z.coerce.number().int().min(0).max(15).optional() }) },
    responses: {
      200: jsonResponse(z.object({ importances: z.array(z.object({ name: z.string(), importance: z.number() })) }), "Importances"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const importances = await c.var.services.tuning.importances(c.req.valid("param").study_id, c.req.valid("query").objective ?? 0);
    return c.json({ importances }, 200);
  },
);

/** Tuning has no read-only POSTs: every POST changes a study. */
export const TUNING_READ_ONLY_POSTS: RegExp[] = [];
