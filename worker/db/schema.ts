/**
 * The drizzle schema: the single source of Tern's D1 tables. `npm run db:generate` turns changes
 * here into a new SQL migration in drizzle/.
 */
import { foreignKey, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** API tokens. Only a SHA-256 hash of the secret is stored; the token is shown once at creation. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    /** The token's public lookup part: a token reads `tern_<id>_<secret>`. */
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Hex SHA-256 of the secret part, compared in constant time. */
    secretHash: text("secret_hash").notNull(),
    /** JSON array of scopes: "read" | "write" | "admin". */
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: text("created_by"),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_tokens_created_at").on(t.createdAt)],
);

/** Small key/value facts about the installation itself (e.g. the last cron tick). */
export const systemState = sqliteTable("system_state", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

// ---------------------------------------------------------------------------------------------
// Tracking (MLflow's entities). Times are milliseconds since the epoch, as MLflow sends them.
// ---------------------------------------------------------------------------------------------

export const experiments = sqliteTable(
  "experiments",
  {
    /** MLflow experiment ids are decimal strings on the wire; "0" is the Default experiment. */
    experimentId: integer("experiment_id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull().unique(),
    artifactLocation: text("artifact_location").notNull(),
    lifecycleStage: text("lifecycle_stage", { enum: ["active", "deleted"] }).notNull().default("active"),
    creationTime: integer("creation_time").notNull(),
    lastUpdateTime: integer("last_update_time").notNull(),
  },
  (t) => [index("experiments_lifecycle").on(t.lifecycleStage, t.creationTime)],
);

export const experimentTags = sqliteTable(
  "experiment_tags",
  {
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.experimentId),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.key] })],
);

export const runs = sqliteTable(
  "runs",
  {
    runUuid: text("run_uuid").primaryKey(),
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.experimentId),
    name: text("name").notNull().default(""),
    userId: text("user_id").notNull().default(""),
    status: text("status", { enum: ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] }).notNull(),
    startTime: integer("start_time").notNull(),
    endTime: integer("end_time"),
    artifactUri: text("artifact_uri").notNull(),
    lifecycleStage: text("lifecycle_stage", { enum: ["active", "deleted"] }).notNull().default("active"),
    deletedTime: integer("deleted_time"),
  },
  (t) => [index("runs_experiment_start").on(t.experimentId, t.startTime)],
);

export const params = sqliteTable(
  "params",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.key] })],
);

export const runTags = sqliteTable(
  "run_tags",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.key] })],
);

/**
 * Every logged metric point. NaN cannot be stored in SQLite REAL, so it is value 0 with is_nan 1;
 * ±Infinity is clamped to ±Number.MAX_VALUE as MLflow's SQL store does. Identical points are stored once.
 * The table is WITHOUT ROWID (migration 0013, by hand: drizzle cannot declare it): one B-tree keyed by the
 * primary key, so a point is written and stored once instead of into the table and the key's index too
 * (half the bytes per point, and faster log-batch inserts). It has no rowid: backups page it by its key.
 */
export const metrics = sqliteTable(
  "metrics",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    key: text("key").notNull(),
    step: integer("step").notNull(),
    timestamp: integer("timestamp").notNull(),
    value: real("value").notNull(),
    isNan: integer("is_nan").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.key, t.step, t.timestamp, t.value, t.isNan] })],
);

/** The latest point per (run, key): highest step, then latest timestamp, then largest value (MLflow's rule). */
export const latestMetrics = sqliteTable(
  "latest_metrics",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    key: text("key").notNull(),
    step: integer("step").notNull(),
    timestamp: integer("timestamp").notNull(),
    value: real("value").notNull(),
    isNan: integer("is_nan").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.key] }), index("latest_metrics_key_value").on(t.key, t.value)],
);

/** MLflow dataset inputs of runs (log-inputs): the dataset as MLflow describes it, per experiment. */
export const mlflowDatasets = sqliteTable(
  "mlflow_datasets",
  {
    datasetUuid: text("dataset_uuid").primaryKey(),
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.experimentId),
    name: text("name").notNull(),
    digest: text("digest").notNull(),
    sourceType: text("source_type").notNull(),
    source: text("source").notNull(),
    schema: text("schema"),
    profile: text("profile"),
  },
  (t) => [uniqueIndex("mlflow_datasets_identity").on(t.experimentId, t.name, t.digest)],
);

export const runInputs = sqliteTable(
  "run_inputs",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    datasetUuid: text("dataset_uuid")
      .notNull()
      .references(() => mlflowDatasets.datasetUuid),
    /** JSON array of {key, value}: the input's tags, e.g. mlflow.data.context = training. */
    tags: text("tags").notNull().default("[]"),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.datasetUuid] }), index("run_inputs_dataset").on(t.datasetUuid)],
);

// ---------------------------------------------------------------------------------------------
// Model registry (MLflow's model_registry.proto). Renames cascade through versions, tags, aliases.
// ---------------------------------------------------------------------------------------------

export const registeredModels = sqliteTable("registered_models", {
  name: text("name").primaryKey(),
  creationTime: integer("creation_time").notNull(),
  lastUpdatedTime: integer("last_updated_time").notNull(),
  description: text("description"),
});

export const registeredModelTags = sqliteTable(
  "registered_model_tags",
  {
    name: text("name")
      .notNull()
      .references(() => registeredModels.name, { onUpdate: "cascade", onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.key] })],
);

export const modelVersions = sqliteTable(
  "model_versions",
  {
    name: text("name")
      .notNull()
      .references(() => registeredModels.name, { onUpdate: "cascade", onDelete: "cascade" }),
    version: integer("version").notNull(),
    creationTime: integer("creation_time").notNull(),
    lastUpdatedTime: integer("last_updated_time").notNull(),
    description: text("description"),
    userId: text("user_id"),
    currentStage: text("current_stage").notNull().default("None"),
    source: text("source").notNull(),
    runId: text("run_id"),
    runLink: text("run_link"),
    status: text("status").notNull().default("READY"),
    statusMessage: text("status_message"),
    storageLocation: text("storage_location"),
    /** MLflow 3: the logged model this version registers. */
    modelId: text("model_id"),
  },
  (t) => [primaryKey({ columns: [t.name, t.version] }), index("model_versions_run").on(t.runId)],
);

export const modelVersionTags = sqliteTable(
  "model_version_tags",
  {
    name: text("name").notNull(),
    version: integer("version").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.name, t.version, t.key] }),
    foreignKey({ columns: [t.name, t.version], foreignColumns: [modelVersions.name, modelVersions.version] })
      .onUpdate("cascade")
      .onDelete("cascade"),
  ],
);

export const registeredModelAliases = sqliteTable(
  "registered_model_aliases",
  {
    name: text("name")
      .notNull()
      .references(() => registeredModels.name, { onUpdate: "cascade", onDelete: "cascade" }),
    alias: text("alias").notNull(),
    version: integer("version").notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.alias] })],
);

// ---------------------------------------------------------------------------------------------
// MLflow 3 logged models: model objects that log_model creates, with their own tags and params.
// ---------------------------------------------------------------------------------------------

export const loggedModels = sqliteTable(
  "logged_models",
  {
    modelId: text("model_id").primaryKey(),
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.experimentId),
    name: text("name").notNull(),
    artifactLocation: text("artifact_location").notNull(),
    creationTimestampMs: integer("creation_timestamp_ms").notNull(),
    lastUpdatedTimestampMs: integer("last_updated_timestamp_ms").notNull(),
    status: text("status").notNull(),
    statusMessage: text("status_message"),
    lifecycleStage: text("lifecycle_stage", { enum: ["active", "deleted"] }).notNull().default("active"),
    modelType: text("model_type"),
    sourceRunId: text("source_run_id"),
  },
  (t) => [index("logged_models_experiment").on(t.experimentId, t.creationTimestampMs)],
);

export const loggedModelTags = sqliteTable(
  "logged_model_tags",
  {
    modelId: text("model_id")
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.key] })],
);

export const loggedModelParams = sqliteTable(
  "logged_model_params",
  {
    modelId: text("model_id")
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.key] })],
);

/** MLflow 3 run outputs: which logged models a run produced (runs/outputs). */
export const runOutputs = sqliteTable(
  "run_outputs",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    modelId: text("model_id").notNull(),
    step: integer("step").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.modelId] })],
);

/** Idempotency keys of the native logging API: a retried batch with the same key is a no-op. */
export const idempotencyKeys = sqliteTable("idempotency_keys", {
  key: text("key").primaryKey(),
  scope: text("scope").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * Pre-aggregated metric history: per (run, key) and bucket of `width` steps, the point count, x extent,
 * min/max and last point. Kept up to date by every batch so that a downsampled read of a
 * million-point metric reads a few thousand rows instead of every point.
 */
export const metricRollups = sqliteTable(
  "metric_rollups",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    key: text("key").notNull(),
    width: integer("width").notNull(),
    bucket: integer("bucket").notNull(),
    n: integer("n").notNull(),
    x0: integer("x0").notNull(),
    x1: integer("x1").notNull(),
    lo: real("lo"),
    hi: real("hi"),
    lastStep: integer("last_step").notNull(),
    lastTimestamp: integer("last_timestamp").notNull(),
    lastValue: real("last_value").notNull(),
    lastIsNan: integer("last_is_nan").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.key, t.width, t.bucket] })],
);

// ---------------------------------------------------------------------------------------------
// Traces (MLflow tracing): trace infos with their tags, and the spans ingested over OTLP. Span
// times are nanoseconds as decimal strings, because fixed64 nanoseconds exceed 2^53.
// ---------------------------------------------------------------------------------------------

export const traces = sqliteTable(
  "traces",
  {
    /** MLflow's trace id: `tr-` and the 32 hex digits of the OpenTelemetry trace id. */
    traceId: text("trace_id").primaryKey(),
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.experimentId),
    requestTime: integer("request_time").notNull(),
    executionDuration: integer("execution_duration"),
    state: text("state", { enum: ["STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS"] }).notNull(),
    requestPreview: text("request_preview"),
    responsePreview: text("response_preview"),
    clientRequestId: text("client_request_id"),
    /** JSON object of string → string: immutable facts such as mlflow.sourceRun. */
    traceMetadata: text("trace_metadata").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("traces_experiment_time").on(t.experimentId, t.requestTime)],
);

export const traceTags = sqliteTable(
  "trace_tags",
  {
    traceId: text("trace_id")
      .notNull()
      .references(() => traces.traceId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.traceId, t.key] }), index("trace_tags_key_value").on(t.key, t.value)],
);

export const spans = sqliteTable(
  "spans",
  {
    traceId: text("trace_id")
      .notNull()
      .references(() => traces.traceId, { onDelete: "cascade" }),
    /** 16 hex digits, unique within the trace. */
    spanId: text("span_id").notNull(),
    parentSpanId: text("parent_span_id"),
    /** The OpenTelemetry trace id (32 hex digits) the span was sent with. */
    otelTraceId: text("otel_trace_id").notNull(),
    name: text("name").notNull(),
    kind: integer("kind").notNull().default(0),
    startTimeNs: text("start_time_ns").notNull(),
    endTimeNs: text("end_time_ns"),
    /** OpenTelemetry status code: 0 unset, 1 ok, 2 error. */
    statusCode: integer("status_code").notNull().default(0),
    statusMessage: text("status_message").notNull().default(""),
    spanType: text("span_type"),
    /** JSON object of the span's attributes as sent (MLflow's values are often JSON text themselves). */
    attributes: text("attributes").notNull().default("{}"),
    /** JSON array of {name, time_unix_nano, attributes}. */
    events: text("events").notNull().default("[]"),
  },
  (t) => [primaryKey({ columns: [t.traceId, t.spanId] })],
);

// ---------------------------------------------------------------------------------------------
// Monitoring: monitors of a registered model against a reference dataset version, the drift
// summaries saved to them (never raw rows), a per-column series for time-series queries, alert
// rules on any series and the events they fire, with their webhook delivery state.
// ---------------------------------------------------------------------------------------------

export const monitors = sqliteTable(
  "monitors",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    /** A registered model's name; alias or version says which of its versions is watched. */
    modelName: text("model_name").notNull(),
    modelAlias: text("model_alias"),
    modelVersion: integer("model_version"),
    /** A dataset version id, kept as a plain string (no foreign key to the datasets tables). */
    referenceDatasetVersion: text("reference_dataset_version"),
    /** The dataset whose new versions a scheduled check compares with the reference. */
    currentDataset: text("current_dataset"),
    /** JSON {columns: {name: {method?, threshold?}}, ignore: [name]}. */
    columnSettings: text("column_settings").notNull().default("{}"),
    driftShare: real("drift_share").notNull().default(0.5),
    schedule: text("schedule"),
    paused: integer("paused", { mode: "boolean" }).notNull().default(false),
    /** The current dataset version the last scheduled check compared, so each version is checked once. */
    lastCheckedVersion: text("last_checked_version"),
    lastCheckedAt: integer("last_checked_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("monitors_name").on(t.name)],
);

export const monitorReports = sqliteTable(
  "monitor_reports",
  {
    id: text("id").primaryKey(),
    monitorId: text("monitor_id")
      .notNull()
      .references(() => monitors.id, { onDelete: "cascade" }),
    time: integer("time").notNull(),
    datasetDrift: integer("dataset_drift", { mode: "boolean" }).notNull(),
    driftShare: real("drift_share").notNull(),
    numberOfColumns: integer("number_of_columns").notNull(),
    numberOfDriftedColumns: integer("number_of_drifted_columns").notNull(),
    /** JSON array of the per-column results as posted. */
    columns: text("columns").notNull(),
    /** JSON object metric name → value, or null. */
    performance: text("performance"),
    reference: text("reference"),
    current: text("current"),
    sampleSize: integer("sample_size"),
    /** "api" for a posted summary, "schedule" for a scheduled check. */
    source: text("source").notNull().default("api"),
  },
  (t) => [index("monitor_reports_monitor_time").on(t.monitorId, t.time)],
);

export const monitorColumnScores = sqliteTable(
  "monitor_column_scores",
  {
    reportId: text("report_id")
      .notNull()
      .references(() => monitorReports.id, { onDelete: "cascade" }),
    monitorId: text("monitor_id").notNull(),
    column: text("column").notNull(),
    time: integer("time").notNull(),
    method: text("method").notNull(),
    score: real("score"),
    drifted: integer("drifted", { mode: "boolean" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.reportId, t.column] }), index("monitor_column_scores_series").on(t.monitorId, t.column, t.time)],
);

export const alertRules = sqliteTable(
  "alert_rules",
  {
    id: text("id").primaryKey(),
    monitorId: text("monitor_id")
      .notNull()
      .references(() => monitors.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** "drift_share" | "dataset_drift" | "column:<name>:score" | "performance:<metric>". */
    series: text("series").notNull(),
    operator: text("operator", { enum: [">", ">=", "<", "<="] }).notNull(),
    threshold: real("threshold").notNull(),
    forChecks: integer("for_checks").notNull().default(1),
    webhookUrl: text("webhook_url"),
    pipelineId: text("pipeline_id"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** Evaluation state: consecutive breaching checks and whether the rule is firing. */
    consecutive: integer("consecutive").notNull().default(0),
    state: text("state", { enum: ["ok", "firing"] }).notNull().default("ok"),
    lastValue: real("last_value"),
    lastEvaluatedAt: integer("last_evaluated_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("alert_rules_monitor").on(t.monitorId)],
);

export const alertEvents = sqliteTable(
  "alert_events",
  {
    id: text("id").primaryKey(),
    ruleId: text("rule_id")
      .notNull()
      .references(() => alertRules.id, { onDelete: "cascade" }),
    monitorId: text("monitor_id").notNull(),
    reportId: text("report_id"),
    kind: text("kind", { enum: ["fired", "resolved"] }).notNull(),
    time: integer("time").notNull(),
    value: real("value"),
    /** none: no webhook; pending: a try is due at next_attempt_at; delivered; failed: gave up. */
    deliveryStatus: text("delivery_status", { enum: ["none", "pending", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastAttemptAt: integer("last_attempt_at"),
    lastError: text("last_error"),
    /** The pipeline run started for the event, or why none was. */
    pipelineRunId: text("pipeline_run_id"),
    pipelineNote: text("pipeline_note"),
  },
  (t) => [index("alert_events_monitor_time").on(t.monitorId, t.time), index("alert_events_due").on(t.deliveryStatus, t.nextAttemptAt)],
);

// ---------------------------------------------------------------------------------------------------------
// Tuning: a searchable mirror of each study's summary. The study's Durable Object (StudyObject) holds the
// trials and is the source of truth; this row is rewritten after each change so studies can be listed.

export const studies = sqliteTable(
  "studies",
  {
    /** 32 hex digits; also the name of the study's Durable Object. */
    studyId: text("study_id").primaryKey(),
    name: text("name").notNull(),
    /** JSON array of "minimize" | "maximize". */
    directions: text("directions").notNull(),
    /** JSON: the sampler config, the pruner config (or null) and the heartbeat/retry settings. */
    settings: text("settings").notNull(),
    experimentId: text("experiment_id"),
    /** JSON object of the study's user attrs. */
    userAttrs: text("user_attrs").notNull().default("{}"),
    nTrials: integer("n_trials").notNull().default(0),
    nRunning: integer("n_running").notNull().default(0),
    nComplete: integer("n_complete").notNull().default(0),
    nPruned: integer("n_pruned").notNull().default(0),
    nFail: integer("n_fail").notNull().default(0),
    nWaiting: integer("n_waiting").notNull().default(0),
    bestValue: real("best_value"),
    /** JSON of the best trial (single objective), or null. */
    bestTrial: text("best_trial"),
    creationTime: integer("creation_time").notNull(),
    lastUpdateTime: integer("last_update_time").notNull(),
    /** The study object's change counter: a summary only replaces an older one. */
    revision: integer("revision").notNull().default(0),
  },
  (t) => [uniqueIndex("studies_name").on(t.name), index("studies_creation_time").on(t.creationTime)],
);

// ---------------------------------------------------------------------------------------------
// Pipelines: versioned DAG specs, their runs (one Durable Object each) and the task-instance mirror
// the grid view reads. Times are milliseconds since the epoch.
// ---------------------------------------------------------------------------------------------

export const pipelines = sqliteTable("pipelines", {
  pipelineId: text("pipeline_id").primaryKey(),
  name: text("name").notNull().unique(),
  latestVersion: integer("latest_version").notNull(),
  paused: integer("paused", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Every spec a pipeline ever had; runs point at the version they ran. */
export const pipelineVersions = sqliteTable(
  "pipeline_versions",
  {
    pipelineId: text("pipeline_id")
      .notNull()
      .references(() => pipelines.pipelineId, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** The spec as submitted (YAML or JSON text). */
    source: text("source").notNull(),
    /** The checked spec with defaults resolved (JSON of PipelineSpec). */
    spec: text("spec").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.pipelineId, t.version] })],
);

export const pipelineRuns = sqliteTable(
  "pipeline_runs",
  {
    runId: text("run_id").primaryKey(),
    pipelineId: text("pipeline_id")
      .notNull()
      .references(() => pipelines.pipelineId, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** "dataset": started by a new version of a dataset the spec's schedule names (a data-aware trigger). */
    runType: text("run_type", { enum: ["manual", "scheduled", "backfill", "dataset"] }).notNull(),
    /** The start of the data interval; unique per pipeline, so a cron tick delivered twice makes one run. */
    logicalDate: integer("logical_date").notNull(),
    dataIntervalStart: integer("data_interval_start").notNull(),
    dataIntervalEnd: integer("data_interval_end").notNull(),
    state: text("state", { enum: ["queued", "running", "success", "failed"] }).notNull(),
    /** JSON object: the run's conf. */
    conf: text("conf").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    endedAt: integer("ended_at"),
    /** What started a triggered run ("dataset_version:<id>"); unique per pipeline, so an event delivered twice makes one run. */
    triggerKey: text("trigger_key"),
  },
  (t) => [
    uniqueIndex("pipeline_runs_pipeline_logical_date").on(t.pipelineId, t.logicalDate),
    uniqueIndex("pipeline_runs_pipeline_trigger").on(t.pipelineId, t.triggerKey),
    index("pipeline_runs_pipeline_state").on(t.pipelineId, t.state),
    index("pipeline_runs_state").on(t.state, t.createdAt),
  ],
);

/** A mirror of each run's task instances, written by the run's Durable Object (which is authoritative). */
export const pipelineTaskInstances = sqliteTable(
  "pipeline_task_instances",
  {
    runId: text("run_id")
      .notNull()
      .references(() => pipelineRuns.runId, { onDelete: "cascade" }),
    taskId: text("task_id").notNull(),
    state: text("state").notNull(),
    tryNumber: integer("try_number").notNull(),
    /** The agent queue of an agent task (null for in-process kinds): where claims look. */
    queue: text("queue"),
    queuedAt: integer("queued_at"),
    startedAt: integer("started_at"),
    endedAt: integer("ended_at"),
    /** JSON of the task's output (bounded). */
    output: text("output"),
    error: text("error"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.taskId] }), index("pipeline_task_instances_queue").on(t.queue, t.state, t.queuedAt)],
);

// ---------------------------------------------------------------------------------------------
// Datasets (data versioning): datasets with immutable numbered versions over one content store.
// Blobs are keyed by sha256 (R2 key blobs/sha256/<xx>/<rest>), so identical content is stored once
// across every dataset, version and DVC push. A version's root is a blob (one file) or a manifest.
// ---------------------------------------------------------------------------------------------

export const datasets = sqliteTable(
  "datasets",
  {
    datasetId: text("dataset_id").primaryKey(),
    name: text("name").notNull().unique(),
    description: text("description").notNull().default(""),
    /** JSON object of string → string. */
    tags: text("tags").notNull().default("{}"),
    latestVersion: integer("latest_version").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("datasets_updated").on(t.updatedAt)],
);

export const datasetVersions = sqliteTable(
  "dataset_versions",
  {
    versionId: text("version_id").primaryKey(),
    datasetId: text("dataset_id")
      .notNull()
      .references(() => datasets.datasetId, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    kind: text("kind", { enum: ["file", "directory"] }).notNull(),
    /** sha256 of the file (kind file) or of the manifest (kind directory). */
    rootSha256: text("root_sha256").notNull(),
    /** The file's name for a single-file version (downloads are named after it); null for directories. */
    fileName: text("file_name"),
    size: integer("size").notNull(),
    fileCount: integer("file_count").notNull(),
    contentType: text("content_type"),
    createdByTokenId: text("created_by_token_id"),
    createdByName: text("created_by_name").notNull(),
    message: text("message").notNull().default(""),
    gitCommit: text("git_commit"),
    gitBranch: text("git_branch"),
    parentVersionId: text("parent_version_id"),
    rowCount: integer("row_count"),
    /** JSON: [{name, type}] of the tabular file, when profiled. */
    schema: text("schema"),
    /** JSON: the column profile (worker/lib/profile), when profiled. */
    profile: text("profile"),
    /** Where the profile came from: "server" (computed here) or "client" (sent with the commit). */
    profileSource: text("profile_source"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("dataset_versions_number").on(t.datasetId, t.version), index("dataset_versions_root").on(t.rootSha256)],
);

export const blobs = sqliteTable(
  "blobs",
  {
    sha256: text("sha256").primaryKey(),
    md5: text("md5").notNull(),
    size: integer("size").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("blobs_md5").on(t.md5)],
);

/** A directory's listing; its id is the sha256 of its canonical JSON (worker/lib/manifest.ts). */
export const manifests = sqliteTable("manifests", {
  sha256: text("sha256").primaryKey(),
  fileCount: integer("file_count").notNull(),
  size: integer("size").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const manifestEntries = sqliteTable(
  "manifest_entries",
  {
    manifestSha256: text("manifest_sha256")
      .notNull()
      .references(() => manifests.sha256, { onDelete: "cascade" }),
    path: text("path").notNull(),
    sha256: text("sha256").notNull(),
    size: integer("size").notNull(),
  },
  (t) => [primaryKey({ columns: [t.manifestSha256, t.path] }), index("manifest_entries_blob").on(t.sha256)],
);

/** DVC's object names (md5, with ".dir" for directory listings) → the blob that holds the bytes. */
export const dvcObjects = sqliteTable("dvc_objects", {
  /** The name under files/md5/: 32 hex digits, optionally followed by ".dir". */
  name: text("name").primaryKey(),
  sha256: text("sha256").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** An R2 multipart upload in progress; R2's binding cannot list parts, so they are recorded here. */
export const blobUploads = sqliteTable("blob_uploads", {
  uploadId: text("upload_id").primaryKey(),
  r2UploadId: text("r2_upload_id").notNull(),
  stagingKey: text("staging_key").notNull(),
  sha256: text("sha256").notNull(),
  size: integer("size").notNull(),
  partSize: integer("part_size").notNull(),
  partCount: integer("part_count").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const blobUploadParts = sqliteTable(
  "blob_upload_parts",
  {
    uploadId: text("upload_id")
      .notNull()
      .references(() => blobUploads.uploadId, { onDelete: "cascade" }),
    partNumber: integer("part_number").notNull(),
    etag: text("etag").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.partNumber] })],
);

/** Dataset versions a run read, declared over the native API (MLflow inputs are resolved at query time). */
export const datasetVersionInputs = sqliteTable(
  "dataset_version_inputs",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    versionId: text("version_id")
      .notNull()
      .references(() => datasetVersions.versionId),
    context: text("context"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.versionId] }), index("dataset_version_inputs_version").on(t.versionId)],
);

// ---------------------------------------------------------------------------------------------
// Tracking, MLflow 3 additions: assessments of traces, traces linked to runs, the logged models a
// run used (log-inputs `models`), and metrics logged against a logged model (and dataset).
// ---------------------------------------------------------------------------------------------

/** Feedback and expectations on a trace or one of its spans (MLflow's assessments.proto). */
export const traceAssessments = sqliteTable(
  "trace_assessments",
  {
    assessmentId: text("assessment_id").primaryKey(),
    traceId: text("trace_id")
      .notNull()
      .references(() => traces.traceId, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["feedback", "expectation"] }).notNull(),
    spanId: text("span_id"),
    sourceType: text("source_type"),
    sourceId: text("source_id"),
    /** JSON of the Feedback or Expectation message as sent. */
    body: text("body").notNull(),
    /** The assessed value as JSON text, for feedback./expectation. search filters. */
    valueJson: text("value_json"),
    rationale: text("rationale"),
    metadata: text("metadata").notNull().default("{}"),
    overrides: text("overrides"),
    valid: integer("valid").notNull().default(1),
    createTime: integer("create_time").notNull(),
    lastUpdateTime: integer("last_update_time").notNull(),
  },
  (t) => [index("trace_assessments_trace").on(t.traceId), index("trace_assessments_kind_name").on(t.kind, t.name)],
);

/** traces/link-to-run: a trace can be linked to runs besides the one in its mlflow.sourceRun metadata. */
export const traceRunLinks = sqliteTable(
  "trace_run_links",
  {
    traceId: text("trace_id")
      .notNull()
      .references(() => traces.traceId, { onDelete: "cascade" }),
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
  },
  (t) => [primaryKey({ columns: [t.traceId, t.runUuid] }), index("trace_run_links_run").on(t.runUuid)],
);

/** MLflow 3 run inputs: the logged models a run used (log-inputs `models`). */
export const runModelInputs = sqliteTable(
  "run_model_inputs",
  {
    runUuid: text("run_uuid")
      .notNull()
      .references(() => runs.runUuid),
    modelId: text("model_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runUuid, t.modelId] })],
);

/**
 * Metric points logged with a model_id (MLflow 3): besides the run's history they are the logged
 * model's metrics, optionally for one dataset. Only the latest point per (model, key, dataset) is
 * kept, which is what a LoggedModel carries and what logged-model search filters and orders by.
 */
export const loggedModelMetrics = sqliteTable(
  "logged_model_metrics",
  {
    modelId: text("model_id").notNull(),
    key: text("key").notNull(),
    /** "" when the metric names no dataset. */
    datasetName: text("dataset_name").notNull().default(""),
    datasetDigest: text("dataset_digest").notNull().default(""),
    runUuid: text("run_uuid").notNull(),
    step: integer("step").notNull(),
    timestamp: integer("timestamp").notNull(),
    value: real("value").notNull(),
    isNan: integer("is_nan").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.key, t.datasetName, t.datasetDigest] }), index("logged_model_metrics_key").on(t.key, t.value)],
);

// ---------------------------------------------------------------------------------------------
// Pipelines (built-in tasks and data-aware triggers): what each pipeline run read and made in the
// other pillars (dataset versions, monitors, model versions), for the lineage graph.
// ---------------------------------------------------------------------------------------------

export const pipelineRunLinks = sqliteTable(
  "pipeline_run_links",
  {
    runId: text("run_id")
      .notNull()
      .references(() => pipelineRuns.runId, { onDelete: "cascade" }),
    /** The task that read or made the object; "" for the run itself (the version that triggered it). */
    taskId: text("task_id").notNull(),
    /** A lineage node kind: dataset_version, monitor or model_version. */
    nodeKind: text("node_kind").notNull(),
    nodeKey: text("node_key").notNull(),
    /** How the run touched it: triggered, snapshot, drift_checked, drift_report, registered, sensed, ... */
    edge: text("edge").notNull(),
    /** input: data flowed from the object into the run; output: from the run into the object. */
    direction: text("direction", { enum: ["input", "output"] }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.taskId, t.nodeKind, t.nodeKey, t.edge] }), index("pipeline_run_links_node").on(t.nodeKind, t.nodeKey)],
);

// ---------------------------------------------------------------------------------------------
// Idempotency-Key: the first response to a keyed native write, replayed to retries of it.
// ---------------------------------------------------------------------------------------------

/**
 * One row per (principal, Idempotency-Key). A row without a status is a request still running (its
 * reservation); with one, the response that retries get back. Rows expire 24 h after created_at.
 */
export const idempotentRequests = sqliteTable(
  "idempotent_requests",
  {
    /** Who sent it: "open", "bootstrap" or "token:<id>": keys of different principals never meet. */
    principal: text("principal").notNull(),
    key: text("key").notNull(),
    /** SHA-256 over method, path with query, and the body's SHA-256. */
    fingerprint: text("fingerprint").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    /** A random id of the request that holds the reservation: only it may complete or release it. */
    owner: text("owner").notNull(),
    status: integer("status"),
    /** JSON object of the response headers worth replaying (content type, location). */
    headers: text("headers"),
    /** The response body; null with a status when the body was not kept (too large, or a secret). */
    body: text("body"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.principal, t.key] }), index("idempotent_requests_created_at").on(t.createdAt)],
);
