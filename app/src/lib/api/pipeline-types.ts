/**
 * The pipelines API's wire shapes (type-only imports, so the pure pipeline modules and their Node tests
 * can use them).
 */
import type { AttemptRecord } from "../../../../worker/lib/pipelines/attempts";
import type { RunStateName, TaskState } from "../../../../worker/lib/pipelines/machine";

// The state names are the run state machine's own: the API reports them as the machine sets them.
export type { TaskState };
/** One try of a task as the run records it (the API's TaskAttempt). */
export type TaskAttempt = AttemptRecord;
export type RunState = RunStateName;
export type RunType = "manual" | "scheduled" | "backfill";

/** A task of a checked spec. Kinds beyond the ones named here are shown generically. */
export interface TaskSpec {
  kind: string;
  depends_on: string[];
  trigger_rule: string;
  retries: number;
  retry_delay_s: number;
  retry_exponential_backoff: boolean;
  max_retry_delay_s: number | null;
  execution_timeout_s: number | null;
  [field: string]: unknown;
}

export interface PipelineSpec {
  description: string | null;
  schedule: string | null;
  timezone: string;
  catchup: boolean;
  start_date: number | null;
  end_date: number | null;
  max_active_runs: number;
  max_active_tasks: number;
  params: Record<string, unknown>;
  tasks: Record<string, TaskSpec>;
}

export interface LastRun {
  run_id: string;
  state: RunState;
  logical_date: number;
}

export interface PipelineSummary {
  pipeline_id: string;
  name: string;
  version: number;
  paused: boolean;
  description: string | null;
  schedule: string | null;
  timezone: string;
  catchup: boolean;
  next_run_at: number | null;
  next_logical_date: number | null;
  last_runs: LastRun[];
  created_at: number;
  updated_at: number;
}

export interface Pipeline extends PipelineSummary {
  spec: PipelineSpec;
  source: string;
}

export interface PipelineVersion {
  pipeline_id: string;
  version: number;
  created_at: number;
  spec: PipelineSpec;
  source: string;
}

export interface RunSummary {
  run_id: string;
  pipeline_id: string;
  version: number;
  run_type: RunType;
  state: RunState;
  logical_date: number;
  data_interval_start: number;
  data_interval_end: number;
  conf: Record<string, unknown>;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}

export interface TaskInstance {
  task_id: string;
  kind: string;
  state: TaskState;
  try_number: number;
  max_tries: number;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  output: unknown;
  error: string | null;
  retry_at: number | null;
  agent_id: string | null;
  /** Every recorded try, newest first. */
  attempts: TaskAttempt[];
}

export interface RunDetail extends Omit<RunSummary, "created_at"> {
  tasks: TaskInstance[];
}

export interface TaskLog {
  run_id: string;
  task_id: string;
  try_number: number;
  text: string;
  /** Still being written: the attempt's agent is streaming it. */
  live: boolean;
}

export interface BackfillResult {
  run_ids: string[];
  logical_dates: number[];
  existing: number;
}

/** A time as the API takes it: milliseconds since the epoch or an ISO 8601 date-time. */
export type ApiTime = number | string;
