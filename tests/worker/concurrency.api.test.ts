/**
 * Concurrency: many writers at once through the real Worker and real bindings must leave no lost,
 * duplicated or half-written records.
 * - WRITERS writers log metric batches to one run, half through MLflow's log-batch and half through
 *   the native log route: every point is in get-history exactly once, and the rollup-backed
 *   downsampled read agrees with the raw points (count, min, max, last).
 * - Two deliveries of the same cron minute: one pipeline run per logical date, one monitor check.
 * - Concurrent commits of the same content to one dataset: distinct version numbers, and with
 *   skip_if_unchanged exactly one new version; the blob stays intact.
 * Elsewhere: concurrent model-version creation (mlflow-registry.api.test.ts) and 64 concurrent
 * workers on one study (studies.api.test.ts).
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { call } from "./helpers";
import { api, bytes, createDataset, raw, sha256, upload } from "./datasets-helpers";
import { registeredModel } from "./monitoring-helpers";

const mode = "open" as const;
const WRITERS = 24;
const BATCHES = 4;
const POINTS = 100;
const T0 = 1_700_000_000_000;

/** Writer w's i-th point of batch b: steps interleave across writers, so they share rollup buckets. */
function point(w: number, b: number, i: number) {
  const step = (b * POINTS + i) * WRITERS + w;
  // A few spikes, which min/max buckets must keep.
  const value = step % 997 === 0 ? 1000 + step : Math.sin(step / 10) * 10;
  return { key: "loss", value, step, timestamp: T0 + step };
}

async function scheduled(scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("concurrent writers on one run's metrics", () => {
  it(`${WRITERS} writers × ${BATCHES} batches × ${POINTS} points, MLflow and native routes mixed: none lost, none doubled`, async () => {
    const run = await call("POST", "/api/v1/runs", { mode, body: { experiment_name: "concurrency" } });
    expect(run.status, run.text).toBe(201);
    const runId: string = run.json.run.run_id;

    const writer = async (w: number) => {
      for (let b = 0; b < BATCHES; b++) {
        const metrics = Array.from({ length: POINTS }, (_, i) => point(w, b, i));
        const res =
          w % 2 === 0
            ? await call("POST", "/api/2.0/mlflow/runs/log-batch", { mode, body: { run_id: runId, metrics, params: [], tags: [] } })
            : await call("POST", `/api/v1/runs/${runId}/log`, { mode, body: { metrics } });
        expect(res.status, res.text).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

    const expected = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: BATCHES }, (_, b) => Array.from({ length: POINTS }, (_, i) => point(w, b, i))))
      .flat(2)
      .sort((a, z) => a.step - z.step);
    const total = WRITERS * BATCHES * POINTS;
    expect(expected).toHaveLength(total);

    // get-history, page by page.
    const got: { step: number; value: number; timestamp: number }[] = [];
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ run_id: runId, metric_key: "loss", max_results: "2500", ...(token ? { page_token: token } : {}) });
      const page = await call("GET", `/api/2.0/mlflow/metrics/get-history?${q}`, { mode });
      expect(page.status, page.text).toBe(200);
      got.push(...(page.json.metrics ?? []).map((m: any) => ({ step: Number(m.step), value: m.value, timestamp: Number(m.timestamp) })));
      token = page.json.next_page_token;
    } while (token);
    const bySteps = [...got].sort((a, z) => a.step - z.step);
    const lost = expected.filter((e) => !got.some((g) => g.step === e.step));
    expect(lost.length, "points lost").toBe(0);
    expect(new Set(got.map((g) => g.step)).size).toBe(got.length);
    expect(bySteps).toEqual(expected.map((e) => ({ step: e.step, value: e.value, timestamp: e.timestamp })));

    // The whole-series downsample reads metric_rollups; it must agree with the raw points.
    const values = expected.map((e) => e.value);
    const last = expected[expected.length - 1];
    const down = await call("GET", `/api/v1/metrics/downsample?run_ids=${runId}&keys=loss&points=40`, { mode });
    expect(down.status, down.text).toBe(200);
    const s = down.json.series[0];
    expect(s.total).toBe(total);
    expect(s.count.reduce((a: number, n: number) => a + n, 0)).toBe(total);
    expect(Math.min(...s.min)).toBe(Math.min(...values));
    expect(Math.max(...s.max)).toBe(Math.max(...values));
    expect([s.last_x.at(-1), s.last.at(-1), s.last_timestamp.at(-1)]).toEqual([last.step, last.value, last.timestamp]);
    // The rollups themselves: every width counts every point once.
    const widths = (await env.DB.prepare("SELECT width, SUM(n) AS n, MIN(lo) AS lo, MAX(hi) AS hi FROM metric_rollups WHERE run_uuid = ? AND key = 'loss' GROUP BY width").bind(runId).all<{ width: number; n: number; lo: number; hi: number }>()).results;
    expect(widths.length).toBeGreaterThan(0);
    for (const r of widths) expect([r.width, r.n, r.lo, r.hi]).toEqual([r.width, total, Math.min(...values), Math.max(...values)]);
    // A ranged read (the raw points) buckets the same points.
    const ranged = await call("GET", `/api/v1/metrics/downsample?run_ids=${runId}&keys=loss&points=40&from=0&to=${last.step}`, { mode });
    const r = ranged.json.series[0];
    expect(r.count.reduce((a: number, n: number) => a + n, 0)).toBe(total);
    expect([Math.min(...r.min), Math.max(...r.max), r.last.at(-1)]).toEqual([Math.min(...values), Math.max(...values), last.value]);
  }, 120_000);
});

describe("two cron deliveries of the same minute", () => {
  it("make one pipeline run per logical date", async () => {
    const created = await call("POST", "/api/v1/pipelines", { mode, body: { name: "twice-delivered", spec: { schedule: "@hourly", start_date: "2026-11-28T00:00Z", catchup: true, max_active_runs: 16, tasks: { a: { kind: "noop" } } } } });
    expect(created.status, created.text).toBe(201);
    const id = created.json.pipeline_id;
    const minute = Date.UTC(2026, 10, 28, 3, 0, 0);
    await Promise.all([scheduled(minute), scheduled(minute)]);
    await Promise.all([scheduled(minute + 3_600_000), scheduled(minute + 3_600_000), scheduled(minute + 3_600_000)]);
    const rows = (await env.DB.prepare("SELECT logical_date, COUNT(*) AS n FROM pipeline_runs WHERE pipeline_id = ? GROUP BY logical_date").bind(id).all<{ logical_date: number; n: number }>()).results;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    // Hourly from midnight to 04:00: the intervals 00-01, 01-02, 02-03 and 03-04, each once.
    expect(rows.length).toBe(4);
  });

  it("make one monitor check", async () => {
    const name = "cron-twice";
    await createDataset(name);
    const csv = (from: number) => ["id,age", ...Array.from({ length: 200 }, (_, i) => `${i},${from + (i % 30)}`)].join("\n") + "\n";
    const ref = await api("POST", `/datasets/${name}/versions`, { sha256: await upload(csv(20)), file_name: "ref.csv" });
    expect(ref.status, ref.text).toBe(201);
    const model = await registeredModel();
    const monitor = await api("POST", "/monitors", {
      name: "cron-twice",
      model: { name: model, version: null },
      reference_dataset_version: ref.json.version.id,
      current_dataset: name,
      schedule: "* * * * *",
      column_settings: { ignore: ["id"] },
    });
    expect(monitor.status, monitor.text).toBe(201);
    const cur = await api("POST", `/datasets/${name}/versions`, { sha256: await upload(csv(60)), file_name: "cur.csv" });
    expect(cur.status, cur.text).toBe(201);
    const minute = Math.ceil((Date.now() + 61_000) / 60_000) * 60_000;
    await Promise.all([scheduled(minute), scheduled(minute)]);
    const reports = await api("GET", `/monitors/${monitor.json.monitor.id}/reports`);
    expect(reports.status).toBe(200);
    expect(reports.json.reports).toHaveLength(1);
    expect(reports.json.reports[0]).toMatchObject({ source: "schedule", current: { dataset_version: cur.json.version.id } });
  });
});

describe("concurrent commits of the same content", () => {
  const N = 12;

  it("number versions without gaps or duplicates, and keep the blob intact", async () => {
    const name = "same-content";
    await createDataset(name);
    const content = bytes("a,b\n" + Array.from({ length: 500 }, (_, i) => `${i},${i * 2}`).join("\n") + "\n");
    const hash = await sha256(content);
    // The same blob uploaded by every committer at once.
    const puts = await Promise.all(Array.from({ length: N }, () => raw("PUT", `/api/v1/blobs/${hash}`, content)));
    expect(puts.map((p) => p.status)).toEqual(Array(N).fill(200));
    const commits = await Promise.all(Array.from({ length: N }, (_, i) => api("POST", `/datasets/${name}/versions`, { sha256: hash, file_name: "data.csv", message: `c${i}` })));
    expect(commits.map((c) => c.status)).toEqual(Array(N).fill(201));
    expect(commits.map((c) => c.json.version.version).sort((a, z) => a - z)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const ds = await api("GET", `/datasets/${name}`);
    expect(ds.json.dataset.latest_version).toBe(N);
    expect(await countRows("blobs", "sha256 = ?", hash)).toBe(1);
    const download = await call("GET", `/api/v1/datasets/${name}/versions/latest/download`, { mode });
    expect(download.status).toBe(200);
    expect(await sha256(new TextEncoder().encode(download.text))).toBe(hash);
  });

  it("with skip_if_unchanged make exactly one version; the others get it back", async () => {
    const name = "same-content-skip";
    await createDataset(name);
    const hash = await upload("x,y\n1,2\n3,4\n");
    const commits = await Promise.all(Array.from({ length: N }, () => api("POST", `/datasets/${name}/versions`, { sha256: hash, file_name: "d.csv", skip_if_unchanged: true })));
    const created = commits.filter((c) => c.status === 201);
    const unchanged = commits.filter((c) => c.status === 200);
    expect(created).toHaveLength(1);
    expect(unchanged).toHaveLength(N - 1);
    for (const u of unchanged) expect(u.json).toMatchObject({ created: false, version: { id: created[0].json.version.id, version: 1 } });
    expect((await api("GET", `/datasets/${name}`)).json.dataset.latest_version).toBe(1);
  });
});

async function countRows(table: string, where: string, ...binds: unknown[]): Promise<number> {
  return Number((await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).bind(...binds).first<{ n: number }>())!.n);
}
