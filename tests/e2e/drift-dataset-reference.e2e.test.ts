/**
 * A Tern dataset version as the drift report's reference, in Chromium against a real `wrangler dev`:
 * a monitor whose reference is a committed CSV version, its dashboard's "New drift report" link
 * opening the report with that version preselected, a local current file picked, the version
 * streamed by a drift worker from the download route (nothing sent to the server but that GET), the
 * verdicts equal to the pure module on the same cells (a text column among them, with its words),
 * and the saved summary recording the reference dataset version.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page, Request } from "playwright-core";
import { columnDrift, inferColumnType, type RawValue } from "../../worker/lib/drift";
import { launch, openPage } from "./browser";
import { mulberry32, standardNormal } from "../../worker/lib/random";

const baseUrl = inject("baseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
const MODEL = `churn-${suffix}`;
const DATASET = `churn-train-${suffix}`;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
let tmp = "";
let monitorId = "";
let versionId = "";
const pageErrors: string[] = [];
const requests: { method: string; url: string }[] = [];

type Columns = Record<string, RawValue[]>;

const CALM = ["great", "service", "friendly", "staff", "quick", "delivery", "helpful", "support", "easy", "checkout", "clean", "store"];
const ANGRY = ["refund", "broken", "late", "rude", "missing", "parcel", "charged", "twice", "cancelled", "order", "waiting", "weeks"];

function generate(rows: number, seed: number, drift: boolean): Columns {
  const r = mulberry32(seed);
  const normal = () => standardNormal(r);
  const words = (n: number, vocab: string[]) => Array.from({ length: n }, () => vocab[Math.floor(r() * vocab.length)]).join(" ");
  const cols: Columns = { tenure: [], spend: [], plan: [], review: [] };
  for (let i = 0; i < rows; i++) {
    cols.tenure.push(Number((24 + 6 * normal()).toFixed(6)));
    cols.spend.push(Number(((drift ? 80 : 50) + 10 * normal()).toFixed(6)));
    cols.plan.push(["basic", "plus", "pro"][Math.floor(r() * 3)]);
    cols.review.push(words(5, drift && i % 2 === 0 ? ANGRY : CALM));
  }
  return cols;
}

function toCsv(cols: Columns): string {
  const names = Object.keys(cols);
  const lines = [names.join(",")];
  const cell = (v: RawValue) => (v === null || v === undefined ? "" : typeof v === "string" ? `"${v.replace(/"/g, '""')}"` : String(v));
  for (let i = 0; i < cols[names[0]].length; i++) lines.push(names.map((c) => cell(cols[c][i])).join(","));
  return `${lines.join("\n")}\n`;
}

const REF = generate(1500, 11, false);
const CUR = generate(900, 12, true);

async function api<T = any>(method: string, path: string, body?: unknown, raw?: string): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: raw ? { "Content-Type": "application/octet-stream" } : body === undefined ? {} : { "Content-Type": "application/json" },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "tern-drift-dataset-e2e-"));
  await api("POST", "/api/2.0/mlflow/registered-models/create", { name: MODEL });
  const blob = await api<{ sha256: string }>("POST", "/api/v1/blobs", undefined, toCsv(REF));
  await api("POST", "/api/v1/datasets", { name: DATASET });
  versionId = (await api<{ version: { id: string } }>("POST", `/api/v1/datasets/${DATASET}/versions`, { sha256: blob.sha256, file_name: "train.csv" })).version.id;
  monitorId = (await api<{ monitor: { id: string } }>("POST", "/api/v1/monitors", { name: `churn-prod-${suffix}`, model: { name: MODEL }, reference_dataset_version: versionId })).monitor.id;
  ({ browser, page } = await openPage(pageErrors, { width: 1280, height: 1000 }));
  // Requests of the page and of its dedicated workers.
  browser.context.on("request", (r: Request) => requests.push({ method: r.method(), url: r.url() }));
});

afterAll(async () => {
  await browser?.close();
  if (monitorId) await api("DELETE", `/api/v1/monitors/${monitorId}`).catch(() => undefined);
  await api("DELETE", `/api/v1/datasets/${DATASET}`).catch(() => undefined);
  await api("DELETE", "/api/2.0/mlflow/registered-models/delete", { name: MODEL }).catch(() => undefined);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("a dataset version as the reference", () => {
  it("is preselected when the report is opened from the monitor's dashboard", async () => {
    await page.goto(`${baseUrl}/monitoring/${monitorId}`);
    await page.getByTestId("open-drift-report").click();
    await page.waitForURL(`${baseUrl}/monitoring/drift?monitor=${monitorId}`);
    await expect.poll(() => page.getByTestId("reference-selected").textContent(), { timeout: 15_000 }).toContain(`${DATASET} v1 · train.csv`);
    expect(await page.getByTestId("reference-mode-dataset").isChecked()).toBe(true);
    expect(await page.getByTestId("reference-dataset").inputValue()).toBe(DATASET);
    expect(await page.getByTestId("from-monitor").textContent()).toContain(`churn-prod-${suffix}`);
    expect(pageErrors).toEqual([]);
  });

  it("is streamed from Tern into the workers and compared with a local current file", async () => {
    const curPath = join(tmp, "current.csv");
    writeFileSync(curPath, toCsv(CUR));
    await page.getByTestId("current-file").setInputFiles(curPath);
    const before = requests.length;
    await page.getByTestId("run").click();
    await page.getByTestId("drift-report").waitFor({ timeout: 60_000 });

    // The pure module in Node on the same cells gives the same verdicts.
    const rows = await page.getByTestId("drift-row").evaluateAll((els) => els.map((el) => [el.getAttribute("data-column"), el.getAttribute("data-drifted")]));
    const want: Record<string, string> = {};
    for (const name of Object.keys(CUR)) want[name] = String(columnDrift(REF[name], CUR[name], { columnType: inferColumnType(CUR[name]), column: name }).drifted);
    expect(Object.fromEntries(rows)).toEqual(want);
    expect(want).toEqual({ tenure: "false", spend: "true", plan: "false", review: "true" });
    expect(inferColumnType(CUR.review)).toBe("text");

    // The text column's detail: the words that tell current from reference.
    await page.locator('[data-testid=drift-row][data-column="review"]').click();
    const text = page.getByTestId("column-detail").getByTestId("text-detail");
    await text.waitFor();
    const currentWords = await text.locator("ul.drift-words.current li").allTextContents();
    // The strongest words towards current are the new vocabulary.
    expect(currentWords.length).toBeGreaterThanOrEqual(5);
    expect(currentWords.slice(0, 5).every((w) => ANGRY.includes(w))).toBe(true);

    // The only traffic of the run: the version's download. Nothing was sent to the server.
    const run = requests.slice(before).filter((r) => r.url.startsWith(baseUrl) && r.url.includes("/api/"));
    expect(run.some((r) => r.method === "GET" && r.url === `${baseUrl}/api/v1/datasets/${DATASET}/versions/1/download`)).toBe(true);
    expect(run.filter((r) => r.method !== "GET")).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("records the reference dataset version in the saved summary", async () => {
    await page.getByTestId("save-summary").click();
    await expect.poll(() => page.getByTestId("save-message").textContent()).toContain(`Saved to churn-prod-${suffix}`);
    const { reports } = await api<{ reports: { reference: Record<string, unknown>; current: Record<string, unknown>; summary: { columns: { column: string; type: string; method: string }[] } }[] }>(
      "GET",
      `/api/v1/monitors/${monitorId}/reports`,
    );
    expect(reports).toHaveLength(1);
    expect(reports[0].reference).toMatchObject({ dataset: DATASET, version: 1, dataset_version: versionId, name: "train.csv", rows: 1500 });
    expect(reports[0].current).toMatchObject({ name: "current.csv", rows: 900 });
    expect(reports[0].summary.columns.find((c) => c.column === "review")).toMatchObject({ type: "text", method: "abs_text_content_drift" });
    // Scores and decisions only: no review text, no characteristic word.
    const stored = JSON.stringify(reports[0]);
    for (const w of [...ANGRY, ...CALM]) expect(stored).not.toContain(w);
  });
});
