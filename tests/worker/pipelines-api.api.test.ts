import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import type { RunState } from "../../worker/lib/pipelines/machine";
import type { PipelineRunObject } from "../../worker/pipelines/pipeline-run-object";
import { ADMIN_TOKEN, call, errorCode } from "./helpers";

const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body });

async function createPipeline(name: string, spec: unknown): Promise<string> {
  const res = await api("POST", "/pipelines", { name, spec });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.json.pipeline_id;
}

async function waitForRun(runId: string, until: (run: any) => boolean = (r) => r.state === "success" || r.state === "failed"): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const res = await api("GET", `/pipeline-runs/${runId}`);
    expect(res.status).toBe(200);
    if (until(res.json)) return res.json;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${runId} did not get there: ${JSON.stringify((await api("GET", `/pipeline-runs/${runId}`)).json)}`);
}

const taskStates = (run: any) => Object.fromEntries(run.tasks.map((t: any) => [t.task_id, t.state]));
const runStub = (runId: string) => env.PIPELINE_RUNS.get(env.PIPELINE_RUNS.idFromName(runId));

async function scheduled(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const YAML_SPEC = `
schedule: "0 5 * * 1-5"
timezone: Asia/Seoul
catchup: false
params: {symbol: SPY}
tasks:
  fetch: {kind: noop}
  gate: {kind: branch, depends_on: [fetch], value: "{{ params.symbol }}", cases: {SPY: [predict]}, default: [skip]}
  predict: {kind: noop, depends_on: [gate]}
  skip: {kind: noop, depends_on: [gate]}
  store: {kind: noop, depends_on: [predict, skip], trigger_rule: none_failed_min_one_success}
`;

describe("pipelines API", () => {
  it("creates a pipeline from YAML and shows its next run time", async () => {
    const id = await createPipeline("daily-yaml", YAML_SPEC);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const got = await api("GET", `/pipelines/${id}`);
    expect(got.status).toBe(200);
    expect(got.json.pipeline).toMatchObject({ name: "daily-yaml", version: 1, paused: false, schedule: "0 5 * * 1-5", timezone: "Asia/Seoul", last_runs: [] });
    expect(got.json.pipeline.source).toBe(YAML_SPEC);
    // Next run: the end of the next weekday interval, at 05:00 in Seoul (20:00 UTC).
    const next = got.json.pipeline.next_run_at;
    expect(next).toBeGreaterThan(Date.now() - 4 * 86_400_000);
    expect(new Date(next).getUTCHours()).toBe(20);
    const list = await api("GET", "/pipelines");
    expect(list.json.pipelines.map((p: any) => p.name)).toContain("daily-yaml");
  });

  it("answers 400 naming the exact problem, and writes nothing", async () => {
    const cases: [unknown, string][] = [
      [{ tasks: { a: { kind: "noop", depends_on: ["c"] }, b: { kind: "noop", depends_on: ["a"] }, c: { kind: "noop", depends_on: ["b"] } } }, "Invalid spec: tasks.a.depends_on: dependency cycle: a → b → c → a"],
      [{ tasks: { a: { kind: "bash", command: "x" } } }, "Invalid spec: tasks.a.kind: unknown task kind 'bash' (known kinds: noop, http, agent, branch, wait, dataset_snapshot, drift_check, tuning_study, register_model, dataset_sensor)"],
      [{ tasks: { a: { kind: "noop", depends_on: ["ghost"] } } }, "Invalid spec: tasks.a.depends_on[0]: unknown task 'ghost'"],
      [{ schedule: "0 5 * *", tasks: { a: { kind: "noop" } } }, "Invalid spec: schedule: '0 5 * *' is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 4"],
      [{ timezone: "Asia/Nowhere", tasks: { a: { kind: "noop" } } }, "Invalid spec: timezone: unknown time zone 'Asia/Nowhere' (use an IANA name such as 'Asia/Seoul' or 'UTC')"],
      ["tasks: [unclosed", "Invalid spec: spec: not valid YAML or JSON at line 1, column 17: Missing , or : between flow sequence items"],
    ];
    for (const [spec, message] of cases) {
      const res = await api("POST", "/pipelines", { name: "bad", spec });
      expect(res.status, JSON.stringify(spec)).toBe(400);
      expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
      expect(res.json.error.message.startsWith(message.slice(0, 60)), res.json.error.message).toBe(true);
    }
    const list = await api("GET", "/pipelines");
    expect(list.json.pipelines.map((p: any) => p.name)).not.toContain("bad");
    expect((await api("POST", "/pipelines", { name: "x", spec: { tasks: { a: { kind: "noop" } } }, extra: 1 })).status).toBe(400);
  });

  it("refuses a second pipeline with the same name", async () => {
    await createPipeline("dupe", { tasks: { a: { kind: "noop" } } });
    const res = await api("POST", "/pipelines", { name: "dupe", spec: { tasks: { a: { kind: "noop" } } } });
    expect(res.status).toBe(409);
    expect(errorCode(res)).toBe("RESOURCE_ALREADY_EXISTS");
  });

  it("runs a DAG with a branch to success; the run records its version and mirrors task states to D1", async () => {
    const id = await createPipeline("branchy", YAML_SPEC);
    const trig = await api("POST", `/pipelines/${id}/runs`, { conf: { note: "first" } });
    expect(trig.status).toBe(201);
    const run = await waitForRun(trig.json.run_id);
    expect(run).toMatchObject({ state: "success", version: 1, run_type: "manual", conf: { note: "first" } });
    expect(taskStates(run)).toEqual({ fetch: "success", gate: "success", predict: "success", skip: "skipped", store: "success" });
    expect(run.tasks.find((t: any) => t.task_id === "gate").output).toEqual({ value: "SPY", follow: ["predict"] });
    const mirrored = await env.DB.prepare("SELECT task_id, state, try_number FROM pipeline_task_instances WHERE run_id = ? ORDER BY task_id").bind(run.run_id).all();
    expect(mirrored.results).toEqual([
      { task_id: "fetch", state: "success", try_number: 1 },
      { task_id: "gate", state: "success", try_number: 1 },
      { task_id: "predict", state: "success", try_number: 1 },
      { task_id: "skip", state: "skipped", try_number: 0 },
      { task_id: "store", state: "success", try_number: 1 },
    ]);
    // A new version: runs from now on record it; the old run keeps version 1.
    const put = await api("PUT", `/pipelines/${id}`, { spec: YAML_SPEC.replace("symbol: SPY", "symbol: QQQ") });
    expect(put.json).toEqual({ pipeline_id: id, version: 2 });
    const second = await waitForRun((await api("POST", `/pipelines/${id}/runs`, {})).json.run_id);
    expect(second.version).toBe(2);
    expect(taskStates(second)).toMatchObject({ predict: "skipped", skip: "success", store: "success" });
    const runs = await api("GET", `/pipelines/${id}/runs`);
    expect(runs.json.runs.map((r: any) => [r.version, r.state])).toEqual(
      expect.arrayContaining([
        [1, "success"],
        [2, "success"],
      ]),
    );
    const listed = (await api("GET", "/pipelines")).json.pipelines.find((p: any) => p.pipeline_id === id);
    expect(listed.last_runs.map((r: any) => r.state)).toEqual(["success", "success"]);
  });

  it("refuses a manual run for a logical date that already has one", async () => {
    const id = await createPipeline("dated", { tasks: { a: { kind: "noop" } } });
    expect((await api("POST", `/pipelines/${id}/runs`, { logical_date: "2026-01-02T00:00:00Z" })).status).toBe(201);
    const again = await api("POST", `/pipelines/${id}/runs`, { logical_date: Date.UTC(2026, 0, 2) });
    expect(again.status).toBe(409);
    expect(again.json.error.message).toBe(`Pipeline '${id}' already has a run for logical date 2026-01-02T00:00:00.000Z`);
    expect((await api("POST", `/pipelines/${id}/runs`, { logical_date: "soon" })).json.error.message).toBe("logical_date: 'soon' is not a date-time (use ISO 8601 or milliseconds since the epoch)");
  });

  it("refuses http calls to Tern's own origin, without retrying", async () => {
    const id = await createPipeline("self-call", { tasks: { me: { kind: "http", url: "https://tern.test/api/v1/health", retries: 3 } } });
    const run = await waitForRun((await api("POST", `/pipelines/${id}/runs`, {})).json.run_id);
    expect(run.state).toBe("failed");
    expect(run.tasks[0]).toMatchObject({ state: "failed", try_number: 1, error: "http: refusing to call Tern's own origin (https://tern.test); use the task kinds instead" });
  });

  it("retries a failing task after retry_delay, driven by the Durable Object's alarm", async () => {
    const id = await createPipeline("flaky", { tasks: { call: { kind: "http", url: "http://127.0.0.1:9/unreachable", retries: 1, retry_delay: 1 } } });
    const runId = (await api("POST", `/pipelines/${id}/runs`, {})).json.run_id;
    const first = await waitForRun(runId, (r) => r.tasks[0].state === "up_for_retry");
    expect(first.tasks[0].error).toMatch(/^http: GET http:\/\/127\.0\.0\.1:9\/unreachable failed/);
    const alarm = await runInDurableObject(runStub(runId), (_o, state) => state.storage.getAlarm());
    expect(alarm).toBe(first.tasks[0].retry_at);
    // The alarm fires on its own once retry_at has passed (runDurableObjectAlarm covers a late one).
    await new Promise((r) => setTimeout(r, Math.max(0, first.tasks[0].retry_at - Date.now()) + 50));
    await runDurableObjectAlarm(runStub(runId));
    const done = await waitForRun(runId);
    expect(done.tasks[0]).toMatchObject({ state: "failed", try_number: 2 });
    expect(done.state).toBe("failed");
  });

  it("clears, marks and cancels", async () => {
    const id = await createPipeline("ops", { tasks: { a: { kind: "http", url: "http://127.0.0.1:9/x" }, b: { kind: "noop", depends_on: ["a"] } } });
    const runId = (await api("POST", `/pipelines/${id}/runs`, {})).json.run_id;
    expect(taskStates(await waitForRun(runId))).toEqual({ a: "failed", b: "upstream_failed" });
    const marked = await api("POST", `/pipeline-runs/${runId}/mark`, { task_ids: ["a"], state: "success" });
    expect(marked.status).toBe(200);
    const cleared = await api("POST", `/pipeline-runs/${runId}/clear`, { task_ids: ["b"] });
    expect(cleared.status).toBe(200);
    const after = await waitForRun(runId, (r) => r.state === "success");
    expect(taskStates(after)).toEqual({ a: "success", b: "success" });
    expect((await api("POST", `/pipeline-runs/${runId}/clear`, { task_ids: ["nope"] })).json.error.message).toBe(`task_ids: run '${runId}' has no task 'nope'`);
    const cancelFinished = await api("POST", `/pipeline-runs/${runId}/cancel`);
    expect(cancelFinished.status).toBe(409);

    const agentPipe = await createPipeline("to-cancel", { tasks: { train: { kind: "agent", command: "sleep 1000", queue: "nobody" }, after: { kind: "noop", depends_on: ["train"] } } });
    const r2 = (await api("POST", `/pipelines/${agentPipe}/runs`, {})).json.run_id;
    await waitForRun(r2, (r) => r.tasks[0].state === "queued");
    const cancelled = await api("POST", `/pipeline-runs/${r2}/cancel`);
    expect(cancelled.json.state).toBe("failed");
    expect(taskStates(cancelled.json)).toEqual({ train: "failed", after: "skipped" });
    const row = await env.DB.prepare("SELECT state FROM pipeline_runs WHERE run_id = ?").bind(r2).first();
    expect(row).toEqual({ state: "failed" });
  });

  it("pauses and unpauses; deletes a pipeline with its runs", async () => {
    const id = await createPipeline("pausable", { schedule: "@daily", tasks: { a: { kind: "noop" } } });
    expect((await api("POST", `/pipelines/${id}/pause`)).json.pipeline).toMatchObject({ paused: true, next_run_at: null });
    const runId = (await api("POST", `/pipelines/${id}/runs`, {})).json.run_id;
    // Paused: the run waits, queued.
    expect((await api("GET", `/pipeline-runs/${runId}`)).json.state).toBe("queued");
    expect((await api("POST", `/pipelines/${id}/unpause`)).json.pipeline.paused).toBe(false);
    await waitForRun(runId);
    expect((await api("DELETE", `/pipelines/${id}`)).json).toEqual({ pipeline_id: id, deleted: true });
    expect((await api("GET", `/pipelines/${id}`)).status).toBe(404);
    expect((await api("GET", `/pipeline-runs/${runId}`)).status).toBe(404);
  });
});

describe("scheduling", () => {
  it("the same scheduled event twice makes one run per due interval", async () => {
    const id = await createPipeline("hourly", { schedule: "@hourly", start_date: "2026-11-28T00:00Z", catchup: true, max_active_runs: 1, tasks: { a: { kind: "noop" } } });
    const tick = Date.UTC(2026, 10, 28, 3, 0, 30);
    await scheduled(tick);
    await scheduled(tick);
    const runs = (await api("GET", `/pipelines/${id}/runs`)).json.runs;
    expect(runs.map((r: any) => new Date(r.logical_date).toISOString()).sort()).toEqual(["2026-11-28T00:00:00.000Z", "2026-11-28T01:00:00.000Z", "2026-11-28T02:00:00.000Z"]);
    expect(runs.every((r: any) => r.run_type === "scheduled" && r.data_interval_end - r.data_interval_start === 3_600_000)).toBe(true);
    // Two overlapping invocations of the same tick.
    await Promise.all([scheduled(tick + 3_600_000), scheduled(tick + 3_600_000)]);
    const after = (await api("GET", `/pipelines/${id}/runs`)).json.runs;
    expect(after).toHaveLength(4);
    const count = await env.DB.prepare("SELECT count(*) AS n, count(DISTINCT logical_date) AS d FROM pipeline_runs WHERE pipeline_id = ?").bind(id).first();
    expect(count).toEqual({ n: 4, d: 4 });
    // max_active_runs = 1: runs go one after another, all to success.
    for (const r of after) await waitForRun(r.run_id);
  });

  it("backfill creates the runs of a range once", async () => {
    const id = await createPipeline("backfilled", { schedule: "@daily", max_active_runs: 3, tasks: { a: { kind: "noop" } } });
    const res = await api("POST", `/pipelines/${id}/backfill`, { start: "2026-10-01", end: "2026-10-05" });
    expect(res.status).toBe(201);
    expect(res.json.logical_dates.map((t: number) => new Date(t).toISOString().slice(0, 10))).toEqual(["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"]);
    expect(res.json.existing).toBe(0);
    const again = await api("POST", `/pipelines/${id}/backfill`, { start: "2026-10-04", end: "2026-10-07" });
    expect(again.json).toMatchObject({ existing: 2 });
    expect(again.json.run_ids).toHaveLength(2);
    for (const runId of [...res.json.run_ids, ...again.json.run_ids]) expect((await waitForRun(runId)).state).toBe("success");
    const manual = await createPipeline("manual-only", { tasks: { a: { kind: "noop" } } });
    const none = await api("POST", `/pipelines/${manual}/backfill`, { start: "2026-10-01", end: "2026-10-05" });
    expect(none.status).toBe(400);
    expect(none.json.error.message).toBe("Pipeline 'manual-only' has no schedule, so there are no intervals to backfill; trigger runs with a logical_date instead");
  });
});

describe("agents", () => {
  const agentSpec = { params: { symbol: "SPY" }, tasks: { train: { kind: "agent", queue: "gpu", command: "python train.py {{ params.symbol }} {{ ds }}", env: { RUN: "{{ run_id }}" }, retries: 1, retry_delay: 1 }, report: { kind: "noop", depends_on: ["train"] } } };

  it("claim, heartbeat, logs, complete: the run succeeds and the log is in R2", async () => {
    const id = await createPipeline("agent-ok", agentSpec);
    const runId = (await api("POST", `/pipelines/${id}/runs`, { conf: { symbol: "QQQ" }, logical_date: "2026-11-27T05:00:00Z" })).json.run_id;
    await waitForRun(runId, (r) => r.tasks[0].state === "queued");
    expect((await api("POST", "/agents/claim", { queue: "cpu", agent_id: "box-1" })).json).toEqual({ task: null });
    const claim = await api("POST", "/agents/claim", { queue: "gpu", agent_id: "box-1", lease_seconds: 30 });
    expect(claim.json.task).toMatchObject({ run_id: runId, task_id: "train", try_number: 1, command: "python train.py QQQ 2026-11-27", env: { RUN: runId } });
    // Nobody else gets it.
    expect((await api("POST", "/agents/claim", { queue: "gpu", agent_id: "box-2" })).json).toEqual({ task: null });
    const attempt = { run_id: runId, task_id: "train", try_number: 1, agent_id: "box-1" };
    const hb = await api("POST", "/agents/heartbeat", { ...attempt, lease_seconds: 60 });
    expect(hb.json).toMatchObject({ keep_running: true, state: "running" });
    expect((await api("POST", "/agents/heartbeat", { ...attempt, agent_id: "intruder" })).json.keep_running).toBe(false);
    expect((await api("POST", "/agents/logs", { ...attempt, text: "epoch 1\n" })).status).toBe(200);
    expect((await api("POST", "/agents/logs", { ...attempt, text: "epoch 2\n" })).status).toBe(200);
    const live = await api("GET", `/pipeline-runs/${runId}/tasks/train/logs?try_number=1`);
    expect(live.json).toMatchObject({ text: "epoch 1\nepoch 2\n", live: true });
    const done = await api("POST", "/agents/complete", { ...attempt, exit_code: 0, output: { rmse: 0.12 } });
    expect(done.json).toEqual({ accepted: true, state: "success" });
    const run = await waitForRun(runId);
    expect(run.state).toBe("success");
    expect(run.tasks[0]).toMatchObject({ state: "success", output: { rmse: 0.12 }, agent_id: "box-1" });
    const stored = await env.BLOBS.get(`runs/${runId}/train/1.log`);
    expect(await stored!.text()).toBe("epoch 1\nepoch 2\n");
  });

  it("a lost lease expires on the alarm and the task is retried", async () => {
    const id = await createPipeline("agent-lost", agentSpec);
    const runId = (await api("POST", `/pipelines/${id}/runs`, {})).json.run_id;
    await waitForRun(runId, (r) => r.tasks[0].state === "queued");
    const claim = (await api("POST", "/agents/claim", { queue: "gpu", agent_id: "vanishing", lease_seconds: 5 })).json.task;
    expect(claim.try_number).toBe(1);
    // Let the lease run out without waiting for it: move it into the past in the object's storage, and
    // drop the object's in-memory copy so it reads the storage again, as after a restart.
    await runInDurableObject(runStub(runId), (o: PipelineRunObject, state) => {
      const row = state.storage.sql.exec<{ state: string }>("SELECT state FROM run").one();
      const run = JSON.parse(row.state) as RunState;
      run.tasks.train.lease_until = Date.now() - 1;
      state.storage.sql.exec("UPDATE run SET state = ?", JSON.stringify(run));
      (o as unknown as { run: RunState | null }).run = null;
    });
    expect(await runDurableObjectAlarm(runStub(runId))).toBe(true);
    const retrying = (await api("GET", `/pipeline-runs/${runId}`)).json;
    expect(retrying.tasks[0]).toMatchObject({ state: "up_for_retry", error: "lease expired: agent 'vanishing' stopped reporting" });
    // The vanished agent's late report does not count.
    expect((await api("POST", "/agents/complete", { run_id: runId, task_id: "train", try_number: 1, agent_id: "vanishing", exit_code: 0 })).json.accepted).toBe(false);
    await new Promise((r) => setTimeout(r, Math.max(0, retrying.tasks[0].retry_at - Date.now()) + 50));
    await runDurableObjectAlarm(runStub(runId));
    await waitForRun(runId, (r) => r.tasks[0].state === "queued");
    const second = (await api("POST", "/agents/claim", { queue: "gpu", agent_id: "steady" })).json.task;
    expect(second).toMatchObject({ run_id: runId, try_number: 2 });
    await api("POST", "/agents/complete", { run_id: runId, task_id: "train", try_number: 2, agent_id: "steady", exit_code: 3 });
    const failed = await waitForRun(runId);
    expect(failed.tasks[0]).toMatchObject({ state: "failed", try_number: 2, error: "the command exited with status 3" });
    expect(failed.tasks[1].state).toBe("upstream_failed");
  });
});
