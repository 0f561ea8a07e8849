import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { ADMIN_TOKEN, call } from "./helpers";

const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body });

async function createPipeline(name: string, spec: unknown): Promise<string> {
  const res = await api("POST", "/pipelines", { name, spec });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.json.pipeline_id;
}

async function scheduled(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** What is running right now, as D1 has it and as the runs' objects have it. */
async function observe(pipelineId: string): Promise<{ d1: number; objects: number; states: Record<string, number> }> {
  const rows = (await env.DB.prepare("SELECT run_id, state FROM pipeline_runs WHERE pipeline_id = ?").bind(pipelineId).all<{ run_id: string; state: string }>()).results;
  const states: Record<string, number> = {};
  for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;
  const snapshots = await Promise.all(rows.filter((r) => r.state !== "queued").map((r) => api("GET", `/pipeline-runs/${r.run_id}`)));
  return { d1: states.running ?? 0, objects: snapshots.filter((s) => s.json.state === "running").length, states };
}

// Dozens of requests and polls per test: give them room on a busy machine.
describe("max_active_runs", { timeout: 120_000 }, () => {
  it("10 simultaneous triggers with max_active_runs 2: never more than 2 running, the rest wait queued, all finish", async () => {
    const queue = "conc-1";
    const id = await createPipeline("concurrent-triggers", { max_active_runs: 2, tasks: { work: { kind: "agent", queue, command: "work" }, after: { kind: "noop", depends_on: ["work"] } } });
    const t0 = Date.UTC(2026, 10, 1);
    // The requests overlap at every stage rather than in lockstep (each starts a moment after the one
    // before, with cron ticks among them), and each brings an older logical date than the one before, so
    // starters that look at different moments see a different "oldest queued" run: without one
    // serialised slot count they start different runs.
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const ticks = [0, 1, 2].map((ms) => pause(ms).then(() => scheduled(Date.now())));
    const triggers = await Promise.all(Array.from({ length: 10 }, (_, i) => pause(i % 4).then(() => api("POST", `/pipelines/${id}/runs`, { logical_date: t0 - i * 60_000 }))));
    await Promise.all(ticks);
    expect(triggers.map((t) => t.status)).toEqual(Array(10).fill(201));
    const runIds = triggers.map((t) => t.json.run_id as string);

    const seen: { d1: number; objects: number }[] = [];
    const check = async () => {
      const o = await observe(id);
      seen.push(o);
      expect(o.d1, JSON.stringify(o.states)).toBeLessThanOrEqual(2);
      expect(o.objects).toBeLessThanOrEqual(2);
      return o;
    };
    expect((await check()).states).toEqual({ running: 2, queued: 8 });

    // Work the queue one task at a time; every finish frees a slot for the oldest queued run. Extra
    // starters race each finish: a cron tick and a trigger of a new run, at the same moment.
    let finished = 0;
    for (let round = 0; round < 200 && finished < 12; round++) {
      const task = (await api("POST", "/agents/claim", { queue, agent_id: "worker" })).json.task;
      await check();
      if (!task) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const racers: Promise<unknown>[] = [api("POST", "/agents/complete", { run_id: task.run_id, task_id: task.task_id, try_number: task.try_number, agent_id: "worker", exit_code: 0 })];
      if (finished === 3) racers.push(scheduled(Date.now()), api("POST", `/pipelines/${id}/runs`, { logical_date: t0 + 60_000 }), api("POST", `/pipelines/${id}/runs`, { logical_date: t0 + 120_000 }));
      await Promise.all(racers);
      finished++;
      await check();
    }
    // Wait for the last runs' noop task.
    for (let i = 0; i < 200; i++) {
      const o = await check();
      if (o.states.success === 12) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const runs = (await api("GET", `/pipelines/${id}/runs`)).json.runs;
    expect(runs).toHaveLength(12);
    expect(runs.every((r: any) => r.state === "success")).toBe(true);
    for (const runId of runIds) expect(runs.map((r: any) => r.run_id)).toContain(runId);
    // The limit was reached (it is a limit, not a serialisation), and never passed.
    expect(Math.max(...seen.map((s) => s.d1))).toBe(2);
  });

  it("runs start oldest logical date first as slots free, and a cancelled queued run never starts", async () => {
    const queue = "conc-2";
    const id = await createPipeline("ordered-slots", { max_active_runs: 1, tasks: { work: { kind: "agent", queue, command: "work" } } });
    const t0 = Date.UTC(2026, 9, 1);
    const made = await Promise.all([3, 1, 2, 0].map((i) => api("POST", `/pipelines/${id}/runs`, { logical_date: t0 + i * 86_400_000 })));
    const byDay = new Map(made.map((m, k) => [[3, 1, 2, 0][k], m.json.run_id as string]));
    // A queued run that is cancelled stays failed and never gets a slot.
    const cancelled = await api("POST", `/pipeline-runs/${byDay.get(2)}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.state).toBe("failed");
    const order: string[] = [];
    for (let round = 0; round < 200 && order.length < 3; round++) {
      const task = (await api("POST", "/agents/claim", { queue, agent_id: "w" })).json.task;
      if (!task) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const running = (await env.DB.prepare("SELECT count(*) AS n FROM pipeline_runs WHERE pipeline_id = ? AND state = 'running'").bind(id).first<{ n: number }>())!.n;
      expect(running).toBe(1);
      order.push(task.run_id);
      await api("POST", "/agents/complete", { run_id: task.run_id, task_id: task.task_id, try_number: task.try_number, agent_id: "w", exit_code: 0 });
    }
    expect(order).toEqual([byDay.get(0), byDay.get(1), byDay.get(3)]);
    const cancelledRun = (await api("GET", `/pipeline-runs/${byDay.get(2)}`)).json;
    expect(cancelledRun).toMatchObject({ state: "failed", started_at: null });
    // It was never started, so there is nothing to clear.
    expect((await api("POST", `/pipeline-runs/${byDay.get(2)}/clear`, { task_ids: ["work"] })).status).toBe(409);
  });

  it("a cleared finished run needs a slot like a new one: without one it waits queued, keeping its history", async () => {
    const queue = "conc-3";
    const id = await createPipeline("cleared-slots", { max_active_runs: 1, tasks: { work: { kind: "agent", queue, command: "work" } } });
    const runningCount = async () => (await env.DB.prepare("SELECT count(*) AS n FROM pipeline_runs WHERE pipeline_id = ? AND state = 'running'").bind(id).first<{ n: number }>())!.n;
    const finish = async (agent: string) => {
      let task = null;
      for (let i = 0; i < 200 && !task; i++) {
        task = (await api("POST", "/agents/claim", { queue, agent_id: agent })).json.task;
        if (!task) await new Promise((r) => setTimeout(r, 20));
      }
      expect(task).not.toBeNull();
      await api("POST", "/agents/complete", { run_id: task.run_id, task_id: task.task_id, try_number: task.try_number, agent_id: agent, exit_code: 0 });
      return task;
    };
    const first = (await api("POST", `/pipelines/${id}/runs`, { logical_date: Date.UTC(2026, 7, 1) })).json.run_id;
    expect((await finish("a")).run_id).toBe(first);
    const second = (await api("POST", `/pipelines/${id}/runs`, { logical_date: Date.UTC(2026, 7, 2) })).json.run_id;
    for (let i = 0; i < 200 && (await api("GET", `/pipeline-runs/${second}`)).json.tasks[0].state !== "queued"; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await api("GET", `/pipeline-runs/${first}`)).json.state).toBe("success");

    // The second run holds the only slot: the cleared first run waits, queued, with its first try on record.
    const cleared = await api("POST", `/pipeline-runs/${first}/clear`, { task_ids: ["work"] });
    expect(cleared.status).toBe(200);
    expect(cleared.json).toMatchObject({ state: "queued", ended_at: null });
    expect(cleared.json.tasks[0]).toMatchObject({ state: "none", try_number: 1 });
    expect(cleared.json.tasks[0].attempts.map((a: any) => [a.try_number, a.state, a.agent_id])).toEqual([[1, "success", "a"]]);
    expect(await runningCount()).toBe(1);
    expect((await env.DB.prepare("SELECT state FROM pipeline_runs WHERE run_id = ?").bind(first).first())).toEqual({ state: "queued" });

    // The second run finishing frees the slot: the first starts again and its task gets try 2.
    expect((await finish("b")).run_id).toBe(second);
    const again = await finish("c");
    expect(again).toMatchObject({ run_id: first, try_number: 2 });
    let run: any;
    for (let i = 0; i < 200; i++) {
      run = (await api("GET", `/pipeline-runs/${first}`)).json;
      if (run.state === "success") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(run.state).toBe("success");
    expect(run.tasks[0].attempts.map((a: any) => [a.try_number, a.state, a.agent_id])).toEqual([
      [2, "success", "c"],
      [1, "success", "a"],
    ]);
    // With a slot free, a cleared finished run goes again at once.
    const now = await api("POST", `/pipeline-runs/${second}/clear`, { task_ids: ["work"] });
    expect(now.json.state).toBe("running");
    expect(now.json.tasks[0]).toMatchObject({ state: "queued", try_number: 2 });
    // Cancelling a cleared run that waits for a slot keeps its history.
    await api("POST", `/pipeline-runs/${first}/clear`, { task_ids: ["work"] });
    const cancelled = await api("POST", `/pipeline-runs/${first}/cancel`);
    expect(cancelled.json).toMatchObject({ state: "failed" });
    expect(cancelled.json.tasks[0].state).toBe("skipped");
    expect(cancelled.json.tasks[0].attempts.map((a: any) => a.try_number)).toEqual([2, 1]);
    expect(await runningCount()).toBe(1);
  });

  it("a run whose starter stopped after taking its slot is started by the next tick", async () => {
    const id = await createPipeline("orphan-slot", { max_active_runs: 1, tasks: { a: { kind: "noop" } } });
    await api("POST", `/pipelines/${id}/pause`);
    const runId = (await api("POST", `/pipelines/${id}/runs`, { logical_date: Date.UTC(2026, 8, 1) })).json.run_id;
    // As if a starter took the slot and stopped before starting the run's object.
    await env.DB.prepare("UPDATE pipeline_runs SET state = 'running' WHERE run_id = ?").bind(runId).run();
    await env.DB.prepare("UPDATE pipelines SET paused = 0 WHERE pipeline_id = ?").bind(id).run();
    expect((await api("GET", `/pipeline-runs/${runId}`)).json).toMatchObject({ state: "running", started_at: null });
    await scheduled(Date.now());
    for (let i = 0; i < 200; i++) {
      if ((await api("GET", `/pipeline-runs/${runId}`)).json.state === "success") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await api("GET", `/pipeline-runs/${runId}`)).json).toMatchObject({ state: "success", tasks: [expect.objectContaining({ state: "success" })] });
  });
});
