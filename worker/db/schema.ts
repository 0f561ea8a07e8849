/**
 * The drizzle schema: the single source of Tern's D1 tables. `npm run db:generate` turns changes
 * here into a new SQL migration in drizzle/.
 */
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
