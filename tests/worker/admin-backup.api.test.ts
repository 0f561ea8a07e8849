/**
 * Backups through the admin API: an export of an instance with data in every pillar (tables page by
 * page, each study's and pipeline run's Durable Object, every R2 object) taken in read-only mode, then
 * the storage is wiped and the export imported back, and everything reads the same. Bad input and a
 * non-empty target are refused with 4xx, writing nothing.
 */
import { applyD1Migrations, createExecutionContext, createScheduledController, reset, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { ADMIN_TOKEN, call, createToken, errorCode } from "./helpers";

const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body });

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const res = await api(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

async function sha256(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function waitForRun(runId: string): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const run = await ok("GET", `/pipeline-runs/${runId}`);
    if (run.state === "success" || run.state === "failed") return run;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${runId} did not finish`);
}

/** An object's bytes as the export route streams them. */
async function download(key: string): Promise<Uint8Array> {
  const ctx = createExecutionContext();
  const req = new Request(`https://tern.test/api/v1/admin/export/object?key=${encodeURIComponent(key)}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const res = await worker.fetch(req, { ...env, AUTH_MODE: "token", TERN_ADMIN_TOKEN: ADMIN_TOKEN } as never, ctx);
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  await waitOnExecutionContext(ctx);
  expect(Number(res.headers.get("content-length"))).toBe(bytes.byteLength);
  return bytes;
}

interface Exported {
  exportId: string;
  tables: { name: string; columns: string[] }[];
  rows: Record<string, Record<string, unknown>[]>;
  studies: Record<string, any>;
  runs: Record<string, any>;
  objects: { info: any; bytes: Uint8Array; sha256: string }[];
}

/** What `tern export` does, over the API. */
async function exportAll(pageSize = 3): Promise<Exported> {
  const begin = await ok("POST", "/admin/export/begin");
  const rows: Exported["rows"] = {};
  for (const t of begin.tables) {
    rows[t.name] = [];
    let after: number | string = 0;
    for (;;) {
      const page = await ok("GET", `/admin/export/tables/${t.name}?after=${encodeURIComponent(after)}&limit=${pageSize}`);
      rows[t.name].push(...page.rows);
      if (page.next_after === null) break;
      after = page.next_after;
    }
  }
  const studies: Exported["studies"] = {};
  for (const s of rows.studies) studies[s.study_id as string] = await ok("GET", `/admin/export/studies/${s.study_id}`);
  const runs: Exported["runs"] = {};
  for (const r of rows.pipeline_runs) runs[r.run_id as string] = await ok("GET", `/admin/export/pipeline-runs/${r.run_id}`);
  const objects: Exported["objects"] = [];
  let cursor: string | null = null;
  do {
    const page: any = await ok("GET", `/admin/export/objects?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    for (const info of page.objects) {
      const bytes = await download(info.key);
      objects.push({ info, bytes, sha256: await sha256(bytes) });
    }
    cursor = page.cursor;
  } while (cursor);
  await ok("POST", "/admin/export/end", { export_id: begin.export_id });
  return { exportId: begin.export_id, tables: begin.tables, rows, studies, runs, objects };
}

const SPACE = { x: { type: "float", low: -5, high: 5 }, n: { type: "int", low: 1, high: 8 } };
/** Doubles that a text round trip must keep to the last bit. */
const VALUES = [0.1, 1 / 3, Math.PI * 1e-7, 2 ** -40, 123456789.12345679, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, 1e21, -0.30000000000000004];

const PART = 5 * 1024 * 1024;
const BIG = new Uint8Array(PART + 1234).map((_, i) => (i * 31) % 256);

/** Writes an object in R2 multipart parts through the import routes, completing with `sha`. */
async function importInParts(exportId: string, o: Exported["objects"][number], sha: string) {
  const started = await ok("POST", "/admin/import/uploads", { export_id: exportId, key: o.info.key, http_metadata: o.info.http_metadata, custom_metadata: o.info.custom_metadata });
  const parts = [];
  for (let n = 1, start = 0; start < o.bytes.byteLength; n++, start += PART) {
    const slice = o.bytes.slice(start, start + PART);
    const q = `key=${encodeURIComponent(o.info.key)}&export_id=${exportId}&upload_id=${encodeURIComponent(started.upload_id)}&part_number=${n}`;
    const res = await call("PUT", `/api/v1/admin/import/uploads/part?${q}`, { token: ADMIN_TOKEN, raw: slice, headers: { "Content-Type": "application/octet-stream", "Content-Length": String(slice.byteLength) } });
    expect(res.status, res.text).toBe(200);
    parts.push(res.json);
  }
  return api("POST", "/admin/import/uploads/complete", { export_id: exportId, key: o.info.key, upload_id: started.upload_id, sha256: sha, size: o.bytes.byteLength, parts });
}

let exported: Exported;
let runId: string;
let studyId: string;
let pipelineRunId: string;
let blobSha: string;

describe("backups through the admin API", () => {
  it("exports every table, each Durable Object and every object while the instance is read-only", async () => {
    const run = await ok("POST", "/runs", { experiment_name: "backup-exp", name: "r1", params: { alpha: 0.1 }, tags: { team: "a" } });
    runId = run.run.run_id;
    for (let step = 0; step < VALUES.length; step++) await ok("POST", `/runs/${runId}/log`, { step, metrics: { loss: VALUES[step], acc: step / 7 } });
    await ok("PATCH", `/runs/${runId}`, { status: "FINISHED" });
    const art = await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/1/${runId}/artifacts/notes.txt`, { token: ADMIN_TOKEN, raw: "the model is fine\n", headers: { "Content-Type": "text/plain" } });
    expect(art.status, art.text).toBe(200);
    // Larger than one part: imported in parts below.
    const big = await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/1/${runId}/artifacts/model.bin`, { token: ADMIN_TOKEN, raw: BIG, headers: { "Content-Type": "application/octet-stream" } });
    expect(big.status, big.text).toBe(200);
    const blob = new TextEncoder().encode("a,b\n1,2\n");
    blobSha = await sha256(blob);
    const put = await call("PUT", `/api/v1/blobs/${blobSha}`, { token: ADMIN_TOKEN, raw: blob, headers: { "Content-Type": "application/octet-stream", "Content-Length": String(blob.byteLength) } });
    expect(put.status, put.text).toBe(200);
    studyId = (await ok("POST", "/studies", { name: "backup-study", sampler: { type: "tpe", n_startup_trials: 3 } })).study_id;
    for (let i = 0; i < 5; i++) {
      const asked = await ok("POST", `/studies/${studyId}/ask`, { search_space: SPACE });
      await ok("POST", `/studies/${studyId}/trials/${asked.trial.number}/tell`, { value: (asked.trial.params.x as number) ** 2 });
    }
    const pipeline = await ok("POST", "/pipelines", { name: "backup-pipe", spec: { tasks: { a: { kind: "noop" }, b: { kind: "noop", depends_on: ["a"] } } } });
    pipelineRunId = (await ok("POST", `/pipelines/${pipeline.pipeline_id}/runs`, {})).run_id;
    expect((await waitForRun(pipelineRunId)).state).toBe("success");

    const begin = await api("POST", "/admin/export/begin");
    expect(begin.status).toBe(200);
    // Every schema table is in the catalog or excluded with a reason.
    expect(begin.json.excluded_tables.map((t: any) => t.name).sort()).toEqual(["blob_upload_parts", "blob_uploads", "system_state"]);
    for (const t of begin.json.excluded_tables) expect(t.reason.length).toBeGreaterThan(20);
    // Parents come before the tables that reference them.
    const order = begin.json.tables.map((t: any) => t.name);
    expect(order.indexOf("experiments")).toBeLessThan(order.indexOf("runs"));
    expect(order.indexOf("model_versions")).toBeLessThan(order.indexOf("model_version_tags"));
    // Read-only: writes answer 503 (native and MLflow alike), reads and read-only searches pass, cron waits.
    const refused = await api("POST", "/runs", { experiment_name: "backup-exp", name: "late" });
    expect(refused.status).toBe(503);
    expect(errorCode(refused)).toBe("TEMPORARILY_UNAVAILABLE");
    expect(refused.headers.get("retry-after")).toBe("60");
    expect((await call("POST", "/api/2.0/mlflow/runs/create", { token: ADMIN_TOKEN, body: { experiment_id: "1" } })).status).toBe(503);
    expect((await api("GET", `/runs/${runId}`)).status).toBe(200);
    expect((await api("POST", "/runs/search", { experiment_ids: [String(run.run.experiment_id)] })).status).toBe(200);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), { ...env, AUTH_MODE: "token" } as never, ctx);
    await waitOnExecutionContext(ctx);
    expect(await env.DB.prepare("SELECT value FROM system_state WHERE key = 'scheduler.last_tick'").first()).toBeNull();
    // A second export cannot start meanwhile.
    const second = await api("POST", "/admin/export/begin");
    expect(second.status).toBe(409);
    expect(second.json.error.message).toContain("in progress");
    expect((await ok("GET", "/admin/maintenance")).maintenance).toMatchObject({ kind: "export", id: begin.json.export_id });
    await ok("POST", "/admin/export/end", { export_id: begin.json.export_id });
    expect((await ok("GET", "/admin/maintenance")).maintenance).toBeNull();

    exported = await exportAll();
    expect(exported.rows.runs.map((r) => r.run_uuid)).toEqual([runId]);
    expect(exported.rows.metrics.filter((m) => m.key === "loss").map((m) => m.value)).toEqual(VALUES.map((v) => (Object.is(v, -0) ? 0 : v)));
    // metrics is WITHOUT ROWID: its pages follow the primary key, and they hold every point once.
    const pk = (m: Record<string, unknown>) => [m.run_uuid, m.key, m.step, m.timestamp, m.value, m.is_nan];
    const sorted = [...exported.rows.metrics].sort((a, b) => {
      for (const [x, y] of pk(a).map((v, i) => [v, pk(b)[i]] as const)) if (x !== y) return (x as number | string) < (y as number | string) ? -1 : 1;
      return 0;
    });
    expect(exported.rows.metrics).toEqual(sorted);
    expect(exported.rows.metrics).toHaveLength(2 * VALUES.length);
    expect(Object.keys(exported.studies)).toEqual([studyId]);
    expect(exported.studies[studyId].tables.trials.rows).toHaveLength(5);
    expect(exported.runs[pipelineRunId].tables.run.rows).toHaveLength(1);
    expect(exported.objects.map((o) => o.info.key).sort()).toEqual([`mlflow-artifacts/1/${runId}/artifacts/model.bin`, `mlflow-artifacts/1/${runId}/artifacts/notes.txt`, `blobs/sha256/${blobSha.slice(0, 2)}/${blobSha.slice(2)}`].sort());
    expect(exported.objects.find((o) => o.info.key.startsWith("blobs/"))!.sha256).toBe(blobSha);
    // Writes are back.
    expect((await api("POST", `/runs/${runId}/log`, { step: 99, metrics: { late: 1 } })).status).toBe(200);
  }, 60_000);

  it("answers bad requests with 4xx and refuses to import into an instance that holds data", async () => {
    expect((await api("GET", "/admin/export/tables/system_state")).status).toBe(404);
    expect((await api("GET", "/admin/export/tables/system_state")).json.error.message).toContain("not exported");
    expect((await api("GET", "/admin/export/tables/nope")).status).toBe(404);
    expect((await api("GET", "/admin/export/tables/runs?limit=0")).status).toBe(400);
    expect((await api("GET", "/admin/export/tables/runs?after=-1")).status).toBe(400);
    expect((await api("GET", `/admin/export/tables/runs?after=${encodeURIComponent('["a"]')}`)).status).toBe(400);
    for (const after of ["x", "[1]", '["r","k",1,2,3,null]', "[]"]) {
      const page = await api("GET", `/admin/export/tables/metrics?after=${encodeURIComponent(after)}`);
      expect(page.status, after).toBe(400);
      expect(page.json.error.message, after).toContain("run_uuid, key, step, timestamp, value, is_nan");
    }
    const firstPage = await ok("GET", "/admin/export/tables/metrics?limit=1");
    const secondPage = await ok("GET", `/admin/export/tables/metrics?limit=1&after=${encodeURIComponent(firstPage.next_after)}`);
    expect(JSON.parse(firstPage.next_after)).toEqual(Object.values(firstPage.rows[0]));
    expect(secondPage.rows).toEqual(exported.rows.metrics.slice(1, 2));
    expect((await api("GET", "/admin/export/studies/not-hex")).status).toBe(400);
    expect((await api("GET", `/admin/export/studies/${"0".repeat(32)}`)).status).toBe(404);
    expect((await api("GET", "/admin/export/object?key=missing")).status).toBe(404);
    const catalog = exported.tables;
    const bad = await api("POST", "/admin/import/begin", { export_id: exported.exportId, format_version: 2, tables: catalog });
    expect(bad.status).toBe(400);
    const unknownTable = await api("POST", "/admin/import/begin", { export_id: exported.exportId, format_version: 1, tables: [{ name: "nope", columns: [] }] });
    expect(unknownTable.status).toBe(400);
    const full = await api("POST", "/admin/import/begin", { export_id: exported.exportId, format_version: 1, tables: catalog });
    expect(full.status).toBe(409);
    expect(errorCode(full)).toBe("INVALID_STATE");
    expect(full.json.error.message).toMatch(/needs an empty Tern.*runs: 1 row.*R2 holds objects/);
    expect((await ok("GET", "/admin/maintenance")).maintenance).toBeNull();
    const notStarted = await api("POST", "/admin/import/tables/runs", { export_id: exported.exportId, offset: 0, rows: [{ run_uuid: "x" }] });
    expect(notStarted.status).toBe(409);
    // A read token and a write token are refused the admin routes.
    const { secret } = await createToken(["read", "write"], "not-admin");
    expect((await call("POST", "/api/v1/admin/export/begin", { token: secret })).status).toBe(403);
  });

  it("imports the export into a wiped instance: the same rows, objects, studies and runs", async () => {
    await reset();
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    const { exportId, tables, rows } = exported;
    const begin = await ok("POST", "/admin/import/begin", { export_id: exportId, format_version: 1, tables });
    expect(begin).toEqual({ resumed: false, progress: {} });
    expect((await api("POST", "/runs", { experiment_name: "x" })).status).toBe(503);

    // A chunk that names an unknown column or lacks one writes nothing.
    const badRow = await api("POST", "/admin/import/tables/experiments", { export_id: exportId, offset: 0, rows: [{ ...rows.experiments[0], extra: 1 }] });
    expect(badRow.status).toBe(400);
    expect(badRow.json.error.message).toContain("no column extra");
    const { name: _dropped, ...missing } = rows.experiments[0];
    expect((await api("POST", "/admin/import/tables/experiments", { export_id: exportId, offset: 0, rows: [missing] })).status).toBe(400);
    // A child before its parent breaks the foreign key: refused whole.
    const orphan = await api("POST", "/admin/import/tables/runs", { export_id: exportId, offset: 0, rows: rows.runs });
    expect(orphan.status).toBe(400);
    expect(orphan.json.error.message).toContain("nothing of it was written");

    for (const t of tables) {
      const all = rows[t.name];
      for (let offset = 0; offset < all.length; offset += 4) {
        await ok("POST", `/admin/import/tables/${t.name}`, { export_id: exportId, offset, rows: all.slice(offset, offset + 4) });
      }
    }
    // A replayed chunk is refused by its offset.
    const replay = await api("POST", "/admin/import/tables/metrics", { export_id: exportId, offset: 0, rows: rows.metrics.slice(0, 4) });
    expect(replay.status).toBe(409);
    expect(replay.json.error.message).toContain(`next chunk starts at offset ${rows.metrics.length}`);
    // Resuming reports how far each table got.
    const resumed = await ok("POST", "/admin/import/begin", { export_id: exportId, format_version: 1, tables });
    expect(resumed.resumed).toBe(true);
    expect(resumed.progress.metrics).toBe(rows.metrics.length);

    // Durable Objects: a malformed dump is refused and leaves the object empty; the real one restores once.
    const broken = { format: 1, tables: { trials: { columns: ["number", "nope"], rows: [[0, 1]] } }, alarm: null };
    const refusedDump = await api("POST", `/admin/import/studies/${studyId}`, { export_id: exportId, dump: broken });
    expect(refusedDump.status).toBe(400);
    expect(refusedDump.json.error.message).toContain("no column 'nope'");
    expect(await ok("POST", `/admin/import/studies/${studyId}`, { export_id: exportId, dump: exported.studies[studyId] })).toEqual({ status: "restored" });
    expect(await ok("POST", `/admin/import/studies/${studyId}`, { export_id: exportId, dump: exported.studies[studyId] })).toEqual({ status: "present" });
    expect(await ok("POST", `/admin/import/pipeline-runs/${pipelineRunId}`, { export_id: exportId, dump: exported.runs[pipelineRunId] })).toEqual({ status: "restored" });

    // Objects: bytes that do not hash to the declared sha256 are not stored, whole or in parts.
    for (const o of exported.objects) {
      if (o.bytes.byteLength > PART) {
        const wrong = await importInParts(exportId, o, "0".repeat(64));
        expect(wrong.status).toBe(400);
        expect(wrong.json.error.message).toContain("nothing was kept");
        expect(await env.BLOBS.head(o.info.key)).toBeNull();
        expect((await importInParts(exportId, o, o.sha256)).status).toBe(200);
        continue;
      }
      const path = `/api/v1/admin/import/object?key=${encodeURIComponent(o.info.key)}&export_id=${exportId}`;
      const headers = { "Content-Type": "application/octet-stream", "Content-Length": String(o.bytes.byteLength), "X-Tern-Http-Metadata": JSON.stringify(o.info.http_metadata), "X-Tern-Custom-Metadata": JSON.stringify(o.info.custom_metadata) };
      const wrong = await call("PUT", path, { token: ADMIN_TOKEN, raw: o.bytes, headers: { ...headers, "X-Tern-Sha256": "0".repeat(64) } });
      expect(wrong.status).toBe(400);
      expect(await env.BLOBS.head(o.info.key)).toBeNull();
      const right = await call("PUT", path, { token: ADMIN_TOKEN, raw: o.bytes, headers: { ...headers, "X-Tern-Sha256": o.sha256 } });
      expect(right.status, right.text).toBe(200);
    }
    const counts = Object.fromEntries(tables.map((t) => [t.name, rows[t.name].length]));
    const short = await api("POST", "/admin/import/finish", { export_id: exportId, tables: { ...counts, metrics: counts.metrics + 1 } });
    expect(short.status).toBe(409);
    expect(short.json.error.message).toContain("metrics");
    expect((await ok("POST", "/admin/import/finish", { export_id: exportId, tables: counts })).tables).toEqual(counts);

    // Everything reads the same: tables, objects and both kinds of Durable Object.
    const again = await exportAll(1000);
    for (const t of tables) expect(again.rows[t.name], t.name).toEqual(rows[t.name]);
    expect(again.objects.map((o) => [o.info.key, o.sha256, o.info.http_metadata])).toEqual(exported.objects.map((o) => [o.info.key, o.sha256, o.info.http_metadata]));
    expect(again.studies[studyId].tables).toEqual(exported.studies[studyId].tables);
    expect(again.runs[pipelineRunId].tables).toEqual(exported.runs[pipelineRunId].tables);
    const run = await ok("GET", `/pipeline-runs/${pipelineRunId}`);
    expect(run.state).toBe("success");
    expect(run.tasks.map((t: any) => [t.task_id, t.state, t.attempts.length])).toEqual([["a", "success", 1], ["b", "success", 1]]);
    // The study goes on where it was: the next trial is number 5.
    const asked = await ok("POST", `/studies/${studyId}/ask`, { search_space: SPACE });
    expect(asked.trial.number).toBe(5);
    const history = await ok("GET", `/runs/${runId}`);
    expect(history.run.run_id).toBe(runId);
    expect(history.run.params ?? history.run.data?.params).toBeDefined();
  }, 60_000);
});
