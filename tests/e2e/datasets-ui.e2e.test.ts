/**
 * The datasets UI in Chromium against a real `wrangler dev`: a CSV uploaded through the "New dataset"
 * dialog (hashed and profiled in the Web Worker) with its schema, profiles and a preview read with a
 * range request; a second version and the diff view; a folder upload; a file large enough for a
 * multipart upload; and the lineage graph of a version that a run read and whose run produced a
 * registered model version, and the notes on a streamed profile's approximate statistics. With DOCS_SCREENSHOTS=1 it also writes the README's screenshots.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Locator, Page } from "playwright-core";
import { ProfileAccumulator } from "../../worker/lib/profile/stream";
import { launch, openPage } from "./browser";

const baseUrl = inject("baseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
const SCREENSHOTS = process.env.DOCS_SCREENSHOTS === "1";
// The README's screenshots show plain names; the test server is fresh, so they cannot collide there.
const DATASET = SCREENSHOTS ? "transactions" : `transactions-${suffix}`;
const FOLDER_DATASET = `images-${suffix}`;
const MODEL = SCREENSHOTS ? "fraud-model" : `fraud-model-${suffix}`;
const docsImages = join(import.meta.dirname, "..", "..", "docs", "images");

let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
let dir: string;
const pageErrors: string[] = [];

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

/** A deterministic generator, so the files (and their profiles) are the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Transactions: v1 has a `flag` column; v2 drops it, adds `channel`, shifts amounts up and adds country DK. */
function transactions(version: 1 | 2, rows: number): string {
  const r = rng(version * 7919);
  const countries = version === 1 ? ["NO", "SE", "FI"] : ["NO", "SE", "FI", "DK"];
  const header = version === 1 ? "id,amount,country,age,flag" : "id,amount,country,age,channel";
  const lines = [header];
  for (let i = 1; i <= rows; i++) {
    const amount = ((version === 1 ? 50 : 80) + r() * (version === 1 ? 100 : 160)).toFixed(2);
    const country = countries[Math.floor(r() * countries.length)];
    const age = r() < (version === 1 ? 0.1 : 0.02) ? "" : String(18 + Math.floor(r() * 60));
    const last = version === 1 ? (r() < 0.5 ? "true" : "false") : ["web", "app", "pos"][Math.floor(r() * 3)];
    lines.push(`${i},${amount},${country},${age},${last}`);
  }
  return lines.join("\n") + "\n";
}

/** Polls until the value matches: pages load asynchronously, slowly on a busy machine. */
const eventually = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 100 });

const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

/** The "New dataset"/"New version" dialog: pick, commit, and wait for both bars at 100 %. */
async function uploadThroughDialog(trigger: string, files: { file?: string; folder?: string }, fields: { name?: string; message: string }, waitMs = 60_000): Promise<Locator> {
  await page.getByRole("button", { name: trigger }).click();
  const dialog = page.getByRole("dialog");
  if (fields.name !== undefined) await dialog.getByLabel("Name").fill(fields.name);
  if (files.file) await dialog.getByLabel("Choose file").setInputFiles(files.file);
  if (files.folder) await dialog.getByLabel("Choose folder").setInputFiles(files.folder);
  await dialog.getByTestId("picked").waitFor();
  await dialog.getByLabel("Message").fill(fields.message);
  await dialog.getByRole("button", { name: "Upload and commit" }).click();
  await dialog.getByTestId("upload-done").waitFor({ timeout: waitMs });
  expect(await dialog.getByTestId("hash-percent").textContent()).toBe("100%");
  expect(await dialog.getByTestId("upload-percent").textContent()).toBe("100%");
  expect(await dialog.getByRole("progressbar", { name: "Upload" }).getAttribute("aria-valuenow")).toBe("100");
  return dialog;
}

/** No two node boxes, as Chromium rendered them, intersect. */
async function noOverlap(graph: Locator): Promise<void> {
  const boxes = await graph.locator("g[data-node-id]").evaluateAll((gs) =>
    gs.map((g) => {
      const r = g.querySelector("rect")!.getBoundingClientRect();
      return { id: g.getAttribute("data-node-id")!, x: r.x, y: r.y, width: r.width, height: r.height };
    }),
  );
  expect(boxes.every((b) => b.width > 0 && b.height > 0)).toBe(true);
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) {
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      expect(apart, `${a.id} ${JSON.stringify(a)} overlaps ${b.id} ${JSON.stringify(b)}`).toBe(true);
    }
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tern-datasets-ui-"));
  writeFileSync(join(dir, "transactions.csv"), transactions(1, 400));
  mkdirSync(join(dir, "v2"));
  writeFileSync(join(dir, "v2", "transactions.csv"), transactions(2, 460));
  ({ browser, page } = await openPage(pageErrors, { width: 1280, height: 1000 }));
});

afterAll(async () => {
  await browser?.close();
  for (const name of [DATASET, FOLDER_DATASET]) await api("DELETE", `/api/v1/datasets/${name}`).catch(() => undefined);
  await api("DELETE", "/api/2.0/mlflow/registered-models/delete", { name: MODEL }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe("the datasets UI", () => {
  it("uploads a CSV as a new dataset and shows its schema, column profiles and a preview read in the browser", async () => {
    await page.goto(`${baseUrl}/datasets`);
    await page.getByRole("heading", { level: 1, name: "Datasets" }).waitFor();
    await uploadThroughDialog("New dataset", { file: join(dir, "transactions.csv") }, { name: DATASET, message: "first snapshot" });
    await page.getByRole("dialog").getByRole("link", { name: "Open v1" }).click();
    await page.waitForURL(`${baseUrl}/datasets/${DATASET}/versions/1`);
    await page.getByRole("heading", { level: 1, name: `${DATASET} v1` }).waitFor();

    const csv = readFileSync(join(dir, "transactions.csv"));
    const { version } = await api("GET", `/api/v1/datasets/${DATASET}/versions/1`);
    expect(version.sha256).toBe(sha256(csv));
    expect(version.profile_source).toBe("client");
    expect(version.row_count).toBe(400);
    expect(await page.getByTestId("version-rows").textContent()).toBe("400");
    expect(await page.getByTestId("version-message").textContent()).toBe("first snapshot");

    const schema = page.getByTestId("schema");
    expect(await schema.locator("[data-field]").allTextContents()).toEqual(["id integer", "amount number", "country string", "age integer", "flag boolean"]);
    const amount = page.locator('[data-testid="column-profile"][data-column="amount"]');
    await amount.getByTestId("quantile-chart").waitFor();
    expect(Number(await amount.getByTestId("mean").textContent())).toBeCloseTo(version.profile.columns[1].numeric.mean, 2);
    const country = page.locator('[data-testid="column-profile"][data-column="country"]');
    expect(await country.getByTestId("top-categories").locator("li").count()).toBe(3);
    const age = page.locator('[data-testid="column-profile"][data-column="age"]');
    expect(await age.getByTestId("missing-share").textContent()).toContain(`of 400`);

    const preview = page.getByTestId("preview-table");
    await preview.waitFor();
    expect(await preview.locator("thead th").allTextContents()).toEqual(["id", "amount", "country", "age", "flag"]);
    expect(await preview.locator("tbody tr").count()).toBe(20);
    const firstRow = csv.toString().split("\n")[1].split(",");
    expect((await preview.locator("tbody tr").first().locator("td").allTextContents()).map((t) => (t === "∅" ? "" : t))).toEqual(firstRow);
    expect(await page.getByTestId("preview-bytes").textContent()).toMatch(/First 20 rows, read in the browser from [\d.]+ KiB of the file/);
    expect(pageErrors).toEqual([]);
  });

  it("uploads a second version and shows the diff with changed columns highlighted", async () => {
    await page.goto(`${baseUrl}/datasets/${DATASET}`);
    await page.getByRole("heading", { level: 1, name: DATASET }).waitFor();
    const dialog = await uploadThroughDialog("New version", { file: join(dir, "v2", "transactions.csv") }, { message: "new channel column, Denmark" });
    await dialog.getByRole("button", { name: "Close" }).click();
    const rows = page.getByTestId("versions-table").locator("tbody tr");
    await eventually(() => rows.count()).toBe(2);
    expect(await rows.first().getAttribute("data-version")).toBe("2");
    expect(await rows.first().textContent()).toContain("new channel column, Denmark");

    await page.getByLabel("Compare v1").check();
    await page.getByLabel("Compare v2").check();
    await page.getByRole("link", { name: "Compare" }).click();
    await page.waitForURL(`${baseUrl}/datasets/${DATASET}/diff?a=1&b=2`);
    const table = page.getByTestId("column-diff");
    await table.waitFor();
    const change = (c: string) => table.locator(`tr[data-column="${c}"]`).getAttribute("data-change");
    expect(await change("channel")).toBe("added");
    expect(await change("flag")).toBe("removed");
    expect(await change("amount")).toBe("stats_changed");
    expect(await change("country")).toBe("stats_changed");
    expect(await table.locator('tr[data-column="amount"] [data-stat="mean"]').getAttribute("data-notable")).toBe("true");
    expect(await table.locator('tr[data-column="age"] [data-stat="missing_share"]').getAttribute("data-notable")).toBe("true");
    await table.locator('tr[data-column="country"] [data-category-added="DK"]').waitFor();
    expect(await page.getByTestId("rows-delta").textContent()).toBe("+60");
    expect(await page.getByTestId("schema-summary").textContent()).toBe("+1 −1 ~0");
    if (SCREENSHOTS) await page.screenshot({ path: join(docsImages, "dataset-diff.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("uploads a folder as a directory version, lists its files and previews one, and diffs two folders", async () => {
    const folder = join(dir, "images");
    mkdirSync(join(folder, "train"), { recursive: true });
    mkdirSync(join(folder, "test"), { recursive: true });
    writeFileSync(join(folder, "train", "a.bin"), Buffer.alloc(2048, 1));
    writeFileSync(join(folder, "train", "b.bin"), Buffer.alloc(4096, 2));
    writeFileSync(join(folder, "test", "c.bin"), Buffer.alloc(1024, 3));
    writeFileSync(join(folder, "labels.csv"), "file,label\ntrain/a.bin,cat\ntrain/b.bin,dog\ntest/c.bin,cat\n");
    await page.goto(`${baseUrl}/datasets`);
    await uploadThroughDialog("New dataset", { folder }, { name: FOLDER_DATASET, message: "images" });
    await page.getByRole("dialog").getByRole("link", { name: "Open v1" }).click();
    await page.waitForURL(`${baseUrl}/datasets/${FOLDER_DATASET}/versions/1`);
    const files = page.getByTestId("files-table").locator("tbody tr");
    await eventually(() => files.count()).toBe(4);
    expect(await files.evaluateAll((rs) => rs.map((r) => r.getAttribute("data-path")))).toEqual(["labels.csv", "test/c.bin", "train/a.bin", "train/b.bin"]);
    const preview = page.getByTestId("preview-table");
    await preview.waitFor();
    expect(await preview.locator("tbody tr").count()).toBe(3);
    const { version } = await api("GET", `/api/v1/datasets/${FOLDER_DATASET}/versions/1`);
    expect([version.kind, version.file_count, version.size]).toEqual(["directory", 4, 2048 + 4096 + 1024 + readFileSync(join(folder, "labels.csv")).length]);

    // A second folder: one file changed, one removed, one added; content already stored is not sent again.
    writeFileSync(join(folder, "train", "b.bin"), Buffer.alloc(4096, 9));
    rmSync(join(folder, "test", "c.bin"));
    writeFileSync(join(folder, "test", "d.bin"), Buffer.alloc(512, 4));
    await page.goto(`${baseUrl}/datasets/${FOLDER_DATASET}`);
    const dialog = await uploadThroughDialog("New version", { folder }, { message: "relabelled" });
    expect(await dialog.getByTestId("upload-progress").textContent()).toContain("2 already stored");
    await page.goto(`${baseUrl}/datasets/${FOLDER_DATASET}/diff?a=1&b=2`);
    const diff = page.getByTestId("file-diff");
    await diff.waitFor();
    await diff.locator('[data-file-added="test/d.bin"]').waitFor();
    await diff.locator('[data-file-removed="test/c.bin"]').waitFor();
    await diff.locator('[data-file-changed="train/b.bin"]').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("uploads a file over 5 MiB in parallel parts and commits it intact", async () => {
    const big = join(dir, "v3", "transactions.csv");
    mkdirSync(join(dir, "v3"));
    // About 12 MiB of rows: three parts of 5 MiB, the last one shorter.
    writeFileSync(big, transactions(2, 500_000));
    const bytes = readFileSync(big);
    expect(bytes.length).toBeGreaterThan(10 * 1024 * 1024);
    const parts: string[] = [];
    const onRequest = (r: { url(): string; method(): string }) => {
      if (r.method() === "PUT" && /\/api\/v1\/blobs\/uploads\/[^/]+\/parts\/\d+$/.test(r.url())) parts.push(r.url());
    };
    page.on("request", onRequest);
    await page.goto(`${baseUrl}/datasets/${DATASET}`);
    await page.getByRole("heading", { level: 1, name: DATASET }).waitFor();
    // Half a million rows are hashed and profiled in the browser first: give it the test's own budget.
    await uploadThroughDialog("New version", { file: big }, { message: "a full month" }, 200_000);
    page.off("request", onRequest);
    expect(parts.length).toBe(Math.ceil(bytes.length / (5 * 1024 * 1024)));
    const { version } = await api("GET", `/api/v1/datasets/${DATASET}/versions/3`);
    expect([version.sha256, version.size, version.row_count, version.profile_source]).toEqual([sha256(bytes), bytes.length, 500_000, "client"]);
    const download = await fetch(`${baseUrl}/api/v1/datasets/${DATASET}/versions/3/download`);
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(bytes));
    expect(pageErrors).toEqual([]);
   }, 240_000); // hashing and profiling half a million rows in the browser takes a while on a busy machine

  it("cancels an upload mid-way: the multipart upload is aborted and neither the new dataset nor a version remains", async () => {
    const name = `cancelled-${suffix}`;
    const file = join(dir, "weights.bin");
    const bytes = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(file, bytes);
    // Hold every part in flight, so the upload is certainly still running when Cancel is clicked.
    const held: { abort(): Promise<void> }[] = [];
    await page.route(/\/api\/v1\/blobs\/uploads\/[^/]+\/parts\/\d+$/, (route) => void held.push(route));
    const aborted: string[] = [];
    const onRequest = (r: { url(): string; method(): string }) => {
      if (r.method() === "DELETE" && /\/api\/v1\/blobs\/uploads\/[^/]+$/.test(r.url())) aborted.push(r.url());
    };
    page.on("request", onRequest);
    try {
      await page.goto(`${baseUrl}/datasets`);
      await page.getByRole("button", { name: "New dataset" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Name").fill(name);
      await dialog.getByLabel("Choose file").setInputFiles(file);
      await dialog.getByRole("button", { name: "Upload and commit" }).click();
      await eventually(() => held.length).toBe(2);
      expect(await dialog.getByTestId("upload-progress").getAttribute("data-phase")).toBe("uploading");
      await dialog.getByRole("button", { name: "Cancel upload" }).click();
      await eventually(() => dialog.getByTestId("upload-progress").getAttribute("data-phase")).toBe("cancelled");
      expect(await dialog.getByTestId("upload-progress").textContent()).toContain("Cancelled: nothing was committed.");
    } finally {
      page.off("request", onRequest);
      await page.unroute(/\/api\/v1\/blobs\/uploads\/[^/]+\/parts\/\d+$/);
      await Promise.all(held.map((r) => r.abort().catch(() => undefined)));
    }
    expect(aborted).toHaveLength(1);
    expect((await fetch(aborted[0])).status).toBe(404);
    expect((await fetch(`${baseUrl}/api/v1/datasets/${name}`)).status).toBe(404);
    expect(pageErrors).toEqual([]);
  });

  it("draws the lineage graph from a dataset version through a run to a model version, with working links", async () => {
    const experimentId = (await api("POST", "/api/2.0/mlflow/experiments/create", { name: `datasets-ui-${suffix}` })).experiment_id;
    const newRun = async (name: string) => (await api("POST", "/api/2.0/mlflow/runs/create", { experiment_id: experimentId, run_name: name, start_time: Date.now() })).run.info;
    // The training run read v1 (training) and v2 (validation) and produced a model version; an evaluation run read v1.
    const run = await newRun("train-fraud");
    const evaluation = await newRun("evaluate-fraud");
    await api("POST", `/api/v1/runs/${run.run_id}/dataset-inputs`, { dataset: DATASET, version: 1, context: "training" });
    await api("POST", `/api/v1/runs/${run.run_id}/dataset-inputs`, { dataset: DATASET, version: 2, context: "validation" });
    await api("POST", `/api/v1/runs/${evaluation.run_id}/dataset-inputs`, { dataset: DATASET, version: 1, context: "evaluation" });
    await api("POST", "/api/2.0/mlflow/registered-models/create", { name: MODEL });
    await api("POST", "/api/2.0/mlflow/model-versions/create", { name: MODEL, source: `runs:/${run.run_id}/model`, run_id: run.run_id });
    const { version } = await api("GET", `/api/v1/datasets/${DATASET}/versions/1`);

    await page.goto(`${baseUrl}/datasets/${DATASET}/versions/1`);
    await page.getByRole("link", { name: "Lineage", exact: true }).click();
    await page.waitForURL(/\/lineage\?object=dataset_version/);
    const graph = page.getByTestId("lineage-graph");
    await graph.waitFor();
    const nodes = graph.locator("g[data-node-id]");
    // Downstream of v1: both runs and the model version (v2 is upstream of the training run, not downstream of v1).
    await eventually(() => nodes.count()).toBe(4);
    expect((await nodes.evaluateAll((gs) => gs.map((g) => g.getAttribute("data-node-kind")))).sort()).toEqual(["dataset_version", "model_version", "run", "run"]);
    expect(await graph.locator(`g[data-node-id="dataset_version:${version.id}"]`).getAttribute("data-root")).toBe("true");
    expect(await graph.locator("g[data-edge-kind]").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-edge-kind")).sort())).toEqual(["input", "input", "produced"]);
    await noOverlap(graph);
    // Data flows left to right.
    const x = async (id: string) => Number(await graph.locator(`g[data-node-id="${id}"]`).getAttribute("data-x"));
    expect(await x(`dataset_version:${version.id}`)).toBeLessThan(await x(`run:${run.run_id}`));
    expect(await x(`run:${run.run_id}`)).toBeLessThan(await x(`model_version:${MODEL}/1`));

    // Downstream depth 1 stops at the runs.
    await page.getByLabel("Downstream").selectOption("1");
    await eventually(() => nodes.count()).toBe(3);
    await page.getByLabel("Downstream").selectOption("3");
    await eventually(() => nodes.count()).toBe(4);

    await graph.getByRole("link", { name: new RegExp(`^Model version ${MODEL} v1`) }).click();
    await page.waitForURL(`${baseUrl}/models/${MODEL}/versions/1`);
    await page.goBack();
    await graph.getByRole("link", { name: /^Run train-fraud/ }).click();
    await page.waitForURL(`${baseUrl}/experiments/${experimentId}/runs/${run.run_id}`);

    // From the training run (its page links to its lineage): both versions upstream, the model version
    // downstream; the evaluation run is a sibling, not shown.
    await page.getByRole("link", { name: "Lineage", exact: true }).click();
    await page.waitForURL(`${baseUrl}/lineage?kind=run&id=${run.run_id}`);
    await eventually(() => nodes.count()).toBe(4);
    expect(await nodes.evaluateAll((gs) => gs.map((g) => g.getAttribute("data-node-id")).sort())).toEqual(
      [`dataset_version:${version.id}`, `dataset_version:${(await api("GET", `/api/v1/datasets/${DATASET}/versions/2`)).version.id}`, `model_version:${MODEL}/1`, `run:${run.run_id}`].sort(),
    );
    await noOverlap(graph);
    if (SCREENSHOTS) await page.getByTestId("lineage").screenshot({ path: join(docsImages, "lineage.png") });
    await graph.getByRole("link", { name: `Dataset version ${DATASET} v1` }).click();
    await page.waitForURL(`${baseUrl}/datasets/${DATASET}/versions/1`);
    if (SCREENSHOTS) {
      await page.getByTestId("preview-table").waitFor();
      await page.getByTestId("lineage-graph").waitFor();
      await page.screenshot({ path: join(docsImages, "dataset-version.png"), fullPage: true });
    }
    expect(pageErrors).toEqual([]);
  });

  it("says which statistics of a streamed profile are approximate, and by how much", async () => {
    const name = `streamed-${suffix}`;
    // A profile as the CLI streams it from a large file, with the exact limits set low so a small table shows it.
    const acc = new ProfileAccumulator("csv", ["amount", "token"], { exactValues: 100, exactDistinct: 50 });
    const r = rng(3);
    for (let i = 0; i < 2000; i++) acc.addRow([(r() * 100).toFixed(2), `t${Math.floor(r() * 500)}`]);
    const profile = acc.finish();
    const content = "amount,token\n1,t1\n";
    const put = await fetch(`${baseUrl}/api/v1/blobs/${sha256(content)}`, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: content });
    expect(put.status).toBe(200);
    await api("POST", "/api/v1/datasets", { name });
    await api("POST", `/api/v1/datasets/${name}/versions`, { sha256: sha256(content), file_name: "big.csv", profile });
    try {
      await page.goto(`${baseUrl}/datasets/${name}/versions/1`);
      await eventually(() => page.getByTestId("profile-summary").textContent()).toContain("approximate (streamed from a large file)");
      const amount = page.locator('[data-testid="column-profile"][data-column="amount"]');
      expect(await amount.getByTestId("approximate-quantiles").textContent()).toContain("±1.0% of rank");
      const token = page.locator('[data-testid="column-profile"][data-column="token"]');
      expect(await token.getByTestId("approximate-top").textContent()).toContain(`up to ${profile.columns[1].top_count_error!.toLocaleString("en-US")} low`);
      // An exact profile (the server's, of the small file itself) shows no such notes.
      await api("POST", `/api/v1/datasets/${name}/versions`, { sha256: sha256(content), file_name: "small.csv" });
      await page.goto(`${baseUrl}/datasets/${name}/versions/2`);
      await eventually(() => page.getByTestId("profile-summary").textContent()).toContain("computed by the server");
      expect(await page.getByTestId("profile-summary").textContent()).not.toContain("approximate");
      expect(await page.getByTestId("approximate-quantiles").count()).toBe(0);
      expect(await page.getByTestId("approximate-top").count()).toBe(0);
    } finally {
      await api("DELETE", `/api/v1/datasets/${name}`).catch(() => undefined);
    }
  });

  it("lists datasets with their latest version, size and rows, and finds them by search", async () => {
    await page.goto(`${baseUrl}/datasets`);
    const row = page.getByTestId("datasets-table").locator(`tr[data-dataset="${DATASET}"]`);
    await row.waitFor();
    expect(await row.getByTestId("latest-version").textContent()).toContain("v3");
    expect(await row.getByTestId("rows").textContent()).toBe("500,000");
    await page.getByLabel("Search datasets").fill(`images-${suffix}`);
    await eventually(() => page.getByTestId("datasets-table").locator("tbody tr[data-dataset]").count()).toBe(1);
    expect(await page.getByTestId("datasets-table").locator("tbody tr[data-dataset]").getAttribute("data-dataset")).toBe(FOLDER_DATASET);
  });

  it("edits a dataset's description and tags, filters the list by tag, and deletes the dataset after confirming", async () => {
    await page.goto(`${baseUrl}/datasets/${FOLDER_DATASET}`);
    await page.getByRole("heading", { level: 1, name: FOLDER_DATASET }).waitFor();
    await page.getByRole("button", { name: "Edit" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Description").fill("Labelled product photos");
    await dialog.getByLabel("Tags").fill(`team=vision\nsuffix=${suffix}`);
    await dialog.getByRole("button", { name: "Save" }).click();
    await eventually(() => page.getByTestId("dataset-description").textContent()).toBe("Labelled product photos");
    expect(await page.getByTestId("dataset-tags").textContent()).toContain("team=vision");

    await page.goto(`${baseUrl}/datasets`);
    await page.getByLabel("Filter by tags (key=value)").fill(`suffix=${suffix}`);
    const rows = page.getByTestId("datasets-table").locator("tbody tr[data-dataset]");
    await eventually(() => rows.evaluateAll((rs) => rs.map((r) => r.getAttribute("data-dataset")))).toEqual([FOLDER_DATASET]);

    await page.goto(`${baseUrl}/datasets/${FOLDER_DATASET}`);
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete dataset" }).click();
    await page.waitForURL(`${baseUrl}/datasets`);
    const res = await fetch(`${baseUrl}/api/v1/datasets/${FOLDER_DATASET}`);
    expect(res.status).toBe(404);
    expect(pageErrors).toEqual([]);
  });
});
