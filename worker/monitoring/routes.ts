/**
 * The monitoring API under /api/v1 (monitors, their reports and series, alert rules and events) and
 * /metrics, the Prometheus view of the latest state. Posted reports are summaries only: the schema is
 * strict and bounded, with scalar descriptors, so raw rows cannot be stored through it.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { offsetToken, parseOffsetToken } from "../http/paging";
import { createRouter } from "../http/router";
import { jsonBody, jsonResponse, notFoundError, standardErrors } from "../http/schemas";
import { ALERT_OPERATORS, SERIES_SYNTAX } from "../lib/monitoring/alerts";
import { EXPOSITION_CONTENT_TYPE, formatExposition } from "../lib/monitoring/prometheus";
import type { AlertEvent, AlertRule, Monitor, MonitorReport } from "./model";
import type { MonitorSummary } from "./service";

const security = [{ bearer: [] }];
const finite = z.number().refine(Number.isFinite, "must be a finite number");
const name250 = z.string().min(1).max(250);
const conflict = { 409: jsonResponse(z.object({}), "The name is taken (RESOURCE_ALREADY_EXISTS)") };

/** Bounds of a posted summary: enough for wide tables, far too small for raw data. */
export const REPORT_LIMITS = { columns: 1000, performance: 100, descriptorKeys: 30 } as const;

const ColumnSettingsSchema = z
  .object({
    columns: z
      .record(name250, z.object({ method: z.string().min(1).max(64).optional(), threshold: finite.optional() }).strict())
      .refine((r) => Object.keys(r).length <= REPORT_LIMITS.columns, `at most ${REPORT_LIMITS.columns} columns`)
      .optional(),
    ignore: z.array(name250).max(REPORT_LIMITS.columns).optional(),
  })
  .strict();

const MonitorFields = {
  name: name250,
  description: z.string().max(5000).nullable().optional(),
  model: z
    .object({
      name: name250,
      alias: z.string().min(1).max(255).nullable().optional(),
      version: z.number().int().positive().nullable().optional(),
    })
    .strict(),
  reference_dataset_version: z.string().min(1).max(250).nullable().optional(),
  current_dataset: z.string().min(1).max(250).nullable().optional(),
  column_settings: ColumnSettingsSchema.optional(),
  drift_share: z.number().min(0).max(1).optional(),
  schedule: z.string().min(1).max(100).nullable().optional(),
  paused: z.boolean().optional(),
};

const MonitorSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    model: z.object({ name: z.string(), alias: z.string().nullable(), version: z.number().nullable() }),
    reference_dataset_version: z.string().nullable(),
    current_dataset: z.string().nullable(),
    column_settings: z.object({ columns: z.record(z.string(), z.object({ method: z.string().optional(), threshold: z.number().optional() })).optional(), ignore: z.array(z.string()).optional() }),
    drift_share: z.number(),
    schedule: z.string().nullable(),
    paused: z.boolean(),
    last_checked_version: z.string().nullable(),
    last_checked_at: z.number().nullable(),
    created_at: z.number(),
    updated_at: z.number(),
  })
  .openapi("Monitor");

const ColumnResultSchema = z
  .object({
    column: name250,
    type: z.enum(["num", "cat", "text"]),
    method: z.string().max(64),
    threshold: finite.nullable(),
    score: finite.nullable(),
    drifted: z.boolean(),
    statistic: finite.nullable().optional(),
    p_value: finite.nullable().optional(),
    error: z.string().max(1000).nullable().optional(),
  })
  .strict();

/** Descriptors of the compared data: a few scalar facts (name, version, rows, file), never values. */
const DescriptorSchema = z
  .record(z.string().min(1).max(64), z.union([z.string().max(500), finite, z.boolean(), z.null()]))
  .refine((r) => Object.keys(r).length <= REPORT_LIMITS.descriptorKeys, `at most ${REPORT_LIMITS.descriptorKeys} fields`);

const SummarySchema = z
  .object({
    dataset_drift: z.boolean(),
    drift_share: z.number().min(0).max(1),
    number_of_columns: z.number().int().min(0).max(REPORT_LIMITS.columns),
    number_of_drifted_columns: z.number().int().min(0).max(REPORT_LIMITS.columns),
    columns: z.array(ColumnResultSchema).max(REPORT_LIMITS.columns),
    performance: z
      .record(name250, finite)
      .refine((r) => Object.keys(r).length <= REPORT_LIMITS.performance, `at most ${REPORT_LIMITS.performance} metrics`)
      .optional(),
  })
  .strict();

const ReportBody = z
  .object({
    summary: SummarySchema,
    reference: DescriptorSchema.optional(),
    current: DescriptorSchema.optional(),
    sample_size: z.number().int().min(0).optional(),
  })
  .strict()
  .openapi("MonitorReportInput");

const ReportSchema = z
  .object({
    id: z.string(),
    monitor_id: z.string(),
    time: z.number(),
    summary: SummarySchema.extend({ performance: z.record(z.string(), z.number()).nullable() }),
    reference: z.record(z.string(), z.unknown()).nullable(),
    current: z.record(z.string(), z.unknown()).nullable(),
    sample_size: z.number().nullable(),
    source: z.string(),
  })
  .openapi("MonitorReport");

const RuleFields = {
  name: name250.optional(),
  series: z.string().min(1).max(300).openapi({ description: `One of ${SERIES_SYNTAX}` }),
  operator: z.enum(ALERT_OPERATORS as [string, ...string[]]),
  threshold: finite,
  for_checks: z.number().int().min(1).max(1000).optional(),
  webhook_url: z.string().max(2000).nullable().optional(),
  pipeline_id: z.string().min(1).max(250).nullable().optional(),
  enabled: z.boolean().optional(),
};

const RuleSchema = z
  .object({
    id: z.string(),
    monitor_id: z.string(),
    name: z.string(),
    series: z.string(),
    operator: z.string(),
    threshold: z.number(),
    for_checks: z.number(),
    webhook_url: z.string().nullable(),
    pipeline_id: z.string().nullable(),
    enabled: z.boolean(),
    state: z.enum(["ok", "firing"]),
    consecutive: z.number(),
    last_value: z.number().nullable(),
    last_evaluated_at: z.number().nullable(),
    created_at: z.number(),
    updated_at: z.number(),
  })
  .openapi("AlertRule");

const EventSchema = z
  .object({
    id: z.string(),
    rule_id: z.string(),
    monitor_id: z.string(),
    report_id: z.string().nullable(),
    kind: z.enum(["fired", "resolved"]),
    time: z.number(),
    value: z.number().nullable(),
    delivery: z.object({
      status: z.enum(["none", "pending", "delivered", "failed"]),
      attempts: z.number(),
      next_attempt_at: z.number().nullable(),
      last_attempt_at: z.number().nullable(),
      last_error: z.string().nullable(),
    }),
    pipeline: z.object({ run_id: z.string().nullable(), note: z.string().nullable() }),
  })
  .openapi("AlertEvent");

const toMonitor = (m: Monitor) => ({
  id: m.id,
  name: m.name,
  description: m.description,
  model: { name: m.modelName, alias: m.modelAlias, version: m.modelVersion },
  reference_dataset_version: m.referenceDatasetVersion,
  current_dataset: m.currentDataset,
  column_settings: m.columnSettings,
  drift_share: m.driftShare,
  schedule: m.schedule,
  paused: m.paused,
  last_checked_version: m.lastCheckedVersion,
  last_checked_at: m.lastCheckedAt,
  created_at: m.createdAt,
  updated_at: m.updatedAt,
});

const toReport = (r: MonitorReport) => ({
  id: r.id,
  monitor_id: r.monitorId,
  time: r.time,
  summary: {
    dataset_drift: r.datasetDrift,
    drift_share: r.driftShare,
    number_of_columns: r.numberOfColumns,
    number_of_drifted_columns: r.numberOfDriftedColumns,
    columns: r.columns,
    performance: r.performance,
  },
  reference: r.reference,
  current: r.current,
  sample_size: r.sampleSize,
  source: r.source,
});

const toRule = (r: AlertRule) => ({
  id: r.id,
  monitor_id: r.monitorId,
  name: r.name,
  series: r.series,
  operator: r.operator,
  threshold: r.threshold,
  for_checks: r.forChecks,
  webhook_url: r.webhookUrl,
  pipeline_id: r.pipelineId,
  enabled: r.enabled,
  state: r.state,
  consecutive: r.consecutive,
  last_value: r.lastValue,
  last_evaluated_at: r.lastEvaluatedAt,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

const toEvent = (e: AlertEvent) => ({
  id: e.id,
  rule_id: e.ruleId,
  monitor_id: e.monitorId,
  report_id: e.reportId,
  kind: e.kind,
  time: e.time,
  value: e.value,
  delivery: { status: e.deliveryStatus, attempts: e.attempts, next_attempt_at: e.nextAttemptAt, last_attempt_at: e.lastAttemptAt, last_error: e.lastError },
  pipeline: { run_id: e.pipelineRunId, note: e.pipelineNote },
});

const toSummary = (s: MonitorSummary) => ({
  monitor: toMonitor(s.monitor),
  latest: s.latest ? { report_id: s.latest.id, time: s.latest.time, drift_share: s.latest.driftShare, dataset_drift: s.latest.datasetDrift } : null,
  firing_rules: s.firingRules,
});

const MonitorId = z.object({ monitor_id: z.string().regex(/^[0-9a-f]{32}$/, "a monitor id is 32 lowercase hex characters").openapi({ param: { name: "monitor_id", in: "path" } }) });
const RuleId = MonitorId.extend({ rule_id: z.string().regex(/^[0-9a-f]{32}$/, "a rule id is 32 lowercase hex characters").openapi({ param: { name: "rule_id", in: "path" } }) });
const Paging = z.object({ max_results: z.coerce.number().int().min(1).max(1000).optional(), page_token: z.string().max(200).optional() });

const monitorInput = (b: Partial<z.infer<z.ZodObject<typeof MonitorFields>>>) => ({
  name: b.name,
  description: b.description,
  modelName: b.model?.name,
  modelAlias: b.model ? (b.model.alias ?? null) : undefined,
  modelVersion: b.model ? (b.model.version ?? null) : undefined,
  referenceDatasetVersion: b.reference_dataset_version,
  currentDataset: b.current_dataset,
  columnSettings: b.column_settings,
  driftShare: b.drift_share,
  schedule: b.schedule,
  paused: b.paused,
});

const ruleInput = (b: Partial<{ name: string; series: string; operator: string; threshold: number; for_checks: number; webhook_url: string | null; pipeline_id: string | null; enabled: boolean }>) => ({
  name: b.name,
  series: b.series,
  operator: b.operator as AlertRule["operator"] | undefined,
  threshold: b.threshold,
  forChecks: b.for_checks,
  webhookUrl: b.webhook_url,
  pipelineId: b.pipeline_id,
  enabled: b.enabled,
});

const page = (offset: number, count: number, more: boolean) => (more ? offsetToken(offset + count) : null);

export const monitoringRoutes = createRouter();

monitoringRoutes.openapi(
  createRoute({
    method: "post",
    path: "/monitors",
    tags: ["Monitoring"],
    summary: "Create a monitor of a registered model",
    security,
    request: { body: jsonBody(z.object(MonitorFields).strict()) },
    responses: { 201: jsonResponse(z.object({ monitor: MonitorSchema }), "The monitor"), ...standardErrors, ...conflict },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const monitor = await c.var.services.monitoring.createMonitor({ ...monitorInput(b), name: b.name, modelName: b.model.name });
    return c.json({ monitor: toMonitor(monitor) }, 201);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "get",
    path: "/monitors",
    tags: ["Monitoring"],
    summary: "List monitors with their latest drift share and firing alerts",
    security,
    request: { query: Paging },
    responses: {
      200: jsonResponse(
        z.object({
          monitors: z.array(z.object({ monitor: MonitorSchema, latest: z.object({ report_id: z.string(), time: z.number(), drift_share: z.number(), dataset_drift: z.boolean() }).nullable(), firing_rules: z.number() })),
          next_page_token: z.string().nullable(),
        }),
        "A page of monitors, by name",
      ),
      ...standardErrors,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const offset = parseOffsetToken(q.page_token);
    const r = await c.var.services.monitoring.listMonitors(offset, q.max_results ?? 100);
    return c.json({ monitors: r.items.map(toSummary), next_page_token: page(offset, r.items.length, r.more) }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "get",
    path: "/monitors/{monitor_id}",
    tags: ["Monitoring"],
    summary: "Get a monitor",
    security,
    request: { params: MonitorId },
    responses: { 200: jsonResponse(z.object({ monitor: MonitorSchema }), "The monitor"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ monitor: toMonitor(await c.var.services.monitoring.getMonitor(c.req.valid("param").monitor_id)) }, 200),
);

monitoringRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/monitors/{monitor_id}",
    tags: ["Monitoring"],
    summary: "Update a monitor",
    security,
    request: { params: MonitorId, body: jsonBody(z.object(MonitorFields).partial().strict()) },
    responses: { 200: jsonResponse(z.object({ monitor: MonitorSchema }), "The updated monitor"), ...standardErrors, ...notFoundError, ...conflict },
  }),
  async (c) => {
    const monitor = await c.var.services.monitoring.updateMonitor(c.req.valid("param").monitor_id, monitorInput(c.req.valid("json")));
    return c.json({ monitor: toMonitor(monitor) }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/monitors/{monitor_id}",
    tags: ["Monitoring"],
    summary: "Delete a monitor with its reports, rules and events",
    security,
    request: { params: MonitorId },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), "Deleted"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    await c.var.services.monitoring.deleteMonitor(c.req.valid("param").monitor_id);
    return c.json({ deleted: true as const }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "post",
    path: "/monitors/{monitor_id}/reports",
    tags: ["Monitoring"],
    summary: "Save a drift summary to a monitor (evaluates its alert rules)",
    description:
      "A summary only: per-column scores and decisions, optional performance metrics, and scalar descriptors of the compared data. " +
      `At most ${REPORT_LIMITS.columns} columns; unknown fields (such as raw values) are rejected.`,
    security,
    request: { params: MonitorId, body: jsonBody(ReportBody) },
    responses: {
      201: jsonResponse(z.object({ report: ReportSchema, alerts: z.array(EventSchema) }), "The saved report and the alert events it caused"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const s = b.summary;
    const monitoring = c.var.services.monitoring;
    const { report, events } = await monitoring.saveReport(c.req.valid("param").monitor_id, {
      summary: {
        datasetDrift: s.dataset_drift,
        driftShare: s.drift_share,
        numberOfColumns: s.number_of_columns,
        numberOfDriftedColumns: s.number_of_drifted_columns,
        columns: s.columns,
        performance: s.performance ?? null,
      },
      reference: b.reference ?? null,
      current: b.current ?? null,
      sampleSize: b.sample_size ?? null,
      source: "api",
    });
    if (events.length) c.executionCtx.waitUntil(monitoring.deliverNew(events));
    return c.json({ report: toReport(report), alerts: events.map(toEvent) }, 201);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "post",
    path: "/monitors/{monitor_id}/check",
    tags: ["Monitoring"],
    summary: "Check a dataset version against the monitor's reference now",
    description:
      "Reads the newest version of the monitor's current dataset (or the dataset_version named: an id, name@N or name@latest) in the Worker, " +
      "as a scheduled check does: versions too large to read whole are sampled through range reads, and the report records how. " +
      "The report is saved with source \"manual\" and alert rules are evaluated.",
    security,
    request: { params: MonitorId, body: { required: false, content: { "application/json": { schema: z.object({ dataset_version: z.string().min(1).max(250).optional() }).strict() } } } },
    responses: {
      201: jsonResponse(z.object({ report: ReportSchema }), "The saved report"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const b = c.req.valid("json") ?? {};
    const { report } = await c.var.services.monitoring.checkNow(c.req.valid("param").monitor_id, b.dataset_version);
    return c.json({ report: toReport(report) }, 201);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "get",
    path: "/monitors/{monitor_id}/reports",
    tags: ["Monitoring"],
    summary: "List a monitor's reports, newest first",
    security,
    request: { params: MonitorId, query: Paging },
    responses: { 200: jsonResponse(z.object({ reports: z.array(ReportSchema), next_page_token: z.string().nullable() }), "A page of reports"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const offset = parseOffsetToken(q.page_token);
    const r = await c.var.services.monitoring.listReports(c.req.valid("param").monitor_id, offset, q.max_results ?? 50);
    return c.json({ reports: r.items.map(toReport), next_page_token: page(offset, r.items.length, r.more) }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "get",
    path: "/monitors/{monitor_id}/series",
    tags: ["Monitoring"],
    summary: "A series of the monitor over time, oldest first",
    security,
    request: {
      params: MonitorId,
      query: z.object({
        name: z.string().min(1).max(300).openapi({ description: `One of ${SERIES_SYNTAX}` }),
        from: z.coerce.number().int().min(0).optional(),
        to: z.coerce.number().int().min(0).optional(),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ series: z.string(), points: z.array(z.object({ time: z.number(), value: z.number(), report_id: z.string() })) }), "The points"),
      ...standardErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const r = await c.var.services.monitoring.series(c.req.valid("param").monitor_id, q.name, q.from ?? null, q.to ?? null);
    return c.json({ series: r.series, points: r.points.map((p) => ({ time: p.time, value: p.value, report_id: p.reportId })) }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "post",
    path: "/monitors/{monitor_id}/rules",
    tags: ["Monitoring"],
    summary: "Create an alert rule on a series",
    description: "The webhook (if any) is POSTed from the Worker on each firing and resolving; it may not point at this Tern's own origin.",
    security,
    request: { params: MonitorId, body: jsonBody(z.object(RuleFields).strict()) },
    responses: { 201: jsonResponse(z.object({ rule: RuleSchema }), "The rule"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const rule = await c.var.services.monitoring.createRule(
      c.req.valid("param").monitor_id,
      { ...ruleInput(b), series: b.series, operator: b.operator as AlertRule["operator"], threshold: b.threshold },
      new URL(c.req.url).origin,
    );
    return c.json({ rule: toRule(rule) }, 201);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "get",
    path: "/monitors/{monitor_id}/rules",
    tags: ["Monitoring"],
    summary: "List a monitor's alert rules",
    security,
    request: { params: MonitorId },
    responses: { 200: jsonResponse(z.object({ rules: z.array(RuleSchema) }), "The rules"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ rules: (await c.var.services.monitoring.listRules(c.req.valid("param").monitor_id)).map(toRule) }, 200),
);

monitoringRoutes.openapi(
  createRoute({
    method: "get",
    path: "/monitors/{monitor_id}/rules/{rule_id}",
    tags: ["Monitoring"],
    summary: "Get an alert rule",
    security,
    request: { params: RuleId },
    responses: { 200: jsonResponse(z.object({ rule: RuleSchema }), "The rule"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const p = c.req.valid("param");
    return c.json({ rule: toRule(await c.var.services.monitoring.getRule(p.monitor_id, p.rule_id)) }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/monitors/{monitor_id}/rules/{rule_id}",
    tags: ["Monitoring"],
    summary: "Update an alert rule (changing its condition restarts its evaluation)",
    security,
    request: { params: RuleId, body: jsonBody(z.object(RuleFields).partial().strict()) },
    responses: { 200: jsonResponse(z.object({ rule: RuleSchema }), "The updated rule"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const p = c.req.valid("param");
    const rule = await c.var.services.monitoring.updateRule(p.monitor_id, p.rule_id, ruleInput(c.req.valid("json")), new URL(c.req.url).origin);
    return c.json({ rule: toRule(rule) }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/monitors/{monitor_id}/rules/{rule_id}",
    tags: ["Monitoring"],
    summary: "Delete an alert rule and its events",
    security,
    request: { params: RuleId },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), "Deleted"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const p = c.req.valid("param");
    await c.var.services.monitoring.deleteRule(p.monitor_id, p.rule_id);
    return c.json({ deleted: true as const }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "get",
    path: "/monitors/{monitor_id}/alerts",
    tags: ["Monitoring"],
    summary: "A monitor's alert events (fired and resolved), newest first, with webhook delivery state",
    security,
    request: { params: MonitorId, query: Paging },
    responses: { 200: jsonResponse(z.object({ alerts: z.array(EventSchema), next_page_token: z.string().nullable() }), "A page of events"), ...standardErrors, ...notFoundError },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const offset = parseOffsetToken(q.page_token);
    const r = await c.var.services.monitoring.listEvents(c.req.valid("param").monitor_id, offset, q.max_results ?? 50);
    return c.json({ alerts: r.items.map(toEvent), next_page_token: page(offset, r.items.length, r.more) }, 200);
  },
);

monitoringRoutes.openapi(
  createRoute({
    method: "get",
    path: "/alerts",
    tags: ["Monitoring"],
    summary: "Alert rules firing now, across monitors",
    security,
    responses: {
      200: jsonResponse(z.object({ alerts: z.array(z.object({ monitor: z.object({ id: z.string(), name: z.string() }), rule: RuleSchema })) }), "The firing rules"),
      ...standardErrors,
    },
  }),
  async (c) => {
    const active = await c.var.services.monitoring.activeAlerts();
    return c.json({ alerts: active.map((a) => ({ monitor: { id: a.monitor.id, name: a.monitor.name }, rule: toRule(a.rule) })) }, 200);
  },
);

/** GET /metrics, mounted at the root where Prometheus looks for it. */
export const metricsRoutes = createRouter();

metricsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/metrics",
    tags: ["Monitoring"],
    summary: "Prometheus metrics: latest drift per monitor and column, report counts, alert states",
    description: "Text exposition format 0.0.4. Needs a token with the read scope (Prometheus: `authorization: {credentials: <token>}`).",
    security,
    responses: {
      200: { description: "Prometheus text exposition", content: { "text/plain": { schema: z.string() } } },
      ...standardErrors,
    },
  }),
  async (c) => {
    const text = formatExposition(await c.var.services.monitoring.metricFamilies());
    return c.text(text, 200, { "Content-Type": EXPOSITION_CONTENT_TYPE });
  },
);
