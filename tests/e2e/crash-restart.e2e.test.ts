/**
 * Crash and restart: one real `wrangler dev` on a persisted state directory is killed (SIGKILL to its
 * whole process group, no clean shutdown) while several kinds of writes are in flight at once, then
 * started again on the same state:
 * - clients streaming full 1000-point metric batches (MLflow log-batch, and the native log route with
 *   idempotency keys) into runs,
 * - a dataset multipart upload and an MLflow artifact multipart upload with some parts acknowledged,
 * - two tuning studies with concurrent ask/tell workers, one of them with heartbeats and workers holding
 *   RUNNING trials alive by them.
 * After the restart every acknowledged write is there exactly once, nothing half-done is visible (a batch
 * is all there or not at all, an incomplete upload is nowhere to be read), interrupted work can be
 * resumed or retried without duplicates, trials whose workers died fail by heartbeat through the study's
 * alarm, and the D1 listing of both studies catches up with their own trials with nobody touching them.
 * The figures (faults injected, acknowledged records checked, records lost) are printed at the end.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DevServer, freePort, quiet, READY_WITHIN_MS, root, wrangler } from "./dev-process";

const MiB = 1024 * 1024;
const BATCH = 1000;
/** Acknowledged batches every metric client has before the kill: the kill lands mid-stream. */
const ACKED_BATCHES_BEFORE_KILL = 3;
const TELLS_BEFORE_KILL = 12;
const HEARTBEAT_INTERVAL_S = 1;
/** Long enough that a quick restart finds the orphaned trials still RUNNING. */
const GRACE_PERIOD_S = 45;

const figures = { faultsInjected: 0, inFlightAtKill: 0, inFlightLanded: 0, acknowledgedChecked: 0, lost: 0 };

let dev: DevServer;
let state: string;

// --- HTTP --------------------------------------------------------------------------------------

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${dev.url}${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const res = await call(method, path, body);
  if (res.status !== 200 && res.status !== 201) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

async function putBytes(path: string, data: Uint8Array): Promise<Response> {
  return fetch(`${dev.url}${path}`, { method: "PUT", headers: { "Content-Type": "application/octet-stream", "Content-Length": String(data.length) }, body: new Blob([new Uint8Array(data)]) });
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** A request cut off by the kill fails with a TypeError (fetch failed, or the body was terminated). */
function killedOnly(err: unknown): void {
  if (!(err instanceof TypeError)) throw err;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// --- (a) metric batches --------------------------------------------------------------------------

interface Batch {
  runId: string;
  via: "mlflow" | "native";
  /** Steps from .. from + BATCH - 1, used by this batch only. */
  from: number;
  body: unknown;
  acked: boolean;
}

const METRIC = "loss";
const valueAt = (step: number) => ((step * 7919) % 1009) / 8 - 60;
const batches: Batch[] = [];
const nextBatchOf = new Map<string, number>();
const logRuns: string[] = [];

function newBatch(runId: string, via: Batch["via"]): Batch {
  const index = nextBatchOf.get(runId) ?? 0;
  nextBatchOf.set(runId, index + 1);
  const from = index * BATCH;
  const steps = Array.from({ length: BATCH }, (_, i) => from + i);
  const body =
    via === "mlflow"
      ? { run_id: runId, metrics: steps.map((s) => ({ key: METRIC, value: valueAt(s), timestamp: 1_700_000_000_000 + s, step: s })) }
      : // No timestamps: the server stamps the points, so only the idempotency key stops a retry from adding them twice.
        { metrics: steps.map((s) => ({ key: METRIC, value: valueAt(s), step: s })), idempotency_key: `batch-${runId}-${index}` };
  const batch = { runId, via, from, body, acked: false };
  batches.push(batch);
  return batch;
}

async function sendBatch(b: Batch): Promise<{ status: number; json: any }> {
  return b.via === "mlflow" ? call("POST", "/api/2.0/mlflow/runs/log-batch", b.body) : call("POST", `/api/v1/runs/${b.runId}/log`, b.body);
}

/** Streams batches until the runtime goes away; a batch counts as acknowledged only on a 200. */
async function metricClient(runId: string, via: Batch["via"], acked: { n: number }): Promise<void> {
  for (;;) {
    const b = newBatch(runId, via);
    let res;
    try {
      res = await sendBatch(b);
    } catch (err) {
      killedOnly(err);
      return;
    }
    if (res.status !== 200) throw new Error(`batch ${via} ${b.from} of ${runId}: ${res.status} ${JSON.stringify(res.json)}`);
    b.acked = true;
    acked.n++;
  }
}

async function history(runId: string): Promise<{ step: number; value: number; timestamp: number }[]> {
  const out: { step: number; value: number; timestamp: number }[] = [];
  let token: string | undefined;
  do {
    const q = new URLSearchParams({ run_id: runId, metric_key: METRIC, max_results: "25000", ...(token ? { page_token: token } : {}) });
    const page = await ok("GET", `/api/2.0/mlflow/metrics/get-history?${q}`);
    out.push(...(page.metrics ?? []));
    token = page.next_page_token;
  } while (token);
  return out;
}

/**
 * Every acknowledged batch is there, each point once with its value; every other batch is all there or
 * not at all; no point belongs to no batch. Returns the batches found present.
 */
async function checkBatches(runId: string, count: boolean): Promise<Set<Batch>> {
  const points = await history(runId);
  const byStep = new Map<number, { value: number }[]>();
  for (const p of points) byStep.set(p.step, [...(byStep.get(p.step) ?? []), p]);
  const present = new Set<Batch>();
  let accounted = 0;
  for (const b of batches.filter((x) => x.runId === runId)) {
    let found = 0;
    for (let s = b.from; s < b.from + BATCH; s++) {
      const at = byStep.get(s) ?? [];
      expect(at.length, `step ${s} of a ${b.via} batch`).toBeLessThanOrEqual(1);
      if (at.length === 1) {
        expect(at[0].value).toBe(valueAt(s));
        found++;
      }
    }
    if (b.acked) {
      if (count) {
        figures.acknowledgedChecked += BATCH;
        figures.lost += BATCH - found;
      }
      expect(found, `acknowledged ${b.via} batch at step ${b.from}`).toBe(BATCH);
    } else {
      expect([0, BATCH], `unacknowledged ${b.via} batch at step ${b.from} is all or nothing`).toContain(found);
    }
    if (found) present.add(b);
    accounted += found;
  }
  expect(points.length, "points that belong to no batch").toBe(accounted);
  await checkDownsampled(runId, points);
  return present;
}

/** The downsampled reads (rollups for whole series, raw points for a range) agree with the raw points. */
async function checkDownsampled(runId: string, points: { step: number; value: number }[]): Promise<void> {
  const sorted = [...points].sort((a, b) => a.step - b.step);
  const min = sorted[0].step;
  const max = sorted[sorted.length - 1].step;
  // Whole series at a coarse and a finer budget read the two rollup levels; a step range reads the points.
  const queries: Record<string, string>[] = [{ points: "8" }, { points: "100" }, { points: "100", from: String(min), to: String(max) }];
  for (const query of queries) {
    const q = new URLSearchParams({ run_ids: runId, keys: METRIC, ...query });
    const { series } = await ok("GET", `/api/v1/metrics/downsample?${q}`);
    expect(series).toHaveLength(1);
    const s = series[0];
    expect(s.total, JSON.stringify(query)).toBe(points.length);
    let counted = 0;
    for (let i = 0; i < s.count.length; i++) {
      const inBucket = sorted.filter((p) => p.step >= s.x0[i] && p.step <= s.x1[i]);
      const values = inBucket.map((p) => p.value);
      expect({ count: s.count[i], min: s.min[i], max: s.max[i], last_x: s.last_x[i], last: s.last[i] }, `bucket ${i} of ${JSON.stringify(query)}`).toEqual({
        count: inBucket.length,
        min: Math.min(...values),
        max: Math.max(...values),
        last_x: inBucket[inBucket.length - 1].step,
        last: inBucket[inBucket.length - 1].value,
      });
      counted += inBucket.length;
    }
    expect(counted).toBe(points.length);
  }
}

// --- (b) multipart uploads ---------------------------------------------------------------------

const datasetFile = randomBytes(11 * MiB + 123);
const datasetPartSize = 5 * MiB;
const datasetPart = (n: number) => datasetFile.subarray((n - 1) * datasetPartSize, Math.min(n * datasetPartSize, datasetFile.length));
const dataset = { uploadId: "", acked: [] as number[], inFlight: null as Promise<unknown> | null };

const artifactFile = randomBytes(11 * MiB);
const artifactDir = `crash-restart/${Date.now()}`;
const ARTIFACT_NAME = "model.bin";
const artifactPart = (n: number) => artifactFile.subarray((n - 1) * 5 * MiB, Math.min(n * 5 * MiB, artifactFile.length));
const artifact = { uploadId: "", credentials: [] as { url: string; part_number: number }[], etags: new Map<number, string>(), inFlight: null as Promise<unknown> | null };

async function putDatasetPart(n: number): Promise<void> {
  const res = await putBytes(`/api/v1/blobs/uploads/${dataset.uploadId}/parts/${n}`, datasetPart(n));
  const json = await res.json();
  if (res.status !== 200) throw new Error(`dataset part ${n}: ${res.status} ${JSON.stringify(json)}`);
  expect(json.sha256).toBe(sha256(datasetPart(n)));
  dataset.acked.push(n);
}

async function putArtifactPart(n: number): Promise<void> {
  const credential = artifact.credentials[n - 1];
  const url = new URL(credential.url);
  const res = await putBytes(url.pathname + url.search, artifactPart(n));
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`artifact part ${n}: ${res.status}`);
  artifact.etags.set(n, res.headers.get("etag")!);
}

const artifactUrl = `/api/2.0/mlflow-artifacts/artifacts/${artifactDir}/${ARTIFACT_NAME}`;

// --- (c) studies ----------------------------------------------------------------------------------

interface Study {
  id: string;
  name: string;
  asked: Set<number>;
  /** Acknowledged tells: trial number -> value. */
  told: Map<number, number>;
  /** Trials kept alive by heartbeat until the kill. */
  held: Set<number>;
  /** Called as soon as a tell is acknowledged. */
  onTold: (() => void) | null;
}

const newStudy = (name: string): Study => ({ id: "", name: `${name}-${Date.now()}`, asked: new Set(), told: new Map(), held: new Set(), onTold: null });
/** With heartbeats: its orphaned trials must fail through its alarm. */
const watched = newStudy("crash-restart-heartbeat");
/** Without heartbeats: nothing but its own writes may bring its D1 summary up to date. */
const plain = newStudy("crash-restart-plain");
const objective = (x: number) => (x - 1) ** 2;
const searchSpace = { search_space: { x: { type: "float", low: -5, high: 5 } } };

/** Ask and tell in a loop until the runtime goes away. */
async function studyWorker(study: Study): Promise<void> {
  for (;;) {
    let number: number;
    let value: number;
    try {
      const asked = await call("POST", `/api/v1/studies/${study.id}/ask`, searchSpace);
      if (asked.status !== 200) throw new Error(`ask: ${asked.status} ${JSON.stringify(asked.json)}`);
      number = asked.json.trial_number;
      study.asked.add(number);
      value = objective(asked.json.params.x);
      const told = await call("POST", `/api/v1/studies/${study.id}/trials/${number}/tell`, { value });
      if (told.status !== 200) throw new Error(`tell ${number}: ${told.status} ${JSON.stringify(told.json)}`);
    } catch (err) {
      killedOnly(err);
      return;
    }
    study.told.set(number, value);
    study.onTold?.();
  }
}

/** Asks one trial and keeps it alive by heartbeat until the runtime goes away. */
async function heldTrialWorker(study: Study): Promise<void> {
  try {
    const asked = await ok("POST", `/api/v1/studies/${study.id}/ask`, searchSpace);
    study.asked.add(asked.trial_number);
    study.held.add(asked.trial_number);
    for (;;) {
      await new Promise((r) => setTimeout(r, (HEARTBEAT_INTERVAL_S * 1000) / 2));
      await ok("POST", `/api/v1/studies/${study.id}/trials/${asked.trial_number}/heartbeat`);
    }
  } catch (err) {
    killedOnly(err);
  }
}

/** The study as the D1 listing has it (this does not wake the study's Durable Object). */
async function listedStudy(study: Study): Promise<any> {
  const { studies } = await ok("GET", `/api/v1/studies?${new URLSearchParams({ filter: `name = '${study.name}'` })}`);
  expect(studies).toHaveLength(1);
  return studies[0];
}

async function studyTrials(study: Study): Promise<any[]> {
  return (await ok("GET", `/api/v1/studies/${study.id}/trials?max_results=10000`)).trials;
}

const stateCounts = (trials: any[]) => trials.reduce((c, t) => ({ ...c, [t.state]: c[t.state] + 1 }), { RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0, WAITING: 0 });

/** Trial numbers are 0..n-1, every acknowledged ask is a trial, every acknowledged tell is there with its value. */
function checkAcknowledged(study: Study, trials: any[]): void {
  expect(trials.map((t) => t.number)).toEqual(trials.map((_, i) => i));
  for (const n of study.asked) {
    figures.acknowledgedChecked++;
    if (!trials[n]) figures.lost++;
    expect(trials[n], `acknowledged ask ${n}`).toBeDefined();
  }
  for (const [n, value] of study.told) {
    figures.acknowledgedChecked++;
    const t = trials[n];
    if (t.state !== "COMPLETE" || t.values?.[0] !== value) figures.lost++;
    expect({ state: t.state, values: t.values }, `acknowledged tell of trial ${n}`).toEqual({ state: "COMPLETE", values: [value] });
  }
}

// --- one crash with everything in flight ----------------------------------------------------------

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), "tern-crash-"));
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env: quiet, encoding: "utf8" });
  if (migrate.status !== 0) throw new Error(`applying migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  dev = new DevServer(state, await freePort());
  await dev.start();

  // Set-up, acknowledged before any load starts.
  for (const name of ["mlflow-writers", "native-writers"]) {
    const { run } = await ok("POST", "/api/v1/runs", { experiment_name: "crash-restart", name });
    logRuns.push(run.run_id);
  }
  watched.id = (await ok("POST", "/api/v1/studies", { name: watched.name, sampler: { type: "random" }, heartbeat_interval: HEARTBEAT_INTERVAL_S, grace_period: GRACE_PERIOD_S })).study_id;
  plain.id = (await ok("POST", "/api/v1/studies", { name: plain.name, sampler: { type: "random" } })).study_id;
  const upload = await ok("POST", "/api/v1/blobs/uploads", { sha256: sha256(datasetFile), size: datasetFile.length, part_size: datasetPartSize });
  dataset.uploadId = upload.upload_id;
  expect(upload.part_count).toBe(3);
  const mpu = await ok("POST", `/api/2.0/mlflow-artifacts/mpu/create/${artifactDir}`, { path: ARTIFACT_NAME, num_parts: 3 });
  artifact.uploadId = mpu.upload_id;
  artifact.credentials = mpu.credentials;

  // Everything at once: two MLflow writers on one run, two native writers on the other, three workers
  // and two held trials on one study, two workers on another, and the two uploads.
  const acked = Array.from({ length: 4 }, () => ({ n: 0 }));
  const load = [
    metricClient(logRuns[0], "mlflow", acked[0]),
    metricClient(logRuns[0], "mlflow", acked[1]),
    metricClient(logRuns[1], "native", acked[2]),
    metricClient(logRuns[1], "native", acked[3]),
    ...Array.from({ length: 3 }, () => studyWorker(watched)),
    heldTrialWorker(watched),
    heldTrialWorker(watched),
    ...Array.from({ length: 2 }, () => studyWorker(plain)),
    (async () => {
      await putDatasetPart(1);
      await putDatasetPart(2);
    })(),
    (async () => {
      await putArtifactPart(1);
      await putArtifactPart(2);
    })(),
  ];
  const failed = Promise.all(load).then(() => new Error("a load ended before the kill"));
  const ready = until(
    "load under way",
    async () => acked.every((a) => a.n >= ACKED_BATCHES_BEFORE_KILL) && watched.told.size >= TELLS_BEFORE_KILL && plain.told.size >= TELLS_BEFORE_KILL && watched.held.size === 2 && dataset.acked.length === 2 && artifact.etags.size === 2,
    300_000,
  );
  const outcome = await Promise.race([ready.then(() => null), failed]);
  if (outcome) throw outcome;
  // The kill follows an acknowledged tell at once, while the study's D1 summary may still be on its way.
  await new Promise<void>((resolve) => (plain.onTold = resolve));
  // The last parts go out as the runtime dies: whether they land is up to the crash.
  dataset.inFlight = putDatasetPart(3).catch(killedOnly);
  artifact.inFlight = putArtifactPart(3).catch(killedOnly);

  await dev.kill("SIGKILL");
  figures.faultsInjected++;
  const killedAt = Date.now();
  // Every client notices the runtime is gone; none may have failed for any other reason.
  const settled = await Promise.allSettled([...load, dataset.inFlight, artifact.inFlight]);
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected").map((s) => s.reason);
  if (errors.length) throw errors[0];
  figures.inFlightAtKill = batches.filter((b) => !b.acked).length;

  await dev.start();
  console.log(`runtime back ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
}, 2 * READY_WITHIN_MS + 420_000);

afterAll(async () => {
  await dev?.kill("SIGTERM");
  if (state) rmSync(state, { recursive: true, force: true });
  console.log(
    `crash and restart: ${figures.faultsInjected} fault(s) injected (SIGKILL of the runtime), ${figures.inFlightAtKill} metric batch(es) in flight at the kill ` +
      `(${figures.inFlightLanded} landed whole, the rest not at all), ` +
      `${figures.acknowledgedChecked} acknowledged record(s) checked, ${figures.lost} lost`,
  );
});

describe("after the runtime is killed mid-write and started again", () => {
  it("keeps every acknowledged metric batch once, shows no half batch, agrees in the rollups, and takes retries without duplicates", async () => {
    const presentBefore = new Set<Batch>();
    for (const runId of logRuns) for (const b of await checkBatches(runId, true)) presentBefore.add(b);

    // Clients retry what they never saw acknowledged; native retries carry the same idempotency key.
    const unacked = batches.filter((b) => !b.acked);
    figures.inFlightLanded = unacked.filter((b) => presentBefore.has(b)).length;
    for (const b of unacked) {
      const res = await sendBatch(b);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      // A batch that landed with its key is replayed, not written again.
      if (b.via === "native") expect(res.json.replayed).toBe(presentBefore.has(b));
      b.acked = true;
    }
    // An acknowledged batch sent again by a confused client is a no-op too.
    const native = batches.find((b) => b.via === "native" && presentBefore.has(b))!;
    expect((await sendBatch(native)).json).toMatchObject({ replayed: true, logged: { metrics: 0 } });

    for (const runId of logRuns) {
      const present = await checkBatches(runId, false);
      expect(present.size).toBe(batches.filter((b) => b.runId === runId).length);
    }
    expect(figures.lost).toBe(0);
  }, 300_000);

  it("shows no incomplete upload, and resumes both multipart uploads to objects with the right sha256", async () => {
    // The dataset upload: the file is nowhere to be found, the acknowledged parts are listed.
    const hash = sha256(datasetFile);
    expect((await ok("POST", "/api/v1/blobs/missing", { sha256: [hash] })).missing).toEqual([hash]);
    await ok("POST", "/api/v1/datasets", { name: "crash-restart-data" });
    const early = await call("POST", "/api/v1/datasets/crash-restart-data/versions", { sha256: hash, file_name: "big.bin" });
    expect(early.status, JSON.stringify(early.json)).toBe(400);
    const upload = await ok("GET", `/api/v1/blobs/uploads/${dataset.uploadId}`);
    const listed = new Map<number, string>(upload.parts.map((p: any) => [p.part_number, p.sha256]));
    for (const n of [1, 2]) {
      figures.acknowledgedChecked++;
      if (listed.get(n) !== sha256(datasetPart(n))) figures.lost++;
      expect(listed.get(n), `acknowledged dataset part ${n}`).toBe(sha256(datasetPart(n)));
    }
    for (let n = 1; n <= 3; n++) if (!listed.has(n)) await putDatasetPart(n);
    const done = await ok("POST", `/api/v1/blobs/uploads/${dataset.uploadId}/complete`);
    expect(done).toMatchObject({ sha256: hash, size: datasetFile.length });
    const version = await ok("POST", "/api/v1/datasets/crash-restart-data/versions", { sha256: hash, file_name: "big.bin" });
    const download = await fetch(`${dev.url}/api/v1/datasets/crash-restart-data/versions/${version.version.version}/download`);
    expect(download.status).toBe(200);
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(hash);

    // The artifact upload: not readable, not listed; the parts acknowledged before the kill complete it.
    expect((await fetch(`${dev.url}${artifactUrl}`)).status).toBe(404);
    const before = await ok("GET", `/api/2.0/mlflow-artifacts/artifacts?${new URLSearchParams({ path: artifactDir })}`);
    expect(before.files ?? []).toEqual([]);
    if (!artifact.etags.has(3)) await putArtifactPart(3);
    figures.acknowledgedChecked += 2;
    const parts = [...artifact.etags].sort(([a], [b]) => a - b).map(([part_number, etag]) => ({ part_number, etag }));
    await ok("POST", `/api/2.0/mlflow-artifacts/mpu/complete/${artifactDir}`, { path: ARTIFACT_NAME, upload_id: artifact.uploadId, parts });
    const got = await fetch(`${dev.url}${artifactUrl}`);
    expect(got.status).toBe(200);
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(artifactFile));
    const after = await ok("GET", `/api/2.0/mlflow-artifacts/artifacts?${new URLSearchParams({ path: artifactDir })}`);
    expect(after.files).toEqual([{ path: ARTIFACT_NAME, is_dir: false, file_size: artifactFile.length }]);
  }, 300_000);

  it("keeps every acknowledged tell, fails the orphaned RUNNING trials by heartbeat through the alarm, never reuses a trial number, and D1 agrees", async () => {
    // Reading trials changes nothing: what the study held at the kill, less what its alarm has failed since.
    const first = await studyTrials(watched);
    checkAcknowledged(watched, first);
    for (const n of watched.held) {
      expect(["RUNNING", "FAIL"]).toContain(first[n].state);
      // Failed only by the stale rule: after the grace period since its last heartbeat.
      if (first[n].state === "FAIL") expect(first[n].complete_time - first[n].last_heartbeat_time).toBeGreaterThan(GRACE_PERIOD_S * 1000);
    }
    const orphans = first.filter((t) => t.state === "RUNNING").map((t) => t.number);
    console.log(`study: ${first.length} trials after the restart, ${orphans.length} still RUNNING (held alive by heartbeat until the kill: ${orphans.filter((n) => watched.held.has(n)).length})`);

    // Nobody touches the study: its alarm fails every orphaned trial and brings D1's listing along.
    const settled = await until(
      "orphaned trials failed by heartbeat",
      async () => {
        const s = await listedStudy(watched);
        return s.state_counts.RUNNING === 0 ? s : null;
      },
      GRACE_PERIOD_S * 1000 + 180_000,
    );
    const trials = await studyTrials(watched);
    for (const n of [...orphans, ...watched.held]) expect(trials[n].state, `orphaned trial ${n}`).toBe("FAIL");
    expect({ n: settled.n_trials, counts: settled.state_counts }).toEqual({ n: trials.length, counts: stateCounts(trials) });

    // Workers carry on: new trials get new numbers.
    const before = trials.length;
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        for (let i = 0; i < 3; i++) {
          const asked = await ok("POST", `/api/v1/studies/${watched.id}/ask`, searchSpace);
          expect(asked.trial_number).toBeGreaterThanOrEqual(before);
          await ok("POST", `/api/v1/studies/${watched.id}/trials/${asked.trial_number}/tell`, { value: objective(asked.params.x) });
        }
      }),
    );
    const final = await studyTrials(watched);
    expect(final.map((t) => t.number)).toEqual(final.map((_, i) => i));
    expect(final).toHaveLength(before + 9);
    // The listing follows a busy study within a quarter of a second (mirrors are coalesced).
    const want = { n: final.length, counts: stateCounts(final) };
    const listed = await until(
      "the listing agrees with the new trials",
      async () => {
        const s = await listedStudy(watched);
        return s.n_trials === want.n && Object.keys(want.counts).every((state) => s.state_counts[state] === want.counts[state]) ? s : null;
      },
      10_000,
    ).catch(() => listedStudy(watched));
    expect({ n: listed.n_trials, counts: listed.state_counts }).toEqual(want);
  }, 420_000);

  it("brings the D1 listing of a study without heartbeats up to every acknowledged ask and tell without anyone touching the study", async () => {
    const listed = await until(
      "the listing holds every acknowledged ask and tell",
      async () => {
        const s = await listedStudy(plain);
        return s.n_trials >= plain.asked.size && s.state_counts.COMPLETE >= plain.told.size ? s : null;
      },
      120_000,
    );
    const trials = await studyTrials(plain);
    checkAcknowledged(plain, trials);
    expect(listed.n_trials).toBeLessThanOrEqual(trials.length);
    // Writes that landed unacknowledged at the kill reach the listing too, once the study is awake.
    await until("the listing agrees with the study's trials", async () => {
      const s = await listedStudy(plain);
      const want = stateCounts(trials);
      return s.n_trials === trials.length && Object.keys(want).every((state) => s.state_counts[state] === want[state]);
    }, 60_000);
  }, 300_000);
});
