import { describe, expect, it } from "vitest";
import { call } from "./helpers";
import { api, commitFile, createDataset, mode } from "./datasets-helpers";

const ml = (rpc: string, body: unknown) => call("POST", `/api/2.0/mlflow/${rpc}`, { mode, body });

async function newRun(): Promise<string> {
  const res = await api("POST", "/runs", { experiment_name: `lineage-${crypto.randomUUID()}`, name: "train" });
  expect(res.status, res.text).toBe(201);
  return res.json.run.run_id;
}

async function register(name: string, runId: string): Promise<number> {
  await ml("registered-models/create", { name });
  const res = await ml("model-versions/create", { name, source: `runs:/${runId}/model`, run_id: runId });
  expect(res.status, res.text).toBe(200);
  return Number(res.json.model_version.version);
}

const graph = async (object: string) => {
  const res = await api("GET", `/lineage?object=${encodeURIComponent(object)}`);
  expect(res.status, res.text).toBe(200);
  return res.json;
};
const ids = (g: any) => g.nodes.map((n: any) => n.id).sort();
const edges = (g: any) => g.edges.map((e: any) => `${e.from} -${e.kind}-> ${e.to}`).sort();

describe("lineage", () => {
  it("links dataset versions to the runs that read them and the model versions those runs produced", async () => {
    await createDataset("train-set");
    const v1 = await commitFile("train-set", "x,y\n1,2\n", { file_name: "train.csv" });
    const v2 = await commitFile("train-set", "x,y\n1,2\n3,4\n", { file_name: "train.csv" });
    const run = await newRun();
    const declared = await api("POST", `/runs/${run}/dataset-inputs`, { dataset: "train-set", version: 2, context: "training" });
    expect(declared.status, declared.text).toBe(200);
    expect(declared.json.version.id).toBe(v2.id);
    const mv = await register("price-model", run);

    const dv = `dataset_version:${v2.id}`;
    const r = `run:${run}`;
    const m = `model_version:price-model/${mv}`;
    const fromVersion = await graph(dv);
    expect(fromVersion.root).toBe(dv);
    expect(ids(fromVersion)).toEqual([dv, `dataset_version:${v1.id}`, m, r].sort());
    expect(edges(fromVersion)).toEqual([`${dv} -input-> ${r}`, `${r} -produced-> ${m}`, `dataset_version:${v1.id} -parent_version-> ${dv}`].sort());
    const node = fromVersion.nodes.find((n: any) => n.id === dv);
    expect(node).toMatchObject({ kind: "dataset_version", label: "train-set v2", data: { dataset: "train-set", version: 2, row_count: 2 } });

    const fromModel = await graph(m);
    expect(ids(fromModel)).toEqual([dv, `dataset_version:${v1.id}`, m, r].sort());
    expect(fromModel.nodes.find((n: any) => n.id === r)).toMatchObject({ kind: "run", label: "train" });

    const fromRun = await graph(r);
    expect(edges(fromRun)).toContain(`${dv} -input-> ${r}`);
    expect(edges(fromRun)).toContain(`${r} -produced-> ${m}`);

    // v1 was not read by the run: its downstream holds only its child version's lineage.
    const fromV1 = await graph(`dataset_version:${v1.id}`);
    expect(edges(fromV1)).not.toContain(`dataset_version:${v1.id} -input-> ${r}`);
  });

  it("maps MLflow log-inputs onto dataset versions by digest and by source", async () => {
    await createDataset("mlflow-data");
    const byDigest = await commitFile("mlflow-data", "a\n1\n", { file_name: "a.csv" });
    const bySource = await commitFile("mlflow-data", "a\n2\n", { file_name: "a.csv" });
    const byId = await commitFile("mlflow-data", "a\n3\n", { file_name: "a.csv" });
    const run = await newRun();
    const logged = await ml("runs/log-inputs", {
      run_id: run,
      datasets: [
        { tags: [{ key: "mlflow.data.context", value: "training" }], dataset: { name: "d1", digest: byDigest.sha256.slice(0, 36), source_type: "http", source: '{"url":"https://example.com/x.csv"}' } },
        { dataset: { name: "d2", digest: "0000aaaa", source_type: "http", source: JSON.stringify({ url: "https://tern.example/api/v1/datasets/mlflow-data/versions/2/download" }) } },
        { dataset: { name: "by-id", digest: byId.id, source_type: "local", source: '{"uri":"/tmp/y.csv"}' } },
        { dataset: { name: "unrelated", digest: "ffff0000", source_type: "local", source: '{"uri":"/tmp/other.csv"}' } },
      ],
    });
    expect(logged.status, logged.text).toBe(200);
    const g = await graph(`run:${run}`);
    expect(edges(g)).toEqual(
      expect.arrayContaining([`dataset_version:${byDigest.id} -input-> run:${run}`, `dataset_version:${bySource.id} -input-> run:${run}`, `dataset_version:${byId.id} -input-> run:${run}`]),
    );
    expect(g.edges.filter((e: any) => e.kind === "input")).toHaveLength(3);
    // And from the version's side.
    expect(edges(await graph(`dataset_version:${bySource.id}`))).toContain(`dataset_version:${bySource.id} -input-> run:${run}`);
    expect(edges(await graph(`dataset_version:${byDigest.id}`))).toContain(`dataset_version:${byDigest.id} -input-> run:${run}`);
    expect(edges(await graph(`dataset_version:${byId.id}`))).toContain(`dataset_version:${byId.id} -input-> run:${run}`);
  });

  it("answers unknown objects with 404 and malformed ones with 400", async () => {
    expect((await api("GET", "/lineage?object=run:0123456789abcdef0123456789abcdef")).status).toBe(404);
    expect((await api("GET", "/lineage?object=dataset_version:nope")).status).toBe(404);
    expect((await api("GET", "/lineage?object=model_version:none/1")).status).toBe(404);
    expect((await api("GET", "/lineage?object=model_version:no-version")).status).toBe(400);
    expect((await api("GET", "/lineage?object=monitor:1")).status).toBe(404);
    expect((await api("GET", "/lineage?object=widget:1")).status).toBe(400);
    expect((await api("GET", "/lineage?object=justtext")).status).toBe(400);
    const run = await newRun();
    expect((await api("POST", `/runs/${run}/dataset-inputs`, { dataset: "missing", version: 1 })).status).toBe(404);
    expect((await api("POST", `/runs/0123456789abcdef0123456789abcdef/dataset-inputs`, { dataset: "missing", version: 1 })).status).toBe(404);
  });
});
