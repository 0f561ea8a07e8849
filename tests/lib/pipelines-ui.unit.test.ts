/**
 * The pipelines pages' pure parts: the grid model (task order, columns by logical date, tasks only some
 * versions had), the dagre layout of the run graph, the filled-in arguments of a task attempt, and the
 * editor's in-browser spec check.
 */
import { describe, expect, it } from "vitest";
import type { PipelineSpec, RunDetail, RunSummary, TaskInstance, TaskState } from "../../app/src/lib/api/pipeline-types";
import { edgePath, layoutDag, nodeWidth } from "../../app/src/lib/pipelines/graph-layout";
import { buildGrid, taskOrder } from "../../app/src/lib/pipelines/grid";
import { checkSpecText, EXAMPLE_SPEC } from "../../app/src/lib/pipelines/spec-check";
import { STATE_COLORS, isRunFinished, isTaskFinished } from "../../app/src/lib/pipelines/states";
import { renderedArgs, SECRET_MASK } from "../../app/src/lib/pipelines/templated";
import { parsePipelineSpec } from "../../worker/lib/pipelines/spec";

const spec = (text: string) => parsePipelineSpec(text) as unknown as PipelineSpec;

const DIAMOND = spec(`
params: {symbol: SPY, n: 3}
tasks:
  store: {kind: noop, depends_on: [left, right]}
  right: {kind: agent, depends_on: fetch, command: "predict {{ params.symbol }} {{ outputs.fetch.rows }} {{ ds }}"}
  left: {kind: noop, depends_on: fetch}
  fetch:
    kind: http
    url: "https://example.com/{{ params.symbol }}?n={{ params.n }}"
    headers: {Authorization: "Bearer {{ secrets.API_TOKEN }}"}
`);

const ti = (task_id: string, state: TaskState, over: Partial<TaskInstance> = {}): TaskInstance => ({
  task_id,
  kind: "noop",
  state,
  try_number: state === "none" ? 0 : 1,
  max_tries: 1,
  queued_at: null,
  started_at: null,
  ended_at: null,
  output: null,
  error: null,
  retry_at: null,
  agent_id: null,
  attempts: [],
  ...over,
});

const summary = (run_id: string, logical_date: number, state: RunSummary["state"] = "success", version = 1): RunSummary => ({
  run_id,
  pipeline_id: "p",
  version,
  run_type: "manual",
  state,
  logical_date,
  data_interval_start: logical_date,
  data_interval_end: logical_date,
  conf: {},
  created_at: 0,
  started_at: null,
  ended_at: null,
});

const detail = (s: RunSummary, tasks: TaskInstance[], conf: Record<string, unknown> = {}): RunDetail => {
  const { created_at: _, ...rest } = s;
  return { ...rest, conf, tasks };
};

describe("the grid model", () => {
  it("orders rows by dependency and columns by logical date, oldest first", () => {
    expect(taskOrder(DIAMOND)).toEqual(["fetch", "left", "right", "store"]);
    const newer = summary("r2", 2000, "failed");
    const older = summary("r1", 1000);
    const details = new Map([
      ["r1", detail(older, [ti("fetch", "success"), ti("left", "success"), ti("right", "success"), ti("store", "success")])],
      ["r2", detail(newer, [ti("fetch", "success"), ti("left", "success"), ti("right", "failed"), ti("store", "upstream_failed")])],
    ]);
    const grid = buildGrid(DIAMOND, [newer, older], details);
    expect(grid.tasks).toEqual(["fetch", "left", "right", "store"]);
    expect(grid.runs.map((r) => r.run_id)).toEqual(["r1", "r2"]);
    expect(grid.cells[2].map((c) => c.state)).toEqual(["success", "failed"]);
    expect(grid.cells[3][1]).toMatchObject({ run_id: "r2", task_id: "store", state: "upstream_failed", present: true });
  });

  it("adds tasks only older versions had as extra rows, and marks cells of tasks a run's version lacked", () => {
    const old = summary("r1", 1000);
    const cur = summary("r2", 2000, "running", 2);
    const details = new Map([
      ["r1", detail(old, [ti("fetch", "success"), ti("legacy", "skipped")])],
      ["r2", detail(cur, [ti("fetch", "running"), ti("left", "none"), ti("right", "none"), ti("store", "none")])],
    ]);
    const grid = buildGrid(DIAMOND, [cur, old], details);
    expect(grid.tasks).toEqual(["fetch", "left", "right", "store", "legacy"]);
    const legacy = grid.cells[4];
    expect(legacy.map((c) => [c.present, c.state])).toEqual([
      [true, "skipped"],
      [false, "none"],
    ]);
    expect(grid.cells[1][0].present).toBe(false);
  });

  it("shows a run whose tasks are not loaded yet as empty cells", () => {
    const grid = buildGrid(DIAMOND, [summary("r1", 1)], new Map());
    expect(grid.cells.every((row) => row.every((c) => !c.present && c.state === "none"))).toBe(true);
  });
});

describe("the run graph layout", () => {
  it("places every task once, left to right along dependencies, with no two boxes overlapping", () => {
    const layout = layoutDag(DIAMOND);
    expect(layout.nodes.map((n) => n.id).sort()).toEqual(["fetch", "left", "right", "store"]);
    expect(layout.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(["fetch->left", "fetch->right", "left->store", "right->store"]);
    const at = Object.fromEntries(layout.nodes.map((n) => [n.id, n]));
    expect(at.fetch.x).toBeLessThan(at.left.x);
    expect(at.left.x).toBeLessThan(at.store.x);
    expect(at.left.x).toBe(at.right.x);
    expect(at.left.y).not.toBe(at.right.y);
    for (const a of layout.nodes) {
      expect(a.x - a.width / 2).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width / 2).toBeLessThanOrEqual(layout.width);
      expect(a.y + a.height / 2).toBeLessThanOrEqual(layout.height);
      for (const b of layout.nodes) {
        if (a === b) continue;
        const apart = Math.abs(a.x - b.x) >= (a.width + b.width) / 2 || Math.abs(a.y - b.y) >= (a.height + b.height) / 2;
        expect(apart, `${a.id} and ${b.id}`).toBe(true);
      }
    }
    for (const e of layout.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    expect(edgePath([{ x: 1, y: 2 }, { x: 3.25, y: 4 }])).toBe("M1.0,2.0 L3.3,4.0");
  });

  it("sizes a node for its id and for its kind with the longest state label", () => {
    expect(nodeWidth("a", "noop")).toBe(nodeWidth("b", "noop"));
    expect(nodeWidth("a_very_long_task_identifier_indeed", "noop")).toBeGreaterThan(nodeWidth("a", "noop"));
    expect(nodeWidth("a", "dataset_snapshot")).toBeGreaterThan(nodeWidth("a", "noop"));
    // A kind this app has never heard of still lays out.
    const layout = layoutDag({ tasks: { x: { ...DIAMOND.tasks.left, kind: "drift_check" } } });
    expect(layout.nodes[0]).toMatchObject({ id: "x", kind: "drift_check" });
  });
});

describe("a task attempt's arguments", () => {
  const run = detail(summary("run1", Date.UTC(2026, 10, 27, 5)), [ti("fetch", "success", { output: { rows: 390 } }), ti("left", "success"), ti("right", "running"), ti("store", "none")], { symbol: "QQQ" });

  it("fills templates from params overridden by conf, the run's dates and upstream outputs", () => {
    const args = renderedArgs(DIAMOND, run, "right", 1);
    expect(args.map((a) => a.field)).toEqual(["queue", "command", "env"]);
    expect(args.find((a) => a.field === "command")).toMatchObject({ value: "predict QQQ 390 2026-11-27", error: null });
    const fetch = renderedArgs(DIAMOND, run, "fetch", 1);
    expect(fetch.find((a) => a.field === "url")?.value).toBe("https://example.com/QQQ?n=3");
    expect(fetch.find((a) => a.field === "headers")?.value).toEqual({ Authorization: `Bearer ${SECRET_MASK}` });
    expect(renderedArgs(DIAMOND, run, "store", 1)).toEqual([]);
  });

  it("reports a template that cannot be filled (an upstream output not there yet) instead of throwing", () => {
    const early = { ...run, tasks: run.tasks.map((t) => (t.task_id === "fetch" ? { ...t, state: "running" as const, output: null } : t)) };
    const command = renderedArgs(DIAMOND, early, "right", 1).find((a) => a.field === "command")!;
    expect(command.value).toBeNull();
    expect(command.error).toContain("task 'fetch' has no output");
    expect(command.raw).toBe("predict {{ params.symbol }} {{ outputs.fetch.rows }} {{ ds }}");
  });
});

describe("the editor's in-browser check", () => {
  it("accepts the example spec and finds the same problems the server reports", () => {
    expect(checkSpecText(EXAMPLE_SPEC)).toEqual({ ok: true, tasks: 4 });
    const cycle = checkSpecText("tasks:\n  a: {kind: noop, depends_on: b}\n  b: {kind: noop, depends_on: a}\n");
    expect(cycle).toEqual({ ok: false, issues: [{ path: "tasks.a.depends_on", message: "dependency cycle: a → b → a" }] });
    const kind = checkSpecText("tasks:\n  a: {kind: teleport}\n");
    expect(kind.ok).toBe(false);
    expect(!kind.ok && kind.issues[0]).toMatchObject({ path: "tasks.a.kind" });
    expect(!kind.ok && kind.issues[0].message).toContain("unknown task kind 'teleport'");
    const yaml = checkSpecText("tasks: [unclosed");
    expect(!yaml.ok && yaml.issues[0].message).toMatch(/^not valid YAML or JSON at line 1/);
    expect(checkSpecText("  ")).toEqual({ ok: false, issues: [{ path: "spec", message: "is empty" }] });
  });
});

describe("states", () => {
  it("uses Airflow's colours and knows which states are final", () => {
    expect(STATE_COLORS).toMatchObject({ queued: "#808080", running: "#00ff00", success: "#008000", failed: "#ff0000", up_for_retry: "#ffd700", upstream_failed: "#ffa500", skipped: "#ff69b4" });
    expect(["success", "failed"].every((s) => isRunFinished(s as RunSummary["state"]))).toBe(true);
    expect(isRunFinished("running")).toBe(false);
    expect(isTaskFinished("up_for_retry")).toBe(false);
    expect(isTaskFinished("skipped")).toBe(true);
  });
});
