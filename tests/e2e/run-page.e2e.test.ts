/**
 * The run page's artifacts, inputs, models and nested runs in Chromium against a real `wrangler dev`:
 * a parent run with uploaded artifacts (text, JSON, PNG, SVG, CSV, a nested model directory, a text
 * file longer than the preview), a dataset input, a logged model and a registered version, and a
 * child run; then walked as a user would, from the parent to the child and back.
 */
import { crc32, deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { collectErrors, launch, openPage } from "./browser";
import { TOKEN_MODE_ADMIN } from "./global-setup";

const baseUrl = inject("baseUrl");
const tokenBaseUrl = inject("tokenBaseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
const EXPERIMENT = `run-page-${suffix}`;
const MODEL = `run-page-model-${suffix}`;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
let experimentId = "";
let parentId = "";
let childId = "";
let loggedModelId = "";

async function mlflow<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}/api/2.0/mlflow/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json()) as T;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

/** A 3×2 RGB PNG, chunk by chunk. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(3, 0);
  header.writeUInt32BE(2, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = [0, 255, 0, 0, 0, 255, 0, 0, 0, 255]; // filter byte, then red, green, blue
  const pixels = Buffer.from([...row, ...row]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(pixels)), chunk("IEND", Buffer.alloc(0))]);
}

const NOTES = 'Trained on <script>alert("x")</script> & friends.\nSecond line.';
const CSV = "feature,importance\nalpha,0.61\n\"beta, with comma\",0.27\ngamma,0.12\n";
const MLMODEL = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n";
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="teal"/><script>window.pwned=1</script></svg>';
const LONG_LOG = Array.from({ length: 3000 }, (_, i) => `step ${String(i).padStart(5, "0")} loss=${(1 / (i + 1)).toFixed(6)}`).join("\n");

const ARTIFACTS: Record<string, string | Buffer> = {
  "notes.txt": NOTES,
  "metrics.json": '{"accuracy":0.93,"classes":["a","b"]}',
  "plots/loss.png": png(),
  "plots/diagram.svg": SVG,
  "data/importance.csv": CSV,
  "model/MLmodel": MLMODEL,
  "model/data/weights.bin": Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]),
  "train.log": LONG_LOG,
};

async function seed(): Promise<void> {
  experimentId = (await mlflow<{ experiment_id: string }>("experiments/create", { name: EXPERIMENT })).experiment_id;
  const create = async (name: string, tags: { key: string; value: string }[] = []) =>
    (await mlflow<{ run: { info: { run_id: string; artifact_uri: string } } }>("runs/create", { experiment_id: experimentId, run_name: name, start_time: Date.now(), tags })).run.info;
  const parent = await create("parent-run");
  parentId = parent.run_id;
  childId = (await create("child-run", [{ key: "mlflow.parentRunId", value: parentId }])).run_id;

  const root = parent.artifact_uri.replace(/^mlflow-artifacts:\/+/, "");
  for (const [path, body] of Object.entries(ARTIFACTS)) {
    const res = await fetch(`${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, { method: "PUT", body: typeof body === "string" ? body : new Uint8Array(body) });
    if (!res.ok) throw new Error(`upload ${path}: ${res.status} ${await res.text()}`);
  }

  await mlflow("runs/log-inputs", {
    run_id: parentId,
    datasets: [
      {
        tags: [{ key: "mlflow.data.context", value: "training" }],
        dataset: {
          name: "iris-train",
          digest: "d41d8cd9",
          source_type: "local",
          source: JSON.stringify({ uri: "/data/iris.csv" }),
          schema: JSON.stringify({
            mlflow_colspec: [
              { type: "double", name: "sepal_length", required: true },
              { type: "string", name: "species", required: true },
            ],
          }),
          profile: JSON.stringify({ num_rows: 150, num_elements: 300 }),
        },
      },
    ],
  });

  loggedModelId = (await mlflow<{ model: { info: { model_id: string } } }>("logged-models", { experiment_id: experimentId, name: "iris-clf", source_run_id: parentId })).model.info.model_id;
  await mlflow("runs/outputs", { run_id: parentId, models: [{ model_id: loggedModelId, step: 7 }] });

  await mlflow("registered-models/create", { name: MODEL });
  await mlflow("model-versions/create", { name: MODEL, source: `runs:/${parentId}/model`, run_id: parentId });
  for (const id of [parentId, childId]) await mlflow("runs/update", { run_id: id, status: "FINISHED", end_time: Date.now() });
}

const tree = (p: Page) => p.getByTestId("artifact-tree");
const entry = (p: Page, path: string) => tree(p).locator(`li[data-path="${path}"]`);
const preview = (p: Page) => p.getByTestId("artifact-preview");

async function openFile(p: Page, path: string, kind: string): Promise<void> {
  await entry(p, path).getByRole("button").first().click();
  await p.locator(`[data-testid=artifact-preview][data-kind="${kind}"]`).waitFor();
  expect(await preview(p).getByRole("heading", { level: 3 }).textContent()).toBe(path);
  await preview(p).getByRole("status").waitFor({ state: "detached" });
}

/** The Download link's target, checked against the bytes that were uploaded. */
async function expectDownload(p: Page, path: string): Promise<void> {
  const href = (await preview(p).getByTestId("artifact-download").getAttribute("href"))!;
  const url = new URL(href, baseUrl);
  expect(url.pathname).toBe("/get-artifact");
  expect(url.searchParams.get("run_uuid")).toBe(parentId);
  expect(url.searchParams.get("path")).toBe(path);
  expect(await entry(p, path).getByRole("link", { name: `Download ${path}` }).getAttribute("href")).toBe(href);
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-disposition")).toContain("attachment");
  expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(ARTIFACTS[path]!))).toBe(true);
}

beforeAll(async () => {
  await seed();
  ({ browser, page } = await openPage(pageErrors, { width: 1280, height: 900 }));
});

afterAll(async () => {
  await browser?.close();
  // The open-mode server is shared by every e2e file, and the app test expects /experiments to show
  // its empty state: put the experiment made here in the trash again.
  if (experimentId) await mlflow("experiments/delete", { experiment_id: experimentId }).catch(() => undefined);
});

describe("the run page", () => {
  it("browses the artifact tree and previews text, JSON, images, CSV and MLmodel files", async () => {
    await page.goto(`${baseUrl}/experiments/${experimentId}/runs/${parentId}`);
    await page.getByRole("heading", { level: 1, name: "parent-run" }).waitFor();

    await entry(page, "notes.txt").waitFor();
    const rootEntries = await tree(page).locator("ul[role=list] > li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-path")));
    expect(rootEntries).toEqual(["data", "model", "plots", "metrics.json", "notes.txt", "train.log"]);
    expect(await entry(page, "notes.txt").getByTestId("artifact-size").textContent()).toBe(`${Buffer.byteLength(NOTES)} B`);
    // Directories list lazily: nothing inside one is fetched before it is opened.
    expect(await entry(page, "model/MLmodel").count()).toBe(0);

    await openFile(page, "notes.txt", "text");
    expect(await preview(page).getByTestId("artifact-text").textContent()).toBe(NOTES);
    expect(await preview(page).locator("script").count()).toBe(0);
    await expectDownload(page, "notes.txt");

    await openFile(page, "metrics.json", "json");
    expect(await preview(page).getByTestId("artifact-text").textContent()).toBe('{\n  "accuracy": 0.93,\n  "classes": [\n    "a",\n    "b"\n  ]\n}');
    await expectDownload(page, "metrics.json");

    await openFile(page, "train.log", "text");
    const head = (await preview(page).getByTestId("artifact-text").textContent())!;
    expect(head.length).toBe(64 * 1024);
    expect(LONG_LOG.startsWith(head)).toBe(true);
    expect(await preview(page).textContent()).toContain("Showing the first 64 KiB of");

    const plots = entry(page, "plots").getByRole("button", { name: "plots", exact: true });
    expect(await plots.getAttribute("aria-expanded")).toBe("false");
    await plots.click();
    expect(await plots.getAttribute("aria-expanded")).toBe("true");
    await entry(page, "plots/loss.png").waitFor();
    await openFile(page, "plots/loss.png", "image");
    const img = preview(page).getByTestId("artifact-image");
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth)).toBe(3);
    expect(await img.evaluate((el) => (el as HTMLImageElement).naturalHeight)).toBe(2);
    await expectDownload(page, "plots/loss.png");

    await openFile(page, "plots/diagram.svg", "image");
    const svg = preview(page).getByTestId("artifact-image");
    await expect.poll(() => svg.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth)).toBe(40);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await preview(page).locator("svg rect").count()).toBe(0);

    await entry(page, "data").getByRole("button", { name: "data", exact: true }).click();
    await openFile(page, "data/importance.csv", "csv");
    const table = preview(page).getByTestId("artifact-table");
    expect(await table.locator("thead th").allTextContents()).toEqual(["feature", "importance"]);
    expect(await table.locator("tbody tr").count()).toBe(3);
    expect(await table.locator("tbody tr").nth(1).locator("td").allTextContents()).toEqual(["beta, with comma", "0.27"]);
    await expectDownload(page, "data/importance.csv");

    await entry(page, "model").getByRole("button", { name: "model", exact: true }).click();
    await entry(page, "model/MLmodel").waitFor();
    await entry(page, "model/data").getByRole("button", { name: "data", exact: true }).click();
    await entry(page, "model/data/weights.bin").waitFor();
    await openFile(page, "model/MLmodel", "text");
    expect(await preview(page).getByTestId("artifact-text").textContent()).toBe(MLMODEL);
    await openFile(page, "model/data/weights.bin", "none");
    expect(await preview(page).textContent()).toContain("No preview for this file type");
    await expectDownload(page, "model/data/weights.bin");

    // Closing a directory hides its entries.
    await entry(page, "model").getByRole("button", { name: "model", exact: true }).click();
    await entry(page, "model/MLmodel").waitFor({ state: "detached" });
    expect(pageErrors).toEqual([]);
  });

  it("shows the dataset input, the logged model and the registered version, and links to the version", async () => {
    const dataset = page.getByTestId("run-datasets").locator('[data-testid=dataset-input][data-name="iris-train"]');
    await dataset.waitFor();
    const text = (await dataset.textContent())!;
    expect(text).toContain("d41d8cd9");
    expect(text).toContain("/data/iris.csv");
    expect(text).toContain("local");
    expect(await dataset.getByTestId("dataset-context").textContent()).toBe("training");
    expect(await dataset.getByTestId("dataset-schema").locator("tbody tr").allInnerTexts()).toEqual(["sepal_length\tdouble", "species\tstring"]);
    expect(await dataset.getByTestId("dataset-profile").textContent()).toMatch(/num_rows\s*150/);

    const models = page.getByTestId("run-models");
    const logged = models.getByTestId("logged-models");
    await expect.poll(() => logged.textContent()).toContain("iris-clf");
    expect(await logged.textContent()).toContain(loggedModelId);
    const version = models.getByTestId("registered-versions").getByRole("link", { name: `${MODEL} version 1` });
    expect(await version.getAttribute("href")).toBe(`/models/${MODEL}/versions/1`);
    await version.click();
    await page.waitForURL(`${baseUrl}/models/${MODEL}/versions/1`);
    await page.getByRole("heading", { level: 1, name: new RegExp(MODEL) }).waitFor();
    await page.goBack();
    await page.getByRole("heading", { level: 1, name: "parent-run" }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("lists the child run, and the child's page links back to its parent", async () => {
    const nested = page.getByTestId("nested-runs");
    const child = nested.getByTestId("child-runs").getByRole("link", { name: "child-run" });
    await child.waitFor();
    expect(await nested.getByTestId("parent-run").count()).toBe(0);
    await child.click();
    await page.waitForURL(`${baseUrl}/experiments/${experimentId}/runs/${childId}`);
    await page.getByRole("heading", { level: 1, name: "child-run" }).waitFor();

    const parent = page.getByTestId("nested-runs").getByTestId("parent-run").getByRole("link", { name: "parent-run" });
    await parent.waitFor();
    expect(await page.getByTestId("nested-runs").textContent()).toContain("No child runs");
    expect(await page.getByTestId("no-artifacts").count()).toBe(1);
    await parent.click();
    await page.waitForURL(`${baseUrl}/experiments/${experimentId}/runs/${parentId}`);
    await page.getByRole("heading", { level: 1, name: "parent-run" }).waitFor();
    await entry(page, "notes.txt").waitFor();
    expect(pageErrors).toEqual([]);
  });
});

describe("the run page against a Tern in token mode", () => {
  const auth = { Authorization: `Bearer ${TOKEN_MODE_ADMIN}` };
  const call = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`${tokenBaseUrl}/api/2.0/mlflow/${path}`, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = (await res.json()) as T;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(data)}`);
    return data;
  };
  let tokenExperimentId = "";

  afterAll(async () => {
    if (tokenExperimentId) await call("experiments/delete", { experiment_id: tokenExperimentId }).catch(() => undefined);
  });

  it("previews an image and downloads a file with the browser's token, which a plain link could not send", async () => {
    tokenExperimentId = (await call<{ experiment_id: string }>("experiments/create", { name: `${EXPERIMENT}-token` })).experiment_id;
    const run = (await call<{ run: { info: { run_id: string; artifact_uri: string } } }>("runs/create", { experiment_id: tokenExperimentId, run_name: "guarded" })).run.info;
    const root = run.artifact_uri.replace(/^mlflow-artifacts:\/+/, "");
    for (const path of ["plots/loss.png", "notes.txt"]) {
      const body = ARTIFACTS[path]!;
      const res = await fetch(`${tokenBaseUrl}/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, { method: "PUT", headers: auth, body: typeof body === "string" ? body : new Uint8Array(body) });
      expect(res.status).toBe(200);
    }
    const unauthenticated = await fetch(`${tokenBaseUrl}/get-artifact?run_uuid=${run.run_id}&path=notes.txt`);
    expect(unauthenticated.status).toBe(401);

    const guarded = await browser.context.newPage();
    collectErrors(guarded, pageErrors);
    await guarded.addInitScript((token) => localStorage.setItem("tern.token", token), TOKEN_MODE_ADMIN);
    await guarded.goto(`${tokenBaseUrl}/experiments/${tokenExperimentId}/runs/${run.run_id}`);
    await guarded.getByRole("heading", { level: 1, name: "guarded" }).waitFor();

    await entry(guarded, "plots").getByRole("button", { name: "plots", exact: true }).click();
    await openFile(guarded, "plots/loss.png", "image");
    const img = preview(guarded).getByTestId("artifact-image");
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth)).toBe(3);

    await openFile(guarded, "notes.txt", "text");
    expect(await preview(guarded).getByTestId("artifact-text").textContent()).toBe(NOTES);
    const [download] = await Promise.all([guarded.waitForEvent("download"), preview(guarded).getByTestId("artifact-download").click()]);
    expect(download.suggestedFilename()).toBe("notes.txt");
    const saved = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of saved) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString("utf8")).toBe(NOTES);
    expect(pageErrors).toEqual([]);
    await guarded.close();
  });
});
