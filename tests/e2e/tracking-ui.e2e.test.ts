/**
 * The tracking UI in Chromium against a real `wrangler dev`: runs logged over MLflow's REST API, then
 * walked as a user would: experiments list → runs table (sort, columns, filter, bad filter) → run
 * page (params, charts, log scale, smoothing, zoom, rename) → compare (overlaid charts, diff, parallel plot).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { launch, openPage } from "./browser";

const baseUrl = inject("baseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
const EXPERIMENT = `ridge-sweep-${suffix}`;
const COMMIT = "3f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39";
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
const experimentIds: string[] = [];
let experimentId = "";
const runIds: Record<string, string> = {};

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

/** Three runs whose loss ends near 0.2, 0.45 and 0.9 after 200 steps; alpha and optimizer differ. */
const RUNS = [
  { name: "ridge-a", alpha: "0.1", optimizer: "adam", finalLoss: 0.2, status: "FINISHED" },
  { name: "ridge-b", alpha: "0.5", optimizer: "sgd", finalLoss: 0.45, status: "FINISHED" },
  { name: "ridge-c", alpha: "1.0", optimizer: "adam", finalLoss: 0.9, status: "FAILED" },
] as const;

async function seed(): Promise<void> {
  experimentId = (await mlflow<{ experiment_id: string }>("experiments/create", { name: EXPERIMENT })).experiment_id;
  experimentIds.push(experimentId);
  const start = Date.now() - 3_600_000;
  for (const [i, r] of RUNS.entries()) {
    const t0 = start + i * 600_000;
    const { run } = await mlflow<{ run: { info: { run_id: string } } }>("runs/create", {
      experiment_id: experimentId,
      run_name: r.name,
      start_time: t0,
      tags: [
        { key: "mlflow.source.name", value: "train.py" },
        { key: "mlflow.source.git.commit", value: COMMIT },
        { key: "team", value: "forecasting" },
      ],
    });
    runIds[r.name] = run.info.run_id;
    const metrics = Array.from({ length: 200 }, (_, step) => [
      { key: "loss", value: r.finalLoss + 2 * Math.exp(-step / 25) + 0.01 * Math.sin(step), timestamp: t0 + step * 1000, step },
      { key: "accuracy", value: 1 - r.finalLoss / 2 - 0.4 * Math.exp(-step / 40), timestamp: t0 + step * 1000, step },
    ]).flat();
    await mlflow("runs/log-batch", {
      run_id: run.info.run_id,
      params: [
        { key: "alpha", value: r.alpha },
        { key: "batch_size", value: "32" },
        { key: "epochs", value: "200" },
        { key: "optimizer", value: r.optimizer },
      ],
      metrics,
    });
    await mlflow("runs/update", { run_id: run.info.run_id, status: r.status, end_time: t0 + 200_000 });
  }
}

const runRows = (p: Page) => p.getByTestId("runs-table").locator("tbody tr[data-run-id]");
const rowNames = async (p: Page) => (await runRows(p).locator("td:nth-child(2)").allTextContents()).map((t) => t.trim());

beforeAll(async () => {
  await seed();
  ({ browser, page } = await openPage(pageErrors, { width: 1280, height: 900 }));
});

afterAll(async () => {
  await browser?.close();
  // The open-mode server is shared by every e2e file, and the app test expects /experiments to show
  // its empty state: put the experiments made here in the trash again.
  for (const id of experimentIds) await mlflow("experiments/delete", { experiment_id: id }).catch(() => undefined);
});

describe("the experiments and runs UI", () => {
  it("lists experiments, searches them by name, and creates one from the dialog", async () => {
    await page.goto(`${baseUrl}/experiments`);
    await page.getByRole("heading", { level: 1, name: "Experiments" }).waitFor();
    const table = page.getByTestId("experiments-table");
    await table.getByRole("link", { name: EXPERIMENT }).waitFor();
    expect(await table.locator(`tr[data-experiment-id="${experimentId}"]`).textContent()).toContain(experimentId);

    await page.getByRole("button", { name: "Log from code" }).click();
    expect(await page.getByTestId("log-from-code").locator("pre").first().textContent()).toContain("/api/2.0/mlflow/experiments/create");

    await page.getByLabel("Search experiments by name").fill(`SWEEP-${suffix}`);
    await expect.poll(() => table.locator("tbody tr[data-experiment-id]").count()).toBe(1);
    await page.getByLabel("Search experiments by name").fill(`no-such-${suffix}`);
    await table.getByText(`No experiment name contains “no-such-${suffix}”`).waitFor();
    await page.getByLabel("Search experiments by name").fill("");
    await table.getByRole("link", { name: EXPERIMENT }).waitFor();

    await page.getByRole("button", { name: "New experiment" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(EXPERIMENT);
    await dialog.getByRole("button", { name: "Create" }).click();
    expect(await dialog.getByRole("alert").textContent()).toContain("already exists");
    await dialog.getByLabel("Name").fill(`fresh-${suffix}`);
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/experiments\/\d+$/);
    experimentIds.push(page.url().split("/").pop()!);
    await page.getByRole("heading", { level: 1, name: `fresh-${suffix}` }).waitFor();
    expect(await page.getByTestId("no-runs").locator("pre").first().textContent()).toContain("curl -sS");
    expect(pageErrors).toEqual([]);
  });

  it("sorts the runs table by a metric, adds a param column, filters, and shows a bad filter's error inline", async () => {
    await page.goto(`${baseUrl}/experiments`);
    await page.getByTestId("experiments-table").getByRole("link", { name: EXPERIMENT }).click();
    await page.waitForURL(`${baseUrl}/experiments/${experimentId}`);
    await page.getByRole("heading", { level: 1, name: EXPERIMENT }).waitFor();
    await expect.poll(() => rowNames(page)).toEqual(["ridge-c", "ridge-b", "ridge-a"]);
    const first = runRows(page).first();
    expect(await first.getByTestId("status-badge").textContent()).toContain("Failed");
    expect(await first.textContent()).toContain("3m 20s");

    await page.getByRole("button", { name: "Sort by metric loss" }).click();
    await expect.poll(() => rowNames(page)).toEqual(["ridge-a", "ridge-b", "ridge-c"]);
    expect(await page.getByRole("columnheader", { name: /loss/ }).getAttribute("aria-sort")).toBe("ascending");
    await page.getByRole("button", { name: "Sort by metric loss" }).click();
    await expect.poll(() => rowNames(page)).toEqual(["ridge-c", "ridge-b", "ridge-a"]);

    expect(await page.getByRole("button", { name: "Sort by param optimizer" }).count()).toBe(0);
    await page.getByRole("button", { name: "Choose columns" }).click();
    const picker = page.getByTestId("column-picker");
    await picker.getByRole("group", { name: "Params" }).getByRole("checkbox", { name: "optimizer" }).check();
    await page.keyboard.press("Escape");
    await picker.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Sort by param optimizer" }).waitFor();
    expect(await runRows(page).filter({ hasText: "ridge-b" }).textContent()).toContain("sgd");

    const filter = page.getByLabel("Filter runs");
    await filter.fill("metrics.loss < 0.5");
    await filter.press("Enter");
    await expect.poll(() => rowNames(page)).toEqual(["ridge-b", "ridge-a"]);
    expect(new URL(page.url()).searchParams.get("filter")).toBe("metrics.loss < 0.5");

    await filter.fill("metrics.loss <<< 0.5");
    await filter.press("Enter");
    const error = page.getByTestId("filter-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("Invalid comparator '<<<'");
    expect(await filter.getAttribute("aria-invalid")).toBe("true");
    expect(await runRows(page).count()).toBe(0);

    await page.getByRole("button", { name: "Clear", exact: true }).click();
    await error.waitFor({ state: "detached" });
    await expect.poll(() => runRows(page).count()).toBe(3);
    expect(pageErrors).toEqual([]);
  });

  it("shows a run's overview, params and metric charts (log scale, smoothing, zoom) and renames it", async () => {
    await runRows(page).getByRole("link", { name: "ridge-a" }).click();
    await page.waitForURL(`${baseUrl}/experiments/${experimentId}/runs/${runIds["ridge-a"]}`);
    await page.getByRole("heading", { level: 1, name: "ridge-a" }).waitFor();

    const overview = page.getByTestId("run-overview");
    expect(await overview.textContent()).toContain(runIds["ridge-a"]);
    expect(await overview.getByTestId("git-commit").textContent()).toContain(COMMIT.slice(0, 12));
    const params = page.getByTestId("params-table");
    expect(await params.locator("tr", { hasText: "alpha" }).textContent()).toContain("0.1");
    expect(await params.locator("tr", { hasText: "optimizer" }).textContent()).toContain("adam");

    const loss = page.locator('[data-testid=metric-chart][data-metric="loss"]');
    await loss.locator("canvas").first().waitFor();
    await page.locator('[data-testid=metric-chart][data-metric="accuracy"] canvas').first().waitFor();
    expect(await loss.getByTestId("chart-legend").textContent()).toMatch(/loss\s*0\.1918/);

    await page.getByRole("switch", { name: "Log scale" }).click();
    expect(await page.getByRole("switch", { name: "Log scale" }).getAttribute("aria-checked")).toBe("true");
    await loss.locator("canvas").first().waitFor();
    await page.getByLabel("Smoothing").fill("0.8");
    await expect.poll(() => loss.getByTestId("chart-legend").textContent()).toContain("loss");
    await loss.locator("canvas").first().waitFor();

    // Drag across the plot to zoom into a range of steps, then reset.
    const plot = loss.locator(".u-over");
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await loss.getByRole("button", { name: "Reset zoom" }).click();
    await loss.getByRole("button", { name: "Reset zoom" }).waitFor({ state: "detached" });

    await page.getByRole("switch", { name: "Log scale" }).click();
    await page.getByLabel("Smoothing").fill("0");

    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByLabel("Run name").fill("ridge-a-best");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { level: 1, name: "ridge-a-best" }).waitFor();
    const renamed = await mlflow<{ run: { info: { run_name: string } } }>(`runs/get?run_id=${runIds["ridge-a"]}`);
    expect(renamed.run.info.run_name).toBe("ridge-a-best");
    await mlflow("runs/update", { run_id: runIds["ridge-a"], run_name: "ridge-a" });
    expect(pageErrors).toEqual([]);
  });

  it("compares two selected runs: overlaid charts with a legend, a diff table and parallel coordinates", async () => {
    await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: EXPERIMENT }).click();
    await page.waitForURL(`${baseUrl}/experiments/${experimentId}`);
    await expect.poll(() => runRows(page).count()).toBe(3);
    const compare = page.getByRole("button", { name: /^Compare/ });
    expect(await compare.isDisabled()).toBe(true);
    await page.getByRole("checkbox", { name: "Select ridge-a" }).check();
    await page.getByRole("checkbox", { name: "Select ridge-b" }).check();
    expect(await compare.textContent()).toContain("Compare (2)");
    await compare.click();
    await page.waitForURL(/\/compare\?runs=/);
    expect(new URL(page.url()).searchParams.get("runs")?.split(",").sort()).toEqual([runIds["ridge-a"], runIds["ridge-b"]].sort());

    await page.getByRole("heading", { level: 1, name: "Compare runs" }).waitFor();
    const loss = page.locator('[data-testid=metric-chart][data-metric="loss"]');
    await loss.locator("canvas").first().waitFor();
    const legend = await loss.getByTestId("chart-legend").textContent();
    expect(legend).toContain("ridge-a");
    expect(legend).toContain("ridge-b");

    const diff = page.getByTestId("diff-table");
    expect(await diff.locator('tr[data-section="Params"][data-key="alpha"]').getAttribute("data-differs")).toBe("true");
    expect(await diff.locator('tr[data-section="Params"][data-key="optimizer"]').getAttribute("data-differs")).toBe("true");
    expect(await diff.locator('tr[data-section="Params"][data-key="batch_size"]').getAttribute("data-differs")).toBe("false");
    await page.getByRole("switch", { name: "Only differences" }).click();
    await diff.locator('tr[data-key="batch_size"]').waitFor({ state: "detached" });
    expect(await diff.locator('tr[data-key="alpha"]').textContent()).toContain("0.5");

    const parallel = page.getByTestId("parallel-coordinates");
    expect(await parallel.locator("path").count()).toBe(2);
    await page.getByLabel("Metric for parallel coordinates").selectOption("loss");
    expect(await parallel.textContent()).toContain("loss");
    expect(pageErrors).toEqual([]);
  });
});
