/**
 * Pipeline specs: reading a DAG spec from JSON or YAML, checking it (shape, task kinds, dependencies,
 * cycles, cron, time zone, dates, templates, branch targets) and resolving defaults, so that the rest
 * of the pillar works on a complete, valid PipelineSpec. Every problem is reported with its path in
 * the spec (`tasks.features.depends_on[1]: ...`), all of them at once.
 */
import { parseDocument } from "yaml";
import { z } from "zod";
import { parseDuration } from "./durations";
import { parseSchedule } from "./schedule";
import { TemplateError, templateRefs, type TemplateRef } from "./template";
import { isValidTimeZone, parseDateTime } from "./time";

export const TASK_KINDS = ["noop", "http", "agent", "branch", "wait", "dataset_snapshot", "drift_check", "tuning_study", "register_model", "dataset_sensor"] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const TRIGGER_RULES = [
  "all_success",
  "all_failed",
  "all_done",
  "one_success",
  "one_failed",
  "none_failed",
  "none_failed_min_one_success",
  "none_skipped",
  "always",
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;

/** Airflow's defaults: no retries, 300 s between tries, backoff capped at one day. */
export const DEFAULT_RETRY_DELAY_S = 300;
export const MAX_RETRY_DELAY_S = 86_400;
export const MAX_TASKS = 1000;
const DEFAULT_HTTP_TIMEOUT_S = 60;
/** A snapshot downloads a whole file, so it gets longer than an API call by default. */
const DEFAULT_SNAPSHOT_TIMEOUT_S = 300;
/** Airflow's sensor defaults: poke every 60 s, give up after 7 days. */
export const DEFAULT_POKE_INTERVAL_S = 60;
export const DEFAULT_SENSOR_TIMEOUT_S = 7 * 86_400;
const MIN_POKE_INTERVAL_S = 1;
/** The datasets pillar's naming rule, repeated here so specs are checked without it. */
export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const TRIAL_STATES = ["COMPLETE", "PRUNED", "FAIL"] as const;
/** Optuna's MaxTrialsCallback counts these by default. */
const DEFAULT_COUNTED_STATES: (typeof TRIAL_STATES)[number][] = ["COMPLETE", "PRUNED"];

export interface RetryPolicy {
  retries: number;
  retry_delay_s: number;
  retry_exponential_backoff: boolean;
  max_retry_delay_s: number | null;
}

interface TaskBase extends RetryPolicy {
  depends_on: string[];
  trigger_rule: TriggerRule;
  execution_timeout_s: number | null;
}

export type TaskSpec = TaskBase &
  (
    | { kind: "noop" }
    | { kind: "http"; method: (typeof HTTP_METHODS)[number]; url: string; headers: Record<string, string>; body?: unknown; timeout_s: number }
    | { kind: "agent"; queue: string; command: string; env: Record<string, string> }
    | { kind: "branch"; value: unknown; cases: Record<string, string[]>; default: string[] }
    | { kind: "wait"; until?: string; seconds?: number }
    | {
        kind: "dataset_snapshot";
        method: (typeof HTTP_METHODS)[number];
        url: string;
        headers: Record<string, string>;
        body?: unknown;
        timeout_s: number;
        dataset: string;
        file_name?: string;
        message?: string;
        content_type?: string;
        skip_if_unchanged: boolean;
        create_dataset: boolean;
      }
    | { kind: "drift_check"; monitor: string; dataset?: string; dataset_version?: number | string; fail_on_drift: boolean }
    | {
        kind: "tuning_study";
        study: string;
        n_trials: number;
        directions?: ("minimize" | "maximize")[];
        sampler?: Record<string, unknown>;
        pruner?: Record<string, unknown>;
        count_states: (typeof TRIAL_STATES)[number][];
        poke_interval_s: number;
        timeout_s: number;
      }
    | { kind: "register_model"; name: string; run_id: string; model_path: string; source?: string; alias?: string; description?: string; tags: Record<string, string> }
    | { kind: "dataset_sensor"; dataset: string; newer_than?: number | string; poke_interval_s: number; timeout_s: number }
  );

/** Kinds that wait for something outside the run, poking again on the run's alarm. */
export const SENSOR_KINDS: ReadonlySet<TaskKind> = new Set(["dataset_sensor", "tuning_study"]);

export interface PipelineSpec {
  description: string | null;
  /** A 5-field cron expression (presets already expanded), or null for manual runs only. */
  schedule: string | null;
  /**
   * Data-aware triggers: datasets whose every new version starts a run (`schedule: {datasets: [...]}`).
   * Absent in specs stored before triggers existed: read it as `spec.datasets ?? []`.
   */
  datasets?: string[];
  timezone: string;
  catchup: boolean;
  start_date: number | null;
  end_date: number | null;
  max_active_runs: number;
  max_active_tasks: number;
  params: Record<string, unknown>;
  tasks: Record<string, TaskSpec>;
}

export interface SpecIssue {
  path: string;
  message: string;
}

export class SpecError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(issues.slice(0, 10).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; "));
    this.name = "SpecError";
  }
}

export const TASK_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$/;
const duration = z.union([z.number(), z.string()]).refine((v) => parseDuration(v) !== null, 'must be seconds or a duration such as "30s", "5m", "1h"');
const taskIdList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
const json = z.json();

const retryFields = {
  retries: z.number().int().min(0).max(100).optional(),
  retry_delay: duration.optional(),
  retry_exponential_backoff: z.boolean().optional(),
  max_retry_delay: duration.optional(),
  execution_timeout: duration.optional(),
};

const commonFields = {
  kind: z.string(),
  depends_on: taskIdList.optional(),
  trigger_rule: z.enum(TRIGGER_RULES).optional(),
  description: z.string().max(2000).optional(),
  ...retryFields,
};

const KIND_SCHEMAS = {
  noop: z.object(commonFields).strict(),
  http: z
    .object({
      ...commonFields,
      url: z.string().min(1).max(4000),
      method: z.enum(HTTP_METHODS).default("GET"),
      headers: z.record(z.string().min(1).max(200), z.string().max(8000)).default({}),
      body: json.optional(),
      timeout: duration.optional(),
    })
    .strict(),
  agent: z
    .object({
      ...commonFields,
      queue: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a queue name is 1-64 letters, digits, '_', '.' or '-'").default("default"),
      command: z.string().min(1).max(20_000),
      env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"), z.string().max(20_000)).default({}),
    })
    .strict(),
  branch: z
    .object({
      ...commonFields,
      value: json,
      cases: z.record(z.string(), taskIdList).default({}),
      default: taskIdList.default([]),
    })
    .strict(),
  wait: z
    .object({ ...commonFields, until: z.string().min(1).max(200).optional(), seconds: duration.optional() })
    .strict()
    .refine((w) => (w.until === undefined) !== (w.seconds === undefined), { message: "give exactly one of 'until' or 'seconds'" }),
  dataset_snapshot: z
    .object({
      ...commonFields,
      url: z.string().min(1).max(4000),
      method: z.enum(HTTP_METHODS).default("GET"),
      headers: z.record(z.string().min(1).max(200), z.string().max(8000)).default({}),
      body: json.optional(),
      timeout: duration.optional(),
      dataset: z.string().min(1).max(200),
      file_name: z.string().min(1).max(1024).optional(),
      message: z.string().max(5000).optional(),
      content_type: z.string().min(1).max(200).optional(),
      skip_if_unchanged: z.boolean().default(false),
      create_dataset: z.boolean().default(true),
    })
    .strict(),
  drift_check: z
    .object({
      ...commonFields,
      monitor: z.string().min(1).max(200),
      dataset: z.string().min(1).max(200).optional(),
      dataset_version: z.union([z.number().int().min(1), z.string().min(1).max(200)]).optional(),
      fail_on_drift: z.boolean().default(false),
    })
    .strict(),
  tuning_study: z
    .object({
      ...commonFields,
      study: z.string().min(1).max(200),
      n_trials: z.number().int().min(1).max(100_000),
      direction: z.enum(["minimize", "maximize"]).optional(),
      directions: z.array(z.enum(["minimize", "maximize"])).min(1).max(16).optional(),
      sampler: z.record(z.string(), json).optional(),
      pruner: z.record(z.string(), json).optional(),
      count_states: z.array(z.enum(TRIAL_STATES)).min(1).optional(),
      poke_interval: duration.optional(),
      timeout: duration.optional(),
    })
    .strict()
    .refine((t) => t.direction === undefined || t.directions === undefined, { message: "give 'direction' or 'directions', not both" }),
  register_model: z
    .object({
      ...commonFields,
      name: z.string().min(1).max(250),
      run_id: z.string().min(1).max(200),
      model_path: z.string().min(1).max(1000).default("model"),
      source: z.string().min(1).max(4000).optional(),
      alias: z.string().min(1).max(255).optional(),
      description: z.string().max(5000).optional(),
      tags: z.record(z.string().min(1).max(250), z.string().max(5000)).default({}),
    })
    .strict(),
  dataset_sensor: z
    .object({
      ...commonFields,
      dataset: z.string().min(1).max(200),
      newer_than: z.union([z.number().int().min(0), z.string().min(1).max(200)]).optional(),
      poke_interval: duration.optional(),
      timeout: duration.optional(),
    })
    .strict(),
} satisfies Record<TaskKind, z.ZodType>;

const datasetList = z.array(z.string().min(1).max(200)).min(1).max(20);
/** `schedule` is a cron expression or preset, or a data-aware trigger (optionally with a cron as well). */
const ScheduleShape = z.union([
  z.string().max(200),
  z
    .object({ cron: z.string().max(200).optional(), dataset: z.string().min(1).max(200).optional(), datasets: datasetList.optional() })
    .strict()
    .refine((s) => (s.dataset === undefined) !== (s.datasets === undefined), { message: "give exactly one of 'dataset' or 'datasets' (or write the cron expression as a string)" }),
]);

const PipelineShape = z
  .object({
    description: z.string().max(5000).optional(),
    schedule: ScheduleShape.nullable().optional(),
    timezone: z.string().max(100).default("UTC"),
    catchup: z.boolean().default(false),
    start_date: z.string().max(40).optional(),
    end_date: z.string().max(40).optional(),
    max_active_runs: z.number().int().min(1).max(100).default(16),
    max_active_tasks: z.number().int().min(1).max(1000).default(16),
    params: z.record(z.string(), json).default({}),
    default_args: z.object({ ...retryFields, trigger_rule: z.enum(TRIGGER_RULES).optional() }).strict().optional(),
    tasks: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .strict();

function zodIssues(error: z.ZodError, prefix: (string | number)[]): SpecIssue[] {
  return error.issues.map((i) => ({ path: formatPath([...prefix, ...(i.path as (string | number)[])]), message: i.message }));
}

export function formatPath(path: (string | number)[]): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

/** Reads JSON or YAML text (JSON is YAML, so one parser serves both) into a plain value. */
export function readSpecText(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    const what = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new SpecError([{ path: "spec", message: `not valid YAML or JSON${where}: ${what}` }]);
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Finds one dependency cycle, as the list of task ids along it (first = last), or null. */
export function findCycle(deps: Record<string, string[]>): string[] | null {
  const color = new Map<string, 0 | 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    color.set(id, 1);
    stack.push(id);
    for (const up of deps[id] ?? []) {
      if (!(up in deps)) continue;
      const c = color.get(up) ?? 0;
      if (c === 1) return [...stack.slice(stack.indexOf(up)), up];
      if (c === 0) {
        const found = visit(up);
        if (found) return found;
      }
    }
    stack.pop();
    color.set(id, 2);
    return null;
  };
  for (const id of Object.keys(deps).sort()) {
    if ((color.get(id) ?? 0) === 0) {
      const found = visit(id);
      // Found walking upstream; report it in the direction work flows.
      if (found) return found.reverse();
    }
  }
  return null;
}

/** Every task upstream of each task (transitively). */
export function ancestors(deps: Record<string, string[]>): Record<string, Set<string>> {
  const memo: Record<string, Set<string>> = {};
  const of = (id: string): Set<string> => {
    if (memo[id]) return memo[id];
    const out = new Set<string>();
    memo[id] = out;
    for (const up of deps[id] ?? []) {
      out.add(up);
      for (const a of of(up)) out.add(a);
    }
    return out;
  };
  for (const id of Object.keys(deps)) of(id);
  return memo;
}

const ARG_FIELDS: Record<TaskKind, string[]> = {
  noop: [],
  http: ["url", "headers", "body"],
  agent: ["command", "env"],
  branch: ["value"],
  wait: ["until"],
  dataset_snapshot: ["url", "headers", "body", "dataset", "file_name", "message"],
  drift_check: ["monitor", "dataset", "dataset_version"],
  tuning_study: ["study"],
  register_model: ["name", "run_id", "model_path", "source", "alias", "description", "tags"],
  dataset_sensor: ["dataset", "newer_than"],
};

/** Fields that name a dataset: checked against the naming rule unless they are templates. */
function checkDatasetName(value: string | undefined, path: string, issues: SpecIssue[]): void {
  if (value === undefined || value.includes("{{")) return;
  if (!DATASET_NAME.test(value)) issues.push({ path, message: `'${value}' is not a dataset name (letters, digits, '.', '_' and '-', at most 128, starting with a letter or digit)` });
}

function seconds(v: number | string | undefined): number | undefined {
  return v === undefined ? undefined : (parseDuration(v) as number);
}

/**
 * Parses and checks a spec given as text (JSON or YAML) or as an already-parsed value.
 * Throws SpecError listing every problem found.
 */
export function parsePipelineSpec(input: unknown): PipelineSpec {
  const raw = typeof input === "string" ? readSpecText(input) : input;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SpecError([{ path: "spec", message: "must be an object with at least 'tasks'" }]);
  }
  const top = PipelineShape.safeParse(raw);
  if (!top.success) throw new SpecError(zodIssues(top.error, []));
  const p = top.data;
  const issues: SpecIssue[] = [];

  let schedule: string | null = null;
  let triggerDatasets: string[] = [];
  const cronText = typeof p.schedule === "string" ? p.schedule : (p.schedule?.cron ?? null);
  if (p.schedule != null && typeof p.schedule === "object") {
    const list = p.schedule.datasets;
    const names = list ?? [p.schedule.dataset!];
    names.forEach((n, i) => {
      const path = list ? `schedule.datasets[${i}]` : "schedule.dataset";
      if (n.includes("{{")) issues.push({ path, message: "a trigger names its dataset literally (no templates)" });
      else checkDatasetName(n, path, issues);
    });
    triggerDatasets = [...new Set(names)];
  }
  if (!isValidTimeZone(p.timezone)) issues.push({ path: "timezone", message: `unknown time zone '${p.timezone}' (use an IANA name such as 'Asia/Seoul' or 'UTC')` });
  else if (cronText != null) {
    const parsed = parseSchedule(cronText, p.timezone);
    if ("error" in parsed) issues.push({ path: typeof p.schedule === "string" ? "schedule" : "schedule.cron", message: parsed.error });
    else schedule = parsed.cron;
  }
  const tz = isValidTimeZone(p.timezone) ? p.timezone : "UTC";
  const date = (field: "start_date" | "end_date"): number | null => {
    const v = p[field];
    if (v === undefined) return null;
    const t = parseDateTime(v, tz);
    if (t === null) issues.push({ path: field, message: `'${v}' is not a date (write YYYY-MM-DD or YYYY-MM-DDTHH:MM, optionally with Z or an offset)` });
    return t;
  };
  const start_date = date("start_date");
  const end_date = date("end_date");
  if (start_date !== null && end_date !== null && end_date < start_date) issues.push({ path: "end_date", message: "is before start_date" });

  const ids = Object.keys(p.tasks);
  if (ids.length === 0) issues.push({ path: "tasks", message: "a pipeline needs at least one task" });
  if (ids.length > MAX_TASKS) issues.push({ path: "tasks", message: `at most ${MAX_TASKS} tasks (got ${ids.length})` });

  const defaults = p.default_args ?? {};
  const tasks: Record<string, TaskSpec> = {};
  for (const id of ids) {
    const at = ["tasks", id];
    if (!TASK_ID.test(id)) {
      issues.push({ path: formatPath(at), message: "a task id is 1-100 letters, digits, '_' or '-', not starting with '-'" });
      continue;
    }
    const t = p.tasks[id];
    const kind = t.kind;
    if (typeof kind !== "string") {
      issues.push({ path: formatPath([...at, "kind"]), message: `missing (one of ${TASK_KINDS.join(", ")})` });
      continue;
    }
    if (!(TASK_KINDS as readonly string[]).includes(kind)) {
      issues.push({ path: formatPath([...at, "kind"]), message: `unknown task kind '${kind}' (known kinds: ${TASK_KINDS.join(", ")})` });
      continue;
    }
    const parsed = KIND_SCHEMAS[kind as TaskKind].safeParse(t);
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error, at));
      continue;
    }
    const d = parsed.data as Record<string, unknown> & z.infer<(typeof KIND_SCHEMAS)["noop"]>;
    const base: TaskBase = {
      depends_on: [...new Set(d.depends_on ?? [])],
      trigger_rule: d.trigger_rule ?? defaults.trigger_rule ?? "all_success",
      retries: d.retries ?? defaults.retries ?? 0,
      retry_delay_s: seconds(d.retry_delay ?? defaults.retry_delay) ?? DEFAULT_RETRY_DELAY_S,
      retry_exponential_backoff: d.retry_exponential_backoff ?? defaults.retry_exponential_backoff ?? false,
      max_retry_delay_s: seconds(d.max_retry_delay ?? defaults.max_retry_delay) ?? null,
      execution_timeout_s: seconds(d.execution_timeout ?? defaults.execution_timeout) ?? null,
    };
    switch (kind as TaskKind) {
      case "noop":
        tasks[id] = { ...base, kind: "noop" };
        break;
      case "http": {
        const h = d as unknown as z.infer<(typeof KIND_SCHEMAS)["http"]>;
        tasks[id] = { ...base, kind: "http", method: h.method, url: h.url, headers: h.headers, ...(h.body !== undefined ? { body: h.body } : {}), timeout_s: seconds(h.timeout) ?? DEFAULT_HTTP_TIMEOUT_S };
        if (!h.url.includes("{{") && !/^https?:\/\/[^/\s]+/i.test(h.url)) issues.push({ path: formatPath([...at, "url"]), message: `'${h.url}' is not an http(s) URL` });
        break;
      }
      case "agent": {
        const a = d as unknown as z.infer<(typeof KIND_SCHEMAS)["agent"]>;
        tasks[id] = { ...base, kind: "agent", queue: a.queue, command: a.command, env: a.env };
        break;
      }
      case "branch": {
        const b = d as unknown as z.infer<(typeof KIND_SCHEMAS)["branch"]>;
        tasks[id] = { ...base, kind: "branch", value: b.value, cases: b.cases, default: b.default };
        break;
      }
      case "wait": {
        const w = d as unknown as z.infer<(typeof KIND_SCHEMAS)["wait"]>;
        tasks[id] = { ...base, kind: "wait", ...(w.until !== undefined ? { until: w.until } : {}), ...(w.seconds !== undefined ? { seconds: seconds(w.seconds) } : {}) };
        break;
      }
      case "dataset_snapshot": {
        const t = d as unknown as z.infer<(typeof KIND_SCHEMAS)["dataset_snapshot"]>;
        tasks[id] = {
          ...base,
          kind: "dataset_snapshot",
          method: t.method,
          url: t.url,
          headers: t.headers,
          ...(t.body !== undefined ? { body: t.body } : {}),
          timeout_s: seconds(t.timeout) ?? DEFAULT_SNAPSHOT_TIMEOUT_S,
          dataset: t.dataset,
          ...(t.file_name !== undefined ? { file_name: t.file_name } : {}),
          ...(t.message !== undefined ? { message: t.message } : {}),
          ...(t.content_type !== undefined ? { content_type: t.content_type } : {}),
          skip_if_unchanged: t.skip_if_unchanged,
          create_dataset: t.create_dataset,
        };
        if (!t.url.includes("{{") && !/^https?:\/\/[^/\s]+/i.test(t.url)) issues.push({ path: formatPath([...at, "url"]), message: `'${t.url}' is not an http(s) URL` });
        checkDatasetName(t.dataset, formatPath([...at, "dataset"]), issues);
        break;
      }
      case "drift_check": {
        const t = d as unknown as z.infer<(typeof KIND_SCHEMAS)["drift_check"]>;
        tasks[id] = {
          ...base,
          kind: "drift_check",
          monitor: t.monitor,
          ...(t.dataset !== undefined ? { dataset: t.dataset } : {}),
          ...(t.dataset_version !== undefined ? { dataset_version: t.dataset_version } : {}),
          fail_on_drift: t.fail_on_drift,
        };
        checkDatasetName(t.dataset, formatPath([...at, "dataset"]), issues);
        break;
      }
      case "tuning_study": {
        const t = d as unknown as z.infer<(typeof KIND_SCHEMAS)["tuning_study"]>;
        const directions = t.directions ?? (t.direction ? [t.direction] : undefined);
        tasks[id] = {
          ...base,
          kind: "tuning_study",
          study: t.study,
          n_trials: t.n_trials,
          ...(directions ? { directions } : {}),
          ...(t.sampler ? { sampler: t.sampler } : {}),
          ...(t.pruner ? { pruner: t.pruner } : {}),
          count_states: [...new Set(t.count_states ?? DEFAULT_COUNTED_STATES)],
          poke_interval_s: Math.max(MIN_POKE_INTERVAL_S, seconds(t.poke_interval) ?? 10),
          timeout_s: seconds(t.timeout) ?? DEFAULT_SENSOR_TIMEOUT_S,
        };
        if (t.sampler && typeof t.sampler.type !== "string") issues.push({ path: formatPath([...at, "sampler", "type"]), message: "name the sampler type (random, grid, tpe, cmaes, ...)" });
        if (t.pruner && typeof t.pruner.type !== "string") issues.push({ path: formatPath([...at, "pruner", "type"]), message: "name the pruner type (median, percentile, successive_halving, hyperband, threshold, ...)" });
        break;
      }
      case "register_model": {
        const t = d as unknown as z.infer<(typeof KIND_SCHEMAS)["register_model"]>;
        tasks[id] = {
          ...base,
          kind: "register_model",
          name: t.name,
          run_id: t.run_id,
          model_path: t.model_path,
          ...(t.source !== undefined ? { source: t.source } : {}),
          ...(t.alias !== undefined ? { alias: t.alias } : {}),
          ...(t.description !== undefined ? { description: t.description } : {}),
          tags: t.tags,
        };
        if (t.model_path.split("/").includes("..") || t.model_path.startsWith("/")) issues.push({ path: formatPath([...at, "model_path"]), message: "must be a relative path inside the run's artifacts (no '..', no leading '/')" });
        if (t.alias !== undefined && !t.alias.includes("{{") && (!/^[A-Za-z0-9_-]+$/.test(t.alias) || /^v\d+$/i.test(t.alias) || t.alias.toLowerCase() === "latest")) {
          issues.push({ path: formatPath([...at, "alias"]), message: `'${t.alias}' is not a usable alias (letters, digits, '_' and '-'; not 'latest' nor v<number>)` });
        }
        break;
      }
      case "dataset_sensor": {
        const t = d as unknown as z.infer<(typeof KIND_SCHEMAS)["dataset_sensor"]>;
        tasks[id] = {
          ...base,
          kind: "dataset_sensor",
          dataset: t.dataset,
          ...(t.newer_than !== undefined ? { newer_than: t.newer_than } : {}),
          poke_interval_s: Math.max(MIN_POKE_INTERVAL_S, seconds(t.poke_interval) ?? DEFAULT_POKE_INTERVAL_S),
          timeout_s: seconds(t.timeout) ?? DEFAULT_SENSOR_TIMEOUT_S,
        };
        checkDatasetName(t.dataset, formatPath([...at, "dataset"]), issues);
        break;
      }
    }
  }

  // Dependencies: every id must exist; then no cycles.
  const deps: Record<string, string[]> = {};
  for (const [id, t] of Object.entries(tasks)) {
    deps[id] = [];
    t.depends_on.forEach((up, i) => {
      if (!(up in p.tasks)) issues.push({ path: `tasks.${id}.depends_on[${i}]`, message: `unknown task '${up}'` });
      else deps[id].push(up);
    });
  }
  const cycle = findCycle(deps);
  if (cycle) issues.push({ path: `tasks.${cycle[0]}.depends_on`, message: `dependency cycle: ${cycle.join(" → ")}` });

  if (!cycle) {
    const up = ancestors(deps);
    const downstream: Record<string, Set<string>> = {};
    for (const [id, ds] of Object.entries(deps)) for (const u of ds) (downstream[u] ??= new Set()).add(id);
    for (const [id, t] of Object.entries(tasks)) {
      // Templates: well-formed, outputs only of upstream tasks, secrets only in http headers.
      for (const field of ARG_FIELDS[t.kind]) {
        const value = (t as unknown as Record<string, unknown>)[field];
        if (value === undefined) continue;
        let refs: TemplateRef[];
        try {
          refs = templateRefs(value);
        } catch (err) {
          if (err instanceof TemplateError) {
            issues.push({ path: `tasks.${id}.${field}`, message: err.message });
            continue;
          }
          throw err;
        }
        for (const ref of refs) {
          if (ref.root === "outputs") {
            const src = ref.path[0];
            if (typeof src !== "string") issues.push({ path: `tasks.${id}.${field}`, message: `${ref.text}: write outputs.TASK_ID...` });
            else if (!(src in p.tasks)) issues.push({ path: `tasks.${id}.${field}`, message: `${ref.text}: unknown task '${src}'` });
            else if (!up[id].has(src)) issues.push({ path: `tasks.${id}.${field}`, message: `${ref.text}: task '${src}' is not upstream of '${id}', so its output is not known when '${id}' runs` });
          } else if (ref.root === "secrets" && !((t.kind === "http" || t.kind === "dataset_snapshot") && field === "headers")) {
            issues.push({ path: `tasks.${id}.${field}`, message: `${ref.text}: secrets may only be used in http headers` });
          } else if (ref.root === "secrets" && (ref.path.length !== 1 || !/^[A-Z][A-Z0-9_]*$/.test(String(ref.path[0])))) {
            issues.push({ path: `tasks.${id}.${field}`, message: `${ref.text}: a secret name is UPPER_CASE letters, digits and '_'` });
          }
        }
      }
      if (t.kind === "branch") {
        const targets = [...Object.entries(t.cases).flatMap(([k, v]) => v.map((x, i) => [`cases.${k}[${i}]`, x] as const)), ...t.default.map((x, i) => [`default[${i}]`, x] as const)];
        for (const [where, target] of targets) {
          if (!downstream[id]?.has(target)) {
            issues.push({ path: `tasks.${id}.${where}`, message: `'${target}' is not a task that depends directly on '${id}'` });
          }
        }
      }
    }
  }

  if (issues.length) throw new SpecError(issues);
  return {
    description: p.description ?? null,
    schedule,
    datasets: triggerDatasets,
    timezone: tz,
    catchup: p.catchup,
    start_date,
    end_date,
    max_active_runs: p.max_active_runs,
    max_active_tasks: p.max_active_tasks,
    params: p.params,
    tasks,
  };
}

/** Direct downstream tasks of each task. */
export function downstreamOf(spec: Pick<PipelineSpec, "tasks">): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const id of Object.keys(spec.tasks)) out[id] = [];
  for (const [id, t] of Object.entries(spec.tasks)) for (const up of t.depends_on) out[up].push(id);
  return out;
}
