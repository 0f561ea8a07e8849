/**
 * Idempotency-Key on the native API's writes: a retry gets the first response back (status, body,
 * `Idempotent-Replayed: true`) and changes nothing, across the pillars; the same key on another
 * request is refused; concurrent duplicates run once; 4xx answers are kept, 5xx answers free the key;
 * keys are per token; bad keys are refused; reads ignore the header. Row counts come from D1 itself.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../worker/db/client";
import { IDEMPOTENCY_TTL_MS, IN_FLIGHT_LEASE_MS } from "../../worker/lib/idempotency";
import { IdempotencyService } from "../../worker/system/idempotency-service";
import { IdempotencyStore } from "../../worker/system/idempotency-store";
import { ADMIN_TOKEN, call, createToken, errorCode, type CallOptions, type CallResult } from "./helpers";
import { upload } from "./datasets-helpers";
import { registeredModel } from "./monitoring-helpers";

const count = async (table: string, where = "1 = 1", ...binds: unknown[]): Promise<number> =>
  Number((await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).bind(...binds).first<{ n: number }>())!.n);

const keyed = (method: string, path: string, key: string | null, body?: unknown, opts: CallOptions = {}) =>
  call(method, `/api/v1${path}`, { mode: "open", ...opts, ...(body === undefined ? {} : { body }), headers: { ...opts.headers, ...(key === null ? {} : { "Idempotency-Key": key }) } });

const uniq = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** Sends a keyed request twice; the retry must be the first answer, replayed, and change no row of `table`. */
async function sendTwice(method: string, path: string, body: unknown, table: string, expectStatus: number): Promise<CallResult> {
  const key = uniq("k");
  const before = await count(table);
  const first = await keyed(method, path, key, body);
  expect(first.status, first.text).toBe(expectStatus);
  expect(first.headers.get("idempotent-replayed")).toBeNull();
  const afterFirst = await count(table);
  const retry = await keyed(method, path, key, body);
  expect(retry.status).toBe(first.status);
  expect(retry.text).toBe(first.text);
  expect(retry.headers.get("idempotent-replayed")).toBe("true");
  expect(retry.headers.get("content-type")).toBe(first.headers.get("content-type"));
  expect(await count(table)).toBe(afterFirst);
  if (expectStatus < 300) expect(afterFirst).toBeGreaterThan(before);
  return first;
}

describe("Idempotency-Key on native writes", () => {
  it("replays the first response and makes no second record, in every pillar", async () => {
    // Tracking: experiment, run, log.
    await sendTwice("POST", "/experiments", { name: uniq("exp") }, "experiments", 201);
    const run = await sendTwice("POST", "/runs", { experiment_name: uniq("exp-runs"), name: "r" }, "runs", 201);
    const runId = run.json.run.run_id;
    await sendTwice("POST", `/runs/${runId}/log`, { step: 3, metrics: { loss: 0.5, acc: 0.9 } }, "metrics", 200);
    expect(await count("metrics", "run_uuid = ?", runId)).toBe(2);

    // Datasets: create, commit a version.
    const ds = uniq("ds");
    await sendTwice("POST", "/datasets", { name: ds }, "datasets", 201);
    const hash = await upload(`a,b\n1,2\n${ds}\n`);
    await sendTwice("POST", `/datasets/${ds}/versions`, { sha256: hash, file_name: "data.csv" }, "dataset_versions", 201);
    expect(await count("dataset_versions v JOIN datasets d ON d.dataset_id = v.dataset_id", "d.name = ?", ds)).toBe(1);

    // Tuning: create a study, ask, tell (a second tell without the key would be refused: the trial is finished).
    const study = await sendTwice("POST", "/studies", { name: uniq("study"), sampler: { type: "random", seed: 3 } }, "studies", 201);
    const studyId = study.json.study_id;
    const ask = await call("POST", `/api/v1/studies/${studyId}/ask`, { mode: "open", body: { search_space: { x: { type: "float", low: 0, high: 1 } } } });
    const n = ask.json.trial.number;
    const tellKey = uniq("tell");
    const told = await keyed("POST", `/studies/${studyId}/trials/${n}/tell`, tellKey, { value: 0.25 });
    expect(told.status, told.text).toBe(200);
    const again = await keyed("POST", `/studies/${studyId}/trials/${n}/tell`, tellKey, { value: 0.25 });
    expect([again.status, again.text, again.headers.get("idempotent-replayed")]).toEqual([200, told.text, "true"]);
    const unkeyed = await keyed("POST", `/studies/${studyId}/trials/${n}/tell`, null, { value: 0.25 });
    expect(unkeyed.status).toBe(409);

    // Pipelines: create, trigger a run.
    const pipe = await sendTwice("POST", "/pipelines", { name: uniq("pipe"), spec: { tasks: { a: { kind: "noop" } } } }, "pipelines", 201);
    const pipelineId = pipe.json.pipeline_id;
    await sendTwice("POST", `/pipelines/${pipelineId}/runs`, { conf: { n: 1 } }, "pipeline_runs", 201);
    expect(await count("pipeline_runs", "pipeline_id = ?", pipelineId)).toBe(1);

    // Monitoring: create a monitor.
    const model = await registeredModel();
    await sendTwice("POST", "/monitors", { name: uniq("mon"), model: { name: model } }, "monitors", 201);
  });

  it("keeps a 4xx answer and replays it", async () => {
    const name = uniq("exists");
    expect((await keyed("POST", "/experiments", null, { name })).status).toBe(201);
    const refused = await sendTwice("POST", "/experiments", { name }, "experiments", 409);
    expect(errorCode(refused)).toBe("RESOURCE_ALREADY_EXISTS");
    const missing = await sendTwice("POST", `/runs/${"0".repeat(32)}/log`, { metrics: { a: 1 } }, "metrics", 404);
    expect(errorCode(missing)).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("refuses the same key on a different body or path, in the API's error shape", async () => {
    const key = uniq("k");
    const body = { name: uniq("first") };
    const first = await keyed("POST", "/experiments", key, body);
    expect(first.status).toBe(201);
    const before = await count("experiments");
    const otherBody = await keyed("POST", "/experiments", key, { name: uniq("second") });
    expect(otherBody.status).toBe(400);
    expect(errorCode(otherBody)).toBe("INVALID_PARAMETER_VALUE");
    expect(otherBody.json.error.message).toMatch(/Idempotency-Key was first used for a different request \(POST \/api\/v1\/experiments/);
    const otherPath = await keyed("POST", "/studies", key, body);
    expect(otherPath.status).toBe(400);
    expect(errorCode(otherPath)).toBe("INVALID_PARAMETER_VALUE");
    const otherQuery = await keyed("POST", "/experiments?x=1", key, body);
    expect(otherQuery.status).toBe(400);
    expect(await count("experiments")).toBe(before);
  });

  it("runs concurrent duplicates once: the others wait (409 with Retry-After) or get the replay", async () => {
    // Triggering a pipeline makes a new run each time, so only the key can keep the duplicates out.
    const pipe = await keyed("POST", "/pipelines", null, { name: uniq("concurrent"), spec: { tasks: { a: { kind: "noop" } } } });
    const path = `/pipelines/${pipe.json.pipeline_id}/runs`;
    const key = uniq("k");
    const results = await Promise.all(Array.from({ length: 12 }, () => keyed("POST", path, key, { conf: { n: 1 } })));
    const executed = results.filter((r) => r.status === 201 && r.headers.get("idempotent-replayed") === null);
    const replayed = results.filter((r) => r.status === 201 && r.headers.get("idempotent-replayed") === "true");
    const waiting = results.filter((r) => r.status === 409);
    expect(executed).toHaveLength(1);
    expect(replayed.length + waiting.length).toBe(11);
    for (const r of replayed) expect(r.text).toBe(executed[0].text);
    for (const r of waiting) {
      expect(errorCode(r)).toBe("INVALID_STATE");
      expect(r.headers.get("retry-after")).toBe("1");
    }
    expect(await count("pipeline_runs", "pipeline_id = ?", pipe.json.pipeline_id)).toBe(1);
    const later = await keyed("POST", path, key, { conf: { n: 1 } });
    expect([later.status, later.text, later.headers.get("idempotent-replayed")]).toEqual([201, executed[0].text, "true"]);
  });

  it("frees the key when the first request fails with a 5xx, so that a retry runs", async () => {
    const ds = uniq("ds5xx");
    expect((await keyed("POST", "/datasets", null, { name: ds })).status).toBe(201);
    const hash = await upload(`x\n${ds}\n`);
    const key = uniq("k");
    // A database that fails the version's insert: the request answers 500 after its key was reserved.
    const broken = new Proxy(env.DB, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (prop === "prepare") {
          return (sql: string) => {
            if (/insert into "?dataset_versions/i.test(sql)) throw new Error("D1 is down");
            return v.call(target, sql);
          };
        }
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const failed = await keyed("POST", `/datasets/${ds}/versions`, key, { sha256: hash }, { env: { DB: broken } });
    expect(failed.status).toBe(500);
    expect(await count("idempotent_requests", "key = ?", key)).toBe(0);
    const retry = await keyed("POST", `/datasets/${ds}/versions`, key, { sha256: hash });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(retry.json.version.version).toBe(1);
  });

  it("scopes keys per token in token mode", async () => {
    const a = await createToken(["write"], "idem-a");
    const b = await createToken(["write"], "idem-b");
    const key = "shared-key-1";
    const asA = await keyed("POST", "/experiments", key, { name: uniq("of-a") }, { mode: "token", token: a.secret });
    const asB = await keyed("POST", "/experiments", key, { name: uniq("of-b") }, { mode: "token", token: b.secret });
    expect([asA.status, asB.status]).toEqual([201, 201]);
    expect(asB.headers.get("idempotent-replayed")).toBeNull();
    expect(asB.json.experiment.experiment_id).not.toBe(asA.json.experiment.experiment_id);
    const retryA = await keyed("POST", "/experiments", key, { name: "another" }, { mode: "token", token: a.secret });
    expect(retryA.status).toBe(400);
    const principals = (await env.DB.prepare("SELECT principal FROM idempotent_requests WHERE key = ? ORDER BY principal").bind(key).all<{ principal: string }>()).results;
    expect(principals.map((p) => p.principal)).toEqual([`token:${a.id}`, `token:${b.id}`].sort());
    // The bootstrap admin token has a namespace of its own.
    const asAdmin = await keyed("POST", "/experiments", key, { name: uniq("of-admin") }, { mode: "token", token: ADMIN_TOKEN });
    expect(asAdmin.status).toBe(201);
  });

  it("refuses keys that are empty, longer than 255 characters or not printable ASCII, and changes nothing", async () => {
    const before = await count("experiments");
    for (const bad of ["k".repeat(256), "tab\there", ""]) {
      const res = await keyed("POST", "/experiments", bad, { name: uniq("bad-key") });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
      expect(res.json.error.message).toMatch(/Idempotency-Key/);
    }
    expect(await count("experiments")).toBe(before);
    const longest = await keyed("POST", "/experiments", "k".repeat(255), { name: uniq("long-key") });
    expect(longest.status).toBe(201);
  });

  it("ignores the header on reads, read-only POSTs and raw uploads", async () => {
    const rows = await count("idempotent_requests");
    const get = await keyed("GET", "/experiments", "x".repeat(300));
    expect(get.status).toBe(200);
    expect(get.headers.get("idempotent-replayed")).toBeNull();
    const search = await keyed("POST", "/runs/search", "search-key", { experiment_ids: ["0"] });
    expect(search.status, search.text).toBe(200);
    expect((await keyed("POST", "/runs/search", "search-key", { experiment_ids: ["0"] })).headers.get("idempotent-replayed")).toBeNull();
    expect(await count("idempotent_requests")).toBe(rows);
  });

  it("keeps a new token's status but never its secret: a retry is told to look the token up", async () => {
    const key = uniq("tok");
    const made = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "idem-token", scopes: ["read"] }, headers: { "Idempotency-Key": key } });
    expect(made.status).toBe(201);
    const stored = await env.DB.prepare("SELECT status, body FROM idempotent_requests WHERE key = ?").bind(key).first<{ status: number; body: string | null }>();
    expect(stored).toEqual({ status: 201, body: null });
    const tokens = await count("api_tokens");
    const retry = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "idem-token", scopes: ["read"] }, headers: { "Idempotency-Key": key } });
    expect(retry.status).toBe(409);
    expect(errorCode(retry)).toBe("INVALID_STATE");
    expect(retry.text).not.toContain(made.json.secret);
    expect(await count("api_tokens")).toBe(tokens);
  });

  it("keeps the log endpoint's idempotency_key field: concurrent retries of one batch log it once", async () => {
    const run = await keyed("POST", "/runs", null, { experiment_name: uniq("field-key") });
    const runId = run.json.run.run_id;
    const body = { step: 1, metrics: [{ key: "m", value: 1, timestamp: 5 }, { key: "m", value: 2, step: 2, timestamp: 5 }], idempotency_key: "batch-1" };
    const results = await Promise.all(Array.from({ length: 8 }, () => keyed("POST", `/runs/${runId}/log`, null, body)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.json.replayed === false)).toHaveLength(1);
    expect(await count("metrics", "run_uuid = ?", runId)).toBe(2);
    expect(await count("metric_rollups", "run_uuid = ? AND n > 0", runId)).toBeGreaterThan(0);
  });
});

describe("Idempotency-Key records over time", () => {
  const store = new IdempotencyStore(createDb(env.DB));
  const at = (t: number) => new IdempotencyService(store, () => t);
  const req = (key: string, fingerprint = "f1") => ({ principal: "open", key, fingerprint, method: "POST", path: "/api/v1/x" });

  it("expires a record after 24 hours: the key runs again, and the sweep drops it", async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const first = await at(t0).begin(req("expiring"));
    expect(first.kind).toBe("execute");
    if (first.kind !== "execute") return;
    await at(t0).complete(first.reservation, { status: 201, headers: {}, body: "{}" });
    expect((await at(t0 + IDEMPOTENCY_TTL_MS - 1).begin(req("expiring"))).kind).toBe("replay");
    // A day later even a different request may use the key.
    expect((await at(t0 + IDEMPOTENCY_TTL_MS).begin(req("expiring", "f2"))).kind).toBe("execute");
    expect(await at(t0 + 2 * IDEMPOTENCY_TTL_MS + 1).sweepExpired()).toBeGreaterThanOrEqual(1);
    expect(await count("idempotent_requests", "key = 'expiring'")).toBe(0);
  });

  it("lets a retry take over a reservation whose request never finished, after the lease", async () => {
    const t0 = Date.UTC(2026, 0, 2);
    const abandoned = await at(t0).begin(req("abandoned"));
    expect(abandoned.kind).toBe("execute");
    await expect(at(t0 + IN_FLIGHT_LEASE_MS - 1).begin(req("abandoned"))).rejects.toMatchObject({ code: "INVALID_STATE" });
    const taken = await at(t0 + IN_FLIGHT_LEASE_MS).begin(req("abandoned"));
    expect(taken.kind).toBe("execute");
    if (abandoned.kind !== "execute" || taken.kind !== "execute") return;
    // The first request, if it ever finishes, no longer owns the record.
    await at(t0 + IN_FLIGHT_LEASE_MS + 1).complete(abandoned.reservation, { status: 200, headers: {}, body: "stale" });
    await at(t0 + IN_FLIGHT_LEASE_MS + 1).complete(taken.reservation, { status: 201, headers: {}, body: "fresh" });
    const r = await at(t0 + IN_FLIGHT_LEASE_MS + 2).begin(req("abandoned"));
    expect(r).toEqual({ kind: "replay", response: { status: 201, headers: {}, body: "fresh" } });
  });
});
