/**
 * The built-in task kinds and data-aware triggers, through the real Worker and the runs' Durable
 * Objects in workerd: each built-in's output and failure paths, bad specs (exact 400s), one run per
 * committed version (idempotent), and pipeline runs in the lineage graph.
 */
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../worker/index";
import { buildServices } from "../../worker/services";
import { api, commitFile, createDataset, sha256 } from "./datasets-helpers";
import { registeredModel } from "./monitoring-helpers";

// Runs go through several Durable Object round trips and alarms; the machine is shared.
vi.setConfig({ testTimeout: 30_000 });

const uid = () => crypto.randomUUID().slice(0, 8);

async function createPipeline(name: string, spec: unknown): Promise<string> {
  const res = await api("POST", "/pipelines", { name, spec });
  expect(res.status, res.text).toBe(201);
  return res.json.pipeline_id;
}

async function trigger(pipelineId: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api("POST", `/pipelines/${pipelineId}/runs`, body);
  expect(res.status, res.text).toBe(201);
  return res.json.run_id;
}

async function waitForRun(runId: string, until: (run: any) => boolean = (r) => r.state === "success" || r.state === "failed", ms = 10_000): Promise<any> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const res = await api("GET", `/pipeline-runs/${runId}`);
    expect(res.status, res.text).toBe(200);
    if (until(res.json)) return res.json;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${runId} did not get there: ${JSON.stringify((await api("GET", `/pipeline-runs/${runId}`)).json)}`);
}

async function scheduled(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const task = (run: any, id: string) => run.tasks.find((t: any) => t.task_id === id);
const runStub = (runId: string) => env.PIPELINE_RUNS.get(env.PIPELINE_RUNS.idFromName(runId));
const edges = (g: any) => g.edges.map((e: any) => `${e.from} -${e.kind}-> ${e.to}`).sort();

/** A web server behind the Worker's outbound fetch: path → [status, body]; every request is recorded. */
function origin(routes: Record<string, () => [number, string]>) {
  const seen: { url: string; headers: Record<string, string> }[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    seen.push({ url: url.toString(), headers: Object.fromEntries(new Headers(init?.headers).entries()) });
    const route = routes[url.pathname];
    if (!route) return new Response("no such file", { status: 404 });
    const [status, body] = route();
    return new Response(body, { status, headers: { "Content-Type": "text/csv" } });
  });
  return seen;
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** A CSV of n rows: a numeric column starting at `from`, a categorical one, and an id column. */
function csv(n: number, from: number, countries: string[]): string {
  const lines = ["id,age,country"];
  for (let i = 0; i < n; i++) lines.push(`${i},${from + (i % 40) + i / 1000},${countries[i % countries.length]}`);
  return lines.join("\n") + "\n";
}

describe("bad specs answer 400 with the exact problem", () => {
  it.each([
    [
      { tasks: { s: { kind: "dataset_snapshot", url: "https://x.test/a.csv", dataset: "no spaces please" } } },
      "Invalid spec: tasks.s.dataset: 'no spaces please' is not a dataset name (letters, digits, '.', '_' and '-', at most 128, starting with a letter or digit)",
    ],
    [{ tasks: { d: { kind: "drift_check", monitor: "m", fail_on_drift: "yes" } } }, "Invalid spec: tasks.d.fail_on_drift: Invalid input: expected boolean, received string"],
    [{ tasks: { t: { kind: "tuning_study", study: "s" } } }, "Invalid spec: tasks.t.n_trials: Invalid input: expected number, received undefined"],
    [{ tasks: { r: { kind: "register_model", name: "m", run_id: "r", alias: "latest" } } }, "Invalid spec: tasks.r.alias: 'latest' is not a usable alias (letters, digits, '_' and '-'; not 'latest' nor v<number>)"],
    [{ tasks: { w: { kind: "dataset_sensor", dataset: "d", timeout: "forever" } } }, 'Invalid spec: tasks.w.timeout: must be seconds or a duration such as "30s", "5m", "1h"'],
    [{ schedule: { datasets: [] }, tasks: { a: { kind: "noop" } } }, "Invalid spec: schedule.datasets: Too small: expected array to have >=1 items"],
    [{ schedule: { dataset: "a", datasets: ["b"] }, tasks: { a: { kind: "noop" } } }, "Invalid spec: schedule: give exactly one of 'dataset' or 'datasets' (or write the cron expression as a string)"],
  ])("%j", async (spec, message) => {
    const res = await api("POST", "/pipelines", { name: `bad-${uid()}`, spec });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "INVALID_PARAMETER_VALUE", message });
  });
});

describe("dataset_snapshot", () => {
  it("commits the fetched body as a new version, recorded as made by the run, and skips unchanged content", async () => {
    const body = csv(50, 20, ["de", "fr"]);
    const seen = origin({ "/exports/prices.csv": () => [200, body] });
    const dataset = `prices-${uid()}`;
    const id = await createPipeline(`snap-${uid()}`, {
      tasks: {
        snap: {
          kind: "dataset_snapshot",
          url: "https://data.example.test/exports/prices.csv?day={{ ds }}",
          headers: { Authorization: "Bearer {{ secrets.PRICES_TOKEN }}" },
          dataset,
          skip_if_unchanged: true,
        },
        after: { kind: "branch", depends_on: ["snap"], value: "{{ outputs.snap.version }}", cases: { "1": ["first"] }, default: ["later"] },
        first: { kind: "noop", depends_on: ["after"] },
        later: { kind: "noop", depends_on: ["after"] },
      },
    });
    const runId = await trigger(id, { logical_date: "2026-11-27T05:00:00Z" });
    const run = await waitForRun(runId);
    expect(run.state, JSON.stringify(run)).toBe("failed");
    // No secret named PRICES_TOKEN on the Worker: a template error, not retried, nothing fetched.
    expect(task(run, "snap")).toMatchObject({ state: "failed", try_number: 1, error: "template: {{ secrets.PRICES_TOKEN }}: no secret named 'PRICES_TOKEN' is set on the Worker" });
    expect(seen).toHaveLength(0);

    const id2 = await createPipeline(`snap-${uid()}`, {
      tasks: {
        snap: { kind: "dataset_snapshot", url: "https://data.example.test/exports/prices.csv?day={{ ds }}", headers: { "X-Day": "{{ ds }}" }, dataset, skip_if_unchanged: true },
        after: { kind: "branch", depends_on: ["snap"], value: "{{ outputs.snap.version }}", cases: { "1": ["first"] }, default: ["later"] },
        first: { kind: "noop", depends_on: ["after"] },
        later: { kind: "noop", depends_on: ["after"] },
      },
    });
    const r1 = await waitForRun(await trigger(id2, { logical_date: "2026-11-27T05:00:00Z" }));
    expect(r1.state, JSON.stringify(r1)).toBe("success");
    const out = task(r1, "snap").output;
    expect(out).toMatchObject({ dataset, version: 1, sha256: await sha256(body), size: body.length, created: true });
    expect(seen.at(-1)).toMatchObject({ url: "https://data.example.test/exports/prices.csv?day=2026-11-27", headers: { "x-day": "2026-11-27" } });
    // The output is templated downstream: the branch followed version 1.
    expect(task(r1, "first").state).toBe("success");
    expect(task(r1, "later").state).toBe("skipped");

    const v = await api("GET", `/datasets/${dataset}/versions/1`);
    expect(v.status).toBe(200);
    expect(v.json.version).toMatchObject({ file_name: "prices.csv", row_count: 50, created_by: { name: `pipeline run ${r1.run_id} (task snap)` } });
    expect(v.json.version.message).toBe(`Snapshot of https://data.example.test/exports/prices.csv by pipeline run ${r1.run_id} (task snap)`);

    // Same content again: no new version; the task reports the existing one.
    const r2 = await waitForRun(await trigger(id2, { logical_date: "2026-11-28T05:00:00Z" }));
    expect(task(r2, "snap").output).toMatchObject({ version: 1, created: false });
    expect((await api("GET", `/datasets/${dataset}`)).json.dataset.latest_version).toBe(1);

    // Lineage: the first run made version 1; the second only read it.
    const g = await api("GET", `/lineage?object=${encodeURIComponent(`pipeline_run:${r1.run_id}`)}`);
    expect(g.status, g.text).toBe(200);
    expect(edges(g.json)).toContain(`pipeline_run:${r1.run_id} -snapshot-> dataset_version:${out.version_id}`);
    expect(g.json.nodes.find((n: any) => n.id === `pipeline_run:${r1.run_id}`)).toMatchObject({ kind: "pipeline_run", data: { pipeline_id: id2, state: "success", run_type: "manual" } });
    const fromVersion = await api("GET", `/lineage?object=${encodeURIComponent(`dataset_version:${out.version_id}`)}`);
    expect(edges(fromVersion.json)).toEqual(
      expect.arrayContaining([`pipeline_run:${r1.run_id} -snapshot-> dataset_version:${out.version_id}`, `dataset_version:${out.version_id} -snapshot_unchanged-> pipeline_run:${r2.run_id}`]),
    );
  });

  it("fails on a non-2xx answer (retryable), refuses Tern's own origin and unknown datasets when create_dataset is off", async () => {
    origin({ "/down.csv": () => [503, "maintenance"] });
    const id = await createPipeline(`snap-fail-${uid()}`, {
      tasks: {
        down: { kind: "dataset_snapshot", url: "https://data.example.test/down.csv", dataset: `d-${uid()}`, retries: 1, retry_delay: 60 },
        self: { kind: "dataset_snapshot", url: "https://tern.test/api/v1/health", dataset: `d-${uid()}`, retries: 2 },
        missing: { kind: "dataset_snapshot", url: "https://data.example.test/other.csv", dataset: `nope-${uid()}`, create_dataset: false },
      },
    });
    const runId = await trigger(id);
    const run = await waitForRun(runId, (r) => task(r, "down").state === "up_for_retry" && task(r, "self").state === "failed" && ["failed", "success"].includes(task(r, "missing").state));
    expect(task(run, "down").error).toBe("dataset_snapshot: GET https://data.example.test/down.csv answered 503: maintenance");
    expect(task(run, "self")).toMatchObject({ try_number: 1, error: "dataset_snapshot: refusing to call Tern's own origin (https://tern.test); use the task kinds instead" });
    // other.csv answers 404 before the dataset is looked at.
    expect(task(run, "missing").error).toBe("dataset_snapshot: GET https://data.example.test/other.csv answered 404: no such file");
    await api("POST", `/pipeline-runs/${runId}/cancel`);

    origin({ "/ok.csv": () => [200, "a\n1\n"] });
    const name = `nope-${uid()}`;
    const id2 = await createPipeline(`snap-missing-${uid()}`, { tasks: { s: { kind: "dataset_snapshot", url: "https://data.example.test/ok.csv", dataset: name, create_dataset: false, retries: 3 } } });
    const r2 = await waitForRun(await trigger(id2));
    expect(task(r2, "s")).toMatchObject({ state: "failed", try_number: 1, error: `dataset_snapshot: Dataset '${name}' does not exist` });
  });
});

async function monitorOn(referenceVersionId: string, currentDataset: string) {
  const model = await registeredModel();
  const res = await api("POST", "/monitors", {
    name: `mon-${uid()}`,
    model: { name: model, version: null },
    reference_dataset_version: referenceVersionId,
    current_dataset: currentDataset,
    column_settings: { ignore: ["id"] },
  });
  expect(res.status, res.text).toBe(201);
  return res.json.monitor;
}

describe("drift_check", () => {
  it("checks a dataset version (latest by default, or templated) against the monitor's reference; fail_on_drift fails the task", async () => {
    const name = `cur-${uid()}`;
    await createDataset(name);
    const ref = await commitFile(name, csv(300, 20, ["de", "fr", "it"]), { file_name: "reference.csv" });
    const monitor = await monitorOn(ref.id, name);
    const same = await commitFile(name, csv(300, 20, ["de", "fr", "it"]).replace("0,20,de", "0,20.5,de"), { file_name: "week-1.csv" });
    const shifted = await commitFile(name, csv(200, 70, ["de", "de", "de", "es"]), { file_name: "week-2.csv" });

    const id = await createPipeline(`drift-${uid()}`, {
      params: { v: 2 },
      tasks: {
        calm: { kind: "drift_check", monitor: monitor.name, dataset_version: "{{ params.v }}", fail_on_drift: true },
        latest: { kind: "drift_check", monitor: monitor.id },
        strict: { kind: "drift_check", monitor: monitor.name, fail_on_drift: true, retries: 2 },
      },
    });
    const run = await waitForRun(await trigger(id));
    expect(task(run, "calm")).toMatchObject({ state: "success" });
    expect(task(run, "calm").output).toMatchObject({ monitor: monitor.name, monitor_id: monitor.id, dataset: name, version: 2, version_id: same.id, dataset_drift: false, drift_share: 0, number_of_columns: 2 });
    expect(task(run, "latest").output).toMatchObject({ version: 3, version_id: shifted.id, dataset_drift: true, drift_share: 1, number_of_drifted_columns: 2, drifted_columns: ["age", "country"] });
    const strict = task(run, "strict");
    expect(strict).toMatchObject({ state: "failed", try_number: 1 });
    expect(strict.error).toMatch(new RegExp(`^drift_check: drift detected in ${name} v3: 2 of 2 columns \\(100%\\) drifted \\(age, country\\); report [0-9a-f]{32}$`));

    // Each check is a point of the monitor's series, saved as a pipeline check.
    const reports = (await api("GET", `/monitors/${monitor.id}/reports`)).json.reports;
    expect(reports).toHaveLength(3);
    expect(reports.every((r: any) => r.source === "pipeline" && r.current.pipeline_run_id === run.run_id)).toBe(true);

    // Lineage: the checked version flows into the run, the run into the monitor.
    const g = await api("GET", `/lineage?object=${encodeURIComponent(`pipeline_run:${run.run_id}`)}`);
    expect(edges(g.json)).toEqual(
      expect.arrayContaining([
        `dataset_version:${same.id} -drift_checked-> pipeline_run:${run.run_id}`,
        `dataset_version:${shifted.id} -drift_checked-> pipeline_run:${run.run_id}`,
        `pipeline_run:${run.run_id} -drift_report-> monitor:${monitor.id}`,
      ]),
    );
    const fromMonitor = await api("GET", `/lineage?object=${encodeURIComponent(`monitor:${monitor.id}`)}`);
    expect(edges(fromMonitor.json)).toContain(`pipeline_run:${run.run_id} -drift_report-> monitor:${monitor.id}`);
  });

  it("fails without retrying for an unknown monitor, a missing version or an unreadable file", async () => {
    const name = `cur-${uid()}`;
    await createDataset(name);
    const ref = await commitFile(name, csv(50, 20, ["de"]), { file_name: "reference.csv" });
    const monitor = await monitorOn(ref.id, name);
    await commitFile(name, "not a table", { file_name: "notes.bin" });
    const id = await createPipeline(`drift-bad-${uid()}`, {
      tasks: {
        nomon: { kind: "drift_check", monitor: "no-such-monitor", retries: 3 },
        nover: { kind: "drift_check", monitor: monitor.name, dataset_version: 99, retries: 3 },
        unreadable: { kind: "drift_check", monitor: monitor.name, retries: 3 },
      },
    });
    const run = await waitForRun(await trigger(id));
    expect(task(run, "nomon")).toMatchObject({ state: "failed", try_number: 1, error: "drift_check: No monitor 'no-such-monitor'" });
    expect(task(run, "nover")).toMatchObject({ state: "failed", try_number: 1, error: `drift_check: Dataset '${name}' has no version 99` });
    expect(task(run, "unreadable").state).toBe("failed");
    expect(task(run, "unreadable").error).toMatch(/^drift_check: Cannot check drift: dataset version [0-9a-f-]{36} \(notes\.bin\) is not a CSV, TSV, JSON lines or Parquet file$/);
  });
});

describe("register_model", () => {
  it("registers a version from a run named by an upstream output, sets the alias and links it", async () => {
    const created = await api("POST", "/runs", { experiment_name: `exp-${uid()}`, name: "train" });
    expect(created.status, created.text).toBe(201);
    const runUuid = created.json.run.run_id;
    const model = `clf-${uid()}`;
    const id = await createPipeline(`reg-${uid()}`, {
      tasks: {
        pick: { kind: "branch", value: "{{ conf.run_id }}", default: ["register"] },
        register: { kind: "register_model", depends_on: ["pick"], name: model, run_id: "{{ outputs.pick.value }}", alias: "champion", tags: { day: "{{ ds }}" } },
      },
    });
    const run = await waitForRun(await trigger(id, { conf: { run_id: runUuid }, logical_date: "2026-11-27T00:00:00Z" }));
    expect(run.state, JSON.stringify(run)).toBe("success");
    expect(task(run, "register").output).toEqual({ name: model, version: 1, run_id: runUuid, source: `runs:/${runUuid}/model`, alias: "champion" });

    const mlflow = await buildServices(env).registry.versionByAlias(model, "champion");
    expect(mlflow).toMatchObject({ name: model, version: 1, runId: runUuid });
    expect(mlflow.tags).toEqual(expect.arrayContaining([{ key: "day", value: "2026-11-27" }, { key: "tern.pipeline_run_id", value: run.run_id }]));

    // Cleared and run again, the task is idempotent: the same run and source keep version 1.
    expect((await api("POST", `/pipeline-runs/${run.run_id}/clear`, { task_ids: ["register"] })).status).toBe(200);
    const rerun = await waitForRun(run.run_id, (r) => r.state === "success" && task(r, "register").try_number === 2);
    expect(task(rerun, "register").output).toMatchObject({ name: model, version: 1 });
    expect((await buildServices(env).registry.getModel(model)).latestVersions.map((v) => v.version)).toEqual([1]);

    const g = await api("GET", `/lineage?object=${encodeURIComponent(`model_version:${model}/1`)}`);
    expect(edges(g.json)).toEqual(expect.arrayContaining([`run:${runUuid} -produced-> model_version:${model}/1`, `pipeline_run:${run.run_id} -registered-> model_version:${model}/1`]));

    // A run that does not exist: MLflow's message, not retried.
    const id2 = await createPipeline(`reg-bad-${uid()}`, { tasks: { r: { kind: "register_model", name: model, run_id: "0123456789abcdef0123456789abcdef", retries: 2 } } });
    const bad = await waitForRun(await trigger(id2));
    expect(task(bad, "r")).toMatchObject({ state: "failed", try_number: 1 });
    expect(task(bad, "r").error).toMatch(/^register_model: Run with id=0123456789abcdef0123456789abcdef not found/);
  });
});

describe("tuning_study", () => {
  it("creates or loads the study, pokes on the alarm until N trials finished, and outputs the best", async () => {
    const study = `tune-${uid()}`;
    const id = await createPipeline(`tune-${uid()}`, {
      tasks: {
        tune: { kind: "tuning_study", study, n_trials: 3, direction: "minimize", sampler: { type: "random", seed: 7 }, poke_interval: 1, timeout: 60 },
        use: { kind: "branch", depends_on: ["tune"], value: "{{ outputs.tune.best_params.x }}", default: ["done"] },
        done: { kind: "noop", depends_on: ["use"] },
      },
    });
    const runId = await trigger(id);
    const waiting = await waitForRun(runId, (r) => task(r, "tune").state === "running");
    expect(waiting.state).toBe("running");
    // Workers (agents, notebooks, anything that speaks HTTP) load the study by name and ask/tell.
    const s = await api("POST", "/studies", { name: study, directions: ["minimize"], load_if_exists: true });
    expect(s.status, s.text).toBe(200);
    const studyId = s.json.study.study_id;
    const xs = [3, -1, 2];
    for (const x of xs) {
      const t = await api("POST", `/studies/${studyId}/ask`, {});
      expect(t.status, t.text).toBe(200);
      await api("POST", `/studies/${studyId}/trials/${t.json.trial_number}/suggest`, { name: "x", distribution: { type: "float", low: -5, high: 5 } });
      expect((await api("POST", `/studies/${studyId}/trials/${t.json.trial_number}/tell`, { values: [x * x] })).status).toBe(200);
    }
    // The next poke (the run's alarm, within a second) sees three finished trials.
    await new Promise((r) => setTimeout(r, 1100));
    await runDurableObjectAlarm(runStub(runId));
    const done = await waitForRun(runId);
    expect(done.state, JSON.stringify(done)).toBe("success");
    const out = task(done, "tune").output;
    expect(out).toMatchObject({ study_id: studyId, study, n_trials: 3, best_value: 1, best_values: [1], best_trial: 1 });
    expect(out.state_counts.COMPLETE).toBe(3);
    expect(typeof out.best_params.x).toBe("number");
  });

  it("fails at its timeout with the count it reached", async () => {
    const study = `slow-${uid()}`;
    const id = await createPipeline(`tune-slow-${uid()}`, { tasks: { tune: { kind: "tuning_study", study, n_trials: 5, poke_interval: 1, timeout: 1, retries: 2 } } });
    const runId = await trigger(id);
    await waitForRun(runId, (r) => task(r, "tune").state === "running");
    await new Promise((r) => setTimeout(r, 1100));
    await runDurableObjectAlarm(runStub(runId));
    const run = await waitForRun(runId);
    expect(task(run, "tune")).toMatchObject({ state: "failed", try_number: 1, error: `tuning_study: study '${study}' has 0 of 5 finished trials (COMPLETE, PRUNED) after 1 s` });
    // The study exists for the workers all the same.
    expect((await api("GET", `/studies/by-name/${study}`)).status).toBe(200);
  });
});

describe("dataset_sensor", () => {
  it("waits for a version newer than the given one, poking on the alarm", async () => {
    const name = `labels-${uid()}`;
    await createDataset(name);
    await commitFile(name, "a\n1\n", { file_name: "l.csv" });
    const id = await createPipeline(`sense-${uid()}`, {
      tasks: {
        wait: { kind: "dataset_sensor", dataset: name, newer_than: 1, poke_interval: 1, timeout: 60 },
        next: { kind: "branch", depends_on: ["wait"], value: "{{ outputs.wait.version }}", default: ["go"] },
        go: { kind: "noop", depends_on: ["next"] },
      },
    });
    const runId = await trigger(id);
    await waitForRun(runId, (r) => task(r, "wait").state === "running");
    const v2 = await commitFile(name, "a\n2\n", { file_name: "l.csv" });
    await new Promise((r) => setTimeout(r, 1100));
    await runDurableObjectAlarm(runStub(runId));
    const run = await waitForRun(runId);
    expect(run.state, JSON.stringify(run)).toBe("success");
    expect(task(run, "wait").output).toMatchObject({ dataset: name, version: 2, version_id: v2.id, sha256: v2.sha256 });
    const g = await api("GET", `/lineage?object=${encodeURIComponent(`pipeline_run:${runId}`)}`);
    expect(edges(g.json)).toContain(`dataset_version:${v2.id} -sensed-> pipeline_run:${runId}`);
  });

  it("by default waits for a version committed after the run started, for a dataset that may not exist yet; times out without retrying", async () => {
    const name = `later-${uid()}`;
    const id = await createPipeline(`sense-new-${uid()}`, { tasks: { wait: { kind: "dataset_sensor", dataset: name, poke_interval: 1, timeout: 30 } } });
    const runId = await trigger(id);
    await waitForRun(runId, (r) => task(r, "wait").state === "running");
    await createDataset(name);
    const v1 = await commitFile(name, "x\n1\n", { file_name: "x.csv" });
    await new Promise((r) => setTimeout(r, 1100));
    await runDurableObjectAlarm(runStub(runId));
    expect(task(await waitForRun(runId), "wait").output).toMatchObject({ version: 1, version_id: v1.id });

    const id2 = await createPipeline(`sense-timeout-${uid()}`, { tasks: { wait: { kind: "dataset_sensor", dataset: name, newer_than: 1, poke_interval: 1, timeout: 1, retries: 3 } } });
    const r2 = await trigger(id2);
    await waitForRun(r2, (r) => task(r, "wait").state === "running");
    await new Promise((r) => setTimeout(r, 1100));
    await runDurableObjectAlarm(runStub(r2));
    const timedOut = await waitForRun(r2);
    expect(task(timedOut, "wait")).toMatchObject({ state: "failed", try_number: 1, error: `dataset_sensor: timed out after 1 s waiting for a version of '${name}' newer than v1` });

    const id3 = await createPipeline(`sense-badref-${uid()}`, { tasks: { wait: { kind: "dataset_sensor", dataset: name, newer_than: "not-a-version-id" } } });
    const bad = await waitForRun(await trigger(id3));
    expect(task(bad, "wait").error).toBe(`dataset_sensor: Dataset '${name}' has no version 'not-a-version-id' (give a number, "latest" or a version id of that dataset)`);
  });
});

describe("data-aware triggers", () => {
  it("a committed version starts one run with the version in conf; the same event twice still makes one", async () => {
    const name = `feed-${uid()}`;
    await createDataset(name);
    const id = await createPipeline(`on-data-${uid()}`, {
      schedule: { dataset: name },
      tasks: { use: { kind: "branch", value: "{{ conf.dataset_version }}", default: ["end"] }, end: { kind: "noop", depends_on: ["use"] } },
    });
    const detail = await api("GET", `/pipelines/${id}`);
    expect(detail.json.pipeline).toMatchObject({ schedule: null, dataset_triggers: [name], next_run_at: null });

    const v1 = await commitFile(name, "a\n1\n", { file_name: "f.csv" });
    let runs = (await api("GET", `/pipelines/${id}/runs`)).json.runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ run_type: "dataset", logical_date: v1.created_at, conf: { dataset: name, dataset_version: 1, dataset_version_id: v1.id, sha256: v1.sha256 } });
    const run = await waitForRun(runs[0].run_id);
    expect(run.state).toBe("success");
    expect(task(run, "use").output.value).toBe(1);

    // The same content with skip_if_unchanged commits nothing, so nothing starts.
    const again = await api("POST", `/datasets/${name}/versions`, { sha256: v1.sha256, file_name: "f.csv", skip_if_unchanged: true });
    expect(again.status).toBe(200);
    // The same commit event delivered twice (a retried listener) makes one run.
    const event = { dataset: name, version: 1, versionId: v1.id, sha256: v1.sha256, size: v1.size, createdAt: v1.created_at, producer: null };
    expect(await buildServices(env).pipelines.datasetVersionCommitted(event)).toEqual([]);
    expect(await buildServices(env).pipelines.datasetVersionCommitted(event)).toEqual([]);
    runs = (await api("GET", `/pipelines/${id}/runs`)).json.runs;
    expect(runs).toHaveLength(1);

    // A second version: a second run; both in the lineage of their versions.
    const v2 = await commitFile(name, "a\n2\n", { file_name: "f.csv" });
    runs = (await api("GET", `/pipelines/${id}/runs`)).json.runs;
    expect(runs.map((r: any) => r.conf.dataset_version).sort()).toEqual([1, 2]);
    const second = runs.find((r: any) => r.conf.dataset_version === 2);
    const g = await api("GET", `/lineage?object=${encodeURIComponent(`dataset_version:${v2.id}`)}`);
    expect(edges(g.json)).toContain(`dataset_version:${v2.id} -triggered-> pipeline_run:${second.run_id}`);
    expect((await api("GET", `/pipelines/${id}`)).json.pipeline.last_runs).toHaveLength(2);
  });

  it("two versions committed in the same millisecond make two runs; other datasets and paused pipelines wait", async () => {
    const a = `a-${uid()}`;
    const b = `b-${uid()}`;
    const id = await createPipeline(`on-two-${uid()}`, { schedule: { datasets: [a, b], cron: "@daily" }, tasks: { x: { kind: "noop" } } });
    expect((await api("GET", `/pipelines/${id}`)).json.pipeline).toMatchObject({ schedule: "0 0 * * *", dataset_triggers: [a, b] });
    const pipelines = buildServices(env).pipelines;
    const at = Date.UTC(2026, 10, 28, 6, 0, 0);
    const made = [
      ...(await pipelines.datasetVersionCommitted({ dataset: a, version: 1, versionId: crypto.randomUUID(), sha256: "0".repeat(64), size: 1, createdAt: at })),
      ...(await pipelines.datasetVersionCommitted({ dataset: b, version: 1, versionId: crypto.randomUUID(), sha256: "1".repeat(64), size: 1, createdAt: at })),
      ...(await pipelines.datasetVersionCommitted({ dataset: `unrelated-${uid()}`, version: 1, versionId: crypto.randomUUID(), sha256: "2".repeat(64), size: 1, createdAt: at })),
    ];
    expect(made).toHaveLength(2);
    const dates = (await api("GET", `/pipelines/${id}/runs`)).json.runs.map((r: any) => r.logical_date).sort();
    expect(dates).toEqual([at, at + 1]);

    await api("POST", `/pipelines/${id}/pause`);
    const [queued] = await pipelines.datasetVersionCommitted({ dataset: a, version: 2, versionId: crypto.randomUUID(), sha256: "3".repeat(64), size: 1, createdAt: at + 5 });
    expect((await api("GET", `/pipeline-runs/${queued}`)).json.state).toBe("queued");
    await api("POST", `/pipelines/${id}/unpause`);
    expect((await waitForRun(queued)).state).toBe("success");
  });

  it("a snapshot triggers the pipelines downstream of its dataset, but never its own pipeline", async () => {
    const name = `chain-${uid()}`;
    origin({ "/feed.csv": () => [200, `v\n${uid()}\n`] });
    const producer = await createPipeline(`producer-${uid()}`, {
      schedule: { dataset: name },
      tasks: { snap: { kind: "dataset_snapshot", url: "https://data.example.test/feed.csv", dataset: name } },
    });
    const consumer = await createPipeline(`consumer-${uid()}`, { schedule: { dataset: name }, tasks: { x: { kind: "noop" } } });
    const run = await waitForRun(await trigger(producer));
    expect(run.state, JSON.stringify(run)).toBe("success");
    const made = task(run, "snap").output;
    expect((await api("GET", `/pipelines/${producer}/runs`)).json.runs).toHaveLength(1);
    const consumed = (await api("GET", `/pipelines/${consumer}/runs`)).json.runs;
    expect(consumed).toHaveLength(1);
    expect(consumed[0].conf).toMatchObject({ dataset: name, dataset_version: made.version, dataset_version_id: made.version_id });
    // producer run -> version -> consumer run, in one graph.
    const g = await api("GET", `/lineage?object=${encodeURIComponent(`dataset_version:${made.version_id}`)}`);
    expect(edges(g.json)).toEqual(
      expect.arrayContaining([`pipeline_run:${run.run_id} -snapshot-> dataset_version:${made.version_id}`, `dataset_version:${made.version_id} -triggered-> pipeline_run:${consumed[0].run_id}`]),
    );
    // The every-minute catch-up agrees: nothing new for either pipeline.
    await scheduled(Date.now());
    expect((await api("GET", `/pipelines/${producer}/runs`)).json.runs).toHaveLength(1);
    expect((await api("GET", `/pipelines/${consumer}/runs`)).json.runs).toHaveLength(1);
  });

  it("the every-minute job makes the run of a version whose trigger was lost, once", async () => {
    const name = `lost-${uid()}`;
    await createDataset(name);
    const id = await createPipeline(`catch-up-${uid()}`, { schedule: { dataset: name }, tasks: { x: { kind: "noop" } } });
    const v = await commitFile(name, "a\n1\n", { file_name: "l.csv" });
    const first = (await api("GET", `/pipelines/${id}/runs`)).json.runs;
    expect(first).toHaveLength(1);
    await waitForRun(first[0].run_id);
    // As if the commit's listener had failed: the run was never recorded.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM pipeline_run_links WHERE run_id = ?").bind(first[0].run_id),
      env.DB.prepare("DELETE FROM pipeline_task_instances WHERE run_id = ?").bind(first[0].run_id),
      env.DB.prepare("DELETE FROM pipeline_runs WHERE run_id = ?").bind(first[0].run_id),
    ]);
    await scheduled(Date.now());
    await scheduled(Date.now());
    const runs = (await api("GET", `/pipelines/${id}/runs`)).json.runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ run_type: "dataset", conf: { dataset: name, dataset_version: 1, dataset_version_id: v.id } });
    expect((await waitForRun(runs[0].run_id)).state).toBe("success");
  });

  it("a deleted pipeline takes its runs' lineage links with it", async () => {
    const name = `gone-${uid()}`;
    await createDataset(name);
    const id = await createPipeline(`gone-${uid()}`, { schedule: { dataset: name }, tasks: { x: { kind: "noop" } } });
    const v = await commitFile(name, "a\n1\n", { file_name: "g.csv" });
    const runId = (await api("GET", `/pipelines/${id}/runs`)).json.runs[0].run_id;
    await waitForRun(runId);
    expect((await api("DELETE", `/pipelines/${id}`)).status).toBe(200);
    const g = await api("GET", `/lineage?object=${encodeURIComponent(`dataset_version:${v.id}`)}`);
    expect(g.json.edges).toEqual([]);
    expect((await api("GET", `/lineage?object=${encodeURIComponent(`pipeline_run:${runId}`)}`)).status).toBe(404);
  });
});
