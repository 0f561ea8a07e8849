import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { jobs } from "../../worker/index";
import { dispatchScheduled } from "../../worker/system/scheduler";
import { buildServices } from "../../worker/services";
import { createDb } from "../../worker/db/client";
import { parquetWriteBuffer } from "hyparquet-writer";
import { CHECK_SAMPLE_BYTES, DatasetVersionReader, MAX_CHECK_FILE_BYTES } from "../../worker/datasets/dataset-reader";
import { SCHEDULED_SAMPLE_ROWS } from "../../worker/monitoring/service";
import { ContentStore, DatasetStore } from "../../worker/datasets/store";
import { api, commitFile, createDataset, upload } from "./datasets-helpers";
import { registeredModel } from "./monitoring-helpers";

const tick = (scheduledTime: number) => dispatchScheduled(jobs, { cron: "* * * * *", scheduledTime }, env, createExecutionContext());

/** A CSV of n rows: a numeric column starting at `ageFrom`, a categorical one, and an id column. */
function csv(n: number, ageFrom: number, countries: string[]): string {
  const lines = ["id,age,country"];
  for (let i = 0; i < n; i++) lines.push(`${i},${ageFrom + (i % 40) + i / 1000},${countries[i % countries.length]}`);
  return lines.join("\n") + "\n";
}

async function scheduledMonitor(reference: string, currentDataset: string, extra: Record<string, unknown> = {}) {
  const model = await registeredModel();
  const res = await api("POST", "/monitors", {
    name: `sched-${crypto.randomUUID().slice(0, 8)}`,
    model: { name: model, version: null },
    reference_dataset_version: reference,
    current_dataset: currentDataset,
    schedule: "* * * * *",
    column_settings: { ignore: ["id"] },
    ...extra,
  });
  expect(res.status, res.text).toBe(201);
  return res.json.monitor;
}

const reports = async (monitorId: string) => {
  const res = await api("GET", `/monitors/${monitorId}/reports`);
  expect(res.status, res.text).toBe(200);
  return res.json.reports as any[];
};

describe("scheduled checks over dataset versions", () => {
  it("checks each new version of the current dataset once against the reference version", async () => {
    const name = `ds-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(name);
    const ref = await commitFile(name, csv(300, 20, ["de", "fr", "it"]), { file_name: "reference.csv" });
    const monitor = await scheduledMonitor(ref.id, name);
    const cur = await commitFile(name, csv(200, 60, ["de", "de", "de", "fr"]), { file_name: "week-1.csv" });

    const t1 = Date.now() + 61_000;
    await tick(t1);
    let got = await reports(monitor.id);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      source: "schedule",
      sample_size: 300,
      reference: { dataset_version: ref.id, rows: 300 },
      current: { dataset: name, dataset_version: cur.id, rows: 200 },
    });
    const cols = Object.fromEntries(got[0].summary.columns.map((c: any) => [c.column, c]));
    expect(Object.keys(cols).sort()).toEqual(["age", "country"]);
    expect(cols.age).toMatchObject({ type: "num", drifted: true });
    expect(cols.country).toMatchObject({ type: "cat", drifted: true });
    expect(got[0].summary).toMatchObject({ number_of_columns: 2, number_of_drifted_columns: 2, dataset_drift: true });

    // The next due tick finds no new version: no second report.
    await tick(t1 + 60_000);
    expect(await reports(monitor.id)).toHaveLength(1);

    // A new version like the reference makes a new report, without drift in age.
    const cur2 = await commitFile(name, csv(300, 20, ["de", "fr", "it"]), { file_name: "week-2.csv" });
    await tick(t1 + 120_000);
    got = await reports(monitor.id);
    expect(got).toHaveLength(2);
    expect(got[0].current).toMatchObject({ dataset_version: cur2.id, rows: 300 });
    const age2 = got[0].summary.columns.find((c: any) => c.column === "age");
    expect(age2).toMatchObject({ type: "num", drifted: false });
    expect(got[0].summary.dataset_drift).toBe(false);

    // The versions the checks read link to the monitor in the lineage graph.
    const g = await api("GET", `/lineage?object=${encodeURIComponent(`monitor:${monitor.id}`)}`);
    expect(g.status, g.text).toBe(200);
    expect(g.json.edges.map((e: any) => `${e.from} -${e.kind}-> ${e.to}`).sort()).toEqual(
      [
        `dataset_version:${ref.id} -monitor_reference-> monitor:${monitor.id}`,
        `dataset_version:${cur.id} -monitor_checked-> monitor:${monitor.id}`,
        `dataset_version:${cur2.id} -monitor_checked-> monitor:${monitor.id}`,
        `dataset_version:${ref.id} -parent_version-> dataset_version:${cur.id}`,
        `dataset_version:${cur.id} -parent_version-> dataset_version:${cur2.id}`,
      ].sort(),
    );
    expect(g.json.nodes.find((n: any) => n.id === `monitor:${monitor.id}`)).toMatchObject({ label: monitor.name, data: { current_dataset: name } });
    const fromVersion = await api("GET", `/lineage?object=${encodeURIComponent(`dataset_version:${cur.id}`)}&depth=1`);
    expect(fromVersion.json.edges).toContainEqual({ from: `dataset_version:${cur.id}`, to: `monitor:${monitor.id}`, kind: "monitor_checked" });
  });

  it("samples a current version too large to read whole, recording the sample with the report", async () => {
    const name = `huge-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(name);
    const ref = await commitFile(name, csv(3000, 20, ["de", "fr", "it"]), { file_name: "reference.csv" });
    const monitor = await scheduledMonitor(ref.id, name);
    // About 12 MiB, above what the Worker reads or profiles whole, so the version has no row count.
    const text = csv(600_000, 60, ["de", "de", "de", "fr"]);
    expect(text.length).toBeGreaterThan(MAX_CHECK_FILE_BYTES);
    const cur = await commitFile(name, text, { file_name: "2026-11-27.csv" });
    expect(cur.row_count ?? null).toBeNull();

    await tick(Date.now() + 61_000);
    const [got] = await reports(monitor.id);
    expect(got).toMatchObject({ source: "schedule", sample_size: SCHEDULED_SAMPLE_ROWS });
    expect(got.reference).toEqual({ dataset_version: ref.id, dataset: name, version: 1, rows: 3000, checked_rows: 3000 });
    expect(got.current).toMatchObject({ dataset: name, version: 2, dataset_version: cur.id, rows_estimated: true, sample_method: "byte-ranges", checked_rows: SCHEDULED_SAMPLE_ROWS });
    expect(got.current.sample_bytes).toBeLessThanOrEqual(CHECK_SAMPLE_BYTES + 64);
    expect(got.current.sample_bytes).toBeGreaterThan(CHECK_SAMPLE_BYTES / 2);
    expect(Math.abs(got.current.rows - 600_000) / 600_000).toBeLessThan(0.02);
    expect(got.current.sample_dropped_rows).toBeUndefined();
    const cols = Object.fromEntries(got.summary.columns.map((c: any) => [c.column, c]));
    expect(cols.age).toMatchObject({ type: "num", drifted: true });
    expect(cols.country).toMatchObject({ type: "cat", drifted: true });
  }, 120_000);

  it("samples a large Parquet version by row groups read through range requests", async () => {
    const name = `pq-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(name);
    const n = 30_000;
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: "id", data: Int32Array.from({ length: n }, (_, i) => i), type: "INT32" },
          { name: "age", data: Float64Array.from({ length: n }, (_, i) => 20 + (i % 40) + i / 1000), type: "DOUBLE" },
        ],
        rowGroupSize: 1000,
      }),
    );
    const v = await commitFile(name, bytes, { file_name: "big.parquet" });
    const reader = new DatasetVersionReader(new DatasetStore(createDb(env.DB)), new ContentStore(env.BLOBS), { maxBytes: 1000, sampleBytes: Math.floor(bytes.length / 3) });
    const got = await reader.readColumns(v.id);
    expect(got).toMatchObject({ rows: n, rowsEstimated: false, sample: { method: "row-groups" } });
    const ids = got.columns.id as number[];
    expect(ids.length % 1000).toBe(0);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(n / 2);
    ids.forEach((id, k) => expect(got.columns.age[k]).toBe(20 + (id % 40) + id / 1000));
  });

  it("checks the newest or a named version on demand, leaving the schedule's bookmark alone", async () => {
    const name = `now-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(name);
    const ref = await commitFile(name, csv(300, 20, ["de", "fr"]), { file_name: "reference.csv" });
    const noRef = await scheduledMonitor(ref.id, name, { reference_dataset_version: null });
    let res = await api("POST", `/monitors/${noRef.id}/check`);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "INVALID_PARAMETER_VALUE", message: `Monitor '${noRef.name}' has no reference dataset version to compare against` });

    const empty = `empty-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(empty);
    const waiting = await scheduledMonitor(ref.id, empty);
    res = await api("POST", `/monitors/${waiting.id}/check`, {});
    expect(res.status).toBe(400);
    expect(res.json.error.message).toBe(`Dataset '${empty}' has no versions to check yet`);
    expect((await api("POST", `/monitors/${waiting.id}/check`, { dataset_version: 3 })).status).toBe(400);
    expect((await api("POST", `/monitors/${waiting.id}/check`, { version: "x" })).status).toBe(400);
    const unknown = await api("POST", `/monitors/${"0".repeat(32)}/check`);
    expect(unknown.status, unknown.text).toBe(404);
    expect(await reports(waiting.id)).toHaveLength(0);

    const monitor = await scheduledMonitor(ref.id, name);
    const cur = await commitFile(name, csv(200, 60, ["de"]), { file_name: "today.csv" });
    res = await api("POST", `/monitors/${monitor.id}/check`);
    expect(res.status, res.text).toBe(201);
    expect(res.json.report).toMatchObject({ source: "manual", current: { dataset: name, version: 2, dataset_version: cur.id, rows: 200 }, summary: { dataset_drift: true } });
    res = await api("POST", `/monitors/${monitor.id}/check`, { dataset_version: `${name}@1` });
    expect(res.status, res.text).toBe(201);
    expect(res.json.report).toMatchObject({ source: "manual", current: { version: 1, dataset_version: ref.id }, summary: { dataset_drift: false } });

    // The scheduled check has not seen version 2 yet, so it still checks it.
    await tick(Date.now() + 61_000);
    const got = await reports(monitor.id);
    expect(got.map((r) => [r.source, r.current.version])).toEqual([
      ["schedule", 2],
      ["manual", 1],
      ["manual", 2],
    ]);
  });

  it("accepts the reference as dataset@version and reads TSV and JSON lines with the profile parsers", async () => {
    const refName = `ref-${crypto.randomUUID().slice(0, 8)}`;
    const curName = `cur-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(refName);
    await createDataset(curName);
    await commitFile(refName, csv(100, 20, ["a", "b"]).replaceAll(",", "\t"), { file_name: "ref.tsv" });
    const monitor = await scheduledMonitor(`${refName}@1`, curName);
    const rows = Array.from({ length: 100 }, (_, i) => JSON.stringify({ id: i, age: 20 + (i % 40) + i / 1000, country: i % 2 ? "a" : "b" }));
    await commitFile(curName, rows.join("\n"), { file_name: "cur.jsonl" });
    await tick(Date.now() + 61_000);
    const got = await reports(monitor.id);
    expect(got).toHaveLength(1);
    const age = got[0].summary.columns.find((c: any) => c.column === "age");
    expect(age).toMatchObject({ type: "num", drifted: false });
  });

  it("skips versions it will not read, with the reason, and does not retry them", async () => {
    const name = `skip-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(name);
    const ref = await commitFile(name, csv(50, 20, ["x"]), { file_name: "ref.csv" });
    const monitor = await scheduledMonitor(ref.id, name);
    const bin = await commitFile(name, "\u0000\u0001 not a table", { file_name: "blob.bin" });
    const t1 = Date.now() + 61_000;
    const monitoring = buildServices(env).monitoring;
    const outcome = (await monitoring.runScheduledChecks(t1)).find((o) => o.monitorId === monitor.id)?.outcome;
    expect(outcome).toBe(`skipped: dataset version ${bin.id} (blob.bin) is not a CSV, TSV, JSON lines or Parquet file`);
    expect((await monitoring.runScheduledChecks(t1 + 60_000)).find((o) => o.monitorId === monitor.id)?.outcome).toBe("no new version");
    expect(await reports(monitor.id)).toHaveLength(0);

    const text = csv(10, 20, ["x"]);
    const dir = await api("POST", `/datasets/${name}/versions`, { manifest: [{ path: "part-0.csv", sha256: await upload(text), size: text.length }] });
    expect(dir.status, dir.text).toBe(201);
    expect((await monitoring.runScheduledChecks(t1 + 120_000)).find((o) => o.monitorId === monitor.id)?.outcome).toBe(
      `skipped: dataset version ${dir.json.version.id} is a directory; scheduled checks read single-file versions`,
    );
    expect(await reports(monitor.id)).toHaveLength(0);

    const missing = await scheduledMonitor(ref.id, "no-such-dataset");
    const out = (await monitoring.runScheduledChecks(Date.now() + 61_000)).find((o) => o.monitorId === missing.id)?.outcome;
    expect(out).toBe("skipped: dataset 'no-such-dataset' not found");
  });

  it("reads files up to its size bound whole and samples larger ones through range reads", async () => {
    const name = `big-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(name);
    const small = csv(20, 20, ["x", "y"]);
    const v = await commitFile(name, small, { file_name: "small.csv" });
    const reader = (limits: ConstructorParameters<typeof DatasetVersionReader>[2]) => new DatasetVersionReader(new DatasetStore(createDb(env.DB)), new ContentStore(env.BLOBS), limits);
    const whole = await reader({ maxBytes: small.length }).readColumns(v.id);
    expect(whole).toMatchObject({ rows: 20, rowsEstimated: false, sample: null });
    expect(whole.columns.id).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(whole.columns.country.slice(0, 3)).toEqual(["x", "y", "x"]);
    expect(await reader({}).latestVersion(name)).toBe(v.id);

    // 20,000 rows: above the bound, so about 64 KiB of it is read in 8 windows.
    const text = csv(20_000, 20, ["x", "y"]);
    const big = await commitFile(name, text, { file_name: "big.csv" });
    const limits = { maxBytes: 100_000, sampleBytes: 64 * 1024, chunks: 8 };
    const sampled = await reader(limits).readColumns(`${name}@latest`);
    // The server profiled this version on commit, so the row count is exact.
    expect(sampled).toMatchObject({ rows: 20_000, rowsEstimated: false, sample: { method: "byte-ranges", droppedRows: 0, droppedWindows: 0 } });
    expect(sampled.sample!.bytesRead).toBeLessThanOrEqual(64 * 1024 + 8);
    const ids = sampled.columns.id as number[];
    expect(sampled.sample!.rows).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(1500);
    expect(ids.length).toBeLessThan(10_000);
    // Whole rows only: every column agrees with the row's id.
    ids.forEach((id, k) => {
      expect(sampled.columns.age[k]).toBeCloseTo(20 + (id % 40) + id / 1000, 9);
      expect(sampled.columns.country[k]).toBe(["x", "y"][id % 2]);
    });
    expect(Math.max(...ids) - Math.min(...ids)).toBeGreaterThan(15_000);
    // The same version is sampled the same way every time.
    expect((await reader(limits).readColumns(big.id)).columns.id).toEqual(ids);
  });

});
