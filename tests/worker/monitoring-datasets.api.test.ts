import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { jobs } from "../../worker/index";
import { dispatchScheduled } from "../../worker/system/scheduler";
import { buildServices } from "../../worker/services";
import { createDb } from "../../worker/db/client";
import { DatasetVersionReader } from "../../worker/datasets/dataset-reader";
import { ContentStore, DatasetStore } from "../../worker/datasets/store";
import { DatasetUnreadable } from "../../worker/monitoring/model";
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

  it("reads files up to its size bound and refuses larger ones, naming both sizes", async () => {
    const name = `big-${crypto.randomUUID().slice(0, 8)}`;
    await createDataset(name);
    const text = csv(20, 20, ["x", "y"]);
    const v = await commitFile(name, text, { file_name: "big.csv" });
    const reader = (max: number) => new DatasetVersionReader(new DatasetStore(createDb(env.DB)), new ContentStore(env.BLOBS), max);
    const cols = await reader(text.length).readColumns(v.id);
    expect(cols.id).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(cols.country.slice(0, 3)).toEqual(["x", "y", "x"]);
    expect(await reader(text.length).latestVersion(name)).toBe(v.id);
    const refused = reader(text.length - 1).readColumns(`${name}@latest`);
    await expect(refused).rejects.toBeInstanceOf(DatasetUnreadable);
    await expect(reader(text.length - 1).readColumns(v.id)).rejects.toThrow(`is ${text.length} bytes; scheduled checks read files of at most ${text.length - 1} bytes`);
  });
});
