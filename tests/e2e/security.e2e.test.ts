/**
 * The app's security headers and its escaping of user text, in Chromium against a real `wrangler dev`.
 * Headers: every app path (the root, a deep SPA path, a built asset) carries the static _headers
 * (frame-ancestors, X-Frame-Options, nosniff, Referrer-Policy), and index.html a Content-Security-Policy
 * whose script hash matches Kit's inline bootstrap script. Escaping: objects of every pillar are named,
 * tagged and filled with markup that would run if it were ever inserted as HTML (an <img onerror> and a
 * <script>); each page that shows them, and the exported drift report, shows the markup as text and
 * never runs it.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { launch, openPage } from "./browser";

const baseUrl = inject("baseUrl");
const suffix = Math.random().toString(36).slice(2, 8);
/** Runs only if inserted as markup: the handler and the script each set window.__xss. */
const PAYLOAD = `<img src=x onerror=window.__xss=1><script>window.__xss=2</script>${suffix}`;
const sha256 = (bytes: string) => createHash("sha256").update(bytes).digest("hex");

let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
let tmp = "";

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** The payload is on the page as text, and nothing of it ran or became an element. */
async function expectShownAsText(where: string, text = PAYLOAD): Promise<void> {
  await expect.poll(() => page.getByText(text).count(), { message: `${where}: payload shown`, timeout: 30_000 }).toBeGreaterThan(0);
  const found = await page.evaluate(() => ({
    xss: (window as unknown as { __xss?: number }).__xss,
    images: document.querySelectorAll('img[src="x"]').length,
    scripts: Array.from(document.scripts).filter((s) => s.text.includes("__xss")).length,
  }));
  expect(found, where).toEqual({ xss: undefined, images: 0, scripts: 0 });
  // Uncaught errors and Content-Security-Policy violations alike.
  expect(pageErrors, where).toEqual([]);
}

async function visit(path: string, where: string, text?: string): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await expectShownAsText(where, text);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "tern-security-e2e-"));
  ({ browser, page } = await openPage(pageErrors));
});

afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("security headers", () => {
  const paths = ["/", "/experiments/1/runs/abc/deep/link", "/favicon.svg"];
  it.each(paths)("serves %s with frame-ancestors, X-Frame-Options, nosniff and a Referrer-Policy", async (path) => {
    const res = await fetch(`${baseUrl}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  });

  it("puts a Content-Security-Policy in index.html whose hash allows exactly Kit's inline script", async () => {
    const html = await (await fetch(`${baseUrl}/datasets/some/deep/link`)).text();
    const policy = /<meta http-equiv="content-security-policy" content="([^"]+)">/.exec(html)?.[1] ?? "";
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("object-src 'none'");
    const scriptSrc = /script-src ([^;]+)/.exec(policy)?.[1].split(" ") ?? [];
    expect(scriptSrc).not.toContain("'unsafe-inline'");
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(inline.length).toBeGreaterThan(0);
    for (const script of inline) expect(scriptSrc).toContain(`'sha256-${createHash("sha256").update(script).digest("base64")}'`);
  });

  it("does not serve the _headers file itself", async () => {
    const res = await fetch(`${baseUrl}/_headers`);
    expect(await res.text()).not.toContain("X-Frame-Options");
  });
});

describe("user text is shown as text, never run", () => {
  it("in experiments, runs, params and tags", async () => {
    const { experiment_id } = await api("POST", "/api/2.0/mlflow/experiments/create", { name: `xss ${PAYLOAD}` });
    const { run } = await api("POST", "/api/2.0/mlflow/runs/create", { experiment_id, run_name: `run ${PAYLOAD}`, tags: [{ key: "note", value: `tag ${PAYLOAD}` }] });
    await api("POST", "/api/2.0/mlflow/runs/log-batch", { run_id: run.info.run_id, params: [{ key: "lr_text", value: `param ${PAYLOAD}` }] });
    await visit("/experiments", "experiment list", `xss ${PAYLOAD}`);
    await visit(`/experiments/${experiment_id}`, "experiment page", `run ${PAYLOAD}`);
    await visit(`/experiments/${experiment_id}/runs/${run.info.run_id}`, "run page", `param ${PAYLOAD}`);
    await expectShownAsText("run page tags", `tag ${PAYLOAD}`);
  });

  it("in datasets: description, version message and CSV column names and values", async () => {
    const name = `xss-${suffix}`;
    const csv = `"${PAYLOAD}",score\n${["a", "b"].map((v, i) => `"${v} ${PAYLOAD}",${i}`).join("\n")}\n`;
    const put = await fetch(`${baseUrl}/api/v1/blobs/${sha256(csv)}`, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: csv });
    expect(put.ok).toBe(true);
    await api("POST", "/api/v1/datasets", { name, description: `description ${PAYLOAD}` });
    await api("POST", `/api/v1/datasets/${name}/versions`, { sha256: sha256(csv), file_name: "xss.csv", message: `message ${PAYLOAD}` });
    await visit(`/datasets/${name}`, "dataset page", `description ${PAYLOAD}`);
    await expectShownAsText("dataset versions", `message ${PAYLOAD}`);
    await visit(`/datasets/${name}/versions/1`, "dataset version page");
  });

  it("in studies", async () => {
    const { study_id } = await api("POST", "/api/v1/studies", { name: `study ${PAYLOAD}`, user_attrs: { note: PAYLOAD } });
    await visit("/studies", "study list", `study ${PAYLOAD}`);
    await visit(`/studies/${study_id}`, "study page", `study ${PAYLOAD}`);
  });

  it("in pipelines: name, description and a task's log", async () => {
    const queue = `xss-${suffix}`;
    const spec = { description: `description ${PAYLOAD}`, tasks: { job: { kind: "agent", queue, command: "echo hi" } } };
    const { pipeline_id } = await api("POST", "/api/v1/pipelines", { name: `pipeline ${PAYLOAD}`, spec });
    const { run_id } = await api("POST", `/api/v1/pipelines/${pipeline_id}/runs`, {});
    let task: { try_number: number } | null = null;
    for (let i = 0; i < 200 && !task; i++) {
      task = (await api("POST", "/api/v1/agents/claim", { queue, agent_id: "xss-agent" })).task;
      if (!task) await new Promise((r) => setTimeout(r, 100));
    }
    expect(task).not.toBeNull();
    const attempt = { run_id, task_id: "job", try_number: task!.try_number, agent_id: "xss-agent" };
    await api("POST", "/api/v1/agents/logs", { ...attempt, text: `log ${PAYLOAD}\n` });
    await api("POST", "/api/v1/agents/complete", { ...attempt, exit_code: 0 });
    await visit("/pipelines", "pipeline list", `pipeline ${PAYLOAD}`);
    await visit(`/pipelines/${pipeline_id}`, "pipeline page", `pipeline ${PAYLOAD}`);
    await visit(`/pipelines/${pipeline_id}/runs/${run_id}/tasks/job`, "task page", `log ${PAYLOAD}`);
  });

  it("in monitors", async () => {
    const model = `xss-model-${suffix}`;
    await api("POST", "/api/2.0/mlflow/registered-models/create", { name: model });
    const { monitor } = await api("POST", "/api/v1/monitors", { name: `monitor ${PAYLOAD}`, model: { name: model } });
    await visit("/monitoring", "monitor list", `monitor ${PAYLOAD}`);
    await visit(`/monitoring/${monitor.id}`, "monitor page", `monitor ${PAYLOAD}`);
  });

  it("in the drift report and its HTML export: column names, categories and text examples", async () => {
    const rows = (n: number, shift: number) =>
      Array.from({ length: n }, (_, i) => `${i % 3 === 0 ? `"cat ${PAYLOAD}"` : "plain"},${(i * 7 + shift) % 50},"words ${i % 5 === 0 ? PAYLOAD : "calm"} ${shift ? "storm" : "sun"} ${i}"`);
    const header = `"${PAYLOAD}",value,"text ${PAYLOAD}"`;
    const write = (file: string, lines: string[]) => {
      writeFileSync(join(tmp, file), [header, ...lines].join("\n") + "\n");
      return join(tmp, file);
    };
    await page.goto(`${baseUrl}/monitoring/drift`);
    await page.getByTestId("reference-file").setInputFiles(write("reference.csv", rows(300, 0)));
    await page.getByTestId("current-file").setInputFiles(write("current.csv", rows(300, 9)));
    await page.getByTestId("run").click();
    await page.getByTestId("drift-report").waitFor({ timeout: 60_000 });
    await expectShownAsText("drift table");
    await page.locator(`[data-testid=drift-row][data-column="text ${PAYLOAD}"]`).click();
    await expectShownAsText("text detail", `words ${PAYLOAD}`);
    await page.locator(`[data-testid=drift-row][data-column="${PAYLOAD}"]`).click();
    await expectShownAsText("category detail");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-html").click()]);
    const file = join(tmp, "drift-report.html");
    await download.saveAs(file);
    const html = readFileSync(file, "utf8");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<script>window.__xss");
    // Opened on its own, without the app's policy: only the escaping stands between it and the markup.
    const exported = await browser.context.newPage();
    await exported.setContent(html);
    expect(await exported.getByText(PAYLOAD).count()).toBeGreaterThan(0);
    expect(await exported.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await exported.locator('img[src="x"]').count()).toBe(0);
    await exported.close();
    expect(pageErrors).toEqual([]);
  });
});
