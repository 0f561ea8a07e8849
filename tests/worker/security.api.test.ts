/**
 * Security limits across the API: JSON depth and body size per route family, DVC key confinement, and
 * secrets kept out of API responses (pipeline specs, run conf) and out of stored task logs.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, errorCode } from "./helpers";

const mode = "open" as const;
const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body });
const json = { "Content-Type": "application/json" };

/** `{"a":{"a":...{"a":1}...}}` with `depth` objects. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
/** `[[[...]]]` with `depth` arrays. */
const nestedArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

async function count(table: string): Promise<number> {
  return ((await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0) as number;
}

describe("JSON depth", () => {
  it("refuses a native body nested deeper than 64 levels with 400 and creates nothing; 64 levels pass", async () => {
    const body = (depth: number) => `{"name":"deep-${depth}","spec":{"tasks":{"t":{"kind":"http","url":"http://127.0.0.1:9/x","body":${nested(depth - 4)}}}}}`;
    const deep = await call("POST", "/api/v1/pipelines", { mode, raw: body(65), headers: json });
    expect(deep.status).toBe(400);
    expect(errorCode(deep)).toBe("INVALID_PARAMETER_VALUE");
    expect(deep.json.error.message).toBe("The JSON body nests deeper than 64 levels");
    expect(await count("pipelines")).toBe(0);
    const ok = await call("POST", "/api/v1/pipelines", { mode, raw: body(64), headers: json });
    expect(ok.status, ok.text).toBe(201);
  });

  it("answers hundreds of thousands of levels with 400, not a stack overflow, on every JSON route family", async () => {
    // Under the smallest body limit (1 MB), so the depth check, not the size check, answers.
    const arrays = nestedArray(400_000);
    const objects = `{"x":${nested(150_000)}}`;
    const cases: [string, string, string][] = [
      ["POST", "/api/v1/tokens", objects],
      ["POST", "/api/v1/pipelines", arrays],
      ["POST", "/api/v1/datasets/deep/versions", objects],
      ["POST", "/api/2.0/mlflow/experiments/create", objects],
      ["POST", "/ajax-api/2.0/mlflow/runs/log-batch", arrays],
      ["POST", "/api/3.0/mlflow/traces", objects],
      ["POST", "/v1/traces", objects],
      ["POST", "/api/2.0/mlflow-artifacts/mpu/complete/a.bin?path=a.bin&upload_id=x", objects],
    ];
    for (const [method, path, raw] of cases) {
      const res = await call(method, path, { mode, raw, headers: json });
      expect(res.status, `${path}: ${res.text.slice(0, 200)}`).toBe(400);
      if (path.startsWith("/api/v1")) expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
      else expect(res.json.error_code, path).toBe("INVALID_PARAMETER_VALUE");
      expect(res.text).toContain("deeper than 64 levels");
    }
    expect(await count("experiments")).toBe(1); // only MLflow's Default experiment
  });

  it("does not count brackets inside strings", async () => {
    const name = `${"[{".repeat(100)}"quoted\\"${"{".repeat(100)}`;
    const res = await call("POST", "/api/2.0/mlflow/experiments/create", { mode, body: { name } });
    expect(res.status, res.text).toBe(200);
  });
});

describe("body size limits", () => {
  // One JSON route of each family; raw upload routes (artifacts, blobs, DVC) limit by object size instead.
  // [path, its limit in bytes]: a body just over the limit is refused.
  const families: [string, number][] = [
    ["/api/v1/tokens", 1 << 20],
    ["/api/v1/pipelines", 1 << 20],
    ["/api/v1/datasets/big/versions", 32 << 20],
    ["/api/2.0/mlflow/runs/log-batch", 4 << 20],
    ["/ajax-api/2.0/mlflow/experiments/create", 4 << 20],
    ["/api/3.0/mlflow/traces", 4 << 20],
    ["/v1/traces", 16 << 20],
    ["/api/2.0/mlflow-artifacts/mpu/create/a.bin?path=a.bin", 8 << 20],
  ];
  it.each(families)("refuses an oversized body on %s before any work", async (path, limit) => {
    const size = limit + 1024;
    const res = await call("POST", path, { mode, raw: `{"name":"${"x".repeat(size)}"}`, headers: json });
    if (path.startsWith("/api/v1")) {
      expect(res.status).toBe(413);
      expect(errorCode(res)).toBe("PAYLOAD_TOO_LARGE");
    } else {
      // MLflow clients know no 413: MLflow's own servers answer an oversized request INVALID_PARAMETER_VALUE.
      expect(res.status).toBe(400);
      expect(res.json.error_code).toBe("INVALID_PARAMETER_VALUE");
      expect(res.json.message).toMatch(/exceeds the limit/);
    }
  });
});

describe("DVC keys", () => {
  const bad = [
    "..%2F..%2Fblobs%2Fsha256",
    "%2e%2e/%2e%2e/x",
    "ab/..%2Fcdef0123456789abcdef0123456789",
    "%2Fetc%2Fpasswd",
    "ab/cdef0123456789abcdef012345678%00",
    "ab/cdef0123456789abcdef0123456789%00.dir",
    "ab/" + "c".repeat(5000),
    "AB/CDEF0123456789ABCDEF0123456789",
    "ab/cdef0123456789abcdef0123456789/extra",
    "ab\\cdef0123456789abcdef0123456789",
  ];
  it.each(bad)("refuses files/md5/%s with a 4xx and stores nothing", async (key) => {
    const get = await call("GET", `/dvc/files/md5/${key}`, { mode });
    expect(get.status).toBeGreaterThanOrEqual(400);
    expect(get.status).toBeLessThan(500);
    const put = await call("PUT", `/dvc/files/md5/${key}`, { mode, raw: "payload", headers: { "Content-Length": "7" } });
    expect(put.status).toBeGreaterThanOrEqual(400);
    expect(put.status).toBeLessThan(500);
    expect((await env.BLOBS.list()).objects).toHaveLength(0);
  });
});

describe("secrets in pipeline specs and run conf", () => {
  const SOURCE = `description: prices
tasks:
  fetch:
    kind: http
    url: http://127.0.0.1:9/prices
    headers:
      Authorization: "Bearer literal-secret-abc123"
      X-Api-Key: k-literal-999999
      X-Trace: visible-header
      X-Ref: "Bearer {{ secrets.PRICES_TOKEN }}"
  train:
    kind: agent
    queue: secure
    command: python train.py
    env: {DB_PASSWORD: "hunter2-hunter2", MODE: fast}
`;
  const leaks = ["literal-secret-abc123", "k-literal-999999", "hunter2-hunter2"];

  it("masks secret values in GET responses (spec and source) and keeps them for execution", async () => {
    const created = await api("POST", "/pipelines", { name: "with-secrets", spec: SOURCE });
    expect(created.status, created.text).toBe(201);
    const id = created.json.pipeline_id;
    const got = await api("GET", `/pipelines/${id}`);
    for (const leak of leaks) expect(got.text).not.toContain(leak);
    const p = got.json.pipeline;
    expect(p.spec.tasks.fetch.headers).toEqual({ Authorization: "***", "X-Api-Key": "***", "X-Trace": "visible-header", "X-Ref": "Bearer {{ secrets.PRICES_TOKEN }}" });
    expect(p.spec.tasks.train.env).toEqual({ DB_PASSWORD: "***", MODE: "fast" });
    expect(p.source).toContain('Authorization: "***"');
    expect(p.source).toContain("X-Trace: visible-header");
    expect(p.source).toContain('X-Ref: "Bearer {{ secrets.PRICES_TOKEN }}"');
    const version = await api("GET", `/pipelines/${id}/versions/1`);
    for (const leak of leaks) expect(version.text).not.toContain(leak);
    // Stored as given: the task needs its header when it runs.
    const stored = await env.DB.prepare("SELECT spec FROM pipeline_versions WHERE pipeline_id = ?").bind(id).first<{ spec: string }>();
    for (const leak of leaks) expect(stored!.spec).toContain(leak);
  });

  it("keeps the stored secrets when a spec is saved back with the mask (editing what GET showed)", async () => {
    const id = (await api("POST", "/pipelines", { name: "edit-secrets", spec: SOURCE })).json.pipeline_id;
    const shown = (await api("GET", `/pipelines/${id}`)).json.pipeline.source as string;
    const edited = shown.replace("description: prices", "description: prices, edited").replace("X-Trace: visible-header", "X-Trace: changed");
    expect((await api("PUT", `/pipelines/${id}`, { spec: edited })).status).toBe(200);
    const rows = await env.DB.prepare("SELECT spec FROM pipeline_versions WHERE pipeline_id = ? AND version = 2").bind(id).first<{ spec: string }>();
    const spec = JSON.parse(rows!.spec);
    expect(spec.description).toBe("prices, edited");
    expect(spec.tasks.fetch.headers).toMatchObject({ Authorization: "Bearer literal-secret-abc123", "X-Api-Key": "k-literal-999999", "X-Trace": "changed" });
    expect(spec.tasks.train.env.DB_PASSWORD).toBe("hunter2-hunter2");
    // A new value replaces the old one.
    const replaced = edited.replace('Authorization: "***"', 'Authorization: "Bearer rotated-secret-777"');
    expect((await api("PUT", `/pipelines/${id}`, { spec: replaced })).status).toBe(200);
    const v3 = await env.DB.prepare("SELECT spec FROM pipeline_versions WHERE pipeline_id = ? AND version = 3").bind(id).first<{ spec: string }>();
    expect(JSON.parse(v3!.spec).tasks.fetch.headers.Authorization).toBe("Bearer rotated-secret-777");
  });

  it("masks secret-looking conf keys of runs, at any depth", async () => {
    const id = (await api("POST", "/pipelines", { name: "conf-secrets", spec: { tasks: { a: { kind: "noop" } } } })).json.pipeline_id;
    const conf = { symbol: "SPY", api_key: "conf-secret-4242", nested: { access_token: "conf-token-4343", rows: 5 } };
    const runId = (await api("POST", `/pipelines/${id}/runs`, { conf })).json.run_id;
    const list = await api("GET", `/pipelines/${id}/runs`);
    const run = await api("GET", `/pipeline-runs/${runId}`);
    for (const res of [list, run]) {
      expect(res.text).not.toContain("conf-secret-4242");
      expect(res.text).not.toContain("conf-token-4343");
    }
    expect(run.json.conf).toEqual({ symbol: "SPY", api_key: "***", nested: { access_token: "***", rows: 5 } });
  });
});

describe("secrets in task logs", () => {
  it("masks Tern tokens, Authorization credentials and the task's secret env values before storing the log", async () => {
    const spec = { tasks: { train: { kind: "agent", queue: "logs", command: "python train.py", env: { HF_TOKEN: "hf-secret-value-xyz", EPOCHS: "3" } } } };
    const id = (await api("POST", "/pipelines", { name: "log-secrets", spec })).json.pipeline_id;
    const runId = (await api("POST", `/pipelines/${id}/runs`, {})).json.run_id;
    let claim: any = null;
    for (let i = 0; i < 100 && !claim; i++) {
      claim = (await api("POST", "/agents/claim", { queue: "logs", agent_id: "box" })).json.task;
      if (!claim) await new Promise((r) => setTimeout(r, 20));
    }
    // The agent itself gets the real value: the command needs it.
    expect(claim.env.HF_TOKEN).toBe("hf-secret-value-xyz");
    const tern = "tern_AbCdEfGhIjKl_0123456789abcdefghijABCDEFGHIJKL";
    const attempt = { run_id: runId, task_id: "train", try_number: 1, agent_id: "box" };
    const lines = [
      `TERN_TOKEN=${tern}\n`,
      "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA==' https://example.invalid\n",
      "auth header Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig sent\n",
      "loaded hf-secret-value-xyz for epoch 1 of 3\n",
    ];
    for (const text of lines) expect((await api("POST", "/agents/logs", { ...attempt, text })).status).toBe(200);
    const live = (await api("GET", `/pipeline-runs/${runId}/tasks/train/logs?try_number=1`)).json.text as string;
    expect((await api("POST", "/agents/complete", { ...attempt, exit_code: 0 })).status).toBe(200);
    const stored = await (await env.BLOBS.get(`runs/${runId}/train/1.log`))!.text();
    for (const text of [live, stored]) {
      expect(text).toBe(
        "TERN_TOKEN=tern_***\ncurl -H 'Authorization: Basic ***' https://example.invalid\nauth header Bearer *** sent\nloaded *** for epoch 1 of 3\n",
      );
    }
  });
});
