import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PipelineRunObject } from "../../worker/pipelines/pipeline-run-object";
import { ADMIN_TOKEN, call } from "./helpers";

const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body });
const runStub = (runId: string) => env.PIPELINE_RUNS.get(env.PIPELINE_RUNS.idFromName(runId));

async function createPipeline(name: string, spec: unknown): Promise<string> {
  const res = await api("POST", "/pipelines", { name, spec });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.json.pipeline_id;
}

async function waitForRun(runId: string, until: (run: any) => boolean): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const res = await api("GET", `/pipeline-runs/${runId}`);
    expect(res.status).toBe(200);
    if (until(res.json)) return res.json;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${runId} did not get there: ${JSON.stringify((await api("GET", `/pipeline-runs/${runId}`)).json)}`);
}

/** Claims the next try of `train` on the queue as `agent` and reports `exitCode`; returns its try number. */
async function runOnce(queue: string, agent: string, exitCode: number): Promise<number> {
  const task = (await api("POST", "/agents/claim", { queue, agent_id: agent })).json.task;
  expect(task, `nothing to claim on ${queue}`).not.toBeNull();
  await api("POST", "/agents/logs", { run_id: task.run_id, task_id: task.task_id, try_number: task.try_number, agent_id: agent, text: `try ${task.try_number} on ${agent}\n` });
  const done = await api("POST", "/agents/complete", { run_id: task.run_id, task_id: task.task_id, try_number: task.try_number, agent_id: agent, exit_code: exitCode });
  expect(done.json.accepted).toBe(true);
  return task.try_number;
}

const train = (run: any) => run.tasks.find((t: any) => t.task_id === "train");

describe("attempt history", () => {
  it("every retry keeps its own record: state it ended in, times, duration, agent and exit status", async () => {
    const id = await createPipeline("attempts-retry", { tasks: { train: { kind: "agent", queue: "att-1", command: "train", retries: 2, retry_delay: 0 }, after: { kind: "noop", depends_on: ["train"] } } });
    const runId = (await api("POST", `/pipelines/${id}/runs`, {})).json.run_id;
    await waitForRun(runId, (r) => train(r).state === "queued");
    for (const [agent, exit] of [
      ["box-a", 3],
      ["box-b", 4],
    ] as const) {
      expect(await runOnce("att-1", agent, exit)).toBeGreaterThan(0);
      // retry_delay 0: the alarm puts the next try up at once.
      await runDurableObjectAlarm(runStub(runId));
      await waitForRun(runId, (r) => train(r).state === "queued");
    }
    expect(await runOnce("att-1", "box-c", 0)).toBe(3);
    const run = await waitForRun(runId, (r) => r.state === "success");
    const attempts = train(run).attempts;
    expect(attempts.map((a: any) => [a.try_number, a.state, a.agent_id, a.error])).toEqual([
      [3, "success", "box-c", null],
      [2, "up_for_retry", "box-b", "the command exited with status 4"],
      [1, "up_for_retry", "box-a", "the command exited with status 3"],
    ]);
    for (const a of attempts) {
      expect(a.queued_at).toBeLessThanOrEqual(a.started_at);
      expect(a.started_at).toBeLessThanOrEqual(a.ended_at);
      expect(a.duration_ms).toBe(a.ended_at - a.started_at);
    }
    // Tries follow one another in time.
    expect(attempts[1].started_at).toBeGreaterThanOrEqual(attempts[2].ended_at);
    expect(attempts[0].started_at).toBeGreaterThanOrEqual(attempts[1].ended_at);
    // The latest try is the task instance's own state and times.
    expect(train(run)).toMatchObject({ state: "success", try_number: 3, started_at: attempts[0].started_at, ended_at: attempts[0].ended_at });
    // An in-process task has one try, run by no agent.
    expect(run.tasks.find((t: any) => t.task_id === "after").attempts).toEqual([expect.objectContaining({ try_number: 1, state: "success", agent_id: null })]);

    const route = await api("GET", `/pipeline-runs/${runId}/tasks/train/attempts`);
    expect(route.status).toBe(200);
    expect(route.json).toEqual({ run_id: runId, task_id: "train", attempts });
    // Each try's log is still its own.
    for (const [n, agent] of [
      [1, "box-a"],
      [2, "box-b"],
    ] as const)
      expect((await api("GET", `/pipeline-runs/${runId}/tasks/train/logs?try_number=${n}`)).json.text).toBe(`try ${n} on ${agent}\n`);
  });

  it("clear keeps the earlier tries and numbering continues; the history survives a restart", async () => {
    const id = await createPipeline("attempts-clear", { tasks: { train: { kind: "agent", queue: "att-2", command: "train" } } });
    const runId = (await api("POST", `/pipelines/${id}/runs`, {})).json.run_id;
    await waitForRun(runId, (r) => train(r).state === "queued");
    await runOnce("att-2", "box-a", 1);
    await waitForRun(runId, (r) => r.state === "failed");
    const cleared = await api("POST", `/pipeline-runs/${runId}/clear`, { task_ids: ["train"] });
    expect(cleared.status).toBe(200);
    expect(train(cleared.json).attempts.map((a: any) => [a.try_number, a.state])).toEqual([
      [2, "queued"],
      [1, "failed"],
    ]);
    expect(await runOnce("att-2", "box-b", 0)).toBe(2);
    const run = await waitForRun(runId, (r) => r.state === "success");
    const before = train(run).attempts;
    expect(before.map((a: any) => [a.try_number, a.state, a.agent_id, a.error])).toEqual([
      [2, "success", "box-b", null],
      [1, "failed", "box-a", "the command exited with status 1"],
    ]);
    // A restarted runtime keeps nothing in memory: the history comes back from the object's storage.
    await runInDurableObject(runStub(runId), (o: PipelineRunObject) => {
      Object.assign(o as unknown as Record<string, unknown>, { run: null, meta: null, spec: null, mirrored: null });
    });
    expect((await api("GET", `/pipeline-runs/${runId}/tasks/train/attempts`)).json.attempts).toEqual(before);
    const stored = await runInDurableObject(runStub(runId), (_o: PipelineRunObject, state) => state.storage.sql.exec<{ try_number: number }>("SELECT try_number FROM attempts WHERE task_id = 'train' ORDER BY try_number").toArray());
    expect(stored.map((r) => r.try_number)).toEqual([1, 2]);
  });

  it("answers 404 for an unknown run or task, and an empty list for a run still queued", async () => {
    const id = await createPipeline("attempts-404", { tasks: { a: { kind: "noop" } } });
    await api("POST", `/pipelines/${id}/pause`);
    const runId = (await api("POST", `/pipelines/${id}/runs`, {})).json.run_id;
    expect((await api("GET", `/pipeline-runs/${runId}/tasks/a/attempts`)).json).toEqual({ run_id: runId, task_id: "a", attempts: [] });
    expect((await api("GET", `/pipeline-runs/${runId}`)).json.tasks[0].attempts).toEqual([]);
    const noTask = await api("GET", `/pipeline-runs/${runId}/tasks/zz/attempts`);
    expect(noTask.status).toBe(404);
    expect(noTask.json.error.message).toBe(`Pipeline run '${runId}' has no task 'zz'`);
    expect((await api("GET", `/pipeline-runs/${"0".repeat(32)}/tasks/a/attempts`)).status).toBe(404);
    expect((await api("GET", `/pipeline-runs/nothex/tasks/a/attempts`)).status).toBe(400);
  });

  it("is in the OpenAPI document, as a route and on every task instance", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    expect(doc.paths["/api/v1/pipeline-runs/{run_id}/tasks/{task_id}/attempts"].get).toBeDefined();
    expect(Object.keys(doc.components.schemas.TaskAttempt.properties).sort()).toEqual(["agent_id", "duration_ms", "ended_at", "error", "queued_at", "started_at", "state", "try_number"]);
    expect(doc.components.schemas.TaskAttempt.properties.state.enum).toEqual(["queued", "running", "success", "failed", "up_for_retry"]);
    expect(doc.components.schemas.TaskInstance.required).toContain("attempts");
  });
});
