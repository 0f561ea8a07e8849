import { describe, expect, it } from "vitest";
import { attemptChanges, attemptHistory, type AttemptRecord } from "../../worker/lib/pipelines/attempts";
import { initialRunState, step, type MachineEvent, type RunState } from "../../worker/lib/pipelines/machine";
import { parsePipelineSpec, type PipelineSpec } from "../../worker/lib/pipelines/spec";

const T0 = Date.UTC(2026, 10, 28, 5, 0, 0);

/** Drives the machine and keeps attempt records the way the run's Durable Object does. */
class Recorder {
  run: RunState;
  readonly stored = new Map<string, Map<number, AttemptRecord>>();
  constructor(readonly spec: PipelineSpec) {
    this.run = initialRunState(spec, { run_id: "r", pipeline_id: "p", logical_date: T0 });
  }
  send(event: MachineEvent, at: number): void {
    const r = step(this.spec, this.run, event, at);
    if (!r.applied) return;
    for (const { task_id, record } of attemptChanges(this.run, r.state, at)) {
      const m = this.stored.get(task_id) ?? new Map();
      m.set(record.try_number, record);
      this.stored.set(task_id, m);
    }
    this.run = r.state;
  }
  history(id: string): AttemptRecord[] {
    return attemptHistory([...(this.stored.get(id)?.values() ?? [])], this.run.tasks[id]);
  }
  summary(id: string) {
    return this.history(id).map((a) => [a.try_number, a.state, a.started_at, a.ended_at, a.duration_ms, a.agent_id, a.error]);
  }
}

const spec = (tasks: Record<string, unknown>) => parsePipelineSpec({ tasks });

describe("attempt history", () => {
  it("retries make one record per try, each with the state it ended in and its own times", () => {
    const d = new Recorder(spec({ t: { kind: "http", url: "http://x.test/", retries: 2, retry_delay: 10 } }));
    d.send({ type: "start" }, T0);
    d.send({ type: "task_failed", task_id: "t", try_number: 1, error: "boom 1" }, T0 + 1_000);
    expect(d.summary("t")).toEqual([[1, "up_for_retry", T0, T0 + 1_000, 1_000, null, "boom 1"]]);
    // The retry wait ends: the task goes back to "none" then straight to try 2; try 1 keeps its record.
    d.send({ type: "tick" }, T0 + 11_000);
    expect(d.summary("t")).toEqual([
      [2, "running", T0 + 11_000, null, null, null, null],
      [1, "up_for_retry", T0, T0 + 1_000, 1_000, null, "boom 1"],
    ]);
    d.send({ type: "task_failed", task_id: "t", try_number: 2, error: "boom 2" }, T0 + 12_500);
    d.send({ type: "tick" }, T0 + 22_500);
    d.send({ type: "task_succeeded", task_id: "t", try_number: 3, output: { ok: true } }, T0 + 23_000);
    expect(d.summary("t")).toEqual([
      [3, "success", T0 + 22_500, T0 + 23_000, 500, null, null],
      [2, "up_for_retry", T0 + 11_000, T0 + 12_500, 1_500, null, "boom 2"],
      [1, "up_for_retry", T0, T0 + 1_000, 1_000, null, "boom 1"],
    ]);
    expect(d.run.state).toBe("success");
  });

  it("an agent's tries record the agent, the queue wait and the exit status; the last try ends failed", () => {
    const d = new Recorder(spec({ a: { kind: "agent", queue: "q", command: "x", retries: 1, retry_delay: 5 } }));
    d.send({ type: "start" }, T0);
    expect(d.summary("a")).toEqual([[1, "queued", null, null, null, null, null]]);
    d.send({ type: "task_started", task_id: "a", try_number: 1, lease_until: T0 + 60_000, agent_id: "box-1" }, T0 + 2_000);
    d.send({ type: "task_failed", task_id: "a", try_number: 1, error: "the command exited with status 3" }, T0 + 4_000);
    d.send({ type: "tick" }, T0 + 9_000);
    d.send({ type: "task_started", task_id: "a", try_number: 2, lease_until: T0 + 70_000, agent_id: "box-2" }, T0 + 10_000);
    d.send({ type: "task_failed", task_id: "a", try_number: 2, error: "the command exited with status 4" }, T0 + 13_000);
    const h = d.history("a");
    expect(h.map((a) => [a.try_number, a.state, a.queued_at, a.agent_id, a.duration_ms, a.error])).toEqual([
      [2, "failed", T0 + 9_000, "box-2", 3_000, "the command exited with status 4"],
      [1, "up_for_retry", T0, "box-1", 2_000, "the command exited with status 3"],
    ]);
  });

  it("clear keeps earlier tries and numbering continues; a try cleared while running is closed as failed", () => {
    const d = new Recorder(spec({ a: { kind: "noop" }, b: { kind: "agent", queue: "q", command: "x", depends_on: ["a"] } }));
    d.send({ type: "start" }, T0);
    d.send({ type: "task_succeeded", task_id: "a", try_number: 1 }, T0 + 100);
    d.send({ type: "task_started", task_id: "b", try_number: 1, lease_until: T0 + 60_000, agent_id: "box" }, T0 + 200);
    d.send({ type: "task_failed", task_id: "b", try_number: 1, error: "exit 1" }, T0 + 300);
    expect(d.run.state).toBe("failed");
    d.send({ type: "clear", task_ids: ["a"], downstream: true }, T0 + 1_000);
    expect(d.summary("a")).toEqual([
      [2, "running", T0 + 1_000, null, null, null, null],
      [1, "success", T0, T0 + 100, 100, null, null],
    ]);
    // b is waiting for a again: its history still shows try 1 as it ended.
    expect(d.summary("b")).toEqual([[1, "failed", T0 + 200, T0 + 300, 100, "box", "exit 1"]]);
    d.send({ type: "task_succeeded", task_id: "a", try_number: 2 }, T0 + 1_100);
    d.send({ type: "task_started", task_id: "b", try_number: 2, lease_until: T0 + 60_000, agent_id: "box" }, T0 + 1_200);
    // Cleared while running: try 2 ends there, and try 3 is queued at once.
    d.send({ type: "clear", task_ids: ["b"] }, T0 + 1_500);
    expect(d.summary("b")).toEqual([
      [3, "queued", null, null, null, null, null],
      [2, "failed", T0 + 1_200, T0 + 1_500, 300, "box", "cleared while running"],
      [1, "failed", T0 + 200, T0 + 300, 100, "box", "exit 1"],
    ]);
  });

  it("a mark changes the current try; a mark after a clear, before the task runs again, adds no try", () => {
    const d = new Recorder(spec({ a: { kind: "http", url: "http://x.test/" }, b: { kind: "agent", queue: "q", command: "x", depends_on: ["a"] } }));
    d.send({ type: "start" }, T0);
    d.send({ type: "task_failed", task_id: "a", try_number: 1, error: "no" }, T0 + 50);
    d.send({ type: "mark", task_ids: ["a"], state: "success" }, T0 + 100);
    expect(d.summary("a")).toEqual([[1, "success", T0, T0 + 100, 100, null, null]]);
    // As in Airflow, the mark leaves b upstream_failed, without a try; clearing it queues try 1 for an agent.
    expect(d.history("b")).toEqual([]);
    d.send({ type: "clear", task_ids: ["b"] }, T0 + 200);
    expect(d.summary("b").map((r) => [r[0], r[1], r[6]])).toEqual([[1, "queued", null]]);
    // Cleared again before any agent claimed it: try 1 ends unclaimed, try 2 waits.
    d.send({ type: "clear", task_ids: ["b"] }, T0 + 300);
    expect(d.history("b").map((r) => [r.try_number, r.state, r.started_at, r.ended_at, r.error])).toEqual([
      [2, "queued", null, null, null],
      [1, "failed", null, null, "cleared while queued"],
    ]);
    d.send({ type: "cancel" }, T0 + 400);
    expect(d.summary("b").map((r) => [r[0], r[1], r[6]])).toEqual([
      [2, "failed", "run cancelled"],
      [1, "failed", "cleared while queued"],
    ]);
    // A task that never ran and is marked has no tries.
    const e = new Recorder(spec({ x: { kind: "agent", queue: "q", command: "x" }, y: { kind: "noop", depends_on: ["x"] } }));
    e.send({ type: "start" }, T0);
    e.send({ type: "mark", task_ids: ["y"], state: "success" }, T0 + 10);
    expect(e.history("y")).toEqual([]);
    // Cleared after it finished, then marked before running again: still one try, as it ended.
    e.send({ type: "task_started", task_id: "x", try_number: 1, lease_until: T0 + 60_000, agent_id: "box" }, T0 + 20);
    e.send({ type: "task_succeeded", task_id: "x", try_number: 1 }, T0 + 30);
    e.send({ type: "mark", task_ids: ["x"], state: "failed" }, T0 + 40);
    expect(e.summary("x")).toEqual([[1, "failed", T0 + 20, T0 + 40, 20, "box", "marked failed"]]);
  });

  it("fills in the current try for runs recorded before history was kept", () => {
    const d = new Recorder(spec({ t: { kind: "noop" } }));
    d.send({ type: "start" }, T0);
    d.send({ type: "task_succeeded", task_id: "t", try_number: 1 }, T0 + 5);
    expect(attemptHistory([], d.run.tasks.t)).toEqual([{ try_number: 1, state: "success", queued_at: T0, started_at: T0, ended_at: T0 + 5, duration_ms: 5, agent_id: null, error: null }]);
    expect(attemptChanges(d.run, d.run, T0 + 10)).toEqual([]);
  });
});
