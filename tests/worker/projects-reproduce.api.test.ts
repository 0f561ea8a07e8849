import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, errorCode } from "./helpers";

const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body });
const mlflow = async (method: string, path: string, body?: unknown) => {
  const res = await call(method, `/api/2.0/mlflow${path}`, { token: ADMIN_TOKEN, body });
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
};
const putArtifact = async (artifactUri: string, path: string, text: string) => {
  const root = artifactUri.replace(/^mlflow-artifacts:\/*/, "");
  const res = await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, { token: ADMIN_TOKEN, raw: text, headers: { "Content-Type": "application/octet-stream" } });
  expect(res.status).toBe(200);
};

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const projectTags = (extra: Record<string, string> = {}) => ({
  "mlflow.source.type": "PROJECT",
  "mlflow.source.name": "https://git.example.com/spy/model.git",
  "mlflow.source.git.repoURL": "https://git.example.com/spy/model.git",
  "mlflow.source.git.commit": COMMIT,
  "mlflow.source.git.branch": "main",
  "mlflow.project.entryPoint": "main",
  "tern.project.command": "node train.js --alpha 0.5",
  "tern.git.dirty": "false",
  "mlflow.user": "someone",
  ...extra,
});

let experimentCount = 0;
/** A run as `tern run` records it, ended with `status`. */
async function projectRun(opts: { tags?: Record<string, string>; status?: string; diff?: string } = {}) {
  const { experiment_id } = await mlflow("POST", "/experiments/create", { name: `repro-${++experimentCount}-${Date.now()}` });
  const tags = opts.tags ?? projectTags(opts.diff ? { "tern.git.dirty": "true", "tern.git.diff": "tern/git.diff" } : {});
  const { run } = await mlflow("POST", "/runs/create", { experiment_id, start_time: Date.now(), tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
  const id = run.info.run_id;
  await mlflow("POST", "/runs/log-batch", { run_id: id, params: [{ key: "alpha", value: "0.5" }, { key: "epochs", value: "20" }], metrics: [{ key: "rmse", value: 0.25, timestamp: Date.now(), step: 19 }] });
  await mlflow("POST", "/runs/log-inputs", {
    run_id: id,
    datasets: [
      {
        tags: [{ key: "mlflow.data.context", value: "training" }, { key: "tern.data.path", value: "data/prices.csv" }],
        dataset: { name: "prices", digest: "a".repeat(36), source_type: "tern", source: JSON.stringify({ uri: "tern://datasets/prices/versions/3" }) },
      },
    ],
  });
  await putArtifact(run.info.artifact_uri, "model/weights.txt", "w=1.5\n");
  await putArtifact(run.info.artifact_uri, "tern/output.log", "epoch 19 rmse 0.25\n");
  if (opts.diff) await putArtifact(run.info.artifact_uri, "tern/git.diff", opts.diff);
  if (opts.status !== "RUNNING") await mlflow("POST", "/runs/update", { run_id: id, status: opts.status ?? "FINISHED", end_time: Date.now() });
  return { id, experiment_id, artifactUri: run.info.artifact_uri as string };
}

describe("POST /api/v1/runs/{id}/reproduce", () => {
  it("records a SCHEDULED copy of the run and starts a one-task pipeline run an agent can claim", async () => {
    const diff = "diff --git a/train.js b/train.js\n--- a/train.js\n+++ b/train.js\n@@ -1 +1 @@\n-a\n+b\n";
    const orig = await projectRun({ diff });
    const res = await api("POST", `/runs/${orig.id}/reproduce`, { queue: "repro-q" });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ queue: "repro-q", pipeline_id: expect.any(String), pipeline_run_id: expect.any(String) });
    const newId = res.json.run_id;
    expect(newId).not.toBe(orig.id);

    const { run } = await mlflow("GET", `/runs/get?run_id=${newId}`);
    expect(run.info.status).toBe("SCHEDULED");
    expect(run.info.experiment_id).toBe(orig.experiment_id);
    const tags = Object.fromEntries(run.data.tags.map((t: any) => [t.key, t.value]));
    expect(tags).toMatchObject({
      "tern.reproduction_of": orig.id,
      "tern.pipeline_run_id": res.json.pipeline_run_id,
      "mlflow.source.git.commit": COMMIT,
      "mlflow.source.git.repoURL": "https://git.example.com/spy/model.git",
      "mlflow.project.entryPoint": "main",
      "tern.git.dirty": "true",
      "tern.git.diff": "tern/git.diff",
    });
    expect(tags["mlflow.user"]).toBeUndefined();
    expect(Object.fromEntries(run.data.params.map((p: any) => [p.key, p.value]))).toEqual({ alpha: "0.5", epochs: "20" });
    expect(run.inputs.dataset_inputs).toHaveLength(1);
    expect(run.inputs.dataset_inputs[0].dataset).toMatchObject({ name: "prices", source_type: "tern" });
    expect(run.inputs.dataset_inputs[0].tags).toContainEqual({ key: "tern.data.path", value: "data/prices.csv" });
    // The recorded diff travels with the reproduction; nothing else of the original's artifacts does.
    const root = run.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, "");
    const copied = await call("GET", `/api/2.0/mlflow-artifacts/artifacts/${root}/tern/git.diff`, { token: ADMIN_TOKEN });
    expect(copied.text).toBe(diff);
    expect((await call("GET", `/api/2.0/mlflow-artifacts/artifacts/${root}/model/weights.txt`, { token: ADMIN_TOKEN })).status).toBe(404);

    const claim = await api("POST", "/agents/claim", { queue: "repro-q", agent_id: "test-agent", lease_seconds: 60 });
    expect(claim.status, claim.text).toBe(200);
    expect(claim.json.task).toMatchObject({ run_id: res.json.pipeline_run_id, task_id: "run", command: `tern run --execute ${newId}` });

    // A second reproduction reuses the queue's pipeline.
    const again = await api("POST", `/runs/${orig.id}/reproduce`, { queue: "repro-q" });
    expect(again.status).toBe(201);
    expect(again.json.pipeline_id).toBe(res.json.pipeline_id);
    expect(again.json.run_id).not.toBe(newId);
  });

  it("uses the queue 'default' when none is given", async () => {
    const orig = await projectRun();
    const res = await api("POST", `/runs/${orig.id}/reproduce`, {});
    expect(res.status, res.text).toBe(201);
    expect(res.json.queue).toBe("default");
    const pipeline = await api("GET", `/pipelines/${res.json.pipeline_id}`);
    expect(pipeline.json.pipeline.name).toBe("tern-runs-default");
    expect(pipeline.json.pipeline.spec.tasks.run).toMatchObject({ kind: "agent", queue: "default", command: "tern run --execute {{ conf.run_id }}" });
  });

  it("refuses what cannot be reproduced with a 4xx and writes nothing", async () => {
    const count = async (experimentId: string) => (await mlflow("POST", "/runs/search", { experiment_ids: [experimentId], run_view_type: "ALL" })).runs?.length ?? 0;

    const missing = await api("POST", `/runs/${"f".repeat(32)}/reproduce`, {});
    expect(missing.status).toBe(404);
    expect(errorCode(missing)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((await api("POST", "/runs/not-a-run/reproduce", {})).status).toBe(400);

    const plain = await projectRun({ tags: { "mlflow.user": "x" } });
    const notProject = await api("POST", `/runs/${plain.id}/reproduce`, {});
    expect(notProject.status).toBe(400);
    expect(notProject.json.error.message).toContain("not started from a project");

    const noRemote = await projectRun({ tags: projectTags({ "mlflow.source.git.repoURL": "" }) });
    const r1 = await api("POST", `/runs/${noRemote.id}/reproduce`, {});
    expect(r1.status).toBe(400);
    expect(r1.json.error.message).toContain("no recorded git remote");

    const running = await projectRun({ status: "RUNNING" });
    const r2 = await api("POST", `/runs/${running.id}/reproduce`, {});
    expect(r2.status).toBe(409);
    expect(errorCode(r2)).toBe("INVALID_STATE");

    const dirty = await projectRun({ tags: projectTags({ "tern.git.dirty": "true" }) });
    const r3 = await api("POST", `/runs/${dirty.id}/reproduce`, {});
    expect(r3.status).toBe(409);
    expect(r3.json.error.message).toContain("dirty work tree whose diff was not recorded");

    const good = await projectRun();
    const badQueue = await api("POST", `/runs/${good.id}/reproduce`, { queue: "no spaces" });
    expect(badQueue.status).toBe(400);
    const extra = await api("POST", `/runs/${good.id}/reproduce`, { queue: "q", priority: 1 });
    expect(extra.status).toBe(400);
    const notJson = await call("POST", `/api/v1/runs/${good.id}/reproduce`, { token: ADMIN_TOKEN, raw: "queue=q", headers: { "Content-Type": "text/plain" } });
    expect(notJson.status).toBe(415);

    for (const e of [plain, noRemote, running, dirty, good]) expect(await count(e.experiment_id)).toBe(1);
  });

  it("needs a write token", async () => {
    const orig = await projectRun();
    const token = await api("POST", "/tokens", { name: "reader", scopes: ["read"] });
    const res = await call("POST", `/api/v1/runs/${orig.id}/reproduce`, { token: token.json.secret, body: {} });
    expect(res.status).toBe(403);
  });
});

describe("POST /api/v1/runs/{id}/submit", () => {
  it("hands a SCHEDULED run to a queue once", async () => {
    const orig = await projectRun({ status: "RUNNING" });
    await mlflow("POST", "/runs/update", { run_id: orig.id, status: "SCHEDULED" });
    const res = await api("POST", `/runs/${orig.id}/submit`, { queue: "remote-q" });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ run_id: orig.id, queue: "remote-q" });
    const claim = await api("POST", "/agents/claim", { queue: "remote-q", agent_id: "a", lease_seconds: 60 });
    expect(claim.json.task.command).toBe(`tern run --execute ${orig.id}`);
    const twice = await api("POST", `/runs/${orig.id}/submit`, { queue: "remote-q" });
    expect(twice.status).toBe(409);
    expect(twice.json.error.message).toContain("already submitted");
  });

  it("refuses runs that are not SCHEDULED, and a missing queue", async () => {
    const finished = await projectRun();
    const res = await api("POST", `/runs/${finished.id}/submit`, { queue: "q" });
    expect(res.status).toBe(409);
    expect(res.json.error.message).toContain("only a SCHEDULED run");
    expect((await api("POST", `/runs/${finished.id}/submit`, {})).status).toBe(400);
  });
});

describe("comparison and reproductions", () => {
  it("compares params, data versions, metrics and artifact hashes of a reproduction", async () => {
    const orig = await projectRun();
    const { run_id: reproId } = (await api("POST", `/runs/${orig.id}/reproduce`, {})).json;

    // Before it ran: same params and data, no metrics or artifacts yet.
    let list = await api("GET", `/runs/${orig.id}/reproductions`);
    expect(list.status).toBe(200);
    expect(list.json.reproductions).toHaveLength(1);
    expect(list.json.reproductions[0]).toMatchObject({ run_id: reproId, status: "SCHEDULED" });
    expect(list.json.reproductions[0].comparison).toMatchObject({ reproduced: true, params: { equal: true }, data: { equal: true, rows: [{ key: "prices", original: "prices@3", reproduction: "prices@3", equal: true }] } });
    expect(list.json.reproductions[0].comparison.metrics.rows).toEqual([{ key: "rmse", original: 0.25, reproduction: null, difference: null, relative_difference: null, equal: false }]);

    // The reproduction runs: a slightly different metric and a different model file.
    const { run } = await mlflow("GET", `/runs/get?run_id=${reproId}`);
    await mlflow("POST", "/runs/update", { run_id: reproId, status: "RUNNING" });
    await mlflow("POST", "/runs/log-metric", { run_id: reproId, key: "rmse", value: 0.2625, timestamp: Date.now(), step: 19 });
    await putArtifact(run.info.artifact_uri, "model/weights.txt", "w=1.6\n");
    await putArtifact(run.info.artifact_uri, "tern/output.log", "different log\n");
    await mlflow("POST", "/runs/update", { run_id: reproId, status: "FINISHED", end_time: Date.now() });

    const cmp = await api("GET", `/runs/${orig.id}/comparison?with=${reproId}`);
    expect(cmp.status, cmp.text).toBe(200);
    expect(cmp.json.original).toEqual({ run_id: orig.id, status: "FINISHED" });
    expect(cmp.json.reproduction).toEqual({ run_id: reproId, status: "FINISHED" });
    expect(cmp.json.reproduced).toBe(true);
    expect(cmp.json.params.rows).toEqual([
      { key: "alpha", original: "0.5", reproduction: "0.5", equal: true },
      { key: "epochs", original: "20", reproduction: "20", equal: true },
    ]);
    const rmse = cmp.json.metrics.rows[0];
    expect(rmse.key).toBe("rmse");
    expect(rmse.difference).toBeCloseTo(0.0125, 10);
    expect(rmse.relative_difference).toBeCloseTo(0.05, 10);
    expect(cmp.json.metrics.equal).toBe(false);
    // Tern's own records (tern/output.log) are not compared; the model file is.
    expect(cmp.json.artifacts.compared).toBe(1);
    expect(cmp.json.artifacts.differing).toHaveLength(1);
    expect(cmp.json.artifacts.differing[0]).toMatchObject({ path: "model/weights.txt", original: { size: 6 }, reproduction: { size: 6 } });
    expect(cmp.json.artifacts.differing[0].original.hash).not.toBe(cmp.json.artifacts.differing[0].reproduction.hash);

    list = await api("GET", `/runs/${orig.id}/reproductions`);
    expect(list.json.reproductions[0].comparison.artifacts.differing).toHaveLength(1);
    expect((await api("GET", `/runs/${reproId}/reproductions`)).json.reproductions).toEqual([]);
  });

  it("counts the same bytes as equal when one side was uploaded in parts (its ETag is not an MD5)", async () => {
    const orig = await projectRun();
    const { run_id: reproId } = (await api("POST", `/runs/${orig.id}/reproduce`, {})).json;
    const { run } = await mlflow("GET", `/runs/get?run_id=${reproId}`);
    const dir = (run.info.artifact_uri as string).replace(/^mlflow-artifacts:\/*/, "");
    // The same bytes as the original's model file, through MLflow's multipart upload (one part).
    const create = await call("POST", `/api/2.0/mlflow-artifacts/mpu/create/${dir}/model`, { token: ADMIN_TOKEN, body: { path: "weights.txt", num_parts: 1 } });
    expect(create.status, create.text).toBe(200);
    const url = new URL(create.json.credentials[0].url);
    const part = await call("PUT", url.pathname + url.search, { token: ADMIN_TOKEN, raw: "w=1.5\n", headers: { "Content-Type": "application/octet-stream", "Content-Length": "6" } });
    expect(part.status, part.text).toBe(200);
    const done = await call("POST", `/api/2.0/mlflow-artifacts/mpu/complete/${dir}/model`, {
      token: ADMIN_TOKEN,
      body: { path: "weights.txt", upload_id: create.json.upload_id, parts: [{ part_number: 1, etag: part.headers.get("etag"), url: create.json.credentials[0].url }] },
    });
    expect(done.status, done.text).toBe(200);

    const cmp = await api("GET", `/runs/${orig.id}/comparison?with=${reproId}`);
    expect(cmp.status, cmp.text).toBe(200);
    expect(cmp.json.artifacts).toMatchObject({ compared: 1, differing: [] });

    // Different bytes of the same size still differ, named by their sha256.
    await putArtifact(run.info.artifact_uri, "model/weights.txt", "w=1.6\n");
    const again = await api("GET", `/runs/${orig.id}/comparison?with=${reproId}`);
    expect(again.json.artifacts.differing).toHaveLength(1);
    expect(again.json.artifacts.differing[0].original.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("ends a reproduction whose pipeline run was cancelled before it started as FAILED, with the reason", async () => {
    const orig = await projectRun();
    const repro = (await api("POST", `/runs/${orig.id}/reproduce`, {})).json;
    const cancel = await api("POST", `/pipeline-runs/${repro.pipeline_run_id}/cancel`, {});
    expect(cancel.status, cancel.text).toBe(200);
    const list = await api("GET", `/runs/${orig.id}/reproductions`);
    expect(list.status, list.text).toBe(200);
    expect(list.json.reproductions[0]).toMatchObject({ run_id: repro.run_id, status: "FAILED" });
    const { run } = await mlflow("GET", `/runs/get?run_id=${repro.run_id}`);
    expect(run.info.status).toBe("FAILED");
    expect(run.info.end_time).toBeGreaterThan(0);
    expect(run.data.tags).toContainEqual({ key: "tern.execute.error", value: `Its pipeline run ${repro.pipeline_run_id} failed or was cancelled before the run started` });
  });

  it("says when params or data differ", async () => {
    const a = await projectRun();
    const b = await projectRun();
    await mlflow("POST", "/runs/update", { run_id: b.id, status: "RUNNING" });
    await mlflow("POST", "/runs/log-parameter", { run_id: b.id, key: "seed", value: "7" });
    const cmp = await api("GET", `/runs/${a.id}/comparison?with=${b.id}`);
    expect(cmp.json.reproduced).toBe(false);
    expect(cmp.json.params.rows).toContainEqual({ key: "seed", original: null, reproduction: "7", equal: false });
    expect(cmp.json.artifacts.equal).toBe(true);
  });

  it("answers 4xx for bad comparisons", async () => {
    const a = await projectRun();
    expect((await api("GET", `/runs/${a.id}/comparison`)).status).toBe(400);
    expect((await api("GET", `/runs/${a.id}/comparison?with=${a.id}`)).status).toBe(400);
    const missing = await api("GET", `/runs/${a.id}/comparison?with=${"e".repeat(32)}`);
    expect(missing.status).toBe(404);
    expect((await api("GET", `/runs/${"e".repeat(32)}/reproductions`)).status).toBe(404);
  });
});
