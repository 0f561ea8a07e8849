/**
 * The pipelines UI in Chromium against a real `wrangler dev`, with agent tasks run by the real
 * `tern agent`: a spec refused (in the browser and by the server) then created in the editor, runs
 * triggered with conf from the dialog, the grid's cells reaching success and failed in Airflow's
 * colours, the run graph (dagre layout, live state while a cleared task runs again, mark success), a
 * task attempt page with its log, output and filled-in arguments, the attempts table of a task that
 * retried (each try's state colour, times, agent and log), a new spec version, pausing, a
 * backfill from its dialog, and deleting the pipeline.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, openPage } from "./browser";

const baseUrl = inject("baseUrl");
const root = join(import.meta.dirname, "..", "..");
const suffix = Math.random().toString(36).slice(2, 8);
const NAME = `ui-daily-${suffix}`;
const QUEUE = `ui-e2e-${suffix}`;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
let pipelineId = "";
let goodRun = "";
let badRun = "";
let retryPipelineId = "";

// Airflow's colours as the browser computes them.
const RGB = { success: "rgb(0, 128, 0)", failed: "rgb(255, 0, 0)", upstream_failed: "rgb(255, 165, 0)", running: "rgb(0, 255, 0)", queued: "rgb(128, 128, 128)" };

const SPEC = `description: UI test pipeline
schedule: "0 5 * * *"
timezone: UTC
catchup: false
params: {who: world}
default_args: {retries: 0}
tasks:
  prepare: {kind: noop}
  features:
    kind: agent
    queue: ${QUEUE}
    depends_on: prepare
    command: |
      echo "hello {{ params.who }} on {{ ds }}"
      printf '{"rows": %d}' $((40 + 2)) > "$TERN_OUTPUT_FILE"
  check:
    kind: agent
    queue: ${QUEUE}
    depends_on: features
    command: |
      echo "checking {{ outputs.features.rows }} rows, try $TERN_TRY_NUMBER"
      if [ "{{ params.who }}" = "fail" ]; then echo "bad who" >&2; exit 3; fi
  report: {kind: noop, depends_on: check}
`;
const CYCLE = `tasks:
  a: {kind: noop, depends_on: b}
  b: {kind: noop, depends_on: a}
`;
const UNKNOWN_KIND = `tasks:
  a: {kind: teleport}
`;

async function api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${baseUrl}/api/v1${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as T };
}

/** The real `tern agent`, for `tasks` tasks of this file's queue. */
function runAgent(tasks: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "cli", "tern.mjs"), "agent", "--queue", QUEUE, "--max-tasks", String(tasks), "--poll", "0.2", "--lease", "20"], {
      cwd: root,
      env: { ...process.env, TERN_URL: baseUrl, TERN_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
}

const cell = (task: string, runId: string) => page.locator(`[data-cell-task="${task}"][data-cell-run="${runId}"]`);
const background = (loc: ReturnType<Page["locator"]>) => loc.evaluate((el) => getComputedStyle(el).backgroundColor);
/** Waits for a value, allowing for a busy machine (page loads, polls of the run every second). */
const poll = <T>(fn: () => Promise<T> | T, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });
const node = (task: string) => page.locator(`[data-node="${task}"]`);

async function triggerFromDialog(conf: string, logicalDate: string): Promise<string> {
  await page.getByRole("button", { name: "Trigger run" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  await dialog.locator("textarea[name=conf]").fill(conf);
  await dialog.locator("input[name=logical_date]").fill(logicalDate);
  await dialog.getByRole("button", { name: "Trigger", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  const href = await page.getByTestId("notice").getByRole("link", { name: "Open the run" }).getAttribute("href");
  return href!.split("/runs/")[1];
}

beforeAll(async () => {
  ({ browser, page } = await openPage(pageErrors, { width: 1400, height: 1000 }));
});

afterAll(async () => {
  await browser?.close();
  // The open-mode server is shared by every e2e file: leave nothing running behind.
  if (pipelineId) await api("DELETE", `/pipelines/${pipelineId}`).catch(() => undefined);
  if (retryPipelineId) await api("DELETE", `/pipelines/${retryPipelineId}`).catch(() => undefined);
});

describe("the pipelines UI", () => {
  it("shows the editor's problems in the browser and the server's exact refusal, then creates the pipeline", async () => {
    await page.goto(`${baseUrl}/pipelines`);
    await page.getByTestId("new-pipeline").click();
    await page.waitForURL(`${baseUrl}/pipelines/new`);
    const editor = page.getByTestId("spec-editor");
    await editor.locator("input[name=name]").fill(NAME);

    await editor.locator("textarea[name=spec]").fill(UNKNOWN_KIND);
    await poll(() => page.getByTestId("spec-local-issues").textContent()).toContain("tasks.a.kind: unknown task kind 'teleport'");

    await editor.locator("textarea[name=spec]").fill(CYCLE);
    await poll(() => page.getByTestId("spec-local-issues").textContent()).toContain("dependency cycle");
    await editor.getByRole("button", { name: "Create pipeline" }).click();
    const refusal = await api<{ error: { message: string } }>("POST", "/pipelines", { name: `${NAME}-x`, spec: CYCLE });
    expect(refusal.status).toBe(400);
    expect(refusal.json.error.message).toContain("dependency cycle");
    await poll(() => page.getByTestId("spec-server-error").textContent()).toContain(refusal.json.error.message);
    expect(page.url()).toBe(`${baseUrl}/pipelines/new`);

    await editor.locator("textarea[name=spec]").fill(SPEC);
    await page.getByTestId("spec-local-ok").waitFor();
    expect(await page.getByTestId("spec-local-ok").textContent()).toContain("4 tasks");
    await editor.getByRole("button", { name: "Create pipeline" }).click();
    await page.waitForURL(/\/pipelines\/[0-9a-f]{32}$/);
    pipelineId = page.url().split("/pipelines/")[1];
    expect(await page.getByTestId("pipeline-name").textContent()).toContain(NAME);
    expect(await page.getByTestId("pipeline-version").textContent()).toBe("v1");
    await page.getByTestId("no-runs").waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("triggers runs with conf from the dialog and the grid cells reach success and failed in Airflow's colours", async () => {
    // The dialog starts from the spec's params and refuses conf that is not a JSON object.
    await page.getByRole("button", { name: "Trigger run" }).click();
    const dialog = page.getByRole("dialog");
    expect(JSON.parse(await dialog.locator("textarea[name=conf]").inputValue())).toEqual({ who: "world" });
    await dialog.locator("textarea[name=conf]").fill("[1, 2]");
    await dialog.getByTestId("conf-error").waitFor();
    expect(await dialog.getByRole("button", { name: "Trigger", exact: true }).isDisabled()).toBe(true);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });

    goodRun = await triggerFromDialog('{"who": "tern"}', "2026-11-20T05:00");
    expect((await api("GET", `/pipeline-runs/${goodRun}`)).json).toMatchObject({ conf: { who: "tern" }, logical_date: Date.UTC(2026, 10, 20, 5), run_type: "manual", version: 1 });
    // The grid shows the run at once, with its agent task waiting for an agent.
    await poll(() => cell("features", goodRun).getAttribute("data-state")).toBe("queued");
    expect(await background(cell("features", goodRun))).toBe(RGB.queued);
    expect(await page.getByTestId("grid-live").isVisible()).toBe(true);

    const agent = await runAgent(2);
    expect(agent.code, agent.output).toBe(0);
    for (const task of ["prepare", "features", "check", "report"]) {
      await poll(() => cell(task, goodRun).getAttribute("data-state"), 20_000).toBe("success");
      expect(await background(cell(task, goodRun))).toBe(RGB.success);
    }
    await poll(() => page.locator(`[data-run-column="${goodRun}"] [data-run-state]`).getAttribute("data-run-state")).toBe("success");

    badRun = await triggerFromDialog('{"who": "fail"}', "2026-11-21T05:00");
    expect((await runAgent(2)).code).toBe(0);
    await poll(() => cell("check", badRun).getAttribute("data-state"), 20_000).toBe("failed");
    expect(await background(cell("check", badRun))).toBe(RGB.failed);
    await poll(() => cell("report", badRun).getAttribute("data-state")).toBe("upstream_failed");
    expect(await background(cell("report", badRun))).toBe(RGB.upstream_failed);
    expect(await background(cell("features", badRun))).toBe(RGB.success);
    // Rows in dependency order, columns by logical date; polling stops once every run has finished.
    expect(await page.locator("[data-task-row]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-task-row")))).toEqual(["prepare", "features", "check", "report"]);
    expect(await page.locator("[data-run-column]").evaluateAll((c) => c.map((x) => x.getAttribute("data-run-column")))).toEqual([goodRun, badRun]);
    await page.getByTestId("grid-live").waitFor({ state: "detached" });
    // The legend names every state with its colour.
    expect(await page.locator('[data-legend-state="skipped"] span').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(255, 105, 180)");
    expect(pageErrors).toEqual([]);
  });

  it("draws the failed run's graph with dagre, follows a cleared task live, and marks it success", async () => {
    await page.locator(`[data-run-column="${badRun}"] a`).click();
    await page.waitForURL(`${baseUrl}/pipelines/${pipelineId}/runs/${badRun}`);
    await page.getByTestId("dag-graph").waitFor();
    expect(await page.getByTestId("run-state").getAttribute("data-state")).toBe("failed");
    expect(await page.getByTestId("run-version").textContent()).toBe("v1");
    const expected = { prepare: "success", features: "success", check: "failed", report: "upstream_failed" };
    for (const [task, state] of Object.entries(expected)) expect(await node(task).getAttribute("data-state"), task).toBe(state);
    expect(await page.locator('[data-node-box="check"]').getAttribute("fill")).toBe("#ff0000");
    expect(await page.locator('[data-node-box="report"]').getAttribute("fill")).toBe("#ffa500");
    expect(await page.locator("[data-edge]").count()).toBe(3);

    // dagre's layout: no two boxes overlap, and a chain reads left to right.
    const boxes = await Promise.all(Object.keys(expected).map(async (t) => ({ t, b: (await page.locator(`[data-node-box="${t}"]`).boundingBox())! })));
    for (let i = 0; i < boxes.length; i++) {
      expect(boxes[i].b.width).toBeGreaterThan(0);
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i].b, boxes[j].b];
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect(overlap, `${boxes[i].t} overlaps ${boxes[j].t}`).toBe(false);
      }
    }
    expect(boxes.map((x) => x.b.x)).toEqual([...boxes.map((x) => x.b.x)].sort((a, b) => a - b));
    expect(await page.getByTestId("run-live").count()).toBe(0);

    // Clear `check` (and what follows): the run goes again, and the page follows it without a reload.
    await node("check").click();
    expect(await page.getByTestId("selected-task-state").getAttribute("data-state")).toBe("failed");
    await page.getByTestId("clear-task").click();
    await poll(() => node("check").getAttribute("data-state")).toBe("queued");
    expect(await node("report").getAttribute("data-state")).toBe("none");
    expect(await page.getByTestId("run-state").getAttribute("data-state")).toBe("running");
    await page.getByTestId("run-live").waitFor();
    expect((await runAgent(1)).code).toBe(0);
    await poll(() => node("check").getAttribute("data-state"), 20_000).toBe("failed");
    await poll(() => page.getByTestId("run-state").getAttribute("data-state")).toBe("failed");
    await page.getByTestId("run-live").waitFor({ state: "detached" });
    expect(await node("check").textContent()).toContain("try 2");

    // Mark it success (as in Airflow, what it held back stays upstream_failed), then clear `report`
    // alone: it runs and the run succeeds.
    await page.getByTestId("mark-success").click();
    await poll(() => node("check").getAttribute("data-state")).toBe("success");
    expect(await page.locator('[data-node-box="check"]').getAttribute("fill")).toBe("#008000");
    expect(await node("report").getAttribute("data-state")).toBe("upstream_failed");
    await node("report").click();
    await page.getByTestId("task-panel").getByRole("checkbox").uncheck();
    await page.getByTestId("clear-task").click();
    await poll(() => node("report").getAttribute("data-state")).toBe("success");
    await poll(() => page.getByTestId("run-state").getAttribute("data-state")).toBe("success");
    expect(pageErrors).toEqual([]);
  });

  it("opens task attempts with their logs, output and filled-in arguments", async () => {
    await page.getByTestId("run-tasks").locator('tr[data-task-id="features"] a').click();
    await page.waitForURL(`${baseUrl}/pipelines/${pipelineId}/runs/${badRun}/tasks/features?try=1`);
    await poll(() => page.getByTestId("task-log").textContent()).toContain("hello fail on 2026-11-21\n");
    expect(await page.getByTestId("task-state").getAttribute("data-state")).toBe("success");
    expect(JSON.parse((await page.getByTestId("task-output").locator("code").textContent())!)).toEqual({ rows: 42 });
    expect(await page.getByTestId("task-args").locator('[data-arg="command"]').textContent()).toContain('echo "hello fail on 2026-11-21"');

    // `check` ran twice: each try keeps its own log.
    await page.goto(`${baseUrl}/pipelines/${pipelineId}/runs/${badRun}/tasks/check`);
    await page.locator('[data-attempt="2"]').waitFor();
    expect(await page.locator("[data-attempt]").count()).toBe(2);
    expect(await page.locator('[data-attempt="2"]').getAttribute("aria-selected")).toBe("true");
    await poll(() => page.getByTestId("task-log").textContent()).toContain("checking 42 rows, try 2\n");
    expect(await page.getByTestId("task-log").textContent()).toContain("bad who\n");
    expect(await page.getByTestId("task-args").locator('[data-arg="command"]').textContent()).toContain('echo "checking 42 rows, try $TERN_TRY_NUMBER"');
    // Each try keeps its own record: try 1 failed with the command's exit status, try 2 failed too and
    // was then marked success.
    expect(await page.locator("[data-attempt]").evaluateAll((rows) => rows.map((r) => [r.getAttribute("data-attempt"), r.getAttribute("data-attempt-state")]))).toEqual([
      ["2", "success"],
      ["1", "failed"],
    ]);
    await page.locator('[data-attempt="1"] button').click();
    await page.waitForURL(/\?try=1$/);
    await poll(() => page.getByTestId("task-log").textContent()).toContain("checking 42 rows, try 1\n");
    expect(await page.getByTestId("attempt-detail").getAttribute("data-try")).toBe("1");
    expect(await page.getByTestId("attempt-error").textContent()).toBe("the command exited with status 3");

    // An in-process task writes no log and says so.
    await page.goto(`${baseUrl}/pipelines/${pipelineId}/runs/${goodRun}/tasks/prepare`);
    await poll(() => page.getByTestId("no-log").textContent()).toContain("writes no log");
    expect(pageErrors).toEqual([]);
  });

  it("shows every try of a task that retried in the attempts table, each with its state colour, times and log", async () => {
    const spec = `tasks:
  flaky:
    kind: agent
    queue: ${QUEUE}
    retries: 2
    retry_delay: 0
    command: |
      echo "attempt $TERN_TRY_NUMBER"
      if [ "$TERN_TRY_NUMBER" -lt 3 ]; then echo "not yet" >&2; exit 5; fi
`;
    const created = await api("POST", "/pipelines", { name: `${NAME}-retry`, spec });
    expect(created.status).toBe(201);
    retryPipelineId = created.json.pipeline_id;
    const runId = (await api("POST", `/pipelines/${retryPipelineId}/runs`, {})).json.run_id;
    const agent = await runAgent(3);
    expect(agent.code, agent.output).toBe(0);
    await poll(async () => (await api("GET", `/pipeline-runs/${runId}`)).json.state, 20_000).toBe("success");

    await page.goto(`${baseUrl}/pipelines/${retryPipelineId}/runs/${runId}/tasks/flaky`);
    await page.getByTestId("attempts-table").waitFor();
    expect(await page.locator("[data-attempt]").evaluateAll((rows) => rows.map((r) => [r.getAttribute("data-attempt"), r.getAttribute("data-attempt-state")]))).toEqual([
      ["3", "success"],
      ["2", "up_for_retry"],
      ["1", "up_for_retry"],
    ]);
    // Airflow's colours per try: gold for up_for_retry, green for success.
    expect(await background(page.locator('[data-attempt="1"] [data-testid="attempt-state"]'))).toBe("rgb(255, 215, 0)");
    expect(await background(page.locator('[data-attempt="3"] [data-testid="attempt-state"]'))).toBe(RGB.success);
    for (const n of [1, 2, 3]) {
      const row = page.locator(`[data-attempt="${n}"]`);
      expect(await row.getByTestId("attempt-duration").textContent()).toMatch(/^\d+(\.\d)?(ms|s)$/);
      expect((await row.getByTestId("attempt-times").textContent())!.trim()).not.toContain("—");
      expect(await row.locator("td").last().textContent()).toMatch(/^\S+$/);
    }
    // The newest try is shown first; choosing an earlier one shows its own log, timing and error.
    expect(await page.getByTestId("attempt-detail").getAttribute("data-try")).toBe("3");
    await poll(() => page.getByTestId("task-log").textContent()).toContain("attempt 3\n");
    await page.locator('[data-attempt="2"] button').click();
    await page.waitForURL(/\?try=2$/);
    await poll(() => page.getByTestId("task-log").textContent()).toContain("attempt 2\n");
    expect(await page.getByTestId("task-log").textContent()).toContain("not yet\n");
    expect(await page.getByTestId("attempt-detail").getAttribute("data-try")).toBe("2");
    expect(await page.getByTestId("attempt-detail-state").getAttribute("data-state")).toBe("up_for_retry");
    expect(await page.getByTestId("attempt-error").textContent()).toBe("the command exited with status 5");
    expect(pageErrors).toEqual([]);
  });

  it("saves a new spec version, pauses from the list, backfills from the dialog and deletes the pipeline", async () => {
    await page.goto(`${baseUrl}/pipelines/${pipelineId}`);
    await page.getByTestId("edit-spec").click();
    const editor = page.getByTestId("spec-editor");
    expect(await editor.locator("textarea[name=spec]").inputValue()).toBe(SPEC);
    await editor.locator("textarea[name=spec]").fill(SPEC.replace("UI test pipeline", "UI test pipeline, second version"));
    await editor.getByRole("button", { name: "Save new version" }).click();
    await poll(() => page.getByTestId("pipeline-version").textContent()).toBe("v2");
    await page.locator('[data-version="1"]').getByRole("button", { name: "View spec" }).click();
    await poll(() => page.getByTestId("versions").locator("code").textContent()).toContain("description: UI test pipeline\n");

    await page.goto(`${baseUrl}/pipelines`);
    const row = page.locator(`tr[data-pipeline-id="${pipelineId}"]`);
    await row.waitFor();
    expect(await row.locator("[data-testid=last-runs] a").evaluateAll((a) => a.map((x) => x.getAttribute("data-state")))).toEqual(["success", "success"]);
    expect(await row.textContent()).toContain("0 5 * * *");
    expect(await row.textContent()).toContain("v2");
    const toggle = row.getByTestId("pause-toggle");
    expect(await toggle.getAttribute("aria-checked")).toBe("true");
    await toggle.click();
    await poll(() => toggle.getAttribute("aria-checked")).toBe("false");
    expect((await api("GET", `/pipelines/${pipelineId}`)).json.pipeline.paused).toBe(true);
    await toggle.click();
    await poll(() => toggle.getAttribute("aria-checked")).toBe("true");

    await row.getByRole("link", { name: NAME }).click();
    await page.getByRole("button", { name: "Backfill" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.locator("input[name=start]").fill("2026-11-01");
    await dialog.locator("input[name=end]").fill("2026-11-03");
    await dialog.getByRole("button", { name: "Create runs" }).click();
    await dialog.waitFor({ state: "detached" });
    expect(await page.getByTestId("notice").textContent()).toContain("Backfill created 3 runs");
    const { runs } = (await api<{ runs: { run_type: string; logical_date: number; version: number }[] }>("GET", `/pipelines/${pipelineId}/runs`)).json;
    const backfilled = runs.filter((r) => r.run_type === "backfill");
    expect(backfilled.map((r) => r.logical_date).sort()).toEqual([Date.UTC(2026, 10, 1, 5), Date.UTC(2026, 10, 2, 5), Date.UTC(2026, 10, 3, 5)]);
    expect(backfilled.every((r) => r.version === 2)).toBe(true);
    await poll(() => page.locator("[data-run-column]").count()).toBe(5);
    // Each run shows the version it ran.
    expect(await page.getByTestId("runs-table").getByTestId("run-version").allTextContents()).toEqual(["v1", "v1", "v2", "v2", "v2"]);

    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete pipeline" }).click();
    await page.waitForURL(`${baseUrl}/pipelines`);
    expect((await api("GET", `/pipelines/${pipelineId}`)).status).toBe(404);
    pipelineId = "";
    expect(pageErrors).toEqual([]);
  });
});
