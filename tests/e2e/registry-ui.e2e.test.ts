/**
 * The model registry UI in Chromium against a real `wrangler dev`: a model with two versions
 * registered from a run over MLflow's REST API, then walked as a user would: models list → model
 * page (alias, description, tags) → version page (stage transition archiving the old Production,
 * download URI) → list again → rename and delete. Also registering from the dialog, and search with
 * page-token paging.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { collectErrors, launch } from "./browser";

const baseUrl = inject("baseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
const MODEL = `churn-${suffix}`;
const RENAMED = `churn-renamed-${suffix}`;
const RUN_NAME = `xgb-train-${suffix}`;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
/** Everything made here, removed afterwards: the open-mode server is shared by every e2e file. */
const experimentIds: string[] = [];
const modelNames = new Set<string>();
let experimentId = "";
let runId = "";
let artifactUri = "";

async function mlflow<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: Record<string, unknown>): Promise<{ status: number; json: T }> {
  const url = new URL(`${baseUrl}/api/2.0/mlflow/${path}`);
  if (method === "GET") for (const [k, v] of Object.entries(body ?? {})) url.searchParams.set(k, String(v));
  const res = await fetch(url, {
    method,
    headers: method === "GET" ? {} : { "Content-Type": "application/json" },
    body: method === "GET" ? undefined : JSON.stringify(body ?? {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

async function ok<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: Record<string, unknown>): Promise<T> {
  const res = await mlflow<T>(method, path, body);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

interface Version {
  version: string;
  current_stage: string;
  aliases?: string[];
}

const getVersion = async (name: string, version: string) => (await ok<{ model_version: Version }>("GET", "model-versions/get", { name, version })).model_version;

async function seed(): Promise<void> {
  experimentId = (await ok<{ experiment_id: string }>("POST", "experiments/create", { name: `registry-ui-${suffix}` })).experiment_id;
  experimentIds.push(experimentId);
  const { run } = await ok<{ run: { info: { run_id: string; artifact_uri: string } } }>("POST", "runs/create", {
    experiment_id: experimentId,
    run_name: RUN_NAME,
    start_time: Date.now() - 600_000,
  });
  runId = run.info.run_id;
  artifactUri = run.info.artifact_uri;
  await ok("POST", "registered-models/create", { name: MODEL });
  modelNames.add(MODEL);
  for (let i = 0; i < 2; i++) await ok("POST", "model-versions/create", { name: MODEL, source: `runs:/${runId}/model`, run_id: runId });
  await ok("POST", "model-versions/transition-stage", { name: MODEL, version: "1", stage: "Production", archive_existing_versions: false });
}

const modelRow = (p: Page, name: string) => p.getByTestId("models-table").locator(`tr[data-model-name="${name}"]`);
const modelRows = (p: Page) => p.getByTestId("models-table").locator("tbody tr[data-model-name]");

beforeAll(async () => {
  await seed();
  browser = await launch();
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  collectErrors(page, pageErrors);
});

afterAll(async () => {
  await browser?.close();
  // The app test expects /models and /experiments to show their empty states.
  for (const name of modelNames) await mlflow("DELETE", "registered-models/delete", { name }).catch(() => undefined);
  for (const id of experimentIds) await mlflow("POST", "experiments/delete", { experiment_id: id }).catch(() => undefined);
});

describe("the model registry UI", () => {
  it("registers a model from the dialog, shows a taken name's error in place, and opens the empty model", async () => {
    const name = `fresh-${suffix}`;
    await page.goto(`${baseUrl}/models`);
    await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
    await modelRow(page, MODEL).waitFor();

    await page.getByRole("button", { name: "Register model" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(MODEL);
    await dialog.getByRole("button", { name: "Register" }).click();
    expect(await dialog.getByRole("alert").textContent()).toContain(`Registered Model (name=${MODEL}) already exists.`);

    await dialog.getByLabel("Name").fill(name);
    await dialog.getByLabel(/Description/).fill("scores new sign-ups");
    await dialog.getByRole("button", { name: "Register" }).click();
    modelNames.add(name);
    await page.waitForURL(`${baseUrl}/models/${name}`);
    await page.getByRole("heading", { level: 1, name }).waitFor();
    expect(await page.getByTestId("description-text").textContent()).toBe("scores new sign-ups");
    await page.getByTestId("versions-table").getByText("No versions yet").waitFor();
    expect(await page.getByTestId("versions-table").textContent()).toContain(`mlflow.register_model("runs:/RUN_ID/model", "${name}")`);
    expect(pageErrors).toEqual([]);
  });

  it("walks list → model → version: alias, description, tags, stage transition, download URI; then renames and deletes", async () => {
    await page.goto(`${baseUrl}/models`);
    const row = modelRow(page, MODEL);
    await row.waitFor();
    const latest = row.getByTestId("latest-versions");
    await expect.poll(() => latest.textContent()).toMatch(/v1\s*Production/);
    expect(await latest.textContent()).toMatch(/v2\s*None/);

    // Search narrows by name; a search that matches nothing says so.
    await page.getByLabel("Search models by name").fill(`CHURN-${suffix}`);
    await expect.poll(() => modelRows(page).count()).toBe(1);
    await page.getByLabel("Search models by name").fill(`no-such-${suffix}`);
    await page.getByTestId("models-table").getByText(`No model name contains “no-such-${suffix}”`).waitFor();
    await page.getByLabel("Search models by name").fill("");
    await row.waitFor();

    // Model page: versions newest first, each linked to the run it came from.
    await row.getByRole("link", { name: MODEL }).click();
    await page.waitForURL(`${baseUrl}/models/${MODEL}`);
    await page.getByRole("heading", { level: 1, name: MODEL }).waitFor();
    const versions = page.getByTestId("versions-table");
    await expect.poll(() => versions.locator("tbody tr[data-version]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-version")))).toEqual(["2", "1"]);
    const runLink = versions.locator('tr[data-version="2"]').getByRole("link", { name: RUN_NAME });
    await runLink.waitFor();
    expect(await runLink.getAttribute("href")).toBe(`/experiments/${experimentId}/runs/${runId}`);
    expect(await versions.locator('tr[data-version="1"]').getByTestId("stage-badge").textContent()).toBe("Production");

    // Aliases: a reserved name is refused in place, then champion goes on version 2.
    const aliases = page.getByTestId("aliases");
    await aliases.getByLabel("Alias", { exact: true }).fill("latest");
    await aliases.getByRole("button", { name: "Set alias" }).click();
    expect(await aliases.getByRole("alert").textContent()).toContain("'latest' alias name (case insensitive) is reserved.");
    await aliases.getByLabel("Alias", { exact: true }).fill("champion");
    await aliases.getByLabel("Version for the alias").selectOption("2");
    await aliases.getByRole("button", { name: "Set alias" }).click();
    await aliases.locator('[data-alias="champion"]').waitFor();
    expect(await aliases.locator('[data-alias="champion"]').textContent()).toContain("v2");
    await versions.locator('tr[data-version="2"] [data-alias="champion"]').waitFor();
    expect(await aliases.getByRole("alert").count()).toBe(0);
    expect((await getVersion(MODEL, "2")).aliases).toEqual(["champion"]);

    // Description, edited in place and saved with registered-models/update.
    const description = page.getByTestId("description");
    await description.getByRole("button", { name: "Edit model description" }).click();
    await description.getByLabel("Model description").fill("Predicts churn.\nRetrained weekly.");
    await description.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => description.getByTestId("description-text").textContent()).toBe("Predicts churn.\nRetrained weekly.");
    const model = await ok<{ registered_model: { description?: string } }>("GET", "registered-models/get", { name: MODEL });
    expect(model.registered_model.description).toBe("Predicts churn.\nRetrained weekly.");

    // Tags: added, then removed.
    const tags = page.getByTestId("tags");
    await tags.getByLabel("Tag key").fill("team");
    await tags.getByLabel("Tag value").fill("retention");
    await tags.getByRole("button", { name: "Add tag" }).click();
    await tags.locator('[data-tag-key="team"]').getByText("retention").waitFor();
    await tags.getByRole("button", { name: "Remove tag team" }).click();
    await tags.locator('[data-tag-key="team"]').waitFor({ state: "detached" });
    await tags.getByText("No tags.").waitFor();

    // Version page: source, run, download URI (copied), and the move to Production archiving version 1.
    await versions.getByRole("link", { name: "Version 2" }).click();
    await page.waitForURL(`${baseUrl}/models/${MODEL}/versions/2`);
    await page.getByRole("heading", { level: 1, name: `${MODEL} Version 2` }).waitFor();
    const overview = page.getByTestId("version-overview");
    expect(await overview.textContent()).toContain(`runs:/${runId}/model`);
    expect(await page.getByTestId("source-run").getByRole("link", { name: RUN_NAME }).getAttribute("href")).toBe(`/experiments/${experimentId}/runs/${runId}`);
    const { artifact_uri } = await ok<{ artifact_uri: string }>("GET", "model-versions/get-download-uri", { name: MODEL, version: "2" });
    expect(artifact_uri).toBe(`${artifactUri}/model`);
    const downloadUri = page.getByTestId("download-uri");
    await downloadUri.getByText(artifact_uri).waitFor();
    await downloadUri.getByRole("button", { name: "Copy download URI" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(artifact_uri);
    await page.getByTestId("aliases").locator('[data-alias="champion"]').waitFor();

    const stage = page.getByTestId("stage");
    expect(await stage.getByTestId("stage-badge").textContent()).toBe("None");
    const archive = stage.getByLabel(/Archive existing versions/);
    expect(await archive.isDisabled()).toBe(true);
    await stage.getByLabel("Move to").selectOption("Production");
    expect(await archive.isDisabled()).toBe(false);
    await archive.check();
    await stage.getByRole("button", { name: "Transition" }).click();
    await expect.poll(() => stage.getByTestId("stage-badge").textContent()).toBe("Production");
    expect(await stage.getByRole("alert").count()).toBe(0);
    expect((await getVersion(MODEL, "2")).current_stage).toBe("Production");
    expect((await getVersion(MODEL, "1")).current_stage).toBe("Archived");

    // Back on the list: the newest version per stage and the alias.
    await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Models" }).click();
    await page.waitForURL(`${baseUrl}/models`);
    await expect.poll(() => latest.textContent()).toMatch(/v2\s*Production/);
    expect(await latest.textContent()).toMatch(/v1\s*Archived/);
    expect(await latest.textContent()).not.toContain("None");
    expect(await row.locator('[data-alias="champion"]').textContent()).toContain("v2");
    expect(await row.textContent()).toContain("Predicts churn.");

    // Rename, then delete with the confirm dialog.
    await row.getByRole("link", { name: MODEL }).click();
    await page.getByRole("heading", { level: 1, name: MODEL }).waitFor();
    await page.getByRole("button", { name: "Rename" }).click();
    const renameDialog = page.getByRole("dialog");
    expect(await renameDialog.getByLabel("New name").inputValue()).toBe(MODEL);
    await renameDialog.getByLabel("New name").fill(RENAMED);
    await renameDialog.getByRole("button", { name: "Rename" }).click();
    modelNames.add(RENAMED);
    await page.waitForURL(`${baseUrl}/models/${RENAMED}`);
    await page.getByRole("heading", { level: 1, name: RENAMED }).waitFor();
    await page.getByTestId("versions-table").locator('tr[data-version="2"] [data-alias="champion"]').waitFor();
    expect((await mlflow("GET", "registered-models/get", { name: MODEL })).status).toBe(404);

    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("This cannot be undone.").waitFor();
    await confirm.getByRole("button", { name: "Delete model" }).click();
    await page.waitForURL(`${baseUrl}/models`);
    await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
    await expect.poll(() => page.getByRole("link", { name: RENAMED }).count()).toBe(0);
    expect((await mlflow("GET", "registered-models/get", { name: RENAMED })).status).toBe(404);
    expect(pageErrors).toEqual([]);
  });

  it("deletes a version from its page and shows a missing version's error", async () => {
    const name = `versions-${suffix}`;
    await ok("POST", "registered-models/create", { name });
    modelNames.add(name);
    for (let i = 0; i < 2; i++) await ok("POST", "model-versions/create", { name, source: `runs:/${runId}/model`, run_id: runId });

    await page.goto(`${baseUrl}/models/${name}/versions/1`);
    await page.getByRole("heading", { level: 1, name: `${name} Version 1` }).waitFor();
    await page.getByRole("button", { name: "Delete version" }).click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByRole("button", { name: "Delete version" }).click();
    await page.waitForURL(`${baseUrl}/models/${name}`);
    await expect.poll(() => page.getByTestId("versions-table").locator("tbody tr[data-version]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-version")))).toEqual(["2"]);

    await page.goto(`${baseUrl}/models/${name}/versions/1`);
    await page.getByRole("heading", { level: 1, name: "Model version not found" }).waitFor();
    expect(await page.getByRole("alert").textContent()).toContain(`Model Version (name=${name}, version=1) not found`);
    await page.goto(`${baseUrl}/models/no-such-model-${suffix}`);
    await page.getByRole("heading", { level: 1, name: "Model not found" }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("searches and pages through many models with page tokens and a page size", async () => {
    const prefix = `paged-${suffix}`;
    const names = Array.from({ length: 12 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
    for (const name of names) {
      await ok("POST", "registered-models/create", { name });
      modelNames.add(name);
    }
    await page.goto(`${baseUrl}/models`);
    await page.getByLabel("Search models by name").fill(prefix);
    await expect.poll(() => modelRows(page).count()).toBe(12);
    const pager = page.getByRole("navigation", { name: "models pages" });
    await pager.getByLabel("Per page").selectOption("10");
    await expect.poll(() => modelRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-model-name")))).toEqual(names.slice(0, 10));
    expect(await pager.getByRole("button", { name: "Previous page of models" }).isDisabled()).toBe(true);

    await pager.getByRole("button", { name: "Next page of models" }).click();
    await expect.poll(() => modelRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-model-name")))).toEqual(names.slice(10));
    expect(await pager.textContent()).toContain("Page 2");
    expect(await pager.getByRole("button", { name: "Next page of models" }).isDisabled()).toBe(true);

    await page.getByRole("button", { name: "Sort by Name" }).click();
    await expect.poll(() => modelRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-model-name")))).toEqual(names.slice(2).reverse());
    expect(await pager.textContent()).toContain("Page 1");

    await pager.getByRole("button", { name: "Next page of models" }).click();
    await expect.poll(() => modelRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-model-name")))).toEqual(names.slice(0, 2).reverse());
    await pager.getByRole("button", { name: "Previous page of models" }).click();
    await expect.poll(() => modelRows(page).count()).toBe(10);
    expect(pageErrors).toEqual([]);
  });
});
