import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createToken } from "./helpers";

const mode = "open" as const;
const ml = (method: string, rpc: string, body?: unknown, extra: Parameters<typeof call>[2] = {}) =>
  call(method, `/api/2.0/mlflow/${rpc}`, { mode, ...(body === undefined ? {} : { body }), ...extra });
type Query = Record<string, string | string[] | undefined>;
const get = (rpc: string, query: Query) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const item of v === undefined ? [] : Array.isArray(v) ? v : [v]) params.append(k, item);
  return ml("GET", `${rpc}?${params}`);
};

function mlflowError(res: { status: number; json: any }): string {
  expect(Object.keys(res.json).sort()).toEqual(["error_code", "message"]);
  return res.json.error_code;
}

const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

async function newModel(name = unique("model"), extra: Record<string, unknown> = {}): Promise<string> {
  const res = await ml("POST", "registered-models/create", { name, ...extra });
  expect(res.status).toBe(200);
  return name;
}

async function newRun(): Promise<{ runId: string; artifactUri: string; experimentId: string }> {
  const exp = await ml("POST", "experiments/create", { name: unique("exp") });
  expect(exp.status).toBe(200);
  const run = await ml("POST", "runs/create", { experiment_id: exp.json.experiment_id, start_time: 1_700_000_000_000 });
  expect(run.status).toBe(200);
  return { runId: run.json.run.info.run_id, artifactUri: run.json.run.info.artifact_uri, experimentId: exp.json.experiment_id };
}

async function newVersion(name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await ml("POST", "model-versions/create", { name, source: "mlflow-artifacts:/0/abc/artifacts/model", ...extra });
  expect(res.status, res.text).toBe(200);
  return res.json.model_version;
}

const rowCount = async (table: string, name: string) =>
  ((await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE name = ?1`).bind(name).first<{ n: number }>())?.n ?? -1);

describe("MLflow registered models", () => {
  it("creates and gets a model in MLflow's wire shape, also under /ajax-api", async () => {
    const created = await ml("POST", "registered-models/create", {
      name: "fraud",
      description: "flags fraud",
      tags: [
        { key: "team", value: "risk" },
        { key: "domain", value: "payments" },
      ],
    });
    expect(created.status).toBe(200);
    const rm = created.json.registered_model;
    expect(rm).toMatchObject({ name: "fraud", description: "flags fraud", tags: [{ key: "domain", value: "payments" }, { key: "team", value: "risk" }] });
    expect(rm.creation_timestamp).toBeTypeOf("number");
    expect(rm.last_updated_timestamp).toBe(rm.creation_timestamp);
    expect(rm.latest_versions).toBeUndefined();
    expect(rm.aliases).toBeUndefined();

    const fetched = await get("registered-models/get", { name: "fraud" });
    expect(fetched.status).toBe(200);
    expect(fetched.json.registered_model).toEqual(rm);
    const ajax = await call("GET", "/ajax-api/2.0/mlflow/registered-models/get?name=fraud", { mode });
    expect(ajax.json.registered_model.name).toBe("fraud");

    const bare = await ml("POST", "registered-models/create", { name: "bare" });
    expect(Object.keys(bare.json.registered_model).sort()).toEqual(["creation_timestamp", "last_updated_timestamp", "name"]);
  });

  it("answers MLflow's errors and statuses", async () => {
    const name = await newModel();
    const dup = await ml("POST", "registered-models/create", { name });
    expect(dup.status).toBe(400);
    expect(mlflowError(dup)).toBe("RESOURCE_ALREADY_EXISTS");
    expect(dup.json.message).toBe(`Registered Model (name=${name}) already exists.`);

    const unknown = await get("registered-models/get", { name: "nope-model" });
    expect(unknown.status).toBe(404);
    expect(mlflowError(unknown)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(unknown.json.message).toBe("Registered Model with name=nope-model not found");

    const noName = await ml("POST", "registered-models/create", {});
    expect(noName.status).toBe(400);
    expect(mlflowError(noName)).toBe("INVALID_PARAMETER_VALUE");
    expect(noName.json.message).toContain("Missing value for required parameter 'name'");
    expect((await ml("POST", "registered-models/create", { name: "" })).status).toBe(400);
    expect((await ml("POST", "registered-models/create", { name: 5 })).status).toBe(400);
    expect((await get("registered-models/get", {})).status).toBe(400);

    for (const [method, rpc, body] of [
      ["PATCH", "registered-models/update", { name: "nope-model", description: "x" }],
      ["POST", "registered-models/rename", { name: "nope-model", new_name: "other" }],
      ["DELETE", "registered-models/delete", { name: "nope-model" }],
      ["POST", "registered-models/set-tag", { name: "nope-model", key: "k", value: "v" }],
      ["DELETE", "registered-models/delete-tag", { name: "nope-model", key: "k" }],
      ["POST", "registered-models/get-latest-versions", { name: "nope-model" }],
    ] as const) {
      const res = await ml(method, rpc, body);
      expect(res.status, `${method} ${rpc}`).toBe(404);
      expect(mlflowError(res)).toBe("RESOURCE_DOES_NOT_EXIST");
    }

    const badTag = await ml("POST", "registered-models/set-tag", { name, key: "bad key!", value: "v" });
    expect(badTag.status).toBe(400);
    expect(mlflowError(badTag)).toBe("INVALID_PARAMETER_VALUE");
    expect((await ml("POST", "registered-models/set-tag", { name, key: "k", value: "x".repeat(5001) })).status).toBe(400);
    expect((await ml("POST", "registered-models/create", { name: unique("m"), tags: [{ key: "../up", value: "v" }] })).status).toBe(400);

    // Wrong methods are unknown endpoints, as in MLflow; JSON must be sent as JSON.
    const wrongMethod = await ml("GET", "registered-models/create?name=x");
    expect(wrongMethod.status).toBe(404);
    const textPlain = await ml("POST", "registered-models/create", undefined, { raw: '{"name":"x"}', headers: { "Content-Type": "text/plain" } });
    expect(textPlain.status).toBe(400);
    expect(textPlain.json.message).toBe("Bad Request. Content-Type must be one of ['application/json'].");
  });

  it("updates the description with PATCH, sets and deletes tags", async () => {
    const name = await newModel(unique("upd"), { description: "first" });
    const before = (await get("registered-models/get", { name })).json.registered_model;
    const updated = await ml("PATCH", "registered-models/update", { name, description: "second" });
    expect(updated.status).toBe(200);
    expect(updated.json.registered_model.description).toBe("second");
    expect(updated.json.registered_model.last_updated_timestamp).toBeGreaterThanOrEqual(before.last_updated_timestamp);
    // An update without a description clears it, as MLflow's does.
    const cleared = await ml("PATCH", "registered-models/update", { name });
    expect(cleared.json.registered_model.description).toBeUndefined();

    expect((await ml("POST", "registered-models/set-tag", { name, key: "stage.owner", value: "ada" })).json).toEqual({});
    await ml("POST", "registered-models/set-tag", { name, key: "stage.owner", value: "grace" });
    await ml("POST", "registered-models/set-tag", { name, key: "empty" });
    expect((await get("registered-models/get", { name })).json.registered_model.tags).toEqual([
      { key: "empty", value: "" },
      { key: "stage.owner", value: "grace" },
    ]);
    expect((await ml("DELETE", "registered-models/delete-tag", { name, key: "stage.owner" })).status).toBe(200);
    // Deleting a tag that is not there is not an error.
    expect((await ml("DELETE", "registered-models/delete-tag", { name, key: "stage.owner" })).status).toBe(200);
    expect((await get("registered-models/get", { name })).json.registered_model.tags).toEqual([{ key: "empty", value: "" }]);
  });

  it("renames a model with its versions, tags and aliases (the foreign keys cascade)", async () => {
    const old = await newModel(unique("old"), { tags: [{ key: "t", value: "1" }] });
    await newVersion(old, { tags: [{ key: "vt", value: "a" }] });
    await newVersion(old);
    await ml("POST", "registered-models/alias", { name: old, alias: "champion", version: "2" });
    const renamed = await ml("POST", "registered-models/rename", { name: old, new_name: `${old}-new` });
    expect(renamed.status).toBe(200);
    const rm = renamed.json.registered_model;
    expect(rm).toMatchObject({ name: `${old}-new`, tags: [{ key: "t", value: "1" }], aliases: [{ alias: "champion", version: "2" }] });
    expect(rm.latest_versions.map((v: any) => [v.name, v.version])).toEqual([[`${old}-new`, "2"]]);

    const v1 = await get("model-versions/get", { name: `${old}-new`, version: "1" });
    expect(v1.json.model_version).toMatchObject({ name: `${old}-new`, version: "1", tags: [{ key: "vt", value: "a" }] });
    expect((await get("registered-models/alias", { name: `${old}-new`, alias: "champion" })).json.model_version.version).toBe("2");
    expect((await get("registered-models/get", { name: old })).status).toBe(404);
    for (const table of ["registered_model_tags", "model_versions", "model_version_tags", "registered_model_aliases"]) {
      expect(await rowCount(table, old), table).toBe(0);
    }
    expect(await rowCount("model_version_tags", `${old}-new`)).toBe(1);
    // D1 enforces the foreign keys that make the cascade: an orphan row is refused.
    await expect(env.DB.prepare("INSERT INTO registered_model_tags (name, key, value) VALUES (?1, 'k', 'v')").bind(old).run()).rejects.toThrow(/FOREIGN KEY/);

    const other = await newModel();
    const taken = await ml("POST", "registered-models/rename", { name: other, new_name: `${old}-new` });
    expect(taken.status).toBe(400);
    expect(mlflowError(taken)).toBe("RESOURCE_ALREADY_EXISTS");
    const noNewName = await ml("POST", "registered-models/rename", { name: other });
    expect(noNewName.status).toBe(400);
    expect(noNewName.json.message).toContain("'new_name'");
  });

  it("deletes a model with its versions, tags and aliases; the name starts afresh", async () => {
    const name = await newModel(unique("del"), { tags: [{ key: "t", value: "1" }] });
    await newVersion(name, { tags: [{ key: "vt", value: "a" }] });
    await newVersion(name);
    await ml("POST", "registered-models/alias", { name, alias: "prod", version: "1" });
    expect((await ml("DELETE", "registered-models/delete", { name })).json).toEqual({});
    expect((await get("registered-models/get", { name })).status).toBe(404);
    expect((await get("model-versions/get", { name, version: "1" })).status).toBe(404);
    for (const table of ["registered_models", "registered_model_tags", "model_versions", "model_version_tags", "registered_model_aliases"]) {
      expect(await rowCount(table, name), table).toBe(0);
    }
    await newModel(name);
    expect((await newVersion(name)).version).toBe("1");
    expect((await get("registered-models/get", { name })).json.registered_model.tags).toBeUndefined();
  });

  it("searches with MLflow's filter grammar, order_by and paging", async () => {
    const prefix = unique("srch");
    for (const [suffix, team] of [["b", "risk"], ["a", "growth"], ["c", "risk"], ["D", "ops"]]) {
      await newModel(`${prefix}-${suffix}`, { tags: [{ key: "team", value: team }, { key: "mlflow.owner", value: "ada" }] });
    }
    const names = async (query: Query) => {
      const res = await get("registered-models/search", query);
      expect(res.status, res.text).toBe(200);
      return (res.json.registered_models ?? []).map((m: any) => m.name);
    };
    expect(await names({ filter: `name LIKE '${prefix}-%'` })).toEqual([`${prefix}-D`, `${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
    // LIKE is case-sensitive, ILIKE is not.
    expect(await names({ filter: `name LIKE '${prefix}-d'` })).toEqual([]);
    expect(await names({ filter: `name ILIKE '${prefix.toUpperCase()}-d'` })).toEqual([`${prefix}-D`]);
    expect(await names({ filter: `name = '${prefix}-a'` })).toEqual([`${prefix}-a`]);
    expect(await names({ filter: `name = "${prefix}-a"` })).toEqual([`${prefix}-a`]);
    expect(await names({ filter: `name LIKE '${prefix}%' AND tags.team = 'risk'` })).toEqual([`${prefix}-b`, `${prefix}-c`]);
    expect(await names({ filter: `name LIKE '${prefix}%' and tags.team != 'risk'` })).toEqual([`${prefix}-D`, `${prefix}-a`]);
    expect(await names({ filter: `name LIKE '${prefix}%' AND tags.\`mlflow.owner\` = 'ada' AND tag.team LIKE 'g%'` })).toEqual([`${prefix}-a`]);
    expect(await names({ filter: `name LIKE '${prefix}%'`, order_by: "name DESC" })).toEqual([`${prefix}-c`, `${prefix}-b`, `${prefix}-a`, `${prefix}-D`]);

    await ml("PATCH", "registered-models/update", { name: `${prefix}-b`, description: "touched" });
    const byTime = (await get("registered-models/search", { filter: `name LIKE '${prefix}%'`, order_by: ["last_updated_timestamp DESC", "name ASC"] })).json.registered_models;
    const times = byTime.map((m: any) => m.last_updated_timestamp);
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(byTime.find((m: any) => m.name === `${prefix}-b`).last_updated_timestamp).toBe(times[0]);
    expect(await names({ filter: `name LIKE '${prefix}%'`, order_by: "timestamp DESC" })).toEqual(byTime.map((m: any) => m.name));
    const ascending = (await get("registered-models/search", { filter: `name LIKE '${prefix}%'`, order_by: "last_updated_timestamp" })).json.registered_models;
    expect(ascending.map((m: any) => m.last_updated_timestamp)).toEqual([...times].reverse());

    const first = await get("registered-models/search", { filter: `name LIKE '${prefix}%'`, max_results: "3" });
    expect(first.json.registered_models).toHaveLength(3);
    expect(first.json.next_page_token).toBeTypeOf("string");
    const second = await get("registered-models/search", { filter: `name LIKE '${prefix}%'`, max_results: "3", page_token: first.json.next_page_token });
    expect(second.json.registered_models.map((m: any) => m.name)).toEqual([`${prefix}-c`]);
    expect(second.json.next_page_token).toBeUndefined();

    const empty = await get("registered-models/search", { filter: "name = 'no-such-model-anywhere'" });
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({});

    for (const query of [
      { filter: "name = 'a' OR name = 'b'" },
      { filter: "creation_timestamp > 5" },
      { filter: "name > 'a'" },
      { filter: "tags.team IN ('a')" },
      { filter: "name = unquoted" },
      { filter: "params.x = 'a'" },
      { order_by: "creation_timestamp" },
      { order_by: "name sideways" },
      { order_by: ["name", "name DESC"] },
      { max_results: "1001" },
      { max_results: "0" },
      { page_token: "not-a-token" },
    ]) {
      const res = await get("registered-models/search", query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(mlflowError(res)).toBe("INVALID_PARAMETER_VALUE");
    }
  });

  it("leaves MLflow 3 prompts out of searches unless the filter asks for them", async () => {
    const prefix = unique("prm");
    await newModel(`${prefix}-model`);
    await newModel(`${prefix}-prompt`, { tags: [{ key: "mlflow.prompt.is_prompt", value: "true" }] });
    const search = async (filter: string) => ((await get("registered-models/search", { filter })).json.registered_models ?? []).map((m: any) => m.name);
    expect(await search(`name LIKE '${prefix}%'`)).toEqual([`${prefix}-model`]);
    expect(await search(`name LIKE '${prefix}%' AND tags.\`mlflow.prompt.is_prompt\` = 'true'`)).toEqual([`${prefix}-prompt`]);
    expect(await search(`name LIKE '${prefix}%' AND tags.\`mlflow.prompt.is_prompt\` != 'true'`)).toEqual([`${prefix}-model`]);
  });
});

describe("MLflow model versions", () => {
  it("creates versions numbered from 1 in MLflow's wire shape and touches the model", async () => {
    const { runId } = await newRun();
    const name = await newModel();
    const before = (await get("registered-models/get", { name })).json.registered_model;
    const res = await ml("POST", "model-versions/create", {
      name,
      source: `mlflow-artifacts:/1/${runId}/artifacts/model`,
      run_id: runId,
      run_link: "http://tern.test/run",
      description: "first cut",
      tags: [{ key: "framework", value: "sklearn" }],
    });
    expect(res.status).toBe(200);
    const mv = res.json.model_version;
    expect(mv).toEqual({
      name,
      version: "1",
      creation_timestamp: mv.creation_timestamp,
      last_updated_timestamp: mv.creation_timestamp,
      current_stage: "None",
      description: "first cut",
      source: `mlflow-artifacts:/1/${runId}/artifacts/model`,
      run_id: runId,
      status: "READY",
      tags: [{ key: "framework", value: "sklearn" }],
      run_link: "http://tern.test/run",
    });
    expect(mv.creation_timestamp).toBeTypeOf("number");
    const v2 = await newVersion(name);
    expect(v2.version).toBe("2");
    expect(v2.run_id).toBeUndefined();
    const rm = (await get("registered-models/get", { name })).json.registered_model;
    expect(rm.last_updated_timestamp).toBeGreaterThanOrEqual(before.last_updated_timestamp);
    expect(rm.latest_versions).toHaveLength(1);
    expect(rm.latest_versions[0]).toMatchObject({ version: "2", current_stage: "None" });
    expect((await get("model-versions/get", { name, version: "1" })).json.model_version).toEqual(mv);
  });

  it("never hands out the same version twice to concurrent creates", async () => {
    const name = await newModel();
    const results = await Promise.all(Array.from({ length: 10 }, () => ml("POST", "model-versions/create", { name, source: "s3://bucket/model" })));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const versions = results.map((r) => Number(r.json.model_version.version)).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const all = await get("model-versions/search", { filter: `name = '${name}'` });
    expect(all.json.model_versions).toHaveLength(10);
  });

  it("refuses bad creates: unknown model or run, missing source, escaping or local paths", async () => {
    const name = await newModel();
    const unknownModel = await ml("POST", "model-versions/create", { name: "nope-model", source: "s3://b/m" });
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.json.message).toBe("Registered Model with name=nope-model not found");
    const ghost = "f".repeat(32);
    const unknownRun = await ml("POST", "model-versions/create", { name, source: "s3://b/m", run_id: ghost });
    expect(unknownRun.status).toBe(404);
    expect(mlflowError(unknownRun)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(unknownRun.json.message).toBe(`Run with id=${ghost} not found`);
    const noSource = await ml("POST", "model-versions/create", { name });
    expect(noSource.status).toBe(400);
    expect(noSource.json.message).toContain("'source'");
    for (const source of ["mlflow-artifacts:/1/../../etc/passwd", "s3://b/%2E%2E/secret", "/tmp/model", "file:///tmp/model", "model"]) {
      const res = await ml("POST", "model-versions/create", { name, source });
      expect(res.status, source).toBe(400);
      expect(res.json.message).toContain("Invalid model version source");
    }
    // Nothing was written by the refused creates: the next version is still 1.
    expect((await newVersion(name)).version).toBe("1");
  });

  it("accepts a local source inside the run's own local artifact directory", async () => {
    const exp = await ml("POST", "experiments/create", { name: unique("local"), artifact_location: "/srv/mlruns/7" });
    const run = await ml("POST", "runs/create", { experiment_id: exp.json.experiment_id });
    const runId = run.json.run.info.run_id;
    const name = await newModel();
    expect((await ml("POST", "model-versions/create", { name, source: `/srv/mlruns/7/${runId}/artifacts/model`, run_id: runId })).status).toBe(200);
    expect((await ml("POST", "model-versions/create", { name, source: "/srv/elsewhere/model", run_id: runId })).status).toBe(400);
  });

  it("gets, updates with PATCH and deletes versions; deleted numbers are not reused", async () => {
    const name = await newModel();
    await newVersion(name);
    await newVersion(name);
    await newVersion(name);
    const updated = await ml("PATCH", "model-versions/update", { name, version: "2", description: "better" });
    expect(updated.status).toBe(200);
    expect(updated.json.model_version).toMatchObject({ version: "2", description: "better" });
    expect((await get("model-versions/get", { name, version: "2" })).json.model_version.description).toBe("better");

    await ml("POST", "registered-models/alias", { name, alias: "latest-good", version: "3" });
    expect((await ml("DELETE", "model-versions/delete", { name, version: "3" })).json).toEqual({});
    const gone = await get("model-versions/get", { name, version: "3" });
    expect(gone.status).toBe(404);
    expect(mlflowError(gone)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(gone.json.message).toBe(`Model Version (name=${name}, version=3) not found`);
    expect((await ml("DELETE", "model-versions/delete", { name, version: "3" })).status).toBe(404);
    // Its aliases went with it; the model's latest version is 2 again; the next create is 4.
    const rm = (await get("registered-models/get", { name })).json.registered_model;
    expect(rm.aliases).toBeUndefined();
    expect(rm.latest_versions.map((v: any) => v.version)).toEqual(["2"]);
    expect((await newVersion(name)).version).toBe("4");
    expect((await get("model-versions/search", { filter: `name = '${name}'` })).json.model_versions.map((v: any) => v.version)).toEqual(["4", "2", "1"]);

    for (const [method, rpc, body] of [
      ["PATCH", "model-versions/update", { name, version: "9", description: "x" }],
      ["POST", "model-versions/transition-stage", { name, version: "9", stage: "Staging", archive_existing_versions: false }],
      ["POST", "model-versions/set-tag", { name, version: "9", key: "k", value: "v" }],
      ["DELETE", "model-versions/delete-tag", { name, version: "9", key: "k" }],
      ["POST", "registered-models/alias", { name, alias: "x", version: "9" }],
    ] as const) {
      const res = await ml(method, rpc, body);
      expect(res.status, `${method} ${rpc}`).toBe(404);
      expect(res.json.message).toBe(`Model Version (name=${name}, version=9) not found`);
    }
    expect((await get("model-versions/get-download-uri", { name, version: "9" })).status).toBe(404);
    const notInt = await get("model-versions/get", { name, version: "abc" });
    expect(notInt.status).toBe(400);
    expect(mlflowError(notInt)).toBe("INVALID_PARAMETER_VALUE");
    expect((await get("model-versions/get", { name })).status).toBe(400);
    // Version given as a JSON number, as some clients send it.
    expect((await ml("PATCH", "model-versions/update", { name, version: 1, description: "n" })).json.model_version.version).toBe("1");
  });

  it("sets and deletes version tags", async () => {
    const name = await newModel();
    await newVersion(name, { tags: [{ key: "a", value: "1" }] });
    expect((await ml("POST", "model-versions/set-tag", { name, version: "1", key: "b", value: "2" })).json).toEqual({});
    await ml("POST", "model-versions/set-tag", { name, version: "1", key: "a", value: "changed" });
    expect((await get("model-versions/get", { name, version: "1" })).json.model_version.tags).toEqual([
      { key: "a", value: "changed" },
      { key: "b", value: "2" },
    ]);
    expect((await ml("DELETE", "model-versions/delete-tag", { name, version: "1", key: "a" })).status).toBe(200);
    expect((await get("model-versions/get", { name, version: "1" })).json.model_version.tags).toEqual([{ key: "b", value: "2" }]);
    expect((await ml("POST", "model-versions/set-tag", { name, version: "1", key: "bad key!", value: "v" })).status).toBe(400);
  });

  it("transitions stages, archiving the previous holders when asked", async () => {
    const name = await newModel();
    for (let i = 0; i < 4; i += 1) await newVersion(name);
    const toProd = async (version: string, archive: boolean) =>
      ml("POST", "model-versions/transition-stage", { name, version, stage: "production", archive_existing_versions: archive });
    const first = await toProd("1", false);
    expect(first.status).toBe(200);
    expect(first.json.model_version).toMatchObject({ version: "1", current_stage: "Production" });
    await toProd("2", false);
    const stages = async () =>
      Object.fromEntries(((await get("model-versions/search", { filter: `name = '${name}'` })).json.model_versions as any[]).map((v) => [v.version, v.current_stage]));
    expect(await stages()).toEqual({ "1": "Production", "2": "Production", "3": "None", "4": "None" });
    await ml("POST", "model-versions/transition-stage", { name, version: "4", stage: "Staging", archive_existing_versions: false });
    await toProd("3", true);
    expect(await stages()).toEqual({ "1": "Archived", "2": "Archived", "3": "Production", "4": "Staging" });

    const latest = (await get("registered-models/get", { name })).json.registered_model.latest_versions;
    expect(Object.fromEntries(latest.map((v: any) => [v.current_stage, v.version]))).toEqual({ Archived: "2", Production: "3", Staging: "4" });

    const bad = await ml("POST", "model-versions/transition-stage", { name, version: "1", stage: "Retired", archive_existing_versions: false });
    expect(bad.status).toBe(400);
    expect(mlflowError(bad)).toBe("INVALID_PARAMETER_VALUE");
    expect(bad.json.message).toBe("Invalid Model Version stage: Retired. Value must be one of None, Staging, Production, Archived.");
    const archiveToNone = await ml("POST", "model-versions/transition-stage", { name, version: "1", stage: "None", archive_existing_versions: true });
    expect(archiveToNone.status).toBe(400);
    expect(mlflowError(archiveToNone)).toBe("INVALID_PARAMETER_VALUE");
    expect((await ml("POST", "model-versions/transition-stage", { name, version: "1", stage: "None", archive_existing_versions: "yes" })).status).toBe(400);
    // Nothing changed by the refused transitions.
    expect(await stages()).toEqual({ "1": "Archived", "2": "Archived", "3": "Production", "4": "Staging" });
  });

  it("answers get-latest-versions over POST and GET, per stage", async () => {
    const name = await newModel();
    for (let i = 0; i < 3; i += 1) await newVersion(name);
    await ml("POST", "model-versions/transition-stage", { name, version: "1", stage: "Staging", archive_existing_versions: false });
    await ml("POST", "registered-models/alias", { name, alias: "candidate", version: "1" });
    const all = await ml("POST", "registered-models/get-latest-versions", { name });
    expect(all.status).toBe(200);
    expect(all.json.model_versions.map((v: any) => [v.version, v.current_stage])).toEqual([
      ["1", "Staging"],
      ["3", "None"],
    ]);
    expect(all.json.model_versions[0].aliases).toEqual(["candidate"]);
    const staging = await ml("POST", "registered-models/get-latest-versions", { name, stages: ["staging"] });
    expect(staging.json.model_versions.map((v: any) => v.version)).toEqual(["1"]);
    const viaGet = await get("registered-models/get-latest-versions", { name, stages: ["None", "Production"] });
    expect(viaGet.json.model_versions.map((v: any) => v.version)).toEqual(["3"]);
    const none = await ml("POST", "registered-models/get-latest-versions", { name, stages: ["Production"] });
    expect(none.json).toEqual({});
    const bad = await ml("POST", "registered-models/get-latest-versions", { name, stages: ["Live"] });
    expect(bad.status).toBe(400);
    expect(mlflowError(bad)).toBe("INVALID_PARAMETER_VALUE");
  });

  it("searches versions by name, run_id, source_path, version_number and tags, with order_by and paging", async () => {
    const a = await newRun();
    const b = await newRun();
    const name = await newModel();
    const other = await newModel();
    await newVersion(name, { run_id: a.runId, source: "s3://bucket/a/model", tags: [{ key: "quality", value: "gold" }] });
    await newVersion(name, { run_id: b.runId, source: "s3://bucket/b/model" });
    await newVersion(name, { run_id: a.runId, source: "s3://bucket/a/model-2", tags: [{ key: "quality", value: "silver" }] });
    await newVersion(other, { run_id: a.runId });
    const versions = async (query: Query) => {
      const res = await get("model-versions/search", query);
      expect(res.status, res.text).toBe(200);
      return (res.json.model_versions ?? []).map((v: any) => `${v.name === name ? "m" : "o"}${v.version}`);
    };
    expect(await versions({ filter: `name = '${name}'` })).toEqual(["m3", "m2", "m1"]);
    expect((await versions({ filter: `run_id = '${a.runId}'` })).sort()).toEqual(["m1", "m3", "o1"]);
    expect(await versions({ filter: `run_id IN ('${a.runId}', '${b.runId}') AND name = '${name}'`, order_by: "version_number ASC" })).toEqual(["m1", "m2", "m3"]);
    expect(await versions({ filter: `source_path LIKE 's3://bucket/a/%' AND name = '${name}'` })).toEqual(["m3", "m1"]);
    expect(await versions({ filter: `name = '${name}' AND version_number >= 2` })).toEqual(["m3", "m2"]);
    expect(await versions({ filter: `name = '${name}' AND tags.quality = 'gold'` })).toEqual(["m1"]);
    expect(await versions({ filter: `name = '${name}' AND tags.quality ILIKE '%LVER'` })).toEqual(["m3"]);
    expect(await versions({ filter: `name = '${name}'`, order_by: "creation_timestamp ASC" })).toEqual(["m1", "m2", "m3"]);

    const first = await get("model-versions/search", { filter: `name = '${name}'`, max_results: "2", order_by: "version_number ASC" });
    expect(first.json.model_versions.map((v: any) => v.version)).toEqual(["1", "2"]);
    const second = await get("model-versions/search", { filter: `name = '${name}'`, max_results: "2", order_by: "version_number ASC", page_token: first.json.next_page_token });
    expect(second.json.model_versions.map((v: any) => v.version)).toEqual(["3"]);
    expect(second.json.next_page_token).toBeUndefined();

    for (const query of [
      { filter: "version_number = 'one'" },
      { filter: "name IN ('a')" },
      { filter: "version_number LIKE 1" },
      { filter: "stage = 'None'" },
      { filter: "run_id = 'a' OR name = 'b'" },
      { order_by: "stage" },
      { max_results: "200001" },
    ]) {
      const res = await get("model-versions/search", query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(mlflowError(res)).toBe("INVALID_PARAMETER_VALUE");
    }
  });

  it("resolves download URIs: plain sources, runs:/ through the run, models:/ through the registry", async () => {
    const { runId, artifactUri } = await newRun();
    const name = await newModel();
    await newVersion(name, { source: "s3://bucket/path/model" });
    await newVersion(name, { source: `runs:/${runId}/model/sub`, run_id: runId });
    await newVersion(name, { source: `models:/${name}/2` });
    await ml("POST", "registered-models/alias", { name, alias: "champion", version: "1" });
    await newVersion(name, { source: `models:/${name}@champion` });
    const uri = async (version: string) => {
      const res = await get("model-versions/get-download-uri", { name, version });
      expect(res.status, res.text).toBe(200);
      return res.json.artifact_uri;
    };
    expect(await uri("1")).toBe("s3://bucket/path/model");
    expect(await uri("2")).toBe(`${artifactUri}/model/sub`);
    expect(await uri("3")).toBe(`${artifactUri}/model/sub`);
    expect(await uri("4")).toBe("s3://bucket/path/model");
    // The version keeps the source it was given.
    expect((await get("model-versions/get", { name, version: "3" })).json.model_version.source).toBe(`models:/${name}/2`);
    const dangling = await ml("POST", "model-versions/create", { name, source: `models:/${name}/99` });
    expect(dangling.status).toBe(400);
    expect(mlflowError(dangling)).toBe("INVALID_PARAMETER_VALUE");
  });

  it("registers an MLflow 3 logged model and records the version on it", async () => {
    const { runId, experimentId } = await newRun();
    const logged = await ml("POST", "logged-models", { experiment_id: experimentId, name: "clf", source_run_id: runId });
    expect(logged.status).toBe(200);
    const modelId = logged.json.model.info.model_id;
    const name = await newModel();
    const mv = await newVersion(name, { source: `models:/${modelId}`, model_id: modelId });
    expect(mv).toMatchObject({ version: "1", model_id: modelId, run_id: runId, source: `models:/${modelId}` });
    const uri = await get("model-versions/get-download-uri", { name, version: "1" });
    expect(uri.json.artifact_uri).toBe(logged.json.model.info.artifact_uri);
    const after = await ml("GET", `logged-models/${modelId}`);
    const tag = after.json.model.info.tags.find((t: any) => t.key === "mlflow.modelVersions");
    expect(JSON.parse(tag.value)).toEqual([{ name, version: 1 }]);
    const unknown = await ml("POST", "model-versions/create", { name, source: "models:/m-nope", model_id: "m-nope" });
    expect(unknown.status).toBe(404);
  });
});

describe("MLflow registered model aliases", () => {
  it("sets, moves, reads and deletes aliases", async () => {
    const name = await newModel();
    await newVersion(name);
    await newVersion(name);
    expect((await ml("POST", "registered-models/alias", { name, alias: "champion", version: "1" })).json).toEqual({});
    await ml("POST", "registered-models/alias", { name, alias: "challenger", version: "2" });
    const byAlias = await get("registered-models/alias", { name, alias: "champion" });
    expect(byAlias.status).toBe(200);
    expect(byAlias.json.model_version).toMatchObject({ name, version: "1", aliases: ["champion"] });
    expect((await get("registered-models/get", { name })).json.registered_model.aliases).toEqual([
      { alias: "challenger", version: "2" },
      { alias: "champion", version: "1" },
    ]);

    // Setting an alias again moves it.
    await ml("POST", "registered-models/alias", { name, alias: "champion", version: 2 });
    expect((await get("registered-models/alias", { name, alias: "champion" })).json.model_version.version).toBe("2");
    expect((await get("model-versions/get", { name, version: "2" })).json.model_version.aliases).toEqual(["challenger", "champion"]);
    expect((await get("model-versions/get", { name, version: "1" })).json.model_version.aliases).toBeUndefined();

    expect((await ml("DELETE", "registered-models/alias", { name, alias: "champion" })).json).toEqual({});
    const missing = await get("registered-models/alias", { name, alias: "champion" });
    expect(missing.status).toBe(400);
    expect(mlflowError(missing)).toBe("INVALID_PARAMETER_VALUE");
    expect(missing.json.message).toBe("Registered model alias champion not found.");
    // Deleting an alias that is not there is fine; on an unknown model it is 404.
    expect((await ml("DELETE", "registered-models/alias", { name, alias: "champion" })).status).toBe(200);
    expect((await ml("DELETE", "registered-models/alias", { name: "nope-model", alias: "champion" })).status).toBe(404);
  });

  it("refuses reserved and malformed alias names", async () => {
    const name = await newModel();
    await newVersion(name);
    for (const alias of ["latest", "LATEST", "v1", "V12", "has space", "dot.ted", ""]) {
      const res = await ml("POST", "registered-models/alias", { name, alias, version: "1" });
      expect(res.status, alias).toBe(400);
      expect(mlflowError(res)).toBe("INVALID_PARAMETER_VALUE");
    }
    expect((await ml("POST", "registered-models/alias", { name, alias: "v1-candidate", version: "1" })).status).toBe(200);
    expect((await ml("POST", "registered-models/alias", { name, alias: "ok", version: "x" })).status).toBe(400);
    expect((await ml("POST", "registered-models/alias", { name: "nope-model", alias: "ok", version: "1" })).status).toBe(404);
  });
});

describe("MLflow registry in token mode", () => {
  it("lets a read token read (including the read-only POST) but not write", async () => {
    const name = await newModel();
    await newVersion(name);
    const read = await createToken(["read"]);
    const as = (method: string, rpc: string, body?: unknown) => call(method, `/api/2.0/mlflow/${rpc}`, { token: read.secret, ...(body === undefined ? {} : { body }) });
    expect((await as("GET", `registered-models/get?name=${name}`)).status).toBe(200);
    expect((await as("GET", "registered-models/search")).status).toBe(200);
    expect((await as("GET", `model-versions/get?name=${name}&version=1`)).status).toBe(200);
    expect((await as("GET", "model-versions/search")).status).toBe(200);
    expect((await as("POST", "registered-models/get-latest-versions", { name })).status).toBe(200);
    for (const [method, rpc, body] of [
      ["POST", "registered-models/create", { name: unique("ro") }],
      ["PATCH", "registered-models/update", { name, description: "x" }],
      ["DELETE", "registered-models/delete", { name }],
      ["POST", "model-versions/create", { name, source: "s3://b/m" }],
      ["POST", "model-versions/transition-stage", { name, version: "1", stage: "Staging", archive_existing_versions: false }],
      ["POST", "registered-models/alias", { name, alias: "a", version: "1" }],
    ] as const) {
      const res = await as(method, rpc, body);
      expect(res.status, `${method} ${rpc}`).toBe(403);
      expect(res.json.error_code).toBe("PERMISSION_DENIED");
    }
    expect((await call("GET", `/api/2.0/mlflow/registered-models/get?name=${name}`)).status).toBe(401);
    // The refused writes changed nothing.
    expect((await get("registered-models/get", { name })).json.registered_model.latest_versions.map((v: any) => v.version)).toEqual(["1"]);
  });
});
