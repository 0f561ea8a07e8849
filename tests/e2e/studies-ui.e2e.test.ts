/**
 * The study dashboard in Chromium against a real `wrangler dev`: a single-objective study (with a
 * tracking experiment, intermediate values, pruned, failed and running trials) and a two-objective
 * study are run over the HTTP API, then walked as a user would: studies list (search) → study page
 * (every chart drawn, the trial table's state filter and sort, live refresh of a running trial) →
 * the multi-objective study's Pareto front.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { launch, openPage } from "./browser";

const baseUrl = inject("baseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
const SINGLE = `lr-depth-${suffix}`;
const MULTI = `pareto-${suffix}`;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
const studyIds: string[] = [];
let experimentId = "";
let single = "";
let multi = "";
let runningTrial = -1;
const PRUNED = [5, 11];
const FAILED = 8;
const N_SINGLE = 24;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

type Asked = { trial_number: number; params: Record<string, number | string> };
const SPACE = {
  lr: { type: "float", low: 1e-4, high: 1, log: true },
  depth: { type: "int", low: 1, high: 10 },
  optimizer: { type: "categorical", choices: ["adam", "sgd", "rmsprop"] },
};
const PENALTY: Record<string, number> = { adam: 0, sgd: 0.5, rmsprop: 0.3 };
const objective = (p: Asked["params"]) => (Math.log10(p.lr as number) + 2) ** 2 + 0.1 * ((p.depth as number) - 6) ** 2 + PENALTY[p.optimizer as string];

async function seed(): Promise<void> {
  experimentId = (await call<{ experiment_id: string }>("POST", "/api/2.0/mlflow/experiments/create", { name: `tuning-${suffix}` })).experiment_id;
  single = (await call<{ study_id: string }>("POST", "/api/v1/studies", { name: SINGLE, sampler: { type: "random", seed: 7 }, experiment_id: experimentId })).study_id;
  studyIds.push(single);
  for (let i = 0; i < N_SINGLE; i++) {
    const asked = await call<Asked>("POST", `/api/v1/studies/${single}/ask`, { search_space: SPACE });
    const n = asked.trial_number;
    if (i === N_SINGLE - 1) {
      // Left RUNNING: the page polls while it runs, and the test tells it later.
      runningTrial = n;
      await call("POST", `/api/v1/studies/${single}/trials/${n}/report`, { step: 0, value: objective(asked.params) + 1 });
      break;
    }
    const f = objective(asked.params);
    const steps = PRUNED.includes(n) ? 2 : 5;
    for (let step = 0; step < steps; step++) await call("POST", `/api/v1/studies/${single}/trials/${n}/report`, { step, value: f + 1 / (step + 1) });
    if (PRUNED.includes(n)) await call("POST", `/api/v1/studies/${single}/trials/${n}/tell`, { state: "PRUNED" });
    else if (n === FAILED) await call("POST", `/api/v1/studies/${single}/trials/${n}/tell`, { state: "FAIL" });
    else await call("POST", `/api/v1/studies/${single}/trials/${n}/tell`, { values: [f] });
  }

  multi = (await call<{ study_id: string }>("POST", "/api/v1/studies", { name: MULTI, directions: ["minimize", "minimize"], sampler: { type: "random", seed: 3 } })).study_id;
  studyIds.push(multi);
  for (let i = 0; i < 16; i++) {
    const asked = await call<Asked>("POST", `/api/v1/studies/${multi}/ask`, {
      search_space: { x: { type: "float", low: 0, high: 1 }, y: { type: "float", low: 0, high: 1 } },
    });
    const { x, y } = asked.params as { x: number; y: number };
    await call("POST", `/api/v1/studies/${multi}/trials/${asked.trial_number}/tell`, { values: [x, 1 - Math.sqrt(x) + y] });
  }
}

const trialRows = (p: Page) => p.getByTestId("trials-table").locator("tbody tr[data-trial]");
const rowStates = async (p: Page) => trialRows(p).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-state")));
/** Canvas charts: the number of x rows the chart was given, once its canvas is on the page. */
async function plotted(p: Page, testid: string): Promise<number> {
  const chart = p.getByTestId(testid);
  await chart.locator("canvas").first().waitFor();
  return Number(await chart.locator("[data-points]").first().getAttribute("data-points"));
}

beforeAll(async () => {
  await seed();
  ({ browser, page } = await openPage(pageErrors, { width: 1400, height: 1000 }));
});

afterAll(async () => {
  await browser?.close();
  // The open-mode server is shared by every e2e file: leave no studies or experiments behind.
  for (const id of studyIds) await call("DELETE", `/api/v1/studies/${id}`).catch(() => undefined);
  if (experimentId) await call("POST", "/api/2.0/mlflow/experiments/delete", { experiment_id: experimentId }).catch(() => undefined);
});

describe("the study dashboard", () => {
  it("lists studies with their directions, sampler and trial counts, and searches them by name", async () => {
    await page.goto(`${baseUrl}/studies`);
    await page.getByRole("heading", { level: 1, name: "Studies" }).waitFor();
    const table = page.getByTestId("studies-table");
    const row = table.locator(`tr[data-study-id="${single}"]`);
    await row.waitFor();
    const text = (await row.textContent())!;
    expect(text).toContain(SINGLE);
    expect(text).toContain("minimize");
    expect(text).toContain("random");
    expect(await row.locator("[data-count=PRUNED]").textContent()).toContain("2");
    expect(await row.locator("[data-count=FAIL]").textContent()).toContain("1");
    expect(await row.locator("[data-count=RUNNING]").textContent()).toContain("1");
    expect(await table.locator(`tr[data-study-id="${multi}"]`).textContent()).toContain("2 objectives");

    await page.getByLabel("Search studies by name").fill(`PARETO-${suffix}`);
    await expect.poll(() => table.locator("tbody tr[data-study-id]").count()).toBe(1);
    expect(await table.locator("tbody tr[data-study-id]").getAttribute("data-study-id")).toBe(multi);
    await page.getByLabel("Search studies by name").fill("");
    await table.getByRole("link", { name: SINGLE }).click();
    await page.waitForURL(`${baseUrl}/studies/${single}`);
    await page.getByRole("heading", { level: 1, name: SINGLE }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("draws the history, importances, parallel coordinates, contour, slices, EDF and learning curves", async () => {
    const complete = N_SINGLE - 1 - PRUNED.length - 1;
    expect(await plotted(page, "history-chart")).toBe(complete);
    await page.getByTestId("history-log").check();
    expect(await plotted(page, "history-chart")).toBe(complete);

    // Importances come from GET …/param-importances; while the API does not serve it, the card says so.
    const doc = await call<{ paths: Record<string, unknown> }>("GET", "/api/v1/openapi.json");
    if (Object.keys(doc.paths).some((p) => p.endsWith("/param-importances"))) {
      const bars = page.getByTestId("importance-bars").locator("li[data-param]");
      await expect.poll(() => bars.count()).toBe(3);
      const names = await bars.evaluateAll((items) => items.map((i) => i.getAttribute("data-param")));
      expect([...names].sort()).toEqual(["depth", "lr", "optimizer"]);
      const shares = await bars.evaluateAll((items) => items.map((i) => parseFloat(i.lastElementChild!.textContent!)));
      expect(shares).toEqual([...shares].sort((a, b) => b - a));
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
    } else {
      await expect.poll(() => page.getByRole("status").filter({ hasText: "Importances unavailable" }).count()).toBe(1);
    }

    // One polyline per finished trial, and one axis per param plus the objective.
    const parallel = page.getByTestId("parallel-coordinates");
    expect(await parallel.locator("path[role=presentation]").count()).toBe(complete);

    const contour = page.getByTestId("contour-chart");
    await contour.locator("canvas").first().waitFor();
    expect(Number(await contour.locator("[data-points]").getAttribute("data-points"))).toBe(complete);
    // The interpolated surface paints the plot area in the colour ramp: sample the canvas for it.
    const coloured = await contour.locator("canvas").first().evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
      return n / (c.width * c.height);
    });
    expect(coloured).toBeGreaterThan(0.3);

    const slices = page.getByTestId("slice-charts");
    expect(await slices.locator("[data-param]").count()).toBe(3);
    await slices.locator("[data-param=optimizer] canvas").first().waitFor();
    expect(await plotted(page, "edf-chart")).toBeGreaterThan(1);

    // Learning curves: every reporting trial (all but none), pruned ones listed where they stopped.
    expect(await plotted(page, "intermediate-chart")).toBe(5);
    const pruned = page.getByTestId("pruned-trials");
    for (const n of PRUNED) expect(await pruned.locator(`[data-pruned-trial="${n}"]`).textContent()).toBe(`#${n} at step 1`);
    expect(await pruned.locator("[data-pruned-trial]").count()).toBe(PRUNED.length);
    expect(pageErrors).toEqual([]);
  });

  it("filters the trial table by state, sorts it, and links trials to their tracking runs", async () => {
    await expect.poll(() => trialRows(page).count()).toBe(N_SINGLE);
    await page.locator("[data-state-filter=PRUNED]").click();
    await expect.poll(() => rowStates(page)).toEqual(["PRUNED", "PRUNED"]);
    await page.locator("[data-state-filter=FAIL]").click();
    await expect.poll(() => rowStates(page)).toEqual(["PRUNED", "FAIL", "PRUNED"]);
    await page.locator("[data-state-filter=PRUNED]").click();
    await page.locator("[data-state-filter=FAIL]").click();
    await expect.poll(() => trialRows(page).count()).toBe(N_SINGLE);

    await page.getByRole("button", { name: "Sort by Objective value" }).click();
    const values = await trialRows(page).evaluateAll((rows) => rows.map((r) => r.children[2].textContent!.trim()));
    // Pruned trials carry their last intermediate value (as in Optuna); the failed and the running one have none.
    const finite = values.filter((v) => v !== "—").map(Number);
    expect(finite).toHaveLength(N_SINGLE - 2);
    expect(finite).toEqual([...finite].sort((a, b) => a - b));
    expect(values.slice(finite.length)).toEqual(["—", "—"]);
    const { study } = await call<{ study: { best_trial: { number: number } } }>("GET", `/api/v1/studies/${single}`);
    expect(await page.getByTestId("trials-table").locator(`tr[data-trial="${study.best_trial.number}"]`).textContent()).toContain("★");
    expect(await trialRows(page).locator("td", { hasText: "★" }).count()).toBe(1);

    const link = trialRows(page).first().locator("a[href*='/runs/']");
    const href = (await link.getAttribute("href"))!;
    expect(href).toMatch(new RegExp(`^/experiments/${experimentId}/runs/[0-9a-f]{32}$`));
    expect(pageErrors).toEqual([]);
  });

  it("refreshes live while a trial runs, pauses while the tab is hidden, and catches up when shown", async () => {
    await expect.poll(() => page.getByTestId("live-status").textContent()).toContain("Live");
    const row = page.getByTestId("trials-table").locator(`tr[data-trial="${runningTrial}"]`);
    expect(await row.getAttribute("data-state")).toBe("RUNNING");

    const setVisibility = (state: "hidden" | "visible") =>
      page.evaluate((s) => {
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => s });
        document.dispatchEvent(new Event("visibilitychange"));
      }, state);
    let polls = 0;
    const countPolls = (r: { url(): string }) => {
      if (r.url().includes(`/api/v1/studies/${single}/trials?`)) polls++;
    };
    await setVisibility("hidden");
    await expect.poll(() => page.getByTestId("live-status").textContent()).toContain("Paused");
    page.on("request", countPolls);
    await call("POST", `/api/v1/studies/${single}/trials/${runningTrial}/tell`, { values: [0.001] });
    // Three poll intervals with the tab hidden: no request goes out, so the row still shows RUNNING.
    await page.waitForTimeout(3 * 2000);
    expect(polls).toBe(0);
    expect(await row.getAttribute("data-state")).toBe("RUNNING");

    await setVisibility("visible");
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 15_000 }).toBe("COMPLETE");
    page.off("request", countPolls);
    expect(polls).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId("best-trial").textContent()).toContain(`Trial ${runningTrial}`);
    await expect.poll(() => page.getByTestId("live-status").textContent()).not.toContain("Live");
    expect(pageErrors).toEqual([]);
  });

  it("shows the Pareto front of a two-objective study, matching the API's best trials", async () => {
    const best = await call<{ trials: { number: number }[] }>("GET", `/api/v1/studies/${multi}/best-trials`);
    const front = best.trials.map((t) => t.number).sort((a, b) => a - b);
    expect(front.length).toBeGreaterThan(0);
    await page.goto(`${baseUrl}/studies/${multi}`);
    await page.getByRole("heading", { level: 1, name: MULTI }).waitFor();
    const chart = page.getByTestId("pareto-chart");
    await chart.locator("canvas").first().waitFor();
    const shown = (await chart.getAttribute("data-front"))!.split(",").map(Number);
    expect([...shown].sort((a, b) => a - b)).toEqual(front);
    expect(Number(await chart.locator("[data-points]").getAttribute("data-points"))).toBe(16);
    expect(await chart.textContent()).toContain(`${front.length} trial${front.length === 1 ? "" : "s"} on the front, ${16 - front.length} dominated`);
    // Each front trial is starred in the table.
    for (const n of front) expect(await page.getByTestId("trials-table").locator(`tr[data-trial="${n}"]`).textContent()).toContain("★");
    expect(pageErrors).toEqual([]);
  });

  it("shows how to run the first trial when a study has none", async () => {
    const empty = (await call<{ study_id: string }>("POST", "/api/v1/studies", { name: `empty-${suffix}` })).study_id;
    studyIds.push(empty);
    await page.goto(`${baseUrl}/studies/${empty}`);
    const snippets = page.getByTestId("empty-state");
    await snippets.waitFor();
    expect(await snippets.locator("pre").first().textContent()).toContain(`/api/v1/studies/${empty}/ask`);
    expect(pageErrors).toEqual([]);
  });
});
