import { describe, expect, it } from "vitest";
import { call, createToken } from "./helpers";

const mode = "open" as const;
const ml = (method: string, rpc: string, body?: unknown, extra: Parameters<typeof call>[2] = {}) =>
  call(method, `/api/2.0/mlflow/${rpc}`, { mode, ...(body === undefined ? {} : { body }), ...extra });
const get = (rpc: string, query: string) => ml("GET", `${rpc}?${query}`);

function mlflowError(res: { status: number; json: any }): string {
  expect(Object.keys(res.json).sort()).toEqual(["error_code", "message"]);
  return res.json.error_code;
}

async function newExperiment(name = `exp-${crypto.randomUUID()}`): Promise<string> {
  const res = await ml("POST", "experiments/create", { name });
  expect(res.status).toBe(200);
  return res.json.experiment_id;
}

async function newRun(experimentId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await ml("POST", "runs/create", { experiment_id: experimentId, start_time: 1_700_000_000_000, ...extra });
  expect(res.status).toBe(200);
  return res.json.run.info.run_id;
}

describe("MLflow experiments", () => {
  it("has the Default experiment 0, as MLflow clients expect", async () => {
    const res = await get("experiments/get", "experiment_id=0");
    expect(res.status).toBe(200);
    expect(res.json.experiment).toMatchObject({ experiment_id: "0", name: "Default", lifecycle_stage: "active", artifact_location: "mlflow-artifacts:/0" });
  });

  it("creates, gets by id and by name, with MLflow's field names", async () => {
    const id = await newExperiment("fraud-model");
    expect(id).toMatch(/^\d+$/);
    const byId = await get("experiments/get", `experiment_id=${id}`);
    expect(byId.json.experiment).toMatchObject({ experiment_id: id, name: "fraud-model", artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: "active" });
    expect(byId.json.experiment.creation_time).toBeTypeOf("number");
    expect(byId.json.experiment.tags).toBeUndefined();
    const byName = await get("experiments/get-by-name", "experiment_name=fraud-model");
    expect(byName.json.experiment.experiment_id).toBe(id);
  });

  it("answers errors in MLflow's shape and statuses", async () => {
    await newExperiment("dup");
    const dup = await ml("POST", "experiments/create", { name: "dup" });
    expect(dup.status).toBe(400);
    expect(mlflowError(dup)).toBe("RESOURCE_ALREADY_EXISTS");

    const missing = await ml("POST", "experiments/create", {});
    expect(missing.status).toBe(400);
    expect(mlflowError(missing)).toBe("INVALID_PARAMETER_VALUE");
    expect(missing.json.message).toContain("Missing value for required parameter 'name'");

    const wrongType = await ml("POST", "experiments/create", { name: 123 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.message).toContain("'name'");

    const textPlain = await ml("POST", "experiments/create", undefined, { raw: '{"name":"x"}', headers: { "Content-Type": "text/plain" } });
    expect(textPlain.status).toBe(400);
    expect(textPlain.json.message).toBe("Bad Request. Content-Type must be one of ['application/json'].");

    const unknown = await get("experiments/get", "experiment_id=987654321");
    expect(unknown.status).toBe(404);
    expect(mlflowError(unknown)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(unknown.json.message).toBe("No Experiment with id=987654321 exists");
    expect((await get("experiments/get", "experiment_id=abc")).status).toBe(404);
    expect((await get("experiments/get", "")).status).toBe(400);
    expect((await get("experiments/get-by-name", "experiment_name=nope")).status).toBe(404);

    const noEndpoint = await ml("POST", "experiments/frobnicate", {});
    expect(noEndpoint.status).toBe(404);
    expect(mlflowError(noEndpoint)).toBe("ENDPOINT_NOT_FOUND");
  });

  it("renames, tags, deletes and restores; search honours view_type", async () => {
    const id = await newExperiment("to-rename");
    expect((await ml("POST", "experiments/update", { experiment_id: id, new_name: "renamed" })).status).toBe(200);
    expect((await get("experiments/get", `experiment_id=${id}`)).json.experiment.name).toBe("renamed");

    await ml("POST", "experiments/set-experiment-tag", { experiment_id: id, key: "team", value: "risk" });
    expect((await get("experiments/get", `experiment_id=${id}`)).json.experiment.tags).toEqual([{ key: "team", value: "risk" }]);

    expect((await ml("POST", "experiments/delete", { experiment_id: id })).status).toBe(200);
    expect((await get("experiments/get", `experiment_id=${id}`)).json.experiment.lifecycle_stage).toBe("deleted");
    const active = await ml("POST", "experiments/search", { filter: "name = 'renamed'" });
    expect(active.json.experiments).toBeUndefined();
    const deleted = await ml("POST", "experiments/search", { filter: "name = 'renamed'", view_type: "DELETED_ONLY" });
    expect(deleted.json.experiments.map((e: any) => e.experiment_id)).toEqual([id]);
    // A deleted experiment's name stays taken, as in MLflow.
    expect(mlflowError(await ml("POST", "experiments/create", { name: "renamed" }))).toBe("RESOURCE_ALREADY_EXISTS");
    expect((await ml("POST", "experiments/restore", { experiment_id: id })).status).toBe(200);
    expect((await get("experiments/get", `experiment_id=${id}`)).json.experiment.lifecycle_stage).toBe("active");
    expect(mlflowError(await ml("POST", "experiments/delete", { experiment_id: "0" }))).toBe("INVALID_PARAMETER_VALUE");
  });

  it("searches with filter, order_by and paging, over POST and GET", async () => {
    for (const n of ["search-b", "search-a", "search-c", "other"]) await newExperiment(n);
    const first = await ml("POST", "experiments/search", { filter: "name LIKE 'search-%'", order_by: ["name ASC"], max_results: 2 });
    expect(first.json.experiments.map((e: any) => e.name)).toEqual(["search-a", "search-b"]);
    expect(first.json.next_page_token).toBeTypeOf("string");
    const second = await ml("POST", "experiments/search", { filter: "name LIKE 'search-%'", order_by: ["name ASC"], max_results: 2, page_token: first.json.next_page_token });
    expect(second.json.experiments.map((e: any) => e.name)).toEqual(["search-c"]);
    expect(second.json.next_page_token).toBeUndefined();
    const viaGet = await get("experiments/search", `filter=${encodeURIComponent("name LIKE 'search-%'")}&order_by=${encodeURIComponent("name DESC")}&max_results=5`);
    expect(viaGet.json.experiments.map((e: any) => e.name)).toEqual(["search-c", "search-b", "search-a"]);
    const bad = await ml("POST", "experiments/search", { filter: "name >>> 'x'" });
    expect(bad.status).toBe(400);
    expect(mlflowError(bad)).toBe("INVALID_PARAMETER_VALUE");
    expect((await ml("POST", "experiments/search", { page_token: "not-a-token" })).status).toBe(400);
  });
});

describe("MLflow runs", () => {
  it("creates a run with MLflow's RunInfo, reserved tags and artifact URI", async () => {
    const exp = await newExperiment();
    const res = await ml("POST", "runs/create", { experiment_id: exp, run_name: "ridge", user_id: "ada", start_time: 1_700_000_000_000, tags: [{ key: "team", value: "risk" }] });
    const run = res.json.run;
    expect(run.info).toMatchObject({ run_name: "ridge", experiment_id: exp, user_id: "ada", status: "RUNNING", start_time: 1_700_000_000_000, lifecycle_stage: "active" });
    expect(run.info.run_id).toMatch(/^[0-9a-f]{32}$/);
    expect(run.info.run_uuid).toBe(run.info.run_id);
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${exp}/${run.info.run_id}/artifacts`);
    expect(run.data.tags).toEqual([
      { key: "mlflow.runName", value: "ridge" },
      { key: "team", value: "risk" },
    ]);
    const unnamed = await ml("POST", "runs/create", { experiment_id: exp });
    expect(unnamed.json.run.info.run_name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(unnamed.json.run.info.start_time).toBe(0);
    const defaultExp = await ml("POST", "runs/create", {});
    expect(defaultExp.json.run.info.experiment_id).toBe("0");
  });

  it("logs metrics, params and tags and returns the latest metric values", async () => {
    const run = await newRun(await newExperiment());
    await ml("POST", "runs/log-metric", { run_id: run, key: "loss", value: 0.9, timestamp: 1000, step: 0 });
    await ml("POST", "runs/log-metric", { run_id: run, key: "loss", value: 0.5, timestamp: 2000, step: 2 });
    await ml("POST", "runs/log-metric", { run_id: run, key: "loss", value: 0.7, timestamp: 3000, step: 1 });
    await ml("POST", "runs/log-metric", { run_uuid: run, key: "acc", value: "0.8", timestamp: "4000" });
    await ml("POST", "runs/log-parameter", { run_id: run, key: "alpha", value: "0.1" });
    await ml("POST", "runs/set-tag", { run_id: run, key: "stage", value: "dev" });
    const got = (await get("runs/get", `run_id=${run}`)).json.run;
    expect(got.data.metrics).toEqual([
      { key: "acc", value: 0.8, timestamp: 4000, step: 0 },
      { key: "loss", value: 0.5, timestamp: 2000, step: 2 },
    ]);
    expect(got.data.params).toEqual([{ key: "alpha", value: "0.1" }]);
    expect(got.data.tags).toContainEqual({ key: "stage", value: "dev" });
    expect((await get("runs/get", "run_id=ffffffffffffffffffffffffffffffff")).status).toBe(404);
  });

  it("keeps params immutable: the same value again is fine, a different one is refused", async () => {
    const run = await newRun(await newExperiment());
    expect((await ml("POST", "runs/log-parameter", { run_id: run, key: "p", value: "1" })).status).toBe(200);
    expect((await ml("POST", "runs/log-parameter", { run_id: run, key: "p", value: "1" })).status).toBe(200);
    const changed = await ml("POST", "runs/log-parameter", { run_id: run, key: "p", value: "2" });
    expect(changed.status).toBe(400);
    expect(mlflowError(changed)).toBe("INVALID_PARAMETER_VALUE");
    expect(changed.json.message).toContain("Changing param values is not allowed. Param with key='p' was already logged with value='1'");
  });

  it("logs a full batch and refuses an oversized or partly invalid batch without writing anything", async () => {
    const run = await newRun(await newExperiment());
    const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: `m${i % 10}`, value: i / 7, timestamp: 1000 + i, step: i }));
    const ok = await ml("POST", "runs/log-batch", { run_id: run, metrics });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({});
    const history = await get("metrics/get-history", `run_id=${run}&metric_key=m3&max_results=25000`);
    expect(history.json.metrics).toHaveLength(100);

    const tooMany = await ml("POST", "runs/log-batch", { run_id: run, metrics: [...metrics, metrics[0]] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.message).toContain("at most 1000 metrics");
    const tooManyParams = await ml("POST", "runs/log-batch", { run_id: run, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: "v" })) });
    expect(tooManyParams.status).toBe(400);

    const partlyBad = await ml("POST", "runs/log-batch", {
      run_id: run,
      params: [{ key: "good", value: "1" }],
      tags: [{ key: "fine", value: "yes" }],
      metrics: [{ key: "fresh", value: 1, timestamp: 1, step: 0 }, { key: "bad/../key", value: 1, timestamp: 1, step: 0 }],
    });
    expect(partlyBad.status).toBe(400);
    const after = (await get("runs/get", `run_id=${run}`)).json.run;
    expect(after.data.params).toBeUndefined();
    expect(after.data.tags.map((t: any) => t.key)).not.toContain("fine");
    expect(after.data.metrics.map((m: any) => m.key)).not.toContain("fresh");

    const conflicting = await ml("POST", "runs/log-parameter", { run_id: run, key: "alpha", value: "1" });
    expect(conflicting.status).toBe(200);
    const batchWithChange = await ml("POST", "runs/log-batch", { run_id: run, params: [{ key: "alpha", value: "2" }], metrics: [{ key: "late", value: 1, timestamp: 1, step: 0 }] });
    expect(batchWithChange.status).toBe(400);
    expect((await get("runs/get", `run_id=${run}`)).json.run.data.metrics.map((m: any) => m.key)).not.toContain("late");
  });

  it("stores NaN and ±Infinity as MLflow does, and identical points once", async () => {
    const run = await newRun(await newExperiment());
    await ml("POST", "runs/log-batch", {
      run_id: run,
      metrics: [
        { key: "nan", value: "NaN", timestamp: 1, step: 0 },
        { key: "inf", value: "Infinity", timestamp: 1, step: 0 },
        { key: "ninf", value: "-Infinity", timestamp: 1, step: 0 },
        { key: "dup", value: 1.5, timestamp: 7, step: 3 },
        { key: "dup", value: 1.5, timestamp: 7, step: 3 },
      ],
    });
    await ml("POST", "runs/log-metric", { run_id: run, key: "dup", value: 1.5, timestamp: 7, step: 3 });
    const metrics = (await get("runs/get", `run_id=${run}`)).json.run.data.metrics;
    const byKey = Object.fromEntries(metrics.map((m: any) => [m.key, m.value]));
    expect(byKey.nan).toBe("NaN");
    expect(byKey.inf).toBe(1.7976931348623157e308);
    expect(byKey.ninf).toBe(-1.7976931348623157e308);
    const dup = await get("metrics/get-history", `run_id=${run}&metric_key=dup&max_results=25000`);
    expect(dup.json.metrics).toEqual([{ key: "dup", value: 1.5, timestamp: 7, step: 3 }]);
  });

  it("pages metric history in step order", async () => {
    const run = await newRun(await newExperiment());
    await ml("POST", "runs/log-batch", { run_id: run, metrics: Array.from({ length: 25 }, (_, i) => ({ key: "loss", value: 25 - i, timestamp: i, step: 24 - i })) });
    const first = await get("metrics/get-history", `run_id=${run}&metric_key=loss&max_results=10`);
    expect(first.json.metrics.map((m: any) => m.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const second = await get("metrics/get-history", `run_id=${run}&metric_key=loss&max_results=10&page_token=${encodeURIComponent(first.json.next_page_token)}`);
    expect(second.json.metrics[0].step).toBe(10);
    const none = await get("metrics/get-history", `run_id=${run}&metric_key=nothing&max_results=10`);
    expect(none.json).toEqual({});
  });

  it("updates status and name, deletes and restores runs, deletes tags", async () => {
    const exp = await newExperiment();
    const run = await newRun(exp, { run_name: "first" });
    const upd = await ml("POST", "runs/update", { run_id: run, status: "FINISHED", end_time: 1_700_000_100_000, run_name: "second" });
    expect(upd.json.run_info).toMatchObject({ status: "FINISHED", end_time: 1_700_000_100_000, run_name: "second" });
    const got = (await get("runs/get", `run_id=${run}`)).json.run;
    expect(got.data.tags).toContainEqual({ key: "mlflow.runName", value: "second" });
    await ml("POST", "runs/set-tag", { run_id: run, key: "mlflow.runName", value: "third" });
    expect((await get("runs/get", `run_id=${run}`)).json.run.info.run_name).toBe("third");

    await ml("POST", "runs/set-tag", { run_id: run, key: "temp", value: "x" });
    expect((await ml("POST", "runs/delete-tag", { run_id: run, key: "temp" })).status).toBe(200);
    expect((await ml("POST", "runs/delete-tag", { run_id: run, key: "temp" })).status).toBe(404);

    expect((await ml("POST", "runs/delete", { run_id: run })).status).toBe(200);
    const logDeleted = await ml("POST", "runs/log-metric", { run_id: run, key: "m", value: 1, timestamp: 1 });
    expect(logDeleted.status).toBe(400);
    expect((await ml("POST", "runs/search", { experiment_ids: [exp] })).json.runs).toBeUndefined();
    expect((await ml("POST", "runs/search", { experiment_ids: [exp], run_view_type: "ALL" })).json.runs).toHaveLength(1);
    expect((await ml("POST", "runs/restore", { run_id: run })).status).toBe(200);
    expect((await ml("POST", "runs/search", { experiment_ids: [exp] })).json.runs).toHaveLength(1);
  });

  it("searches runs with MLflow's filter grammar, order_by and paging", async () => {
    const exp = await newExperiment();
    const mk = async (name: string, rmse: number | null, alpha: string, status: string, start: number) => {
      const id = await newRun(exp, { run_name: name, start_time: start });
      await ml("POST", "runs/log-batch", {
        run_id: id,
        params: [{ key: "alpha", value: alpha }],
        metrics: rmse === null ? [] : [{ key: "rmse", value: rmse, timestamp: 1, step: 0 }],
        tags: [{ key: "model", value: name.toUpperCase() }],
      });
      await ml("POST", "runs/update", { run_id: id, status });
      return id;
    };
    const a = await mk("ridge-a", 0.3, "0.1", "FINISHED", 1000);
    const b = await mk("ridge-b", 0.6, "1.0", "FINISHED", 2000);
    const c = await mk("lasso-c", 0.2, "0.1", "FAILED", 3000);
    const d = await mk("lasso-d", null, "10", "RUNNING", 4000);

    const search = async (body: Record<string, unknown>) => {
      const res = await ml("POST", "runs/search", { experiment_ids: [exp], ...body });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      return (res.json.runs ?? []).map((r: any) => r.info.run_id);
    };
    expect(await search({})).toEqual([d, c, b, a]);
    expect(await search({ filter: "metrics.rmse < 0.5" })).toEqual([c, a]);
    expect(await search({ filter: "metrics.rmse < 0.5 and params.alpha = '0.1'" })).toEqual([c, a]);
    expect(await search({ filter: "params.alpha != '0.1'" })).toEqual([d, b]);
    expect(await search({ filter: "attributes.run_name LIKE 'ridge%'" })).toEqual([b, a]);
    expect(await search({ filter: "tags.model LIKE 'lasso%'" })).toEqual([]);
    expect(await search({ filter: "tags.model ILIKE 'lasso%'" })).toEqual([d, c]);
    expect(await search({ filter: "tags.`mlflow.runName` = 'lasso-c'" })).toEqual([c]);
    expect(await search({ filter: "attributes.status = 'FAILED'" })).toEqual([c]);
    expect(await search({ filter: `attributes.run_id IN ('${a}', '${d}')` })).toEqual([d, a]);
    expect(await search({ filter: "params.missing IS NULL and tags.model IS NOT NULL" })).toEqual([d, c, b, a]);
    expect(await search({ filter: "attributes.start_time >= 2000 AND attributes.start_time < 4000" })).toEqual([c, b]);
    expect(await search({ order_by: ["metrics.rmse ASC"] })).toEqual([c, a, b, d]);
    expect(await search({ order_by: ["metrics.rmse DESC"] })).toEqual([b, a, c, d]);
    // Ties keep MLflow's default order: newest start first.
    expect(await search({ order_by: ["params.alpha"] })).toEqual([c, a, b, d]);

    const page1 = await ml("POST", "runs/search", { experiment_ids: [exp], max_results: 3 });
    expect(page1.json.runs).toHaveLength(3);
    const page2 = await ml("POST", "runs/search", { experiment_ids: [exp], max_results: 3, page_token: page1.json.next_page_token });
    expect(page2.json.runs.map((r: any) => r.info.run_id)).toEqual([a]);
    expect(page2.json.next_page_token).toBeUndefined();

    const bad = await ml("POST", "runs/search", { experiment_ids: [exp], filter: "metrics.rmse >>> 1" });
    expect(bad.status).toBe(400);
    expect(mlflowError(bad)).toBe("INVALID_PARAMETER_VALUE");
    expect((await ml("POST", "runs/search", { experiment_ids: [exp], max_results: 50001 })).status).toBe(400);
  });

  it("records MLflow 2.x log-model calls in the run's mlflow.log-model.history tag", async () => {
    const run = await newRun(await newExperiment());
    const mlmodel = { artifact_path: "model", flavors: { python_function: { loader_module: "mlflow.sklearn" } }, run_id: run, utc_time_created: "2026-11-28 05:00:00.000000" };
    expect((await ml("POST", "runs/log-model", { run_id: run, model_json: JSON.stringify(mlmodel) })).status).toBe(200);
    expect((await ml("POST", "runs/log-model", { run_id: run, model_json: JSON.stringify({ ...mlmodel, artifact_path: "model2" }) })).status).toBe(200);
    const tag = (await get("runs/get", `run_id=${run}`)).json.run.data.tags.find((t: any) => t.key === "mlflow.log-model.history");
    expect(JSON.parse(tag.value).map((m: any) => m.artifact_path)).toEqual(["model", "model2"]);
    expect(mlflowError(await ml("POST", "runs/log-model", { run_id: run, model_json: "not json" }))).toBe("INVALID_PARAMETER_VALUE");
    expect(mlflowError(await ml("POST", "runs/log-model", { run_id: run, model_json: "[1]" }))).toBe("INVALID_PARAMETER_VALUE");
    expect((await ml("POST", "runs/log-model", { run_id: "ffffffffffffffffffffffffffffffff", model_json: "{}" })).status).toBe(404);
  });

  it("serves the same API under /ajax-api for the MLflow web UI", async () => {
    const res = await call("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", { mode });
    expect(res.json.experiment.name).toBe("Default");
  });
});

describe("MLflow routes in token mode", () => {
  it("lets a read token search but not write, with MLflow error bodies", async () => {
    const read = await createToken(["read"]);
    const search = await call("POST", "/api/2.0/mlflow/runs/search", { token: read.secret, body: { experiment_ids: ["0"] } });
    expect(search.status).toBe(200);
    const create = await call("POST", "/api/2.0/mlflow/runs/create", { token: read.secret, body: {} });
    expect(create.status).toBe(403);
    expect(create.json.error_code).toBe("PERMISSION_DENIED");
    const anonymous = await call("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0");
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error_code).toBe("UNAUTHENTICATED");
  });
});
