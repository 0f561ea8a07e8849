/**
 * The drift report page in Chromium against a real `wrangler dev`: two generated CSV files picked
 * through the file inputs, the report computed by the Web Worker pool and compared with the pure
 * drift module run here in Node on the same values; the pool really runs in Workers; cancel stops
 * a long run and the pool comes back; the exported HTML opens offline with its charts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page, Worker as PwWorker } from "playwright-core";
import { columnDrift, datasetDrift, inferColumnType, type RawValue } from "../../worker/lib/drift";
import { launch, openPage } from "./browser";
import { mulberry32, standardNormal } from "../../worker/lib/random";

const baseUrl = inject("baseUrl");
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
const workers: PwWorker[] = [];
const closedWorkers: PwWorker[] = [];
let tmp = "";

type Columns = Record<string, RawValue[]>;

/** Values generated here; written to CSV with full precision so the page reads the same numbers. */
function generate(rows: number, seed: number, drift: boolean): Columns {
  const r = mulberry32(seed);
  const normal = () => standardNormal(r);
  const cols: Columns = { stable_num: [], shifted_num: [], stable_cat: [], shifted_cat: [], small_int: [], sparse: [], note: [], tag: [] };
  for (let i = 0; i < rows; i++) {
    cols.stable_num.push(10 + normal());
    cols.shifted_num.push(drift ? 12 + 1.5 * normal() : 10 + normal());
    cols.stable_cat.push(["red", "green", "blue"][Math.floor(r() * 3)]);
    cols.shifted_cat.push(drift ? ["a", "b", "c", "d"][Math.floor(r() * 4)] : ["a", "b"][Math.floor(r() * 2)]);
    cols.small_int.push(Math.floor(r() * 5));
    // Empty in the current data: the column cannot be compared and must say so.
    cols.sparse.push(drift ? null : r());
    cols.note.push(`free text <b>${seed}-${i}</b>`);
    // Category values with markup: the page and the export must show them as text.
    cols.tag.push(["<i>x</i>", "a&b", "plain"][Math.floor(r() * 3)]);
  }
  return cols;
}

function toCsv(cols: Columns): string {
  const names = Object.keys(cols);
  const n = cols[names[0]].length;
  const cell = (v: RawValue) => (v === null || v === undefined ? "" : typeof v === "string" ? `"${v.replace(/"/g, '""')}"` : String(v));
  const lines = [names.join(",")];
  for (let i = 0; i < n; i++) lines.push(names.map((c) => cell(cols[c][i])).join(","));
  return lines.join("\n") + "\n";
}

/** The pure module's verdict per column, or the error code it raises. */
function expected(ref: Columns, cur: Columns): Record<string, boolean | string> {
  const out: Record<string, boolean | string> = {};
  for (const name of Object.keys(cur)) {
    const columnType = inferColumnType(cur[name]);
    try {
      out[name] = columnDrift(ref[name], cur[name], { columnType, column: name }).drifted;
    } catch (err) {
      out[name] = (err as { code: string }).code;
    }
  }
  return out;
}

const REF = generate(3000, 1, false);
const CUR = generate(2400, 2, true);

let picks = 0;

/**
 * Files on disk, so Chromium reads them itself as it would a user's pick (large buffers are slow
 * over the protocol). New paths each time: Chromium refuses a picked file that changed on disk.
 */
async function pickFiles(refCsv: string, curCsv: string): Promise<void> {
  picks++;
  const refPath = join(tmp, `reference-${picks}.csv`);
  const curPath = join(tmp, `current-${picks}.csv`);
  writeFileSync(refPath, refCsv);
  writeFileSync(curPath, curCsv);
  await page.getByTestId("reference-file").setInputFiles(refPath);
  await page.getByTestId("current-file").setInputFiles(curPath);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "tern-drift-e2e-"));
  ({ browser, page } = await openPage(pageErrors));
  page.on("worker", (w) => {
    workers.push(w);
    w.on("close", () => closedWorkers.push(w));
  });
});

afterAll(async () => {
  if (monitorId) await api("DELETE", `/api/v1/monitors/${monitorId}`).catch(() => undefined);
  await api("DELETE", "/api/2.0/mlflow/registered-models/delete", { name: MONITOR }).catch(() => undefined);
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

let monitorId = "";
const MONITOR = `drift-e2e-${Math.random().toString(36).slice(2, 8)}`;

describe("drift report page", () => {
  it("is linked from the monitoring page", async () => {
    // A monitor watches a registered model.
    await api("POST", "/api/2.0/mlflow/registered-models/create", { name: MONITOR });
    monitorId = (await api<{ monitor: { id: string } }>("POST", "/api/v1/monitors", { name: MONITOR, model: { name: MONITOR } })).monitor.id;
    await page.goto(`${baseUrl}/monitoring`);
    await page.getByTestId("drift-report-link").click();
    await page.waitForURL(`${baseUrl}/monitoring/drift`);
    await expect.poll(() => page.getByRole("heading", { name: "Data drift report" }).count()).toBe(1);
  });

  it("computes the same verdicts as the pure module, in Web Workers", async () => {
    await pickFiles(toCsv(REF), toCsv(CUR));
    await page.getByTestId("run").click();
    await page.getByTestId("drift-report").waitFor({ timeout: 30_000 });

    const rows = await page.getByTestId("drift-row").evaluateAll((els) =>
      els.map((el) => ({ column: el.getAttribute("data-column") as string, drifted: el.getAttribute("data-drifted") as string })),
    );
    const want = expected(REF, CUR);
    expect(Object.keys(want).sort()).toEqual(rows.map((r) => r.column).sort());
    for (const { column, drifted } of rows) {
      const w = want[column];
      if (typeof w === "boolean") expect(drifted, column).toBe(String(w));
      else expect(drifted, column).toBe("error");
    }
    // The generated data drifts where it was made to and nowhere else.
    expect(want).toMatchObject({ stable_num: false, shifted_num: true, stable_cat: false, shifted_cat: true, tag: false, sparse: "EMPTY_COLUMN", note: false });
    const errors = await page.getByTestId("column-error").allTextContents();
    expect(errors.join("\n")).toContain("An empty column 'sparse' was provided for drift calculation in the current dataset.");

    const scored = Object.values(want).filter((v): v is boolean => typeof v === "boolean");
    const summary = datasetDrift(scored.map((d) => ({ drifted: d })));
    const pctText = `${Math.round(summary.shareOfDriftedColumns * 10000) / 100}%`;
    await expect.poll(() => page.getByTestId("drift-title").textContent()).toBe(`Drift is detected for ${pctText} of columns (${summary.numberOfDriftedColumns} of ${summary.numberOfColumns}).`);

    // Sparklines in the table, the detail chart on click.
    expect(await page.locator("[data-testid=drift-table] svg.drift-sparkline").count()).toBeGreaterThanOrEqual(10);
    await page.locator('[data-testid=drift-row][data-column="shifted_cat"]').click();
    await expect.poll(() => page.getByTestId("column-detail").locator("svg.drift-detail rect").count()).toBeGreaterThan(4);

    // The pool: as many workers as the browser reports cores, created by the page itself.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const live = workers.filter((w) => !closedWorkers.includes(w));
    expect(live.length).toBe(cores);
    expect(live.every((w) => w.url().includes("/_app/immutable/workers/"))).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it("cancel stops a long run, terminates the workers and a fresh pool computes the next one", async () => {
    const big = generate(150_000, 3, false);
    const bigCur = generate(150_000, 4, true);
    await pickFiles(toCsv(big), toCsv(bigCur));
    const before = workers.length;
    await page.getByTestId("run").click();
    await page.getByTestId("progress").waitFor();
    await page.getByTestId("cancel").click();
    await page.getByTestId("cancelled").waitFor();
    expect(await page.getByTestId("drift-report").count()).toBe(0);
    // The pool's workers were terminated: none of them answers any more.
    for (const w of workers.slice(0, before)) {
      const state = await Promise.race([
        w.evaluate(() => "alive").catch(() => "gone"),
        new Promise<string>((resolve) => setTimeout(() => resolve("silent"), 3000)),
      ]);
      expect(state).not.toBe("alive");
    }
    // The run after a cancel works on new workers.
    await pickFiles(toCsv(REF), toCsv(CUR));
    await page.getByTestId("run").click();
    await page.getByTestId("drift-report").waitFor({ timeout: 30_000 });
    expect(workers.length).toBeGreaterThan(before);
    expect(pageErrors).toEqual([]);
  });

  it("exports one HTML file that opens offline with its charts", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-html").click()]);
    const file = join(tmp, "drift-report.html");
    await download.saveAs(file);
    const html = readFileSync(file, "utf8");
    expect(html).toContain("&lt;i&gt;x&lt;/i&gt;");
    expect(html).toContain("a&amp;b");
    expect(html).not.toContain("<i>x</i>");

    const offline = await browser.context.newPage();
    const requests: string[] = [];
    offline.on("request", (r) => {
      if (!r.url().startsWith("file:")) requests.push(r.url());
    });
    await browser.context.setOffline(true);
    // Every network request is refused (the file itself is read from disk, not routed).
    const network = /^(https?|wss?):/;
    await browser.context.route(network, (route) => route.abort());
    try {
      await offline.goto(pathToFileURL(file).href);
      expect(await offline.title()).toContain("Data drift");
      await expect.poll(() => offline.getByText(/Drift is detected for .* of columns/).count()).toBe(1);
      const sparklines = offline.locator("svg.drift-sparkline");
      expect(await sparklines.count()).toBeGreaterThanOrEqual(10);
      const box = await sparklines.first().boundingBox();
      expect(box?.width).toBeGreaterThan(50);
      await offline.locator("details summary").first().click();
      const detail = offline.locator("details[open] svg.drift-detail");
      expect(await detail.locator("rect").count()).toBeGreaterThan(4);
      expect((await detail.boundingBox())?.height).toBeGreaterThan(100);
      expect(requests).toEqual([]);
    } finally {
      await browser.context.unroute(network);
      await browser.context.setOffline(false);
      await offline.close();
    }
  });

  it("saves the summary, never rows, to a monitor", async () => {
    await page.getByTestId("save-to-monitor").locator("select").selectOption({ label: MONITOR });
    await page.getByTestId("save-summary").click();
    await expect.poll(() => page.getByTestId("save-message").textContent()).toContain(`Saved to ${MONITOR}`);
    const { reports } = await api<{ reports: { summary: { number_of_columns: number; number_of_drifted_columns: number; columns: { column: string; drifted: boolean; error?: string | null }[] }; current: Record<string, unknown> }[] }>(
      "GET",
      `/api/v1/monitors/${monitorId}/reports`,
    );
    expect(reports).toHaveLength(1);
    const want = expected(REF, CUR);
    const scored = Object.entries(want).filter(([, v]) => typeof v === "boolean");
    expect(reports[0].summary.number_of_columns).toBe(scored.length);
    expect(reports[0].summary.number_of_drifted_columns).toBe(scored.filter(([, v]) => v === true).length);
    for (const c of reports[0].summary.columns) {
      if (typeof want[c.column] === "boolean") expect(c.drifted, c.column).toBe(want[c.column]);
      else expect(c.error, c.column).toBeTruthy();
    }
    expect(reports[0].current).toMatchObject({ rows: CUR.stable_num.length });
    // Nothing from the cells made it into the stored report.
    expect(JSON.stringify(reports[0])).not.toContain("free text");
  });
});
