/**
 * Attempt history of a pipeline run's tasks, as a pure function of two successive run states. The
 * state machine keeps only each task's current attempt; the run's owner records, after every step, what
 * each attempt looked like when it last changed, so every try keeps its own record (Airflow's task
 * instance history): the state it ended in, its times, the agent that ran it and its error.
 *
 * Rules, following Airflow:
 * - An attempt's record follows its task instance while that attempt is the current one (queued,
 *   running, then success, failed or up_for_retry; a mark of the current attempt changes it too).
 * - Clearing a task keeps the history: the cleared attempt's record stays as it was and numbering
 *   continues. An attempt still queued or running when cleared is closed as failed ("cleared while ...").
 * - Marking a task that was cleared (or never ran) before it ran again makes no attempt record.
 */
import type { RunState, TaskInstance, TaskState } from "./machine";

export const ATTEMPT_STATES = ["queued", "running", "success", "failed", "up_for_retry"] as const satisfies readonly TaskState[];
export type AttemptState = (typeof ATTEMPT_STATES)[number];
const isAttemptState = (s: TaskState): s is AttemptState => (ATTEMPT_STATES as readonly string[]).includes(s);
const ACTIVE: ReadonlySet<TaskState> = new Set(["queued", "running"]);

/** Attempts kept per task; older ones are dropped (their logs stay in R2). */
export const MAX_ATTEMPTS_KEPT = 100;

export interface AttemptRecord {
  try_number: number;
  state: AttemptState;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  /** ended_at - started_at once the attempt has ended; null while it runs or if it never started. */
  duration_ms: number | null;
  /** The agent that ran it (agent tasks); null for attempts run inside Tern. */
  agent_id: string | null;
  /** Why it failed, including an agent command's exit status. */
  error: string | null;
}

export interface AttemptChange {
  task_id: string;
  record: AttemptRecord;
}

/** The record of a task instance's current attempt, or null when it is not in an attempt's state. */
export function currentAttempt(ti: TaskInstance): AttemptRecord | null {
  if (ti.try_number < 1 || !isAttemptState(ti.state)) return null;
  return {
    try_number: ti.try_number,
    state: ti.state,
    queued_at: ti.queued_at,
    started_at: ti.started_at,
    ended_at: ti.ended_at,
    duration_ms: ti.started_at !== null && ti.ended_at !== null ? Math.max(0, ti.ended_at - ti.started_at) : null,
    agent_id: ti.agent_id,
    error: ti.error,
  };
}

const sameAttempt = (a: TaskInstance, b: TaskInstance) =>
  a.try_number === b.try_number && a.state === b.state && a.queued_at === b.queued_at && a.started_at === b.started_at && a.ended_at === b.ended_at && a.agent_id === b.agent_id && a.error === b.error;

/** The attempt records that `before → after` (one applied step at `now`) creates or changes. */
export function attemptChanges(before: RunState | null, after: RunState, now: number): AttemptChange[] {
  const out: AttemptChange[] = [];
  for (const [task_id, ti] of Object.entries(after.tasks)) {
    const old = before?.tasks[task_id];
    if (old && sameAttempt(old, ti)) continue;
    // A cleared attempt that was still queued or running ends here.
    if (old && ACTIVE.has(old.state) && old.try_number > 0 && (ti.try_number !== old.try_number || ti.state === "none")) {
      const closed = currentAttempt(old)!;
      const ended = old.started_at !== null ? now : null;
      out.push({ task_id, record: { ...closed, state: "failed", ended_at: ended, duration_ms: ended !== null ? Math.max(0, ended - old.started_at!) : null, error: `cleared while ${old.state}` } });
    }
    // The same attempt reached again from "none" is a mark after a clear (or a retry wait): no new try.
    if (old && old.state === "none" && old.try_number === ti.try_number) continue;
    const record = currentAttempt(ti);
    if (record) out.push({ task_id, record });
  }
  return out;
}

/**
 * A task's attempt history for display: the stored records, newest first, with the current attempt
 * filled in from the task instance when no record of it exists (runs recorded before history was kept).
 */
export function attemptHistory(stored: AttemptRecord[], ti: TaskInstance): AttemptRecord[] {
  const byTry = new Map(stored.map((r) => [r.try_number, r]));
  const current = currentAttempt(ti);
  if (current && !byTry.has(current.try_number)) byTry.set(current.try_number, current);
  return [...byTry.values()].sort((a, b) => b.try_number - a.try_number);
}
