/**
 * The traces UI in Chromium against a real `wrangler dev`: spans sent over OTLP/JSON and trace infos
 * over MLflow's 3.0 API, then walked as a user would: experiment page → Traces tab → trace list (sort,
 * filter, bad filter) → trace page (span tree nesting, collapse, keyboard, selected span's inputs
 * and outputs, error span, waterfall).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { launch, openPage } from "./browser";

const baseUrl = inject("baseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
const EXPERIMENT = `traces-ui-${suffix}`;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
let experimentId = "";

async function post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
  const data = (await res.json()) as T;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
const str = (key: string, value: unknown) => ({ key, value: { stringValue: typeof value === "string" ? value : JSON.stringify(value) } });

interface SeededTrace {
  traceId: string;
  spanIds: { root: string; child: string; grandchild: string };
}

/**
 * One trace as MLflow 3 sends it: an agent root span, a retriever child, and an LLM call nested
 * under the retriever; then the trace info. Attribute values are JSON text, as MLflow writes them.
 */
async function seedTrace(startMs: number, opts: { name: string; durationMs: number; error?: boolean; team: string }): Promise<SeededTrace> {
  const otelTraceId = hex(16);
  const traceId = `tr-${otelTraceId}`;
  const spanIds = { root: hex(8), child: hex(8), grandchild: hex(8) };
  const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  const common = [str("mlflow.traceRequestId", traceId)];
  const spans = [
    {
      traceId: otelTraceId,
      spanId: spanIds.root,
      name: opts.name,
      startTimeUnixNano: ns(startMs),
      endTimeUnixNano: ns(startMs + opts.durationMs),
      attributes: [...common, str("mlflow.spanType", "AGENT"), str("mlflow.spanInputs", { question: "Where do terns nest?" }), str("mlflow.spanOutputs", "On beaches")],
      status: opts.error ? { code: 2, message: "ValueError: no answer" } : { code: 1 },
      events: opts.error ? [{ name: "exception", timeUnixNano: ns(startMs + opts.durationMs - 1), attributes: [str("exception.message", "no answer")] }] : [],
    },
    {
      traceId: otelTraceId,
      spanId: spanIds.child,
      parentSpanId: spanIds.root,
      name: "retrieve-docs",
      startTimeUnixNano: ns(startMs + 10),
      endTimeUnixNano: ns(startMs + opts.durationMs / 2),
      attributes: [
        ...common,
        str("mlflow.spanType", "RETRIEVER"),
        str("mlflow.spanInputs", { query: "tern nesting", top_k: 3 }),
        str("mlflow.spanOutputs", [{ doc: "<b>Terns nest on beaches</b>", score: 0.92 }]),
        { key: "retriever.index", value: { stringValue: "birds-v2" } },
      ],
      status: { code: 1 },
    },
    {
      traceId: otelTraceId,
      spanId: spanIds.grandchild,
      parentSpanId: spanIds.child,
      name: "embed-query",
      startTimeUnixNano: ns(startMs + 20),
      endTimeUnixNano: ns(startMs + 30),
      attributes: [...common, str("mlflow.spanType", "EMBEDDING"), str("mlflow.spanInputs", "tern nesting"), { key: "dims", value: { intValue: "384" } }],
      status: { code: 1 },
    },
  ];
  await post("/v1/traces", { resourceSpans: [{ scopeSpans: [{ spans }] }] }, { "x-mlflow-experiment-id": experimentId });
  await post("/api/3.0/mlflow/traces", {
    trace: {
      trace_info: {
        trace_id: traceId,
        trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
        request_preview: JSON.stringify({ question: "Where do terns nest?" }),
        response_preview: JSON.stringify("On beaches"),
        request_time: new Date(startMs).toISOString(),
        execution_duration: `${(opts.durationMs / 1000).toFixed(3)}s`,
        state: opts.error ? "ERROR" : "OK",
        trace_metadata: { "mlflow.trace_schema.version": "3" },
        tags: { "mlflow.traceName": opts.name, team: opts.team },
      },
    },
  });
  return { traceId, spanIds };
}

let fast: SeededTrace;
let slow: SeededTrace;

beforeAll(async () => {
  experimentId = (await post<{ experiment_id: string }>("/api/2.0/mlflow/experiments/create", { name: EXPERIMENT })).experiment_id;
  const start = Date.now() - 600_000;
  fast = await seedTrace(start, { name: "answer", durationMs: 250, team: "search" });
  slow = await seedTrace(start + 60_000, { name: "answer-slow", durationMs: 1800, error: true, team: "ranking" });
  ({ browser, page } = await openPage(pageErrors, { width: 1400, height: 1000 }));
});

afterAll(async () => {
  await browser?.close();
  // The open-mode server is shared by every e2e file, and the app test expects /experiments to show
  // its empty state: put the experiment made here in the trash again.
  if (experimentId) await post("/api/2.0/mlflow/experiments/delete", { experiment_id: experimentId }).catch(() => undefined);
});

const traceRows = (p: Page) => p.getByTestId("traces-table").locator("tbody tr[data-trace-id]");
const rowIds = (p: Page) => traceRows(p).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-trace-id")));

describe("the traces UI", () => {
  it("opens the trace list from the experiment page's Traces tab, newest first", async () => {
    await page.goto(`${baseUrl}/experiments/${experimentId}`);
    await page.getByRole("heading", { level: 1, name: EXPERIMENT }).waitFor();
    const tabs = page.getByRole("navigation", { name: "Experiment views" });
    expect(await tabs.getByRole("link", { name: "Runs" }).getAttribute("aria-current")).toBe("page");
    await tabs.getByRole("link", { name: "Traces" }).click();
    await page.waitForURL(new RegExp(`/experiments/${experimentId}/traces$`));
    expect(await tabs.getByRole("link", { name: "Traces" }).getAttribute("aria-current")).toBe("page");

    await expect.poll(() => rowIds(page)).toEqual([slow.traceId, fast.traceId]);
    const fastRow = page.locator(`tr[data-trace-id="${fast.traceId}"]`);
    const text = (await fastRow.textContent()) ?? "";
    expect(text).toContain("answer");
    expect(text).toContain("250ms");
    expect(text).toContain("OK");
    expect(text).toContain('{"question":"Where do terns nest?"}');
    expect(text).toContain("team=search");
    expect(await page.locator(`tr[data-trace-id="${slow.traceId}"]`).getByTestId("trace-state").textContent()).toContain("Error");
  });

  it("sorts by duration and filters with MLflow's trace grammar, showing a bad filter's error inline", async () => {
    await page.getByRole("button", { name: "Sort by Duration" }).click();
    await expect.poll(() => rowIds(page)).toEqual([slow.traceId, fast.traceId]);
    await page.getByRole("button", { name: "Sort by Duration" }).click();
    await expect.poll(() => rowIds(page)).toEqual([fast.traceId, slow.traceId]);
    expect(page.url()).toContain("sort=execution_time_ms");

    await page.getByLabel("Filter traces").fill("tags.team = 'ranking'");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => rowIds(page)).toEqual([slow.traceId]);

    await page.getByLabel("Filter traces").fill("attributes.nope = 'x'");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    const error = page.getByTestId("filter-error");
    await error.waitFor();
    expect(await error.getAttribute("role")).toBe("alert");
    expect(await page.getByLabel("Filter traces").getAttribute("aria-invalid")).toBe("true");
    expect(await rowIds(page)).toEqual([]);

    await page.getByRole("button", { name: "Clear" }).click();
    await expect.poll(() => rowIds(page)).toHaveLength(2);
    expect(await page.getByTestId("filter-error").count()).toBe(0);
  });

  it("shows the trace's span tree nested, collapsible, and the selected span's inputs and outputs", async () => {
    await page.getByRole("link", { name: `Trace ${fast.traceId}` }).click();
    await page.waitForURL(new RegExp(`/traces/${fast.traceId}`));
    await page.getByRole("heading", { level: 1, name: "answer" }).waitFor();
    expect(await page.getByTestId("request-preview").textContent()).toContain('"question": "Where do terns nest?"');

    const tree = page.getByRole("tree", { name: "Spans" });
    const items = tree.getByRole("treeitem");
    await expect.poll(() => items.count()).toBe(3);
    const levels = await items.evaluateAll((els) => els.map((e) => [e.getAttribute("data-span-id"), e.getAttribute("aria-level")]));
    expect(levels).toEqual([
      [fast.spanIds.root, "1"],
      [fast.spanIds.child, "2"],
      [fast.spanIds.grandchild, "3"],
    ]);
    // The root is selected first: the request's own inputs.
    expect(await tree.locator(`[data-span-id="${fast.spanIds.root}"]`).getAttribute("aria-selected")).toBe("true");
    expect(await page.getByTestId("span-inputs").textContent()).toContain('"question": "Where do terns nest?"');

    const child = tree.locator(`[data-span-id="${fast.spanIds.child}"]`);
    expect(await child.getAttribute("aria-label")).toMatch(/^retrieve-docs \(RETRIEVER, /);
    await child.click();
    expect(await child.getAttribute("aria-selected")).toBe("true");
    const detail = page.getByTestId("span-detail");
    await detail.getByRole("heading", { name: "retrieve-docs" }).waitFor();
    expect(JSON.parse((await detail.getByTestId("span-inputs").textContent()) ?? "")).toEqual({ query: "tern nesting", top_k: 3 });
    // Markup in outputs is text, never HTML.
    expect(JSON.parse((await detail.getByTestId("span-outputs").textContent()) ?? "")).toEqual([{ doc: "<b>Terns nest on beaches</b>", score: 0.92 }]);
    expect(await detail.locator("b").count()).toBe(0);
    expect(await detail.getByRole("table", { name: "Span attributes" }).textContent()).toContain("birds-v2");
    expect(page.url()).toContain(`span=${fast.spanIds.child}`);

    // Collapsing the retriever hides the embedding span; the keyboard expands it and walks down.
    await child.locator("[data-toggle]").click();
    await expect.poll(() => items.count()).toBe(2);
    expect(await child.getAttribute("aria-expanded")).toBe("false");
    await child.focus();
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => items.count()).toBe(3);
    await page.keyboard.press("ArrowDown");
    const grandchild = tree.locator(`[data-span-id="${fast.spanIds.grandchild}"]`);
    await expect.poll(() => grandchild.getAttribute("aria-selected")).toBe("true");
    expect(await detail.getByTestId("span-outputs").count()).toBe(0);
    expect(await detail.textContent()).toContain("No outputs recorded.");

    // The nested span's waterfall bar sits inside its parent's.
    const bars = await items.evaluateAll((els) =>
      els.map((e) => {
        const bar = e.querySelector<HTMLElement>("span[style*='width']")!;
        return [parseFloat(bar.style.left), parseFloat(bar.style.width)];
      }),
    );
    expect(bars[0]).toEqual([0, 100]);
    expect(bars[1][0]).toBeGreaterThan(0);
    expect(bars[2][0]).toBeGreaterThan(bars[1][0]);
    expect(bars[2][0] + bars[2][1]).toBeLessThan(bars[1][0] + bars[1][1]);
  });

  it("shows an error span's status message and exception event, and a missing trace as not found", async () => {
    await page.goto(`${baseUrl}/experiments/${experimentId}/traces/${slow.traceId}`);
    await page.getByRole("heading", { level: 1, name: "answer-slow" }).waitFor();
    const detail = page.getByTestId("span-detail");
    expect(await detail.getByTestId("span-status-message").textContent()).toContain("ValueError: no answer");
    expect(await detail.getByRole("list", { name: "Span events" }).textContent()).toContain("exception");

    await page.goto(`${baseUrl}/experiments/${experimentId}/traces/tr-missing-${suffix}`);
    await page.getByRole("heading", { level: 1, name: "Trace not found" }).waitFor();
    await page.getByRole("link", { name: "Back to traces" }).click();
    await page.waitForURL(new RegExp(`/experiments/${experimentId}/traces$`));
    await expect.poll(() => rowIds(page)).toHaveLength(2);
  });

  it("raised no page errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
