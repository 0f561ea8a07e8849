/**
 * The pull agent end to end: the real `tern agent` CLI claims an agent task from the dev server, runs
 * a real shell command, streams its output back, reports its exit status and JSON output, and the run
 * finishes with the task's log stored.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

const baseUrl = inject("baseUrl");
const root = join(import.meta.dirname, "..", "..");

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}/api/v1${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function runAgent(queue: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "cli", "tern.mjs"), "agent", "--queue", queue, "--max-tasks", "1", "--poll", "0.2", "--lease", "20"], {
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

describe("tern agent", () => {
  it("runs a real shell command for a pipeline and the run succeeds with its log stored", async () => {
    const queue = `e2e-${Date.now()}`;
    const spec = [
      "params: {who: world}",
      "tasks:",
      "  prepare: {kind: noop}",
      "  features:",
      "    kind: agent",
      `    queue: ${queue}`,
      "    depends_on: [prepare]",
      `    command: "echo hello {{ params.who }} on {{ ds }}; echo to-stderr >&2; printf '{\\"rows\\": %d}' $((20 + 22)) > \\"$TERN_OUTPUT_FILE\\""`,
      "  report: {kind: noop, depends_on: [features]}",
    ].join("\n");
    const { pipeline_id } = await api("POST", "/pipelines", { name: `agent-e2e-${queue}`, spec });
    const { run_id } = await api("POST", `/pipelines/${pipeline_id}/runs`, { conf: { who: "tern" }, logical_date: "2026-11-27T05:00:00Z" });

    const agent = await runAgent(queue);
    expect(agent.code, agent.output).toBe(0);
    expect(agent.output).toContain("hello tern on 2026-11-27");

    let run: any;
    for (let i = 0; i < 100; i++) {
      run = await api("GET", `/pipeline-runs/${run_id}`);
      if (run.state === "success" || run.state === "failed") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(run.state).toBe("success");
    const features = run.tasks.find((t: any) => t.task_id === "features");
    expect(features).toMatchObject({ state: "success", try_number: 1, output: { rows: 42 } });
    expect(features.agent_id).toMatch(/-\d+$/);
    const log = await api("GET", `/pipeline-runs/${run_id}/tasks/features/logs?try_number=1`);
    expect(log.text).toContain("hello tern on 2026-11-27\n");
    expect(log.text).toContain("to-stderr\n");
  });

  it("reports a failing command's exit status", async () => {
    const queue = `e2e-fail-${Date.now()}`;
    const { pipeline_id } = await api("POST", "/pipelines", { name: `agent-e2e-${queue}`, spec: { tasks: { boom: { kind: "agent", queue, command: "echo about to fail; exit 7" } } } });
    const { run_id } = await api("POST", `/pipelines/${pipeline_id}/runs`, {});
    const agent = await runAgent(queue);
    expect(agent.code, agent.output).toBe(0);
    const run = await api("GET", `/pipeline-runs/${run_id}`);
    expect(run.state).toBe("failed");
    expect(run.tasks[0]).toMatchObject({ state: "failed", error: "the command exited with status 7" });
    expect((await api("GET", `/pipeline-runs/${run_id}/tasks/boom/logs?try_number=1`)).text).toBe("about to fail\n");
  });
});
