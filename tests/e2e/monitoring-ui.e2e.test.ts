/**
 * The monitoring UI in Chromium against a real `wrangler dev`: a monitor created from the dialog,
 * drift summaries posted over the API, an alert rule added in the dashboard whose webhook reaches a
 * local HTTP receiver, then the dashboard (charts, reports, rule state, events) and the list; and a
 * monitor over dataset versions checked on demand, where the Worker samples a version too large to
 * read whole and the dashboard says so.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { launch, openPage } from "./browser";

const baseUrl = inject("baseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
const MODEL = `fraud-${suffix}`;
const MONITOR = `fraud-prod-${suffix}`;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
let receiver: Server;
let hookUrl = "";
const received: any[] = [];
const pageErrors: string[] = [];
let monitorId = "";
let versionMonitorId = "";
const DATASET = `prod-batches-${suffix}`;

/** A CSV whose `amount` column starts at `from`; ~20 bytes a row. */
function csv(rows: number, from: number): string {
  const lines = ["id,amount,country"];
  for (let i = 0; i < rows; i++) lines.push(`${i},${(from + (i % 50) + i / 1e6).toFixed(6)},${["de", "fr", "it"][i % 3]}`);
  return lines.join("\n") + "\n";
}

/** Commits text as a new version of DATASET through the content store's upload route. */
async function commit(text: string, fileName: string): Promise<{ id: string; version: number }> {
  const body = new TextEncoder().encode(text);
  const hash = createHash("sha256").update(body).digest("hex");
  // Upload only what the store lacks: it answers a PUT of content it holds before reading the body.
  const { missing } = await api<{ missing: string[] }>("POST", "/api/v1/blobs/missing", { sha256: [hash] });
  if (missing.length) await put(hash, text);
  return (await api<{ version: { id: string; version: number } }>("POST", `/api/v1/datasets/${DATASET}/versions`, { sha256: hash, file_name: fileName })).version;
}

/** One PUT of the whole file, tried up to three times as `tern data add` does: local dev sometimes drops a large body. */
async function put(hash: string, body: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${baseUrl}/api/v1/blobs/${hash}`, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body });
      if (res.ok) return;
      throw new Error(`upload: ${res.status} ${await res.text()}`);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

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

function report(share: number) {
  const columns = ["amount", "country", "age", "device"].map((column, i) => ({
    column,
    type: i === 1 || i === 3 ? "cat" : "num",
    method: i === 1 || i === 3 ? "chisquare" : "ks",
    threshold: 0.05,
    score: i < share * 4 ? 0.001 * (i + 1) : 0.3 + i / 10,
    drifted: i < share * 4,
  }));
  const drifted = columns.filter((c) => c.drifted).length;
  return {
    summary: { dataset_drift: drifted / 4 >= 0.5, drift_share: drifted / 4, number_of_columns: 4, number_of_drifted_columns: drifted, columns },
    reference: { name: "train.parquet", rows: 50_000 },
    current: { name: "prod.csv", rows: 12_000 },
    sample_size: 12_000,
  };
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await api("POST", "/api/2.0/mlflow/registered-models/create", { name: MODEL });
  ({ browser, page } = await openPage(pageErrors, { width: 1280, height: 1000 }));
});

afterAll(async () => {
  await browser?.close();
  if (monitorId) await api("DELETE", `/api/v1/monitors/${monitorId}`).catch(() => undefined);
  if (versionMonitorId) await api("DELETE", `/api/v1/monitors/${versionMonitorId}`).catch(() => undefined);
  await api("DELETE", `/api/v1/datasets/${DATASET}`).catch(() => undefined);
  await api("DELETE", `/api/2.0/mlflow/registered-models/delete`, { name: MODEL }).catch(() => undefined);
  await new Promise((r) => receiver?.close(r));
});

describe("the monitoring UI", () => {
  it("creates a monitor from the dialog, showing the API's refusal in place", async () => {
    await page.goto(`${baseUrl}/monitoring`);
    await page.getByRole("heading", { level: 1, name: "Monitoring" }).waitFor();
    await page.getByRole("button", { name: "New monitor" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(MONITOR);
    await dialog.getByLabel("Registered model").fill(`no-such-${suffix}`);
    await dialog.getByRole("button", { name: "Create" }).click();
    expect(await dialog.getByRole("alert").textContent()).toContain(`No registered model 'no-such-${suffix}'`);

    await dialog.getByLabel("Registered model").fill(MODEL);
    await dialog.getByLabel("Alias or version").fill("champion");
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/monitoring\/[0-9a-f]{32}$/);
    monitorId = page.url().split("/").pop()!;
    await page.getByRole("heading", { level: 1, name: MONITOR }).waitFor();
    await page.getByTestId("no-reports").waitFor();
    expect(await page.locator("header").textContent()).toContain(`${MODEL}@champion`);
    expect(pageErrors).toEqual([]);
  });

  it("shows the series, reports, a rule that fires its webhook, and its events", async () => {
    for (const share of [0.25, 0.25, 0.5]) await api("POST", `/api/v1/monitors/${monitorId}/reports`, report(share));
    await page.reload();
    await page.getByTestId("drift-share-chart").locator("canvas").first().waitFor();
    await page.getByTestId("column-scores-chart").locator("canvas").first().waitFor();
    await expect.poll(() => page.getByTestId("reports-table").locator("tbody tr[data-report-id]").count()).toBe(3);
    const legend = await page.getByTestId("column-scores-chart").getByTestId("chart-legend").textContent();
    for (const c of ["amount", "country", "age", "device"]) expect(legend).toContain(c);

    // A rule from the editor: drift share at or above 0.5 for two checks, with the local webhook.
    const form = page.getByRole("form", { name: "New alert rule" });
    await form.getByLabel("Series").selectOption("drift_share");
    await form.getByLabel("Operator").selectOption(">=");
    await form.getByLabel("Threshold").fill("0.5");
    await form.getByLabel("For checks").fill("2");
    await form.getByLabel(/Webhook URL/).fill(hookUrl);
    await form.getByRole("button", { name: "Add rule" }).click();
    const rule = page.getByTestId("alert-rules").locator('li[data-rule-series="drift_share"]');
    await rule.waitFor();
    expect(await rule.getByTestId("rule-state").textContent()).toBe("OK");

    await api("POST", `/api/v1/monitors/${monitorId}/reports`, report(0.75));
    await api("POST", `/api/v1/monitors/${monitorId}/reports`, report(0.75));
    await expect.poll(() => received.length, { timeout: 15_000 }).toBe(1);
    expect(received[0]).toMatchObject({ state: "firing", value: 0.75, monitor: { id: monitorId, name: MONITOR }, rule: { series: "drift_share", operator: ">=", threshold: 0.5, for_checks: 2 } });

    await page.reload();
    await rule.waitFor();
    expect(await rule.getByTestId("rule-state").textContent()).toBe("Firing");
    const fired = page.getByTestId("alert-events").locator('tr[data-event-kind="fired"]');
    await fired.waitFor();
    await expect.poll(async () => { await page.reload(); await fired.waitFor(); return fired.textContent(); }).toContain("delivered, 1 attempt");
    expect(await page.getByTestId("reports-table").locator("tbody tr[data-report-id]").count()).toBe(5);

    // The list: latest drift share and the firing alert.
    await page.goto(`${baseUrl}/monitoring`);
    const row = page.getByTestId("monitors-table").locator(`tr[data-monitor-name="${MONITOR}"]`);
    await row.waitFor();
    expect(await row.getByTestId("drift-share").textContent()).toBe("0.750");
    expect(await row.getByTestId("alert-state").textContent()).toContain("1 firing");
    await row.getByRole("link", { name: MONITOR }).click();
    await page.waitForURL(`${baseUrl}/monitoring/${monitorId}`);
    await page.getByTestId("drift-share-chart").locator("canvas").first().waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("checks a dataset version on demand, sampling one too large to read whole, and says so", async () => {
    await api("POST", "/api/v1/datasets", { name: DATASET });
    const reference = await commit(csv(5000, 100), "reference.csv");
    const monitor = await api<{ monitor: { id: string } }>("POST", "/api/v1/monitors", {
      name: `prod-batches-${suffix}`,
      model: { name: MODEL, version: null },
      reference_dataset_version: reference.id,
      current_dataset: DATASET,
    });
    versionMonitorId = monitor.monitor.id;
    // About 12 MiB: above what the Worker reads whole.
    const big = await commit(csv(600_000, 160), "2026-11-27.csv");
    expect(big.version).toBe(2);

    await page.goto(`${baseUrl}/monitoring/${versionMonitorId}`);
    const ref = page.getByTestId("monitor-reference").getByRole("link", { name: `${DATASET}@1` });
    await ref.waitFor();
    expect(await ref.getAttribute("href")).toBe(`/datasets/${DATASET}/versions/1`);
    await page.getByTestId("check-now").click();
    const row = page.getByTestId("reports-table").locator("tbody tr[data-report-id]").first();
    await row.waitFor({ timeout: 120_000 });
    expect(await row.getByRole("link", { name: `${DATASET}@2` }).getAttribute("href")).toBe(`/datasets/${DATASET}/versions/2`);
    const rows = row.getByTestId("report-rows");
    expect(await rows.textContent()).toMatch(/^50,000 of ≈\d{3},\d{3}\s*sampled$/);
    expect(await rows.getAttribute("title")).toContain("sampled by line-aligned byte ranges spread over the file");
    expect(await row.textContent()).toContain("manual");
    await row.getByText("Drift detected", { exact: true }).waitFor();
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
