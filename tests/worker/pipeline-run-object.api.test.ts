import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parsePipelineSpec } from "../../worker/lib/pipelines/spec";
import type { PipelineRunApi, PipelineRunObject, RunInit, RunSnapshot } from "../../worker/pipelines/pipeline-run-object";

/** The object mirrors into D1, so each run needs its pipeline and run rows there first. */
async function seed(runId: string, spec: unknown): Promise<{ stub: PipelineRunApi; init: RunInit }> {
  const now = Date.now();
  const pipelineId = `p${runId}`.slice(0, 32);
  const parsed = parsePipelineSpec(spec);
  await env.DB.batch([
    env.DB.prepare("INSERT INTO pipelines (pipeline_id, name, latest_version, paused, created_at, updated_at) VALUES (?, ?, 1, 0, ?, ?)").bind(pipelineId, `n-${runId}`, now, now),
    env.DB.prepare("INSERT INTO pipeline_versions (pipeline_id, version, source, spec, created_at) VALUES (?, 1, '', ?, ?)").bind(pipelineId, JSON.stringify(parsed), now),
    env.DB.prepare("INSERT INTO pipeline_runs (run_id, pipeline_id, version, run_type, logical_date, data_interval_start, data_interval_end, state, conf, created_at) VALUES (?, ?, 1, 'manual', ?, ?, ?, 'queued', '{}', ?)").bind(runId, pipelineId, now, now, now, now),
  ]);
  const init: RunInit = { run_id: runId, pipeline_id: pipelineId, version: 1, run_type: "manual", spec: parsed, logical_date: now, data_interval_start: now, data_interval_end: now, conf: {}, self_origins: [] };
  return { stub: env.PIPELINE_RUNS.get(env.PIPELINE_RUNS.idFromName(runId)) as unknown as PipelineRunApi, init };
}

const stubOf = (runId: string) => env.PIPELINE_RUNS.get(env.PIPELINE_RUNS.idFromName(runId));

async function until(stub: PipelineRunApi, ok: (s: RunSnapshot) => boolean): Promise<RunSnapshot> {
  for (let i = 0; i < 200; i++) {
    const s = await stub.snapshot();
    if (ok(s)) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not reached: ${JSON.stringify(await stub.snapshot())}`);
}

describe("PipelineRunObject", () => {
  it("init is idempotent and mirrors every task to D1", async () => {
    const { stub, init } = await seed("a".repeat(32), { tasks: { a: { kind: "noop" }, b: { kind: "noop", depends_on: ["a"] } } });
    const first = await stub.init(init);
    const second = await stub.init({ ...init, version: 99 });
    expect(second).toEqual(first);
    expect(first.state).toBe("queued");
    const rows = await env.DB.prepare("SELECT task_id, state FROM pipeline_task_instances WHERE run_id = ? ORDER BY task_id").bind(init.run_id).all();
    expect(rows.results).toEqual([
      { task_id: "a", state: "none" },
      { task_id: "b", state: "none" },
    ]);
    await stub.start();
    const done = await until(stub, (s) => s.state === "success");
    expect(done.tasks.map((t) => [t.task_id, t.state, t.try_number])).toEqual([
      ["a", "success", 1],
      ["b", "success", 1],
    ]);
    expect(await env.DB.prepare("SELECT state FROM pipeline_runs WHERE run_id = ?").bind(init.run_id).first()).toEqual({ state: "success" });
  });

  it("a wait task sleeps on the alarm and finishes when it fires; the run outlives its in-memory state", async () => {
    const { stub, init } = await seed("b".repeat(32), { tasks: { nap: { kind: "wait", seconds: 1 }, after: { kind: "noop", depends_on: ["nap"] } } });
    await stub.init(init);
    await stub.start();
    const waiting = await until(stub, (s) => s.tasks[0].state === "running");
    const alarm = await runInDurableObject(stubOf(init.run_id), (_o: PipelineRunObject, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(waiting.tasks[0].started_at! + 1000);
    // Forget everything in memory, as a restarted runtime would.
    await runInDurableObject(stubOf(init.run_id), (o: PipelineRunObject) => {
      Object.assign(o as unknown as Record<string, unknown>, { run: null, meta: null, spec: null });
    });
    await new Promise((r) => setTimeout(r, Math.max(0, alarm! - Date.now()) + 20));
    await runDurableObjectAlarm(stubOf(init.run_id));
    const done = await until(stub, (s) => s.state === "success");
    expect(done.tasks.map((t) => t.state)).toEqual(["success", "success"]);
    expect(done.tasks[0].output).toEqual({ waited_until: new Date(waiting.tasks[0].started_at! + 1000).toISOString() });
    expect(await runInDurableObject(stubOf(init.run_id), (_o: PipelineRunObject, state) => state.storage.getAlarm())).toBeNull();
  });

  it("answers the health ping", async () => {
    expect(await stubOf("ping").ping()).toEqual({ ok: true, class: "PipelineRunObject" });
  });
});
