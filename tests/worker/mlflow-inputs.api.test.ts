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

async function newExperiment(): Promise<string> {
  const res = await ml("POST", "experiments/create", { name: `exp-${crypto.randomUUID()}` });
  expect(res.status).toBe(200);
  return res.json.experiment_id;
}

async function newRun(experimentId: string, startTime = 1_700_000_000_000): Promise<string> {
  const res = await ml("POST", "runs/create", { experiment_id: experimentId, start_time: startTime });
  expect(res.status).toBe(200);
  return res.json.run.info.run_id;
}

const dataset = (name: string, digest: string, extra: Record<string, string> = {}) => ({
  name,
  digest,
  source_type: "local",
  source: JSON.stringify({ uri: `/data/${name}.csv` }),
  ...extra,
});
const context = (value: string) => [{ key: "mlflow.data.context", value }];

async function logInputs(runId: string, datasets: unknown[], extra: Record<string, unknown> = {}) {
  const res = await ml("POST", "runs/log-inputs", { run_id: runId, datasets, ...extra });
  expect(res.status, res.text).toBe(200);
  expect(res.json).toEqual({});
}

describe("MLflow log-inputs", () => {
  it("shows logged dataset inputs on runs/get and runs/search in MLflow's shape", async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);
    const fresh = (await get("runs/get", `run_id=${run}`)).json.run;
    expect(fresh.inputs).toEqual({});

    await logInputs(run, [
      { tags: context("training"), dataset: dataset("iris", "abc123", { schema: '{"mlflow_colspec":[]}', profile: '{"num_rows":150}' }) },
      { dataset: dataset("iris-test", "def456") },
    ]);
    const expected = [
      {
        tags: [{ key: "mlflow.data.context", value: "training" }],
        dataset: { name: "iris", digest: "abc123", source_type: "local", source: '{"uri":"/data/iris.csv"}', schema: '{"mlflow_colspec":[]}', profile: '{"num_rows":150}' },
      },
      { dataset: { name: "iris-test", digest: "def456", source_type: "local", source: '{"uri":"/data/iris-test.csv"}' } },
    ];
    const got = (await get("runs/get", `run_id=${run}`)).json.run;
    expect(got.inputs).toEqual({ dataset_inputs: expected });
    expect(got.outputs).toEqual({});

    const searched = await ml("POST", "runs/search", { experiment_ids: [exp] });
    expect(searched.json.runs).toHaveLength(1);
    expect(searched.json.runs[0].inputs).toEqual({ dataset_inputs: expected });
  });

  it("reuses a dataset by (name, digest) within an experiment and links it to a run once", async () => {
    const exp = await newExperiment();
    const [a, b] = [await newRun(exp), await newRun(exp)];
    // The same dataset twice in one request and again later: one input, with the first tags.
    await logInputs(a, [
      { tags: context("training"), dataset: dataset("wine", "d1") },
      { tags: context("eval"), dataset: dataset("wine", "d1") },
    ]);
    await logInputs(a, [{ tags: context("other"), dataset: dataset("wine", "d1") }]);
    const inputsA = (await get("runs/get", `run_id=${a}`)).json.run.inputs.dataset_inputs;
    expect(inputsA).toHaveLength(1);
    expect(inputsA[0].tags).toEqual(context("training"));

    // Another run of the experiment reuses the stored dataset, whatever source it sends.
    await logInputs(b, [{ tags: context("eval"), dataset: { ...dataset("wine", "d1"), source: "elsewhere" } }]);
    const inputsB = (await get("runs/get", `run_id=${b}`)).json.run.inputs.dataset_inputs;
    expect(inputsB).toEqual([{ tags: context("eval"), dataset: dataset("wine", "d1") }]);

    // A new digest is a new dataset; another experiment keeps its own copy.
    await logInputs(b, [{ dataset: dataset("wine", "d2") }]);
    const other = await newExperiment();
    const c = await newRun(other);
    await logInputs(c, [{ dataset: { ...dataset("wine", "d1"), source: "other-exp" } }]);
    expect((await get("runs/get", `run_id=${c}`)).json.run.inputs.dataset_inputs[0].dataset.source).toBe("other-exp");

    const summaries = (await ml("POST", "experiments/search-datasets", { experiment_ids: [exp] })).json.dataset_summaries;
    expect(summaries).toHaveLength(3);
    expect(summaries).toEqual(
      expect.arrayContaining([
        { experiment_id: exp, name: "wine", digest: "d1", context: "training" },
        { experiment_id: exp, name: "wine", digest: "d1", context: "eval" },
        { experiment_id: exp, name: "wine", digest: "d2" },
      ]),
    );
    // Most recently created datasets first.
    expect(summaries[0]).toEqual({ experiment_id: exp, name: "wine", digest: "d2" });
  });

  it("filters runs/search on datasets.name, datasets.digest and datasets.context", async () => {
    const exp = await newExperiment();
    const r1 = await newRun(exp, 1000);
    const r2 = await newRun(exp, 2000);
    const r3 = await newRun(exp, 3000);
    await logInputs(r1, [{ tags: context("training"), dataset: dataset("iris", "aaa") }]);
    await logInputs(r2, [
      { tags: context("training"), dataset: dataset("wine", "bbb") },
      { tags: context("eval"), dataset: dataset("iris", "aaa") },
    ]);
    const search = async (filter: string) => {
      const res = await ml("POST", "runs/search", { experiment_ids: [exp], filter });
      expect(res.status, res.text).toBe(200);
      return (res.json.runs ?? []).map((r: any) => r.info.run_id);
    };
    expect(await search("datasets.name = 'iris'")).toEqual([r2, r1]);
    expect(await search("datasets.name = 'wine'")).toEqual([r2]);
    expect(await search("datasets.digest != 'aaa'")).toEqual([r2]);
    expect(await search("datasets.name IN ('wine', 'nope')")).toEqual([r2]);
    expect(await search("datasets.name NOT IN ('iris')")).toEqual([r2]);
    expect(await search("datasets.name LIKE 'ir%'")).toEqual([r2, r1]);
    expect(await search("datasets.context = 'eval'")).toEqual([r2]);
    expect(await search("datasets.context IN ('training')")).toEqual([r2, r1]);
    expect(await search("datasets.name = 'iris' AND datasets.context = 'training'")).toEqual([r2, r1]);
    expect(await search("datasets.context = 'nothing'")).toEqual([]);
    // r3 has no inputs: it never matches a dataset clause.
    expect(await search("datasets.name != 'zzz'")).not.toContain(r3);

    const bad = await ml("POST", "runs/search", { experiment_ids: [exp], filter: "datasets.size = 'x'" });
    expect(bad.status).toBe(400);
    expect(mlflowError(bad)).toBe("INVALID_PARAMETER_VALUE");
  });

  it("answers search-datasets across experiments, and nothing for unknown ones", async () => {
    const [e1, e2] = [await newExperiment(), await newExperiment()];
    await logInputs(await newRun(e1), [{ tags: context("training"), dataset: dataset("a", "1") }]);
    await logInputs(await newRun(e2), [{ dataset: dataset("b", "2") }]);
    const both = await ml("POST", "experiments/search-datasets", { experiment_ids: [e1, e2] });
    expect(both.status).toBe(200);
    expect(both.json.dataset_summaries).toEqual(
      expect.arrayContaining([
        { experiment_id: e1, name: "a", digest: "1", context: "training" },
        { experiment_id: e2, name: "b", digest: "2" },
      ]),
    );
    expect(both.json.dataset_summaries).toHaveLength(2);
    expect((await ml("POST", "experiments/search-datasets", { experiment_ids: ["987654"] })).json).toEqual({});
    expect((await ml("POST", "experiments/search-datasets", {})).json).toEqual({});
    const ajax = await call("POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", { mode, body: { experiment_ids: [e1] } });
    expect(ajax.json.dataset_summaries).toHaveLength(1);
  });

  it("refuses bad inputs with MLflow's errors and writes nothing", async () => {
    const exp = await newExperiment();
    const run = await newRun(exp);

    const unknown = await ml("POST", "runs/log-inputs", { run_id: "f".repeat(32), datasets: [{ dataset: dataset("x", "1") }] });
    expect(unknown.status).toBe(404);
    expect(mlflowError(unknown)).toBe("RESOURCE_DOES_NOT_EXIST");

    const noRunId = await ml("POST", "runs/log-inputs", { datasets: [] });
    expect(noRunId.status).toBe(400);
    expect(noRunId.json.message).toContain("'run_id'");

    const missingName = await ml("POST", "runs/log-inputs", { run_id: run, datasets: [{ dataset: { digest: "1", source_type: "local", source: "s" } }] });
    expect(missingName.status).toBe(400);
    expect(mlflowError(missingName)).toBe("INVALID_PARAMETER_VALUE");
    expect(missingName.json.message).toContain("Missing value for required parameter");

    // One good dataset and one with an over-long digest: nothing is written.
    const tooLong = await ml("POST", "runs/log-inputs", { run_id: run, datasets: [{ dataset: dataset("ok", "1") }, { dataset: dataset("bad", "x".repeat(37)) }] });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.message).toBe("Dataset digest exceeds the maximum length of 36");
    const longTag = await ml("POST", "runs/log-inputs", { run_id: run, datasets: [{ tags: [{ key: "k", value: "v".repeat(501) }], dataset: dataset("ok", "1") }] });
    expect(longTag.status).toBe(400);
    expect((await get("runs/get", `run_id=${run}`)).json.run.inputs).toEqual({});
    expect((await ml("POST", "experiments/search-datasets", { experiment_ids: [exp] })).json).toEqual({});

    await ml("POST", "runs/delete", { run_id: run });
    const deleted = await ml("POST", "runs/log-inputs", { run_id: run, datasets: [{ dataset: dataset("x", "1") }] });
    expect(deleted.status).toBe(400);
    expect(mlflowError(deleted)).toBe("INVALID_PARAMETER_VALUE");
  });

  it("accepts MLflow 3's model inputs and metric links to models and datasets", async () => {
    const run = await newRun(await newExperiment());
    await logInputs(run, [{ dataset: dataset("d", "1") }], { models: [{ model_id: "m-0123456789abcdef0123456789abcdef" }] });
    const batch = await ml("POST", "runs/log-batch", {
      run_id: run,
      metrics: [{ key: "acc", value: 0.9, timestamp: 1, step: 0, model_id: "m-0123456789abcdef0123456789abcdef", dataset_name: "d", dataset_digest: "1", run_id: run }],
    });
    expect(batch.status).toBe(200);
    const single = await ml("POST", "runs/log-metric", { run_id: run, key: "loss", value: 0.1, timestamp: 2, model_id: "m-1", dataset_name: "d", dataset_digest: "1" });
    expect(single.status).toBe(200);
    const got = (await get("runs/get", `run_id=${run}`)).json.run;
    expect(got.data.metrics.map((m: any) => m.key)).toEqual(["acc", "loss"]);
    expect(got.inputs.dataset_inputs).toHaveLength(1);
    const badModel = await ml("POST", "runs/log-inputs", { run_id: run, models: [{}] });
    expect(badModel.status).toBe(400);
  });
});

describe("MLflow inputs in token mode", () => {
  it("lets a read token search datasets but not log inputs", async () => {
    const read = await createToken(["read"]);
    const search = await call("POST", "/api/2.0/mlflow/experiments/search-datasets", { token: read.secret, body: { experiment_ids: ["0"] } });
    expect(search.status).toBe(200);
    const log = await call("POST", "/api/2.0/mlflow/runs/log-inputs", { token: read.secret, body: { run_id: "f".repeat(32) } });
    expect(log.status).toBe(403);
    expect(log.json.error_code).toBe("PERMISSION_DENIED");
  });
});
