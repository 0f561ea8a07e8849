/**
 * The task state machine of one pipeline run, as a pure function:
 * (spec, run state, event, now) → (new run state, actions). The Durable Object that owns a run feeds it
 * events (start, task started/succeeded/failed, alarm ticks, clear, mark, cancel) and carries out the
 * actions (execute a task, put one up for an agent, abort one, set the alarm). Semantics follow
 * Airflow's: trigger rules with skip and upstream_failed propagation, retries with exponential backoff
 * and deterministic jitter, execution timeouts, branching, max_active_tasks, clear and mark.
 */
import { downstreamOf, MAX_RETRY_DELAY_S, type PipelineSpec, type RetryPolicy, type TaskSpec, type TriggerRule } from "./spec";
import { sha1Hex } from "./sha1";

export const TASK_STATES = ["none", "queued", "running", "success", "failed", "up_for_retry", "upstream_failed", "skipped"] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const RUN_STATES = ["queued", "running", "success", "failed"] as const;
export type RunStateName = (typeof RUN_STATES)[number];

const FINISHED: ReadonlySet<TaskState> = new Set(["success", "failed", "skipped", "upstream_failed"]);
const ACTIVE: ReadonlySet<TaskState> = new Set(["queued", "running"]);
export const isFinished = (s: TaskState) => FINISHED.has(s);

/** How long an in-process attempt may go without finishing before it is presumed lost (e.g. a restart). */
export const IN_PROCESS_GRACE_MS = 30_000;

export interface TaskInstance {
  state: TaskState;
  /** Attempts started so far (Airflow's try_number once the attempt runs). */
  try_number: number;
  /** Attempts allowed: retries + 1, raised again when the task is cleared. */
  max_tries: number;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  output: unknown;
  error: string | null;
  /** up_for_retry: when the next attempt may start. */
  retry_at: number | null;
  /** running: when execution_timeout runs out. */
  deadline: number | null;
  /** running: when the worker's lease ends unless renewed. */
  lease_until: number | null;
  /** running, deferred: when to execute the attempt again (a sensor's next poke). */
  wake_at: number | null;
  agent_id: string | null;
}

export interface RunState {
  run_id: string;
  pipeline_id: string;
  logical_date: number;
  state: RunStateName;
  started_at: number | null;
  ended_at: number | null;
  tasks: Record<string, TaskInstance>;
}

export type MachineEvent =
  | { type: "start" }
  | { type: "tick" }
  | { type: "task_started"; task_id: string; try_number: number; lease_until: number; agent_id?: string }
  | { type: "task_heartbeat"; task_id: string; try_number: number; lease_until: number }
  | { type: "task_succeeded"; task_id: string; try_number: number; output?: unknown }
  | { type: "task_failed"; task_id: string; try_number: number; error: string; retryable?: boolean }
  | { type: "task_deferred"; task_id: string; try_number: number; until: number }
  /** `requeue`: a finished run goes back to queued (to wait for a run slot) instead of running again at once. */
  | { type: "clear"; task_ids: string[]; downstream?: boolean; requeue?: boolean }
  | { type: "mark"; task_ids: string[]; state: "success" | "failed" }
  | { type: "cancel"; reason?: string };

export type MachineAction =
  /** Run the attempt in-process (every kind but agent: noop, http, branch, wait and the built-ins). */
  | { type: "execute"; task_id: string; try_number: number }
  /** Offer the attempt to agents on the task's queue. */
  | { type: "enqueue"; task_id: string; try_number: number; queue: string }
  /** Stop an attempt that no longer counts (timeout, lost lease, clear, mark, cancel). */
  | { type: "abort"; task_id: string; try_number: number; reason: string }
  | { type: "set_alarm"; at: number }
  | { type: "delete_alarm" }
  | { type: "run_finished"; state: "success" | "failed" };

export interface StepResult {
  state: RunState;
  actions: MachineAction[];
  /** False when the event did not apply (a stale attempt, an unknown task, a finished run). */
  applied: boolean;
}

export class MachineError extends Error {}

function freshInstance(task: TaskSpec): TaskInstance {
  return {
    state: "none",
    try_number: 0,
    max_tries: task.retries + 1,
    queued_at: null,
    started_at: null,
    ended_at: null,
    output: null,
    error: null,
    retry_at: null,
    deadline: null,
    lease_until: null,
    wake_at: null,
    agent_id: null,
  };
}

export function initialRunState(spec: PipelineSpec, init: { run_id: string; pipeline_id: string; logical_date: number }): RunState {
  return {
    ...init,
    state: "queued",
    started_at: null,
    ended_at: null,
    tasks: Object.fromEntries(Object.entries(spec.tasks).map(([id, t]) => [id, freshInstance(t)])),
  };
}

/**
 * Seconds to wait before the next try after attempt `tryNumber` failed (Airflow's next_retry_datetime):
 * a fixed retry_delay, or with exponential backoff min = ceil(delay · 2^(try−1)) (at least 1 s) plus a
 * jitter of sha1("pipeline#task#logical_date#try") mod min, capped at one day and at max_retry_delay.
 */
export function retryDelaySeconds(policy: RetryPolicy, key: { pipeline_id: string; task_id: string; logical_date: number; try_number: number }): number {
  if (!policy.retry_exponential_backoff) return policy.retry_delay_s;
  const minBackoff = Math.max(1, Math.ceil(policy.retry_delay_s * 2 ** (key.try_number - 1)));
  let delay: number;
  if (!Number.isSafeInteger(minBackoff)) delay = MAX_RETRY_DELAY_S;
  else {
    const hash = BigInt(`0x${sha1Hex(`${key.pipeline_id}#${key.task_id}#${new Date(key.logical_date).toISOString()}#${key.try_number}`)}`);
    delay = minBackoff + Number(hash % BigInt(minBackoff));
  }
  delay = Math.min(delay, MAX_RETRY_DELAY_S);
  if (policy.max_retry_delay_s !== null) delay = Math.min(delay, policy.max_retry_delay_s);
  return delay;
}

export type RuleVerdict = "wait" | "run" | "skip" | "upstream_failed";

export interface UpstreamCounts {
  total: number;
  success: number;
  failed: number;
  upstream_failed: number;
  skipped: number;
  /** Upstream tasks in a finished state. */
  done: number;
}

export function countUpstream(states: TaskState[]): UpstreamCounts {
  const c = { total: states.length, success: 0, failed: 0, upstream_failed: 0, skipped: 0, done: 0 };
  for (const s of states) {
    if (s === "success") c.success++;
    else if (s === "failed") c.failed++;
    else if (s === "upstream_failed") c.upstream_failed++;
    else if (s === "skipped") c.skipped++;
    if (FINISHED.has(s)) c.done++;
  }
  return c;
}

/**
 * A trigger rule over the upstream states (Airflow's TriggerRuleDep with upstream-failure flagging):
 * whether the task runs now, must keep waiting, or is skipped / upstream_failed without running.
 */
export function evaluateTriggerRule(rule: TriggerRule, c: UpstreamCounts): RuleVerdict {
  // Airflow does not evaluate trigger rules for tasks without upstream tasks: they simply run.
  if (c.total === 0) return "run";
  const allDone = c.done === c.total;
  const anyFailed = c.failed + c.upstream_failed > 0;
  switch (rule) {
    case "always":
      return "run";
    case "all_success":
      if (anyFailed) return "upstream_failed";
      if (c.skipped > 0) return "skip";
      return c.success === c.total ? "run" : "wait";
    case "all_failed":
      if (c.success + c.skipped > 0) return "skip";
      return c.failed + c.upstream_failed === c.total ? "run" : "wait";
    case "all_done":
      return allDone ? "run" : "wait";
    case "one_success":
      if (c.success > 0) return "run";
      if (allDone) return c.skipped === c.total ? "skip" : "upstream_failed";
      return "wait";
    case "one_failed":
      if (anyFailed) return "run";
      return allDone ? "skip" : "wait";
    case "none_failed":
      if (anyFailed) return "upstream_failed";
      return c.success + c.skipped === c.total ? "run" : "wait";
    case "none_failed_min_one_success":
      if (anyFailed) return "upstream_failed";
      if (c.total > 0 && c.skipped === c.total) return "skip";
      return c.success + c.skipped === c.total && (c.success > 0 || c.total === 0) ? "run" : "wait";
    case "none_skipped":
      if (c.skipped > 0) return "skip";
      return allDone ? "run" : "wait";
  }
}

/** The branch targets a branch task's output names. */
export function branchFollow(output: unknown): string[] | null {
  const follow = (output as { follow?: unknown } | null)?.follow;
  return Array.isArray(follow) && follow.every((f) => typeof f === "string") ? follow : null;
}

/** Tasks in dependency order (upstream first); ties by id so the machine is deterministic. */
export function topologicalOrder(spec: Pick<PipelineSpec, "tasks">): string[] {
  const indegree: Record<string, number> = {};
  const down = downstreamOf(spec);
  for (const [id, t] of Object.entries(spec.tasks)) indegree[id] = t.depends_on.length;
  const ready = Object.keys(indegree).filter((id) => indegree[id] === 0).sort();
  const out: string[] = [];
  while (ready.length) {
    const id = ready.shift()!;
    out.push(id);
    for (const d of down[id]) if (--indegree[d] === 0) ready.push(d);
    ready.sort();
  }
  if (out.length !== Object.keys(spec.tasks).length) throw new MachineError("the spec has a dependency cycle");
  return out;
}

const orderCache = new WeakMap<PipelineSpec, { order: string[]; down: Record<string, string[]>; descendants: Record<string, string[]> }>();

function graph(spec: PipelineSpec) {
  let g = orderCache.get(spec);
  if (!g) {
    const order = topologicalOrder(spec);
    const down = downstreamOf(spec);
    const descendants: Record<string, string[]> = {};
    for (const id of [...order].reverse()) {
      const set = new Set<string>();
      for (const d of down[id]) {
        set.add(d);
        for (const x of descendants[d]) set.add(x);
      }
      descendants[id] = [...set];
    }
    g = { order, down, descendants };
    orderCache.set(spec, g);
  }
  return g;
}

/** How long an in-process attempt of this task may take before it counts as lost. */
export function inProcessLeaseMs(task: TaskSpec): number {
  return (task.kind === "http" || task.kind === "dataset_snapshot" ? task.timeout_s * 1000 : 0) + IN_PROCESS_GRACE_MS;
}

export const runsInProcess = (task: TaskSpec) => task.kind !== "agent";

class Step {
  readonly actions: MachineAction[] = [];
  constructor(
    readonly spec: PipelineSpec,
    readonly run: RunState,
    readonly now: number,
  ) {}

  ti(id: string): TaskInstance {
    const ti = this.run.tasks[id];
    if (!ti) throw new MachineError(`unknown task '${id}'`);
    return ti;
  }

  abort(id: string, reason: string): void {
    const ti = this.run.tasks[id];
    if (ACTIVE.has(ti.state)) this.actions.push({ type: "abort", task_id: id, try_number: ti.try_number, reason });
  }

  /** An attempt ended in failure: retry when tries are left and the failure allows it. */
  fail(id: string, error: string, retryable: boolean): void {
    const ti = this.run.tasks[id];
    const task = this.spec.tasks[id];
    ti.ended_at = this.now;
    ti.error = error;
    ti.deadline = ti.lease_until = ti.wake_at = null;
    if (retryable && ti.try_number < ti.max_tries) {
      ti.state = "up_for_retry";
      const delay = retryDelaySeconds(task, { pipeline_id: this.run.pipeline_id, task_id: id, logical_date: this.run.logical_date, try_number: ti.try_number });
      ti.retry_at = this.now + delay * 1000;
    } else {
      ti.state = "failed";
      ti.retry_at = null;
    }
  }

  succeed(id: string, output: unknown): void {
    const ti = this.run.tasks[id];
    ti.state = "success";
    ti.ended_at = this.now;
    ti.output = output ?? null;
    ti.error = null;
    ti.deadline = ti.lease_until = ti.wake_at = ti.retry_at = null;
    const task = this.spec.tasks[id];
    if (task.kind === "branch") {
      const follow = new Set(branchFollow(output) ?? []);
      for (const d of graph(this.spec).down[id]) {
        const dti = this.run.tasks[d];
        if (!follow.has(d) && dti.state === "none") {
          dti.state = "skipped";
          dti.ended_at = this.now;
        }
      }
    }
  }

  /** Timers: retries due, sensors to poke again, timeouts and lost leases. */
  timers(): void {
    for (const id of graph(this.spec).order) {
      const ti = this.run.tasks[id];
      if (ti.state === "up_for_retry" && ti.retry_at !== null && ti.retry_at <= this.now) {
        ti.state = "none";
        ti.retry_at = null;
      } else if (ti.state === "running") {
        if (ti.deadline !== null && ti.deadline <= this.now) {
          this.abort(id, "execution timeout");
          this.fail(id, `execution timed out after ${this.spec.tasks[id].execution_timeout_s} s`, true);
        } else if (ti.lease_until !== null && ti.lease_until <= this.now) {
          this.abort(id, "lease expired");
          this.fail(id, ti.agent_id ? `lease expired: agent '${ti.agent_id}' stopped reporting` : "the attempt was lost (no result before its lease ended)", true);
        } else if (ti.wake_at !== null && ti.wake_at <= this.now) {
          ti.wake_at = null;
          ti.lease_until = this.now + inProcessLeaseMs(this.spec.tasks[id]);
          this.actions.push({ type: "execute", task_id: id, try_number: ti.try_number });
        }
      }
    }
  }

  /** Settles waiting tasks by their trigger rules and starts what may start. */
  schedule(): void {
    if (this.run.state !== "running") return;
    const { order } = graph(this.spec);
    let active = order.filter((id) => ACTIVE.has(this.run.tasks[id].state)).length;
    for (const id of order) {
      const ti = this.run.tasks[id];
      if (ti.state !== "none") continue;
      const task = this.spec.tasks[id];
      const verdict = evaluateTriggerRule(task.trigger_rule, countUpstream(task.depends_on.map((u) => this.run.tasks[u].state)));
      if (verdict === "skip" || verdict === "upstream_failed") {
        ti.state = verdict === "skip" ? "skipped" : "upstream_failed";
        ti.ended_at = this.now;
      } else if (verdict === "run" && active < this.spec.max_active_tasks) {
        active++;
        ti.try_number++;
        ti.queued_at = this.now;
        ti.started_at = ti.ended_at = null;
        ti.error = null;
        ti.output = null;
        ti.agent_id = null;
        if (runsInProcess(task)) {
          ti.state = "running";
          ti.started_at = this.now;
          ti.lease_until = this.now + inProcessLeaseMs(task);
          ti.deadline = task.execution_timeout_s !== null ? this.now + task.execution_timeout_s * 1000 : null;
          this.actions.push({ type: "execute", task_id: id, try_number: ti.try_number });
        } else {
          ti.state = "queued";
          this.actions.push({ type: "enqueue", task_id: id, try_number: ti.try_number, queue: (task as Extract<TaskSpec, { kind: "agent" }>).queue });
        }
      }
    }
    this.finishIfDone();
  }

  finishIfDone(): void {
    if (this.run.state !== "running") return;
    const tis = Object.values(this.run.tasks);
    if (!tis.every((ti) => FINISHED.has(ti.state))) return;
    const { down } = graph(this.spec);
    const leaves = Object.keys(this.spec.tasks).filter((id) => down[id].length === 0);
    const failed = leaves.some((id) => ["failed", "upstream_failed"].includes(this.run.tasks[id].state));
    this.run.state = failed ? "failed" : "success";
    this.run.ended_at = this.now;
    this.actions.push({ type: "run_finished", state: this.run.state });
  }

  alarm(): void {
    if (this.run.state !== "running") {
      this.actions.push({ type: "delete_alarm" });
      return;
    }
    let at = Infinity;
    for (const ti of Object.values(this.run.tasks)) {
      if (ti.state === "up_for_retry" && ti.retry_at !== null) at = Math.min(at, ti.retry_at);
      if (ti.state === "running") for (const t of [ti.deadline, ti.lease_until, ti.wake_at]) if (t !== null) at = Math.min(at, t);
    }
    this.actions.push(at === Infinity ? { type: "delete_alarm" } : { type: "set_alarm", at });
  }

  /** Reopens a finished run (clear and mark change its outcome). */
  reopen(): void {
    if (this.run.state === "success" || this.run.state === "failed") {
      this.run.state = "running";
      this.run.ended_at = null;
    }
  }
}

const clone = (run: RunState): RunState => structuredClone(run);

/** Applies one event to a run. Never mutates its input. */
export function step(spec: PipelineSpec, current: RunState, event: MachineEvent, now: number): StepResult {
  const run = clone(current);
  const s = new Step(spec, run, now);
  const ignored = (): StepResult => ({ state: current, actions: [], applied: false });
  const attempt = (e: { task_id: string; try_number: number }, states: TaskState[]) => {
    const ti = run.tasks[e.task_id];
    return ti && ti.try_number === e.try_number && states.includes(ti.state) ? ti : null;
  };

  switch (event.type) {
    case "start":
      if (run.state !== "queued") return ignored();
      run.state = "running";
      run.started_at = now;
      break;
    case "tick":
      if (run.state !== "running") return ignored();
      s.timers();
      break;
    case "task_started": {
      const ti = attempt(event, ["queued"]);
      if (!ti || run.state !== "running") return ignored();
      const task = spec.tasks[event.task_id];
      ti.state = "running";
      ti.started_at = now;
      ti.lease_until = event.lease_until;
      ti.agent_id = event.agent_id ?? null;
      ti.deadline = task.execution_timeout_s !== null ? now + task.execution_timeout_s * 1000 : null;
      break;
    }
    case "task_heartbeat": {
      const ti = attempt(event, ["running"]);
      if (!ti) return ignored();
      ti.lease_until = Math.max(ti.lease_until ?? 0, event.lease_until);
      break;
    }
    case "task_deferred": {
      const ti = attempt(event, ["running"]);
      if (!ti) return ignored();
      ti.wake_at = Math.max(event.until, now);
      ti.lease_until = null;
      break;
    }
    case "task_succeeded": {
      if (!attempt(event, ["running"])) return ignored();
      s.succeed(event.task_id, event.output);
      break;
    }
    case "task_failed": {
      if (!attempt(event, ["running", "queued"])) return ignored();
      s.fail(event.task_id, event.error, event.retryable ?? true);
      break;
    }
    case "clear": {
      const g = graph(spec);
      const ids = new Set<string>();
      for (const id of event.task_ids) {
        s.ti(id);
        ids.add(id);
        if (event.downstream) for (const d of g.descendants[id]) ids.add(d);
      }
      for (const id of ids) {
        const ti = run.tasks[id];
        s.abort(id, "cleared");
        run.tasks[id] = { ...freshInstance(spec.tasks[id]), try_number: ti.try_number, max_tries: ti.try_number + spec.tasks[id].retries + 1 };
      }
      if (run.state === "queued") break;
      if (event.requeue && (run.state === "success" || run.state === "failed")) {
        run.state = "queued";
        run.ended_at = null;
        break;
      }
      s.reopen();
      break;
    }
    case "mark": {
      for (const id of event.task_ids) s.ti(id);
      if (run.state === "queued") return ignored();
      for (const id of event.task_ids) {
        const ti = run.tasks[id];
        s.abort(id, `marked ${event.state}`);
        if (event.state === "success") s.succeed(id, ti.output);
        else {
          ti.state = "failed";
          ti.ended_at = now;
          ti.error = "marked failed";
          ti.deadline = ti.lease_until = ti.wake_at = ti.retry_at = null;
        }
      }
      s.reopen();
      break;
    }
    case "cancel": {
      if (run.state === "success" || run.state === "failed") return ignored();
      for (const [id, ti] of Object.entries(run.tasks)) {
        if (ACTIVE.has(ti.state)) {
          s.abort(id, "run cancelled");
          ti.state = "failed";
          ti.error = event.reason ?? "run cancelled";
          ti.ended_at = now;
          ti.deadline = ti.lease_until = ti.wake_at = null;
        } else if (ti.state === "none" || ti.state === "up_for_retry") {
          ti.state = "skipped";
          ti.retry_at = null;
          ti.ended_at = now;
        }
      }
      run.state = "failed";
      run.ended_at = now;
      s.actions.push({ type: "run_finished", state: "failed" });
      s.alarm();
      return { state: run, actions: s.actions, applied: true };
    }
  }
  s.schedule();
  s.alarm();
  return { state: run, actions: s.actions, applied: true };
}
