import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  countUpstream,
  evaluateTriggerRule,
  initialRunState,
  retryDelaySeconds,
  step,
  type MachineAction,
  type MachineEvent,
  type RunState,
  type TaskState,
} from "../../worker/lib/pipelines/machine";
import { sha1Hex } from "../../worker/lib/pipelines/sha1";
import { parsePipelineSpec, TRIGGER_RULES, type PipelineSpec, type TriggerRule } from "../../worker/lib/pipelines/spec";

const T0 = Date.UTC(2026, 10, 28, 5, 0, 0);
const LOGICAL = Date.UTC(2026, 10, 27, 5, 0, 0);

/** Drives the machine like the Durable Object does, recording every action. */
class Driver {
  run: RunState;
  now = T0;
  log: MachineAction[] = [];
  last: MachineAction[] = [];
  constructor(readonly spec: PipelineSpec) {
    this.run = initialRunState(spec, { run_id: "run1", pipeline_id: "pipe1", logical_date: LOGICAL });
  }
  send(event: MachineEvent, at = this.now): { applied: boolean; actions: MachineAction[] } {
    this.now = at;
    const before = structuredClone(this.run);
    const r = step(this.spec, this.run, event, at);
    expect(this.run, "step must not mutate its input").toEqual(before);
    this.run = r.state;
    this.last = r.actions;
    this.log.push(...r.actions);
    return r;
  }
  state(id: string): TaskState {
    return this.run.tasks[id].state;
  }
  states(): Record<string, TaskState> {
    return Object.fromEntries(Object.entries(this.run.tasks).map(([k, v]) => [k, v.state]));
  }
  executes(): string[] {
    return this.last.filter((a) => a.type === "execute" || a.type === "enqueue").map((a) => (a as { task_id: string }).task_id);
  }
  ok(id: string, output?: unknown, at = this.now) {
    return this.send({ type: "task_succeeded", task_id: id, try_number: this.run.tasks[id].try_number, output }, at);
  }
  fail(id: string, at = this.now, error = "boom") {
    return this.send({ type: "task_failed", task_id: id, try_number: this.run.tasks[id].try_number, error }, at);
  }
  alarm(): number | null {
    const a = [...this.last].reverse().find((x) => x.type === "set_alarm" || x.type === "delete_alarm");
    return a?.type === "set_alarm" ? a.at : null;
  }
}

const spec = (tasks: Record<string, unknown>, extra: Record<string, unknown> = {}) => parsePipelineSpec({ ...extra, tasks });

describe("trigger rules (Airflow's semantics, with upstream-failure flagging)", () => {
  const c = (states: TaskState[]) => countUpstream(states);
  const cases: [TriggerRule, TaskState[], string][] = [
    ["all_success", ["success", "success"], "run"],
    ["all_success", ["success", "running"], "wait"],
    ["all_success", ["failed", "running"], "upstream_failed"],
    ["all_success", ["upstream_failed", "success"], "upstream_failed"],
    ["all_success", ["skipped", "success"], "skip"],
    ["all_success", ["skipped", "running"], "skip"],
    ["all_failed", ["failed", "upstream_failed"], "run"],
    ["all_failed", ["failed", "running"], "wait"],
    ["all_failed", ["failed", "success"], "skip"],
    ["all_failed", ["failed", "skipped"], "skip"],
    ["all_done", ["failed", "skipped", "success", "upstream_failed"], "run"],
    ["all_done", ["failed", "up_for_retry"], "wait"],
    ["one_success", ["success", "running"], "run"],
    ["one_success", ["failed", "running"], "wait"],
    ["one_success", ["failed", "skipped"], "upstream_failed"],
    ["one_success", ["skipped", "skipped"], "skip"],
    ["one_failed", ["failed", "running"], "run"],
    ["one_failed", ["upstream_failed", "running"], "run"],
    ["one_failed", ["success", "running"], "wait"],
    ["one_failed", ["success", "skipped"], "skip"],
    ["none_failed", ["success", "skipped"], "run"],
    ["none_failed", ["skipped", "skipped"], "run"],
    ["none_failed", ["success", "running"], "wait"],
    ["none_failed", ["upstream_failed", "running"], "upstream_failed"],
    ["none_failed_min_one_success", ["success", "skipped"], "run"],
    ["none_failed_min_one_success", ["skipped", "skipped"], "skip"],
    ["none_failed_min_one_success", ["skipped", "running"], "wait"],
    ["none_failed_min_one_success", ["failed", "success"], "upstream_failed"],
    ["none_skipped", ["success", "failed", "upstream_failed"], "run"],
    ["none_skipped", ["success", "running"], "wait"],
    ["none_skipped", ["skipped", "running"], "skip"],
    ["always", ["running", "none"], "run"],
    ["always", [], "run"],
  ];
  it.each(cases)("%s over %j → %s", (rule, states, verdict) => {
    expect(evaluateTriggerRule(rule, c(states))).toBe(verdict);
  });

  it("covers every rule", () => {
    expect(new Set(cases.map((x) => x[0]))).toEqual(new Set(TRIGGER_RULES));
  });

  it("every rule lets a task without upstream tasks run", () => {
    for (const rule of TRIGGER_RULES) expect(evaluateTriggerRule(rule, c([])), rule).toBe("run");
  });

  it.each(TRIGGER_RULES)("%s inside a run: a join after one failed and one successful branch", (rule) => {
    const d = new Driver(spec({ a: { kind: "noop" }, b: { kind: "noop" }, j: { kind: "noop", depends_on: ["a", "b"], trigger_rule: rule } }));
    d.send({ type: "start" });
    if (rule === "always") expect(d.executes()).toEqual(["a", "b", "j"]);
    d.fail("a");
    d.ok("b");
    const expected: Record<TriggerRule, TaskState> = {
      all_success: "upstream_failed",
      all_failed: "skipped",
      all_done: "running",
      one_success: "running",
      one_failed: "running",
      none_failed: "upstream_failed",
      none_failed_min_one_success: "upstream_failed",
      none_skipped: "running",
      always: "running",
    };
    expect(d.state("j")).toBe(expected[rule]);
  });
});

describe("runs", () => {
  it("walks a diamond: roots first, the join once both are done, then success", () => {
    const d = new Driver(spec({ a: { kind: "noop" }, b: { kind: "noop", depends_on: ["a"] }, c: { kind: "noop", depends_on: ["a"] }, j: { kind: "noop", depends_on: ["b", "c"] } }));
    expect(d.run.state).toBe("queued");
    d.send({ type: "start" });
    expect(d.run).toMatchObject({ state: "running", started_at: T0 });
    expect(d.executes()).toEqual(["a"]);
    expect(d.run.tasks.a).toMatchObject({ state: "running", try_number: 1, started_at: T0 });
    d.ok("a", { n: 1 }, T0 + 10);
    expect(d.executes()).toEqual(["b", "c"]);
    d.ok("b", null, T0 + 20);
    expect(d.executes()).toEqual([]);
    d.ok("c", null, T0 + 30);
    expect(d.executes()).toEqual(["j"]);
    d.ok("j", null, T0 + 40);
    expect(d.run).toMatchObject({ state: "success", ended_at: T0 + 40 });
    expect(d.last).toContainEqual({ type: "run_finished", state: "success" });
    expect(d.last).toContainEqual({ type: "delete_alarm" });
    expect(d.run.tasks.a.output).toEqual({ n: 1 });
  });

  it("propagates upstream_failed down a chain and fails the run", () => {
    const d = new Driver(spec({ a: { kind: "noop" }, b: { kind: "noop", depends_on: ["a"] }, c: { kind: "noop", depends_on: ["b"] }, side: { kind: "noop" } }));
    d.send({ type: "start" });
    d.fail("a");
    expect(d.states()).toEqual({ a: "failed", b: "upstream_failed", c: "upstream_failed", side: "running" });
    expect(d.run.state).toBe("running");
    d.ok("side");
    expect(d.run.state).toBe("failed");
  });

  it("decides the run by its leaves: a failure absorbed by an all_done leaf still succeeds", () => {
    const d = new Driver(spec({ a: { kind: "noop" }, cleanup: { kind: "noop", depends_on: ["a"], trigger_rule: "all_done" } }));
    d.send({ type: "start" });
    d.fail("a");
    d.ok("cleanup");
    expect(d.run.state).toBe("success");
  });

  it("propagates skips under all_success and stops them at none_failed_min_one_success", () => {
    const d = new Driver(
      spec({
        gate: { kind: "branch", value: "x", cases: { x: ["left"] }, default: ["right"] },
        left: { kind: "noop", depends_on: ["gate"] },
        right: { kind: "noop", depends_on: ["gate"] },
        right2: { kind: "noop", depends_on: ["right"] },
        join_strict: { kind: "noop", depends_on: ["left", "right2"] },
        join: { kind: "noop", depends_on: ["left", "right2"], trigger_rule: "none_failed_min_one_success" },
      }),
    );
    d.send({ type: "start" });
    d.ok("gate", { follow: ["left"] });
    expect(d.states()).toMatchObject({ left: "running", right: "skipped", right2: "skipped" });
    d.ok("left");
    expect(d.states()).toMatchObject({ join_strict: "skipped", join: "running" });
    d.ok("join");
    expect(d.run.state).toBe("success");
  });

  it("a branch that follows nothing skips every direct downstream task", () => {
    const d = new Driver(spec({ gate: { kind: "branch", value: "x", cases: { y: ["a"] } }, a: { kind: "noop", depends_on: ["gate"] } }));
    d.send({ type: "start" });
    d.ok("gate", { follow: [] });
    expect(d.states()).toEqual({ gate: "success", a: "skipped" });
    expect(d.run.state).toBe("success");
  });

  it("always runs at once, without waiting for upstream", () => {
    const d = new Driver(spec({ a: { kind: "noop" }, watch: { kind: "noop", depends_on: ["a"], trigger_rule: "always" } }));
    d.send({ type: "start" });
    expect(d.executes()).toEqual(["a", "watch"]);
  });

  it("keeps at most max_active_tasks tasks queued or running", () => {
    const tasks: Record<string, unknown> = { root: { kind: "noop" } };
    for (let i = 0; i < 5; i++) tasks[`t${i}`] = { kind: "noop", depends_on: ["root"] };
    const d = new Driver(spec(tasks, { max_active_tasks: 2 }));
    d.send({ type: "start" });
    d.ok("root");
    expect(d.executes()).toEqual(["t0", "t1"]);
    d.ok("t0");
    expect(d.executes()).toEqual(["t2"]);
    d.fail("t1");
    expect(d.executes()).toEqual(["t3"]);
    d.ok("t2");
    expect(d.executes()).toEqual(["t4"]);
    expect(Object.values(d.run.tasks).filter((t) => t.state === "running")).toHaveLength(2);
  });

  it("ignores stale and unknown attempts", () => {
    const d = new Driver(spec({ a: { kind: "noop", retries: 1, retry_delay: 10 } }));
    d.send({ type: "start" });
    expect(d.send({ type: "task_succeeded", task_id: "a", try_number: 2 }).applied).toBe(false);
    expect(d.send({ type: "task_succeeded", task_id: "zzz", try_number: 1 }).applied).toBe(false);
    d.fail("a");
    expect(d.send({ type: "task_succeeded", task_id: "a", try_number: 1 }).applied).toBe(false);
    expect(d.state("a")).toBe("up_for_retry");
  });
});

describe("retries and backoff", () => {
  it("waits retry_delay after a failure, then tries again; out of tries it fails", () => {
    const d = new Driver(spec({ a: { kind: "noop", retries: 2, retry_delay: "30s" }, b: { kind: "noop", depends_on: ["a"] } }));
    d.send({ type: "start" });
    d.fail("a", T0 + 1000);
    expect(d.run.tasks.a).toMatchObject({ state: "up_for_retry", try_number: 1, retry_at: T0 + 31_000, error: "boom" });
    expect(d.alarm()).toBe(T0 + 31_000);
    expect(d.state("b")).toBe("none");
    d.send({ type: "tick" }, T0 + 30_999);
    expect(d.executes()).toEqual([]);
    d.send({ type: "tick" }, T0 + 31_000);
    expect(d.executes()).toEqual(["a"]);
    expect(d.run.tasks.a).toMatchObject({ state: "running", try_number: 2, error: null });
    d.fail("a", T0 + 40_000);
    d.send({ type: "tick" }, T0 + 70_000);
    d.fail("a", T0 + 80_000);
    expect(d.run.tasks.a).toMatchObject({ state: "failed", try_number: 3, retry_at: null });
    expect(d.state("b")).toBe("upstream_failed");
    expect(d.run.state).toBe("failed");
  });

  it("a failure marked not retryable fails at once", () => {
    const d = new Driver(spec({ a: { kind: "noop", retries: 3 } }));
    d.send({ type: "start" });
    d.send({ type: "task_failed", task_id: "a", try_number: 1, error: "bad template", retryable: false });
    expect(d.state("a")).toBe("failed");
  });

  it("computes Airflow's exponential backoff: ceil(delay·2^(try−1)) plus sha1 jitter below that, capped", () => {
    const policy = { retries: 10, retry_delay_s: 30, retry_exponential_backoff: true, max_retry_delay_s: null };
    const key = { pipeline_id: "pipe1", task_id: "train", logical_date: LOGICAL };
    for (let tryNumber = 1; tryNumber <= 8; tryNumber++) {
      const min = Math.ceil(30 * 2 ** (tryNumber - 1));
      const hash = BigInt("0x" + createHash("sha1").update(`pipe1#train#${new Date(LOGICAL).toISOString()}#${tryNumber}`).digest("hex"));
      const expected = Math.min(86_400, min + Number(hash % BigInt(min)));
      const got = retryDelaySeconds(policy, { ...key, try_number: tryNumber });
      expect(got).toBe(expected);
      expect(got).toBeGreaterThanOrEqual(min);
      expect(got).toBeLessThan(2 * min);
    }
    // Deterministic per attempt.
    expect(retryDelaySeconds(policy, { ...key, try_number: 3 })).toBe(retryDelaySeconds(policy, { ...key, try_number: 3 }));
    // Capped by max_retry_delay, and by one day in any case.
    expect(retryDelaySeconds({ ...policy, max_retry_delay_s: 100 }, { ...key, try_number: 5 })).toBe(100);
    expect(retryDelaySeconds(policy, { ...key, try_number: 40 })).toBe(86_400);
    expect(retryDelaySeconds(policy, { ...key, try_number: 2000 })).toBe(86_400);
    // A zero delay still waits at least 1 s (Airflow's floor of min_backoff).
    expect(retryDelaySeconds({ ...policy, retry_delay_s: 0 }, { ...key, try_number: 1 })).toBe(1);
    // Without backoff the delay is fixed.
    expect(retryDelaySeconds({ ...policy, retry_exponential_backoff: false }, { ...key, try_number: 7 })).toBe(30);
  });

  it("schedules the retry at end of attempt + backoff", () => {
    const d = new Driver(spec({ a: { kind: "noop", retries: 3, retry_delay: 10, retry_exponential_backoff: true, max_retry_delay: 25 } }));
    d.send({ type: "start" });
    d.fail("a", T0 + 5000);
    const first = retryDelaySeconds(d.spec.tasks.a, { pipeline_id: "pipe1", task_id: "a", logical_date: LOGICAL, try_number: 1 });
    expect(d.run.tasks.a.retry_at).toBe(T0 + 5000 + first * 1000);
    d.send({ type: "tick" }, d.run.tasks.a.retry_at!);
    d.fail("a", T0 + 100_000);
    d.send({ type: "tick" }, d.run.tasks.a.retry_at!);
    d.fail("a", T0 + 200_000);
    // Third try: min backoff 40 s, over max_retry_delay 25 s.
    expect(d.run.tasks.a.retry_at).toBe(T0 + 200_000 + 25_000);
  });

  it("sha1 matches node:crypto", () => {
    for (const s of ["", "abc", "pipe#task#2026-11-27T05:00:00.000Z#3", "ü€😀".repeat(20), "x".repeat(55), "x".repeat(56), "x".repeat(64), "y".repeat(1000)]) {
      expect(sha1Hex(s)).toBe(createHash("sha1").update(s, "utf8").digest("hex"));
    }
  });
});

describe("timeouts, leases and sensors", () => {
  it("fails an attempt at its execution timeout (retrying if it may) and aborts it", () => {
    const d = new Driver(spec({ a: { kind: "agent", command: "sleep 100", execution_timeout: "1m", retries: 1, retry_delay: 5 } }));
    d.send({ type: "start" });
    expect(d.last).toContainEqual({ type: "enqueue", task_id: "a", try_number: 1, queue: "default" });
    expect(d.state("a")).toBe("queued");
    d.send({ type: "task_started", task_id: "a", try_number: 1, lease_until: T0 + 1000 + 120_000, agent_id: "box" }, T0 + 1000);
    expect(d.run.tasks.a).toMatchObject({ state: "running", deadline: T0 + 61_000, agent_id: "box" });
    expect(d.alarm()).toBe(T0 + 61_000);
    d.send({ type: "tick" }, T0 + 61_000);
    expect(d.last).toContainEqual({ type: "abort", task_id: "a", try_number: 1, reason: "execution timeout" });
    expect(d.run.tasks.a).toMatchObject({ state: "up_for_retry", error: "execution timed out after 60 s" });
    d.send({ type: "tick" }, T0 + 66_000);
    expect(d.executes()).toEqual(["a"]);
    d.send({ type: "task_started", task_id: "a", try_number: 2, lease_until: T0 + 200_000 }, T0 + 67_000);
    d.send({ type: "tick" }, T0 + 127_000);
    expect(d.run.tasks.a).toMatchObject({ state: "failed", try_number: 2 });
    expect(d.run.state).toBe("failed");
  });

  it("a lost lease fails the attempt; heartbeats keep it", () => {
    const d = new Driver(spec({ a: { kind: "agent", command: "train", retries: 1, retry_delay: 1 } }));
    d.send({ type: "start" });
    d.send({ type: "task_started", task_id: "a", try_number: 1, lease_until: T0 + 30_000, agent_id: "box" });
    expect(d.alarm()).toBe(T0 + 30_000);
    d.send({ type: "task_heartbeat", task_id: "a", try_number: 1, lease_until: T0 + 50_000 }, T0 + 20_000);
    expect(d.alarm()).toBe(T0 + 50_000);
    d.send({ type: "tick" }, T0 + 30_000);
    expect(d.state("a")).toBe("running");
    d.send({ type: "tick" }, T0 + 50_000);
    expect(d.run.tasks.a).toMatchObject({ state: "up_for_retry", error: "lease expired: agent 'box' stopped reporting" });
    expect(d.last).toContainEqual({ type: "abort", task_id: "a", try_number: 1, reason: "lease expired" });
    // The lost agent reporting late changes nothing.
    expect(d.send({ type: "task_succeeded", task_id: "a", try_number: 1 }).applied).toBe(false);
  });

  it("an in-process attempt that never reports (a restart) is presumed lost after its lease", () => {
    const d = new Driver(spec({ a: { kind: "http", url: "https://example.com", timeout: 10, retries: 1, retry_delay: 1 } }));
    d.send({ type: "start" });
    expect(d.alarm()).toBe(T0 + 40_000);
    d.send({ type: "tick" }, T0 + 40_000);
    expect(d.run.tasks.a).toMatchObject({ state: "up_for_retry", error: "the attempt was lost (no result before its lease ended)" });
  });

  it("a deferred sensor is executed again when it wakes", () => {
    const d = new Driver(spec({ w: { kind: "wait", seconds: 60 } }));
    d.send({ type: "start" });
    d.send({ type: "task_deferred", task_id: "w", try_number: 1, until: T0 + 60_000 });
    expect(d.alarm()).toBe(T0 + 60_000);
    expect(d.run.tasks.w.lease_until).toBeNull();
    d.send({ type: "tick" }, T0 + 60_000);
    expect(d.last).toContainEqual({ type: "execute", task_id: "w", try_number: 1 });
    d.ok("w");
    expect(d.run.state).toBe("success");
  });
});

describe("clear, mark and cancel", () => {
  const chain = () => spec({ a: { kind: "noop", retries: 1, retry_delay: 1 }, b: { kind: "noop", depends_on: ["a"] }, c: { kind: "noop", depends_on: ["b"] } });

  it("clear with downstream reruns a failed run from that task, with fresh tries", () => {
    const d = new Driver(chain());
    d.send({ type: "start" });
    d.fail("a");
    d.send({ type: "tick" }, T0 + 1000);
    d.fail("a", T0 + 2000);
    expect(d.run.state).toBe("failed");
    d.send({ type: "clear", task_ids: ["a"], downstream: true }, T0 + 5000);
    expect(d.run).toMatchObject({ state: "running", ended_at: null });
    expect(d.executes()).toEqual(["a"]);
    expect(d.run.tasks.a).toMatchObject({ state: "running", try_number: 3, max_tries: 4 });
    expect(d.states()).toMatchObject({ b: "none", c: "none" });
    d.ok("a");
    d.ok("b");
    d.ok("c");
    expect(d.run.state).toBe("success");
  });

  it("clear without downstream reruns only that task", () => {
    const d = new Driver(chain());
    d.send({ type: "start" });
    d.ok("a");
    d.ok("b");
    d.ok("c");
    d.send({ type: "clear", task_ids: ["b"] });
    expect(d.states()).toEqual({ a: "success", b: "running", c: "success" });
    expect(d.run.tasks.b.try_number).toBe(2);
    d.ok("b");
    expect(d.run.state).toBe("success");
  });

  it("clear with requeue puts a finished run back to queued; its start reruns the cleared tasks", () => {
    const d = new Driver(chain());
    d.send({ type: "start" });
    d.ok("a");
    d.ok("b");
    d.ok("c", undefined, T0 + 100);
    expect(d.run).toMatchObject({ state: "success", ended_at: T0 + 100 });
    d.send({ type: "clear", task_ids: ["b"], downstream: true, requeue: true }, T0 + 1000);
    expect(d.run).toMatchObject({ state: "queued", ended_at: null });
    expect(d.executes()).toEqual([]);
    expect(d.last).toContainEqual({ type: "delete_alarm" });
    expect(d.states()).toEqual({ a: "success", b: "none", c: "none" });
    d.send({ type: "start" }, T0 + 2000);
    expect(d.run).toMatchObject({ state: "running", started_at: T0 + 2000 });
    expect(d.executes()).toEqual(["b"]);
    expect(d.run.tasks.b.try_number).toBe(2);
    d.ok("b");
    d.ok("c");
    expect(d.run.state).toBe("success");
    // A run that is still going is not requeued: its cleared tasks run again within it.
    const e = new Driver(chain());
    e.send({ type: "start" });
    e.send({ type: "clear", task_ids: ["a"], requeue: true });
    expect(e.run.state).toBe("running");
    expect(e.run.tasks.a).toMatchObject({ state: "running", try_number: 2 });
  });

  it("clearing a running attempt aborts it", () => {
    const d = new Driver(chain());
    d.send({ type: "start" });
    d.send({ type: "clear", task_ids: ["a"] });
    expect(d.last).toContainEqual({ type: "abort", task_id: "a", try_number: 1, reason: "cleared" });
    expect(d.run.tasks.a).toMatchObject({ state: "running", try_number: 2 });
  });

  it("mark success lets downstream go on; mark failed stops it", () => {
    const d = new Driver(chain());
    d.send({ type: "start" });
    d.send({ type: "mark", task_ids: ["a"], state: "success" });
    expect(d.last).toContainEqual({ type: "abort", task_id: "a", try_number: 1, reason: "marked success" });
    expect(d.states()).toMatchObject({ a: "success", b: "running" });
    d.send({ type: "mark", task_ids: ["b"], state: "failed" });
    expect(d.states()).toEqual({ a: "success", b: "failed", c: "upstream_failed" });
    expect(d.run.state).toBe("failed");
    // Mark success on the failed task, clear what it blocked: the run finishes successfully.
    d.send({ type: "mark", task_ids: ["b"], state: "success" });
    d.send({ type: "clear", task_ids: ["c"] });
    d.ok("c");
    expect(d.run.state).toBe("success");
  });

  it("cancel fails what runs, skips what waits, and fails the run", () => {
    const d = new Driver(spec({ a: { kind: "noop" }, b: { kind: "noop", depends_on: ["a"] }, q: { kind: "agent", command: "x" } }));
    d.send({ type: "start" });
    d.send({ type: "cancel" }, T0 + 10);
    expect(d.states()).toEqual({ a: "failed", b: "skipped", q: "failed" });
    expect(d.run).toMatchObject({ state: "failed", ended_at: T0 + 10 });
    expect(d.last.filter((a) => a.type === "abort").map((a) => (a as { task_id: string }).task_id)).toEqual(["a", "q"]);
    expect(d.last).toContainEqual({ type: "run_finished", state: "failed" });
    expect(d.send({ type: "cancel" }).applied).toBe(false);
  });

  it("rejects clear and mark of unknown tasks", () => {
    const d = new Driver(chain());
    d.send({ type: "start" });
    expect(() => step(d.spec, d.run, { type: "clear", task_ids: ["nope"] }, T0)).toThrow("unknown task 'nope'");
    expect(() => step(d.spec, d.run, { type: "mark", task_ids: ["nope"], state: "success" }, T0)).toThrow("unknown task 'nope'");
  });
});
