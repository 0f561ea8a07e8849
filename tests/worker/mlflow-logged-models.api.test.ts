import { describe, expect, it } from "vitest";
import { call, createToken } from "./helpers";

const mode = "open" as const;
const ml = (method: string, rpc: string, body?: unknown, extra: Parameters<typeof call>[2] = {}) =>
  call(method, `/api/2.0/mlflow/${rpc}`, { mode, ...(body === undefined ? {} : { body }), ...extra });

function mlflowError(res: { status: number; json: any }): string {
  expect(Object.keys(res.json).sort()).toEqual(["error_code", "message"]);
  return res.json.error_code;
}

async function newExperiment(): Promise<string> {
  const res = await ml("POST", "experiments/create", { name: `exp-${crypto.randomUUID()}` });
  expect(res.status).toBe(200);
  return res.json.experiment_id;
}

async function newRun(experimentId: string): Promise<string> {
  const res = await ml("POST", "runs/create", { experiment_id: experimentId, start_time: 1_700_000_000_000 });
  expect(res.status).toBe(200);
  return res.json.run.info.run_id;
}

async function createModel(body: Record<string, unknown>): Promise<any> {
  const res = await ml("POST", "logged-models", body);
  expect(res.status, res.text).toBe(200);
  return res.json.model;
}

describe("MLflow 3 logged models", () => {
  it("creates a pending model with MLflow's LoggedModel shape and gets it back", async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    const before = Date.now();
    const model = await createModel({
      experiment_id: exp,
      name: "classifier",
      model_type: "sklearn",
      source_run_id: run,
      params: [{ key: "alpha", value: "0.5" }],
      tags: [{ key: "team", value: "risk" }, { key: "mlflow.user", value: "ada" }],
    });
    expect(model.info.model_id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(model.info).toMatchObject({
      experiment_id: exp,
      name: "classifier",
      model_type: "sklearn",
      source_run_id: run,
      status: "LOGGED_MODEL_PENDING",
      artifact_uri: `mlflow-artifacts:/${exp}/models/${model.info.model_id}/artifacts`,
      tags: [
        { key: "mlflow.user", value: "ada" },
        { key: "team", value: "risk" },
      ],
    });
    expect(model.info.creation_timestamp_ms).toBeGreaterThanOrEqual(before);
    expect(model.info.last_updated_timestamp_ms).toBe(model.info.creation_timestamp_ms);
    expect(model.data).toEqual({ params: [{ key: "alpha", value: "0.5" }] });

    const got = await ml("GET", `logged-models/${model.info.model_id}`);
    expect(got.status).toBe(200);
    expect(got.json.model).toEqual(model);
    const ajax = await call("GET", `/ajax-api/2.0/mlflow/logged-models/${model.info.model_id}`, { mode });
    expect(ajax.json.model.info.model_id).toBe(model.info.model_id);

    // Without a name, the model gets a generated one; optional fields stay out of the JSON.
    const unnamed = await createModel({ experiment_id: exp });
    expect(unnamed.info.name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(unnamed.info.model_type).toBeUndefined();
    expect(unnamed.info.tags).toBeUndefined();
    expect(unnamed.data).toEqual({});
  });

  it("refuses bad creates with MLflow's errors", async () => {
    const exp = await newExperiment();
    const missing = await ml("POST", "logged-models", { name: "x" });
    expect(missing.status).toBe(400);
    expect(mlflowError(missing)).toBe("INVALID_PARAMETER_VALUE");
    expect(missing.json.message).toContain("'experiment_id'");

    const unknownExp = await ml("POST", "logged-models", { experiment_id: "987654321" });
    expect(unknownExp.status).toBe(404);
    expect(mlflowError(unknownExp)).toBe("RESOURCE_DOES_NOT_EXIST");

    const badName = await ml("POST", "logged-models", { experiment_id: exp, name: "a/b" });
    expect(badName.status).toBe(400);
    expect(badName.json.message).toContain("Invalid model name ('a/b')");

    const dupParams = await ml("POST", "logged-models", { experiment_id: exp, params: [{ key: "p", value: "1" }, { key: "p", value: "2" }] });
    expect(dupParams.status).toBe(400);

    const deleted = await newExperiment();
    await ml("POST", "experiments/delete", { experiment_id: deleted });
    const onDeleted = await ml("POST", "logged-models", { experiment_id: deleted });
    expect(onDeleted.status).toBe(400);
    expect(mlflowError(onDeleted)).toBe("INVALID_PARAMETER_VALUE");

    expect((await ml("POST", "logged-models/search", { experiment_ids: [exp] })).json).toEqual({});
  });

  it("finalizes to READY or UPLOAD_FAILED and refuses any other status", async () => {
    const exp = await newExperiment();
    const model = await createModel({ experiment_id: exp });
    const id = model.info.model_id;
    const ready = await ml("PATCH", `logged-models/${id}`, { model_id: id, status: "LOGGED_MODEL_READY" });
    expect(ready.status).toBe(200);
    expect(ready.json.model.info.status).toBe("LOGGED_MODEL_READY");
    expect(ready.json.model.info.last_updated_timestamp_ms).toBeGreaterThanOrEqual(model.info.last_updated_timestamp_ms);
    expect((await ml("GET", `logged-models/${id}`)).json.model.info.status).toBe("LOGGED_MODEL_READY");
    // The enum's number works too (3 = LOGGED_MODEL_UPLOAD_FAILED).
    expect((await ml("PATCH", `logged-models/${id}`, { status: 3 })).json.model.info.status).toBe("LOGGED_MODEL_UPLOAD_FAILED");

    for (const status of ["LOGGED_MODEL_PENDING", "READY", "BOGUS", 0, 9]) {
      const bad = await ml("PATCH", `logged-models/${id}`, { status });
      expect(bad.status, String(status)).toBe(400);
      expect(mlflowError(bad)).toBe("INVALID_PARAMETER_VALUE");
    }
    const noStatus = await ml("PATCH", `logged-models/${id}`, {});
    expect(noStatus.status).toBe(400);
    expect(noStatus.json.message).toContain("Missing value for required parameter 'status'");

    const unknown = await ml("PATCH", "logged-models/m-00000000000000000000000000000000", { status: "LOGGED_MODEL_READY" });
    expect(unknown.status).toBe(404);
    expect(mlflowError(unknown)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(unknown.json.message).toBe("Logged model with ID 'm-00000000000000000000000000000000' not found.");
  });

  it("sets and deletes tags, and keeps params immutable", async () => {
    const model = await createModel({ experiment_id: await newExperiment(), tags: [{ key: "a", value: "1" }] });
    const id = model.info.model_id;
    const set = await ml("PATCH", `logged-models/${id}/tags`, { model_id: id, tags: [{ key: "a", value: "2" }, { key: "mlflow.source.name", value: "train.py" }] });
    expect(set.status).toBe(200);
    expect(set.json.model.info.tags).toEqual([
      { key: "a", value: "2" },
      { key: "mlflow.source.name", value: "train.py" },
    ]);
    const del = await ml("DELETE", `logged-models/${id}/tags/${encodeURIComponent("mlflow.source.name")}`);
    expect(del.status).toBe(200);
    expect(del.json).toEqual({});
    expect((await ml("GET", `logged-models/${id}`)).json.model.info.tags).toEqual([{ key: "a", value: "2" }]);
    const again = await ml("DELETE", `logged-models/${id}/tags/mlflow.source.name`);
    expect(again.status).toBe(404);
    expect(mlflowError(again)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((await ml("PATCH", "logged-models/m-nope/tags", { tags: [{ key: "a", value: "1" }] })).status).toBe(404);

    expect((await ml("POST", `logged-models/${id}/params`, { params: [{ key: "lr", value: "0.1" }] })).status).toBe(200);
    expect((await ml("POST", `logged-models/${id}/params`, { params: [{ key: "lr", value: "0.1" }] })).status).toBe(200);
    const changed = await ml("POST", `logged-models/${id}/params`, { params: [{ key: "lr", value: "0.2" }, { key: "new", value: "x" }] });
    expect(changed.status).toBe(400);
    expect(changed.json.message).toContain("Changing param values is not allowed");
    expect((await ml("GET", `logged-models/${id}`)).json.model.data.params).toEqual([{ key: "lr", value: "0.1" }]);
  });

  it("searches with MLflow's filter grammar, order_by objects and paging", async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    const mk = async (name: string, extra: Record<string, unknown> = {}) => (await createModel({ experiment_id: exp, name, ...extra })).info.model_id;
    const a = await mk("alpha", { source_run_id: run, tags: [{ key: "team", value: "risk" }], params: [{ key: "lr", value: "0.1" }] });
    const b = await mk("beta", { source_run_id: run, tags: [{ key: "team", value: "growth" }], params: [{ key: "lr", value: "0.2" }] });
    const c = await mk("gamma", { model_type: "llm" });
    await ml("PATCH", `logged-models/${b}`, { status: "LOGGED_MODEL_READY" });
    const otherExp = await newExperiment();
    await createModel({ experiment_id: otherExp, name: "alpha" });

    const search = async (body: Record<string, unknown>) => {
      const res = await ml("POST", "logged-models/search", { experiment_ids: [exp], ...body });
      expect(res.status, res.text).toBe(200);
      return (res.json.models ?? []).map((m: any) => m.info.name);
    };
    const byName = [{ field_name: "name", ascending: true }];
    expect(await search({ order_by: byName })).toEqual(["alpha", "beta", "gamma"]);
    expect(await search({ filter: "name = 'alpha'" })).toEqual(["alpha"]);
    expect(await search({ filter: "attributes.name LIKE '%a'", order_by: byName })).toEqual(["alpha", "beta", "gamma"]);
    expect(await search({ filter: "name ILIKE 'BE%'" })).toEqual(["beta"]);
    expect(await search({ filter: "status = 'LOGGED_MODEL_READY'" })).toEqual(["beta"]);
    expect(await search({ filter: "status = 'PENDING'", order_by: byName })).toEqual(["alpha", "gamma"]);
    expect(await search({ filter: `source_run_id = '${run}'`, order_by: byName })).toEqual(["alpha", "beta"]);
    expect(await search({ filter: `model_id IN ('${a}', '${c}')`, order_by: byName })).toEqual(["alpha", "gamma"]);
    expect(await search({ filter: "model_type = 'llm'" })).toEqual(["gamma"]);
    expect(await search({ filter: "tags.team = 'risk'" })).toEqual(["alpha"]);
    expect(await search({ filter: "tags.`team` != 'risk'" })).toEqual(["beta"]);
    expect(await search({ filter: "params.lr = '0.2' AND tags.team LIKE 'gr%'" })).toEqual(["beta"]);
    expect(await search({ filter: "params.lr = 0.1" })).toEqual(["alpha"]);
    expect(await search({ filter: "creation_timestamp > 0 and name != 'gamma'", order_by: byName })).toEqual(["alpha", "beta"]);
    // No metrics are linked to logged models here, so metric clauses and dataset filters match nothing.
    expect(await search({ filter: "metrics.acc > 0.5" })).toEqual([]);
    expect(await search({ datasets: [{ dataset_name: "iris" }] })).toEqual([]);

    expect(await search({ order_by: [{ field_name: "name", ascending: false }] })).toEqual(["gamma", "beta", "alpha"]);
    // Default order: newest first; a metric ordering keeps it.
    expect(await search({})).toEqual(["gamma", "beta", "alpha"]);
    expect(await search({ order_by: [{ field_name: "metrics.acc", ascending: false }] })).toEqual(["gamma", "beta", "alpha"]);
    expect(await search({ order_by: [{ field_name: "creation_time", ascending: true }] })).toEqual(["alpha", "beta", "gamma"]);

    const page1 = await ml("POST", "logged-models/search", { experiment_ids: [exp], order_by: byName, max_results: 2 });
    expect(page1.json.models.map((m: any) => m.info.name)).toEqual(["alpha", "beta"]);
    expect(page1.json.next_page_token).toBeTypeOf("string");
    expect(page1.json.models[0].data.params).toEqual([{ key: "lr", value: "0.1" }]);
    const page2 = await ml("POST", "logged-models/search", { experiment_ids: [exp], order_by: byName, max_results: 2, page_token: page1.json.next_page_token });
    expect(page2.json.models.map((m: any) => m.info.name)).toEqual(["gamma"]);
    expect(page2.json.next_page_token).toBeUndefined();
    const replayed = await ml("POST", "logged-models/search", { experiment_ids: [exp], max_results: 2, page_token: page1.json.next_page_token });
    expect(replayed.status).toBe(400);
    expect((await ml("POST", "logged-models/search", { experiment_ids: [exp], page_token: "garbage" })).status).toBe(400);

    expect(await search({ filter: "name = 'alpha'", experiment_ids: [exp, otherExp] })).toEqual(["alpha", "alpha"]);

    for (const filter of ["name >> 'x'", "foo = 'x'", "bogus.x = 'y'", "params.lr > '1'", "name = 'a' OR name = 'b'", "name = 'a' AND", "creation_timestamp > 'x'"]) {
      const bad = await ml("POST", "logged-models/search", { experiment_ids: [exp], filter });
      expect(bad.status, filter).toBe(400);
      expect(mlflowError(bad)).toBe("INVALID_PARAMETER_VALUE");
    }
    for (const order_by of [[{ field_name: "params.lr" }], [{ field_name: "nope" }], [{ ascending: true }], [{ field_name: "metrics.acc", dataset_digest: "d" }]]) {
      expect((await ml("POST", "logged-models/search", { experiment_ids: [exp], order_by })).status, JSON.stringify(order_by)).toBe(400);
    }
    expect((await ml("POST", "logged-models/search", { experiment_ids: [exp], max_results: 0 })).status).toBe(400);
    expect((await ml("POST", "logged-models/search", { experiment_ids: [exp], datasets: [{ dataset_digest: "x" }] })).status).toBe(400);
  });

  it("soft-deletes: gone from get and search, and deleting again is harmless", async () => {
    const exp = await newExperiment();
    const model = await createModel({ experiment_id: exp, name: "doomed" });
    const id = model.info.model_id;
    const del = await ml("DELETE", `logged-models/${id}`);
    expect(del.status).toBe(200);
    expect(del.json).toEqual({});
    const got = await ml("GET", `logged-models/${id}`);
    expect(got.status).toBe(404);
    expect(mlflowError(got)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((await ml("POST", "logged-models/search", { experiment_ids: [exp] })).json).toEqual({});
    expect((await ml("DELETE", `logged-models/${id}`)).status).toBe(200);
    expect((await ml("PATCH", `logged-models/${id}`, { status: "LOGGED_MODEL_READY" })).status).toBe(404);
    expect((await ml("DELETE", "logged-models/m-unknown")).status).toBe(404);
  });

  it("records run outputs and shows them on the run", async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    const m1 = (await createModel({ experiment_id: exp, source_run_id: run })).info.model_id;
    const m2 = (await createModel({ experiment_id: exp, source_run_id: run })).info.model_id;
    const res = await ml("POST", "runs/outputs", { run_id: run, models: [{ model_id: m1, step: 0 }] });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({});
    await ml("POST", "runs/outputs", { run_id: run, models: [{ model_id: m2, step: 5 }, { model_id: m1, step: 3 }] });
    const got = (await ml("GET", `runs/get?run_id=${run}`)).json.run;
    expect(got.outputs).toEqual({
      model_outputs: [
        { model_id: m1, step: 3 },
        { model_id: m2, step: 5 },
      ],
    });
    const searched = await ml("POST", "runs/search", { experiment_ids: [exp] });
    expect(searched.json.runs[0].outputs.model_outputs).toHaveLength(2);

    const unknownModel = await ml("POST", "runs/outputs", { run_id: run, models: [{ model_id: "m-missing", step: 0 }] });
    expect(unknownModel.status).toBe(404);
    expect(mlflowError(unknownModel)).toBe("RESOURCE_DOES_NOT_EXIST");
    const unknownRun = await ml("POST", "runs/outputs", { run_id: "f".repeat(32), models: [{ model_id: m1, step: 0 }] });
    expect(unknownRun.status).toBe(404);
    const noStep = await ml("POST", "runs/outputs", { run_id: run, models: [{ model_id: m1 }] });
    expect(noStep.status).toBe(400);
    expect((await ml("GET", `runs/get?run_id=${run}`)).json.run.outputs.model_outputs).toHaveLength(2);
  });
});

describe("MLflow server routes and token mode", () => {
  it("serves /health publicly and /version to readers", async () => {
    const health = await call("GET", "/health");
    expect(health.status).toBe(200);
    expect(health.text).toBe("OK");
    const anonymous = await call("GET", "/version");
    expect(anonymous.status).toBe(401);
    const read = await createToken(["read"]);
    const version = await call("GET", "/version", { token: read.secret });
    expect(version.status).toBe(200);
    expect(version.text).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("lets a read token get and search logged models but not create them", async () => {
    const read = await createToken(["read"]);
    const search = await call("POST", "/api/2.0/mlflow/logged-models/search", { token: read.secret, body: { experiment_ids: ["0"] } });
    expect(search.status).toBe(200);
    const create = await call("POST", "/api/2.0/mlflow/logged-models", { token: read.secret, body: { experiment_id: "0" } });
    expect(create.status).toBe(403);
    expect(create.json.error_code).toBe("PERMISSION_DENIED");
    const finalize = await call("PATCH", "/api/2.0/mlflow/logged-models/m-x", { token: read.secret, body: { status: "LOGGED_MODEL_READY" } });
    expect(finalize.status).toBe(403);
  });
});
