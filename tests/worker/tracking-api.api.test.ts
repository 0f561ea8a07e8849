import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createToken, errorCode } from "./helpers";

const mode = "open" as const;
const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { mode, ...(body === undefined ? {} : { body }) });

async function startRun(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api("POST", "/runs", { experiment_name: `native-${crypto.randomUUID()}`, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.json.run.run_id;
}

describe("native tracking API", () => {
  it("creates experiments and starts runs in an experiment named on the fly", async () => {
    const exp = await api("POST", "/experiments", { name: "native-exp", tags: { team: "quant" } });
    expect(exp.status).toBe(201);
    expect(exp.json.experiment).toMatchObject({ name: "native-exp", tags: { team: "quant" }, lifecycle_stage: "active" });
    expect(errorCode(await api("POST", "/experiments", { name: "native-exp" }))).toBe("RESOURCE_ALREADY_EXISTS");

    const run = await api("POST", "/runs", { experiment_name: "daily-spy", name: "ridge", params: { alpha: 0.1, fit_intercept: true }, tags: { symbol: "SPY" } });
    expect(run.status).toBe(201);
    expect(run.json.run).toMatchObject({ name: "ridge", status: "RUNNING", params: { alpha: "0.1", fit_intercept: "true" }, tags: { symbol: "SPY", "mlflow.runName": "ridge" } });
    expect(run.json.run.start_time).toBeGreaterThan(0);
    const again = await api("POST", "/runs", { experiment_name: "daily-spy" });
    expect(again.json.run.experiment_id).toBe(run.json.run.experiment_id);
    const listed = await call("GET", `/api/v1/experiments?filter=${encodeURIComponent("name = 'daily-spy'")}`, { mode });
    expect(listed.json.experiments).toHaveLength(1);
  });

  it("refuses a run with a bad tag, param or name before creating its experiment or the run", async () => {
    const name = `refused-${crypto.randomUUID()}`;
    const bad = [
      { tags: { "bad\u{1d518}tag": "x" } },
      { params: { alpha: "x".repeat(6001) } },
      { params: { "bad key!": 1 } },
      { name: "a", tags: { "mlflow.runName": "b" } },
    ];
    for (const extra of bad) {
      const res = await api("POST", "/runs", { experiment_name: name, ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
    }
    const listed = await call("GET", `/api/v1/experiments?filter=${encodeURIComponent(`name = '${name}'`)}`, { mode });
    expect(listed.json.experiments).toEqual([]);
    // An existing experiment gains no run from a refused request either.
    const exp = await api("POST", "/experiments", { name });
    const id = exp.json.experiment.experiment_id;
    expect((await api("POST", "/runs", { experiment_name: name, params: { "bad key!": 1 } })).status).toBe(400);
    const runs = await api("POST", "/runs/search", { experiment_ids: [id] });
    expect(runs.status, runs.text).toBe(200);
    expect(runs.json.runs).toEqual([]);
  });

  it("logs params, metrics (map or list) and tags in one call, all or nothing", async () => {
    const run = await startRun();
    const logged = await api("POST", `/runs/${run}/log`, { params: { lr: 0.01 }, metrics: { loss: 0.9, acc: 0.5 }, step: 1, tags: { phase: "train" } });
    expect(logged.status, logged.text).toBe(200);
    expect(logged.json).toEqual({ logged: { params: 1, metrics: 2, tags: 1 }, replayed: false });
    await api("POST", `/runs/${run}/log`, { metrics: [{ key: "loss", value: 0.4, step: 2 }] });
    const got = (await api("GET", `/runs/${run}`)).json.run;
    expect(got.metrics.loss).toMatchObject({ value: 0.4, step: 2 });
    expect(got.metrics.acc).toMatchObject({ value: 0.5, step: 1 });
    expect(got.params).toEqual({ lr: "0.01" });

    const bad = await api("POST", `/runs/${run}/log`, { params: { lr: 0.02 }, metrics: { fresh: 1 } });
    expect(bad.status).toBe(400);
    expect(errorCode(bad)).toBe("INVALID_PARAMETER_VALUE");
    expect((await api("GET", `/runs/${run}`)).json.run.metrics.fresh).toBeUndefined();

    const nonFinite = await call("POST", `/api/v1/runs/${run}/log`, { mode, raw: '{"metrics":{"x":1e999}}', headers: { "Content-Type": "application/json" } });
    expect(nonFinite.status).toBe(400);
  });

  it("makes a retried call with the same idempotency key a no-op", async () => {
    const run = await startRun();
    const body = { metrics: [{ key: "loss", value: 1 }], idempotency_key: "batch-0001" };
    const first = await api("POST", `/runs/${run}/log`, body);
    const retry = await api("POST", `/runs/${run}/log`, body);
    expect(first.json.replayed).toBe(false);
    expect(retry.json).toEqual({ logged: { params: 0, metrics: 0, tags: 0 }, replayed: true });
    const history = await call("GET", `/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=loss&max_results=100`, { mode });
    expect(history.json.metrics).toHaveLength(1);
    // The same key on another run is another batch.
    const other = await startRun();
    expect((await api("POST", `/runs/${other}/log`, body)).json.replayed).toBe(false);
  });

  it("writes a batch sent many times at once with one idempotency key exactly once", async () => {
    const run = await startRun();
    // Server-stamped points: only the key can tell the copies apart from new points.
    const body = { metrics: Array.from({ length: 200 }, (_, step) => ({ key: "loss", value: step / 2, step })), idempotency_key: "retried-in-parallel" };
    const answers = await Promise.all(Array.from({ length: 8 }, () => api("POST", `/runs/${run}/log`, body)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(answers.filter((a) => !a.json.replayed).map((a) => a.json.logged)).toEqual([{ params: 0, metrics: 200, tags: 0 }]);
    const history = await call("GET", `/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=loss&max_results=1000`, { mode });
    expect(history.json.metrics.map((m: any) => m.step)).toEqual(body.metrics.map((m) => m.step));
    const series = await api("GET", `/metrics/downsample?run_ids=${run}&keys=loss&points=10`);
    expect(series.json.series[0].total).toBe(200);
  });

  it("leaves the idempotency key of a refused batch unclaimed", async () => {
    const run = await startRun({ params: { alpha: "1" } });
    const refused = await api("POST", `/runs/${run}/log`, { params: { alpha: "2" }, metrics: { loss: 1 }, idempotency_key: "k" });
    expect(refused.status).toBe(400);
    const accepted = await api("POST", `/runs/${run}/log`, { metrics: { loss: 1 }, idempotency_key: "k" });
    expect(accepted.json).toEqual({ logged: { params: 0, metrics: 1, tags: 0 }, replayed: false });
  });

  it("ends and renames runs; searches them", async () => {
    const run = await startRun();
    const ended = await api("PATCH", `/runs/${run}`, { status: "FINISHED", name: "final" });
    expect(ended.json.run).toMatchObject({ status: "FINISHED", name: "final" });
    expect(ended.json.run.end_time).toBeGreaterThan(0);
    const exp = ended.json.run.experiment_id;
    const found = await api("POST", "/runs/search", { experiment_ids: [exp], filter: "attributes.status = 'FINISHED'" });
    expect(found.json.runs.map((r: any) => r.run_id)).toEqual([run]);
    expect((await api("GET", "/runs/0123456789abcdef0123456789abcdef")).status).toBe(404);
    expect((await api("GET", "/runs/not-a-run")).status).toBe(400);
    expect((await api("PATCH", `/runs/${run}`, { status: "DONE" })).status).toBe(400);
  });

  it("lets a read token search runs (a POST) but not log", async () => {
    const run = await startRun();
    const read = await createToken(["read"]);
    const search = await call("POST", "/api/v1/runs/search", { token: read.secret, body: { experiment_ids: ["0"] } });
    expect(search.status).toBe(200);
    const log = await call("POST", `/api/v1/runs/${run}/log`, { token: read.secret, body: { metrics: { x: 1 } } });
    expect(log.status).toBe(403);
  });
});

describe("downsampled metric history", () => {
  it("returns min/max/last per bucket, keeps a spike and the last point", async () => {
    const run = await startRun();
    const n = 5000;
    for (let start = 0; start < n; start += 1000) {
      const metrics = Array.from({ length: 1000 }, (_, i) => {
        const step = start + i;
        return { key: "loss", value: step === 3210 ? 99 : 1 / (1 + step), step, timestamp: 1000 + step };
      });
      expect((await api("POST", `/runs/${run}/log`, { metrics })).status).toBe(200);
    }
    const res = await call("GET", `/api/v1/metrics/downsample?run_ids=${run}&keys=loss&points=100`, { mode });
    expect(res.status, res.text).toBe(200);
    const [s] = res.json.series;
    expect(s).toMatchObject({ run_id: run, key: "loss", total: n });
    expect(s.count.length).toBeLessThanOrEqual(100);
    expect(s.count.reduce((a: number, b: number) => a + b, 0)).toBe(n);
    expect(Math.max(...s.max)).toBe(99);
    expect(s.last_x[s.last_x.length - 1]).toBe(n - 1);
    expect(s.last[s.last.length - 1]).toBeCloseTo(1 / n);
    expect(s.last_timestamp[s.last_timestamp.length - 1]).toBe(1000 + n - 1);

    const small = await call("GET", `/api/v1/metrics/downsample?run_ids=${run}&keys=loss&points=5000&from=10&to=19`, { mode });
    expect(small.json.series[0].count).toEqual(Array(10).fill(1));
    expect(small.json.series[0].x0).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);

    const byTime = await call("GET", `/api/v1/metrics/downsample?run_ids=${run}&keys=loss&points=10&x=timestamp`, { mode });
    expect(byTime.json.series[0].x0[0]).toBe(1000);

    const none = await call("GET", `/api/v1/metrics/downsample?run_ids=${run}&keys=missing`, { mode });
    expect(none.json.series).toEqual([]);
    const bad = await call("GET", `/api/v1/metrics/downsample?run_ids=${run}&keys=loss&points=0`, { mode });
    expect(bad.status).toBe(400);
    expect((await call("GET", `/api/v1/metrics/downsample?run_ids=x&keys=loss`, { mode })).status).toBe(400);
  });

  it("reads whole long series from the rollups, exactly, even when batches are re-sent", async () => {
    const run = await startRun();
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 1000 }, (_, i) => {
        const step = b * 1000 + i - 500; // negative steps too
        return { key: "loss", value: step === 4321 ? -77 : Math.cos(step / 300), step, timestamp: 5000 + step };
      }),
    );
    for (const metrics of batches) expect((await api("POST", `/runs/${run}/log`, { metrics })).status).toBe(200);
    // A client retrying two batches (same points) must not change counts.
    for (const metrics of batches.slice(2, 4)) expect((await api("POST", `/runs/${run}/log`, { metrics })).status).toBe(200);
    // NaN points count, and are not min or max.
    await call("POST", "/api/2.0/mlflow/runs/log-metric", { mode, body: { run_id: run, key: "loss", value: "NaN", timestamp: 1, step: 7600 } });

    const viaRollups = (await call("GET", `/api/v1/metrics/downsample?run_ids=${run}&keys=loss&points=50`, { mode })).json.series[0];
    const viaPoints = (await call("GET", `/api/v1/metrics/downsample?run_ids=${run}&keys=loss&points=50&from=-500&to=7499`, { mode })).json.series[0];
    expect(viaRollups.total).toBe(8001);
    expect(viaRollups.count.reduce((a: number, b: number) => a + b, 0)).toBe(8001);
    expect(viaPoints.total).toBe(8000);
    expect(viaRollups.count.length, JSON.stringify(viaRollups).slice(0, 600)).toBeLessThanOrEqual(50);
    expect(Math.min(...viaRollups.min.filter((v: number | null) => v !== null))).toBe(-77);
    expect(Math.max(...viaRollups.max)).toBe(Math.max(...viaPoints.max));
    expect(viaRollups.x0[0]).toBe(-500);
    expect(viaRollups.last_x.at(-1)).toBe(7600);
    expect(viaRollups.last.at(-1)).toBeNull();
    expect(viaRollups.last_timestamp.at(-1)).toBe(1);
    expect(viaPoints.last_x.at(-1)).toBe(7499);
  });

  it("keeps every rollup bucket equal to a recount of the stored points when batches are re-sent, overlap, repeat points or come out of order", async () => {
    const run = await startRun();
    const pt = (key: string, step: number, ts = 1000 + step, value: number | string = Math.sin(step) * 10) => ({ key, step, timestamp: ts, value });
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const logBatch = async (metrics: ReturnType<typeof pt>[]) => {
      const res = await call("POST", "/api/2.0/mlflow/runs/log-batch", { mode, body: { run_id: run, metrics } });
      expect(res.status, res.text).toBe(200);
    };
    const first = [...range(0, 299).map((s) => pt("a", s)), ...range(0, 99).map((s) => pt("b", s))];
    await logBatch(first);
    await logBatch(first); // re-sent as is
    // "a" overlaps what is stored (250..299 again, 300..549 new), "b" is all new: one batch, both ways.
    await logBatch([...range(250, 549).map((s) => pt("a", s)), ...range(100, 199).map((s) => pt("b", s))]);
    // Stored steps again, with other timestamps and values: new points.
    await logBatch(range(0, 49).map((s) => pt("a", s, 9000 + s, -s)));
    // A point repeated within one batch, a NaN, and a later timestamp at a stored step.
    await logBatch([pt("c", 7, 1, 3), pt("c", 7, 1, 3), pt("c", 7, 1, 3), pt("c", 8, 2, "NaN"), pt("c", 8, 3, 1)]);
    // Out of order: a later range first, then one below it that is still new; negative steps.
    await logBatch(range(1000, 1099).map((s) => pt("a", s)));
    await logBatch(range(600, 699).map((s) => pt("a", s)));
    await logBatch(range(-100, -1).map((s) => pt("b", s)));
    // Half of a stored batch again, mixed with new points in the same buckets.
    await logBatch([...range(600, 649).map((s) => pt("a", s)), ...range(700, 720).map((s) => pt("a", s))]);

    const floorDiv = (x: string, w: string) => `(CASE WHEN ${x} >= 0 THEN ${x} / ${w} ELSE -((-${x} - 1) / ${w}) - 1 END)`;
    const recount = await env.DB.prepare(
      `WITH w(width) AS (VALUES (32), (512)),
       b AS (SELECT m.*, w.width, ${floorDiv("m.step", "w.width")} AS bucket FROM metrics m, w WHERE m.run_uuid = ?1),
       last AS (SELECT key, width, bucket, step, timestamp, value, is_nan,
                       row_number() OVER (PARTITION BY key, width, bucket ORDER BY step DESC, timestamp DESC) AS rn FROM b)
       SELECT b.key, b.width, b.bucket, count(*) AS n, min(b.step) AS x0, max(b.step) AS x1,
              min(CASE WHEN b.is_nan = 0 THEN b.value END) AS lo, max(CASE WHEN b.is_nan = 0 THEN b.value END) AS hi,
              l.step AS last_step, l.timestamp AS last_timestamp, l.value AS last_value, l.is_nan AS last_is_nan
       FROM b JOIN last l ON l.key = b.key AND l.width = b.width AND l.bucket = b.bucket AND l.rn = 1
       GROUP BY b.key, b.width, b.bucket ORDER BY b.key, b.width, b.bucket`,
    )
      .bind(run)
      .all();
    const stored = await env.DB.prepare(
      `SELECT key, width, bucket, n, x0, x1, lo, hi, last_step, last_timestamp, last_value, last_is_nan FROM metric_rollups WHERE run_uuid = ?1 ORDER BY key, width, bucket`,
    )
      .bind(run)
      .all();
    const counts = await env.DB.prepare("SELECT key, count(*) AS n FROM metrics WHERE run_uuid = ?1 GROUP BY key ORDER BY key").bind(run).all();
    expect(counts.results).toEqual([
      { key: "a", n: 300 + 250 + 50 + 100 + 100 + 21 },
      { key: "b", n: 300 },
      { key: "c", n: 3 },
    ]);
    expect(stored.results).toEqual(recount.results);
    const latest = await env.DB.prepare("SELECT key, step, timestamp, value, is_nan FROM latest_metrics WHERE run_uuid = ?1 ORDER BY key").bind(run).all();
    expect(latest.results).toEqual([
      { key: "a", step: 1099, timestamp: 2099, value: Math.sin(1099) * 10, is_nan: 0 },
      { key: "b", step: 199, timestamp: 1199, value: Math.sin(199) * 10, is_nan: 0 },
      { key: "c", step: 8, timestamp: 3, value: 1, is_nan: 0 },
    ]);
  });

  it("serves MLflow's bulk-interval history with evenly spaced steps, first and last included", async () => {
    const a = await startRun();
    const b = await startRun();
    for (const run of [a, b]) {
      await api("POST", `/runs/${run}/log`, { metrics: Array.from({ length: 1000 }, (_, i) => ({ key: "acc", value: i / 1000, step: i, timestamp: i })) });
    }
    const res = await call("GET", `/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${a}&run_ids=${b}&metric_key=acc&max_results=11`, { mode });
    expect(res.status, res.text).toBe(200);
    const forA = res.json.metrics.filter((m: any) => m.run_id === a).map((m: any) => m.step);
    expect(forA[0]).toBe(0);
    expect(forA[forA.length - 1]).toBe(999);
    expect(forA.length).toBeLessThanOrEqual(11);
    expect(forA.length).toBeGreaterThanOrEqual(10);
    expect(res.json.metrics[0].run_id).toBe(a);
    const ranged = await call("GET", `/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${a}&metric_key=acc&start_step=100&end_step=200&max_results=5`, { mode });
    const steps = ranged.json.metrics.map((m: any) => m.step);
    expect(steps[0]).toBe(100);
    expect(steps[steps.length - 1]).toBe(200);
    expect((await call("GET", `/api/2.0/mlflow/metrics/get-history-bulk-interval?metric_key=acc`, { mode })).status).toBe(400);
  });
});
