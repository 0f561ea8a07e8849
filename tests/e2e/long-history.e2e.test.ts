import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { launch, openPage } from "./browser";

const baseUrl = inject("baseUrl");
const POINTS = 60_000;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
let experimentId = "";
let runId = "";

async function mlflow(rpc: string, body: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}/api/2.0/mlflow/${rpc}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${rpc}: ${res.status} ${await res.text()}`);
  return res.json();
}

beforeAll(async () => {
  experimentId = (await mlflow("experiments/create", { name: `long-history-${crypto.randomUUID().slice(0, 8)}` })).experiment_id;
  runId = (await mlflow("runs/create", { experiment_id: experimentId, run_name: "long", start_time: Date.now() })).run.info.run_id;
  for (let start = 0; start < POINTS; start += 1000) {
    const metrics = Array.from({ length: 1000 }, (_, i) => {
      const step = start + i;
      return { key: "loss", value: step === 42_424 ? 99 : 1 / (1 + step / 1000), timestamp: 1_700_000_000_000 + step * 10, step };
    });
    await mlflow("runs/log-batch", { run_id: runId, metrics });
  }
  ({ browser, page } = await openPage(pageErrors));
});

afterAll(async () => {
  await browser?.close();
});

describe("a metric with a long history", () => {
  it("is charted from the downsampled endpoint, never by reading every point", async () => {
    const requests: string[] = [];
    page.on("request", (r) => requests.push(new URL(r.url()).pathname));
    const downsampled = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/metrics/downsample");
    await page.goto(`${baseUrl}/experiments/${experimentId}/runs/${runId}`);
    const body = (await (await downsampled).json()) as { series: { total: number; max: (number | null)[]; count: number[] }[] };
    const chart = page.locator('[data-testid=metric-chart][data-metric="loss"]');
    await chart.locator("canvas").first().waitFor();
    await expect.poll(() => chart.getByTestId("chart-legend").textContent()).toContain("loss");
    expect(requests).toContain("/api/v1/metrics/downsample");
    expect(requests.filter((p) => p.endsWith("/metrics/get-history"))).toEqual([]);
    // A handful of buckets stand for all the points, and the spike is among them.
    expect(body.series[0].total).toBe(POINTS);
    expect(body.series[0].count.length).toBeLessThanOrEqual(2000);
    expect(Math.max(...body.series[0].max.map((v) => v ?? -Infinity))).toBe(99);
    expect(pageErrors).toEqual([]);
  });
});
