/**
 * Task lineage: a task of a pipeline run (typically an agent task, which Tern cannot see inside) records
 * what it read and made, so the graph runs from a training data version through the model version to the
 * dataset version a prediction task wrote. Bad references answer 400/404 and record nothing.
 */
import { describe, expect, it } from "vitest";
import { call } from "./helpers";
import { api, commitFile, createDataset } from "./datasets-helpers";

const uid = () => crypto.randomUUID().slice(0, 8);
const edges = (g: any) => g.edges.map((e: any) => `${e.from} -${e.kind}-> ${e.to}`).sort();

async function modelVersionFrom(runId: string): Promise<{ name: string; version: number }> {
  const name = `m-${uid()}`;
  expect((await call("POST", "/api/2.0/mlflow/registered-models/create", { mode: "open", body: { name } })).status).toBe(200);
  const mv = await call("POST", "/api/2.0/mlflow/model-versions/create", { mode: "open", body: { name, source: `runs:/${runId}/model`, run_id: runId } });
  expect(mv.status, mv.text).toBe(200);
  return { name, version: Number(mv.json.model_version.version) };
}

async function setup() {
  const train = `train-${uid()}`;
  await createDataset(train);
  const trainVersion = await commitFile(train, "x,y\n1,0\n2,1\n", { file_name: "train.csv" });
  const run = await api("POST", "/runs", { experiment_name: `exp-${uid()}`, name: "fit" });
  expect(run.status, run.text).toBe(201);
  const runId = run.json.run.run_id;
  expect((await api("POST", `/runs/${runId}/dataset-inputs`, { dataset: train, version: 1, context: "training" })).status).toBe(200);
  const model = await modelVersionFrom(runId);
  const batches = `batch-${uid()}`;
  await createDataset(batches);
  const batch = await commitFile(batches, "x\n3\n", { file_name: "batch.csv" });
  const preds = `pred-${uid()}`;
  await createDataset(preds);
  const pred = await commitFile(preds, "x,p\n3,0.7\n", { file_name: "pred.csv" });
  const pipe = await api("POST", "/pipelines", { name: `predict-${uid()}`, spec: { tasks: { predict: { kind: "noop" } } } });
  expect(pipe.status, pipe.text).toBe(201);
  const pr = await api("POST", `/pipelines/${pipe.json.pipeline_id}/runs`, {});
  expect(pr.status, pr.text).toBe(201);
  return { trainVersion, runId, model, batch, pred, pipelineRunId: pr.json.run_id as string };
}

describe("POST /pipeline-runs/{run}/tasks/{task}/lineage", () => {
  it("links the model version and batch a task read and the version it wrote, so the graph runs from training data to predictions", async () => {
    const s = await setup();
    const res = await api("POST", `/pipeline-runs/${s.pipelineRunId}/tasks/predict/lineage`, {
      inputs: [{ object: `model_version:${s.model.name}/${s.model.version}`, edge: "used_model" }, { object: `dataset_version:${s.batch.id}` }],
      outputs: [{ object: `dataset_version:${s.pred.id}`, edge: "predictions" }],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ run_id: s.pipelineRunId, task_id: "predict", recorded: 3 });
    // Recording the same links again changes nothing.
    const again = await api("POST", `/pipeline-runs/${s.pipelineRunId}/tasks/predict/lineage`, { outputs: [{ object: `dataset_version:${s.pred.id}`, edge: "predictions" }] });
    expect(again.status, again.text).toBe(200);

    const g = await api("GET", `/lineage?object=${encodeURIComponent(`dataset_version:${s.trainVersion.id}`)}&depth=5`);
    expect(g.status, g.text).toBe(200);
    const mv = `model_version:${s.model.name}/${s.model.version}`;
    const pr = `pipeline_run:${s.pipelineRunId}`;
    expect(edges(g.json)).toEqual(
      expect.arrayContaining([
        `dataset_version:${s.trainVersion.id} -input-> run:${s.runId}`,
        `run:${s.runId} -produced-> ${mv}`,
        `${mv} -used_model-> ${pr}`,
        `${pr} -predictions-> dataset_version:${s.pred.id}`,
      ]),
    );
    // Upstream from the prediction batch, the same chain back to the training data.
    const up = await api("GET", `/lineage?object=${encodeURIComponent(`dataset_version:${s.pred.id}`)}&depth=5`);
    expect(edges(up.json)).toEqual(
      expect.arrayContaining([`dataset_version:${s.batch.id} -task_input-> ${pr}`, `${mv} -used_model-> ${pr}`, `dataset_version:${s.trainVersion.id} -input-> run:${s.runId}`]),
    );
  });

  it("refuses unknown runs, tasks and objects, and bad references, recording nothing", async () => {
    const s = await setup();
    const path = `/pipeline-runs/${s.pipelineRunId}/tasks/predict/lineage`;
    const cases: [string, unknown, number, string][] = [
      [path, { inputs: [{ object: "no-colon" }] }, 400, "inputs[0].object: Invalid object 'no-colon'"],
      [path, { outputs: [{ object: "monitor:abc" }] }, 400, "outputs[0].object: a task links dataset_version, model_version, run, not 'monitor'"],
      [path, { outputs: [{ object: `dataset_version:${s.pred.id}`, edge: "Bad Edge" }] }, 400, "an edge name"],
      [path, { inputs: [{ object: `model_version:${s.model.name}/99` }] }, 404, `Model version ${s.model.name}/99 does not exist`],
      [path, { inputs: [{ object: "dataset_version:nope" }], outputs: [{ object: `dataset_version:${s.pred.id}` }] }, 404, "Dataset version nope does not exist"],
      [`/pipeline-runs/${s.pipelineRunId}/tasks/other/lineage`, { inputs: [{ object: `dataset_version:${s.batch.id}` }] }, 404, "has no task 'other'"],
      [`/pipeline-runs/${"0".repeat(32)}/tasks/predict/lineage`, { inputs: [{ object: `dataset_version:${s.batch.id}` }] }, 404, "does not exist"],
      [path, { inputs: [], extra: 1 }, 400, "extra"],
    ];
    for (const [p, body, status, message] of cases) {
      const res = await api("POST", p, body);
      expect(res.status, `${p} ${JSON.stringify(body)}: ${res.text}`).toBe(status);
      expect(res.json.error.message).toContain(message);
    }
    const g = await api("GET", `/lineage?object=${encodeURIComponent(`pipeline_run:${s.pipelineRunId}`)}`);
    expect(g.status, g.text).toBe(200);
    expect(g.json.edges).toEqual([]);
  });
});
